"""Secrets: adopted by lookup, or declared (value out of band or from encrypted config),
for every secret of every service of every stack file."""

from __future__ import annotations

from collections import Counter

import pytest
from pulumi.runtime import rpc

from core import naming
from core.contract import CONTRACTS
from core.settings import SecretMode
from tests import tiers
from tests.helpers import (
    by_type,
    changes_config,
    container,
    each_service,
    each_stack,
    rendered,
    run,
    run_as,
    secret_arn,
    stack_settings,
    stack_values,
    with_every_contract,
)

SECRET = "aws:secretsmanager/secret:Secret"
VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
GET_SECRET = "aws:secretsmanager/getSecret:getSecret"


@each_stack
def test_adopted_secrets_are_looked_up_once_and_declared_ones_created(stack):
    result, sources = rendered(stack), stack_settings(stack).secret_sources
    looked_up = Counter(
        args.get("name") or args.get("arn") for token, args in result.mocks.calls if token == GET_SECRET
    )
    adopted = {s.name_or_arn for s in sources if s.mode is SecretMode.EXISTING}
    assert set(looked_up) == adopted and set(looked_up.values()) <= {1}
    created = {r.inputs["name"] for r in by_type(result, SECRET)}
    assert created == {s.name_or_arn for s in sources if s.mode is SecretMode.CREATE}


@each_service
def test_the_container_references_each_secret_by_its_full_arn(stack, service):
    result = rendered(stack)
    secrets = {s["name"]: s["valueFrom"] for s in container(result, service)["secrets"]}
    for source in stack_settings(stack).service(service).secrets:
        # The secret's complete ARN (random suffix included), then the JSON key and version the stack names.
        assert secrets[source.env_var] == source.container_value_from(secret_arn(result, source))
        assert secrets[source.env_var].startswith(secret_arn(result, source))


def declare_first_secret(stack: str, service: str, **extra) -> tuple[dict, str]:
    """The stack with the service's first contract secret declared by the program instead of adopted."""
    requirements = CONTRACTS[service].secrets
    if not requirements:
        pytest.skip(f"the {service} contract requires no secret")
    variable = requirements[0].env_var
    values = stack_values(stack)
    for config in values["hokusai:services"].values():  # a shared secret is declared the same way everywhere
        if variable in config["secrets"]:
            config["secrets"][variable] = {"create": requirements[0].secret_name_for(stack), **extra}
    return values, variable


@each_service
@changes_config
@tiers.renders
def test_a_declared_secret_has_no_value_in_the_program_and_preview_says_to_put_one(stack, service, caplog):
    values, variable = declare_first_secret(stack, service)
    result = run_as(stack, values)
    (secret,) = [
        r for r in by_type(result, SECRET) if r.inputs["name"] == CONTRACTS[service].secrets[0].secret_name_for(stack)
    ]
    assert secret.inputs["recoveryWindowInDays"] == 7
    assert f"{variable} of {naming.service_name(service, stack)}" in secret.inputs["description"]
    assert not [v for v in by_type(result, VERSION) if v.inputs["secretId"] == secret.id]
    assert any(
        "declared without a value" in r.getMessage() and "put-secret-value" in r.getMessage() for r in caplog.records
    )


@each_service
@changes_config
@tiers.renders
def test_a_secret_adopted_by_partial_arn_is_referenced_by_its_full_arn(stack, service):
    settings = stack_settings(stack)
    values = stack_values(stack)
    for variable, source in values["hokusai:services"][service]["secrets"].items():
        name = source.get("existing", "")
        if name and not name.startswith("arn:"):
            partial = f"arn:aws:secretsmanager:{settings.region}:{settings.account_id}:secret:{name}"
            for config in values["hokusai:services"].values():
                if config["secrets"].get(variable) == source:
                    config["secrets"][variable] = {"existing": partial}
            break
    else:
        pytest.skip(f"{service} adopts no secret by name in {stack}")
    value_from = {s["name"]: s["valueFrom"] for s in container(run_as(stack, values), service)["secrets"]}[variable]
    assert value_from.startswith(partial + "-") and len(value_from) == len(partial) + 7


@each_service
@changes_config
@tiers.renders
def test_a_declared_secret_may_take_its_value_from_encrypted_config(stack, service):
    values, _ = declare_first_secret(stack, service, value_from="declaredSecretValue")
    values["hokusai:declaredSecretValue"] = "value-only-in-encrypted-config"
    result = run(values, stack=stack, secret_keys=["hokusai:declaredSecretValue"])
    (version,) = by_type(result, VERSION)
    (secret,) = [
        r for r in by_type(result, SECRET) if r.inputs["name"] == CONTRACTS[service].secrets[0].secret_name_for(stack)
    ]
    assert version.inputs["secretId"] == secret.id
    # The value travels as a Pulumi secret: encrypted in state, masked in previews.
    assert version.inputs["secretString"] == {
        rpc._special_sig_key: rpc._special_secret_sig,
        "value": "value-only-in-encrypted-config",
    }
    # ... and the value is nowhere else in the graph.
    assert sum("value-only-in-encrypted-config" in str(r.inputs) for r in result.resources) == 1


@tiers.renders
def test_a_secret_shared_by_services_is_looked_up_once_and_referenced_alike(dev_values):
    result = run(with_every_contract(dev_values))
    lookups = Counter(args.get("name") for token, args in result.mocks.calls if token == GET_SECRET)
    assert set(lookups.values()) == {1}
    shared = Counter(variable for contract in CONTRACTS.values() for variable in contract.secret_names)
    for variable in (v for v, users in shared.items() if users > 1):
        references = {
            {s["name"]: s["valueFrom"] for s in container(result, key)["secrets"]}[variable]
            for key, contract in CONTRACTS.items()
            if variable in contract.secret_names
        }
        assert len(references) == 1, (variable, references)
