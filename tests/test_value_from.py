"""A secret's valueFrom as ECS takes it: `<arn>[:<json-key>:<version-stage>:<version-id>]`, built by
the settings, read back by the checks and verify; and the stack settings that name its parts."""

from __future__ import annotations

import pytest

from core.settings import SettingsError
from core.value_from import SecretValueFrom
from tests.helpers import container, load, run

ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:hokusai/app-secrets/development-G9l4vD"
VERSION_ID = "0a1b2c3d-4e5f-4071-8293-a4b5c6d7e8f9"


@pytest.mark.parametrize(
    "parts,text",
    [
        ({}, ARN),
        ({"json_key": "database_password"}, f"{ARN}:database_password::"),
        ({"version_stage": "AWSPREVIOUS"}, f"{ARN}::AWSPREVIOUS:"),
        ({"json_key": "auth_token", "version_id": VERSION_ID}, f"{ARN}:auth_token::{VERSION_ID}"),
    ],
    ids=["whole value", "json key", "version stage", "json key and version id"],
)
def test_a_value_from_is_written_as_ecs_takes_it_and_read_back(parts, text):
    reference = SecretValueFrom(ARN, **parts)
    assert str(reference) == text
    assert SecretValueFrom.parse(text) == reference
    assert reference.secret_arn == ARN and reference.secret_name == "hokusai/app-secrets/development-G9l4vD"


@pytest.mark.parametrize(
    "text",
    [
        "/hokusai/development/redis/endpoint",  # an SSM parameter name
        "arn:aws:ssm:us-east-1:123456789012:parameter/hokusai/development/redis/port",
        f"{ARN}:database_password",  # too few fields
        f"{ARN}:a:b:c:d",  # too many
        f"{ARN}::AWSCURRENT:{VERSION_ID}",  # a stage and an id
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:",
        None,
    ],
)
def test_what_ecs_would_not_read_from_secrets_manager_is_not_a_value_from(text):
    assert SecretValueFrom.parse(text) is None


def test_a_version_is_named_by_stage_or_by_id_not_both():
    with pytest.raises(ValueError, match="not both"):
        SecretValueFrom(ARN, version_stage="AWSCURRENT", version_id=VERSION_ID)
    with pytest.raises(ValueError, match="':'"):
        SecretValueFrom(ARN, json_key="a:b")


# --------------------------------------------------------------------------- #
# The stack settings that name the parts
# --------------------------------------------------------------------------- #


def problems(values) -> dict[str, str]:
    with pytest.raises(SettingsError) as caught:
        load(values)
    return {p.key: f"{p.what} || {p.fix}" for p in caught.value.problems}


def test_the_task_definition_reads_the_json_key_and_the_version_the_stack_names(dev_values, api):
    api["secrets"]["DB_PASSWORD"]["json_key"] = "database_password"
    api["secrets"]["REDIS_AUTH_TOKEN"].update(json_key="auth_token", version_stage="AWSCURRENT")
    result = run(dev_values)
    secrets = {s["name"]: s["valueFrom"] for s in container(result)["secrets"]}
    arns = result.outputs["services"][0]["secret_arns"]
    assert secrets["DB_PASSWORD"] == f"{arns['DB_PASSWORD']}:database_password::"
    assert secrets["REDIS_AUTH_TOKEN"] == f"{arns['REDIS_AUTH_TOKEN']}:auth_token:AWSCURRENT:"
    assert secrets["HUGGINGFACE_API_KEY"] == arns["HUGGINGFACE_API_KEY"]  # none named: the plain ARN
    # The estate carries both: the exact valueFrom for verify, the ARN for the grant.
    assert result.outputs["services"][0]["secret_value_froms"] == secrets


def test_a_version_stage_and_a_version_id_together_are_refused(dev_values, api):
    api["secrets"]["DB_PASSWORD"].update(version_stage="AWSCURRENT", version_id=VERSION_ID)
    assert "both version_stage and version_id" in problems(dev_values)["hokusai:services.api.secrets.DB_PASSWORD"]


def test_a_version_id_of_a_secret_the_program_declares_is_refused(dev_values, api):
    api["secrets"]["API_SECRET_KEY"] = {"create": "hokusai/development/api/secret-key", "version_id": VERSION_ID}
    message = problems(dev_values)["hokusai:services.api.secrets.API_SECRET_KEY.version_id"]
    assert "do not exist before it does" in message and "existing:" in message


def test_a_json_key_of_a_value_put_whole_from_config_is_refused(dev_values, api):
    api["secrets"]["API_SECRET_KEY"] = {
        "create": "hokusai/development/api/secret-key",
        "value_from": "apiSecretKey",
        "json_key": "key",
    }
    dev_values["hokusai:apiSecretKey"] = "[secret]"
    with pytest.raises(SettingsError) as caught:
        load(dev_values, secret_keys=["hokusai:apiSecretKey"])
    (problem,) = [p for p in caught.value.problems if p.key.endswith("API_SECRET_KEY.json_key")]
    assert "value_from puts the whole" in problem.what


def test_two_services_may_read_two_keys_of_one_secret(dev_values, api):
    from tests.helpers import with_mlflow

    with_mlflow(dev_values)
    api["secrets"]["DB_PASSWORD"]["json_key"] = "database_password"
    dev_values["hokusai:services"]["mlflow"]["secrets"]["DB_PASSWORD"]["json_key"] = "mlflow_password"
    settings = load(dev_values)
    (shared,) = [s for s in settings.secret_sources if s.name_or_arn == "hokusai/development/database/password"]
    assert {s.json_key for svc in settings.services for s in svc.secrets if s.identity == shared.identity} == {
        "database_password",
        "mlflow_password",
    }
