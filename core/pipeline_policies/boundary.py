"""The task-role boundary: the most any role the stack creates may ever do. Pure.

Both roles of every service carry it (infra/task_roles.py), and the deploy role may
create or edit a role only with it (deployer.py). A role's effective permissions are
what its policies allow AND what its boundary allows, so whatever the deploy role
writes into a role (an inline policy's content cannot be limited by condition), its
tasks get no more than this:

- pull the stack's images from their ECR repositories, and ECR's login token;
- write their own log groups (and find them: ECS Exec looks its log group up);
- read the stack's secrets (the execution role injects them; the key only through
  Secrets Manager);
- ECS Exec's channels;
- the S3 buckets the services' plain settings point at (MLflow's artifact root);
- nothing in IAM, STS or any other service.

What a managed policy the stack file attaches to a task role (`task_role_policy_arns`)
grants beyond this, tasks do not get: extend the boundary here when a service needs more.
"""

from __future__ import annotations

from core.pipeline_policies.scope import StackScope
from core.pipeline_policies.statements import Statement, allow, deny

# ECS Exec's channels (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html).
ECS_EXEC = (
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
)
IMAGE_PULL = ("ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")
LOG_WRITES = ("logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents")
ARTIFACT_OBJECTS = ("s3:DeleteObject", "s3:GetObject", "s3:PutObject")
ARTIFACT_BUCKET = ("s3:GetBucketLocation", "s3:ListBucket")
# Explicit, so reading the boundary says it at once; nothing else allows them either.
NEVER = ("iam:*", "organizations:*", "sts:AssumeRole")


def boundary_statements(scope: StackScope) -> list[Statement]:
    statements = [deny("NothingInIamOrStsEver", NEVER, "*")]
    if scope.image_repositories:
        statements += [
            # GetAuthorizationToken has no resource-level permissions.
            allow("EcrLogin", "ecr:GetAuthorizationToken", "*"),
            allow("PullTheStacksImages", IMAGE_PULL, scope.image_repositories),
        ]
    statements += [
        allow("WriteTheStacksLogGroups", LOG_WRITES, scope.log_groups),
        allow("FindLogGroupsWithoutResourceLevelPermissions", "logs:DescribeLogGroups", "*"),
        allow("EcsExecChannelsWithoutResourceLevelPermissions", ECS_EXEC, "*"),
    ]
    if scope.secrets:
        statements.append(allow("ReadTheStacksSecrets", "secretsmanager:GetSecretValue", scope.secrets))
    if scope.secrets and scope.secrets_key:
        statements.append(
            allow(
                "DecryptTheStacksSecretsOnlyThroughSecretsManager",
                "kms:Decrypt",
                scope.secrets_key,
                {"StringEquals": {"kms:ViaService": scope.secrets_manager_endpoint}},
            )
        )
    buckets = [f"arn:aws:s3:::{bucket}" for bucket in scope.artifact_buckets]
    if buckets:
        statements += [
            allow("TheArtifactBucketsTheServicesName", ARTIFACT_BUCKET, buckets),
            allow("ObjectsInTheArtifactBuckets", ARTIFACT_OBJECTS, [f"{bucket}/*" for bucket in buckets]),
        ]
    return statements
