"""Reading the stack config from Pulumi the way the language host passes it."""

from __future__ import annotations

import json

import pulumi
import pytest
from pulumi.runtime import config as runtime_config

from core.contract import CONTRACTS
from core.naming import PROJECT
from infra import stack_config
from synth.program import as_pulumi_config
from tests import tiers
from tests.helpers import DEV_VALUES, each_stack, stack_secret_keys, stack_settings, stack_values


@pytest.fixture
def language_host(monkeypatch):
    """Config as `pulumi preview` hands it to the program: PULUMI_CONFIG (JSON) and PULUMI_CONFIG_SECRET_KEYS."""
    runtime_config.set_all_config({}, [])

    def give(values, secret_keys=(), stack="development"):
        monkeypatch.setenv("PULUMI_CONFIG", json.dumps(as_pulumi_config(values)))
        monkeypatch.setenv("PULUMI_CONFIG_SECRET_KEYS", json.dumps(list(secret_keys)))
        pulumi.runtime.set_mocks(_NoMocks(), project=PROJECT, stack=stack)

    yield give
    runtime_config.set_all_config({}, [])


class _NoMocks(pulumi.runtime.Mocks):
    def new_resource(self, args):
        raise AssertionError("reading settings must not create resources")

    def call(self, args):
        raise AssertionError("reading settings must not call providers")


@each_stack
@tiers.renders
def test_every_stack_is_read_from_the_language_host_as_the_offline_loader_reads_it(language_host, stack):
    language_host(stack_values(stack), stack_secret_keys(stack), stack=stack)
    assert stack_config.read_settings() == stack_settings(stack)


@tiers.renders
def test_a_misspelt_key_is_caught_although_pulumi_config_could_not_list_it(language_host):
    language_host({**DEV_VALUES, "hokusai:alarm_email": ["oncall@hokus.ai"]})
    with pytest.raises(pulumi.RunError, match="did you mean 'alarm_emails'"):
        stack_config.read_settings()


def with_a_declared_secret(value: str) -> dict:
    """The development stack with one secret declared, its value from the config key `declaredValue`."""
    values = stack_values("development")
    service, config = next(iter(values["hokusai:services"].items()))
    variable = next(iter(config["secrets"]))
    name = CONTRACTS[service].secret(variable).secret_name_for("development")
    for other in values["hokusai:services"].values():
        if variable in other["secrets"]:
            other["secrets"][variable] = {"create": name, "value_from": "declaredValue"}
    values["hokusai:declaredValue"] = value
    return values


@tiers.renders
def test_encrypted_values_are_never_read_as_settings(language_host):
    language_host(with_a_declared_secret("ciphertext"), secret_keys=["hokusai:declaredValue"])
    raw, _, secret_keys = stack_config.raw_settings()
    assert raw["declaredValue"] is None and secret_keys == {"declaredValue"}
    assert stack_config.read_settings().secret_sources


@tiers.renders
def test_a_plain_value_named_as_a_secret_source_is_refused(language_host):
    language_host(with_a_declared_secret("plain text"))
    with pytest.raises(pulumi.RunError, match="not an encrypted config value"):
        stack_config.read_settings()


@tiers.renders
def test_the_error_is_a_run_error_so_pulumi_prints_no_traceback(language_host):
    language_host({k: v for k, v in DEV_VALUES.items() if k != "hokusai:account_id"})
    with pytest.raises(pulumi.RunError) as caught:
        stack_config.read_settings()
    assert "hokusai:account_id: is required but not set" in str(caught.value)
