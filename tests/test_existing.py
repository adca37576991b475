"""Adopted things are looked up first: if one is missing, the program stops with
one readable message listing all of them, and nothing is created."""

from __future__ import annotations

import pulumi
import pytest

from core.settings import SecretMode
from synth.mocks import world_for
from tests.helpers import each_service, each_stack, run, stack_settings, stack_values


def refused(values, world, stack="development") -> tuple[str, list]:
    with pytest.raises(pulumi.RunError) as caught:
        run(values, world=world, stack=stack)
    return str(caught.value), world


@each_stack
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


def test_credentials_for_another_account_are_refused(dev_values):
    world = world_for(dev_values)
    world.caller_account_id = "999999999999"
    message, _ = refused(dev_values, world)
    assert "belong to account 999999999999" in message
    assert f"deploys to account {dev_values['hokusai:account_id']}" in message


def test_an_adopted_load_balancer_without_security_groups_is_refused(dev_values):
    world = world_for(dev_values)
    (listener,) = world.listeners
    world.listeners[listener] = (world.listeners[listener][0], ())
    message, _ = refused(dev_values, world)
    assert "no security group" in message


@each_service
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
