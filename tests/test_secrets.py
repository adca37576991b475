"""Secrets: adopted by lookup, or declared (value out of band or from encrypted config)."""

from __future__ import annotations

import pytest
from pulumi.runtime import rpc

from tests.helpers import by_type, container, run

SECRET = "aws:secretsmanager/secret:Secret"
VERSION = "aws:secretsmanager/secretVersion:SecretVersion"


def test_adopted_secrets_are_looked_up_not_created(dev_run):
    looked_up = sorted(
        args.get("name") for token, args in dev_run.mocks.calls if token == "aws:secretsmanager/getSecret:getSecret"
    )
    assert looked_up == [
        "hokusai/development/api/secret-key",
        "hokusai/development/database/password",
        "hokusai/development/huggingface/api-key",
        "hokusai/development/redis/auth-token",
    ]
    assert by_type(dev_run, SECRET) == []


@pytest.fixture
def declared(dev_values):
    """The development stack with API_SECRET_KEY declared by the program instead of adopted."""
    dev_values["hokusai:services"]["api"]["secrets"]["API_SECRET_KEY"] = {
        "create": "hokusai/development/api/secret-key"
    }
    return dev_values


def test_the_container_references_the_adopted_secret_by_its_full_arn(dev_run):
    world = dev_run.mocks.world
    secrets = {s["name"]: s["valueFrom"] for s in container(dev_run)["secrets"]}
    assert secrets["HUGGINGFACE_API_KEY"] == world.secrets["hokusai/development/huggingface/api-key"]


def test_a_declared_secret_has_no_value_in_the_program_and_preview_says_to_put_one(declared, caplog):
    result = run(declared)
    (secret,) = by_type(result, SECRET)
    assert secret.inputs["recoveryWindowInDays"] == 7
    assert "API_SECRET_KEY of hokusai-api-development" in secret.inputs["description"]
    assert not by_type(result, VERSION)
    assert any(
        "declared without a value" in r.getMessage() and "put-secret-value" in r.getMessage() for r in caplog.records
    )


def test_a_secret_adopted_by_partial_arn_is_referenced_by_its_full_arn(dev_values):
    partial = "arn:aws:secretsmanager:us-east-1:123456789012:secret:hokusai/development/database/password"
    dev_values["hokusai:services"]["api"]["secrets"]["DB_PASSWORD"] = {"existing": partial}
    result = run(dev_values)
    value_from = {s["name"]: s["valueFrom"] for s in container(result)["secrets"]}["DB_PASSWORD"]
    assert value_from.startswith(partial + "-") and len(value_from) == len(partial) + 7


def test_a_declared_secret_may_take_its_value_from_encrypted_config(declared):
    dev_values = declared
    dev_values["hokusai:services"]["api"]["secrets"]["API_SECRET_KEY"]["value_from"] = "apiSecretKey"
    dev_values["hokusai:apiSecretKey"] = "value-only-in-encrypted-config"
    result = run(dev_values, secret_keys=["hokusai:apiSecretKey"])
    (version,) = by_type(result, VERSION)
    (secret,) = by_type(result, SECRET)
    assert version.inputs["secretId"] == secret.id
    # The value travels as a Pulumi secret: encrypted in state, masked in previews.
    assert version.inputs["secretString"] == {
        rpc._special_sig_key: rpc._special_secret_sig,
        "value": "value-only-in-encrypted-config",
    }
    # ... and the value is nowhere else in the graph.
    assert sum("value-only-in-encrypted-config" in str(r.inputs) for r in result.resources) == 1


def test_a_secret_shared_by_two_services_is_looked_up_once(dev_values):
    from tests.helpers import with_mlflow

    result = run(with_mlflow(dev_values))
    lookups = [args.get("name") for token, args in result.mocks.calls if token.endswith("getSecret")]
    assert lookups.count("hokusai/development/database/password") == 1
    assert (
        container(result, "hokusai-mlflow-development")["secrets"][0]["valueFrom"]
        == {s["name"]: s["valueFrom"] for s in container(result)["secrets"]}["DB_PASSWORD"]
    )
