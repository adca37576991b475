"""The escalation paths the security review found, tried against each stack's generated policies
with the project's one evaluator (core/iam_policy.py).

The deploy role could make itself administrator (a role it creates, given `*`, passed to a task
running any image), read secrets through the logs, make another account trust a role, write
security groups outside the stack, change the shared ALB, delete any Cloud Map namespace, and
write every stack's resources. Each path below is one request of such an attack; `escalations`
lists every one the policies let through. Those the policies must refuse with an explicit Deny
(so nothing else attached to the role can open them) must come out DENIED, the rest anything but
ALLOWED. The happy paths (every call the pipeline makes) are tests/test_deployer_policy.py and
tests/test_readonly_policy.py.

Each guard is also taken out and weakened, to watch its path open (`test_each_guard_...`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from core import naming
from core.iam_policy import Decision
from core.pipeline_policies import policies_for
from core.settings import SecretMode, Settings
from tests.helpers import STACKS, each_stack, stack_settings
from tests.iam_needs import (
    ECS_TASKS,
    HEX,
    SECRET_SUFFIX,
    Where,
    changed,
    decider,
    decision,
    every_feature,
    every_feature_adopting_settings,
    state_arns,
    where,
)

DENIED, REFUSED = "denied", "refused"
ADMINISTRATOR_ACCESS = "arn:aws:iam::aws:policy/AdministratorAccess"


@dataclass(frozen=True)
class Attempt:
    name: str
    action: str
    resource: str
    context: dict[str, Any] = field(default_factory=dict)
    # DENIED: an explicit Deny must refuse it (it holds whatever else the role has); REFUSED: not allowed.
    must_be: str = REFUSED


def tagged(environment: str) -> dict[str, str]:
    return {"aws:ResourceTag/environment": environment}


def requesting(environment: str) -> dict[str, Any]:
    return {"aws:RequestTag/environment": environment, "aws:TagKeys": ["environment"]}


def other_stack(stack: str) -> str:
    return "staging" if stack == "production" else "production"


def secret_arn(at: Where, name_or_arn: str) -> str:
    return (
        name_or_arn
        if name_or_arn.startswith("arn:")
        else at.arn("secretsmanager", f"secret:{name_or_arn}{SECRET_SUFFIX}")
    )


def attempts(settings: Settings) -> list[Attempt]:
    """Every escalation request against one stack, from its settings."""
    stack, at = settings.environment, where(settings)
    first = settings.services[0]
    task_role, execution_role = (at.iam(f"role/{first.name}-{kind}") for kind in ("task", "execution"))
    boundary = settings.task_role_boundary_arn
    with_boundary = {"iam:PermissionsBoundary": boundary}
    other = other_stack(stack)
    other_service = naming.service_name(first.key, other)
    longer = f"{stack}-x"  # a stack whose names start with this one's
    log_group = at.arn("logs", f"log-group:{first.log_group_name}:*")
    foreign_group = at.arn("ec2", "security-group/sg-0fedcba9876543210")
    namespace, discovery = (
        at.arn("servicediscovery", "namespace/ns-0ther"),
        at.arn("servicediscovery", "service/srv-0ther"),
    )
    target = at.arn("application-autoscaling", f"scalable-target/{HEX}")
    listed_policy = next((arn for s in settings.services for arn in s.task_role_policy_arns), None)
    found: list[Attempt] = [
        # -- a role it creates, or edits, with more power than the boundary --------------------------
        Attempt("create a stack role without the boundary", "iam:CreateRole", task_role, {}, DENIED),
        Attempt(
            "create a stack role with another boundary",
            "iam:CreateRole",
            task_role,
            {"iam:PermissionsBoundary": ADMINISTRATOR_ACCESS},
            DENIED,
        ),
        Attempt("create a role outside the stack", "iam:CreateRole", at.iam("role/hokusai-admin"), with_boundary),
        Attempt(
            "swap a stack role's boundary",
            "iam:PutRolePermissionsBoundary",
            task_role,
            {"iam:PermissionsBoundary": ADMINISTRATOR_ACCESS},
            DENIED,
        ),
        Attempt("remove a stack role's boundary", "iam:DeleteRolePermissionsBoundary", task_role, {}, DENIED),
        Attempt(
            "attach AdministratorAccess to a stack role",
            "iam:AttachRolePolicy",
            task_role,
            {**with_boundary, "iam:PolicyARN": ADMINISTRATOR_ACCESS},
        ),
        Attempt(
            "attach a policy the stack file does not list",
            "iam:AttachRolePolicy",
            task_role,
            {**with_boundary, "iam:PolicyARN": at.iam("policy/anything-else")},
        ),
        Attempt(
            "attach a listed policy to a role without the boundary",
            "iam:AttachRolePolicy",
            task_role,
            {"iam:PolicyARN": listed_policy or at.iam("policy/listed")},
        ),
        Attempt(
            "attach a listed policy to an execution role",
            "iam:AttachRolePolicy",
            execution_role,
            {**with_boundary, "iam:PolicyARN": listed_policy or at.iam("policy/listed")},
        ),
        Attempt("write an inline policy into a stack role without the boundary", "iam:PutRolePolicy", task_role, {}),
        Attempt(
            "write an inline policy into a role outside the stack",
            "iam:PutRolePolicy",
            at.iam("role/admin"),
            with_boundary,
        ),
        Attempt(
            "write an inline policy into the deploy role", "iam:PutRolePolicy", at.iam("role/hokusai-infra-deploy")
        ),
        Attempt("make another account trust a stack role", "iam:UpdateAssumeRolePolicy", task_role, {}, DENIED),
        Attempt("edit the boundary", "iam:CreatePolicyVersion", boundary, {}, DENIED),
        Attempt("switch the boundary to an older version", "iam:SetDefaultPolicyVersion", boundary, {}, DENIED),
        Attempt("delete the boundary", "iam:DeletePolicy", boundary, {}, DENIED),
        Attempt(
            "edit its own policy",
            "iam:CreatePolicyVersion",
            at.iam(f"policy/hokusai-{stack}-deployer-1"),
            {},
            DENIED,
        ),
        Attempt("create a policy", "iam:CreatePolicy", at.iam("policy/anything")),
        Attempt("create a user", "iam:CreateUser", at.iam("user/someone")),
        Attempt("create an access key", "iam:CreateAccessKey", at.iam("user/someone")),
        # -- running code under a role it should not hand out -----------------------------------------
        Attempt(
            "register a task definition that runs under a role outside the stack (iam:PassRole)",
            "iam:PassRole",
            at.iam("role/admin"),
            ECS_TASKS,
        ),
        Attempt(
            "pass a stack role to another service",
            "iam:PassRole",
            task_role,
            {"iam:PassedToService": "lambda.amazonaws.com"},
        ),
        Attempt("assume a stack role", "sts:AssumeRole", task_role, {}, DENIED),
        Attempt("run a one-off task", "ecs:RunTask", at.arn("ecs", f"task-definition/{first.name}:1")),
        Attempt("open a shell in a task", "ecs:ExecuteCommand", at.arn("ecs", f"task/{settings.cluster_name}/{HEX}")),
        # -- secrets, directly or through the logs ------------------------------------------------------
        *(
            Attempt(
                f"read the value of {source.name_or_arn}",
                "secretsmanager:GetSecretValue",
                secret_arn(at, source.name_or_arn),
                {},
                DENIED,
            )
            for source in settings.secret_sources
        ),
        Attempt("read every secret at once", "secretsmanager:BatchGetSecretValue", "*", {}, DENIED),
        Attempt("search the task logs", "logs:FilterLogEvents", log_group, {}, DENIED),
        Attempt("read the task logs", "logs:GetLogEvents", log_group, {}, DENIED),
        Attempt("query the task logs", "logs:StartQuery", log_group, {}, DENIED),
        Attempt(
            "let another account read a stack secret",
            "secretsmanager:PutResourcePolicy",
            secret_arn(at, settings.secret_sources[0].name_or_arn),
        ),
        *(
            Attempt(
                f"overwrite the adopted secret {source.name_or_arn}",
                "secretsmanager:PutSecretValue",
                secret_arn(at, source.name_or_arn),
            )
            for source in settings.secret_sources
            if source.mode is SecretMode.EXISTING
        ),
        # -- security groups outside the stack -----------------------------------------------------------
        Attempt(
            "admit a group into another stack's group",
            "ec2:AuthorizeSecurityGroupIngress",
            foreign_group,
            tagged(other),
        ),
        Attempt("admit a group into an untagged group", "ec2:AuthorizeSecurityGroupIngress", foreign_group),
        Attempt("claim a group by tagging it", "ec2:CreateTags", foreign_group, requesting(stack)),
        Attempt(
            "change another stack's rule on a shared group",
            "ec2:ModifySecurityGroupRules",
            at.arn("ec2", f"security-group-rule/sgr-{HEX}"),
            tagged(other),
        ),
        Attempt("create a group in another VPC", "ec2:CreateSecurityGroup", at.arn("ec2", "vpc/vpc-0other")),
        Attempt("create an untagged group", "ec2:CreateSecurityGroup", at.arn("ec2", f"security-group/sg-{HEX}")),
        *(
            attempt
            for dependency in settings.dependencies
            if dependency.security_group_id and not dependency.service
            for attempt in (
                Attempt(
                    f"delete {dependency.name}'s group",
                    "ec2:DeleteSecurityGroup",
                    at.arn("ec2", f"security-group/{dependency.security_group_id}"),
                ),
                Attempt(
                    f"open {dependency.name}'s group's egress",
                    "ec2:AuthorizeSecurityGroupEgress",
                    at.arn("ec2", f"security-group/{dependency.security_group_id}"),
                ),
            )
        ),
        # -- Cloud Map and scaling outside the stack -------------------------------------------------------
        Attempt("delete another stack's namespace", "servicediscovery:DeleteNamespace", namespace, tagged(other)),
        Attempt("delete an untagged namespace", "servicediscovery:DeleteNamespace", namespace),
        Attempt(
            "move another stack's namespace into this one",
            "servicediscovery:TagResource",
            namespace,
            {**tagged(other), **requesting(stack)},
        ),
        Attempt("delete another stack's discovery service", "servicediscovery:DeleteService", discovery, tagged(other)),
        Attempt(
            "deregister another stack's scalable target",
            "application-autoscaling:DeregisterScalableTarget",
            target,
            {**tagged(other), "application-autoscaling:service-namespace": "ecs"},
        ),
        # -- another stack's resources by name -------------------------------------------------------------
        Attempt(
            "update another stack's service",
            "ecs:UpdateService",
            at.arn("ecs", f"service/{naming.cluster_name(other)}/{other_service}"),
        ),
        Attempt(
            "register another stack's task family",
            "ecs:RegisterTaskDefinition",
            at.arn("ecs", f"task-definition/{other_service}:1"),
        ),
        Attempt(
            "delete another stack's cluster",
            "ecs:DeleteCluster",
            at.arn("ecs", f"cluster/{naming.cluster_name(other)}"),
        ),
        Attempt(
            "write into another stack's role",
            "iam:PutRolePolicy",
            at.iam(f"role/{other_service}-task"),
            {"iam:PermissionsBoundary": naming.policy_arn(settings.account_id, naming.task_role_boundary_name(other))},
        ),
        Attempt(
            "delete another stack's log group",
            "logs:DeleteLogGroup",
            at.arn("logs", f"log-group:/ecs/{other_service}:*"),
        ),
        Attempt(
            "change another stack's alarm",
            "cloudwatch:PutMetricAlarm",
            at.arn("cloudwatch", f"alarm:{other_service}-alb-5xx"),
            tagged(other),
        ),
        Attempt(
            "delete the alarm of a stack named like this one and more",
            "cloudwatch:DeleteAlarms",
            at.arn("cloudwatch", f"alarm:{naming.service_name(first.key, longer)}-alb-5xx"),
            tagged(longer),
        ),
        Attempt(
            "overwrite another stack's dashboard",
            "cloudwatch:PutDashboard",
            f"arn:aws:cloudwatch::{settings.account_id}:dashboard/{naming.dashboard_name(first.key, other)}",
        ),
        Attempt(
            "delete a dashboard outside the stack",
            "cloudwatch:DeleteDashboards",
            f"arn:aws:cloudwatch::{settings.account_id}:dashboard/prod-overview",
        ),
        Attempt("delete another stack's topic", "sns:DeleteTopic", at.arn("sns", naming.alarm_topic_name(other))),
        Attempt(
            "delete the target group of a stack named like this one and more",
            "elasticloadbalancing:DeleteTargetGroup",
            at.arn(
                "elasticloadbalancing",
                f"targetgroup/{naming.target_group_name(first.key, longer, port=first.container_port, vpc_id=settings.network.vpc_id)}/{HEX}",
            ),
        ),
        Attempt(
            "delete another stack's secret",
            "secretsmanager:DeleteSecret",
            at.arn("secretsmanager", f"secret:hokusai/{other}/api/secret-key{SECRET_SUFFIX}"),
        ),
        Attempt("overwrite another stack's state", "s3:PutObject", state_arns(other, at)["checkpoint"]),
        Attempt("read another stack's state", "s3:GetObject", state_arns(other, at)["checkpoint"]),
        # -- anything else ------------------------------------------------------------------------------------
        Attempt("start an instance", "ec2:RunInstances", at.arn("ec2", "instance/*")),
        Attempt("change a DNS record", "route53:ChangeResourceRecordSets", "arn:aws:route53:::hostedzone/Z123"),
        Attempt("create a function", "lambda:CreateFunction", at.arn("lambda", "function:anything")),
    ]
    if settings.secrets_kms_key_arn:
        found.append(Attempt("decrypt with the secrets key directly", "kms:Decrypt", settings.secrets_kms_key_arn))
    listener = settings.load_balancer.listener_arn
    if listener:
        head, _, tail = listener.partition(":listener/")
        balancer = f"{head}:loadbalancer/{tail.rsplit('/', 1)[0]}"
        rule = f"{head}:listener-rule/{tail}/{HEX}"
        found += [
            Attempt("change the shared listener", "elasticloadbalancing:ModifyListener", listener, {}, DENIED),
            Attempt("delete the shared listener", "elasticloadbalancing:DeleteListener", listener, {}, DENIED),
            Attempt("delete the shared load balancer", "elasticloadbalancing:DeleteLoadBalancer", balancer, {}, DENIED),
            Attempt(
                "change the shared load balancer's attributes",
                "elasticloadbalancing:ModifyLoadBalancerAttributes",
                balancer,
                {},
                DENIED,
            ),
            Attempt(
                "change the shared load balancer's groups",
                "elasticloadbalancing:SetSecurityGroups",
                balancer,
                {},
                DENIED,
            ),
            Attempt(
                "change another stack's rule on the listener", "elasticloadbalancing:ModifyRule", rule, tagged(other)
            ),
            Attempt("delete an untagged rule on the listener", "elasticloadbalancing:DeleteRule", rule),
            Attempt(
                "claim a rule on the listener by tagging it", "elasticloadbalancing:AddTags", rule, requesting(stack)
            ),
            Attempt(
                "add a rule to another listener",
                "elasticloadbalancing:CreateRule",
                listener.replace(tail.rsplit("/", 1)[-1], HEX),
            ),
        ]
    return found


def deployer(settings: Settings) -> list[dict]:
    return [p.document for p in policies_for(settings, "deployer")]


def readonly(settings: Settings) -> list[dict]:
    return [p.document for p in policies_for(settings, "readonly")]


# What the read-only role refuses with explicit Denies of its own: a secret's value and log events.
READONLY_DENIES = {
    "secretsmanager:GetSecretValue",
    "secretsmanager:BatchGetSecretValue",
    "logs:FilterLogEvents",
    "logs:GetLogEvents",
    "logs:StartQuery",
}


def escalations(policies: Sequence[dict], tried: Sequence[Attempt], *, readonly_role: bool = False) -> list[str]:
    """Every attempt the policies let through (or refuse without the explicit Deny it must meet)."""
    found = []
    decide_for = decider(policies)
    for attempt in tried:
        decided = decide_for(attempt.action, attempt.resource, attempt.context)
        must_be = attempt.must_be
        if readonly_role:
            must_be = DENIED if attempt.action in READONLY_DENIES else REFUSED
        if decided is Decision.ALLOWED or (must_be == DENIED and decided is not Decision.DENIED):
            found.append(f"{attempt.name}: {attempt.action} on {attempt.resource} is {decided.value}")
    return found


def settings_under_test() -> dict[str, Settings]:
    found = {stack: stack_settings(stack) for stack in STACKS}
    found["every feature"] = every_feature().settings
    found["every feature, adopted listener"] = every_feature_adopting_settings()
    return found


# --------------------------------------------------------------------------- #
# No path is open
# --------------------------------------------------------------------------- #


@each_stack
def test_no_escalation_path_is_open_to_the_deploy_role(stack):
    settings = stack_settings(stack)
    assert escalations(deployer(settings), attempts(settings)) == []


@pytest.mark.parametrize("which", ["every feature", "every feature, adopted listener"])
def test_no_escalation_path_is_open_with_every_feature_on(which):
    settings = settings_under_test()[which]
    assert escalations(deployer(settings), attempts(settings)) == []


@pytest.mark.parametrize("which", [*STACKS, "every feature", "every feature, adopted listener"])
def test_no_escalation_path_is_open_to_the_read_only_role(which):
    settings = settings_under_test()[which]
    assert escalations(readonly(settings), attempts(settings), readonly_role=True) == []


@each_stack
def test_what_the_pipeline_needs_beside_those_paths_is_allowed(stack):
    """The same requests, done the stack's way, go through: these are the neighbours of the paths."""
    settings, at = stack_settings(stack), where(stack_settings(stack))
    policies = deployer(settings)
    first = settings.services[0]
    task_role = at.iam(f"role/{first.name}-task")
    boundary = {"iam:PermissionsBoundary": settings.task_role_boundary_arn}
    allowed = [
        ("iam:CreateRole", task_role, boundary),
        ("iam:PutRolePolicy", task_role, boundary),
        ("iam:PassRole", task_role, ECS_TASKS),
        ("ecs:RegisterTaskDefinition", at.arn("ecs", f"task-definition/{first.name}:7"), {}),
        ("ecs:UpdateService", at.arn("ecs", f"service/{settings.cluster_name}/{first.name}"), {}),
    ]
    listener = settings.load_balancer.listener_arn
    if listener:
        allowed.append(("elasticloadbalancing:CreateRule", listener, {}))
    for action, resource, context in allowed:
        assert decision(policies, action, resource, context) is Decision.ALLOWED, action


# --------------------------------------------------------------------------- #
# Each guard, taken out or weakened, opens its path
# --------------------------------------------------------------------------- #


def drop_condition(statement: dict) -> None:
    statement.pop("Condition")


def widen_resource(statement: dict) -> None:
    statement["Resource"] = "*"


def only(action: str) -> Callable[[dict], None]:
    def narrowed(statement: dict) -> None:
        statement["Action"] = action

    narrowed.__name__ = f"narrowed_to_{action.split(':')[1]}"
    return narrowed


# (which settings, statement Sid, how it is weakened (None: removed), the path that then opens)
GUARDS: list[tuple[str, str, Callable[[dict], None] | None, str]] = [
    (
        "every feature",
        "NeverCreateOrReboundARoleWithoutTheTaskRoleBoundary",
        None,
        "create a stack role without the boundary",
    ),
    (
        "every feature",
        "NeverCreateOrReboundARoleWithoutTheTaskRoleBoundary",
        only("iam:CreateRole"),
        "swap a stack role's boundary",
    ),
    ("every feature", "NeverRemoveATaskRoleBoundary", None, "remove a stack role's boundary"),
    ("every feature", "NeverRemoveATaskRoleBoundary", only("iam:DeleteRole"), "remove a stack role's boundary"),
    ("every feature", "NeverEditTheBoundaryOrItsOwnPolicies", None, "edit the boundary"),
    ("every feature", "NeverEditTheBoundaryOrItsOwnPolicies", only("iam:DeletePolicy"), "edit the boundary"),
    ("every feature", "NeverChangeATrustPolicy", None, "make another account trust a stack role"),
    ("every feature", "NeverChangeATrustPolicy", only("iam:UpdateRole"), "make another account trust a stack role"),
    ("every feature", "NeverAssumeTheStacksRoles", None, "assume a stack role"),
    ("every feature", "NeverReadSecretValues", None, "read every secret at once"),
    ("every feature", "NeverReadSecretValues", only("secretsmanager:GetSecretValue"), "read every secret at once"),
    ("every feature", "NeverReadLogEventsTasksMayHaveWrittenSecretsIn", None, "search the task logs"),
    (
        "every feature",
        "NeverReadLogEventsTasksMayHaveWrittenSecretsIn",
        only("logs:GetLogEvents"),
        "search the task logs",
    ),
    (
        "every feature",
        "WriteInlinePoliciesOnlyIntoRolesUnderTheBoundary",
        drop_condition,
        "write an inline policy into a stack role without the boundary",
    ),
    (
        "every feature",
        "WriteInlinePoliciesOnlyIntoRolesUnderTheBoundary",
        widen_resource,
        "write an inline policy into a role outside the stack",
    ),
    (
        "every feature",
        "AttachOnlyTheManagedPoliciesTheStackFileLists",
        drop_condition,
        "attach AdministratorAccess to a stack role",
    ),
    (
        "every feature",
        "AttachOnlyTheManagedPoliciesTheStackFileLists",
        widen_resource,
        "attach a listed policy to an execution role",
    ),
    ("every feature", "PassOnlyTheStacksRolesOnlyToEcsTasks", drop_condition, "pass a stack role to another service"),
    (
        "every feature",
        "PassOnlyTheStacksRolesOnlyToEcsTasks",
        widen_resource,
        "register a task definition that runs under a role outside the stack (iam:PassRole)",
    ),
    ("every feature", "TheStacksOwnSecurityGroups", drop_condition, "admit a group into another stack's group"),
    ("every feature", "TagGroupsAndRulesOnlyAsItCreatesThem", drop_condition, "claim a group by tagging it"),
    (
        "every feature",
        "TheStacksOwnSecurityGroupRules",
        drop_condition,
        "change another stack's rule on a shared group",
    ),
    ("every feature", "CreateSecurityGroupsOnlyInTheStacksVpc", widen_resource, "create a group in another VPC"),
    ("every feature", "CreateSecurityGroupsOnlyTaggedForTheStack", drop_condition, "create an untagged group"),
    (
        "every feature",
        "AdmitTheStacksServicesOnTheDependencyGroupsTheStackFileNames",
        widen_resource,
        "admit a group into an untagged group",
    ),
    ("every feature", "TheStacksNamespace", drop_condition, "delete another stack's namespace"),
    ("every feature", "CloudMapTagsOnlyForTheStack", drop_condition, "move another stack's namespace into this one"),
    ("every feature", "TheStacksDiscoveryServices", drop_condition, "delete another stack's discovery service"),
    ("every feature", "ScalingOfTheStacksTargets", drop_condition, "deregister another stack's scalable target"),
    (
        "every feature",
        "AlarmsOfTheStacksServices",
        drop_condition,
        "delete the alarm of a stack named like this one and more",
    ),
    ("every feature", "EcsServicesOfTheStackAndTheirDeployments", widen_resource, "update another stack's service"),
    (
        "every feature",
        "TheSecretsKeyOnlyThroughSecretsManager",
        drop_condition,
        "decrypt with the secrets key directly",
    ),
    ("every feature", "WriteTheStacksStateHistoryAndBackups", widen_resource, "overwrite another stack's state"),
    (
        "every feature, adopted listener",
        "NeverChangeTheAdoptedLoadBalancerOrListener",
        None,
        "change the shared listener",
    ),
    (
        "every feature, adopted listener",
        "NeverChangeTheAdoptedLoadBalancerOrListener",
        only("elasticloadbalancing:DeleteListener"),
        "delete the shared load balancer",
    ),
    (
        "every feature, adopted listener",
        "ChangeOnlyTheStacksOwnRulesOnIt",
        drop_condition,
        "change another stack's rule on the listener",
    ),
    (
        "every feature, adopted listener",
        "TagRulesAsItCreatesThem",
        drop_condition,
        "claim a rule on the listener by tagging it",
    ),
    (
        "every feature, adopted listener",
        "AddRulesToTheStacksListener",
        widen_resource,
        "add a rule to another listener",
    ),
]


@pytest.mark.parametrize(
    "which, sid, change, opens",
    GUARDS,
    ids=[f"{sid}-{'removed' if change is None else change.__name__}" for _, sid, change, _ in GUARDS],
)
def test_each_guard_removed_or_weakened_opens_its_path(which, sid, change, opens):
    settings = settings_under_test()[which]
    tried = attempts(settings)
    assert escalations(deployer(settings), tried) == []
    opened = escalations(changed(deployer(settings), sid, change), tried)
    assert any(found.startswith(f"{opens}:") for found in opened), opened


def test_every_deny_and_every_conditioned_allow_is_a_guard_some_test_takes_out():
    """A new Deny or condition in the deployer policy needs its path here."""
    settings = settings_under_test()["every feature, adopted listener"]
    policies = deployer(settings) + deployer(settings_under_test()["every feature"])
    guarded = {
        s["Sid"]
        for p in policies
        for s in p["Statement"]
        if (s["Effect"] == "Deny" or "Condition" in s) and s["Sid"] not in NOT_GUARDS
    }
    assert guarded - {g[1] for g in GUARDS} == set()


# Conditions that narrow what is already scoped by name, or that only name the service a role is for:
# no escalation path of their own.
NOT_GUARDS = {
    "CreateOnlyTheServiceLinkedRolesEcsElbAndScalingNeed": "the three roles are named; the condition repeats them",
    "CreateTheStacksRolesOnlyWithTheTaskRoleBoundary": "the Deny NeverCreateOrRebound... refuses the same, explicitly",
    "DecryptTheStacksDataKeyWithTheSecretsProvidersKey": "the state key by alias; another key only decrypts another stack's data key, whose state it cannot read",
    "CreateOnlyANamespaceTaggedForTheStack": "creating an untagged namespace harms nothing it could not delete",
    "CreateOnlyServicesTaggedForTheStack": "as the namespace: a new service in a namespace of the stack",
    "RegisterOnlyTheStacksEcsServices": "registering also needs ecs:UpdateService on the service: the stack's only",
    "ScalableTargetTags": "IfExists: an untagged target can be tagged (README: the residual risk)",
}
