"""Reading the stack config from Pulumi the way the language host passes it."""

from __future__ import annotations

import json

import pulumi
import pytest
from pulumi.runtime import config as runtime_config

from core.naming import PROJECT
from infra import stack_config
from synth.program import as_pulumi_config
from tests.helpers import DEV_VALUES


@pytest.fixture
def language_host(monkeypatch):
    """Config as `pulumi preview` hands it to the program: PULUMI_CONFIG (JSON) and PULUMI_CONFIG_SECRET_KEYS."""
    runtime_config.set_all_config({}, [])

    def give(values, secret_keys=()):
        monkeypatch.setenv("PULUMI_CONFIG", json.dumps(as_pulumi_config(values)))
        monkeypatch.setenv("PULUMI_CONFIG_SECRET_KEYS", json.dumps(list(secret_keys)))
        pulumi.runtime.set_mocks(_NoMocks(), project=PROJECT, stack="development")

    yield give
    runtime_config.set_all_config({}, [])


class _NoMocks(pulumi.runtime.Mocks):
    def new_resource(self, args):
        raise AssertionError("reading settings must not create resources")

    def call(self, args):
        raise AssertionError("reading settings must not call providers")


def test_the_development_stack_is_read_from_the_language_host(language_host):
    language_host(DEV_VALUES)
    settings = stack_config.read_settings()
    assert settings.service("api").name == "hokusai-api-development"
    assert settings.region == "us-east-1"


def test_a_misspelt_key_is_caught_although_pulumi_config_could_not_list_it(language_host):
    language_host({**DEV_VALUES, "hokusai:alarm_email": ["oncall@hokus.ai"]})
    with pytest.raises(pulumi.RunError, match="did you mean 'alarm_emails'"):
        stack_config.read_settings()


def test_encrypted_values_are_never_read_as_settings(language_host):
    values = {**DEV_VALUES, "hokusai:apiSecretKey": "ciphertext"}
    values["hokusai:services"] = json.loads(json.dumps(DEV_VALUES["hokusai:services"]))
    values["hokusai:services"]["api"]["secrets"]["API_SECRET_KEY"] = {
        "create": "hokusai/development/api/secret-key",
        "value_from": "apiSecretKey",
    }
    language_host(values, secret_keys=["hokusai:apiSecretKey"])
    raw, _, secret_keys = stack_config.raw_settings()
    assert raw["apiSecretKey"] is None and secret_keys == {"apiSecretKey"}
    assert stack_config.read_settings().secret_sources


def test_a_plain_value_named_as_a_secret_source_is_refused(language_host):
    values = {**DEV_VALUES, "hokusai:apiSecretKey": "plain text"}
    values["hokusai:services"] = json.loads(json.dumps(DEV_VALUES["hokusai:services"]))
    values["hokusai:services"]["api"]["secrets"]["API_SECRET_KEY"] = {
        "create": "hokusai/development/api/secret-key",
        "value_from": "apiSecretKey",
    }
    language_host(values)
    with pytest.raises(pulumi.RunError, match="not an encrypted config value"):
        stack_config.read_settings()


def test_the_error_is_a_run_error_so_pulumi_prints_no_traceback(language_host):
    language_host({k: v for k, v in DEV_VALUES.items() if k != "hokusai:account_id"})
    with pytest.raises(pulumi.RunError) as caught:
        stack_config.read_settings()
    assert "hokusai:account_id: is required but not set" in str(caught.value)
