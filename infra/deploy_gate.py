"""The deploy gate: `pulumi up` fails when a service's deployment does not land.

The ECS service resource reports success once the service is steady, and a
service that rolled back to the previous revision is steady too (the peers'
bugs pulumi-awsx#1848 and terraform-aws-ecs#325). This dynamic resource, which
depends on the service, waits until the PRIMARY deployment runs the declared
task-definition revision with its rollout COMPLETED, and otherwise fails the
update with the state and the stopped-task reasons (core/rollout.py: the same
logic `make verify` uses).

It runs only when the declared revision changes: a new image, secret or setting
registers one. A change that leaves the task definition alone (alarms, security
groups, desired count) does not rerun it; `make verify` covers those. It never
runs during `pulumi preview`. It looks with boto3's default credentials (the
environment, AWS_PROFILE), the same ones the pulumi-aws provider uses unless
the stack sets aws:profile or aws:assumeRole.

The provider runs in a separate process that Pulumi starts from the project
directory with the project's .venv. Its class is pickled into the state by
reference (`infra.deploy_gate.DeployGateProvider`), so that process always runs
the checked-out code; what it needs beyond this module is imported inside its
methods. Stacks already deployed hold that reference: the module path
`infra.deploy_gate` and the class name `DeployGateProvider` must never change
(moving the class would make every existing gate fail to load at the next
`pulumi up`). Keep this file a thin shell over core/rollout.py instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ResourceProvider, UpdateResult


class DeployGateProvider(ResourceProvider):
    # Inputs whose change means a new deployment to wait for.
    WATCHED = ("task_definition_arn", "service_name", "cluster")

    def _wait(self, props: dict[str, Any]) -> dict[str, Any]:
        try:
            import boto3
            import botocore.exceptions

            from core import rollout
        except ImportError as error:  # the plugin runs from the project directory with its .venv
            raise Exception(
                f"the deploy gate cannot import its code ({error}): run pulumi from the "
                "hokusai-infra directory with its .venv (pulumi install)"
            ) from None
        service = props["service_name"]
        ecs = boto3.client("ecs", region_name=props["region"])
        try:
            assessment = rollout.wait_for_rollout(
                ecs,
                props["cluster"],
                service,
                props["task_definition_arn"],
                timeout_seconds=float(props["timeout_seconds"]),
                poll_seconds=float(props["poll_seconds"]),
            )
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
            raise Exception(f"deploy gate: could not read the deployment of {service}: {error}") from None
        if not assessment.succeeded:
            raise Exception("deploy gate: " + rollout.failure_message(service, assessment))
        return {**props, "rollout": assessment.state.value, "running_revision": assessment.running_revision}

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(id_=props["service_name"], outs=self._wait(props))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [key for key in self.WATCHED if olds.get(key) != news.get(key)]
        return DiffResult(changes=bool(changed), replaces=[], stables=[], delete_before_replace=False)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=self._wait(news))


@dataclass
class DeployGateArgs:
    region: str
    cluster: pulumi.Input[str]
    service_name: pulumi.Input[str]
    task_definition_arn: pulumi.Input[str]
    timeout_seconds: int
    # How often to look; ECS deployments take minutes, and DescribeServices is cheap.
    poll_seconds: int = 15


class DeployGate(pulumi.dynamic.Resource):
    rollout: pulumi.Output[str]
    running_revision: pulumi.Output[str]

    def __init__(self, name: str, args: DeployGateArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(
            DeployGateProvider(),
            name,
            {
                "region": args.region,
                "cluster": args.cluster,
                "service_name": args.service_name,
                "task_definition_arn": args.task_definition_arn,
                "timeout_seconds": args.timeout_seconds,
                "poll_seconds": args.poll_seconds,
                "rollout": None,
                "running_revision": None,
            },
            opts,
        )
