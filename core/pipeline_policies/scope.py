"""What one stack owns, as the ARNs and names its pipeline policies are scoped to. Pure.

Everything here is derived from the stack's settings (and the state backend's
parameters), never typed in: the cluster, each service's ECS service, task-definition
family, roles, log group, alarms and target groups by their exact names
(core/naming.py); the secrets it adopts or declares; the listener it routes through;
the dependency security groups it writes rules on. A name another stack could share is
not used alone: where a pattern would also match a stack named `<this stack>-<more>`
(alarm names), the policies add the `environment` tag the program puts on everything.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlparse

from core import documents, naming
from core.settings import SecretMode, Settings

PARTITION = "aws"
# The tag the program puts on every taggable resource with the stack's name
# (Settings.resource_tags), and what tag conditions here compare.
ENVIRONMENT_TAG = "environment"
SECRET_SUFFIX_PATTERN = "-??????"  # Secrets Manager appends `-` and 6 random characters to a secret's ARN
ECS_TASKS = "ecs-tasks.amazonaws.com"

# The service-linked roles ECS, Application Auto Scaling and ELB create the first time an account
# uses them, with the caller's iam:CreateServiceLinkedRole.
SERVICE_LINKED_ROLES = {
    "ecs.amazonaws.com": "aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS",
    "ecs.application-autoscaling.amazonaws.com": (
        "aws-service-role/ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService"
    ),
    "elasticloadbalancing.amazonaws.com": (
        "aws-service-role/elasticloadbalancing.amazonaws.com/AWSServiceRoleForElasticLoadBalancing"
    ),
}


@dataclass(frozen=True)
class StateBackend:
    """Where Pulumi keeps the stack's state, and the KMS key of its secrets provider.

    The defaults are README's ("1. State backend and secrets provider"): an S3 bucket
    shared by the team, and `awskms://alias/hokusai-pulumi`. With Pulumi Cloud as the
    backend the bucket statements grant access to nothing that exists; the key is still
    the stack's secrets provider.
    """

    bucket: str = "hokusai-pulumi-state"
    secrets_key_alias: str = "alias/hokusai-pulumi"
    # The Pulumi project (Pulumi.yaml `name`): the DIY backend keeps each project's stacks apart.
    project: str = naming.PROJECT


@dataclass(frozen=True)
class StackScope:
    settings: Settings
    backend: StateBackend = StateBackend()

    # -- the stack ------------------------------------------------------------

    @property
    def environment(self) -> str:
        return self.settings.environment

    @property
    def account(self) -> str:
        return self.settings.account_id

    @property
    def region(self) -> str:
        return self.settings.region

    def arn(self, service: str, resource: str, *, regional: bool = True) -> str:
        return f"arn:{PARTITION}:{service}:{self.region if regional else ''}:{self.account}:{resource}"

    def iam(self, resource: str) -> str:
        return self.arn("iam", resource, regional=False)

    @property
    def service_names(self) -> tuple[str, ...]:
        return tuple(service.name for service in self.settings.services)

    @property
    def tag_value(self) -> str:
        """The value of the `environment` tag on the stack's resources."""
        return self.settings.resource_tags[ENVIRONMENT_TAG]

    # -- ECS ------------------------------------------------------------------

    @property
    def cluster(self) -> str:
        return self.arn("ecs", f"cluster/{self.settings.cluster_name}")

    @property
    def ecs_services(self) -> list[str]:
        return [self.arn("ecs", f"service/{self.settings.cluster_name}/{name}") for name in self.service_names]

    @property
    def service_deployments(self) -> list[str]:
        cluster = self.settings.cluster_name
        return [self.arn("ecs", f"service-deployment/{cluster}/{name}/*") for name in self.service_names]

    @property
    def task_definitions(self) -> list[str]:
        return [self.arn("ecs", f"task-definition/{name}:*") for name in self.service_names]

    @property
    def tasks(self) -> str:
        return self.arn("ecs", f"task/{self.settings.cluster_name}/*")

    # -- IAM ------------------------------------------------------------------

    @property
    def execution_roles(self) -> list[str]:
        return [self.iam(f"role/{name}-execution") for name in self.service_names]

    @property
    def task_roles(self) -> list[str]:
        return [self.iam(f"role/{name}-task") for name in self.service_names]

    @property
    def roles(self) -> list[str]:
        return [*self.execution_roles, *self.task_roles]

    @property
    def boundary(self) -> str:
        return self.settings.task_role_boundary_arn

    @property
    def task_role_policy_arns(self) -> list[str]:
        return sorted({arn for service in self.settings.services for arn in service.task_role_policy_arns})

    def service_linked_role(self, service: str) -> str:
        return self.iam(f"role/{SERVICE_LINKED_ROLES[service]}")

    # -- Secrets Manager, KMS -------------------------------------------------

    def _secret_patterns(self, modes: Iterable[SecretMode]) -> list[str]:
        patterns: set[str] = set()
        for source in self.settings.secret_sources:
            if source.mode not in modes:
                continue
            if source.name_or_arn.startswith("arn:"):
                # The ARN as given, and with the random suffix when it was given without it.
                patterns |= {source.name_or_arn, source.name_or_arn + SECRET_SUFFIX_PATTERN}
            else:
                patterns.add(self.arn("secretsmanager", f"secret:{source.name_or_arn}{SECRET_SUFFIX_PATTERN}"))
        return sorted(patterns)

    @property
    def secrets(self) -> list[str]:
        """Every secret the stack's tasks read: adopted (`existing`) and declared (`create`)."""
        return self._secret_patterns(SecretMode)

    @property
    def declared_secrets(self) -> list[str]:
        """The secrets the program itself creates (and so may write, tag and delete)."""
        return self._secret_patterns([SecretMode.CREATE])

    @property
    def secrets_key(self) -> str | None:
        return self.settings.secrets_kms_key_arn

    @property
    def secrets_manager_endpoint(self) -> str:
        return f"secretsmanager.{self.region}.amazonaws.com"

    # -- Load balancing -------------------------------------------------------

    @property
    def adopts_load_balancer(self) -> bool:
        return not self.settings.load_balancer.creates_load_balancer

    @property
    def listener(self) -> str:
        """The listener the stack's rules go on: the adopted one, or any of the ALB it creates."""
        adopted = self.settings.load_balancer.listener_arn
        if adopted:
            return adopted
        return self.arn("elasticloadbalancing", f"listener/app/{naming.load_balancer_name(self.environment)}/*")

    @property
    def listener_rules(self) -> str:
        """Rule ARNs are the listener's, with `listener-rule` and the rule's id."""
        rules = self.listener.replace(":listener/", ":listener-rule/", 1)
        return rules if rules.endswith("/*") else f"{rules}/*"

    @property
    def adopted_load_balancer(self) -> str | None:
        """`loadbalancer/app/<name>/<id>` of the adopted listener's ARN
        (`listener/app/<name>/<id>/<listener id>`)."""
        adopted = self.settings.load_balancer.listener_arn
        if not adopted:
            return None
        head, _, resource = adopted.partition(":listener/")
        return f"{head}:loadbalancer/{resource.rsplit('/', 1)[0]}"

    @property
    def owned_load_balancer(self) -> str:
        return self.arn("elasticloadbalancing", f"loadbalancer/app/{naming.load_balancer_name(self.environment)}/*")

    @property
    def target_groups(self) -> list[str]:
        """Each service's target groups: its prefix and exactly the digest's length of characters
        (core/naming.py), so neither another service's nor another stack's group matches; and a
        name the stack fixes (services.<service>.target_group_name: the live group the cutover
        imports), exactly that name."""
        digest = "?" * naming.TARGET_GROUP_DIGEST_LENGTH
        groups = []
        for s in self.settings.services:
            prefix = naming.target_group_prefix(s.key, self.environment)
            groups.append(self.arn("elasticloadbalancing", f"targetgroup/{prefix}{digest}/*"))
            derived = s.target_group_name.startswith(prefix) and len(s.target_group_name) == len(prefix) + len(digest)
            if not derived:
                groups.append(self.arn("elasticloadbalancing", f"targetgroup/{s.target_group_name}/*"))
        return groups

    # -- EC2 ------------------------------------------------------------------

    @property
    def vpc(self) -> str:
        return self.arn("ec2", f"vpc/{self.settings.network.vpc_id}")

    @property
    def dependency_groups(self) -> list[str]:
        """The security groups outside the stack it writes ingress rules on: those the stack file
        declares for its dependencies (a dependency that is a service of the stack is its own group)."""
        ids = {d.security_group_id for d in self.settings.dependencies if d.security_group_id and not d.service}
        return [self.arn("ec2", f"security-group/{group}") for group in sorted(ids)]

    # -- Observability --------------------------------------------------------

    @property
    def log_groups(self) -> list[str]:
        """Each service's log group, in both forms the Logs APIs authorise against (bare and `:*`)."""
        return sorted(
            arn
            for s in self.settings.services
            for arn in (
                self.arn("logs", f"log-group:{s.log_group_name}"),
                self.arn("logs", f"log-group:{s.log_group_name}:*"),
            )
        )

    @property
    def alarms(self) -> list[str]:
        """`<service name>-<what>` (core/naming.py alarm_name). Also matches a stack named
        `<this stack>-...`: the statements that use it add the environment tag."""
        return [self.arn("cloudwatch", f"alarm:{name}-*") for name in self.service_names]

    @property
    def target_tracking_alarms(self) -> list[str]:
        """Application Auto Scaling names target tracking's alarms after the resource id, which
        holds the stack's own cluster: no other stack's match."""
        return [
            self.arn("cloudwatch", f"alarm:TargetTracking-{naming.ecs_resource_id(s.key, self.environment)}-*")
            for s in self.settings.services
        ]

    @property
    def dashboards(self) -> list[str]:
        """Each service's dashboard, by its exact name; dashboards are global, so their ARN has no region."""
        return [
            self.arn("cloudwatch", f"dashboard/{naming.dashboard_name(s.key, self.environment)}", regional=False)
            for s in self.settings.services
        ]

    @property
    def alarm_topic(self) -> str:
        return self.arn("sns", naming.alarm_topic_name(self.environment))

    # -- What tasks use -------------------------------------------------------

    @property
    def image_repositories(self) -> list[str]:
        return sorted({arn for s in self.settings.services if (arn := documents.ecr_repository_arn(s.image))})

    @property
    def artifact_buckets(self) -> list[str]:
        """The S3 buckets the services' plain settings point at (`s3://<bucket>/...`, e.g. MLflow's
        artifact root): what the task-role boundary lets tasks use in S3, and nothing else."""
        return sorted(
            {
                urlparse(value).netloc
                for s in self.settings.services
                for _, value in s.environment
                if value.startswith("s3://") and urlparse(value).netloc
            }
        )

    # -- The pipeline's own policies and the state backend --------------------

    def policy_name(self, role: str, part: int | None = None) -> str:
        return f"{naming.PROJECT}-{self.environment}-{role}" + ("" if part is None else f"-{part}")

    @property
    def state_bucket(self) -> str:
        return f"arn:{PARTITION}:s3:::{self.backend.bucket}"

    def state_objects(self, *kinds: str) -> list[str]:
        """Keys of this stack in the DIY backend's layout (project-scoped: `.pulumi/<kind>/<project>/...`).

        `stack`: the checkpoint (`.json`, and `.json.gz`/`.json.bak` beside it); `history`,
        `backups`: the update records; `locks`: the lock file `pulumi up` and `pulumi refresh`
        write while they run (pkg/backend/diy/lock.go: `.pulumi/locks/organization/<project>/<stack>/`);
        `meta`: the backend's layout version.
        """
        project, stack = self.backend.project, self.environment
        keys = {
            "meta": ".pulumi/meta.yaml",
            "stack": f".pulumi/stacks/{project}/{stack}.json*",
            "history": f".pulumi/history/{project}/{stack}/*",
            "backups": f".pulumi/backups/{project}/{stack}/*",
            "locks": f".pulumi/locks/organization/{project}/{stack}/*",
        }
        return [f"{self.state_bucket}/{keys[kind]}" for kind in kinds]

    @property
    def state_keys(self) -> str:
        return self.arn("kms", "key/*")
