"""verify holds each container secret to the exact valueFrom the stack declares (ARN, JSON key,
version), and checks the grant and the value on the secret itself, without AWS."""

from __future__ import annotations

import dataclasses

import pytest

from core.contract import CONTRACTS
from core.estate import Estate
from core.value_from import SecretValueFrom
from ops.collect import ServiceSnapshot, Snapshot
from ops.report import Status
from ops.verify_checks import check_secrets, check_task_definition
from tests.helpers import STACK_SERVICES, rendered

VERSION_ID = "0a1b2c3d-4e5f-4071-8293-a4b5c6d7e8f9"


# Reads the stack files or the contract: run in every variant copy (tests/test_variants.py).
pytestmark = pytest.mark.reads_config


@pytest.fixture(params=STACK_SERVICES, ids=[f"{stack}-{service}" for stack, service in STACK_SERVICES])
def service(request):
    """Every service of every stack file that reads a secret, as its estate output declares it."""
    stack, key = request.param
    if not CONTRACTS[key].secrets:
        pytest.skip(f"the {key} contract requires no secret")
    return Estate.from_outputs(rendered(stack).outputs).service(key)


def reading_json_keys(declared):
    """The service as a stack would declare it with every secret read by a JSON key of the AWSCURRENT version."""
    value_froms = {
        env_var: str(SecretValueFrom(arn, json_key=env_var.lower())) for env_var, arn in declared.secret_arns.items()
    }
    return dataclasses.replace(declared, secret_value_froms=value_froms)


def snapshot(declared, value_froms, *, policies=None, versions=None):
    container = {
        "name": declared.container_name,
        "secrets": [{"name": name, "valueFrom": value} for name, value in value_froms.items()],
        "environment": [],
    }
    snap = ServiceSnapshot(
        task_definitions={declared.task_definition_arn: {"containerDefinitions": [container]}},
        execution_role_policies=policies,
    )
    secrets = {
        arn: {"Name": arn.split(":secret:")[1], "VersionIdsToStages": versions or {VERSION_ID: ["AWSCURRENT"]}}
        for arn in declared.secret_arns.values()
    }
    return snap, Snapshot(services={declared.key: snap}, secrets=secrets, alarms={}, security_group_rules=None)


def secret_results(declared, value_froms):
    snap, world = snapshot(declared, value_froms)
    contract = CONTRACTS[declared.key]
    return [r for r in check_task_definition(declared, contract, snap, world) if r.check == "taskdef.secret"]


def test_the_declared_value_froms_pass(service):
    declared = reading_json_keys(service)
    results = secret_results(declared, declared.secret_value_froms)
    assert results and {r.status for r in results} == {Status.OK}


def test_a_value_from_that_is_a_prefix_of_the_declared_one_fails(service):
    """The old check let a shorter valueFrom through: a partial ARN, or the ARN without its JSON key."""
    declared = reading_json_keys(service)
    env_var, expected = sorted(declared.secret_value_froms.items())[0]
    for prefix in (SecretValueFrom.parse(expected).secret_arn, expected[:-7], expected.rsplit(":", 3)[0][:-7]):
        results = secret_results(declared, {**declared.secret_value_froms, env_var: prefix})
        failed = [r for r in results if r.status is Status.FAIL]
        assert [r.subject for r in failed] and env_var in failed[0].finding, prefix


def test_another_json_key_of_the_same_secret_fails_and_says_which(service):
    declared = reading_json_keys(service)
    env_var, expected = sorted(declared.secret_value_froms.items())[0]
    wrong = str(dataclasses.replace(SecretValueFrom.parse(expected), json_key="other_key"))
    (failed,) = [
        r for r in secret_results(declared, {**declared.secret_value_froms, env_var: wrong}) if r.status is Status.FAIL
    ]
    assert "JSON key 'other_key' instead of" in failed.finding


def test_another_version_fails(service):
    declared = reading_json_keys(service)
    env_var, expected = sorted(declared.secret_value_froms.items())[0]
    wrong = str(dataclasses.replace(SecretValueFrom.parse(expected), version_stage="AWSPREVIOUS"))
    (failed,) = [
        r for r in secret_results(declared, {**declared.secret_value_froms, env_var: wrong}) if r.status is Status.FAIL
    ]
    assert "version stage 'AWSPREVIOUS'" in failed.finding


def test_the_grant_is_checked_on_the_secret_not_on_the_suffixed_value_from(service):
    declared = reading_json_keys(service)
    on_the_arns = {
        "Effect": "Allow",
        "Action": "secretsmanager:GetSecretValue",
        "Resource": sorted(declared.secret_arns.values()),
    }
    snap, world = snapshot(declared, declared.secret_value_froms, policies=[{"Statement": [on_the_arns]}])
    grants = [r for r in check_secrets(declared, CONTRACTS[declared.key], snap, world) if r.check == "iam.grant"]
    assert grants and {r.status for r in grants} == {Status.OK}
    # A grant on the suffixed valueFroms alone names no secret ECS reads: it fails.
    on_the_value_froms = {**on_the_arns, "Resource": sorted(declared.secret_value_froms.values())}
    snap, world = snapshot(declared, declared.secret_value_froms, policies=[{"Statement": [on_the_value_froms]}])
    grants = [r for r in check_secrets(declared, CONTRACTS[declared.key], snap, world) if r.check == "iam.grant"]
    assert {r.status for r in grants} == {Status.FAIL}


@pytest.mark.parametrize(
    "reads,versions,status",
    [
        ({}, {VERSION_ID: ["AWSCURRENT"]}, Status.OK),
        ({}, {VERSION_ID: ["AWSPREVIOUS"]}, Status.FAIL),
        ({"version_stage": "AWSPREVIOUS"}, {VERSION_ID: ["AWSPREVIOUS"]}, Status.OK),
        ({"version_stage": "AWSPREVIOUS"}, {VERSION_ID: ["AWSCURRENT"]}, Status.FAIL),
        ({"version_id": VERSION_ID}, {VERSION_ID: []}, Status.OK),
        ({"version_id": VERSION_ID}, {"1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9": ["AWSCURRENT"]}, Status.FAIL),
    ],
    ids=["current", "no current", "stage", "stage missing", "version id", "version id missing"],
)
def test_the_version_the_task_reads_must_exist(service, reads, versions, status):
    declared = service
    value_froms = {env: str(SecretValueFrom(arn, **reads)) for env, arn in declared.secret_arns.items()}
    declared = dataclasses.replace(declared, secret_value_froms=value_froms)
    snap, world = snapshot(declared, value_froms, policies=[], versions=versions)
    values = [r for r in check_secrets(declared, CONTRACTS[declared.key], snap, world) if r.check.startswith("secret.")]
    assert values and {r.status for r in values} == {status}
