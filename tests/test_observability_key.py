"""observability_kms_key_arn: the optional customer-managed key of the log groups and the alarm topic.

GIVEN each stack file, with the key set (in the stack's own account and region)
THEN every log group carries it as kmsKeyId, every SNS topic as kmsMasterKeyId, the estate output
     declares it, and no invariant objects;
GIVEN each stack file as configured THEN what carries a key carries the stack's own (none when it
     sets none, and then the estate output does not mention one: the render is as before);
GIVEN a key of another account or region, an alias, or another kind of ARN THEN the settings refuse
     it, naming the key, what is wrong and the fix;
WHEN a rendered stack with the key has a log group or the topic without it, or with another key
THEN the logs-and-alarm-topic-use-the-declared-key invariant reports that resource.
"""

from __future__ import annotations

import copy

import pytest

from core.estate import Estate
from core.invariants import logs_and_alarm_topic_use_the_declared_key
from core.resource_graph import LOG_GROUP, SNS_TOPIC, Graph
from core.settings import SettingsError
from synth.checks import check_graph, records_of
from synth.program import Run
from tests import tiers
from tests.helpers import changes_config, each_stack, load, rendered, run_as, stack_secret_keys, stack_values

SETTING = "hokusai:observability_kms_key_arn"
KEY_ID = "1b2c3d4e-5f60-4718-9293-a4b5c6d7e8f9"
ATTRIBUTE = {LOG_GROUP: "kmsKeyId", SNS_TOPIC: "kmsMasterKeyId"}


def key_of(stack: str, *, region: str | None = None, account: str | None = None, resource: str = f"key/{KEY_ID}"):
    """A KMS ARN in the stack's own region and account, unless told otherwise."""
    values = stack_values(stack)
    region, account = region or values["aws:region"], account or values["hokusai:account_id"]
    return f"arn:aws:kms:{region}:{account}:{resource}"


def with_key(stack: str, key: str) -> dict:
    values = stack_values(stack)
    values[SETTING] = key
    return values


@tiers.shared
def rendered_with_key(stack: str) -> Run:
    return run_as(stack, with_key(stack, key_of(stack)))


def encrypted(run) -> list:
    """The resources the key is for: every log group and every SNS topic."""
    return [r for r in run.resources if r.type in ATTRIBUTE]


def findings(resources, estate) -> list:
    return logs_and_alarm_topic_use_the_declared_key(Graph(records_of(resources, estate)))


# --------------------------------------------------------------------------- #
# Rendered
# --------------------------------------------------------------------------- #


@changes_config
@each_stack
def test_with_the_key_every_log_group_and_the_alarm_topic_use_it(stack):
    run = rendered_with_key(stack)
    resources = encrypted(run)
    assert {r.type for r in resources} == set(ATTRIBUTE), "a stack renders log groups and an alarm topic"
    assert {r.name: r.inputs.get(ATTRIBUTE[r.type]) for r in resources} == dict.fromkeys(
        (r.name for r in resources), key_of(stack)
    )
    assert Estate.from_outputs(run.outputs).observability_kms_key_arn == key_of(stack)
    assert check_graph(run.resources, run.outputs) == []


@each_stack
def test_as_configured_what_carries_a_key_carries_the_stacks_own(stack):
    run = rendered(stack)
    declared = stack_values(stack).get(SETTING)
    assert {r.inputs.get(ATTRIBUTE[r.type]) for r in encrypted(run)} == {declared}
    assert run.outputs.get("observability_kms_key_arn") == declared
    if declared is None:  # the render is as before the setting existed: no key, not even a null
        assert "observability_kms_key_arn" not in run.outputs
        assert Estate.from_outputs(run.outputs).observability_kms_key_arn is None


# --------------------------------------------------------------------------- #
# Refused
# --------------------------------------------------------------------------- #


def refused(stack: str, key: str):
    with pytest.raises(SettingsError) as caught:
        load(with_key(stack, key), stack=stack, secret_keys=stack_secret_keys(stack))
    (problem,) = [p for p in caught.value.problems if p.key == SETTING]
    return problem


def _another_region(stack: str) -> str:
    return "eu-west-1" if stack_values(stack)["aws:region"] != "eu-west-1" else "us-west-2"


def _another_account(stack: str) -> str:
    return "210987654321" if stack_values(stack)["hokusai:account_id"] != "210987654321" else "123456789012"


@each_stack
def test_a_key_of_another_account_is_refused(stack):
    problem = refused(stack, key_of(stack, account=_another_account(stack)))
    assert "belongs to account" in problem.what and "a KMS key from account" in problem.fix


@each_stack
def test_a_key_of_another_region_is_refused(stack):
    problem = refused(stack, key_of(stack, region=_another_region(stack)))
    assert "is in region" in problem.what and "a KMS key in" in problem.fix


@each_stack
@pytest.mark.parametrize(
    "resource", ["alias/hokusai-observability", f"other/{KEY_ID}"], ids=["alias (CloudWatch Logs takes none)", "other"]
)
def test_an_alias_or_another_kms_arn_is_refused(stack, resource):
    problem = refused(stack, key_of(stack, resource=resource))
    assert "is not the ARN of a KMS key" in problem.what and ":key/" in problem.fix


@each_stack
def test_an_arn_of_another_service_is_refused(stack):
    problem = refused(stack, key_of(stack).replace(":kms:", ":sns:"))
    assert "is not the ARN of a KMS key" in problem.what


@each_stack
def test_the_stacks_own_key_loads(stack):
    assert load(with_key(stack, key_of(stack)), stack=stack, secret_keys=stack_secret_keys(stack))


# --------------------------------------------------------------------------- #
# The invariant, over the rendered stack with the key
# --------------------------------------------------------------------------- #


@changes_config
@each_stack
@pytest.mark.parametrize("kind", sorted(ATTRIBUTE))
def test_removed_from_one_resource_the_key_is_reported_on_it(stack, kind):
    run = rendered_with_key(stack)
    resources = copy.deepcopy(run.resources)
    target = next(r for r in resources if r.type == kind)
    target.inputs.pop(ATTRIBUTE[kind])
    (finding,) = findings(resources, run.outputs)
    assert finding.resource == target.name and "(none: AWS-owned encryption)" in finding.what


@changes_config
@each_stack
@pytest.mark.parametrize("kind", sorted(ATTRIBUTE))
def test_weakened_to_another_key_one_resource_is_reported(stack, kind):
    run = rendered_with_key(stack)
    resources = copy.deepcopy(run.resources)
    target = next(r for r in resources if r.type == kind)
    other = key_of(stack, resource="key/another")
    target.inputs[ATTRIBUTE[kind]] = other
    (finding,) = findings(resources, run.outputs)
    assert finding.resource == target.name and other in finding.what and key_of(stack) in finding.what


@changes_config
@each_stack
def test_without_the_declaration_nothing_is_asked(stack):
    """The estate output is what says a key is declared: without it, resources without a key pass."""
    run = rendered_with_key(stack)
    estate = copy.deepcopy(run.outputs)
    estate.pop("observability_kms_key_arn")
    resources = copy.deepcopy(run.resources)
    for resource in resources:
        resource.inputs.pop(ATTRIBUTE.get(resource.type, ""), None)
    assert findings(resources, estate) == []
