"""envcheck and the values of a .env.example: a variable whose example value is shaped like a
credential (DATABASE_URL=postgresql://user:<password>@...) tells that the application expects
a credential in it; provided as a plain setting, that credential would be readable by anyone
who may describe the task definition. Named by variable and kind, never by value. Both
directions, over every contract entry: plain example values pass, credential-shaped ones fail;
without the check, or with a narrower rule, they pass (so these tests prove the check works)."""

from __future__ import annotations

import json

import pytest

from core.contract import CONTRACTS
from core.secret_values import credential_in
from ops import envcheck
from ops.envcheck import SECRET, compare, parse_env_example, provided_by_contract
from ops.report import EXIT_FINDINGS, Status
from tests.credential_samples import PLAIN_VALUES, SECRET_VALUES
from tests.helpers import env_example_matching

# Reads the contract: run in every variant copy (tests/test_variants.py).
pytestmark = pytest.mark.reads_config

CHECK = "env.plain_credential"
# Every variable a contract provides other than as a secret: (service, name).
NOT_SECRET = [
    (key, name)
    for key, contract in sorted(CONTRACTS.items())
    for name, provision in sorted(provided_by_contract(contract).items())
    if provision.kind != SECRET
]
SECRETS = [(key, name) for key, contract in sorted(CONTRACTS.items()) for name in contract.secret_names]


def results_with(key: str, **values: str):
    """compare() for the contract's matching example, with `values` assigned after it (they win)."""
    contract = CONTRACTS[key]
    text = env_example_matching(contract) + "".join(f"{name}={value!r}\n" for name, value in values.items())
    return {r.subject: r for r in compare(parse_env_example(text), contract)}


@pytest.mark.parametrize("key", sorted(CONTRACTS))
def test_every_contracts_matching_example_has_no_plain_credential(key):
    assert [r for r in results_with(key).values() if r.check == CHECK] == []


@pytest.mark.parametrize("key", sorted(CONTRACTS))
@pytest.mark.parametrize("value", PLAIN_VALUES.values(), ids=PLAIN_VALUES.keys())
def test_a_plain_example_value_passes_for_every_plain_setting(key, value):
    names = [name for service, name in NOT_SECRET if service == key]
    results = results_with(key, **dict.fromkeys(names, value))
    assert [r for r in results.values() if r.check == CHECK] == []


@pytest.mark.parametrize(("key", "name"), NOT_SECRET, ids=[f"{k}-{n}" for k, n in NOT_SECRET])
def test_a_credential_shaped_example_value_of_a_plain_setting_fails(key, name):
    value = SECRET_VALUES["url with password"]
    row = results_with(key, **{name: value})[name]
    assert (row.check, row.status) == (CHECK, Status.FAIL)
    assert value not in f"{row.finding} {row.fix}"


@pytest.mark.parametrize("kind", SECRET_VALUES, ids=SECRET_VALUES.keys())
@pytest.mark.parametrize("key", sorted({k for k, _ in NOT_SECRET}))
def test_each_kind_of_credential_is_named_with_the_fix_and_never_printed(key, kind):
    name = next(n for k, n in NOT_SECRET if k == key)
    value = SECRET_VALUES[kind]
    row = results_with(key, **{name: value})[name]
    assert (row.check, row.status) == (CHECK, Status.FAIL)
    assert f"({credential_in(value)})" in row.finding or CONTRACTS[key].must_be_secret(name)
    assert "Secrets Manager" in row.fix or "SecretRequirement" in row.fix
    assert value not in f"{row.subject} {row.finding} {row.fix}"


@pytest.mark.parametrize(("key", "name"), SECRETS, ids=[f"{k}-{n}" for k, n in SECRETS])
def test_a_credential_shaped_example_value_of_a_secret_passes(key, name):
    row = results_with(key, **{name: SECRET_VALUES["hugging face token"]})[name]
    assert row.status is Status.OK


@pytest.mark.parametrize("key", sorted(CONTRACTS))
def test_a_missing_variable_with_a_credential_shaped_example_is_to_be_a_secret(key):
    row = results_with(key, SERVICE_URL=SECRET_VALUES["url with password"])["SERVICE_URL"]
    assert (row.check, row.status) == ("env.missing", Status.FAIL)
    assert "SecretRequirement" in row.fix and "never a plain setting" in row.fix


@pytest.mark.parametrize("key", sorted({k for k, _ in NOT_SECRET}))
def test_the_last_assignment_wins_as_in_dotenv(key):
    name = next(n for k, n in NOT_SECRET if k == key)
    text = env_example_matching(CONTRACTS[key]) + f"{name}='{SECRET_VALUES['jwt']}'\n{name}=plain\n"
    row = {r.subject: r for r in compare(parse_env_example(text), CONTRACTS[key])}[name]
    assert row.status is Status.OK


@pytest.mark.parametrize("key", sorted({k for k, _ in NOT_SECRET}))
def test_removed_the_check_lets_the_credential_through(key, monkeypatch):
    monkeypatch.setattr(envcheck, "credential_in", lambda value: None)
    name = next(n for k, n in NOT_SECRET if k == key and not CONTRACTS[key].must_be_secret(n))
    assert results_with(key, **{name: SECRET_VALUES["url with password"]})[name].status is Status.OK


@pytest.mark.parametrize("key", sorted({k for k, _ in NOT_SECRET}))
def test_weakened_to_urls_only_the_check_misses_a_token(key, monkeypatch):
    monkeypatch.setattr(envcheck, "credential_in", lambda value: "a URL" if "@" in value else None)
    name = next(n for k, n in NOT_SECRET if k == key and not CONTRACTS[key].must_be_secret(n))
    assert results_with(key, **{name: SECRET_VALUES["hugging face token"]})[name].status is Status.OK


def test_the_command_line_exits_1_and_prints_no_value(tmp_path, capsys):
    key, name = next((k, n) for k, n in NOT_SECRET if k == "api")
    value = SECRET_VALUES["url with password"]
    path = tmp_path / ".env.example"
    path.write_text(env_example_matching(CONTRACTS[key]) + f"{name}={value}\n")
    code = envcheck.main([str(path), "--service", key, "--json"])
    out, err = capsys.readouterr()
    assert code == EXIT_FINDINGS
    row = {r["subject"]: r for r in json.loads(out)["results"]}[name]
    assert (row["check"], row["status"]) == (CHECK, "FAIL")
    assert value not in out + err
