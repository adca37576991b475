"""Adopted things are looked up first: if one is missing, the program stops with
one readable message listing all of them, and nothing is created."""

from __future__ import annotations

import pulumi
import pytest

from synth.mocks import world_for
from tests.helpers import run


def refused(values, world) -> tuple[str, list]:
    with pytest.raises(pulumi.RunError) as caught:
        run(values, world=world)
    return str(caught.value), world


def test_a_missing_adopted_secret_stops_the_program_before_anything_is_created(dev_values):
    world = world_for(dev_values)
    del world.secrets["hokusai/development/huggingface/api-key"]
    from synth.mocks import RecordingMocks

    created = []
    original = RecordingMocks.new_resource

    def spy(self, args):
        created.append(args.typ)
        return original(self, args)

    RecordingMocks.new_resource = spy
    try:
        message, _ = refused(dev_values, world)
    finally:
        RecordingMocks.new_resource = original
    assert "secret hokusai/development/huggingface/api-key (HUGGINGFACE_API_KEY of api)" in message
    assert "couldn't find resource" in message
    assert "aws secretsmanager create-secret --name hokusai/development/huggingface/api-key" in message
    assert "nothing was created" in message
    assert created == []


def test_every_missing_thing_is_listed_at_once(dev_values):
    world = world_for(dev_values)
    world.secrets.clear()
    world.listeners.clear()
    message, _ = refused(dev_values, world)
    assert "adopts 5 thing(s)" in message
    assert "load balancer listener arn:aws:elasticloadbalancing" in message


def test_credentials_for_another_account_are_refused(dev_values):
    world = world_for(dev_values)
    world.caller_account_id = "999999999999"
    message, _ = refused(dev_values, world)
    assert "belong to account 999999999999" in message and "deploys to account 123456789012" in message


def test_an_adopted_load_balancer_without_security_groups_is_refused(dev_values):
    world = world_for(dev_values)
    (listener,) = world.listeners
    world.listeners[listener] = (world.listeners[listener][0], ())
    message, _ = refused(dev_values, world)
    assert "no security group" in message


def test_a_bad_config_stops_the_program_with_the_settings_problems(dev_values):
    del dev_values["hokusai:services"]["api"]["secrets"]["HUGGINGFACE_API_KEY"]
    message, _ = refused(dev_values, world_for(dev_values))
    assert "hokusai:services.api.secrets.HUGGINGFACE_API_KEY" in message
    assert "Traceback" not in message
