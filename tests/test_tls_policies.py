"""TLS: the load balancer's HTTPS listener uses a TLS 1.2+ policy from the allow-list
(core/tls_policies.py), created or adopted, unless `load_balancer.exceptions.tls_policy_not_allowed`
says why; an adopted listener must be HTTPS, with no exception.

GIVEN every stack file (adopting its listener, or made to create the ALB)
THEN an allowed policy is taken; a TLS 1.0/1.1 policy or an HTTP listener is refused with the fix;
AND each guard weakened lets the bad value through, so the refusals can fail.
"""

from __future__ import annotations

import copy

import pulumi
import pytest

from core.settings import SettingsError
from core.settings import load_balancer as load_balancer_settings
from core.tls_policies import ALLOWED_TLS_POLICIES, RECOMMENDED
from infra import existing
from synth.checks import check_graph
from synth.mocks import Registered, world_for
from tests import tiers
from tests.helpers import (
    each_stack,
    load,
    run,
    stack_secret_keys,
    stack_settings,
    stack_values,
    with_new_load_balancer,
)

# Policies that still accept TLS 1.0 or 1.1 (the API's default among them), and a made-up one.
REFUSED = (
    "ELBSecurityPolicy-2016-08",
    "ELBSecurityPolicy-TLS-1-1-2017-01",
    "ELBSecurityPolicy-TLS13-1-0-2021-06",
    "ELBSecurityPolicy-FS-2018-06",
    "ELBSecurityPolicy-2015-05",
)
EXCUSED = {"tls_policy_not_allowed": "a test's reason"}


def test_every_allowed_policy_is_tls_1_2_or_later_by_its_name():
    for policy in ALLOWED_TLS_POLICIES:
        assert policy.startswith(("ELBSecurityPolicy-TLS13-1-2", "ELBSecurityPolicy-TLS13-1-3")) or "-1-2-" in policy
    assert not set(REFUSED) & ALLOWED_TLS_POLICIES
    assert RECOMMENDED in ALLOWED_TLS_POLICIES


def creating(stack: str, policy: str, exceptions: dict | None = None) -> dict:
    values = with_new_load_balancer(copy.deepcopy(stack_values(stack)))
    values["hokusai:load_balancer"]["ssl_policy"] = policy
    if exceptions:
        values["hokusai:load_balancer"]["exceptions"] = exceptions
    return values


def load_stack(stack: str, values: dict):
    return load(values, stack=stack, secret_keys=stack_secret_keys(stack))


# --------------------------------------------------------------------------- #
# A created listener: the settings
# --------------------------------------------------------------------------- #


@each_stack
@pytest.mark.parametrize("policy", sorted(ALLOWED_TLS_POLICIES))
def test_an_allowed_policy_is_taken(stack, policy):
    assert load_stack(stack, creating(stack, policy)).load_balancer.ssl_policy == policy


@each_stack
@pytest.mark.parametrize("policy", REFUSED)
def test_a_policy_that_accepts_tls_1_0_or_1_1_is_refused_with_the_fix(stack, policy):
    with pytest.raises(SettingsError) as caught:
        load_stack(stack, creating(stack, policy))
    (problem,) = [p for p in caught.value.problems if p.key == "hokusai:load_balancer.ssl_policy"]
    assert policy in problem.what and "TLS 1.0 or 1.1" in problem.what
    assert RECOMMENDED in problem.fix and "tls_policy_not_allowed" in problem.fix


@each_stack
def test_a_refused_policy_is_taken_with_its_reason(stack):
    loaded = load_stack(stack, creating(stack, REFUSED[0], EXCUSED))
    assert loaded.load_balancer.ssl_policy == REFUSED[0]


@each_stack
def test_a_weakened_allow_list_lets_tls_1_0_through(monkeypatch, stack):
    monkeypatch.setattr(load_balancer_settings, "is_allowed", lambda policy: True)
    load_stack(stack, creating(stack, REFUSED[0]))  # no SettingsError: the check is the allow-list


# --------------------------------------------------------------------------- #
# A created listener: the rendered graph (the invariant the pack shares)
# --------------------------------------------------------------------------- #


@each_stack
@tiers.renders
def test_a_created_https_listener_off_the_list_is_found_unless_excused(stack):
    result = run(creating(stack, REFUSED[0], EXCUSED), secret_keys=stack_secret_keys(stack), stack=stack)
    assert [f for f in check_graph(result.resources, result.outputs) if "TLS policy" in f.what] == []
    # WHEN the estate no longer carries the reason, THEN the listener is a finding
    estate = copy.deepcopy(result.outputs)
    estate["load_balancer_exceptions"] = {}
    found = [str(f) for f in check_graph(result.resources, estate) if "TLS policy" in f.what]
    assert found and all(REFUSED[0] in f for f in found), found


@each_stack
@tiers.renders
def test_an_https_listener_without_a_policy_is_found(stack):
    result = run(creating(stack, RECOMMENDED), secret_keys=stack_secret_keys(stack), stack=stack)
    resources = copy.deepcopy(result.resources)
    for listener in resources:
        if listener.type == "aws:lb/listener:Listener" and listener.inputs.get("protocol") == "HTTPS":
            listener.inputs.pop("sslPolicy")
    found = [str(f) for f in check_graph(resources, result.outputs) if "TLS policy" in f.what]
    assert found and "ELBSecurityPolicy-2016-08" in found[0]
    assert isinstance(resources[0], Registered)


# --------------------------------------------------------------------------- #
# An adopted listener: looked up at preview
# --------------------------------------------------------------------------- #


def adopting(stack: str) -> dict:
    values = stack_values(stack)
    if not stack_settings(stack).load_balancer.listener_arn:
        pytest.skip(f"{stack} creates its load balancer")
    return values


def refused(values: dict, world, stack: str) -> str:
    with pytest.raises(pulumi.RunError) as caught:
        run(values, world=world, secret_keys=stack_secret_keys(stack), stack=stack)
    return str(caught.value)


@each_stack
@pytest.mark.parametrize("protocol", ["HTTP", "TCP"])
@tiers.renders
def test_an_adopted_listener_that_is_not_https_is_refused_even_with_the_tls_exception(stack, protocol):
    values = adopting(stack)
    values["hokusai:load_balancer"]["exceptions"] = EXCUSED
    world = world_for(values)
    world.listener_protocol = protocol
    message = refused(values, world, stack)
    assert f"it is an {protocol} listener, not HTTPS" in message and "HTTPS listener (port 443)" in message
    assert "Traceback" not in message


@each_stack
@pytest.mark.parametrize("policy", [*REFUSED, None])
@tiers.renders
def test_an_adopted_listener_off_the_list_is_refused_unless_excused(stack, policy):
    values = adopting(stack)
    world = world_for(values)
    world.listener_ssl_policy = policy
    message = refused(values, world, stack)
    assert "not on the allow-list" in message and "tls_policy_not_allowed" in message
    values["hokusai:load_balancer"]["exceptions"] = EXCUSED
    world = world_for(values)
    world.listener_ssl_policy = policy
    run(values, world=world, secret_keys=stack_secret_keys(stack), stack=stack)  # taken, with its reason


@each_stack
@tiers.renders
def test_a_weakened_adopted_listener_check_lets_tls_1_0_through(monkeypatch, stack):
    values = adopting(stack)
    world = world_for(values)
    world.listener_ssl_policy = REFUSED[0]
    monkeypatch.setattr(existing, "is_allowed", lambda policy: True)
    run(values, world=world, secret_keys=stack_secret_keys(stack), stack=stack)


@each_stack
@tiers.renders
def test_the_tls_exception_is_a_preview_warning_and_rides_in_the_estate(monkeypatch, stack):
    warned: list[str] = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *args, **kwargs: warned.append(message))
    result = run(creating(stack, REFUSED[0], EXCUSED), secret_keys=stack_secret_keys(stack), stack=stack)
    assert any("tls_policy_not_allowed" in w and EXCUSED["tls_policy_not_allowed"] in w for w in warned), warned
    assert result.outputs["load_balancer_exceptions"] == EXCUSED
