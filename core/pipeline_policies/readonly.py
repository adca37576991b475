"""The read-only role's statements for one stack: `pulumi preview` in pull requests,
`pulumi refresh --preview-only` and `pulumi preview --refresh` in the drift workflow. Pure.

What the program's lookups read before anything is registered (infra/existing.py: the
account, the adopted secrets' metadata, the adopted listener and its load balancer),
what a refresh of each resource type the program creates reads back, and the stack's
state. Nothing else: verify's reads are docs/verify-policy.json, attached beside this
for the drift workflow's `make verify`.

Code from a pull request runs with this role, so it never reads a secret's value, nor
a log event (a task may log a secret): explicit Denies, which also hold against
docs/verify-policy.json's log reads when both are attached (`make verify LOGS=1` is
for a person with the verify policy alone).
"""

from __future__ import annotations

from core.pipeline_policies.deployer import LOG_EVENT_READS, SECRET_VALUE_READS, secret_metadata_reads
from core.pipeline_policies.scope import StackScope
from core.pipeline_policies.state_backend import state_statements
from core.pipeline_policies.statements import Statement, allow, deny


def readonly_statements(scope: StackScope) -> list[Statement]:
    statements = [
        deny("NeverReadSecretValues", SECRET_VALUE_READS, "*"),
        deny("NeverReadLogEventsTasksMayHaveWrittenSecretsIn", LOG_EVENT_READS, "*"),
        allow("TheProviderAndTheProgramCheckTheAccount", "sts:GetCallerIdentity", "*"),
        allow("EcsClusterOfTheStack", "ecs:DescribeClusters", scope.cluster),
        allow("EcsServicesOfTheStack", "ecs:DescribeServices", scope.ecs_services),
        allow(
            "TheStacksRolesAndTheirPolicies",
            ["iam:GetRole", "iam:GetRolePolicy", "iam:ListAttachedRolePolicies", "iam:ListRolePolicies"],
            scope.roles,
        ),
        allow(
            "LogGroupsOfTheStackTagsAndFilters",
            ["logs:DescribeMetricFilters", "logs:ListTagsForResource", "logs:ListTagsLogGroup"],
            scope.log_groups,
        ),
        allow("AlarmsOfTheStackTags", "cloudwatch:ListTagsForResource", scope.alarms),
        allow("DashboardsOfTheStacksServices", "cloudwatch:GetDashboard", scope.dashboards),
        allow("AlarmTopicOfTheStack", ["sns:GetTopicAttributes", "sns:ListTagsForResource"], scope.alarm_topic),
        allow(
            "CloudMapReads",
            ["servicediscovery:GetNamespace", "servicediscovery:GetService"],
            [scope.arn("servicediscovery", "namespace/*"), scope.arn("servicediscovery", "service/*")],
        ),
        allow(
            "ScalableTargetTagReads",
            "application-autoscaling:ListTagsForResource",
            scope.arn("application-autoscaling", "scalable-target/*"),
        ),
        # Each of these has no resource-level permissions (tests/iam_needs.py UNSCOPED says why, per action).
        allow(
            "ReadsWithoutResourceLevelPermissions",
            [
                "application-autoscaling:DescribeScalableTargets",
                "application-autoscaling:DescribeScalingPolicies",
                "cloudwatch:DescribeAlarms",
                "ec2:DescribeSecurityGroupRules",
                "ec2:DescribeSecurityGroups",
                "ecs:DescribeTaskDefinition",
                "elasticloadbalancing:DescribeCapacityReservation",
                "elasticloadbalancing:DescribeListenerAttributes",
                "elasticloadbalancing:DescribeListeners",
                "elasticloadbalancing:DescribeLoadBalancerAttributes",
                "elasticloadbalancing:DescribeLoadBalancers",
                "elasticloadbalancing:DescribeRules",
                "elasticloadbalancing:DescribeTags",
                "elasticloadbalancing:DescribeTargetGroupAttributes",
                "elasticloadbalancing:DescribeTargetGroups",
                "logs:DescribeLogGroups",
                "servicediscovery:ListTagsForResource",
                "sns:GetSubscriptionAttributes",
            ],
            "*",
        ),
    ]
    return [*statements[:3], *_secrets(scope), *statements[3:], *state_statements(scope, write=False)]


def _secrets(scope: StackScope) -> list[Statement]:
    statements = secret_metadata_reads(scope)
    if scope.declared_secrets:
        # A declared secret's version is read back by its version ids (never its value).
        statements.append(
            allow("VersionsOfTheSecretsTheStackDeclares", "secretsmanager:ListSecretVersionIds", scope.declared_secrets)
        )
    return statements
