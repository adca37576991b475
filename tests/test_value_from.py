"""A secret's valueFrom as ECS takes it: `<arn>[:<json-key>:<version-stage>:<version-id>]`, built by
the settings, read back by the checks and verify; and the stack settings that name its parts."""

from __future__ import annotations

import pytest

from core.contract import CONTRACTS
from core.settings import SettingsError
from core.value_from import SecretValueFrom
from tests import tiers
from tests.helpers import (
    changes_config,
    container,
    each_service,
    load,
    run_as,
    service_output,
    stack_secret_keys,
    stack_values,
    with_every_contract,
)

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


def problems(stack, values) -> dict[str, str]:
    with pytest.raises(SettingsError) as caught:
        load(values, stack=stack, secret_keys=stack_secret_keys(stack))
    return {p.key: f"{p.what} || {p.fix}" for p in caught.value.problems}


def secrets_of(values, service) -> dict:
    return values["hokusai:services"][service]["secrets"]


def requires_secrets(service) -> None:
    if not CONTRACTS[service].secrets:
        pytest.skip(f"the {service} contract requires no secret")


# What the stack may name of a secret, by the secret's place in its service's list (a cycle).
SELECTIONS: tuple[dict[str, str], ...] = (
    {"json_key": "database_password"},
    {"json_key": "auth_token", "version_stage": "AWSCURRENT"},
    {},
)


@each_service
@changes_config
@tiers.renders
def test_the_task_definition_reads_the_json_key_and_the_version_the_stack_names(stack, service):
    requires_secrets(service)
    values = stack_values(stack)
    chosen = {}
    for index, (variable, source) in enumerate(sorted(secrets_of(values, service).items())):
        if "value_from" in source:
            continue  # a value put whole from config has no JSON key (refused below)
        chosen[variable] = SELECTIONS[index % len(SELECTIONS)]
        for selector in ("json_key", "version_stage", "version_id"):  # only the chosen ones, not the stack file's
            source.pop(selector, None)
        source.update(chosen[variable])
    result = run_as(stack, values)
    secrets = {s["name"]: s["valueFrom"] for s in container(result, service)["secrets"]}
    arns = service_output(result, service)["secret_arns"]
    for variable, parts in chosen.items():
        # none named: the plain ARN; else the ARN, then `:<json_key>:<version_stage>:<version_id>`
        assert secrets[variable] == str(SecretValueFrom(arns[variable], **parts)), variable
        if not parts:
            assert secrets[variable] == arns[variable]

    # The estate carries both: the exact valueFrom for verify, the ARN for the grant.
    assert service_output(result, service)["secret_value_froms"] == secrets


@each_service
def test_a_version_stage_and_a_version_id_together_are_refused(stack, service):
    requires_secrets(service)
    values = stack_values(stack)
    variable, source = next(iter(secrets_of(values, service).items()))
    source.update(version_stage="AWSCURRENT", version_id=VERSION_ID)
    found = problems(stack, values)
    assert "both version_stage and version_id" in found[f"hokusai:services.{service}.secrets.{variable}"]


@each_service
def test_a_version_id_of_a_secret_the_program_declares_is_refused(stack, service):
    requires_secrets(service)
    values = stack_values(stack)
    secret = CONTRACTS[service].secrets[0]
    secrets_of(values, service)[secret.env_var] = {"create": secret.secret_name_for(stack), "version_id": VERSION_ID}
    message = problems(stack, values)[f"hokusai:services.{service}.secrets.{secret.env_var}.version_id"]
    assert "do not exist before it does" in message and "existing:" in message


@each_service
def test_a_json_key_of_a_value_put_whole_from_config_is_refused(stack, service):
    requires_secrets(service)
    values = stack_values(stack)
    secret = CONTRACTS[service].secrets[0]
    secrets_of(values, service)[secret.env_var] = {
        "create": secret.secret_name_for(stack),
        "value_from": "variantSecret",
        "json_key": "key",
    }
    values["hokusai:variantSecret"] = "[secret]"
    with pytest.raises(SettingsError) as caught:
        load(values, stack=stack, secret_keys=[*stack_secret_keys(stack), "hokusai:variantSecret"])
    (problem,) = [p for p in caught.value.problems if p.key.endswith(f"{secret.env_var}.json_key")]
    assert "value_from puts the whole" in problem.what


def test_two_services_may_read_two_keys_of_one_secret(dev_values) -> None:
    # GIVEN every contract deployed, and each secret two services share read by another key in each
    values = with_every_contract(dev_values)
    services = values["hokusai:services"]
    by_name: dict[str, list[str]] = {}
    for key, config in services.items():
        for variable, source in config["secrets"].items():
            if "existing" in source:
                by_name.setdefault(source["existing"], []).append(f"{key}.{variable}")
    shared = {name: readers for name, readers in by_name.items() if len(readers) > 1}
    if not shared:
        pytest.skip("no two services share a secret")
    for readers in shared.values():
        for reader in readers:
            key, variable = reader.split(".", 1)
            services[key]["secrets"][variable]["json_key"] = f"{key}_key"
    # WHEN loaded THEN one secret (one lookup, one grant) is read by a key per service
    settings = load(values)
    for name, readers in shared.items():
        (secret,) = [s for s in settings.secret_sources if s.name_or_arn == name]
        keys = {s.json_key for svc in settings.services for s in svc.secrets if s.identity == secret.identity}
        assert keys == {f"{reader.split('.', 1)[0]}_key" for reader in readers}, name
