"""docs/SETTINGS.md: generated from the declarations, never stale, and listing
exactly the keys the loader accepts."""

from __future__ import annotations

import re

import pytest

from core.generated_doc import EXIT_CANNOT_CHECK, EXIT_OK, EXIT_STALE
from core.settings import SERVICE_KEYS, TOP_LEVEL_KEYS
from core.settings import docs as settings_docs
from core.settings.declarations import all_declared, child_names
from core.settings.docs import DOC_PATH, REGENERATE, render
from core.settings.fields import NAMESPACE, Kind
from tests.settings_samples import (
    SAMPLES,
    SECTIONS,
    declared_key_of,
    example_path,
    has,
    hokusai_settings,
    problems,
    put,
    sample_with,
)

# Reads the stack files or the contract: run in every variant copy (tests/test_variants.py).
pytestmark = pytest.mark.reads_config

ROW = re.compile(r"^\| `([^`]+)` \|", re.MULTILINE)


def documented_keys(text: str) -> list[str]:
    return ROW.findall(text)


# --------------------------------------------------------------------------- #
# Fresh
# --------------------------------------------------------------------------- #


def test_the_committed_document_is_up_to_date():
    committed = DOC_PATH.read_text(encoding="utf-8") if DOC_PATH.exists() else ""
    assert committed == render(), (
        f"docs/SETTINGS.md is stale: core/settings/declarations.py changed. Run `{REGENERATE}` "
        "(or `make docs`) from the repository root and commit the result."
    )


def test_check_passes_on_a_fresh_file_and_write_makes_one(tmp_path, capsys):
    target = tmp_path / "docs" / "SETTINGS.md"
    # GIVEN no file: --check fails (exit 1) and says how to make one
    assert settings_docs.main(["--check", "--file", str(target)]) == EXIT_STALE
    assert REGENERATE in capsys.readouterr().out
    # WHEN --write writes it THEN --check passes
    assert settings_docs.main(["--write", "--file", str(target)]) == EXIT_OK
    assert target.read_text(encoding="utf-8") == render()
    assert settings_docs.main(["--check", "--file", str(target)]) == EXIT_OK


def test_check_fails_on_a_stale_file_and_shows_the_difference(tmp_path, capsys):
    # GIVEN a document whose default for the deploy gate's timeout is not the declared one
    stale = tmp_path / "SETTINGS.md"
    stale.write_text(render().replace("| `900` |", "| `600` |"), encoding="utf-8")
    # THEN --check exits 1, naming the fix and the changed row
    assert settings_docs.main(["--check", "--file", str(stale)]) == EXIT_STALE
    out = capsys.readouterr().out
    assert "is stale: 2 lines differ" in out and REGENERATE in out
    assert "+| `hokusai:deploy_gate.timeout_seconds` | whole number | `900` |" in out


def test_check_that_cannot_read_the_file_exits_2(tmp_path, capsys):
    # A directory where the file should be: nothing to compare, so "cannot check", not "stale".
    assert settings_docs.main(["--check", "--file", str(tmp_path)]) == EXIT_CANNOT_CHECK
    assert "cannot check" in capsys.readouterr().err


# --------------------------------------------------------------------------- #
# The documented keys are the accepted keys
# --------------------------------------------------------------------------- #


def test_every_declared_key_is_documented_once():
    text = render()
    rows = documented_keys(text)
    assert len(rows) == len(set(rows)), "a key is documented twice"
    for setting in all_declared():
        if setting.kind is Kind.SECTION and setting.parent and declared_parent_is_mapping(setting):
            # An entry of a mapping (services.<service>) heads the table of its keys.
            assert f"## `{setting.config_key}`" in text
        else:
            assert setting.config_key in rows, f"{setting.config_key} is not in docs/SETTINGS.md"


def declared_parent_is_mapping(setting) -> bool:
    parent = next((s for s in all_declared() if s.key == setting.parent and s.namespace == setting.namespace), None)
    return parent is not None and parent.kind is Kind.SECTION_MAPPING


def test_every_documented_key_is_declared():
    declared = {s.config_key for s in all_declared()}
    assert set(documented_keys(render())) <= declared


def test_the_loader_allows_exactly_the_documented_top_level_and_service_keys():
    rows = documented_keys(render())
    top = [k.removeprefix(f"{NAMESPACE}:") for k in rows if k.startswith(f"{NAMESPACE}:") and "." not in k]
    service = [
        k.removeprefix(f"{NAMESPACE}:services.<service>.")
        for k in rows
        if re.fullmatch(rf"{NAMESPACE}:services\.<service>\.[a-z_]+", k)
    ]
    assert tuple(top) == TOP_LEVEL_KEYS == child_names("")
    assert tuple(service) == SERVICE_KEYS == child_names("services.<service>")


def test_the_samples_load_and_set_every_declared_key():
    """Every documented key is one the loader accepts: some sample sets it, and every sample loads."""
    for sample in SAMPLES:
        assert problems(sample, sample.fresh()) == {}, sample.name
    unset = [s.key for s in hokusai_settings() if not any(has(x.values, example_path(s)) for x in SAMPLES)]
    assert unset == []


def _config_paths(node, path=""):
    """Every key path of a config down to the settings that are not sections."""
    if not path:
        for key, child in node.items():
            if key.startswith(f"{NAMESPACE}:"):
                yield from _config_paths(child, key.removeprefix(f"{NAMESPACE}:"))
        return
    yield path
    setting = declared_key_of(path)
    if setting is None or setting.kind not in SECTIONS:
        return
    if isinstance(node, dict):
        for key, child in node.items():
            yield from _config_paths(child, f"{path}.{key}")
    elif isinstance(node, list):
        for index, child in enumerate(node):
            for key, grandchild in child.items():
                yield from _config_paths(grandchild, f"{path}[{index}].{key}")


def test_every_key_the_samples_set_is_documented():
    documented = set(documented_keys(render()))
    for sample in SAMPLES:
        # value_from names an encrypted config value: a secret, not a setting.
        secrets = {k.removeprefix(f"{NAMESPACE}:") for k in sample.secret_keys}
        for path in _config_paths(sample.values):
            if path in secrets:
                continue
            setting = declared_key_of(path)
            assert setting is not None, f"{sample.name} sets {path}, which is not declared"
            assert setting.config_key in documented or declared_parent_is_mapping(setting)


@pytest.mark.parametrize(
    "section", [s for s in hokusai_settings() if s.kind in (Kind.SECTION, Kind.SECTION_LIST)], ids=lambda s: s.key
)
def test_a_key_not_documented_in_a_section_is_refused(section):
    # GIVEN a sample with an undocumented key inside the section
    sample = sample_with(section)
    where = example_path(section) + ("[0]" if section.kind is Kind.SECTION_LIST else "")
    values = put(sample.fresh(), f"{where}.zz_not_a_setting", 1)
    # THEN the loader refuses it by name
    found = problems(sample, values)
    assert found[f"{NAMESPACE}:{where}.zz_not_a_setting"][0][0] == "is not a known setting"


def test_a_top_level_key_not_documented_is_refused():
    sample = SAMPLES[0]
    values = sample.fresh()
    values[f"{NAMESPACE}:zz_not_a_setting"] = 1
    assert problems(sample, values)[f"{NAMESPACE}:zz_not_a_setting"][0][0] == "is not a known setting"
