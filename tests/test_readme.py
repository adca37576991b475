"""The README opens with the two commands a newcomer runs, and CI runs the second."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIRST_BLOCK = re.compile(r"```sh\n(.*?)```", re.S)


def first_commands(readme: str) -> list[str]:
    """The commands of the README's first shell block, without their comments."""
    block = FIRST_BLOCK.search(readme)
    assert block, "the README has no ```sh block"
    return [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.split("#")[0].strip()]


def test_the_readme_starts_with_the_offline_render_and_the_tests():
    readme = (ROOT / "README.md").read_text()
    assert readme.index("```sh") < readme.index("\n## "), "the two commands come before the first section"
    assert first_commands(readme) == ["make synth", "make test"]


def test_ci_runs_the_readmes_test_command_and_the_slow_tier():
    # The README's test command is the fast tier (tests/tiers.py); CI runs the slow one too, so
    # between them every test runs.
    ci = (ROOT / ".ci" / "run").read_text()
    lines = [line.strip() for line in ci.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    test_command = first_commands((ROOT / "README.md").read_text())[-1]
    assert test_command == "make test"
    assert lines[-2:] == [test_command, "make test-slow"], lines
    assert "set -euo pipefail" in lines


def test_a_readme_that_opens_with_more_or_other_commands_is_found():
    assert first_commands("```sh\nmake synth  # x\nmake test\nmake lint\n```") != ["make synth", "make test"]
    assert first_commands("```sh\nmake test\n```") != ["make synth", "make test"]
