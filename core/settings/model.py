"""The settings model: typed, frozen dataclasses the components consume.

Built by the loader (loader.py), which validates every value first. A field's
default is the one declared for its key (declarations.py), not a second copy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from core import naming
from core.contract import ServiceContract
from core.s3_uri import S3Location
from core.settings.declarations import declared_default
from core.settings.exception_names import LoadBalancerException, ServiceException
from core.value_from import SecretValueFrom


@dataclass(frozen=True)
class Route:
    """One ALB listener rule: requests matching any host AND any path go to the service."""

    priority: int
    hosts: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    # The listener already has a rule at this priority that the cutover imports into this route
    # (`pulumi import`): the lookup at preview accepts it instead of refusing the priority.
    adopt_existing: bool = False


@dataclass(frozen=True)
class Autoscaling:
    min_count: int
    max_count: int
    cpu_target_percent: int


class SecretMode(StrEnum):
    """How the stack gets a secret; the value is also its config key
    (`secrets.<VAR>.existing` or `secrets.<VAR>.create`)."""

    # The secret exists already; the program looks it up by name or ARN, so
    # `pulumi preview` fails if it does not exist.
    EXISTING = "existing"
    # The program declares the secret; its value is either put out of band
    # (`aws secretsmanager put-secret-value`) or comes from the encrypted stack
    # config key `value_from`.
    CREATE = "create"


@dataclass(frozen=True)
class SecretSource:
    """Where one container secret's value lives (see SecretMode)."""

    env_var: str
    mode: SecretMode
    name_or_arn: str
    # With `create`: the encrypted stack config key the secret's value comes from.
    value_from: str | None = None
    # What ECS takes from the secret (core/value_from.py): one key of a JSON secret, and
    # the version by staging label or by id; None reads the whole AWSCURRENT value.
    json_key: str | None = None
    version_stage: str | None = None
    version_id: str | None = None

    @property
    def identity(self) -> str:
        """Two services naming the same secret share one lookup or one resource (and one grant),
        whichever JSON key or version each reads."""
        return self.name_or_arn

    def container_value_from(self, secret_arn: str) -> str:
        """The container's `valueFrom` once the secret's ARN is known: the ARN itself, or the ARN
        followed by `:<json_key>:<version_stage>:<version_id>`."""
        return str(
            SecretValueFrom(
                secret_arn,
                json_key=self.json_key or "",
                version_stage=self.version_stage or "",
                version_id=self.version_id or "",
            )
        )


@dataclass(frozen=True)
class ServiceSettings:
    key: str
    contract: ServiceContract
    image: str
    cpu: int
    memory: int
    desired_count: int
    autoscaling: Autoscaling
    health_check_grace_seconds: int
    routes: tuple[Route, ...]
    # Plain settings supplied by config, plus the derived ones (see contract).
    environment: tuple[tuple[str, str], ...]
    secrets: tuple[SecretSource, ...]
    task_role_policy_arns: tuple[str, ...]
    # Physical names, derived once here so every component agrees.
    name: str
    log_group_name: str
    target_group_name: str
    # The Linux user the container runs as, unless exceptions.run_as_root.
    user: str = declared_default("services.<service>.user")
    # Secure defaults relaxed on purpose: (name, reason), sorted (core/settings/exception_names.py).
    exceptions: tuple[tuple[str, str], ...] = ()

    def relaxes(self, exception: ServiceException) -> bool:
        return exception.value in dict(self.exceptions)

    @property
    def container_user(self) -> str | None:
        """The container's `user`; None leaves the image's own (root, for the live images)."""
        return None if self.relaxes(ServiceException.RUN_AS_ROOT) else self.user

    @property
    def runs_as_image_user(self) -> bool:
        """Whether the container keeps its image's own user (exceptions.run_as_root): the record of
        the live estate binds this to what the live images run as (core/fidelity.py)."""
        return self.container_user is None

    @property
    def read_only_root_filesystem(self) -> bool:
        return not self.relaxes(ServiceException.WRITABLE_ROOT_FILESYSTEM)

    @property
    def ecs_exec(self) -> bool:
        return self.relaxes(ServiceException.ECS_EXEC)

    @property
    def writable_paths(self) -> tuple[str, ...]:
        return self.contract.writable_paths

    # Where the task role may read and write in S3 (the contract's s3_access, from the settings it names).
    s3_locations: tuple[S3Location, ...] = ()

    @property
    def container_name(self) -> str:
        return self.contract.container_name

    @property
    def container_port(self) -> int:
        return self.contract.container_port

    @property
    def health_check_path(self) -> str:
        return self.contract.health_check_path


@dataclass(frozen=True)
class Network:
    vpc_id: str
    private_subnet_ids: tuple[str, ...]
    public_subnet_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class LoadBalancerSettings:
    """Either adopt an existing listener (`listener_arn`) or create the ALB."""

    listener_arn: str | None = None
    certificate_arn: str | None = None
    ssl_policy: str = declared_default("load_balancer.ssl_policy")
    # Load-balancer defaults relaxed on purpose: (name, reason), sorted.
    exceptions: tuple[tuple[str, str], ...] = ()

    def relaxes(self, exception: LoadBalancerException) -> bool:
        return exception.value in dict(self.exceptions)

    @property
    def creates_load_balancer(self) -> bool:
        return self.listener_arn is None


@dataclass(frozen=True)
class Dependency:
    """Something the stack's services reach, resolved: declared under `dependencies.<name>`,
    or another service of the stack (`service`)."""

    name: str
    # The port the rules open and the services read (443 for one reached over HTTPS without a rule).
    port: int
    # The attributes the services may read (core.contract.DependencyAttribute value -> text).
    attributes: tuple[tuple[str, str], ...] = ()
    # The security group that admits the consumers; None with `service` (that service's own
    # group, known once it exists) and for a dependency reached over HTTPS without a rule.
    security_group_id: str | None = None
    # The service of this stack the dependency is.
    service: str | None = None
    # The services of this stack that reach it (contract keys), and consumers outside the stack (label -> sg).
    consumers: tuple[str, ...] = ()
    extra_consumers: tuple[tuple[str, str], ...] = ()

    @property
    def has_security_group(self) -> bool:
        """Whether each consumer needs a rule on the dependency's security group (and one to it on its own)."""
        return self.security_group_id is not None or self.service is not None

    def attribute(self, name: str) -> str | None:
        return dict(self.attributes).get(name)


@dataclass(frozen=True)
class DeployGateSettings:
    enabled: bool = declared_default("deploy_gate.enabled")
    timeout_seconds: int = declared_default("deploy_gate.timeout_seconds")


@dataclass(frozen=True)
class Settings:
    environment: str
    region: str
    account_id: str
    network: Network
    load_balancer: LoadBalancerSettings
    services: tuple[ServiceSettings, ...]
    # Every dependency a service reaches or the stack declares, by name.
    dependencies: tuple[Dependency, ...] = ()
    log_retention_days: int = declared_default("log_retention_days")
    alarm_emails: tuple[str, ...] = ()
    secrets_kms_key_arn: str | None = None
    # The key of the log groups and the alarm topic (None: AWS-owned encryption).
    observability_kms_key_arn: str | None = None
    deploy_gate: DeployGateSettings = field(default_factory=DeployGateSettings)
    tags: tuple[tuple[str, str], ...] = ()

    @property
    def cluster_name(self) -> str:
        return naming.cluster_name(self.environment)

    @property
    def namespace_name(self) -> str:
        """The Cloud Map namespace the services register in (`api.<namespace>`)."""
        return naming.namespace_name(self.environment)

    @property
    def task_role_boundary_arn(self) -> str:
        """The permissions boundary on every role the stack creates (core/pipeline_policies): the
        deploy role may create and edit those roles only with it, so what it writes into them is
        capped by it."""
        return naming.policy_arn(self.account_id, naming.task_role_boundary_name(self.environment))

    @property
    def resource_tags(self) -> dict[str, str]:
        """Tags on every taggable resource: who owns it and that Pulumi manages it
        (so nobody "fixes" it by hand, which is how the old estate drifted)."""
        return {
            "project": naming.PROJECT,
            "environment": self.environment,
            "managed-by": "pulumi",
            **dict(self.tags),
        }

    def service(self, key: str) -> ServiceSettings:
        for service in self.services:
            if service.key == key:
                return service
        raise KeyError(key)

    def dependency(self, name: str) -> Dependency:
        for dependency in self.dependencies:
            if dependency.name == name:
                return dependency
        raise KeyError(name)

    @property
    def secret_sources(self) -> tuple[SecretSource, ...]:
        """Every distinct secret the stack references, in first-seen order."""
        seen: dict[str, SecretSource] = {}
        for service in self.services:
            for source in service.secrets:
                seen.setdefault(source.identity, source)
        return tuple(seen.values())
