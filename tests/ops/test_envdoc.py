"""docs/ENVIRONMENT.md: generated from the contract, and never stale."""

from __future__ import annotations

import dataclasses

import pytest

from core.contract import API, CONTRACTS, MLFLOW, SecretRequirement, SettingRequirement
from ops import envdoc
from ops.envdoc import DOC_PATH, REGENERATE, check_fresh, render
from ops.report import EXIT_FINDINGS, EXIT_OK, Status


@pytest.fixture(autouse=True)
def no_step_summary(monkeypatch):
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


def with_new_variables() -> dict:
    """The contracts plus one new setting and one new secret for the api."""
    api = dataclasses.replace(
        API,
        settings=API.settings + (SettingRequirement("FEATURE_STORE_URL", "feature store the model reads"),),
        secrets=API.secrets
        + (SecretRequirement("STRIPE_API_KEY", "hokusai/{environment}/stripe/api-key", "billing calls fail"),),
    )
    return {**CONTRACTS, "api": api}


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
    assert "set by the program from the stack name" in text
    assert "set by the program from the contract's container port (8001)" in text


def test_a_shared_variable_lists_every_service_that_needs_it():
    needs = envdoc.needs_by_variable(CONTRACTS)
    assert [n.service for n in needs["DB_PASSWORD"]] == ["api", "mlflow"]
    assert [n.kind for n in needs["HUGGINGFACE_API_KEY"]] == ["secret"]
    assert [n.kind for n in needs["ENVIRONMENT"]] == ["derived", "derived"]
    assert MLFLOW.secret("DB_PASSWORD").breaks in needs["DB_PASSWORD"][1].purpose


def test_not_provided_variables_are_listed_with_their_reasons():
    text = render()
    section = text.split("## Not provided by the infrastructure", 1)[1]
    for entry in API.not_provided:
        assert f"| `{entry.env_var}` | `api` | {entry.reason} |" in section


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
