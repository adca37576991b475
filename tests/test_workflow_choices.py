"""make docs writes the hand-run workflows' stack and service choices; docs-check finds them stale."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from core import workflow_choices
from core.contract import CONTRACTS
from core.workflow_choices import MARKERS, marked_workflows, with_choices
from tests.helpers import PROJECT_DIR, STACKS, reads_config

STACK_MARKER, SERVICE_MARKER = MARKERS

WORKFLOW = f"""on:
  workflow_dispatch:
    inputs:
      service:
        type: choice
        {SERVICE_MARKER}
        options: [api]
      stack:
        type: choice
        {STACK_MARKER}
        options: [old]
      other:
        type: choice
        options: [left, alone]
"""


def project(tmp_path: Path, stacks: list[str]) -> Path:
    for stack in stacks:
        (tmp_path / f"Pulumi.{stack}.yaml").write_text("config: {}\n")
    (tmp_path / "Pulumi.yaml").write_text("name: hokusai\n")
    return tmp_path


def test_the_options_under_a_marker_are_the_stack_files_and_the_contracts_services(tmp_path):
    root = project(tmp_path, ["development", "production"])
    text = with_choices(WORKFLOW, root)
    assert "options: [development, production]" in text
    assert f"options: [{', '.join(sorted(CONTRACTS))}]" in text
    # An unmarked choice and every other line stay byte for byte.
    assert "options: [left, alone]" in text
    assert [line for line in text.splitlines() if "options" not in line] == [
        line for line in WORKFLOW.splitlines() if "options" not in line
    ]


def test_a_marker_without_an_options_line_under_it_changes_nothing(tmp_path):
    text = f"        {STACK_MARKER}\n        default: x\n        options: [old]\n"
    assert with_choices(text, project(tmp_path, ["development"])) == text


@reads_config
def test_the_committed_workflows_offer_every_stack_and_service():
    marked = marked_workflows()
    assert marked, "no workflow holds a marker: the hand-run workflows lost their drop-downs"
    for path in marked:
        text = path.read_text()
        assert with_choices(text) == text, f"{path.name}: run make docs"
    joined = "\n".join(path.read_text() for path in marked)
    assert f"options: [{', '.join(STACKS)}]" in joined
    assert f"options: [{', '.join(sorted(CONTRACTS))}]" in joined


@pytest.mark.parametrize("stale", ["options: [development, production]", "options: []", "options: [api]"])
def test_check_finds_a_stale_choice_and_write_fixes_it(tmp_path, monkeypatch, capsys, stale):
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    for path in marked_workflows():
        shutil.copy(path, workflows / path.name)
    target = workflows / marked_workflows()[0].name
    lines = target.read_text().split("\n")
    at = next(i for i, line in enumerate(lines) if line.strip() in MARKERS) + 1
    indent = lines[at][: len(lines[at]) - len(lines[at].lstrip())]
    lines[at] = indent + stale
    target.write_text("\n".join(lines))
    monkeypatch.setattr(workflow_choices, "WORKFLOWS_DIR", workflows)
    for path in PROJECT_DIR.glob("Pulumi.*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    monkeypatch.setattr(workflow_choices, "PROJECT_DIR", tmp_path)
    before = target.read_text()
    if with_choices(before, tmp_path) == before:
        pytest.skip(f"{stale!r} happens to be today's choice")
    assert workflow_choices.main(["--check"]) == 1
    assert "is stale" in capsys.readouterr().out
    assert workflow_choices.main(["--write"]) == 0
    assert workflow_choices.main(["--check"]) == 0


def test_an_unreadable_workflow_directory_is_could_not_check(tmp_path, monkeypatch, capsys):
    workflows = tmp_path / "workflows"
    workflows.mkdir()
    (workflows / "bad.yml").write_bytes(b"\xff\xfe not utf-8")
    monkeypatch.setattr(workflow_choices, "WORKFLOWS_DIR", workflows)
    assert workflow_choices.main(["--check"]) == 2
    assert "cannot check" in capsys.readouterr().err
