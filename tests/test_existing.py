"""Adopted things are looked up first: if one is missing, the program stops with
one readable message listing all of them, and nothing is created."""

from __future__ import annotations

import pulumi
import pytest

from core.settings import SecretMode
from synth.mocks import world_for
from tests import tiers
from tests.helpers import (
    STACKS,
    each_service,
    each_stack,
    reads_config,
    run,
    stack_secret_keys,
    stack_settings,
    stack_values,
)


def refused(values, world, stack="development") -> tuple[str, list]:
    with pytest.raises(pulumi.RunError) as caught:
        run(values, world=world, stack=stack)
    return str(caught.value), world


@each_stack
@tiers.renders
def test_a_missing_adopted_secret_stops_the_program_before_anything_is_created(stack):
    adopted = [s for s in stack_settings(stack).secret_sources if s.mode is SecretMode.EXISTING]
    if not adopted:
        pytest.skip(f"{stack} adopts no secret")
    source = adopted[0]
    values = stack_values(stack)
    world = world_for(values)
    del world.secrets[world.find_secret(source.name_or_arn)[0]]
    from synth.mocks import RecordingMocks

    created = []
    original = RecordingMocks.new_resource

    def spy(self, args):
        created.append(args.typ)
        return original(self, args)

    RecordingMocks.new_resource = spy
    try:
        message, _ = refused(values, world, stack)
    finally:
        RecordingMocks.new_resource = original
    users = [
        f"{source.env_var} of {service.key}"
        for service in stack_settings(stack).services
        if any(s.identity == source.identity for s in service.secrets)
    ]
    assert f"secret {source.name_or_arn} ({', '.join(users)})" in message
    assert "couldn't find resource" in message
    assert f"aws secretsmanager create-secret --name {source.name_or_arn}" in message
    assert "nothing was created" in message
    assert created == []


@each_stack
@tiers.renders
def test_every_missing_thing_is_listed_at_once(stack):
    settings = stack_settings(stack)
    values = stack_values(stack)
    world = world_for(values)
    world.secrets.clear()
    world.listeners.clear()
    message, _ = refused(values, world, stack)
    adopted = {s.identity for s in settings.secret_sources if s.mode is SecretMode.EXISTING}
    listeners = 1 if settings.load_balancer.listener_arn else 0
    assert f"adopts {len(adopted) + listeners} thing(s)" in message
    for identity in adopted:
        assert f"secret {identity} (" in message
    if listeners:
        assert f"load balancer listener {settings.load_balancer.listener_arn}" in message


@tiers.renders
def test_credentials_for_another_account_are_refused(dev_values):
    world = world_for(dev_values)
    world.caller_account_id = "999999999999"
    message, _ = refused(dev_values, world)
    assert "belong to account 999999999999" in message
    assert f"deploys to account {dev_values['hokusai:account_id']}" in message


@tiers.renders
def test_an_adopted_load_balancer_without_security_groups_is_refused(dev_values):
    world = world_for(dev_values)
    (listener,) = world.listeners
    world.listeners[listener] = (world.listeners[listener][0], ())
    message, _ = refused(dev_values, world)
    assert "no security group" in message


@each_service
@tiers.renders
def test_a_bad_config_stops_the_program_with_the_settings_problems(stack, service):
    values = stack_values(stack)
    secrets = values["hokusai:services"][service]["secrets"]
    if not secrets:
        pytest.skip(f"{service} has no secret to remove")
    variable = next(iter(secrets))
    del secrets[variable]
    message, _ = refused(values, world_for(values), stack)
    assert f"hokusai:services.{service}.secrets.{variable}" in message
    assert "Traceback" not in message


# --------------------------------------------------------------------------- #
# A route's priority on the adopted listener (infra/existing.py: the rule at each priority)
# --------------------------------------------------------------------------- #

# (stack, service, route index) for every route of every stack that adopts a listener.
ADOPTED_LISTENER_ROUTES = [
    (stack, service.key, index)
    for stack in sorted(STACKS)
    if stack_settings(stack).load_balancer.listener_arn
    for service in stack_settings(stack).services
    for index, _ in enumerate(service.routes)
]


def _route_ids(item: tuple[str, str, int]) -> str:
    return "{}-{}-{}".format(*item)


def each_adopted_listener_route(test):
    return pytest.mark.parametrize(
        "item", ADOPTED_LISTENER_ROUTES, ids=[_route_ids(i) for i in ADOPTED_LISTENER_ROUTES]
    )(reads_config(test))


def _without_adoption(values: dict) -> dict:
    """Every route of every service as one that takes over nothing."""
    for service in values["hokusai:services"].values():
        for route in service.get("routes", ()):
            route.pop("adopt_existing", None)
    return values


def _route(values: dict, service: str, index: int) -> dict:
    return values["hokusai:services"][service]["routes"][index]


def _ours(stack: str) -> tuple[tuple[str, str], ...]:
    return tuple(stack_settings(stack).resource_tags.items())


@each_adopted_listener_route
@tiers.renders
def test_a_free_priority_is_taken(item):
    stack, _, _ = item
    values = _without_adoption(stack_values(stack))
    world = world_for(values)
    assert world.rules == {}  # nothing at any priority
    run(values, world=world, stack=stack, secret_keys=stack_secret_keys(stack))


@each_adopted_listener_route
@tiers.renders
def test_a_priority_held_by_a_rule_this_stack_manages_is_accepted(item):
    stack, service, index = item
    values = _without_adoption(stack_values(stack))
    world = world_for(values)
    listener = values["hokusai:load_balancer"]["listener_arn"]
    world.add_rule(listener, _route(values, service, index)["priority"], paths=("/x/*",), tags=_ours(stack))
    run(values, world=world, stack=stack, secret_keys=stack_secret_keys(stack))


@each_adopted_listener_route
@tiers.renders
def test_a_rule_tagged_for_another_stack_of_the_project_is_refused(item):
    # The weakened guard: managed by Pulumi and of this project, but another stack's.
    stack, service, index = item
    values = _without_adoption(stack_values(stack))
    world = world_for(values)
    listener = values["hokusai:load_balancer"]["listener_arn"]
    tags = tuple((k, "another-stack" if k == "environment" else v) for k, v in _ours(stack))
    priority = _route(values, service, index)["priority"]
    rule = world.add_rule(listener, priority, paths=("/x/*",), tags=tags)
    message, _ = refused(values, world, stack)
    assert f"listener rule priority {priority}" in message and rule.arn in message


@each_adopted_listener_route
@tiers.renders
def test_a_priority_the_route_adopts_is_accepted_and_without_adoption_the_same_rule_is_refused(item):
    stack, service, index = item
    values = stack_values(stack)
    _route(values, service, index)["adopt_existing"] = True
    world = world_for(values)  # the live rule at each adopted priority, untagged, forwarding to the live group
    run(values, world=world, stack=stack, secret_keys=stack_secret_keys(stack))

    del _route(values, service, index)["adopt_existing"]
    priority = _route(values, service, index)["priority"]
    rule = world.rules[(values["hokusai:load_balancer"]["listener_arn"], priority)]
    message, _ = refused(values, world, stack)
    assert f"listener rule priority {priority} (hokusai:services.{service}.routes[{index}])" in message
    assert rule.arn in message
    for path in rule.paths:
        assert f"path {path}" in message
    assert f"forwards to {rule.target_group_arn}" in message
    assert f"set hokusai:services.{service}.routes[{index}].adopt_existing: true" in message
    assert "nothing was created" in message and "Traceback" not in message


@each_adopted_listener_route
@tiers.renders
def test_a_foreign_rule_at_the_priority_is_refused_saying_what_it_does(item):
    stack, service, index = item
    values = _without_adoption(stack_values(stack))
    world = world_for(values)
    listener = values["hokusai:load_balancer"]["listener_arn"]
    priority = _route(values, service, index)["priority"]
    rule = world.add_rule(listener, priority, hosts=("other.example.com",))  # hand-made, a fixed response
    message, _ = refused(values, world, stack)
    assert f"already has rule {rule.arn} at that priority" in message
    assert "matches host other.example.com; answers with fixed-response" in message
    assert "give the route a priority no other rule uses" in message


@each_stack
@tiers.renders
def test_a_failed_rule_lookup_stops_the_program_naming_the_priority_and_the_permission(stack):
    settings = stack_settings(stack)
    routes = [(s.key, i, r) for s in settings.services for i, r in enumerate(s.routes)]
    if not settings.load_balancer.listener_arn or not routes:
        pytest.skip(f"{stack} adopts no listener or has no route")
    values = stack_values(stack)
    world = world_for(values)
    world.rule_lookup_error = "AccessDenied: not authorized to perform elasticloadbalancing:DescribeRules"
    message, _ = refused(values, world, stack)
    for service, index, route in routes:
        assert f"listener rule priority {route.priority} (hokusai:services.{service}.routes[{index}])" in message
    assert "AccessDenied" in message and "elasticloadbalancing:DescribeRules" in message
    assert "Traceback" not in message


@tiers.renders
def test_a_placeholder_listener_that_is_not_found_points_at_the_records_entry(dev_values):
    from core.fidelity import placeholder_for

    found = placeholder_for("development", "hokusai:load_balancer.listener_arn")
    if found is None:
        pytest.skip("the development listener is no longer a placeholder")
    path, entry = found
    world = world_for(dev_values)
    world.listeners.clear()
    message, _ = refused(dev_values, world)
    assert "docs/ESTATE.md#" in message and entry.how_to_find in message
