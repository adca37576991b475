"""Every command the hand-written docs show works as written, and every link in them lands.

README.md, RUNBOOK.md and docs/CUTOVER.md are read by people who paste their commands.
tests/test_runbook.py holds RUNBOOK.md's structure; this file holds all three to the code:
  - `make <target> VAR=...`           -> a target of the Makefile, with its variables
  - `python -m <module> --flag ...`   -> an importable module; a module of this repository
                                         accepts each flag shown (its `--help` lists it)
  - `[text](path#anchor)`             -> a file or folder of the checkout, and a heading of
                                         that Markdown file (GitHub's anchor rules)
  - container `<name>`, `--container <name>`, `containerDefinitions[<name>]`
                                      -> a container name of the contract (renamed once, to the
                                         live estate's `hokusai-api`, while the docs said `api`)

Each rule is a pure function from text to problems, fed a wrong text by a `test_checker_*` test.
"""

from __future__ import annotations

import functools
import re
import subprocess
import sys
from pathlib import Path

import pytest

from core.contract import CONTRACTS
from tests import tiers
from tests.test_runbook import anchor, code_text, headings, unknown_make_invocations, unknown_python_modules

ROOT = Path(__file__).resolve().parent.parent
DOCS = ("README.md", "RUNBOOK.md", "docs/CUTOVER.md")
# The repository's own packages: their modules' flags are checked against their `--help`.
OWN_PACKAGES = ("core", "infra", "ops", "synth", "policy", "bench")


def python_commands(markdown: str) -> list[tuple[str, list[str]]]:
    """(module, flags) of each `python -m <module> ...` in the code of `markdown`; a command
    ends at the end of its line (after any `\\` continuations), a pipe, `;`, `&&` or a comment."""
    code = re.sub(r"\\\n\s*", " ", code_text(markdown))
    commands = []
    for module, rest in re.findall(r"python3?[ \t]+-m[ \t]+([A-Za-z_][\w.]*)([^\n]*)", code):
        rest = re.split(r"\s(?:\||;|&&|#)|\)", rest)[0]
        commands.append((module, re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", rest)))
    return commands


@functools.cache
def module_help(module: str) -> str:
    run = subprocess.run(
        [sys.executable, "-m", module, "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    return run.stdout + run.stderr


def unknown_flags(markdown: str, help_text=module_help) -> list[str]:
    """`python -m <own module> --flag` where the module's `--help` does not list the flag."""
    problems: set[str] = set()
    for module, flags in python_commands(markdown):
        if module.split(".")[0] not in OWN_PACKAGES:
            continue
        usage = help_text(module)
        problems.update(f"python -m {module} {flag}: not a flag of it" for flag in flags if flag not in usage)
    return sorted(problems)


def broken_links(markdown: str, where: Path) -> list[str]:
    """Relative links of a document at `where` whose file is missing, or whose #anchor is no heading of it."""
    problems = []
    for link in re.findall(r"\]\(([^)\s]+)\)", markdown):
        if re.match(r"[a-z]+:", link):
            continue
        path, _, fragment = link.partition("#")
        target = (where.parent / path).resolve()
        if path and not target.exists():
            problems.append(f"{link}: no such file")
        elif fragment and (not path or target.suffix == ".md"):
            text = target.read_text() if path else markdown
            if fragment not in {anchor(h) for h in headings(text)}:
                problems.append(f"{link}: no heading with that anchor")
    return sorted(set(problems))


def unknown_container_names(markdown: str, known: set[str]) -> list[str]:
    """Container names the text gives (container `x`, --container x, containerDefinitions[x]) that are not `known`."""
    named = re.findall(r"container `([^`]+)`|--container[ =]\"?([\w-]+)|containerDefinitions\[([\w-]+)\]", markdown)
    return sorted({name for groups in named for name in groups if name and not name.isdigit()} - known)


@pytest.mark.parametrize("doc", DOCS)
def test_every_container_name_is_the_contracts(doc):
    known = {contract.container_name for contract in CONTRACTS.values()}
    assert unknown_container_names((ROOT / doc).read_text(), known) == []


def test_checker_reports_a_container_name_the_contract_does_not_have():
    text = "container `api` on 8001; `--container api`; `containerDefinitions[0].image`, `containerDefinitions[web]`"
    assert unknown_container_names(text, {"hokusai-api"}) == ["api", "web"]
    assert unknown_container_names("container `hokusai-api`, --container hokusai-api", {"hokusai-api"}) == []


@pytest.mark.parametrize("doc", DOCS)
def test_every_make_command_is_a_target_with_its_variables(doc):
    assert unknown_make_invocations((ROOT / doc).read_text(), (ROOT / "Makefile").read_text()) == []


@pytest.mark.parametrize("doc", DOCS)
@tiers.process
def test_every_python_module_exists_and_takes_the_flags_shown(doc):
    text = (ROOT / doc).read_text()
    assert unknown_python_modules(text) == []
    assert unknown_flags(text) == []


@pytest.mark.parametrize("doc", DOCS)
def test_every_relative_link_and_anchor_resolves(doc):
    assert broken_links((ROOT / doc).read_text(), ROOT / doc) == []


def test_checker_reports_a_make_target_or_variable_the_makefile_lacks():
    makefile = "verify: ## x\n\t@true\nSTACK ?= development\n"
    assert unknown_make_invocations("`make verify STACK=x SINCE=1h` and `make logs`", makefile) == [
        "make logs: no such target",
        "make verify SINCE=...: the Makefile has no variable SINCE",
    ]


def test_checker_reports_a_flag_the_module_does_not_take_and_ignores_other_commands():
    text = (
        "```sh\npython -m ops.smoke --base-url <url> \\\n  --region x  # --not-this\n```\n"
        "`python3 -m venv --copies policy/venv && python -m ops.smoke --stack x | jq --raw`"
    )
    assert python_commands(text)[0] == ("ops.smoke", ["--base-url", "--region"])
    assert unknown_flags(text, help_text=lambda module: "usage: --base-url --stack") == [
        "python -m ops.smoke --region: not a flag of it"
    ]


@tiers.process
def test_checker_reads_a_real_modules_help():
    assert unknown_flags("`python -m ops.smoke --base-url x --no-such-flag`") == [
        "python -m ops.smoke --no-such-flag: not a flag of it"
    ]


def test_checker_reports_a_missing_file_and_an_anchor_that_is_no_heading(tmp_path):
    (tmp_path / "OTHER.md").write_text("# Other\n\n## The make interface\n")
    doc = tmp_path / "DOC.md"
    text = (
        "## Here\n[ok](OTHER.md#the-make-interface) [ok](#here) [web](https://example.com/x#y)\n"
        "[gone](MISSING.md) [bad](OTHER.md#the-make-interfaces) [bad](#there)\n"
    )
    assert broken_links(text, doc) == [
        "#there: no heading with that anchor",
        "MISSING.md: no such file",
        "OTHER.md#the-make-interfaces: no heading with that anchor",
    ]
