"""The two IAM roles of a service's tasks.

Execution role: used by ECS itself to start the task (pull the image, create log
streams, fetch the secrets). Task role: what the application's own code may do
(ECS Exec, plus any managed policies the stack lists).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from core import documents
from core.settings import ServiceSettings, Settings


@dataclass
class TaskRolesArgs:
    settings: Settings
    service: ServiceSettings
    # env var -> secret ARN: exactly the secrets the task definition references
    secret_arns: Mapping[str, pulumi.Output[str]]
    log_group_arn: pulumi.Output[str]


class TaskRoles(pulumi.ComponentResource):
    def __init__(self, name: str, args: TaskRolesArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("hokusai:iam:TaskRoles", name, None, opts)
        settings, service = args.settings, args.service
        child = pulumi.ResourceOptions(parent=self)
        trust = json.dumps(documents.ecs_tasks_trust_policy(settings.account_id, settings.region))

        self.execution_role = aws.iam.Role(
            f"{name}-execution",
            name=f"{service.name}-execution",
            description=f"ECS starts {service.name} tasks with this role: image pull, logs, declared secrets",
            assume_role_policy=trust,
            tags=settings.resource_tags,
            opts=child,
        )
        secret_arns = sorted(args.secret_arns.items())
        self.execution_policy = aws.iam.RolePolicy(
            f"{name}-execution-policy",
            role=self.execution_role.id,
            policy=pulumi.Output.all(args.log_group_arn, *[arn for _, arn in secret_arns]).apply(
                lambda values: json.dumps(
                    documents.execution_role_policy(
                        secret_arns=values[1:],
                        log_group_arn=values[0],
                        images=[service.image],
                        kms_key_arn=settings.secrets_kms_key_arn,
                        region=settings.region,
                    )
                )
            ),
            opts=child,
        )

        self.task_role = aws.iam.Role(
            f"{name}-task",
            name=f"{service.name}-task",
            description=f"The {service.name} application runs with this role",
            assume_role_policy=trust,
            tags=settings.resource_tags,
            opts=child,
        )
        self.exec_policy = aws.iam.RolePolicy(
            f"{name}-ecs-exec",
            role=self.task_role.id,
            policy=args.log_group_arn.apply(lambda arn: json.dumps(documents.ecs_exec_policy(arn))),
            opts=child,
        )
        for index, policy_arn in enumerate(service.task_role_policy_arns):
            aws.iam.RolePolicyAttachment(
                f"{name}-task-policy-{index}",
                role=self.task_role.name,
                policy_arn=policy_arn,
                opts=child,
            )
        self.register_outputs({"execution_role_arn": self.execution_role.arn, "task_role_arn": self.task_role.arn})
