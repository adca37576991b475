"""The two IAM roles of a service's tasks.

Execution role: used by ECS itself to start the task (pull the image, create log
streams, fetch the secrets). Task role: what the application's own code may do
(ECS Exec, the S3 locations its contract names, plus any managed policies the stack lists).

Both carry the stack's permissions boundary (core/pipeline_policies/boundary.py): the
deploy role may create them, and write or attach their policies, only with it, so
nothing it writes into them can reach beyond what the stack's tasks may ever do.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from core import documents
from core.s3_uri import S3Location


@dataclass(frozen=True)
class TaskRolesArgs:
    # The roles are named `<service_name>-execution` and `<service_name>-task`.
    service_name: str
    # The execution role may pull this image's repository, and no other.
    image: str
    # Managed policies for the application's own (task) role.
    task_role_policy_arns: Sequence[str]
    # S3 locations the application reads and writes (the contract's s3_access): an inline grant each.
    s3_locations: Sequence[S3Location]
    # Both roles trust only this account's ECS tasks in this region.
    account_id: str
    region: str
    # env var -> secret ARN: exactly the secrets the task definition references
    secret_arns: Mapping[str, pulumi.Output[str]]
    # The key declared secrets are encrypted with (None: the AWS-managed key, no grant needed).
    secrets_kms_key_arn: str | None
    log_group_arn: pulumi.Output[str]
    # The managed policy both roles carry as their permissions boundary (Settings.task_role_boundary_arn).
    permissions_boundary_arn: str
    tags: Mapping[str, str]


@dataclass(frozen=True)
class TaskRolesResult:
    execution_role_arn: pulumi.Output[str]
    task_role_arn: pulumi.Output[str]


class TaskRoles(pulumi.ComponentResource):
    result: TaskRolesResult

    def __init__(self, name: str, args: TaskRolesArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("hokusai:iam:TaskRoles", name, None, opts)
        service_name = args.service_name
        child = pulumi.ResourceOptions(parent=self)
        trust = json.dumps(documents.ecs_tasks_trust_policy(args.account_id, args.region))

        execution_role = aws.iam.Role(
            f"{name}-execution",
            name=f"{service_name}-execution",
            description=f"ECS starts {service_name} tasks with this role: image pull, logs, declared secrets",
            assume_role_policy=trust,
            permissions_boundary=args.permissions_boundary_arn,
            tags=args.tags,
            opts=child,
        )
        secret_arns = sorted(args.secret_arns.items())
        aws.iam.RolePolicy(
            f"{name}-execution-policy",
            role=execution_role.id,
            policy=pulumi.Output.all(args.log_group_arn, *[arn for _, arn in secret_arns]).apply(
                lambda values: json.dumps(
                    documents.execution_role_policy(
                        secret_arns=values[1:],
                        log_group_arn=values[0],
                        images=[args.image],
                        kms_key_arn=args.secrets_kms_key_arn,
                        region=args.region,
                    )
                )
            ),
            opts=child,
        )

        task_role = aws.iam.Role(
            f"{name}-task",
            name=f"{service_name}-task",
            description=f"The {service_name} application runs with this role",
            assume_role_policy=trust,
            permissions_boundary=args.permissions_boundary_arn,
            tags=args.tags,
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-ecs-exec",
            role=task_role.id,
            policy=args.log_group_arn.apply(lambda arn: json.dumps(documents.ecs_exec_policy(arn))),
            opts=child,
        )
        if args.s3_locations:
            aws.iam.RolePolicy(
                f"{name}-s3",
                role=task_role.id,
                policy=json.dumps(documents.s3_prefix_policy(args.s3_locations)),
                opts=child,
            )
        for index, policy_arn in enumerate(args.task_role_policy_arns):
            aws.iam.RolePolicyAttachment(
                f"{name}-task-policy-{index}",
                role=task_role.name,
                policy_arn=policy_arn,
                opts=child,
            )
        self.result = TaskRolesResult(execution_role_arn=execution_role.arn, task_role_arn=task_role.arn)
        self.register_outputs(
            {"execution_role_arn": self.result.execution_role_arn, "task_role_arn": self.result.task_role_arn}
        )
