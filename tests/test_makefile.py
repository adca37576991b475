"""The make interface, run the way people run it: `make <target>` in a subprocess.

- `make` / `make help`: one line per target, from its `## ` comment; every public target has one.
- Exit codes: synth, envcheck, verify and smoke exit with the tool's own 0 / 1 / 2 through make
  (the question-mode mechanism at the top of the Makefile), and setup failures are 2, never 1.
- `JSON=1`: stdout is one JSON document, with no echoed command or setup chatter.
- Targets that need the Pulumi CLI refuse without it, before anything is installed.
- `make fake-estate`: refuses a port someone else listens on, reuses and reseeds its own
  server, never leaves a stale pid file; `break`, `fake-estate-reset`, `fake-estate-stop`.
- CI keeps the flags that make a failing make fail the run.

The commands (tests/commands.py) use the virtualenv running these tests; only the
Pulumi-CLI tests run make in an empty copy of the repository, where nothing may be
installed. The fake estate's lifecycle is read from the session's one run of it
(tests/fake_estate_scenario.py), which tests/ops/test_verify_server.py reads too.
Measured on two cores: 0.1-1 s per make call (a Python tool starting is most of it).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import stat
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from synth.fake_estate import FAILURES
from tests import tiers
from tests.commands import MAKE, MAKEFILE_TEXT, ROOT, clean_env, free_port, make, tool, variable

CI_RUN = ROOT / ".ci" / "run"
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
PULUMI_INSTALL_URL = "https://www.pulumi.com/docs/iac/download-install/"
FIXTURE_ENV_EXAMPLE = ROOT / "tests" / "ops" / "fixtures" / "api.env.example"

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


def public_targets(all_rules: dict[str, Rule]) -> set[str]:
    """What a person may type: everything but special targets (.PHONY) and files ($(VENV)/.installed)."""
    return {t for t in all_rules if not t.startswith((".", "$")) and "/" not in t}


def lines_without_run(all_rules: dict[str, Rule], goals: list[str]) -> list[str]:
    """Recipe lines reachable from `goals` that do not start with $(RUN): in question mode
    such a line would not run, and make would exit 1 as if the tool had found something."""
    problems, seen, todo = [], set(), list(goals)
    while todo:
        target = todo.pop()
        if target in seen or target not in all_rules:
            continue
        seen.add(target)
        rule = all_rules[target]
        problems += [f"{target}: {line}" for line in rule.recipe if not line.startswith("$(RUN)")]
        todo += rule.prerequisites
    return sorted(problems)


RULES = rules(MAKEFILE_TEXT)
EXIT_CODE_TARGETS = variable(MAKEFILE_TEXT, "EXIT_CODE_TARGETS")
PULUMI_TARGETS = ["preview", "up", "repair", "drift", "drift-state"]


# --------------------------------------------------------------------------- #
# make help
# --------------------------------------------------------------------------- #


def test_the_reader_finds_the_rules():
    assert {"help", "synth", "verify", "smoke", "envcheck", "fake-estate", "break", "$(VENV)/.installed"} <= set(RULES)
    assert RULES["render"].prerequisites == ("synth",)
    assert {"verify", "smoke", "envcheck", "synth"} <= set(EXIT_CODE_TARGETS)


def test_every_public_target_has_a_help_comment_and_is_phony():
    public = public_targets(RULES)
    assert sorted(t for t in public if not RULES[t].help) == []
    phony = set(re.search(r"^\.PHONY:(.*)$", MAKEFILE_TEXT.replace("\\\n", " "), flags=re.M).group(1).split())
    assert sorted(public - phony) == []


@tiers.process
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
    assert "exit codes: 0 ok, 1 findings, 2 could not check" in default.stdout


def test_the_help_check_finds_a_target_without_a_comment():
    text = MAKEFILE_TEXT + "\nundocumented: $(VENV)/.installed\n\t$(PYTHON) -m something\n"
    assert sorted(t for t in public_targets(rules(text)) if not rules(text)[t].help) == ["undocumented"]


# --------------------------------------------------------------------------- #
# Exit codes through make
# --------------------------------------------------------------------------- #


def test_every_line_an_exit_code_target_runs_is_marked_to_run_in_question_mode():
    assert lines_without_run(RULES, EXIT_CODE_TARGETS) == []


def test_the_marking_check_finds_an_unmarked_line():
    text = MAKEFILE_TEXT.replace("\t$(RUN)@touch $@", "\t@touch $@")
    (problem,) = lines_without_run(rules(text), ["verify"])
    assert problem.startswith("$(VENV)/.installed: @touch $@")


@pytest.fixture(scope="module")
def env_with_gaps(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("envcheck") / ".env.example"
    path.write_text("ENVIRONMENT=development\nA_SETTING_NOBODY_PROVIDES=1\n")
    return path


@pytest.mark.parametrize(
    ("example", "expected"),
    [("fixture", 0), ("gaps", 1), ("missing", 2)],
)
@tiers.process
def test_envcheck_exits_with_its_own_code(example, expected, env_with_gaps, tmp_path):
    path = {"fixture": FIXTURE_ENV_EXAMPLE, "gaps": env_with_gaps, "missing": tmp_path / "absent.env"}[example]
    ran = make("envcheck", f"ENV_EXAMPLE={path}")
    assert ran.code == expected, ran
    assert ("check" in ran.stdout) == (expected != 2), ran  # the tool ran and printed its table (or could not)


@pytest.mark.parametrize("target", ["verify", "logs", "stopped-tasks", "task-env"])
@tiers.process
def test_a_live_tool_that_cannot_check_exits_2_with_the_reason(tmp_path, target):
    ran = make(target, f"OUTPUTS={tmp_path / 'no-outputs.json'}")
    assert ran.code == 2, ran
    assert "no-outputs.json does not exist: pass the path of the stack outputs file" in ran.stderr, ran
    assert ran.stderr.startswith("could not check: ") and ran.stdout == "", ran


@tiers.process
def test_usage_errors_are_2_before_anything_runs():
    for args, usage in ((["smoke"], "make smoke BASE_URL="), (["envcheck"], "make envcheck ENV_EXAMPLE=")):
        ran = make(*args)
        assert ran.code == 2 and usage in ran.stderr and ran.stdout == "", ran


class WrongApi(BaseHTTPRequestHandler):
    """An API that answers, badly: every request gets 503."""

    def log_message(self, format, *args):  # keep the test output clean
        pass

    def do_GET(self):
        self._reply()

    def do_POST(self):
        self._reply()

    def _reply(self):
        self.send_response(503)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"detail": "unavailable"}')


@pytest.fixture(scope="module")
def wrong_api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), WrongApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@tiers.process
def test_smoke_against_an_api_that_answers_wrongly_exits_1(wrong_api):
    ran = make("smoke", f"BASE_URL={wrong_api}", env=clean_env(HOKUSAI_API_KEY="make-test-key"))
    assert ran.code == 1, ran
    assert re.search(r"^health +FAIL", ran.stdout, flags=re.M), ran


@tiers.process
def test_smoke_without_a_key_exits_2(wrong_api):
    ran = make("smoke", f"BASE_URL={wrong_api}")
    assert ran.code == 2 and "HOKUSAI_API_KEY is not set" in ran.stderr, ran


@tiers.process
def test_smoke_against_an_unreachable_url_exits_as_the_tool_does():
    # Nothing listens on a port just freed. ops/smoke.py counts an API that does not
    # answer as an outage (a finding), not as "could not check"; make must not change that.
    url = f"http://127.0.0.1:{free_port()}"
    env = clean_env(HOKUSAI_API_KEY="make-test-key")
    through_make = make("smoke", f"BASE_URL={url}", env=env)
    direct = tool("ops.smoke", "--base-url", url, env=env)
    assert through_make.code == direct.code and direct.code in (1, 2), (through_make, direct)


@tiers.process
def test_synth_json_is_one_document_on_stdout():
    ran = make("synth", "JSON=1")
    assert ran.code == 0, ran
    document = json.loads(ran.stdout)  # nothing else on stdout: no echoed command, no setup chatter
    assert document["outputs"]["estate"]["cluster_name"] == "hokusai-development"


@tiers.process
def test_synth_of_a_stack_it_cannot_render_exits_2():
    ran = make("synth", "STACK=no-such-stack")
    assert ran.code == 2 and "cannot render stack 'no-such-stack'" in ran.stderr, ran


@tiers.process
def test_diff_against_a_base_that_is_no_commit_exits_2_with_the_reason():
    ran = make("diff", "BASE=no-such-ref-anywhere")
    assert ran.code == 2 and ran.stdout == "", ran
    assert "BASE='no-such-ref-anywhere' is not a commit in this repository" in ran.stderr, ran


@tiers.process
def test_import_plan_json_is_the_import_file_alone_and_its_exit_code_passes_through(tmp_path):
    ran = make("import-plan", "JSON=1")
    direct = tool("synth.import_plan", "--json", "--out", str(tmp_path / "import.json"), env=clean_env())
    assert ran.code == direct.code and ran.code in (0, 1), (ran, direct)
    assert json.loads(ran.stdout) == json.loads(direct.stdout)  # the file, and nothing else, on stdout
    assert "pulumi import --file" in ran.stderr


@tiers.process
def test_import_diff_of_a_stack_it_cannot_render_exits_2():
    ran = make("import-diff", "STACK=no-such-stack")
    assert ran.code == 2 and "cannot compare stack 'no-such-stack'" in ran.stderr, ran


@tiers.process
def test_a_dry_run_runs_nothing_and_mixed_goals_are_plain_make(env_with_gaps):
    # -n prints the command without running it (question mode stays off) ...
    dry = make("-n", "envcheck", f"ENV_EXAMPLE={env_with_gaps}")
    assert dry.code == 0 and "-m ops.envcheck" in dry.stdout and "env.missing" not in dry.stdout, dry
    # ... and with a goal outside EXIT_CODE_TARGETS, a failure is make's usual 2.
    mixed = make("envcheck", "docs-check", f"ENV_EXAMPLE={env_with_gaps}")
    assert mixed.code == 2 and "env." in mixed.stdout, mixed


# --------------------------------------------------------------------------- #
# Targets that need the Pulumi CLI: checked before anything is installed
# --------------------------------------------------------------------------- #


def executable(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


@pytest.fixture
def empty_copy(tmp_path) -> tuple[Path, dict[str, str]]:
    """The repository's make surface in an empty directory (no .venv), and an environment
    whose PATH has no pulumi and whose python3 only records that setup began."""
    copy = tmp_path / "repo"
    copy.mkdir()
    for name in ("Makefile", "requirements.txt", "requirements-dev.txt"):
        shutil.copy2(ROOT / name, copy / name)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    executable(bin_dir / "python3", f'#!/bin/sh\ntouch "{tmp_path}/setup-began"\nexit 1\n')
    kept = [d for d in os.environ.get("PATH", "").split(os.pathsep) if d and not (Path(d) / "pulumi").exists()]
    env = clean_env(PATH=os.pathsep.join([str(bin_dir), *kept]))
    assert shutil.which("pulumi", path=env["PATH"]) is None
    return copy, env


@pytest.mark.parametrize("target", [*PULUMI_TARGETS, "verify", "logs", "stopped-tasks", "task-env"])
@tiers.process
def test_a_pulumi_target_without_the_cli_says_how_to_install_it_and_installs_nothing(target, empty_copy):
    copy, env = empty_copy
    ran = make(target, cwd=copy, env=env, venv=False)
    assert ran.code == 2, ran
    assert "needs the Pulumi CLI" in ran.stderr and PULUMI_INSTALL_URL in ran.stderr, ran
    assert ran.stdout == ""
    assert not (copy / ".venv").exists()
    assert not (copy.parent / "setup-began").exists(), "setup began before the Pulumi check"
    if target not in PULUMI_TARGETS:
        assert f"make {target} OUTPUTS=" in ran.stderr  # a live tool can do without the CLI, given the outputs


@tiers.process
def test_with_the_cli_a_pulumi_target_goes_on_to_set_up_and_says_so(empty_copy):
    # The control for the test above: with a pulumi on PATH, setup begins (and fails here,
    # on the stand-in python3, as 2 with its reason), on stderr only.
    copy, env = empty_copy
    executable(Path(env["PATH"].split(os.pathsep)[0]) / "pulumi", "#!/bin/sh\nexit 0\n")
    ran = make("preview", cwd=copy, env=env, venv=False)
    assert (copy.parent / "setup-began").exists(), ran
    assert ran.code == 2 and "make: setting up .venv" in ran.stderr and "venv .venv failed" in ran.stderr, ran
    assert ran.stdout == "", ran


@tiers.process
def test_a_failed_setup_is_2_not_findings_even_where_make_passes_exit_codes_on(empty_copy, tmp_path):
    # verify with OUTPUTS needs no Pulumi CLI; its setup fails, in question mode: that must not read as 1.
    copy, env = empty_copy
    ran = make("verify", f"OUTPUTS={tmp_path / 'outputs.json'}", cwd=copy, env=env, venv=False)
    assert ran.code == 2 and "make: setting up .venv" in ran.stderr, ran


# --------------------------------------------------------------------------- #
# The fake estate
# --------------------------------------------------------------------------- #


@tiers.process
def test_fake_estate_refuses_a_port_someone_else_listens_on(tmp_path):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        ran = make("fake-estate", f"MOTO_PORT={port}", f"FAKE_DIR={tmp_path}")
    assert ran.code == 2, ran
    assert f"something else listens on 127.0.0.1:{port}" in ran.stderr and "MOTO_PORT=" in ran.stderr, ran
    assert not (tmp_path / "moto.pid").exists() and not (tmp_path / "fake-outputs.json").exists()


@tiers.process
def test_a_pid_file_naming_another_process_is_stale_and_removed_not_killed(tmp_path):
    # GIVEN a pid file naming a live process that is not a moto_server (this test's own)
    (tmp_path / "moto.pid").write_text(f"{os.getpid()}\n")
    # WHEN the fake estate is stopped, or a failure injected
    stopped = make("fake-estate-stop", f"FAKE_DIR={tmp_path}")
    # THEN nothing is killed (this test still runs), the stale file is gone, and break says none runs
    assert stopped.code == 0 and "nothing to stop" in stopped.stdout, stopped
    assert not (tmp_path / "moto.pid").exists()
    broke = make("break", "FAILURE=redis-rule-removed", f"FAKE_DIR={tmp_path}")
    assert broke.code == 2 and "no fake estate runs" in broke.stderr, broke


@tiers.process
def test_break_lists_the_failures_one_per_line():
    ran = make("break")
    assert ran.code == 0, ran
    assert [line.split()[0] for line in ran.stdout.splitlines()] == list(FAILURES)
    assert "redis-rule-removed  " in ran.stdout  # with its one-line description
    unknown = make("break", "FAILURE=no-such-failure")
    assert unknown.code == 2 and "unknown failure 'no-such-failure'" in unknown.stderr, unknown


# The lifecycle, from the session's one run of the fake estate (tests/fake_estate_scenario.py).


@pytest.mark.server
def test_fake_estate_starts_a_moto_server_on_the_port_and_says_what_to_export(fake_estate_scenario):
    # GIVEN a fake estate started on a free port
    started, port = fake_estate_scenario.started, fake_estate_scenario.port
    assert started.code == 0, started
    # THEN its pid file names a moto_server on that port, and it says what to export
    assert fake_estate_scenario.pid is not None, started
    assert "moto_server" in fake_estate_scenario.server_command
    assert f"-p {port}" in fake_estate_scenario.server_command
    assert f"export AWS_ENDPOINT_URL=http://127.0.0.1:{port}" in started.stdout, started


@pytest.mark.server
def test_fake_estate_again_reuses_its_server_and_seeds_it_again(fake_estate_scenario):
    # WHEN it is started again THEN the same server is reset and seeded again
    again = fake_estate_scenario.restarted
    assert again.code == 0 and "reusing this checkout's moto_server" in again.stdout, again
    assert "seeded a copy of stack development" in again.stdout, again
    assert fake_estate_scenario.pid is not None
    assert fake_estate_scenario.pid_after_restart == fake_estate_scenario.pid


@pytest.mark.server
def test_verify_through_make_passes_on_the_copy_and_exits_1_on_an_injected_failure(fake_estate_scenario):
    # verify passes on the copy (exit 0) ...
    healthy = fake_estate_scenario.healthy
    assert healthy.code == 0 and "passed" in healthy.stdout, healthy
    # ... and reports the injected failure as findings, exit 1, in the table and in JSON
    broke = fake_estate_scenario.broken
    assert broke.code == 0 and "injected redis-rule-removed" in broke.stdout, broke
    findings = fake_estate_scenario.broken_verify
    assert findings.code == 1, findings
    assert re.search(r"^dependency\.access +FAIL", findings.stdout, flags=re.M), findings
    as_json = fake_estate_scenario.broken_verify_json
    assert as_json.code == 1, as_json
    report = json.loads(as_json.stdout)
    assert [r["check"] for r in report["results"] if r["status"] == "FAIL"] == ["dependency.access"]


@pytest.mark.server
def test_fake_estate_reset_gives_a_clean_copy(fake_estate_scenario):
    # GIVEN the copy with the injected failure (verify exits 1 on it)
    assert fake_estate_scenario.broken_verify.code == 1, fake_estate_scenario.broken_verify
    # WHEN reset THEN the copy is clean again
    reset = fake_estate_scenario.reset
    assert reset.code == 0, reset
    assert "seeded a clean copy of stack development" in reset.stdout, reset
    assert fake_estate_scenario.reset_verify.code == 0, fake_estate_scenario.reset_verify


@pytest.mark.server
def test_the_on_call_views_read_the_copy_through_make(fake_estate_scenario):
    # GIVEN the clean copy after the reset, with the incident's log lines injected
    assert fake_estate_scenario.reset_verify.code == 0, fake_estate_scenario.reset_verify
    assert fake_estate_scenario.errors_logged.code == 0, fake_estate_scenario.errors_logged
    # THEN the on-call views read it through make: a filter pattern with quotes and spaces
    # reaches the tool as it was typed; a healthy revision is exit 0
    lines = fake_estate_scenario.logs
    assert lines.code == 0 and "HuggingFace token not configured" in lines.stdout, lines
    assert len(lines.stdout.splitlines()) == 1, lines
    assert fake_estate_scenario.task_env.code == 0, fake_estate_scenario.task_env


@pytest.mark.server
def test_fake_estate_stop_stops_the_server_and_break_then_says_none_runs(fake_estate_scenario):
    # WHEN stopped THEN the server is gone with its pid file, and break says none runs
    stopped = fake_estate_scenario.stopped
    assert stopped.code == 0 and "stopped" in stopped.stdout, stopped
    assert not fake_estate_scenario.pid_file_after_stop
    assert fake_estate_scenario.pid is not None
    assert "moto_server" not in fake_estate_scenario.server_command_after_stop
    gone = fake_estate_scenario.break_after_stop
    assert gone.code == 2 and "no fake estate runs" in gone.stderr, gone


# --------------------------------------------------------------------------- #
# CI keeps failing when make fails
# --------------------------------------------------------------------------- #


def ci_entry_problems(text: str) -> list[str]:
    """`.ci/run` must stop at the first failing command, unset variable or failing pipe stage."""
    problems = []
    lines = [line.strip() for line in text.splitlines()]
    commands = [line for line in lines if line and not line.startswith("#")]
    if not lines or not re.match(r"^#!\s*/(usr/)?bin/(env )?bash\b", lines[0]):
        problems.append("not a bash script (#!/usr/bin/env bash)")
    strict = next((i for i, line in enumerate(lines) if re.match(r"^set -euo pipefail\b", line)), None)
    first_make = next((i for i, line in enumerate(lines) if re.match(r"^(exec )?make\b", line)), None)
    if strict is None:
        problems.append("no `set -euo pipefail`")
    if first_make is None:
        problems.append("runs no make target")
    elif strict is not None and strict > first_make:
        problems.append("`set -euo pipefail` comes after the first make")
    problems += [f"a failure is swallowed: {line}" for line in commands if swallows_failure(line)]
    return problems


def swallows_failure(line: str) -> bool:
    return bool(re.search(r"\|\|\s*(true|:)\b|^set \+[euo]|^set -o[^#]*\+o", line))


def effective_shell(workflow: dict, job: dict, step: dict) -> str:
    for scope in (
        step,
        (job.get("defaults") or {}).get("run") or {},
        (workflow.get("defaults") or {}).get("run") or {},
    ):
        if scope.get("shell"):
            return str(scope["shell"])
    return ""  # GitHub's implicit default: `bash -e {0}`, without pipefail


def make_steps(workflow: dict) -> Iterator[tuple[str, dict, dict]]:
    """(job id, job, step) for every step whose script runs a make target (make in command position)."""
    for job_id, job in (workflow.get("jobs") or {}).items():
        for step in job.get("steps") or []:
            if re.search(r"(?:^|[;&|(])\s*make\s+[a-z]", step.get("run") or "", flags=re.M):
                yield job_id, job, step


def workflow_problems(workflow: dict) -> list[str]:
    """Every step that runs a make target runs under bash's -eo pipefail (GitHub's `shell: bash`),
    and nothing turns its failure into a success."""
    problems = []
    for job_id, job, step in make_steps(workflow):
        script = step["run"]
        name = f"{job_id}: {step.get('name') or script.splitlines()[0]}"
        shell = effective_shell(workflow, job, step)
        if shell != "bash" and not (re.search(r"(^|\s)-[a-z]*e", shell) and "pipefail" in shell):
            problems.append(f"{name}: shell {shell or '(default)'} lacks -eo pipefail; use `shell: bash`")
        if step.get("continue-on-error") or job.get("continue-on-error"):
            problems.append(f"{name}: continue-on-error hides a failing make")
        problems += [
            f"{name}: a failure is swallowed: {line.strip()}"
            for line in script.splitlines()
            if swallows_failure(line.strip())
        ]
    return problems


def test_the_ci_entry_keeps_its_strict_flags():
    assert ci_entry_problems(CI_RUN.read_text()) == []
    assert os.access(CI_RUN, os.X_OK)


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_steps_that_run_make_fail_when_make_fails(path):
    assert workflow_problems(yaml.safe_load(path.read_text())) == []


def test_the_workflow_check_sees_the_steps_that_run_make():
    called = {
        re.search(r"make\s+([a-z][\w-]*)", step["run"]).group(1)
        for path in WORKFLOWS
        for _, _, step in make_steps(yaml.safe_load(path.read_text()))
    }
    assert {"test", "synth", "verify", "smoke", "drift"} <= called


def test_the_ci_checks_find_what_would_hide_a_failure():
    good = CI_RUN.read_text()
    assert ci_entry_problems(good.replace("set -euo pipefail", "set -eu")) == ["no `set -euo pipefail`"]
    assert ci_entry_problems(good.replace("\nmake test\n", "\nmake test || true\n")) == [
        "a failure is swallowed: make test || true"
    ]
    workflow = {
        "jobs": {
            "test": {
                "steps": [
                    {"name": "default shell", "run": "make test"},
                    {"name": "custom shell", "run": "make synth | tee log", "shell": "bash {0}"},
                    {"name": "ignored", "run": "make verify", "shell": "bash", "continue-on-error": True},
                    {"name": "swallowed", "run": "make smoke || true", "shell": "bash"},
                    {"name": "strict custom shell", "run": "make synth | tee log", "shell": "bash -eo pipefail {0}"},
                    {"name": "not make", "run": "echo make sure"},
                ]
            }
        }
    }
    assert workflow_problems(workflow) == [
        "test: default shell: shell (default) lacks -eo pipefail; use `shell: bash`",
        "test: custom shell: shell bash {0} lacks -eo pipefail; use `shell: bash`",
        "test: ignored: continue-on-error hides a failing make",
        "test: swallowed: a failure is swallowed: make smoke || true",
    ]
