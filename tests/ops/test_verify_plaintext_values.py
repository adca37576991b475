"""verify's taskdef.plaintext_value: a plain `environment` value shaped like a credential is a
finding whatever its variable is called (DATABASE_URL with a password in it), named by variable
and kind, never by value. Both directions: every service's rendered values, the fake estate's
and a table of plain values pass; each kind of credential fails. Without the check, or with a
narrower rule, the same revision passes (so these tests are what proves the check works)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.contract import CONTRACTS
from core.estate import Estate
from core.secret_values import credential_in
from ops import verify as verify_tool
from ops import verify_checks
from ops.aws import Aws
from ops.collect import ServiceSnapshot, Snapshot
from ops.report import Status
from ops.verify_checks import check_task_definition
from synth.fake_estate import _new_revision, repoint_service
from tests.credential_samples import PLAIN_VALUES, SECRET_VALUES
from tests.helpers import STACK_SERVICES, container, rendered

# Reads the stack files or the contract: run in every variant copy (tests/test_variants.py).
pytestmark = pytest.mark.reads_config

# A name no rule flags: only the value can give the credential away.
HARMLESS_NAME = "DATABASE_URL"
CHECK = "taskdef.plaintext_value"


@pytest.fixture(params=STACK_SERVICES, ids=[f"{stack}-{service}" for stack, service in STACK_SERVICES])
def service(request):
    """(declared, rendered container) for every service of every stack file."""
    stack, key = request.param
    return Estate.from_outputs(rendered(stack).outputs).service(key), container(rendered(stack), key)


def value_results(declared, definition, environment=None):
    """The taskdef.plaintext_value results for `definition`, its environment replaced if given."""
    definition = dict(definition)
    if environment is not None:
        definition["environment"] = [{"name": n, "value": v} for n, v in environment.items()]
    snap = ServiceSnapshot(task_definitions={declared.task_definition_arn: {"containerDefinitions": [definition]}})
    world = Snapshot(services={declared.key: snap}, secrets={}, alarms={}, security_group_rules=None)
    return [r for r in check_task_definition(declared, CONTRACTS[declared.key], snap, world) if r.check == CHECK]


def plain_environment(definition) -> dict[str, str]:
    return {e["name"]: e["value"] for e in definition.get("environment") or []}


def test_every_rendered_plain_value_passes(service):
    declared, definition = service
    assert plain_environment(definition), "the rendered container has no plain setting to check"
    (result,) = value_results(declared, definition)
    assert result.status is Status.OK, result.finding


@pytest.mark.parametrize("value", PLAIN_VALUES.values(), ids=PLAIN_VALUES.keys())
def test_a_plain_value_under_any_name_passes(service, value):
    declared, definition = service
    (result,) = value_results(declared, definition, {**plain_environment(definition), HARMLESS_NAME: value})
    assert result.status is Status.OK, result.finding


@pytest.mark.parametrize("kind", SECRET_VALUES, ids=SECRET_VALUES.keys())
def test_a_credential_shaped_value_fails_naming_the_variable_and_kind_never_the_value(service, kind):
    declared, definition = service
    value = SECRET_VALUES[kind]
    (result,) = value_results(declared, definition, {**plain_environment(definition), HARMLESS_NAME: value})
    assert result.status is Status.FAIL
    assert f"{HARMLESS_NAME} ({credential_in(value)})" in result.finding
    assert "Secrets Manager" in result.fix and f"services.{declared.key}.secrets" in result.fix
    assert value not in f"{result.subject} {result.finding} {result.fix}"


def test_a_credential_like_name_is_reported_once_by_the_name_check(service):
    declared, definition = service
    environment = {**plain_environment(definition), "API_SECRET_KEY": SECRET_VALUES["jwt"]}
    assert [r.status for r in value_results(declared, definition, environment)] == [Status.OK]


def test_removed_the_check_lets_the_credential_through(service, monkeypatch):
    declared, definition = service
    monkeypatch.setattr(verify_checks, "_credential_shaped_values", lambda *args: iter(()))
    environment = {**plain_environment(definition), HARMLESS_NAME: SECRET_VALUES["url with password"]}
    assert value_results(declared, definition, environment) == []


def test_weakened_to_urls_only_the_check_misses_a_token(service, monkeypatch):
    declared, definition = service
    monkeypatch.setattr(verify_checks, "credential_in", lambda v: "a URL" if "@" in v else None)
    environment = {**plain_environment(definition), HARMLESS_NAME: SECRET_VALUES["hugging face token"]}
    (result,) = value_results(declared, definition, environment)
    assert result.status is Status.OK


# --------------------------------------------------------------------------- #
# Against moto: a revision registered by hand with a password in DATABASE_URL
# --------------------------------------------------------------------------- #


def _password_url() -> str:
    return "".join(("postgresql://u:", "p", "@h/db"))  # built from parts: no credential literal here


def _with_password_url(container_definition) -> None:
    container_definition["environment"].append({"name": HARMLESS_NAME, "value": _password_url()})


def run_verify(fake, tmp_path: Path, boto_session):
    outputs = tmp_path / "outputs.json"
    fake.write(outputs)
    return verify_tool.verify("development", outputs=outputs, aws=Aws(region="us-east-1", session=boto_session))


def test_verify_fails_on_a_password_in_a_plain_url_without_printing_it(fake, tmp_path, boto_session):
    # GIVEN the service runs a revision registered by hand with DATABASE_URL=postgresql://u:p@h/db in environment
    repoint_service(fake, _new_revision(fake, _with_password_url))
    # WHEN verify runs
    report = run_verify(fake, tmp_path, boto_session)
    # THEN it is a finding (exit 1) of exactly this check, naming the variable and the kind, never the value
    assert report.exit_code == 1
    assert {r.check for r in report.failures} == {CHECK}, report.table()
    (failure,) = report.failures
    assert HARMLESS_NAME in failure.finding and "a URL with a password in it" in failure.finding
    assert _password_url() not in report.table() and _password_url() not in report.as_json()


def test_verify_without_the_check_passes_the_same_revision(fake, tmp_path, boto_session, monkeypatch):
    monkeypatch.setattr(verify_checks, "_credential_shaped_values", lambda *args: iter(()))
    repoint_service(fake, _new_revision(fake, _with_password_url))
    assert run_verify(fake, tmp_path, boto_session).exit_code == 0
