"""The make interface, run the way people run it: `make <target>` in a subprocess.

- `make` / `make help`: one line per target, from its `## ` comment; every public target has one.
- `JSON=1`: stdout is one JSON document, with no echoed command or setup chatter.

The commands use the virtualenv running these tests (VENV=..., with `-o` on its stamp so
make never reinstalls into it). Measured on two cores: about 1 s per make call.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAKEFILE = ROOT / "Makefile"
MAKE = shutil.which("make")
FIXTURE_ENV_EXAMPLE = ROOT / "tests" / "ops" / "fixtures" / "api.env.example"
COMMAND_TIMEOUT = 180.0  # a hang fails the test, not the CI job

# The virtualenv these tests run in stands in for the checkout's .venv.
VENV = Path(sys.executable).parent.parent
USE_THIS_VENV = ["-o", f"{VENV}/.installed", f"VENV={VENV}", f"PYTHON={sys.executable}"]

pytestmark = pytest.mark.skipif(MAKE is None, reason="no make on this machine")


# --------------------------------------------------------------------------- #
# Reading the Makefile
# --------------------------------------------------------------------------- #

# A rule's head: targets made of names and $(VARIABLES), a colon that is not `:=`.
RULE = re.compile(r"^((?:\$\([A-Z_]+\)|[\w./-])+):(?!=)[ \t]*(.*)$")


@dataclass(frozen=True)
class Rule:
    target: str
    prerequisites: tuple[str, ...]
    help: str  # the `## ` comment, "" without one
    recipe: tuple[str, ...]  # logical lines (backslash continuations joined), without the tab


def rules(text: str) -> dict[str, Rule]:
    found: dict[str, Rule] = {}
    lines = text.replace("\\\n", " ").splitlines()
    for index, line in enumerate(lines):
        match = RULE.match(line)
        if not match:
            continue
        target, rest = match.groups()
        prerequisites, _, help_text = rest.partition("## ")
        recipe = []
        for following in lines[index + 1 :]:
            if not following.startswith("\t"):
                break
            recipe.append(following[1:])
        found[target] = Rule(target, tuple(prerequisites.split("#")[0].split()), help_text.strip(), tuple(recipe))
    return found


def variable(text: str, name: str) -> list[str]:
    match = re.search(rf"^{name}\s*:?=(.*)$", text, flags=re.M)
    assert match, f"the Makefile has no {name}"
    return match.group(1).split()


def public_targets(all_rules: dict[str, Rule]) -> set[str]:
    """What a person may type: everything but special targets (.PHONY) and files ($(VENV)/.installed)."""
    return {t for t in all_rules if not t.startswith((".", "$")) and "/" not in t}


MAKEFILE_TEXT = MAKEFILE.read_text()
RULES = rules(MAKEFILE_TEXT)


# --------------------------------------------------------------------------- #
# Running make
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class Ran:
    args: list[str]
    code: int
    stdout: str
    stderr: str

    def __str__(self) -> str:
        return (
            f"$ {' '.join(self.args)}\nexit {self.code}\n--- stdout ---\n{self.stdout}\n--- stderr ---\n{self.stderr}"
        )


def clean_env(**extra: str) -> dict[str, str]:
    """This environment minus what could change the outcome: a make that runs these tests
    (MAKEFLAGS and friends), the Makefile's own variables, AWS settings, the step summary."""
    theirs = set(variable(MAKEFILE_TEXT, "HELP_VARIABLES")) | {"VENV", "PYTHON", "HOKUSAI_API_KEY"}
    drop = {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "MAKEFILES", "GNUMAKEFLAGS", "GITHUB_STEP_SUMMARY"}
    env = {k: v for k, v in os.environ.items() if k not in theirs | drop and not k.startswith("AWS_")}
    return env | extra


def make(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None, venv: bool = True) -> Ran:
    command = [MAKE or "make", *args, *(USE_THIS_VENV if venv else [])]
    done = subprocess.run(
        command,
        cwd=cwd,
        env=env if env is not None else clean_env(),
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        stdin=subprocess.DEVNULL,
    )
    return Ran(["make", *args], done.returncode, done.stdout, done.stderr)


# --------------------------------------------------------------------------- #
# make help
# --------------------------------------------------------------------------- #


def test_the_reader_finds_the_rules():
    assert {"help", "synth", "verify", "smoke", "envcheck", "fake-estate", "$(VENV)/.installed"} <= set(RULES)
    assert RULES["render"].prerequisites == ("synth",)


def test_every_public_target_has_a_help_comment_and_is_phony():
    public = public_targets(RULES)
    assert sorted(t for t in public if not RULES[t].help) == []
    phony = set(re.search(r"^\.PHONY:(.*)$", MAKEFILE_TEXT.replace("\\\n", " "), flags=re.M).group(1).split())
    assert sorted(public - phony) == []


def test_help_is_the_default_goal_and_lists_every_target_once_with_its_comment():
    # WHEN a person types `make` or `make help`
    default, explicit = make(venv=False), make("help", venv=False)
    # THEN both print the same list, one line per target: its name, then its comment
    assert default.code == 0 and explicit.code == 0, default
    assert default.stdout == explicit.stdout and default.stderr == ""
    listed = {}
    for line in default.stdout.splitlines():
        match = re.match(r"^  ([a-z][a-z0-9_-]*) +(\S.*)$", line)
        if match:
            assert match.group(1) not in listed, f"{match.group(1)} listed twice"
            listed[match.group(1)] = match.group(2)
    assert listed == {t: r.help for t, r in RULES.items() if r.help}
    assert "exit codes of the tools: 0 ok, 1 findings, 2 could not check" in default.stdout


def test_the_help_check_finds_a_target_without_a_comment():
    text = MAKEFILE_TEXT + "\nundocumented: $(VENV)/.installed\n\t$(PYTHON) -m something\n"
    assert sorted(t for t in public_targets(rules(text)) if not rules(text)[t].help) == ["undocumented"]


# --------------------------------------------------------------------------- #
# JSON=1
# --------------------------------------------------------------------------- #


def test_synth_json_is_one_document_on_stdout():
    ran = make("synth", "JSON=1")
    assert ran.code == 0, ran
    document = json.loads(ran.stdout)  # nothing else on stdout: no echoed command, no setup chatter
    assert document["outputs"]["estate"]["cluster_name"] == "hokusai-development"
