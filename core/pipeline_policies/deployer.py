"""The deploy role's statements for one stack: `pulumi preview`, `up` and `refresh`,
the deploy gate, and `make verify` without `LOGS=1` (.github/workflows/deploy.yml). Pure.

What it may change is the stack's own: its cluster, services, task-definition families,
roles, log groups, alarms, dashboards, topic, target groups and secrets by their exact names
(scope.py); security groups, listener rules, Cloud Map and scalable targets, whose ARNs
carry ids, by the `environment` tag the program puts on them (or, for the dependency
groups it writes rules on, by the ids the stack file declares).

It cannot make itself, or anything it runs, more powerful:

- every role it creates carries the task-role boundary (boundary.py), which it can
  neither leave off, swap, remove nor edit; inline policies cannot be limited by
  condition (IAM has no key for a policy's content), so the boundary is what caps what
  it writes into a role; it attaches only the managed policies the stack file lists;
- it never changes a trust policy (the program writes it once, at create: only this
  account's ECS tasks), passes only the stack's roles and only to ECS tasks, and never
  assumes them;
- it never reads a secret value, nor a log event (a task may log a secret);
- it never changes the load balancer or listener it adopts, only its own rules on it.

The tests (tests/test_deployer_policy.py, tests/test_escalation_paths.py) check each
statement against what the provider calls for every resource type, and try the
escalation paths.
"""

from __future__ import annotations

from core.pipeline_policies.scope import ECS_TASKS, ENVIRONMENT_TAG, SERVICE_LINKED_ROLES, StackScope
from core.pipeline_policies.state_backend import state_statements
from core.pipeline_policies.statements import Statement, allow, deny

# Reading any of these would let the deployer see a secret a task logged.
LOG_EVENT_READS = (
    "logs:FilterLogEvents",
    "logs:GetLogEvents",
    "logs:GetLogRecord",
    "logs:StartLiveTail",
    "logs:StartQuery",
)
SECRET_VALUE_READS = ("secretsmanager:BatchGetSecretValue", "secretsmanager:GetSecretValue")
# What would change the adopted load balancer or listener (shared with the rest of the estate).
LOAD_BALANCER_CHANGES = (
    "elasticloadbalancing:AddListenerCertificates",
    "elasticloadbalancing:AddTags",
    "elasticloadbalancing:DeleteListener",
    "elasticloadbalancing:DeleteLoadBalancer",
    "elasticloadbalancing:ModifyListener",
    "elasticloadbalancing:ModifyListenerAttributes",
    "elasticloadbalancing:ModifyLoadBalancerAttributes",
    "elasticloadbalancing:RemoveListenerCertificates",
    "elasticloadbalancing:RemoveTags",
    "elasticloadbalancing:SetIpAddressType",
    "elasticloadbalancing:SetSecurityGroups",
    "elasticloadbalancing:SetSubnets",
)
POLICY_EDITS = (
    "iam:CreatePolicyVersion",
    "iam:DeletePolicy",
    "iam:DeletePolicyVersion",
    "iam:SetDefaultPolicyVersion",
)


def tagged(scope: StackScope) -> dict[str, dict[str, str]]:
    """The resource carries the stack's environment tag."""
    return {"StringEquals": {f"aws:ResourceTag/{ENVIRONMENT_TAG}": scope.tag_value}}


def tagged_if_tagged(scope: StackScope) -> dict[str, dict[str, str]]:
    """A resource that carries an environment tag carries the stack's (one being created has none yet)."""
    return {"StringEqualsIfExists": {f"aws:ResourceTag/{ENVIRONMENT_TAG}": scope.tag_value}}


def requested_with_tag(scope: StackScope) -> dict[str, dict[str, str]]:
    """The request creates the resource with the stack's environment tag."""
    return {"StringEquals": {f"aws:RequestTag/{ENVIRONMENT_TAG}": scope.tag_value}}


def with_boundary(scope: StackScope) -> dict[str, dict[str, str]]:
    return {"StringEquals": {"iam:PermissionsBoundary": scope.boundary}}


def deployer_statements(scope: StackScope) -> list[Statement]:
    return [
        *guardrails(scope),
        *ecs(scope),
        *iam(scope),
        *secrets(scope),
        *load_balancing(scope),
        *security_groups(scope),
        *observability(scope),
        *service_discovery(scope),
        *autoscaling(scope),
        *state_statements(scope, write=True),
    ]


def guardrails(scope: StackScope) -> list[Statement]:
    """Explicit Denies: they hold whatever else is attached to the role."""
    own_policies = [
        scope.boundary,
        *(scope.iam(f"policy/{scope.policy_name(role)}-*") for role in ("deployer", "readonly")),
    ]
    statements = [
        deny("NeverReadSecretValues", SECRET_VALUE_READS, "*"),
        deny("NeverReadLogEventsTasksMayHaveWrittenSecretsIn", LOG_EVENT_READS, "*"),
        deny("NeverRemoveATaskRoleBoundary", "iam:DeleteRolePermissionsBoundary", "*"),
        deny(
            "NeverCreateOrReboundARoleWithoutTheTaskRoleBoundary",
            ["iam:CreateRole", "iam:PutRolePermissionsBoundary"],
            "*",
            {"StringNotEquals": {"iam:PermissionsBoundary": scope.boundary}},
        ),
        deny("NeverEditTheBoundaryOrItsOwnPolicies", POLICY_EDITS, own_policies),
        # IAM has no condition key on a trust policy's content: allowing this at all would let it
        # trust another account. The program writes the trust once, at create (infra/task_roles.py).
        deny("NeverChangeATrustPolicy", "iam:UpdateAssumeRolePolicy", "*"),
        deny("NeverAssumeTheStacksRoles", "sts:AssumeRole", scope.roles),
    ]
    adopted = scope.adopted_load_balancer
    if adopted:
        statements.append(
            deny("NeverChangeTheAdoptedLoadBalancerOrListener", LOAD_BALANCER_CHANGES, [adopted, scope.listener])
        )
    return statements


def ecs(scope: StackScope) -> list[Statement]:
    return [
        allow("ProviderChecksTheAccount", "sts:GetCallerIdentity", "*"),
        allow(
            "EcsClusterOfTheStack",
            [
                "ecs:CreateCluster",
                "ecs:DeleteCluster",
                "ecs:DescribeClusters",
                "ecs:UpdateCluster",
                "ecs:UpdateClusterSettings",
            ],
            scope.cluster,
        ),
        allow(
            "EcsServicesOfTheStackAndTheirDeployments",
            [
                "ecs:CreateService",
                "ecs:DeleteService",
                "ecs:DescribeServiceDeployments",
                "ecs:DescribeServices",
                "ecs:ListServiceDeployments",
                "ecs:UpdateService",
            ],
            [*scope.ecs_services, *scope.service_deployments],
        ),
        allow("EcsTaskDefinitionFamiliesOfTheStack", "ecs:RegisterTaskDefinition", scope.task_definitions),
        allow(
            "EcsTagsOnTheStacksResources",
            ["ecs:TagResource", "ecs:UntagResource"],
            [scope.cluster, *scope.ecs_services, *scope.task_definitions],
        ),
        allow("DeployGateAndVerifyReadTasksOfTheStack", "ecs:DescribeTasks", scope.tasks),
        allow("EcsReadsWithoutResourceLevelPermissions", ["ecs:DescribeTaskDefinition", "ecs:ListTasks"], "*"),
    ]


def iam(scope: StackScope) -> list[Statement]:
    statements = [
        allow(
            "PassOnlyTheStacksRolesOnlyToEcsTasks",
            "iam:PassRole",
            scope.roles,
            {"StringEquals": {"iam:PassedToService": ECS_TASKS}},
        ),
        # The boundary condition makes leaving it off, or naming another, fail.
        allow(
            "CreateTheStacksRolesOnlyWithTheTaskRoleBoundary",
            ["iam:CreateRole", "iam:PutRolePermissionsBoundary"],
            scope.roles,
            with_boundary(scope),
        ),
        # iam:PermissionsBoundary here is the role's own: only roles that carry the boundary.
        # What an inline policy says cannot be constrained by condition: the boundary caps it.
        allow(
            "WriteInlinePoliciesOnlyIntoRolesUnderTheBoundary",
            ["iam:DeleteRolePolicy", "iam:PutRolePolicy"],
            scope.roles,
            with_boundary(scope),
        ),
        # Detaching never grants anything, and a policy dropped from the stack file must still come off.
        allow("DetachManagedPoliciesFromTheStacksTaskRoles", "iam:DetachRolePolicy", scope.task_roles),
        allow(
            "ManageTheStacksRoles",
            [
                "iam:DeleteRole",
                "iam:GetRole",
                "iam:GetRolePolicy",
                "iam:ListAttachedRolePolicies",
                "iam:ListInstanceProfilesForRole",
                "iam:ListRolePolicies",
                "iam:TagRole",
                "iam:UntagRole",
                "iam:UpdateRole",
                "iam:UpdateRoleDescription",
            ],
            scope.roles,
        ),
        allow(
            "VerifyReadsManagedPolicyDocuments",
            ["iam:GetPolicy", "iam:GetPolicyVersion"],
            ["arn:aws:iam::aws:policy/*", scope.iam("policy/*")],
        ),
        allow(
            "CreateOnlyTheServiceLinkedRolesEcsElbAndScalingNeed",
            "iam:CreateServiceLinkedRole",
            [scope.service_linked_role(service) for service in SERVICE_LINKED_ROLES],
            {"StringEquals": {"iam:AWSServiceName": sorted(SERVICE_LINKED_ROLES)}},
        ),
    ]
    if scope.task_role_policy_arns:
        statements.insert(
            3,
            allow(
                "AttachOnlyTheManagedPoliciesTheStackFileLists",
                "iam:AttachRolePolicy",
                scope.task_roles,
                {
                    "StringEquals": {"iam:PermissionsBoundary": scope.boundary},
                    "ArnEquals": {"iam:PolicyARN": scope.task_role_policy_arns},
                },
            ),
        )
    return statements


def secret_metadata_reads(scope: StackScope) -> list[Statement]:
    """Every secret of the stack, its metadata and never its value: what the adopted secrets'
    lookup and a refresh read, for this role and the read-only one alike."""
    if not scope.secrets:
        return []
    return [
        allow(
            "SecretsOfTheStackMetadataOnly",
            ["secretsmanager:DescribeSecret", "secretsmanager:GetResourcePolicy"],
            scope.secrets,
        )
    ]


def secrets(scope: StackScope) -> list[Statement]:
    statements = secret_metadata_reads(scope)
    if scope.declared_secrets:
        statements.append(
            allow(
                "SecretsTheStackDeclaresAndNewValuesForThem",
                [
                    "secretsmanager:CreateSecret",
                    "secretsmanager:DeleteSecret",
                    "secretsmanager:ListSecretVersionIds",
                    "secretsmanager:PutSecretValue",
                    "secretsmanager:TagResource",
                    "secretsmanager:UntagResource",
                    "secretsmanager:UpdateSecret",
                    "secretsmanager:UpdateSecretVersionStage",
                ],
                scope.declared_secrets,
            )
        )
        if scope.secrets_key:
            statements.append(
                allow(
                    "TheSecretsKeyOnlyThroughSecretsManager",
                    ["kms:Decrypt", "kms:GenerateDataKey"],
                    scope.secrets_key,
                    {"StringEquals": {"kms:ViaService": scope.secrets_manager_endpoint}},
                )
            )
    return statements


def load_balancing(scope: StackScope) -> list[Statement]:
    rules = scope.listener_rules
    statements = [
        allow(
            "TargetGroupsOfTheStacksServices",
            [
                "elasticloadbalancing:AddTags",
                "elasticloadbalancing:CreateTargetGroup",
                "elasticloadbalancing:DeleteTargetGroup",
                "elasticloadbalancing:ModifyTargetGroup",
                "elasticloadbalancing:ModifyTargetGroupAttributes",
                "elasticloadbalancing:RemoveTags",
            ],
            scope.target_groups,
        ),
        # CreateRule is authorised against the listener; nothing else on it is allowed.
        allow("AddRulesToTheStacksListener", "elasticloadbalancing:CreateRule", scope.listener),
        allow(
            "ChangeOnlyTheStacksOwnRulesOnIt",
            [
                "elasticloadbalancing:AddTags",
                "elasticloadbalancing:DeleteRule",
                "elasticloadbalancing:ModifyRule",
                "elasticloadbalancing:RemoveTags",
                "elasticloadbalancing:SetRulePriorities",
            ],
            rules,
            tagged(scope),
        ),
        # Tags given to CreateRule are authorised as AddTags on the new rule
        # (https://docs.aws.amazon.com/elasticloadbalancing/latest/userguide/tagging-resources-during-creation.html).
        allow(
            "TagRulesAsItCreatesThem",
            "elasticloadbalancing:AddTags",
            rules,
            {"StringEquals": {"elasticloadbalancing:CreateAction": "CreateRule"}},
        ),
        allow(
            "LoadBalancerLookupsWithoutResourceLevelPermissions",
            [
                "elasticloadbalancing:DescribeCapacityReservation",
                "elasticloadbalancing:DescribeListenerAttributes",
                "elasticloadbalancing:DescribeListeners",
                "elasticloadbalancing:DescribeLoadBalancerAttributes",
                "elasticloadbalancing:DescribeLoadBalancers",
                "elasticloadbalancing:DescribeRules",
                "elasticloadbalancing:DescribeTags",
                "elasticloadbalancing:DescribeTargetGroupAttributes",
                "elasticloadbalancing:DescribeTargetGroups",
                "elasticloadbalancing:DescribeTargetHealth",
            ],
            "*",
        ),
    ]
    if not scope.adopts_load_balancer:
        statements[1:1] = [
            allow(
                "TheLoadBalancerTheStackCreates",
                [
                    "elasticloadbalancing:AddTags",
                    "elasticloadbalancing:CreateListener",
                    "elasticloadbalancing:CreateLoadBalancer",
                    "elasticloadbalancing:DeleteLoadBalancer",
                    "elasticloadbalancing:ModifyLoadBalancerAttributes",
                    "elasticloadbalancing:RemoveTags",
                    "elasticloadbalancing:SetSecurityGroups",
                    "elasticloadbalancing:SetSubnets",
                ],
                scope.owned_load_balancer,
            ),
            allow(
                "TheListenersOfTheLoadBalancerTheStackCreates",
                [
                    "elasticloadbalancing:AddTags",
                    "elasticloadbalancing:DeleteListener",
                    "elasticloadbalancing:ModifyListener",
                    "elasticloadbalancing:RemoveTags",
                ],
                scope.listener,
            ),
        ]
    return statements


def security_groups(scope: StackScope) -> list[Statement]:
    group, rule = scope.arn("ec2", "security-group/*"), scope.arn("ec2", "security-group-rule/*")
    statements = [
        allow("CreateSecurityGroupsOnlyInTheStacksVpc", "ec2:CreateSecurityGroup", scope.vpc),
        allow("CreateSecurityGroupsOnlyTaggedForTheStack", "ec2:CreateSecurityGroup", group, requested_with_tag(scope)),
        # Tags only as part of creating a group or a rule: it cannot tag someone else's group as its own.
        allow(
            "TagGroupsAndRulesOnlyAsItCreatesThem",
            "ec2:CreateTags",
            [group, rule],
            {
                "StringEquals": {
                    "ec2:CreateAction": [
                        "AuthorizeSecurityGroupEgress",
                        "AuthorizeSecurityGroupIngress",
                        "CreateSecurityGroup",
                    ]
                }
            },
        ),
        allow(
            "TheStacksOwnSecurityGroups",
            [
                "ec2:AuthorizeSecurityGroupEgress",
                "ec2:AuthorizeSecurityGroupIngress",
                "ec2:CreateTags",
                "ec2:DeleteSecurityGroup",
                "ec2:DeleteTags",
                "ec2:ModifySecurityGroupRules",
                "ec2:RevokeSecurityGroupEgress",
                "ec2:RevokeSecurityGroupIngress",
            ],
            group,
            tagged(scope),
        ),
        allow(
            "TheStacksOwnSecurityGroupRules",
            ["ec2:CreateTags", "ec2:DeleteTags", "ec2:ModifySecurityGroupRules"],
            rule,
            tagged(scope),
        ),
        # A rule being added has an ARN of its own; what it may be added to is the group's statement.
        allow(
            "NewRulesOnGroupsItMayWrite",
            ["ec2:AuthorizeSecurityGroupEgress", "ec2:AuthorizeSecurityGroupIngress"],
            rule,
        ),
        allow(
            "Ec2LookupsWithoutResourceLevelPermissions",
            [
                "ec2:DescribeNetworkInterfaces",
                "ec2:DescribeRegions",
                "ec2:DescribeSecurityGroupRules",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeVpcs",
            ],
            "*",
        ),
    ]
    if scope.dependency_groups:
        statements.insert(
            5,
            allow(
                "AdmitTheStacksServicesOnTheDependencyGroupsTheStackFileNames",
                [
                    "ec2:AuthorizeSecurityGroupIngress",
                    "ec2:ModifySecurityGroupRules",
                    "ec2:RevokeSecurityGroupIngress",
                ],
                scope.dependency_groups,
            ),
        )
    return statements


def observability(scope: StackScope) -> list[Statement]:
    return [
        allow(
            "LogGroupsOfTheStackWithRetentionAndFilters",
            [
                # AssociateKmsKey/DisassociateKmsKey: observability_kms_key_arn set or unset later.
                "logs:AssociateKmsKey",
                "logs:CreateLogGroup",
                "logs:DeleteLogGroup",
                "logs:DeleteMetricFilter",
                "logs:DeleteRetentionPolicy",
                "logs:DescribeMetricFilters",
                "logs:DisassociateKmsKey",
                "logs:ListTagsForResource",
                "logs:ListTagsLogGroup",
                "logs:PutMetricFilter",
                "logs:PutRetentionPolicy",
                "logs:TagLogGroup",
                "logs:TagResource",
                "logs:UntagLogGroup",
                "logs:UntagResource",
            ],
            scope.log_groups,
        ),
        allow("LogGroupLookupWithoutResourceLevelPermissions", "logs:DescribeLogGroups", "*"),
        allow(
            "AlarmsOfTheStacksServices",
            [
                "cloudwatch:DeleteAlarms",
                "cloudwatch:PutMetricAlarm",
                "cloudwatch:TagResource",
                "cloudwatch:UntagResource",
            ],
            scope.alarms,
            tagged_if_tagged(scope),
        ),
        allow(
            "TargetTrackingAlarmsOfTheStacksServices",
            ["cloudwatch:DeleteAlarms", "cloudwatch:PutMetricAlarm"],
            scope.target_tracking_alarms,
        ),
        allow("AlarmTags", "cloudwatch:ListTagsForResource", scope.alarms),
        allow("AlarmLookupsReadOnly", "cloudwatch:DescribeAlarms", "*"),
        allow(
            "DashboardsOfTheStacksServices",
            ["cloudwatch:DeleteDashboards", "cloudwatch:GetDashboard", "cloudwatch:PutDashboard"],
            scope.dashboards,
        ),
        allow(
            "AlarmTopicOfTheStack",
            [
                "sns:CreateTopic",
                "sns:DeleteTopic",
                "sns:GetTopicAttributes",
                "sns:ListTagsForResource",
                "sns:SetTopicAttributes",
                "sns:Subscribe",
                "sns:TagResource",
                "sns:UntagResource",
            ],
            scope.alarm_topic,
        ),
        allow(
            "AlarmSubscriptionsWithoutResourceLevelPermissions",
            ["sns:GetSubscriptionAttributes", "sns:SetSubscriptionAttributes", "sns:Unsubscribe"],
            "*",
        ),
    ]


def service_discovery(scope: StackScope) -> list[Statement]:
    namespace, service = scope.arn("servicediscovery", "namespace/*"), scope.arn("servicediscovery", "service/*")
    return [
        allow(
            "CreateOnlyANamespaceTaggedForTheStack",
            "servicediscovery:CreatePrivateDnsNamespace",
            "*",
            requested_with_tag(scope),
        ),
        allow(
            "TheStacksNamespace",
            [
                "servicediscovery:CreateService",
                "servicediscovery:DeleteNamespace",
                "servicediscovery:UpdatePrivateDnsNamespace",
            ],
            namespace,
            tagged(scope),
        ),
        allow(
            "CreateOnlyServicesTaggedForTheStack", "servicediscovery:CreateService", service, requested_with_tag(scope)
        ),
        allow(
            "TheStacksDiscoveryServices",
            ["servicediscovery:DeleteService", "servicediscovery:UpdateService"],
            service,
            tagged(scope),
        ),
        # Tagging may not move a resource of another stack into this one, nor name another stack.
        allow(
            "CloudMapTagsOnlyForTheStack",
            ["servicediscovery:TagResource", "servicediscovery:UntagResource"],
            "*",
            {
                "StringEqualsIfExists": {
                    f"aws:ResourceTag/{ENVIRONMENT_TAG}": scope.tag_value,
                    f"aws:RequestTag/{ENVIRONMENT_TAG}": scope.tag_value,
                }
            },
        ),
        allow("CloudMapReads", ["servicediscovery:GetNamespace", "servicediscovery:GetService"], [namespace, service]),
        allow(
            "CloudMapCallsWithoutResourceLevelPermissions",
            ["servicediscovery:GetOperation", "servicediscovery:ListTagsForResource"],
            "*",
        ),
        # Cloud Map creates the namespace's private hosted zone with the caller's permissions
        # (https://docs.aws.amazon.com/cloud-map/latest/dg/cloud-map-api-permissions-ref.html).
        allow(
            "PrivateHostedZoneCloudMapCreatesForTheNamespace",
            ["route53:CreateHostedZone", "route53:ListHostedZonesByName"],
            "*",
        ),
        allow("PrivateHostedZoneRead", "route53:GetHostedZone", "arn:aws:route53:::hostedzone/*"),
    ]


def autoscaling(scope: StackScope) -> list[Statement]:
    target = scope.arn("application-autoscaling", "scalable-target/*")
    ecs_only = {"application-autoscaling:service-namespace": "ecs"}
    return [
        # Registering an ECS service's desired count also needs ecs:UpdateService on that service
        # (the ECS statement: this stack's services only).
        allow(
            "RegisterOnlyTheStacksEcsServices",
            "application-autoscaling:RegisterScalableTarget",
            target,
            {"StringEquals": ecs_only, **tagged_if_tagged(scope)},
        ),
        allow(
            "ScalingOfTheStacksTargets",
            [
                "application-autoscaling:DeleteScalingPolicy",
                "application-autoscaling:DeregisterScalableTarget",
                "application-autoscaling:PutScalingPolicy",
            ],
            target,
            {"StringEquals": {**ecs_only, **tagged(scope)["StringEquals"]}},
        ),
        allow(
            "ScalableTargetTags",
            ["application-autoscaling:TagResource", "application-autoscaling:UntagResource"],
            target,
            tagged_if_tagged(scope),
        ),
        allow("ScalableTargetTagReads", "application-autoscaling:ListTagsForResource", target),
        allow(
            "ScalingLookupsWithoutResourceLevelPermissions",
            ["application-autoscaling:DescribeScalableTargets", "application-autoscaling:DescribeScalingPolicies"],
            "*",
        ),
    ]
