"""The deploy gate: `pulumi up` fails when a service's deployment does not land.

The ECS service resource reports success once the service is steady, and a
service that rolled back to the previous revision is steady too (the peers'
bugs pulumi-awsx#1848 and terraform-aws-ecs#325). This dynamic resource, which
depends on the service, waits until the PRIMARY deployment runs the declared
task-definition revision, its rollout COMPLETED and as many tasks run as are
desired, and otherwise fails the update with the state and the stopped-task
reasons (core/rollout.py: the same logic `make verify` uses).

When it runs, and what it waits for (two mechanisms, each for what the other
cannot do):

- It reruns when `deployment_key` changes: a digest of every input of the ECS
  service that starts a deployment (task definition, network configuration,
  load balancers, platform version, Cloud Map registry, launch type;
  core/deployment_key.py), computed by infra/service.py from the very arguments
  the service gets. A new subnet or security group starts a deployment that can
  roll back as surely as a new image. `diff` runs during `pulumi preview`, before
  any deployment exists, so only the declared inputs can decide it.
- It waits for a deployment it has not accepted before: each successful run
  records the PRIMARY deployment's id (`deployment_id`), and the next run waits
  while the PRIMARY deployment is still that one. A change that keeps the task
  definition (a subnet) would otherwise be judged on the old deployment, which
  looks COMPLETED. The time of the gate's start cannot say "new": the service's
  update (UpdateService) creates the deployment before the gate starts.
  Without a recorded id (a new gate, or state written before this field
  existed), any PRIMARY deployment of the declared revision is judged.

It never runs during `pulumi preview`. It looks with the credentials the stack's
AWS provider uses: its region, `aws:profile` and `aws:assumeRoles` (or
`aws:assumeRole`) arrive as inputs (core/aws_provider.py; no credentials, only
where to get them), and the gate assumes the same roles with STS, in turn, on
top of the credentials pulumi runs with. Throttling and AWS server errors are
waited out until the deadline.

The provider runs in a separate process that Pulumi starts from the project
directory with the project's .venv. Its class is pickled into the state by
reference (`infra.deploy_gate.DeployGateProvider`), so that process always runs
the checked-out code; what it needs beyond this module is imported inside its
methods. Stacks already deployed hold that reference: the module path
`infra.deploy_gate` and the class name `DeployGateProvider` must never change
(moving the class would make every existing gate fail to load at the next
`pulumi up`), and the provider keeps no state of its own (instance attributes
would be pickled into every stack). Keep this file a thin shell over
core/rollout.py instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ResourceProvider, UpdateResult

if TYPE_CHECKING:  # the provider's process loads this module: it imports nothing more at load time
    from core.aws_provider import AwsProvider

# Session name for an assumed role whose config names none.
DEFAULT_SESSION_NAME = "hokusai-deploy-gate"


def aws_session(props: dict[str, Any]) -> Any:
    """A boto3 session as the stack's AWS provider would have: its profile, then each role assumed in turn.

    Assumed-role credentials refresh themselves before they expire, so a gate that
    waits longer than a role session lasts keeps looking.
    """
    import boto3
    from botocore.credentials import RefreshableCredentials
    from botocore.session import get_session

    region = props["region"]
    session = boto3.Session(profile_name=props.get("aws_profile") or None, region_name=region)
    for role in props.get("aws_assume_roles") or []:
        sts = session.client("sts", region_name=region)
        request = {"RoleArn": role["role_arn"], "RoleSessionName": role.get("session_name") or DEFAULT_SESSION_NAME}
        if role.get("external_id"):
            request["ExternalId"] = role["external_id"]

        def fetch(sts: Any = sts, request: dict[str, str] = request) -> dict[str, str]:
            credentials = sts.assume_role(**request)["Credentials"]
            return {
                "access_key": credentials["AccessKeyId"],
                "secret_key": credentials["SecretAccessKey"],
                "token": credentials["SessionToken"],
                "expiry_time": credentials["Expiration"].isoformat(),
            }

        botocore_session = get_session()
        # botocore has no public setter for refreshable credentials; this is how its own
        # assume-role provider hands them to a session.
        botocore_session._credentials = RefreshableCredentials.create_from_metadata(
            metadata=fetch(), refresh_using=fetch, method="sts-assume-role"
        )
        session = boto3.Session(botocore_session=botocore_session, region_name=region)
    return session


class DeployGateProvider(ResourceProvider):
    # Inputs whose change means a new deployment to wait for. task_definition_arn is
    # part of deployment_key; it stays here for gates whose state has no key yet.
    WATCHED = ("deployment_key", "task_definition_arn", "service_name", "cluster")

    def _wait(self, props: dict[str, Any], previous_deployment_id: str | None = None) -> dict[str, Any]:
        try:
            import botocore.exceptions
            from botocore.config import Config

            from core import rollout
        except ImportError as error:  # the plugin runs from the project directory with its .venv
            raise Exception(
                f"the deploy gate cannot import its code ({error}): run pulumi from the "
                "hokusai-infra directory with its .venv (pulumi install)"
            ) from None
        service = props["service_name"]
        try:
            session = aws_session(props)
        except botocore.exceptions.ProfileNotFound:
            raise Exception(
                f"deploy gate: the AWS profile {props.get('aws_profile')!r} (aws:profile) is not configured where "
                "pulumi runs: add it to the shared config files, or change aws:profile"
            ) from None
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
            roles = ", ".join(r["role_arn"] for r in props.get("aws_assume_roles") or [])
            raise Exception(
                f"deploy gate: could not assume {roles} (aws:assumeRoles), as the stack's AWS provider does: "
                f"{error}. The role must trust the credentials pulumi runs with"
            ) from None
        # The SDK's standard retries first; what outlasts them the gate waits out itself.
        ecs = session.client("ecs", region_name=props["region"], config=Config(retries={"mode": "standard"}))
        try:
            assessment = rollout.wait_for_rollout(
                ecs,
                props["cluster"],
                service,
                props["task_definition_arn"],
                timeout_seconds=float(props["timeout_seconds"]),
                poll_seconds=float(props["poll_seconds"]),
                previous_deployment_id=previous_deployment_id,
            )
        except rollout.CouldNotLook as error:
            raise Exception(f"deploy gate: could not read the deployment of {service}: {error}") from None
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
            raise Exception(f"deploy gate: could not read the deployment of {service}: {error}") from None
        if not assessment.succeeded:
            raise Exception("deploy gate: " + rollout.failure_message(service, assessment))
        return {
            **props,
            "rollout": assessment.state.value,
            "running_revision": assessment.running_revision,
            "deployment_id": assessment.deployment_id,
        }

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(id_=props["service_name"], outs=self._wait(props))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [key for key in self.WATCHED if olds.get(key) != news.get(key)]
        return DiffResult(changes=bool(changed), replaces=[], stables=[], delete_before_replace=False)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        # The deployment the last successful run accepted: the one not to judge again.
        return UpdateResult(outs=self._wait(news, previous_deployment_id=olds.get("deployment_id") or None))


@dataclass
class DeployGateArgs:
    region: str
    cluster: pulumi.Input[str]
    service_name: pulumi.Input[str]
    task_definition_arn: pulumi.Input[str]
    # core.deployment_key of the service's deployment inputs (infra/service.py)
    deployment_key: pulumi.Input[str]
    timeout_seconds: int
    # How the stack's AWS provider authenticates: the gate looks the same way.
    aws: AwsProvider
    # How often to look; ECS deployments take minutes, and DescribeServices is cheap.
    poll_seconds: int = 15


class DeployGate(pulumi.dynamic.Resource):
    rollout: pulumi.Output[str]
    running_revision: pulumi.Output[str]
    deployment_id: pulumi.Output[str]

    def __init__(self, name: str, args: DeployGateArgs, opts: pulumi.ResourceOptions | None = None):
        access: Any = args.aws.gate_inputs()
        if args.aws.from_secret_config:
            # Set with --secret: keep the gate's copy encrypted in its state too.
            access = {key: pulumi.Output.secret(value) for key, value in access.items()}
            opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=list(access)))
        super().__init__(
            DeployGateProvider(),
            name,
            {
                "region": args.region,
                "cluster": args.cluster,
                "service_name": args.service_name,
                "task_definition_arn": args.task_definition_arn,
                "deployment_key": args.deployment_key,
                "timeout_seconds": args.timeout_seconds,
                "poll_seconds": args.poll_seconds,
                **access,
                "rollout": None,
                "running_revision": None,
                "deployment_id": None,
            },
            opts,
        )
