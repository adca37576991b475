"""Pure builders for the JSON documents AWS is given: container definitions,
IAM policies, CloudWatch filter patterns.

They take plain strings (ARNs already resolved) so they can be tested without
Pulumi and checked against botocore's service models: `pulumi preview` does not
validate a container-definitions blob, and a bad one only fails at `pulumi up`.

Pure: no Pulumi, no boto3.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from core.s3_uri import S3Location
from core.settings import ServiceSettings

# --------------------------------------------------------------------------- #
# Container definitions
# --------------------------------------------------------------------------- #

# How long ECS waits after SIGTERM before SIGKILL. Matches the target group's
# deregistration delay, so a task finishes in-flight requests while it drains.
STOP_TIMEOUT_SECONDS = 30

# The container health check's timings: the live task definitions' (core/live_estate.py,
# services.<key>.health_check), which the services passed with after the fix; the cutover
# changes only what it must (docs/ESTATE.md, "Carried over on purpose").
CONTAINER_HEALTH_CHECK_INTERVAL_SECONDS = 30
CONTAINER_HEALTH_CHECK_TIMEOUT_SECONDS = 5
CONTAINER_HEALTH_CHECK_RETRIES = 3
# Model servers take a while to import their libraries; failures in the first minute do not count.
CONTAINER_HEALTH_CHECK_START_PERIOD_SECONDS = 60

# The awslogs stream prefix: the live one, so log streams keep their names
# (`ecs/<container>/<task id>`) and the runbooks' queries still find them.
LOG_STREAM_PREFIX = "ecs"


def container_health_check(port: int, path: str) -> dict[str, Any]:
    """The container-level health check ECS runs inside the task.

    It makes ECS replace a wedged container even when no load balancer is
    looking, and its status is what the deploy gate and `verify` report.
    The image must ship curl (both of the estate's images do).
    """
    return {
        "command": ["CMD-SHELL", f"curl -fsS http://localhost:{port}{path} || exit 1"],
        "interval": CONTAINER_HEALTH_CHECK_INTERVAL_SECONDS,
        "timeout": CONTAINER_HEALTH_CHECK_TIMEOUT_SECONDS,
        "retries": CONTAINER_HEALTH_CHECK_RETRIES,
        "startPeriod": CONTAINER_HEALTH_CHECK_START_PERIOD_SECONDS,
    }


def container_definitions(
    service: ServiceSettings,
    *,
    secret_arns: Mapping[str, str],
    region: str,
) -> list[dict[str, Any]]:
    """The task's container definitions, in the shape RegisterTaskDefinition takes.

    `secret_arns` maps each of the service's secret variables to the ARN of the
    Secrets Manager secret holding it. Every variable the service declares as a
    secret must be there: a secret is never silently dropped. Each `valueFrom` is
    that ARN, followed by the JSON key and version the stack names (core/value_from.py).
    """
    missing = sorted({s.env_var for s in service.secrets} - set(secret_arns))
    if missing:
        raise ValueError(f"no secret ARN for {', '.join(missing)} of service {service.key}")
    return [
        {
            "name": service.container_name,
            "image": service.image,
            "essential": True,
            "portMappings": [
                {"containerPort": service.container_port, "hostPort": service.container_port, "protocol": "tcp"}
            ],
            # Plain settings only; settings validation keeps credentials out of here.
            "environment": [{"name": name, "value": value} for name, value in service.environment],
            # Credentials only travel as references: ECS fetches each value with the
            # execution role when the task starts; it never appears in the task definition.
            "secrets": [
                {"name": source.env_var, "valueFrom": source.container_value_from(secret_arns[source.env_var])}
                for source in service.secrets
            ],
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {
                    "awslogs-group": service.log_group_name,
                    "awslogs-region": region,
                    "awslogs-stream-prefix": LOG_STREAM_PREFIX,
                },
            },
            "healthCheck": container_health_check(service.container_port, service.health_check_path),
            # ECS Exec's SSM agent runs beside the app; an init process reaps its children.
            "linuxParameters": {"initProcessEnabled": True},
            "stopTimeout": STOP_TIMEOUT_SECONDS,
        }
    ]


# --------------------------------------------------------------------------- #
# IAM
# --------------------------------------------------------------------------- #

# The call ECS makes with the execution role for each secret a task references
# (and the one action nothing else should be granted on those secrets).
READ_SECRET_ACTION = "secretsmanager:GetSecretValue"

_ECR_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/(?P<repository>[^:@]+)"
)


def ecr_repository_arn(image: str) -> str | None:
    """The ECR repository an image is pulled from, or None for another registry."""
    match = _ECR_IMAGE.match(image)
    if not match:
        return None
    return f"arn:aws:ecr:{match['region']}:{match['account']}:repository/{match['repository']}"


def ecs_tasks_trust_policy(account_id: str, region: str) -> dict[str, Any]:
    """Lets ECS tasks of this account (and only this account) assume the role.

    The source conditions stop the confused-deputy problem:
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html
    """
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account_id},
                    "ArnLike": {"aws:SourceArn": f"arn:aws:ecs:{region}:{account_id}:*"},
                },
            }
        ],
    }


def execution_role_policy(
    *,
    secret_arns: Iterable[str],
    log_group_arn: str,
    images: Iterable[str],
    kms_key_arn: str | None = None,
    region: str,
) -> dict[str, Any]:
    """What ECS needs to start the task: pull the image, write its logs, and
    read exactly the secrets its containers reference.

    The secret grant is derived from the same list as the task definition's
    `secrets`, so a secret can never be referenced without being readable
    (which fails the task with ResourceInitializationError) nor readable
    without being referenced. It never uses `*`.
    """
    statements: list[dict[str, Any]] = []
    repositories = sorted({arn for arn in (ecr_repository_arn(i) for i in images) if arn})
    if repositories:
        statements += [
            # GetAuthorizationToken has no resource-level permissions: `*` is the only valid resource.
            {"Sid": "EcrLogin", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
            {
                "Sid": "PullImage",
                "Effect": "Allow",
                "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                "Resource": repositories,
            },
        ]
    statements.append(
        {
            "Sid": "WriteLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            # CreateLogStream is authorised against the log group, PutLogEvents against
            # the stream: `<group>:*` covers both forms of the ARN, and nothing else.
            "Resource": [_strip_wildcard(log_group_arn), f"{_strip_wildcard(log_group_arn)}:*"],
        }
    )
    secrets = sorted(set(secret_arns))
    if any("*" in arn for arn in secrets):
        raise ValueError("a secret ARN with a wildcard would grant more than the declared secrets")
    if secrets:
        statements.append(
            {
                "Sid": "ReadDeclaredSecrets",
                "Effect": "Allow",
                "Action": READ_SECRET_ACTION,
                "Resource": secrets,
            }
        )
    if kms_key_arn and secrets:
        statements.append(
            {
                "Sid": "DecryptDeclaredSecrets",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": kms_key_arn,
                "Condition": {"StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}},
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def ecs_exec_policy(log_group_arn: str) -> dict[str, Any]:
    """Task-role permissions for ECS Exec (`aws ecs execute-command`), used in
    the incident to check which variables a running container has.

    The ssmmessages actions have no resource-level permissions. The cluster logs
    each session (logging DEFAULT) through the task's awslogs configuration, so
    the task role also writes to the service's own log group, and nowhere else.
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html
    """
    log_group = _strip_wildcard(log_group_arn)
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "EcsExec",
                "Effect": "Allow",
                "Action": [
                    "ssmmessages:CreateControlChannel",
                    "ssmmessages:CreateDataChannel",
                    "ssmmessages:OpenControlChannel",
                    "ssmmessages:OpenDataChannel",
                ],
                "Resource": "*",
            },
            # The session agent looks the log group up before writing; Describe* has no resource scope.
            {"Sid": "EcsExecFindLogGroup", "Effect": "Allow", "Action": "logs:DescribeLogGroups", "Resource": "*"},
            {
                "Sid": "EcsExecSessionLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
                "Resource": [log_group, f"{log_group}:*"],
            },
        ],
    }


def s3_prefix_policy(locations: Iterable[S3Location]) -> dict[str, Any]:
    """Task-role access to S3 locations (`s3://bucket/prefix`): list the prefix, get, put and
    delete the objects under it, nothing else (MLflow's artifact store, core/contract.py: S3Access).

    ListBucket is granted on the bucket with an `s3:prefix` condition, so the role cannot
    list the rest of the bucket; the object actions name the prefix's objects only.
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/security_iam_service-with-iam.html
    """
    statements: list[dict[str, Any]] = []
    for index, location in enumerate(sorted(set(locations), key=lambda loc: (loc.bucket, loc.prefix))):
        bucket = f"arn:aws:s3:::{location.bucket}"
        listing: dict[str, Any] = {
            "Sid": f"ListPrefix{index}",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": bucket,
        }
        if location.prefix:
            listing["Condition"] = {"StringLike": {"s3:prefix": [location.prefix, f"{location.prefix}/*"]}}
        objects = f"{bucket}/{location.prefix}/*" if location.prefix else f"{bucket}/*"
        statements += [
            listing,
            {
                "Sid": f"ReadWriteObjects{index}",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                "Resource": objects,
            },
        ]
    if not statements:
        raise ValueError("an S3 policy needs at least one location")
    return {"Version": "2012-10-17", "Statement": statements}


def _strip_wildcard(arn: str) -> str:
    return arn[:-2] if arn.endswith(":*") else arn


# --------------------------------------------------------------------------- #
# CloudWatch Logs filter patterns
# --------------------------------------------------------------------------- #

# What CloudWatch accepts inside %...%: letters, digits, these symbols and operators.
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html
_REGEX_ALLOWED = re.compile(r"^[A-Za-z0-9:_#=@/;,\-^$?\[\]{}|\\*+.]*$")
FILTER_PATTERN_MAX = 1024


def filter_pattern_problems(pattern: str) -> list[str]:
    """Why CloudWatch would reject `pattern` (PutMetricFilter), empty when it is fine."""
    problems = []
    if len(pattern) > FILTER_PATTERN_MAX:
        problems.append(f"longer than {FILTER_PATTERN_MAX} characters")
    if pattern.startswith("%"):
        body = pattern[1:-1] if pattern.endswith("%") and len(pattern) > 1 else None
        if body is None:
            problems.append("a regex pattern must end with %")
        elif not body:
            problems.append("the regex is empty")
        elif not _REGEX_ALLOWED.match(body):
            bad = sorted({c for c in body if not _REGEX_ALLOWED.match(c)})
            problems.append(f"the regex uses characters CloudWatch does not accept: {''.join(bad)!r}")
        elif "(" in body or ")" in body:
            problems.append("CloudWatch regex has no groups")
    elif pattern.count('"') % 2:
        problems.append("unbalanced double quote")
    return problems
