"""verify's grant check (iam.grant) without AWS: what the execution role's own
policies say, read by core/iam_policy.py with only what verify knows of the
request; "cannot tell" where that is not enough, never a silent pass."""

from __future__ import annotations

import pytest

from core.contract import CONTRACTS
from core.estate import Estate
from ops.collect import ServiceSnapshot, Snapshot
from ops.report import Status
from ops.verify_checks import check_secrets, check_task_definition, secret_read_context
from tests.helpers import STACK_SERVICES, rendered

# Reads the stack files or the contract: run in every variant copy (tests/test_variants.py).
pytestmark = pytest.mark.reads_config


@pytest.fixture(params=STACK_SERVICES, ids=[f"{stack}-{service}" for stack, service in STACK_SERVICES])
def declared(request):
    """Every service of every stack file, as its estate output declares it."""
    stack, key = request.param
    if not CONTRACTS[key].secrets:
        pytest.skip(f"the {key} contract requires no secret")
    return Estate.from_outputs(rendered(stack).outputs).service(key)


def grant_results(declared, *statements):
    """The iam.grant results for the service whose execution role holds `statements`."""
    container = {
        "name": declared.container_name,
        "secrets": [{"name": name, "valueFrom": arn} for name, arn in declared.secret_arns.items()],
    }
    snap = ServiceSnapshot(
        task_definitions={declared.task_definition_arn: {"containerDefinitions": [container]}},
        execution_role_policies=[{"Version": "2012-10-17", "Statement": list(statements)}],
    )
    world = Snapshot(services={declared.key: snap}, secrets={}, alarms={}, security_group_rules=None)
    return [r for r in check_secrets(declared, CONTRACTS[declared.key], snap, world) if r.check == "iam.grant"]


def read(declared, **extra):
    return {
        "Sid": "ReadDeclaredSecrets",
        "Effect": "Allow",
        "Action": "secretsmanager:GetSecretValue",
        "Resource": sorted(declared.secret_arns.values()),
        **extra,
    }


def statuses(results):
    return {r.status for r in results}


def test_the_declared_grant_passes_for_every_secret(declared):
    results = grant_results(declared, read(declared))
    assert len(results) == len(declared.secret_arns) and statuses(results) == {Status.OK}


def test_a_not_resource_grant_is_evaluated_not_shrugged_at(declared):
    everything_but = {
        "Effect": "Allow",
        "Action": "secretsmanager:GetSecretValue",
        "NotResource": "arn:aws:secretsmanager:*:*:secret:prod/*",
    }
    assert statuses(grant_results(declared, everything_but)) == {Status.OK}


def test_a_condition_on_a_key_verify_knows_is_evaluated(declared):
    """The secret's account is in its ARN: a Deny outside the account does not apply, one inside does."""
    account = declared.execution_role_arn.split(":")[4]
    elsewhere = {"StringNotEquals": {"aws:ResourceAccount": account}}
    assert statuses(
        grant_results(declared, read(declared), read(declared, Effect="Deny", Sid="Foreign", Condition=elsewhere))
    ) == {Status.OK}
    here = {"StringEquals": {"aws:ResourceAccount": account}}
    results = grant_results(declared, read(declared), read(declared, Effect="Deny", Sid="NoSecrets", Condition=here))
    assert statuses(results) == {Status.FAIL}
    assert "denied by NoSecrets" in results[0].finding and "ResourceInitializationError" in results[0].finding


def test_a_condition_on_a_key_verify_cannot_know_is_cannot_tell_not_a_pass(declared):
    endpoint_only = {"StringEquals": {"aws:SourceVpce": "vpce-0a1b2c3d"}}
    results = grant_results(declared, read(declared, Condition=endpoint_only))
    assert statuses(results) == {Status.WARN}
    assert "cannot tell" in results[0].finding and "aws:SourceVpce" in results[0].finding


def test_a_deny_verify_cannot_evaluate_is_not_silently_ignored(declared):
    guard = {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}
    results = grant_results(
        declared, read(declared), read(declared, Effect="Deny", Sid="OnlyFromTheVpc", Condition=guard)
    )
    assert statuses(results) == {Status.WARN} and "OnlyFromTheVpc" in results[0].finding


def test_no_grant_fails(declared):
    results = grant_results(declared, read(declared, Action="secretsmanager:DescribeSecret"))
    assert statuses(results) == {Status.FAIL} and "not allowed" in results[0].finding


def test_the_request_context_holds_only_what_the_arns_say():
    context = secret_read_context(
        "arn:aws:iam::123456789012:role/hokusai-api-development-execution",
        "arn:aws:secretsmanager:us-east-1:210987654321:secret:hokusai/development/x-AbCdEf",
    )
    assert context == {
        "aws:PrincipalArn": "arn:aws:iam::123456789012:role/hokusai-api-development-execution",
        "aws:PrincipalAccount": "123456789012",
        "aws:ResourceAccount": "210987654321",
        "aws:RequestedRegion": "us-east-1",
    }


def test_a_value_from_that_is_only_a_prefix_of_the_declared_secret_fails(declared):
    """`.../database/pass` is another secret than `.../database/password-AbCdEf`: equal or wrong, never a prefix."""
    env_var, arn = sorted(declared.secret_arns.items())[0]
    expected = declared.secret_value_froms[env_var]  # the ARN, then the JSON key and version the stack names
    for value_from in (arn[: -len("-AbCdEf")], arn[: arn.rindex("/") + 3]):
        secrets = [
            {"name": n, "valueFrom": value_from if n == env_var else declared.secret_value_froms[n]}
            for n in declared.secret_arns
        ]
        container = {"name": declared.container_name, "secrets": secrets, "environment": []}
        snap = ServiceSnapshot(task_definitions={declared.task_definition_arn: {"containerDefinitions": [container]}})
        world = Snapshot(services={declared.key: snap}, secrets={}, alarms={}, security_group_rules=None)
        results = [
            r
            for r in check_task_definition(declared, CONTRACTS[declared.key], snap, world)
            if r.check == "taskdef.secret"
        ]
        failed = [r for r in results if r.status is Status.FAIL]
        assert [r.finding for r in failed] == [
            f"{env_var} reads {value_from}, but the stack declares {expected} (another secret)"
        ]
