"""The read-only role's policies (core/pipeline_policies/readonly.py, docs/policies/hokusai-<stack>-readonly-*.json):
everything `pulumi preview` looks up and `pulumi refresh` reads back for every resource type of
every stack, and the stack's state; never a write, a secret value or a log event.

The drift workflow's role also runs `make verify` (without LOGS=1): with docs/verify-policy.json
attached beside these, verify's reads are allowed and its log reads still denied.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.iam_policy import Decision
from core.pipeline_policies import policies_for
from core.pipeline_policies.statements import MANAGED_POLICIES_PER_ROLE, MANAGED_POLICY_LIMIT, size
from core.settings import Settings
from tests.helpers import STACKS, each_stack, stack_settings
from tests.iam_needs import (
    ARNS,
    DATA_SOURCES,
    PHASES,
    REQUIREMENTS,
    STATE_LOCK,
    STATE_READ,
    STATE_WRITE,
    UNSCOPED,
    VERIFY,
    VERIFY_LOGS,
    allowed_actions,
    changed,
    decision,
    estate_arns,
    every_feature,
    listed,
    lookup_problems,
    missing,
    shortfalls,
    stack_rendered,
    state_arns,
    statements,
    unscoped_actions,
    where,
)

VERIFY_POLICY = json.loads((Path(__file__).resolve().parents[1] / "docs" / "verify-policy.json").read_text())
READS = ("Describe", "List", "Get")


def readonly(settings: Settings) -> list[dict]:
    return [policy.document for policy in policies_for(settings, "readonly")]


def policy_sets() -> dict[str, tuple[Settings, list[dict]]]:
    sets = {stack: (stack_settings(stack), readonly(stack_settings(stack))) for stack in STACKS}
    sets["every feature"] = (every_feature().settings, readonly(every_feature().settings))
    return sets


@pytest.mark.parametrize("which", [*STACKS, "every feature"])
def test_each_policy_is_well_formed_and_within_the_managed_policy_limit(which):
    _, policies = policy_sets()[which]
    assert 1 <= len(policies) <= MANAGED_POLICIES_PER_ROLE - 1, "leave room for docs/verify-policy.json"
    sids = [s["Sid"] for s in statements(policies)]
    assert len(set(sids)) == len(sids)
    for policy in policies:
        assert size(policy) <= MANAGED_POLICY_LIMIT
        for statement in policy["Statement"]:
            assert not {"NotAction", "NotResource", "NotPrincipal", "Principal"} & set(statement), statement["Sid"]


@each_stack
def test_every_refresh_read_of_every_resource_of_the_stack_is_allowed(stack):
    assert missing(readonly(stack_settings(stack)), stack_rendered(stack).graph, phases=("read",)) == []


def test_every_refresh_read_of_every_resource_the_program_can_create_is_allowed():
    feature = every_feature()
    assert missing(readonly(feature.settings), feature.graph, phases=("read",)) == []


@each_stack
def test_every_lookup_at_preview_is_allowed(stack):
    found = stack_rendered(stack)
    creates = found.settings.load_balancer.creates_load_balancer
    assert lookup_problems(readonly(found.settings), found.graph, found.run, creates) == []


@each_stack
def test_it_reads_the_stacks_state_and_holds_its_lock_but_writes_no_state(stack):
    at, policies = where(stack_settings(stack)), readonly(stack_settings(stack))
    arns = state_arns(stack, at)
    assert shortfalls(policies, "state", [*STATE_READ, *STATE_LOCK], arns) == []
    for need in STATE_WRITE:
        if need.action == "s3:PutObject":
            assert decision(policies, need.action, arns[need.on], {}) is Decision.NOT_ALLOWED, need.on
    other = state_arns(f"{stack}-other", at)
    assert decision(policies, "s3:GetObject", other["checkpoint"], {}) is Decision.NOT_ALLOWED


@pytest.mark.parametrize("which", [*STACKS, "every feature"])
def test_it_writes_nothing_but_its_lock(which):
    settings, policies = policy_sets()[which]
    lock = state_arns(settings.environment, where(settings))["lock"]
    for statement in statements(policies, "Allow"):
        for action in listed(statement["Action"]):
            operation = action.split(":")[1]
            if operation.startswith(READS) or action == "kms:Decrypt":
                continue
            assert action in ("s3:PutObject", "s3:DeleteObject"), f"{statement['Sid']}: {action} is not a read"
            assert listed(statement["Resource"]) == [lock.rsplit("/", 1)[0] + "/*"], statement["Sid"]


@pytest.mark.parametrize("which", [*STACKS, "every feature"])
def test_no_call_that_creates_changes_or_deletes_a_resource_is_allowed(which):
    """Every create, update and delete call of every resource, but those that are reads, is refused."""
    found = every_feature() if which == "every feature" else stack_rendered(which)
    policies = readonly(found.settings)
    allowed = []
    for row in found.graph.rows:
        arns = ARNS[row.type](row.inputs, found.graph.at) if row.type in ARNS else {}
        for phase in ("create", "update", "delete"):
            for need in REQUIREMENTS[row.type][phase]:
                if need.action.split(":")[1].startswith(READS) or (need.on != "*" and need.on not in arns):
                    continue
                resource = "*" if need.on == "*" else arns[need.on]
                if decision(policies, need.action, resource, {}) is Decision.ALLOWED:
                    allowed.append(f"{row.type} {phase}: {need.action} on {resource}")
    assert allowed == []


@each_stack
def test_it_never_reads_a_secret_value_nor_a_log_event(stack):
    found = stack_rendered(stack)
    policies = readonly(found.settings)
    for service in found.run.outputs["services"]:
        arns = estate_arns(found.run.outputs, service, found.graph.at)
        for secret in service["secret_arns"].values():
            assert decision(policies, "secretsmanager:GetSecretValue", secret, {}) is Decision.DENIED
        for need in VERIFY_LOGS:
            assert decision(policies, need.action, arns[need.on], {}) is Decision.DENIED
            assert decision(policies, "logs:GetLogEvents", arns[need.on], {}) is Decision.DENIED


@each_stack
def test_with_the_verify_policy_beside_it_verify_runs_and_its_log_reads_stay_denied(stack):
    """The drift workflow's `make verify` with the read-only role: docs/verify-policy.json attached too."""
    found = stack_rendered(stack)
    drift_role = [*readonly(found.settings), VERIFY_POLICY]
    problems = []
    for service in found.run.outputs["services"]:
        arns = estate_arns(found.run.outputs, service, found.graph.at)
        problems += shortfalls(drift_role, f"verify {service['service_name']}", VERIFY, arns)
        for need in VERIFY_LOGS:
            assert decision(drift_role, need.action, arns[need.on], {}) is Decision.DENIED
            # ... which the verify policy alone (a person's `make verify LOGS=1`) allows.
            assert decision([VERIFY_POLICY], need.action, arns[need.on], {}) is Decision.ALLOWED
    assert problems == []


def test_removing_or_weakening_the_log_deny_lets_the_verify_policy_read_logs():
    found = stack_rendered(STACKS[0])
    service = found.run.outputs["services"][0]
    group = estate_arns(found.run.outputs, service, found.graph.at)["log_group_streams"]
    sid = "NeverReadLogEventsTasksMayHaveWrittenSecretsIn"
    removed = changed(readonly(found.settings), sid, None)
    weakened = changed(readonly(found.settings), sid, lambda s: s.update(Action="logs:GetLogEvents"))
    for policies in (removed, weakened):
        assert decision([*policies, VERIFY_POLICY], "logs:FilterLogEvents", group, {}) is Decision.ALLOWED


@pytest.mark.parametrize("which", [*STACKS, "every feature"])
def test_every_allowed_action_is_needed_and_every_unscoped_one_justified(which):
    _, policies = policy_sets()[which]
    needed = {n.action for phases in REQUIREMENTS.values() for n in phases["read"]}
    needed |= {n.action for needs in DATA_SOURCES.values() for n in needs} | {n.action for n in STATE_READ + STATE_LOCK}
    assert allowed_actions(policies) - needed == set(), "a permission nothing reads with: remove it"
    assert unscoped_actions(policies) - set(UNSCOPED) == set()


def test_the_phases_the_checker_knows_are_the_tables():
    assert all(set(phases) == set(PHASES) for phases in REQUIREMENTS.values())
