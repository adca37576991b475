"""Log groups and declared secrets survive `pulumi destroy` and replacements: each carries the
`protect` and `retain_on_delete` resource options, as the mocks record them from the engine's
registration (synth/mocks.py: RecordingMonitor), and the invariant (and the pack) refuses one without.

GIVEN every stack file (and each with every secret declared, so there are secrets to protect)
THEN every log group and every declared secret is protected and retained;
AND dropping the option on one of them is a finding; a check weakened to ignore it finds nothing.
"""

from __future__ import annotations

import copy

import pytest

from core import invariants
from synth.checks import check_graph
from tests import tiers
from tests.helpers import by_type, each_stack, rendered, run_as, stack_settings, stack_values

LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
SECRET = "aws:secretsmanager/secret:Secret"


def with_every_secret_declared(stack: str) -> dict:
    values = stack_values(stack)
    for service in stack_settings(stack).services:
        for source in service.secrets:
            values["hokusai:services"][service.key]["secrets"][source.env_var] = {
                "create": source.name_or_arn.split(":secret:")[-1]
            }
    return values


@pytest.fixture(params=["as configured", "every secret declared"])
def graphs(request):
    def render(stack):
        return rendered(stack) if request.param == "as configured" else run_as(stack, with_every_secret_declared(stack))

    return render


@each_stack
@tiers.renders
def test_every_log_group_and_declared_secret_is_protected_and_retained(stack, graphs):
    result = graphs(stack)
    kept = by_type(result, LOG_GROUP) + by_type(result, SECRET)
    assert by_type(result, LOG_GROUP) and len(kept) >= len(stack_settings(stack).services)
    for resource in kept:
        assert (resource.protect, resource.retain_on_delete) == (True, True), resource.name


@each_stack
@pytest.mark.parametrize("type_", [LOG_GROUP, SECRET])
@tiers.renders
def test_one_unprotected_log_group_or_secret_is_found(stack, type_):
    result = run_as(stack, with_every_secret_declared(stack))
    resources = copy.deepcopy(result.resources)
    victim = next(r for r in resources if r.type == type_)
    victim.protect = False
    found = [str(f) for f in check_graph(resources, result.outputs) if f.check == "protect"]
    assert found == [f"[protect] {victim.name}: " + found[0].split(": ", 1)[1]] and "is not protected" in found[0]


@each_stack
def test_a_weakened_check_that_ignores_protect_finds_nothing(monkeypatch, stack):
    result = rendered(stack)
    resources = copy.deepcopy(result.resources)
    for resource in resources:
        resource.protect = False
    assert [f for f in check_graph(resources, result.outputs) if f.check == "protect"]
    # WHEN the check no longer looks at log groups and secrets, THEN the same graph passes
    monkeypatch.setattr(invariants, "LOG_GROUP", "aws:nothing")
    monkeypatch.setattr(invariants, "SECRET", "aws:nothing")
    assert [f for f in check_graph(resources, result.outputs) if f.check == "protect"] == []
