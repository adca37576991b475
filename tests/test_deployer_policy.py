"""The deploy role's policies (core/pipeline_policies/deployer.py, docs/policies/hokusai-<stack>-deployer-*.json):
everything `pulumi preview`, `up` and `refresh` need for every resource of every stack (and of the
program with every feature on), the deploy gate and `make verify`; and nothing else.

What each resource type needs is tests/iam_needs.py, written apart from the generator; the
escalation paths are tried in tests/test_escalation_paths.py.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from core import documents, naming
from core.iam_policy import Decision
from core.pipeline_policies import policies_for
from core.pipeline_policies.statements import MANAGED_POLICIES_PER_ROLE, MANAGED_POLICY_LIMIT, size
from core.settings import Settings
from tests.helpers import INCIDENT_SERVICE, STACKS, each_service, each_stack, stack_settings
from tests.iam_needs import (
    ARNS,
    BLOCKED,
    DATA_SOURCES,
    ECS_TASKS,
    PERMISSION_ONLY,
    REQUIREMENTS,
    STATE_LOCK,
    STATE_READ,
    STATE_WRITE,
    UNSCOPED,
    UNSCOPED_REFERENCE,
    VERIFY,
    VERIFY_LOGS,
    Where,
    allowed_actions,
    changed,
    decision,
    estate_arns,
    every_feature,
    listed,
    lookup_problems,
    missing,
    shortfalls,
    slr_for,
    stack_rendered,
    state_arns,
    statements,
    unscoped_actions,
    where,
)

VERIFY_POLICY = json.loads((Path(__file__).resolve().parents[1] / "docs" / "verify-policy.json").read_text())
EXAMPLE = "development" if "development" in STACKS else STACKS[0]


def deployer(settings: Settings) -> list[dict]:
    return [policy.document for policy in policies_for(settings, "deployer")]


def every_feature_deployer() -> list[dict]:
    return deployer(every_feature().settings)


def all_policy_sets() -> list[tuple[str, list[dict]]]:
    return [
        *((stack, deployer(stack_settings(stack))) for stack in STACKS),
        ("every feature", every_feature_deployer()),
    ]


# --------------------------------------------------------------------------- #
# Well-formed, within IAM's limits
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("which", [*STACKS, "every feature"])
def test_each_policy_is_plain_well_formed_and_within_the_managed_policy_limit(which):
    policies = dict(all_policy_sets())[which]
    assert 1 <= len(policies) <= MANAGED_POLICIES_PER_ROLE, f"{len(policies)} managed policies for one role"
    sids = [s.get("Sid") for s in statements(policies)]
    assert all(sids) and len(set(sids)) == len(sids), "every statement needs its own Sid saying why"
    for policy in policies:
        assert policy["Version"] == "2012-10-17"
        assert size(policy) <= MANAGED_POLICY_LIMIT, f"{size(policy)} characters: over a managed policy's limit"
        for statement in policy["Statement"]:
            assert statement["Effect"] in ("Allow", "Deny")
            assert {"Action", "Resource"} <= set(statement), statement["Sid"]
            assert not {"NotAction", "NotResource", "NotPrincipal", "Principal"} & set(statement), statement["Sid"]


def test_the_size_check_notices_a_policy_over_the_limit():
    (first, *_) = every_feature_deployer()
    padded = json.loads(json.dumps(first))
    padded["Statement"][-1]["Resource"] = listed(padded["Statement"][-1]["Resource"]) + ["x" * MANAGED_POLICY_LIMIT]
    assert size(padded) > MANAGED_POLICY_LIMIT


# --------------------------------------------------------------------------- #
# Every resource type, lookup and call the pipeline makes is allowed
# --------------------------------------------------------------------------- #


@each_stack
def test_every_resource_type_in_the_rendered_stack_says_what_it_needs(stack):
    types = {r.type for r in stack_rendered(stack).graph.rows}
    unmapped = types - set(REQUIREMENTS)
    assert not unmapped, f"add these types to tests/iam_needs.py REQUIREMENTS (and the policies): {sorted(unmapped)}"


def test_every_resource_type_and_lookup_the_program_can_make_says_what_it_needs():
    feature = every_feature()
    types = {r.type for r in feature.graph.rows}
    assert {
        "aws:lb/loadBalancer:LoadBalancer",
        "aws:secretsmanager/secretVersion:SecretVersion",
        "aws:sns/topicSubscription:TopicSubscription",
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    } <= types, "the render lost an optional feature"
    assert types - set(REQUIREMENTS) == set()
    lookups = {
        token for run_ in (feature.run, *(stack_rendered(s).run for s in STACKS)) for token, _ in run_.mocks.calls
    }
    assert lookups - set(DATA_SOURCES) == set(), "add the data source to DATA_SOURCES (and the policies)"


@each_stack
def test_the_policy_allows_what_every_resource_of_the_stack_needs(stack):
    assert missing(deployer(stack_settings(stack)), stack_rendered(stack).graph) == []


def test_the_policy_allows_what_every_resource_the_program_can_create_needs():
    feature = every_feature()
    problems = missing(deployer(feature.settings), feature.graph)
    # Only what is refused on purpose (BLOCKED) is missing: nothing else.
    assert problems == []


@each_stack
def test_the_policy_allows_the_lookups_at_preview(stack):
    found = stack_rendered(stack)
    creates = found.settings.load_balancer.creates_load_balancer
    assert lookup_problems(deployer(found.settings), found.graph, found.run, creates) == []


@each_stack
def test_the_policy_allows_the_deploy_gate_and_verify_without_logs_on_every_service(stack):
    found = stack_rendered(stack)
    estate, policies = found.run.outputs, deployer(found.settings)
    gate = REQUIREMENTS["pulumi-python:dynamic:Resource"]["update"]
    problems = []
    for service in estate["services"]:
        arns = estate_arns(estate, service, found.graph.at)
        problems += shortfalls(policies, f"verify {service['service_name']}", VERIFY, arns)
        problems += shortfalls(policies, f"deploy gate {service['service_name']}", gate, arns)
        for secret in service["secret_arns"].values():
            problems += shortfalls(policies, "verify", [VERIFY[4]], {"secret": secret})
        # LOGS=1 reads log events: never with this role (a task may have logged a secret).
        for need in VERIFY_LOGS:
            assert decision(policies, need.action, arns[need.on], {}) is Decision.DENIED
    assert problems == []


def test_verify_needs_are_exactly_what_the_verify_policy_grants():
    granted = {a for s in VERIFY_POLICY["Statement"] if s["Effect"] == "Allow" for a in listed(s["Action"])}
    assert granted == {n.action for n in [*VERIFY, *VERIFY_LOGS]}, "verify makes a call VERIFY does not list"


@each_stack
def test_the_policy_reads_and_writes_the_stacks_state_and_no_other_stacks(stack):
    at = where(stack_settings(stack))
    policies = deployer(stack_settings(stack))
    assert shortfalls(policies, "state", [*STATE_READ, *STATE_LOCK, *STATE_WRITE], state_arns(stack, at)) == []
    other = state_arns(f"{stack}-other", at)
    for key in ("checkpoint", "history", "lock"):
        for action in ("s3:GetObject", "s3:PutObject"):
            assert decision(policies, action, other[key], {}) is not Decision.ALLOWED, (action, key)
    # The secrets provider's key only by its alias: not every key of the account.
    assert decision(policies, "kms:Decrypt", other["state_key"], {"kms:ResourceAliases": ["alias/other"]}) is not (
        Decision.ALLOWED
    )


# --------------------------------------------------------------------------- #
# What it is refused on purpose
# --------------------------------------------------------------------------- #


@each_stack
def test_the_policy_never_allows_reading_a_secret_value(stack):
    policies = deployer(stack_settings(stack))
    secrets = [a for service in stack_rendered(stack).run.outputs["services"] for a in service["secret_arns"].values()]
    at = where(stack_settings(stack))
    assert secrets
    for secret in [*secrets, at.arn("secretsmanager", "secret:prod/anything-AbCdEf"), "*"]:
        for action in ("secretsmanager:GetSecretValue", "secretsmanager:BatchGetSecretValue"):
            assert decision(policies, action, secret, {}) is Decision.DENIED
    # ... while it may describe them.
    assert decision(policies, "secretsmanager:DescribeSecret", secrets[0], {}) is Decision.ALLOWED


def test_what_is_blocked_is_denied_and_no_stack_declares_a_secret_version():
    feature = every_feature()
    policies = deployer(feature.settings)
    for type_, blocked in BLOCKED.items():
        for row in [r for r in feature.graph.rows if r.type == type_]:
            arns = ARNS[type_](row.inputs, feature.graph.at)
            for item in blocked:
                assert decision(policies, item.need.action, arns[item.need.on], {}) is Decision.DENIED, item.why
    version = "aws:secretsmanager/secretVersion:SecretVersion"
    declared = [(stack, r.name) for stack in STACKS for r in stack_rendered(stack).graph.rows if r.type == version]
    assert declared == [], (
        f"a stack declares {declared} (a secret with value_from): the provider reads it back with "
        "secretsmanager:GetSecretValue, which the deploy role is denied. Put the value out of band "
        "(aws secretsmanager put-secret-value) or decide to grant GetSecretValue on that one secret."
    )


@pytest.mark.parametrize("which", [*STACKS, "every feature"])
def test_trust_policies_never_change_so_the_role_needs_no_update_assume_role_policy(which):
    """The trust policy is a function of the stack's account and region alone: the provider never
    calls iam:UpdateAssumeRolePolicy, which the deploy role is denied (IAM cannot limit its content)."""
    found = every_feature() if which == "every feature" else stack_rendered(which)
    expected = documents.ecs_tasks_trust_policy(found.settings.account_id, found.settings.region)
    roles = [r for r in found.graph.rows if r.type == "aws:iam/role:Role"]
    assert roles and all(json.loads(r.inputs["assumeRolePolicy"]) == expected for r in roles)
    for role in roles:
        role_arn = found.graph.at.iam(f"role/{role.inputs['name']}")
        assert decision(deployer(found.settings), "iam:UpdateAssumeRolePolicy", role_arn, {}) is Decision.DENIED


def test_task_definitions_are_never_deregistered():
    """REQUIREMENTS gives task definitions no delete action because of skip_destroy."""
    for found in (*map(stack_rendered, STACKS), every_feature()):
        definitions = [r for r in found.graph.rows if r.type == "aws:ecs/taskDefinition:TaskDefinition"]
        assert definitions and all(r.inputs.get("skipDestroy") is True for r in definitions)


@each_service
def test_roles_are_passed_only_to_ecs_tasks_and_only_the_stacks_roles(stack, service):
    at, policies = where(stack_settings(stack)), deployer(stack_settings(stack))
    for kind in ("task", "execution"):
        role = at.iam(f"role/{naming.service_name(service, stack)}-{kind}")
        assert decision(policies, "iam:PassRole", role, ECS_TASKS) is Decision.ALLOWED
        lambda_ = {"iam:PassedToService": "lambda.amazonaws.com"}
        assert decision(policies, "iam:PassRole", role, lambda_) is Decision.NOT_ALLOWED
        assert decision(policies, "iam:PassRole", role, {}) is Decision.NOT_ALLOWED  # no context: the condition fails
    assert decision(policies, "iam:PassRole", at.iam("role/admin"), ECS_TASKS) is Decision.NOT_ALLOWED


@each_stack
def test_only_the_three_service_linked_roles_can_be_created(stack):
    at, policies = where(stack_settings(stack)), deployer(stack_settings(stack))
    for service in (
        "ecs.amazonaws.com",
        "ecs.application-autoscaling.amazonaws.com",
        "elasticloadbalancing.amazonaws.com",
    ):
        assert decision(policies, "iam:CreateServiceLinkedRole", at.slr(service), slr_for(service)) is Decision.ALLOWED
    rds = at.iam("role/aws-service-role/rds.amazonaws.com/AWSServiceRoleForRDS")
    assert decision(policies, "iam:CreateServiceLinkedRole", rds, slr_for("rds.amazonaws.com")) is Decision.NOT_ALLOWED


# --------------------------------------------------------------------------- #
# Nothing more than needed, every `*` justified
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("which", [*STACKS, "every feature"])
def test_no_allow_statement_grants_a_whole_service_or_everything(which):
    for statement in statements(dict(all_policy_sets())[which], "Allow"):
        for action in listed(statement["Action"]):
            assert "*" not in action and "?" not in action, f"{statement['Sid']}: name the actions, not {action}"


@pytest.mark.parametrize("which", [*STACKS, "every feature"])
def test_every_action_granted_on_any_resource_is_one_that_cannot_be_scoped(which):
    unscoped = unscoped_actions(dict(all_policy_sets())[which])
    assert unscoped - set(UNSCOPED) == set(), f"scope these by name, or justify them in UNSCOPED ({UNSCOPED_REFERENCE})"


def test_every_action_unscoped_lists_is_granted_on_any_resource_by_some_policy():
    granted = set()
    for settings in (*map(stack_settings, STACKS), every_feature().settings):
        granted |= unscoped_actions(
            [p.document for role in ("deployer", "readonly") for p in policies_for(settings, role)]
        )
    assert set(UNSCOPED) - granted == set(), "UNSCOPED lists actions no policy grants on * any more"


def test_every_allowed_action_is_needed_by_something():
    needed = {n.action for phases in REQUIREMENTS.values() for needs in phases.values() for n in needs}
    needed |= {n.action for needs in DATA_SOURCES.values() for n in needs}
    needed |= {n.action for n in [*VERIFY, *STATE_READ, *STATE_LOCK, *STATE_WRITE]}
    assert allowed_actions(every_feature_deployer()) - needed == set(), (
        "a permission nothing needs: remove it, or map what needs it in tests/iam_needs.py"
    )


def test_every_action_named_is_a_real_operation():
    """Catches a misspelt action, which IAM accepts silently and never matches (Deny ones too)."""
    import botocore.session

    session = botocore.session.get_session()
    botocore_name = {"elasticloadbalancing": "elbv2"}
    actions = {a for s in statements(every_feature_deployer()) for a in listed(s["Action"])}
    unknown = []
    for action in sorted(actions - set(PERMISSION_ONLY)):
        prefix, operation = action.split(":")
        if operation not in session.get_service_model(botocore_name.get(prefix, prefix)).operation_names:
            unknown.append(action)
    assert unknown == []


# --------------------------------------------------------------------------- #
# The checker itself notices a missing or mis-scoped statement
# --------------------------------------------------------------------------- #

_SVC, _NAME = INCIDENT_SERVICE, naming.service_name(INCIDENT_SERVICE, EXAMPLE)


def _example_at() -> Where:
    return where(stack_settings(EXAMPLE))


@pytest.mark.parametrize(
    "sid, expected",
    [
        (
            "EcsServicesOfTheStackAndTheirDeployments",
            lambda at: (
                f"aws:ecs/service:Service {_SVC}-service (create): ecs:CreateService on "
                f"{at.arn('ecs', f'service/{naming.cluster_name(EXAMPLE)}/{_NAME}')} is not allowed"
            ),
        ),
        (
            "PassOnlyTheStacksRolesOnlyToEcsTasks",
            lambda at: (
                f"aws:ecs/taskDefinition:TaskDefinition {_SVC}-task (create): iam:PassRole on "
                f"{at.iam(f'role/{_NAME}-execution')} is not allowed"
            ),
        ),
        (
            "LogGroupLookupWithoutResourceLevelPermissions",
            lambda at: (
                f"aws:cloudwatch/logGroup:LogGroup {_SVC}-observability-logs (read): "
                "logs:DescribeLogGroups on * is not allowed"
            ),
        ),
        (
            "CreateTheStacksRolesOnlyWithTheTaskRoleBoundary",
            lambda at: (
                f"aws:iam/role:Role {_SVC}-roles-task (create): iam:CreateRole on "
                f"{at.iam(f'role/{_NAME}-task')} is not allowed"
            ),
        ),
    ],
)
def test_the_checker_reports_what_a_missing_statement_took_away(sid, expected):
    policies = changed(deployer(stack_settings(EXAMPLE)), sid, None)
    assert expected(_example_at()) in missing(policies, stack_rendered(EXAMPLE).graph)


def test_the_checker_notices_a_resource_scoped_to_the_wrong_names():
    def elsewhere(statement):
        statement["Resource"] = statement["Resource"].replace(naming.cluster_name(EXAMPLE), "other")

    policies = changed(deployer(stack_settings(EXAMPLE)), "EcsClusterOfTheStack", elsewhere)
    cluster_arn = _example_at().arn("ecs", f"cluster/{naming.cluster_name(EXAMPLE)}")
    assert any(f"ecs:CreateCluster on {cluster_arn}" in p for p in missing(policies, stack_rendered(EXAMPLE).graph))


def test_the_checker_notices_a_program_that_forgets_a_roles_boundary():
    """The boundary is in CreateRole's request context only because the program sets it."""
    found = stack_rendered(EXAMPLE)
    rows = tuple(
        replace(r, inputs={k: v for k, v in r.inputs.items() if k != "permissionsBoundary"})
        if r.type == "aws:iam/role:Role"
        else r
        for r in found.graph.rows
    )
    graph = replace(found.graph, rows=rows)
    problems = missing(deployer(found.settings), graph)
    assert any("iam:CreateRole" in p and p.endswith("is denied") for p in problems)


def test_the_checker_notices_a_program_that_forgets_a_groups_tags():
    found = stack_rendered(EXAMPLE)
    rows = tuple(
        replace(r, inputs={k: v for k, v in r.inputs.items() if k != "tags"})
        if r.type == "aws:ec2/securityGroup:SecurityGroup"
        else r
        for r in found.graph.rows
    )
    graph = replace(found.graph, rows=rows, by_id={r.id: r for r in rows if r.id})
    problems = missing(deployer(found.settings), graph)
    assert any("ec2:CreateSecurityGroup on" in p and "security-group/" in p for p in problems)
    assert any("ec2:AuthorizeSecurityGroupIngress" in p for p in problems)
