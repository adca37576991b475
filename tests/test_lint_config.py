"""`make lint` is configured as the README says, and CI runs it. Read, not run: mypy
itself runs in `make lint`, never inside pytest.

- mypy is strict on core/: the core override sets every per-module flag that
  `mypy --strict` sets (mypy's own list), the other strict flags are on for everyone,
  and no override says `strict = true`, which mypy would apply to every module.
- mypy checks every top-level folder of Python code, and the core override covers
  every module under core/.
- The lint target runs ruff check, ruff format --check and mypy, all three even when
  one finds something, and exits with the worst of their codes (a stand-in python
  records the calls and answers with the codes given).
- `.ci/run` and every workflow job that runs `make test` also run `make lint`.

Each check is also run on a copy with its guard removed or weakened, and must notice.
"""

from __future__ import annotations

import copy
import os
import re
import shutil
import stat
import subprocess
import sys
import tomllib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from mypy.main import define_options
from mypy.options import PER_MODULE_OPTIONS

from tests import tiers
from tests.helpers import PROJECT_DIR

PYPROJECT = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text(encoding="utf-8"))
MAKEFILE = (PROJECT_DIR / "Makefile").read_text(encoding="utf-8")
CI_RUN = (PROJECT_DIR / ".ci" / "run").read_text(encoding="utf-8")
WORKFLOWS = {
    p.name: yaml.safe_load(p.read_text()) for p in sorted((PROJECT_DIR / ".github" / "workflows").glob("*.yml"))
}
MAKE = shutil.which("make")
NOT_OURS = {".venv", "build", ".git"}


def strict_flags() -> dict[str, bool]:
    """What `mypy --strict` sets, from mypy itself: option name -> value."""
    _, _, assignments = define_options()
    return dict(assignments)


# --------------------------------------------------------------------------- #
# The checks (each returns what is wrong, [] when nothing is)
# --------------------------------------------------------------------------- #


def core_override(pyproject: dict[str, Any]) -> dict[str, Any]:
    (override,) = overrides_for(pyproject["tool"]["mypy"], "core.*")
    return override


def overrides_for(config: dict[str, Any], module: str) -> list[dict[str, Any]]:
    found = []
    for override in config.get("overrides", []):
        patterns = override.get("module", [])
        patterns = [patterns] if isinstance(patterns, str) else patterns
        if module in patterns:
            found.append(override)
    return found


def strict_core_problems(pyproject: dict[str, Any]) -> list[str]:
    config = pyproject.get("tool", {}).get("mypy", {})
    problems = [
        f"an override for {o.get('module')} says `strict = true`: mypy applies that to every module"
        for o in config.get("overrides", [])
        if "strict" in o
    ]
    if "strict" in config:
        problems.append("[tool.mypy] says `strict`: core alone is strict, the rest is checked normally")
    core_override = {k: v for o in overrides_for(config, "core.*") for k, v in o.items() if k != "module"}
    for_core = {k: v for k, v in config.items() if k != "overrides"} | core_override
    if not overrides_for(config, "core"):
        problems.append("no override names the module `core` itself (core/__init__.py)")
    for flag, value in sorted(strict_flags().items()):
        if flag in PER_MODULE_OPTIONS and for_core.get(flag) is not value:
            problems.append(f"core does not get {flag} = {str(value).lower()} (as --strict sets it)")
        elif flag not in PER_MODULE_OPTIONS and config.get(flag) is not value:
            problems.append(f"[tool.mypy] does not set {flag} = {str(value).lower()} (as --strict does)")
    return problems


def python_folders(root: Path) -> set[str]:
    """Top-level folders holding Python code, and top-level .py files."""
    found = {p.name for p in root.glob("*.py")}
    for folder in root.iterdir():
        ours = folder.is_dir() and folder.name not in NOT_OURS and not folder.name.startswith(".")
        if ours and next(folder.rglob("*.py"), None) is not None:
            found.add(folder.name)
    return found


def scope_problems(pyproject: dict[str, Any], root: Path) -> list[str]:
    config = pyproject.get("tool", {}).get("mypy", {})
    checked = {str(f).rstrip("/") for f in config.get("files", [])}
    problems = [f"mypy does not check {name}" for name in sorted(python_folders(root) - checked)]
    patterns = [p for o in overrides_for(config, "core.*") for p in _modules(o)] + ["core"]
    for path in sorted((root / "core").rglob("*.py")):
        module = ".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__")
        if not any(module == p or (p.endswith(".*") and module.startswith(p[:-1])) for p in patterns):
            problems.append(f"{module} is not in the strict override")
    return problems


def _modules(override: dict[str, Any]) -> list[str]:
    modules = override.get("module", [])
    return [modules] if isinstance(modules, str) else list(modules)


def recipe(makefile: str, target: str) -> str:
    """The target's recipe, continuation lines joined."""
    lines = makefile.replace("\\\n", " ").splitlines()
    start = next((i for i, line in enumerate(lines) if re.match(rf"^{target}:(?!=)", line)), None)
    if start is None:
        return ""
    body = []
    for line in lines[start + 1 :]:
        if not line.startswith("\t"):
            break
        body.append(line)
    return "\n".join(body)


def lint_target_problems(makefile: str) -> list[str]:
    problems = []
    lint = recipe(makefile, "lint")
    if not lint:
        return ["the Makefile has no lint target"]
    checks = re.search(r"^LINT_CHECKS\s*:?=(.*)$", makefile, flags=re.M)
    listed = checks.group(1) if checks else ""
    for check in ("ruff check .", "ruff format --check .", "mypy"):
        if f'"{check}"' not in listed:
            problems.append(f"make lint does not run {check}")
    if "$(LINT_CHECKS)" not in lint:
        problems.append("the lint recipe does not run LINT_CHECKS")
    exit_code_targets = re.search(r"^EXIT_CODE_TARGETS\s*:?=(.*)$", makefile, flags=re.M)
    if not exit_code_targets or "lint" not in exit_code_targets.group(1).split():
        problems.append("lint is not in EXIT_CODE_TARGETS: make would turn its 1 (findings) into 2")
    return problems


def runs_make(script: str, target: str) -> bool:
    """`make <target>` in command position, on a line that is not a comment."""
    # The target whole: `make test` is not `make test-slow`.
    return any(
        re.match(rf"^(exec\s+)?make\s+{re.escape(target)}(?![\w-])", line.strip())
        for line in script.splitlines()
        if line.strip()
    )


def ci_run_problems(text: str) -> list[str]:
    return [] if runs_make(text, "lint") else ["`.ci/run` does not run make lint"]


def job_scripts(job: dict[str, Any]) -> Iterator[str]:
    for step in job.get("steps") or []:
        yield step.get("run") or ""


def workflow_problems(workflows: dict[str, Any]) -> list[str]:
    problems = []
    for name, workflow in workflows.items():
        for job_id, job in (workflow.get("jobs") or {}).items():
            scripts = list(job_scripts(job))
            for tier in ("test", "test-slow"):  # either tier of the tests (tests/tiers.py)
                if any(runs_make(s, tier) for s in scripts) and not any(runs_make(s, "lint") for s in scripts):
                    problems.append(f"{name}: job {job_id} runs make {tier} but not make lint")
    return problems


# --------------------------------------------------------------------------- #
# The real configuration
# --------------------------------------------------------------------------- #


def test_mypy_is_strict_on_core_and_only_there():
    assert strict_core_problems(PYPROJECT) == []


def test_mypy_checks_every_folder_of_code_and_every_core_module_strictly():
    assert scope_problems(PYPROJECT, PROJECT_DIR) == []


def test_make_lint_runs_ruff_and_mypy_and_passes_their_exit_codes_on():
    assert lint_target_problems(MAKEFILE) == []


def test_ci_runs_make_lint():
    assert ci_run_problems(CI_RUN) == []
    assert workflow_problems(WORKFLOWS) == []
    assert any(runs_make(s, "lint") for wf in WORKFLOWS.values() for j in wf["jobs"].values() for s in job_scripts(j))


# --------------------------------------------------------------------------- #
# Each check notices its guard removed or weakened
# --------------------------------------------------------------------------- #


def as_toml(value: bool) -> str:
    return str(value).lower()


@pytest.mark.parametrize("flag", sorted(set(strict_flags()) & set(core_override(PYPROJECT))))
def test_a_strict_flag_dropped_or_turned_off_in_the_core_override_is_found(flag):
    removed, weakened = copy.deepcopy(PYPROJECT), copy.deepcopy(PYPROJECT)
    del core_override(removed)[flag]
    core_override(weakened)[flag] = not strict_flags()[flag]
    for config in (removed, weakened):
        assert strict_core_problems(config) == [
            f"core does not get {flag} = {as_toml(strict_flags()[flag])} (as --strict sets it)"
        ]


@pytest.mark.parametrize("flag", sorted(set(strict_flags()) & set(PYPROJECT["tool"]["mypy"])))
def test_a_strict_flag_dropped_or_turned_off_for_everyone_is_found(flag):
    removed, weakened = copy.deepcopy(PYPROJECT), copy.deepcopy(PYPROJECT)
    del removed["tool"]["mypy"][flag]
    weakened["tool"]["mypy"][flag] = not strict_flags()[flag]
    where = "core does not get" if flag in PER_MODULE_OPTIONS else "[tool.mypy] does not set"
    said = "sets it" if flag in PER_MODULE_OPTIONS else "does"
    for config in (removed, weakened):
        assert strict_core_problems(config) == [
            f"{where} {flag} = {as_toml(strict_flags()[flag])} (as --strict {said})"
        ]


def test_strict_true_in_an_override_is_found():
    # It reads as "strict for core", and would make every module strict (or, written
    # instead of the flags, the check lists each flag the override then lacks).
    config = copy.deepcopy(PYPROJECT)
    core_override(config)["strict"] = True
    assert strict_core_problems(config) == [
        "an override for ['core', 'core.*'] says `strict = true`: mypy applies that to every module"
    ]


def test_a_folder_mypy_does_not_check_and_a_core_module_outside_the_override_are_found(tmp_path):
    (tmp_path / "core" / "sub").mkdir(parents=True)
    (tmp_path / "core" / "__init__.py").write_text("")
    (tmp_path / "core" / "sub" / "thing.py").write_text("")
    (tmp_path / "policy").mkdir()
    (tmp_path / "policy" / "pack.py").write_text("")
    (tmp_path / ".venv" / "lib").mkdir(parents=True)
    (tmp_path / ".venv" / "lib" / "site.py").write_text("")
    config = {"tool": {"mypy": {"files": ["core"], "overrides": [{"module": ["core.sub"], "strict": False}]}}}
    assert scope_problems(config, tmp_path) == [
        "mypy does not check policy",
        "core.sub.thing is not in the strict override",
    ]


@pytest.mark.parametrize(
    ("change", "found"),
    [
        (lambda m: m.replace('"mypy"', ""), "make lint does not run mypy"),
        (
            lambda m: m.replace('"ruff format --check ."', '"ruff format ."'),
            "make lint does not run ruff format --check .",
        ),
        (lambda m: m.replace("$(LINT_CHECKS)", '"ruff check ."'), "the lint recipe does not run LINT_CHECKS"),
        (
            lambda m: re.sub(r"^(EXIT_CODE_TARGETS\s*:=.*?) lint\b", r"\1", m, count=1, flags=re.M),
            "lint is not in EXIT_CODE_TARGETS: make would turn its 1 (findings) into 2",
        ),
    ],
)
def test_a_lint_target_that_skips_a_check_or_loses_its_exit_code_is_found(change, found):
    changed = change(MAKEFILE)
    assert changed != MAKEFILE
    assert lint_target_problems(changed) == [found]


@pytest.mark.parametrize(
    "change",
    [lambda t: t.replace("\nmake lint\n", "\n"), lambda t: t.replace("\nmake lint\n", "\n# make lint\n")],
    ids=["removed", "commented out"],
)
def test_a_ci_entry_without_lint_is_found(change):
    changed = change(CI_RUN)
    assert changed != CI_RUN
    assert ci_run_problems(changed) == ["`.ci/run` does not run make lint"]


def test_a_workflow_job_that_tests_without_lint_is_found():
    workflows = copy.deepcopy(WORKFLOWS)
    job = workflows["pull-request.yml"]["jobs"]["test"]
    job["steps"] = [s for s in job["steps"] if not runs_make(s.get("run") or "", "lint")]
    assert workflow_problems(workflows) == [
        "pull-request.yml: job test runs make test but not make lint",
        "pull-request.yml: job test runs make test-slow but not make lint",
    ]


def test_a_job_that_runs_only_the_slow_tier_without_lint_is_found():
    workflows = copy.deepcopy(WORKFLOWS)
    job = workflows["pull-request.yml"]["jobs"]["test"]
    job["steps"] = [s for s in job["steps"] if not runs_make(s.get("run") or "", "lint")]
    job["steps"] = [s for s in job["steps"] if not runs_make(s.get("run") or "", "test")]
    assert workflow_problems(workflows) == ["pull-request.yml: job test runs make test-slow but not make lint"]


# --------------------------------------------------------------------------- #
# The lint recipe, run with a stand-in python
# --------------------------------------------------------------------------- #


def stand_in_python(folder: Path) -> tuple[Path, Path]:
    """A `python` that records `-m <check>` and exits with $CODE_<n>, n = the call's number."""
    calls = folder / "calls.txt"
    python = folder / "python"
    python.write_text(
        f'#!/bin/sh\necho "$*" >> "{calls}"\nn=$(wc -l < "{calls}" | tr -d " ")\neval "exit \\${{CODE_$n:-0}}"\n'
    )
    python.chmod(python.stat().st_mode | stat.S_IXUSR)
    return python, calls


def lint_with(codes: Iterable[int], folder: Path) -> tuple[int, list[str]]:
    python, calls = stand_in_python(folder)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "MFLAGS", "GNUMAKEFLAGS"))}
    env.update({f"CODE_{n}": str(code) for n, code in enumerate(codes, start=1)})
    venv = Path(sys.executable).parent.parent
    done = subprocess.run(
        [MAKE or "make", "lint", "-o", f"{venv}/.installed", f"VENV={venv}", f"PYTHON={python}"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    return done.returncode, calls.read_text().splitlines() if calls.exists() else []


@pytest.mark.skipif(MAKE is None, reason="no make on this machine")
@pytest.mark.parametrize(
    ("codes", "expected"),
    [((0, 0, 0), 0), ((1, 0, 0), 1), ((0, 1, 0), 1), ((0, 0, 1), 1), ((2, 1, 0), 2), ((0, 0, 127), 2)],
)
@tiers.process
def test_make_lint_runs_every_check_and_exits_with_the_worst_code(codes, expected, tmp_path):
    code, calls = lint_with(codes, tmp_path)
    assert calls == ["-m ruff check .", "-m ruff format --check .", "-m mypy"]
    assert code == expected
