"""docs/ENVIRONMENT.md: generated from the contract, and never stale."""

from __future__ import annotations

import dataclasses

import pytest

from core.contract import CONTRACTS, DerivedFrom, SecretRequirement, SettingRequirement
from ops import envdoc
from ops.envdoc import DOC_PATH, REGENERATE, check_fresh, render
from ops.report import EXIT_FINDINGS, EXIT_OK, Status

# Reads the stack files or the contract: run in every variant copy (tests/test_variants.py).
pytestmark = pytest.mark.reads_config


@pytest.fixture(autouse=True)
def no_step_summary(monkeypatch):
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


def with_new_variables() -> dict:
    """The contracts plus one new setting and one new secret for the first of them."""
    key, contract = next(iter(CONTRACTS.items()))
    changed = dataclasses.replace(
        contract,
        settings=contract.settings + (SettingRequirement("FEATURE_STORE_URL", "feature store the model reads"),),
        secrets=contract.secrets
        + (SecretRequirement("STRIPE_API_KEY", "hokusai/{environment}/stripe/api-key", "billing calls fail"),),
    )
    return {**CONTRACTS, key: changed}


def test_the_committed_document_is_up_to_date():
    committed = DOC_PATH.read_text(encoding="utf-8") if DOC_PATH.exists() else ""
    assert committed == render(), (
        f"docs/ENVIRONMENT.md is stale: core/contract.py changed. Run `{REGENERATE}` "
        "from the repository root and commit the result."
    )


def test_the_staleness_check_fails_when_the_contract_changes(monkeypatch, capsys):
    # GIVEN a contract with a variable the committed document does not know
    changed = with_new_variables()
    generated = render(changed)
    # THEN the generated text differs and names it, so the test above would fail
    assert generated != DOC_PATH.read_text(encoding="utf-8")
    assert "FEATURE_STORE_URL" in generated and "STRIPE_API_KEY" in generated
    # AND --check (CI) fails with the command that regenerates the file
    monkeypatch.setattr(envdoc, "CONTRACTS", changed)
    assert envdoc.main(["--check"]) == EXIT_FINDINGS
    out = capsys.readouterr().out
    assert "is stale" in out and REGENERATE in out and "+| [`STRIPE_API_KEY`](#stripe_api_key)" in out


def test_every_variable_is_documented_with_where_its_value_lives():
    text = render()
    for key, contract in CONTRACTS.items():
        for secret in contract.secrets:
            assert f"`{secret.secret_name_for('<stack>')}`" in text
            assert f"`hokusai:services.{key}.secrets.{secret.env_var}`" in text
            assert secret.breaks in text
        for setting in contract.settings:
            assert f"### `{setting.env_var}`" in text
            assert setting.purpose in text
            if not setting.derived_from:
                assert f"`hokusai:services.{key}.environment.{setting.env_var}`" in text
        for setting in contract.settings:
            if setting.derived_from is DerivedFrom.ENVIRONMENT:
                assert "set by the program from the stack name" in text
            if setting.derived_from is DerivedFrom.CONTAINER_PORT:
                assert f"set by the program from the contract's container port ({contract.container_port})" in text


def test_every_variable_lists_every_service_that_needs_it_and_how() -> None:
    needs = envdoc.needs_by_variable(CONTRACTS)
    expected: dict[str, list[tuple[str, str, str]]] = {}
    for key in sorted(CONTRACTS):
        contract = CONTRACTS[key]
        for secret in contract.secrets:
            expected.setdefault(secret.env_var, []).append((key, "secret", secret.breaks))
        for setting in contract.settings:
            kind = "derived" if setting.derived_from else "plain"
            expected.setdefault(setting.env_var, []).append((key, kind, setting.purpose))
        for dependency in contract.dependencies:
            for env_var, _attribute in dependency.settings:
                expected.setdefault(env_var, []).append((key, "derived", dependency.purpose))
    assert set(needs) == set(expected)
    for name, rows in expected.items():
        assert [(n.service, n.kind) for n in needs[name]] == [(service, kind) for service, kind, _ in rows], name
        assert all(words in n.purpose for n, (_, _, words) in zip(needs[name], rows, strict=True)), name


@pytest.mark.parametrize("contract", CONTRACTS.values(), ids=list(CONTRACTS))
def test_not_provided_variables_are_listed_with_their_reasons(contract):
    section = render().split("## Not provided by the infrastructure", 1)[1]
    for entry in contract.not_provided:
        assert f"| `{entry.env_var}` | `{contract.key}` | {entry.reason} |" in section


def test_the_document_is_deterministic():
    reordered = dict(reversed(list(CONTRACTS.items())))
    assert render(reordered) == render(CONTRACTS) == render()
    assert "generated from `core/contract.py`" in render()


def test_write_then_check_round_trips(tmp_path, capsys):
    target = tmp_path / "docs" / "ENVIRONMENT.md"
    assert envdoc.main(["--check", "--file", str(target)]) == EXIT_FINDINGS  # missing is stale
    assert envdoc.main(["--write", "--file", str(target)]) == EXIT_OK
    assert target.read_text(encoding="utf-8") == render()
    assert envdoc.main(["--check", "--file", str(target)]) == EXIT_OK
    capsys.readouterr()
    assert envdoc.main([]) == EXIT_OK
    assert capsys.readouterr().out == render()


def test_check_fresh_reports_one_row():
    stale = check_fresh(DOC_PATH, render(with_new_variables()))
    assert [r.status for r in stale.results] == [Status.FAIL]
    assert REGENERATE in stale.results[0].fix


@pytest.mark.parametrize("contract", CONTRACTS.values(), ids=list(CONTRACTS))
def test_every_dependency_setting_says_which_dependency_and_attribute_it_is_derived_from(contract):
    needs = envdoc.needs_by_variable(CONTRACTS)
    for requirement in contract.dependencies:
        for env_var, attribute in requirement.settings:
            (need,) = [n for n in needs[env_var] if n.service == contract.key]
            assert need.kind == envdoc.DERIVED
            assert f"derived from dependency {requirement.dependency}: {attribute.value}" in need.where
            assert f"`hokusai:dependencies.{requirement.dependency}.{attribute.value}`" in need.where
            assert "not settable by hand" in need.where
