"""The CI pipeline (.github/workflows/*.yml, .github/dependabot.yml), checked offline.

GIVEN the workflows: pull request, deploy (merge to main; by hand: the Redeploy),
      drift, deploy-image and repair
THEN  each is valid against the GitHub workflow schema that check-jsonschema ships
      (vendor.github-workflows, no network), and keeps the pipeline's promises:
      - every stack file gets the same pipeline: the matrices come from the stack files
        (ops/stack_matrix.py, run here), a stack or service chosen by hand is one that exists;
      - the PR previews and comments; main deploys up -> verify -> smoke; drift is checked
        on a schedule and fails loudly; an image is committed to main, then deployed;
        repair shows what it would change, then `make repair`;
      - everything that touches a stack shares that stack's one concurrency group and is
        never cancelled half-way; what can change a stack waits for its environment's
        approval, runs only from main, and never reads the dispatcher's input unchecked;
      - every job has a timeout and least privilege; actions are pinned by commit SHA with
        the version in a comment; nothing is interpolated into a script; pip is cached;
        the flags that make a check fail (--expect-no-changes, pipefail, --policy-pack)
        are there, and Dependabot watches the actions and the Python pins.
AND   `make diff` runs on every PR, forks included, in a workflow with a read-only
      token and no secret (pr-diff.yml), and the comment is posted by a workflow_run
      workflow that never checks out or runs the PR's code and checks the artifact
      as untrusted data (pr-diff-comment.yml); both scripts run here against stand-ins.

Every check is a function that returns the problems it found, and the second
half of this file breaks a real workflow on purpose to watch each one fail.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from core.contract import CONTRACTS
from tests import tiers
from tests.helpers import STACKS, reads_config

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS_DIR = ROOT / ".github" / "workflows"
DEPENDABOT = ROOT / ".github" / "dependabot.yml"
PULL_REQUEST, DEPLOY, DRIFT = "pull-request.yml", "deploy.yml", "drift.yml"
# `make diff` on every PR: run without credentials, posted by a workflow that never runs the PR's code.
PR_DIFF, PR_DIFF_COMMENT = "pr-diff.yml", "pr-diff-comment.yml"
STACK = "development"
DEPLOY_IMAGE, REPAIR = "deploy-image.yml", "repair.yml"
# How a script names the stack of its job: the job's STACK variable, never an expression.
STACK_ARG = '"$STACK"'
MAIN_ONLY = "github.ref == 'refs/heads/main'"

Workflow = dict[str, Any]
Step = dict[str, Any]


# --- loading -------------------------------------------------------------------


class _WorkflowLoader(yaml.SafeLoader):
    """PyYAML with YAML 1.2 booleans, as GitHub reads workflows.

    PyYAML follows YAML 1.1, where `on`, `off`, `yes` and `no` are booleans, so
    `on:` would become the key True. Only `true` / `false` are booleans here.
    """


_WorkflowLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_WorkflowLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def load_workflow(text: str) -> Workflow:
    return yaml.load(text, Loader=_WorkflowLoader)  # noqa: S506 (a SafeLoader subclass)


def workflow_files() -> list[Path]:
    return sorted([*WORKFLOWS_DIR.glob("*.yml"), *WORKFLOWS_DIR.glob("*.yaml")])


TEXTS: dict[str, str] = {p.name: p.read_text() for p in workflow_files()}
WORKFLOWS: dict[str, Workflow] = {name: load_workflow(text) for name, text in TEXTS.items()}


def workflow(name: str) -> Workflow:
    """A fresh copy, so a test may break it."""
    return copy.deepcopy(WORKFLOWS[name])


# --- the schemas -------------------------------------------------------------------

# The files `check-jsonschema --builtin-schema vendor.github-workflows` (and
# vendor.dependabot) use: schemastore's, vendored, no download.
_VENDOR = resources.files("check_jsonschema.builtin_schemas.vendor")


def _validator(name: str) -> Any:
    schema = json.loads(_VENDOR.joinpath(name).read_text())
    return jsonschema.validators.validator_for(schema)(schema)


VALIDATOR = _validator("github-workflows.json")
DEPENDABOT_VALIDATOR = _validator("dependabot.json")


def schema_errors(doc: Any, validator: Any = VALIDATOR) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
        for e in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
    ]


# --- walking a workflow --------------------------------------------------------------


def jobs(wf: Workflow) -> dict[str, dict[str, Any]]:
    return wf.get("jobs") or {}


def steps(job: dict[str, Any]) -> list[Step]:
    return job.get("steps") or []


def all_steps(wf: Workflow) -> Iterator[tuple[str, int, Step]]:
    for job_id, job in jobs(wf).items():
        for index, step in enumerate(steps(job)):
            yield job_id, index, step


def action(step: Step) -> str:
    """`owner/repo` of a `uses:` step, without the ref ('' for a `run:` step)."""
    return step.get("uses", "").split("@")[0]


def script(step: Step) -> str:
    return step.get("run", "") or ""


def runs_make(step: Step, target: str) -> bool:
    return re.search(rf"(^|[;&|]\s*|\n\s*)make {re.escape(target)}(\s|$)", script(step)) is not None


def runs_make_target(target: str) -> Callable[[Step], bool]:
    return lambda step: runs_make(step, target)


# The two tiers of the tests (tests/tiers.py): a workflow that gates on the tests runs both.
TEST_TARGETS = ("test", "test-slow")


def runs_cli(step: Step, command: str) -> bool:
    """A line of the step's script starts with `command` (not just mentions it)."""
    return re.search(rf"(^|\n)\s*{re.escape(command)}(\s|$)", script(step)) is not None


def pulumi_action(step: Step, command: str) -> bool:
    return action(step) == "pulumi/actions" and (step.get("with") or {}).get("command") == command


def truthy(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def find(wf: Workflow, predicate: Callable[[Step], bool]) -> list[tuple[str, int, Step]]:
    return [(job_id, index, step) for job_id, index, step in all_steps(wf) if predicate(step)]


def in_job(wf: Workflow, job_id: str, predicate: Callable[[Step], bool]) -> list[tuple[str, int, Step]]:
    return [(j, i, s) for j, i, s in find(wf, predicate) if j == job_id]


def needs(job: dict[str, Any]) -> list[str]:
    value = job.get("needs") or []
    return [value] if isinstance(value, str) else list(value)


def upstream(wf: Workflow, job_id: str) -> set[str]:
    """Every job that `job_id` waits for, directly or not."""
    seen: set[str] = set()
    todo = needs(jobs(wf).get(job_id, {}))
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo.extend(needs(jobs(wf).get(current, {})))
    return seen


def runs_before(wf: Workflow, first: tuple[str, int], then: tuple[str, int]) -> bool:
    """`first` (job, step index) completes before `then` starts: same job and an
    earlier step, or `then`'s job needs `first`'s job."""
    (job_a, index_a), (job_b, index_b) = first, then
    return index_a < index_b if job_a == job_b else job_a in upstream(wf, job_b)


def walk(node: Any, path: tuple = ()) -> Iterator[tuple[tuple, Any]]:
    """Every (path, scalar) in the document."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, path + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, path + (index,))
    else:
        yield path, node


def where(path: tuple) -> str:
    return ".".join(map(str, path))


def job_stack(job: dict[str, Any]) -> str | None:
    """The expression naming the stack a job works on: its `env.STACK` (scripts read "$STACK")."""
    value = (job.get("env") or {}).get("STACK")
    return value if isinstance(value, str) else None


def assumes_role(job: dict[str, Any], variable: str | None = None) -> bool:
    """The job takes AWS credentials (of the role in `vars.<variable>`, if given)."""
    return any(
        action(s) == "aws-actions/configure-aws-credentials"
        and (variable is None or f"vars.{variable}" in str((s.get("with") or {}).get("role-to-assume")))
        for s in steps(job)
    )


def changes_stack(step: Step) -> bool:
    """The step changes AWS through Pulumi: `pulumi up` (the action, the CLI or make)."""
    return (
        pulumi_action(step, "up")
        or runs_cli(step, "pulumi up")
        or any(runs_make(step, target) for target in ("up", "repair"))
    )


def pushes(step: Step) -> bool:
    """The step pushes: `git ... push`, or a push of HEAD through a wrapper (`with_token push ... HEAD:...`);
    a command continued over lines counts as one line."""
    text = script(step).replace("\\\n", " ")
    return re.search(r"\bgit\b[^\n]*\bpush\b|\bpush\b[^\n]*\bHEAD:", text) is not None


def privileged(job: dict[str, Any]) -> bool:
    """May change a stack or main: the deploy role, a `pulumi up`, or write access to the repository."""
    return (
        assumes_role(job, "AWS_DEPLOY_ROLE_ARN")
        or any(changes_stack(s) for s in steps(job))
        or (job.get("permissions") or {}).get("contents") == "write"
    )


# --- checks every workflow must pass ---------------------------------------------------

SHA_PIN = re.compile(r"^[0-9a-f]{40}$")
VERSION_COMMENT = re.compile(r"^v\d+(\.\d+){0,2}$")
SECRET_EXPR = re.compile(r"\$\{\{[^}]*\bsecrets\.", re.S)
# Scopes a job may write, and what in the job justifies each.
WRITE_SCOPES: dict[str, Callable[[Step], bool]] = {
    "id-token": lambda s: action(s) == "aws-actions/configure-aws-credentials",
    "pull-requests": lambda s: (
        (action(s) == "pulumi/actions" and truthy((s.get("with") or {}).get("comment-on-pr")))
        or re.search(r"\bgh api\b[^\n]*issues/[^\n]*comments", script(s)) is not None
    ),
    "issues": lambda s: re.search(r"\bgh issue (create|comment|edit)\b", script(s)) is not None,
    "contents": pushes,
}


def problems_timeouts(wf: Workflow) -> list[str]:
    return [
        f"job {job_id} has no timeout-minutes"
        for job_id, job in jobs(wf).items()
        if not isinstance(job.get("timeout-minutes"), int) or job["timeout-minutes"] <= 0
    ]


def problems_permissions(wf: Workflow) -> list[str]:
    found = []
    top = wf.get("permissions")
    if top is None:
        found.append("no top-level permissions: the token would get the repository's default (maybe write-all)")
    elif not isinstance(top, dict) or any(level != "read" for level in top.values()):
        found.append(f"top-level permissions must be {{}} or read-only, not {top!r}")
    for path, value in walk(wf):
        if value in ("write-all", "read-all"):
            found.append(f"{where(path)}: {value}")
    for job_id, job in jobs(wf).items():
        granted = job.get("permissions")
        if granted is None:
            found.append(f"job {job_id} does not declare its permissions")
            continue
        if not isinstance(granted, dict):
            continue  # write-all / read-all, reported above
        for scope, level in granted.items():
            if level != "write":
                continue
            justified = WRITE_SCOPES.get(scope)
            if justified is None:
                found.append(f"job {job_id} may write {scope}: nothing in this pipeline needs that")
            elif not any(justified(step) for step in steps(job)):
                found.append(f"job {job_id} may write {scope} but no step in it uses that")
        for scope, justified in WRITE_SCOPES.items():
            if granted.get(scope) != "write" and any(justified(step) for step in steps(job)):
                found.append(f"job {job_id} needs {scope}: write for what its steps do")
    return found


def uses_lines(text: str) -> Iterator[tuple[int, str, str]]:
    """(line number, the `uses:` value, the comment after it) for every `uses:` in a file's text."""
    for number, line in enumerate(text.splitlines(), 1):
        match = re.match(r"^\s*(?:-\s+)?uses:\s*(['\"]?)([^\s'\"#]+)\1\s*(?:#\s*(.*))?$", line)
        if match:
            yield number, match.group(2), (match.group(3) or "").strip()


def problems_pins(text: str) -> list[str]:
    """Every action is pinned by a full commit SHA (a tag can be moved to other code), with the
    version it is in a comment (`actions/checkout@<40 hex> # v7.0.1`), as Dependabot writes them."""
    found = []
    for number, uses, comment in uses_lines(text):
        if uses.startswith(("./", "docker://")):
            continue
        name, _, ref = uses.partition("@")
        if not SHA_PIN.match(ref):
            found.append(f"line {number}: {uses} is not pinned to a full commit SHA")
        if not VERSION_COMMENT.match(comment):
            found.append(f"line {number}: {name} has no `# v<version>` comment saying which release the SHA is")
    if len(list(uses_lines(text))) != text.count("uses:"):
        found.append("a `uses:` this check cannot read (one per line: `uses: owner/repo@<sha> # v<version>`)")
    return found


def problems_releases(texts: dict[str, str]) -> list[str]:
    """One action, one pinned release across the workflows: Dependabot moves them together, and a
    reviewer reads one SHA per action."""
    releases: dict[str, set[str]] = {}
    for text in texts.values():
        for _, uses, comment in uses_lines(text):
            name, _, ref = uses.partition("@")
            releases.setdefault(name, set()).add(f"{ref} # {comment}")
    return [
        f"{name} is pinned to {len(pins)} releases: {sorted(pins)}" for name, pins in releases.items() if len(pins) > 1
    ]


def problems_secrets(wf: Workflow) -> list[str]:
    """`${{ secrets.* }}` only as a value under `env:` or `with:`; and no `${{ }}`
    in a script at all (an expression is pasted into the script's text before
    bash runs it: a secret would be written into the script, a branch name, a commit
    message or a dispatcher's input could inject commands)."""
    found = []
    for path, value in walk(wf):
        if not isinstance(value, str):
            continue
        if SECRET_EXPR.search(value) and not (len(path) >= 2 and path[-2] in ("env", "with")):
            found.append(f"{where(path)}: secrets may only be referenced in env: or with:")
        if path and path[-1] == "run" and "${{" in value:
            found.append(f"{where(path)}: an expression in a script's text (pass it through env:)")
    return found


def problems_triggers(wf: Workflow) -> list[str]:
    """`pull_request_target` and `workflow_run` run with this repository's secrets and a write
    token, even for a fork's PR. pull_request_target is refused; workflow_run only in a workflow
    that never checks out or runs code (problems_runs_pr_code): it may then read a PR run's
    artifact as data (pr-diff-comment.yml)."""
    triggers = wf.get("on") or {}
    names = [triggers] if isinstance(triggers, str) else list(triggers)
    found = []
    for name in names:
        if name == "pull_request_target":
            found.append(f"trigger {name}: runs a fork's code with this repository's secrets")
        elif name == "workflow_run":
            found += [f"trigger {name} in a workflow that runs code: {p}" for p in problems_runs_pr_code(wf)]
    return found


# What runs code in a step's script: a build tool, an interpreter, a shell given a file, a
# path executed, git (it would fetch or check out the PR). In command position only.
RUNS_CODE = re.compile(
    r"(?:^|[;&|({]|\$\(|\bthen\b|\bdo\b|\belse\b)\s*"  # command position
    r"(?:(?:make|python[0-9.]*|pip[0-9.]*|pipx|uv|npm|npx|node|bash|sh|zsh|source|\.|git|docker|eval|exec)(?=\s|$)"
    r"|(?:\.{1,2}/|/|~/)[^\s;|&]+"  # a path executed: ./post, /tmp/x
    r"|\"?\$\{?\w+\}?\"?/[^\s;|&]*)",  # a path in a variable executed: "$DIFF_DIR"/post
    re.M,
)


def problems_runs_pr_code(wf: Workflow) -> list[str]:
    """For a workflow with a write token that reads a PR's run: no step checks anything out
    or runs a local action, a container or code (RUNS_CODE)."""
    found = []
    for job_id, index, step in all_steps(wf):
        uses = step.get("uses") or ""
        if action(step) == "actions/checkout":
            found.append(f"{job_id} step {index} checks out code ({uses})")
        elif uses.startswith(("./", "docker://")):
            found.append(f"{job_id} step {index} runs {uses}")
        for match in RUNS_CODE.finditer(script(step)):
            found.append(f"{job_id} step {index} runs code: {match.group(0).strip()!r}")
    return found


def problems_checkout(wf: Workflow) -> list[str]:
    """The token checkout would leave in .git/config is readable by every later step."""
    return [
        f"{job_id} step {index}: actions/checkout without persist-credentials: false"
        for job_id, index, step in all_steps(wf)
        if action(step) == "actions/checkout" and (step.get("with") or {}).get("persist-credentials") is not False
    ]


def requirement_pin(package: str) -> str:
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        match = re.match(rf"^{re.escape(package)}==(\S+)", line.strip())
        if match:
            return match.group(1)
    raise AssertionError(f"requirements.txt does not pin {package}")


def problems_pulumi_version(wf: Workflow) -> list[str]:
    """The CLI the workflows install is the release of the SDK the program runs on."""
    sdk = requirement_pin("pulumi")
    return [
        f"{job_id} step {index}: pulumi/actions installs pulumi-version "
        f"{(step.get('with') or {}).get('pulumi-version')!r}, requirements.txt pins pulumi=={sdk}"
        for job_id, index, step in all_steps(wf)
        if action(step) == "pulumi/actions" and str((step.get("with") or {}).get("pulumi-version")) != sdk
    ]


def installs_packages(step: Step) -> bool:
    """The step pip-installs (directly, through `pulumi install`, or through a make target's .venv)."""
    text = script(step)
    return "pip install" in text or runs_cli(step, "pulumi install") or re.search(r"(^|\s)make \w", text) is not None


def problems_pip_cache(wf: Workflow) -> list[str]:
    """A job that installs packages caches pip's downloads, keyed on the requirements files."""
    found = []
    for job_id, job in jobs(wf).items():
        if not any(installs_packages(s) for s in steps(job)):
            continue
        setups = [s for s in steps(job) if action(s) == "actions/setup-python"]
        for setup in setups or [{}]:
            inputs = setup.get("with") or {}
            if inputs.get("cache") != "pip" or inputs.get("cache-dependency-path") != "requirements*.txt":
                found.append(
                    f"job {job_id} installs packages without setup-python's pip cache "
                    "(cache: pip, cache-dependency-path: requirements*.txt)"
                )
    return found


GENERIC_CHECKS = [
    problems_timeouts,
    problems_permissions,
    problems_secrets,
    problems_triggers,
    problems_checkout,
    problems_pulumi_version,
    problems_pip_cache,
]


def generic_problems(wf: Workflow) -> list[str]:
    return [problem for check in GENERIC_CHECKS for problem in check(wf)]


# --- the stacks: one pipeline per stack file ---------------------------------------------

STACK_MATRIX = "${{ fromJSON(needs.stacks.outputs.stacks) }}"
STACK_GROUP = "stack-{stack}"


def problems_stacks_job(wf: Workflow) -> list[str]:
    """The `stacks` job lists the stacks with ops/stack_matrix.py and passes them on; it reads
    nothing but the checkout."""
    job = jobs(wf).get("stacks")
    if job is None:
        return ["no `stacks` job lists the stacks from the stack files"]
    found = []
    (listing,) = [s for s in steps(job) if s.get("id") == "list"] or [{}]
    if "ops.stack_matrix" not in script(listing) or 'stacks=$stacks" >> "$GITHUB_OUTPUT"' not in script(listing):
        found.append("the stacks job's step `list` does not write ops.stack_matrix's list to $GITHUB_OUTPUT")
    if (job.get("outputs") or {}).get("stacks") != "${{ steps.list.outputs.stacks }}":
        found.append("the stacks job does not pass its list on (outputs.stacks)")
    if job.get("permissions") != {"contents": "read"} or SECRET_EXPR.search(json.dumps(job)):
        found.append("the stacks job needs nothing but contents: read, and no secret")
    return found


def problems_matrix(wf: Workflow, job_id: str) -> list[str]:
    """A job run once per stack: the stacks job's list, every stack run to its end, STACK set."""
    job = jobs(wf)[job_id]
    strategy = job.get("strategy") or {}
    found = []
    if (strategy.get("matrix") or {}).get("stack") != STACK_MATRIX:
        found.append(f"job {job_id} is not run for each stack of the stack files (matrix.stack: {STACK_MATRIX})")
    if "stacks" not in needs(job):
        found.append(f"job {job_id} does not wait for the stacks job")
    if strategy.get("fail-fast") is not False:
        found.append(f"job {job_id}: one stack failing would cancel the others half-way (fail-fast: false)")
    if job_stack(job) != "${{ matrix.stack }}":
        found.append(f"job {job_id} does not set STACK to its matrix's stack")
    return found


def problems_stack_arguments(wf: Workflow) -> list[str]:
    """In a job with a stack, every Pulumi command and make target is given that stack, and only
    through the STACK variable (pulumi/actions: the same expression in stack-name)."""
    found = []
    for job_id, job in jobs(wf).items():
        stack = job_stack(job)
        if stack is None:
            continue
        for index, step in enumerate(steps(job)):
            inputs = step.get("with") or {}
            if action(step) == "pulumi/actions" and inputs.get("command") and inputs.get("stack-name") != stack:
                found.append(f"{job_id} step {index}: stack-name {inputs.get('stack-name')!r} is not {stack}")
            for flag in re.findall(r"--stack(?:=|\s+)(\"\$STACK\"|\S+)", script(step)):
                if flag != STACK_ARG:
                    found.append(f"{job_id} step {index}: --stack {flag} is not {STACK_ARG}")
            for target, assignment in re.findall(r"(?:^|[;&|]\s*|\n\s*)make ([a-z][\w-]*)([^\n]*)", script(step)):
                if target in ("synth", "lint", "test"):
                    continue
                if f"STACK={STACK_ARG}" not in assignment.split():
                    found.append(f"{job_id} step {index}: make {target} is not given STACK={STACK_ARG}")
    return found


def stack_jobs(wf: Workflow) -> list[str]:
    """The jobs that work on a stack with AWS credentials. A pull request's preview is not one:
    it compares the PR's code with the state, changes nothing, and a newer push cancels it."""
    if "pull_request" in (wf.get("on") or {}):
        return []
    return [j for j, job in jobs(wf).items() if job_stack(job) is not None and assumes_role(job)]


def problems_stack_concurrency(wf: Workflow) -> list[str]:
    """Every job that works on a stack is in that stack's one group (deploy, redeploy, drift,
    deploy-image, repair alike), and is never cancelled half-way."""
    found = []
    if stack_jobs(wf) and "concurrency" in wf:
        found.append("a workflow-level concurrency group: a whole run would wait in another group than its stack's")
    for job_id in stack_jobs(wf):
        job = jobs(wf)[job_id]
        concurrency = job.get("concurrency") or {}
        expected = STACK_GROUP.format(stack=job_stack(job))
        if concurrency.get("group") != expected:
            found.append(f"job {job_id} is not in its stack's group ({expected}): {concurrency.get('group')!r}")
        if concurrency.get("cancel-in-progress") is not False:
            found.append(f"job {job_id} could be cancelled half-way (cancel-in-progress: false)")
    return found


def problems_privileged(wf: Workflow) -> list[str]:
    """What can change a stack or main waits for the stack's environment (its reviewers), runs
    only from main when it can be dispatched from a branch, and reads no input unchecked."""
    found = []
    dispatched = "workflow_dispatch" in (wf.get("on") or {})
    for job_id, job in jobs(wf).items():
        if not privileged(job):
            continue
        environment = job.get("environment")
        name = environment.get("name") if isinstance(environment, dict) else environment
        if name is None or name != job_stack(job):
            found.append(f"job {job_id} changes a stack outside its GitHub environment (environment: {job_stack(job)})")
        if dispatched and MAIN_ONLY not in str(job.get("if", "")):
            found.append(f"job {job_id} would deploy whatever branch it is dispatched from (if: {MAIN_ONLY})")
        for path, value in walk(job):
            if isinstance(value, str) and re.search(r"\binputs\.|github\.event\.", value):
                found.append(f"jobs.{job_id}.{where(path)}: reads the dispatcher's input directly: {value}")
    return found


CHECKERS = ("ops.stack_matrix --only", "ops.image_request --check")


def problems_untrusted_input(wf: Workflow) -> list[str]:
    """A dispatcher's input (`inputs.*`, `github.event.client_payload.*`) is read only by the
    step that checks it (its env), or shown in the run's name."""
    found = []
    for path, value in walk(wf):
        if not isinstance(value, str) or not re.search(r"\binputs\.|github\.event\.(client_payload|inputs)", value):
            continue
        if path == ("run-name",):
            continue
        if len(path) == 6 and path[0] == "jobs" and path[2] == "steps" and path[4] == "env":
            step = jobs(wf)[path[1]]["steps"][path[3]]
            if any(checker in script(step) for checker in CHECKERS):
                continue
        found.append(f"{where(path)}: the dispatcher's input outside the step that checks it")
    return found


def choice_inputs(wf: Workflow) -> dict[str, dict[str, Any]]:
    dispatch = (wf.get("on") or {}).get("workflow_dispatch") or {}
    return dispatch.get("inputs") or {}


def problems_choices(wf: Workflow) -> list[str]:
    """A stack chosen by hand is one of the stack files, a service one of the contract's."""
    found = []
    expected = {"stack": list(STACKS), "service": sorted(CONTRACTS)}
    for name, spec in choice_inputs(wf).items():
        if name not in expected:
            continue
        if spec.get("type") != "choice" or list(spec.get("options") or []) != expected[name]:
            found.append(f"input {name}: a choice of {expected[name]}, not {spec.get('options')!r}")
        if "default" in spec and spec["default"] not in expected[name]:
            found.append(f"input {name}: default {spec['default']!r} is not one of {expected[name]}")
    return found


STACK_CHECKS = [
    problems_stack_arguments,
    problems_stack_concurrency,
    problems_privileged,
    problems_untrusted_input,
    problems_choices,
]


def stack_problems(wf: Workflow) -> list[str]:
    return [problem for check in STACK_CHECKS for problem in check(wf)]


# --- the policy pack ------------------------------------------------------------------

POLICY_PACK = "policy"
MAKEFILE = ROOT / "Makefile"


def make_recipe(makefile: str, target: str) -> str:
    """The recipe lines of `target` in a Makefile's text (tab-indented lines after `target:`)."""
    match = re.search(rf"^{re.escape(target)}:[^\n]*\n((?:\t[^\n]*\n?)*)", makefile, re.M)
    return match.group(1) if match else ""


def passes_policy_pack(step: Step, makefile: str | None = None) -> bool:
    """The step runs Pulumi with the pack: pulumi/actions' `policyPacks` (one per line
    or comma-separated) lists it, a script passes `--policy-pack policy`, or it runs a
    make target whose recipe does."""
    if action(step) == "pulumi/actions":
        packs = str((step.get("with") or {}).get("policyPacks") or "")
        return POLICY_PACK in [p.strip().rstrip("/") for p in re.split(r"[\n,]", packs)]
    text = script(step)
    for target in re.findall(r"\bmake ([a-z][\w-]*)", text):
        text += "\n" + make_recipe(makefile if makefile is not None else MAKEFILE.read_text(), target)
    return re.search(rf"--policy-pack[ =]{POLICY_PACK}/?(\s|$)", text) is not None


def installs_policy_pack(step: Step) -> bool:
    """The step creates the pack's virtualenv (PulumiPolicy.yaml: policy/venv) from its requirements."""
    text = script(step)
    return "venv policy/venv" in text and "-r policy/requirements.txt" in text


def problems_policy_pack(wf: Workflow, located: tuple[str, int, Step], what: str) -> list[str]:
    job_id, index, step = located
    found = []
    if not passes_policy_pack(step):
        found.append(
            f"pulumi {what} runs without the policy pack (policyPacks: {POLICY_PACK} / --policy-pack {POLICY_PACK})"
        )
    if action(step) == "pulumi/actions" and not any(
        runs_before(wf, (j, i), (job_id, index)) for j, i, _ in find(wf, installs_policy_pack)
    ):
        found.append(f"nothing installs policy/requirements.txt into policy/venv before pulumi {what}")
    return found


def problems_every_pulumi_step_runs_the_pack(wf: Workflow) -> list[str]:
    """Every preview and up, in every workflow, runs the pack (drift's read-only checks aside:
    they compare, they do not judge)."""
    found = []
    for located in find(wf, lambda s: pulumi_action(s, "preview") or changes_stack(s)):
        found += problems_policy_pack(wf, located, "preview" if pulumi_action(located[2], "preview") else "up")
    return found


# --- what each workflow is for ---------------------------------------------------------

FORK_GUARD = "github.event.pull_request.head.repo.full_name == github.repository"


def one(found: list, what: str, problems: list[str]):
    if len(found) != 1:
        problems.append(f"expected one step that {what}, found {len(found)}")
        return None
    return found[0]


def problems_pull_request(wf: Workflow) -> list[str]:
    found: list[str] = []
    if "pull_request" not in (wf.get("on") or {}):
        found.append("not triggered by pull_request")
    concurrency = wf.get("concurrency") or {}
    if not concurrency.get("group") or concurrency.get("cancel-in-progress") is not True:
        found.append("a new push must cancel the PR's previous run (concurrency, cancel-in-progress: true)")
    found += [f"no step runs make {target}" for target in TEST_TARGETS if not find(wf, runs_make_target(target))]
    synth = find(wf, lambda s: runs_make(s, "synth"))
    if not synth:
        found.append("no step runs make synth")
    elif not all("ops.stack_matrix" in script(s) for _, _, s in synth):
        found.append("make synth does not render every stack file (python -m ops.stack_matrix)")
    found += problems_stacks_job(wf)
    preview = one(find(wf, lambda s: pulumi_action(s, "preview")), "runs pulumi preview (pulumi/actions)", found)
    if preview:
        job_id, index, step = preview
        inputs = step.get("with") or {}
        found += problems_matrix(wf, job_id)
        if not truthy(inputs.get("comment-on-pr")):
            found.append("the preview does not comment on the PR (comment-on-pr: true)")
        if not truthy(inputs.get("diff")):
            found.append("the preview comment has no diff (diff: true)")
        if truthy(inputs.get("expect-no-changes")):
            found.append("a PR preview that expects no changes fails every PR that changes something")
        if "secrets.PULUMI_ACCESS_TOKEN" not in str((step.get("env") or {}).get("PULUMI_ACCESS_TOKEN")):
            found.append("the preview step gets no PULUMI_ACCESS_TOKEN")
        job = jobs(wf)[job_id]
        if FORK_GUARD not in str(job.get("if", "")):
            found.append(f"job {job_id} would run for fork PRs (no `if: {FORK_GUARD}`)")
        aws = [i for i, s in enumerate(steps(job)) if action(s) == "aws-actions/configure-aws-credentials"]
        if not aws or aws[0] > index:
            found.append("the preview runs without AWS credentials (configure-aws-credentials before it)")
        found += problems_policy_pack(wf, preview, "preview")
    return found


def problems_applies(wf: Workflow, job_id: str, apply: Callable[[Step], bool], what: str) -> list[str]:
    """A job that changes a stack, then reads its outputs, verifies the live estate and smokes
    the API, in that order, each given the job's stack."""
    found: list[str] = []
    up = one(in_job(wf, job_id, apply), f"runs {what}", found)
    outputs = one(
        in_job(
            wf, job_id, lambda s: f"pulumi stack output --json --stack {STACK_ARG} > build/outputs.json" in script(s)
        ),
        "writes the stack outputs to build/outputs.json",
        found,
    )
    verify = one(in_job(wf, job_id, lambda s: runs_make(s, "verify")), "runs make verify", found)
    smoke = one(in_job(wf, job_id, lambda s: runs_make(s, "smoke")), "runs make smoke", found)
    if up:
        env = up[2].get("env") or {}
        if "secrets.PULUMI_ACCESS_TOKEN" not in str(env.get("PULUMI_ACCESS_TOKEN")):
            found.append(f"{what} gets no PULUMI_ACCESS_TOKEN")
        found += problems_policy_pack(wf, up, "up")
        if not assumes_role(jobs(wf)[job_id], "AWS_DEPLOY_ROLE_ARN"):
            found.append(f"{what} runs without the deploy role (vars.AWS_DEPLOY_ROLE_ARN)")
    for before, after, order in (
        (up, outputs, "stack output after the change"),
        (outputs, verify, "verify after the outputs"),
        (up, verify, "verify after the change"),
        (verify, smoke, "smoke after verify"),
    ):
        if before and after and not runs_before(wf, before[:2], after[:2]):
            found.append(f"out of order: {order}")
    if verify and "OUTPUTS=build/outputs.json" not in script(verify[2]):
        found.append("make verify is not given OUTPUTS=build/outputs.json")
    if smoke:
        env = smoke[2].get("env") or {}
        if "secrets.HOKUSAI_API_KEY" not in str(env.get("HOKUSAI_API_KEY")):
            found.append("make smoke gets no HOKUSAI_API_KEY from secrets")
        if "MODEL_ID=" not in script(smoke[2]) or "BASE_URL=" not in script(smoke[2]):
            found.append("make smoke is not given BASE_URL and MODEL_ID")
        if not any("vars.HOKUSAI_API_BASE_URL" in str(v) for v in env.values()):
            found.append("the smoke test's BASE_URL does not come from the HOKUSAI_API_BASE_URL variable")
    return found


def problems_preview_gate(wf: Workflow, job_id: str, refresh: bool = False) -> list[str]:
    """`up` (pulumi/actions runs it without its own preview) judges the whole stack only once it
    has changed it: a preview with the pack before it stops a violation first."""
    found: list[str] = []
    (up_job, up_index, _), *_ = in_job(wf, job_id, changes_stack) or [(job_id, 0, {})]
    gates = find(wf, lambda s: pulumi_action(s, "preview") and passes_policy_pack(s))
    gates = [g for g in gates if runs_before(wf, g[:2], (up_job, up_index))]
    if not gates:
        found.append("no pulumi preview with the policy pack before pulumi up: a violation would stop it too late")
    for j, i, gate in gates:
        inputs = gate.get("with") or {}
        if inputs.get("stack-name") != job_stack(jobs(wf)[j]):
            found.append("the policy preview before up is not of the job's stack")
        if refresh and not truthy(inputs.get("refresh")):
            found.append("the preview before a repair does not refresh: it would show nothing to put back")
        found += [p for p in problems_policy_pack(wf, (j, i, gate), "preview") if "installs" in p]
    return found


def problems_deploy(wf: Workflow) -> list[str]:
    found: list[str] = []
    triggers = wf.get("on") or {}
    if "main" not in (((triggers.get("push") or {}).get("branches")) or []):
        found.append("not triggered by a push to main")
    if "stack" not in choice_inputs(wf):
        found.append("cannot be started by hand for one stack (the Redeploy: workflow_dispatch, input stack)")
    found += problems_stacks_job(wf)
    listing = next((s for _, _, s in in_job(wf, "stacks", lambda s: s.get("id") == "list")), {})
    if "REQUESTED" not in (listing.get("env") or {}) or "--only" not in script(listing):
        found.append("a redeploy does not deploy just the stack asked for (ops.stack_matrix --only)")
    up = one(find(wf, lambda s: pulumi_action(s, "up")), "runs pulumi up (pulumi/actions)", found)
    if up:
        job_id = up[0]
        found += problems_matrix(wf, job_id)
        found += problems_applies(wf, job_id, lambda s: pulumi_action(s, "up"), "pulumi up")
        found += problems_preview_gate(wf, job_id)
        for target in TEST_TARGETS:
            tests = find(wf, runs_make_target(target))
            if not tests:
                found.append(f"no step runs make {target}")
            if not any(runs_before(wf, (j, i), up[:2]) for j, i, _ in tests):
                found.append(f"pulumi up does not wait for make {target}")
        if truthy((up[2].get("with") or {}).get("refresh")):
            found.append("a deploy that refreshes overwrites drift silently (that is repair's job)")
    return found


def problems_deploy_image(wf: Workflow) -> list[str]:
    found: list[str] = []
    triggers = wf.get("on") or {}
    if "deploy-image" not in (((triggers.get("repository_dispatch") or {}).get("types")) or []):
        found.append("the application's CI cannot call it (repository_dispatch, type deploy-image)")
    if set(choice_inputs(wf)) != {"service", "image_tag", "stack"}:
        found.append("workflow_dispatch inputs are not service, image_tag and stack")
    request = jobs(wf).get("request") or {}
    check = one(in_job(wf, "request", lambda s: "ops.image_request --check" in script(s)), "checks the request", found)
    if check and '>> "$GITHUB_OUTPUT"' not in script(check[2]):
        found.append("the checked request is not what the request job passes on ($GITHUB_OUTPUT)")
    if request.get("permissions") != {"contents": "read"} or SECRET_EXPR.search(json.dumps(request)):
        found.append("the request job checks untrusted input: contents: read and no secret, nothing more")
    # An event without a stack means the same stack as the form's default.
    default = (choice_inputs(wf).get("stack") or {}).get("default")
    if check and not str((check[2].get("env") or {}).get("STACK", "")).endswith(f"|| '{default}' }}}}"):
        found.append(f"an event without a stack does not default to the form's stack ({default!r})")
    up = one(find(wf, lambda s: pulumi_action(s, "up")), "runs pulumi up (pulumi/actions)", found)
    if not up:
        return found
    job_id = up[0]
    job = jobs(wf)[job_id]
    if "request" not in needs(job) or job_stack(job) != "${{ needs.request.outputs.stack }}":
        found.append("the deploy job does not take the checked stack from the request job")
    found += problems_applies(wf, job_id, lambda s: pulumi_action(s, "up"), "pulumi up")
    found += problems_preview_gate(wf, job_id)
    checkout = in_job(wf, job_id, lambda s: action(s) == "actions/checkout")
    if not checkout or (checkout[0][2].get("with") or {}).get("ref") != "main":
        found.append("the image is not committed on top of main as it is now (checkout ref: main)")
    write = one(in_job(wf, job_id, lambda s: "ops.image_request --write" in script(s)), "writes the image", found)
    if write and "pulumi config get --path" not in script(write[2]):
        found.append("nothing checks that Pulumi reads back the image written (pulumi config get)")
    commit = one(in_job(wf, job_id, pushes), "commits the image to main", found)
    preview = in_job(wf, job_id, lambda s: pulumi_action(s, "preview"))
    for before, after, order in (
        (write, preview[0] if preview else None, "the preview after the image is written"),
        (preview[0] if preview else None, commit, "the commit after the preview (a refused image commits nothing)"),
        (commit, up, "pulumi up after the commit (git first: what runs is on main)"),
    ):
        if before and after and not runs_before(wf, before[:2], after[:2]):
            found.append(f"out of order: {order}")
    return found


def problems_repair(wf: Workflow, makefile: str | None = None) -> list[str]:
    found: list[str] = []
    makefile = makefile if makefile is not None else MAKEFILE.read_text()
    if set(wf.get("on") or {}) != {"workflow_dispatch"} or "stack" not in choice_inputs(wf):
        found.append("repair is started by hand only, for one stack (workflow_dispatch, input stack)")
    found += problems_stacks_job(wf)
    repair = one(find(wf, lambda s: runs_make(s, "repair")), "runs make repair", found)
    if not repair:
        return found
    job_id = repair[0]
    found += problems_matrix(wf, job_id)
    found += problems_applies(wf, job_id, lambda s: runs_make(s, "repair"), "make repair")
    found += problems_preview_gate(wf, job_id, refresh=True)
    recipe = make_recipe(makefile, "repair")
    for flag in ("--refresh", f"--policy-pack {POLICY_PACK}"):
        if flag not in recipe:
            found.append(f"the Makefile's repair target runs without {flag}")
    if not truthy((repair[2].get("env") or {}).get("PULUMI_SKIP_CONFIRMATIONS")):
        found.append("make repair would wait for a confirmation nobody can type (PULUMI_SKIP_CONFIRMATIONS)")
    return found


def problems_drift(wf: Workflow) -> list[str]:
    found: list[str] = []
    triggers = wf.get("on") or {}
    schedule = triggers.get("schedule") or []
    if not schedule or not all(isinstance(entry, dict) and entry.get("cron") for entry in schedule):
        found.append("no schedule")
    if "workflow_dispatch" not in triggers:
        found.append("cannot be started by hand (workflow_dispatch)")
    found += problems_stacks_job(wf)
    refresh = one(find(wf, lambda s: runs_cli(s, "pulumi refresh")), "runs pulumi refresh", found)
    if refresh:
        found += problems_matrix(wf, refresh[0])
        text = script(refresh[2])
        for flag in ("--preview-only", "--expect-no-changes", f"--stack {STACK_ARG}"):
            if flag not in text:
                found.append(f"pulumi refresh without {flag}")
    # pulumi/actions runs `command: refresh` as a real refresh (no preview-only
    # input): it would write the drift into the state and so hide it.
    if find(wf, lambda s: pulumi_action(s, "refresh")):
        found.append("pulumi/actions command: refresh writes the drift into the state")
    verify = one(find(wf, lambda s: runs_make(s, "verify")), "runs make verify", found)
    if refresh and verify and not runs_before(wf, refresh[:2], verify[:2]):
        found.append("out of order: verify after the refresh")
    # A failed step skips the steps after it unless their `if` says otherwise.
    if verify and "!cancelled()" not in str(verify[2].get("if", "")):
        found.append("make verify must run even when the refresh found drift (if: !cancelled() && ...)")
    issue = one(find(wf, lambda s: "gh issue" in script(s)), "opens or updates the drift issue", found)
    if issue:
        job_id, index, step = issue
        if "failure()" not in str(step.get("if", "")):
            found.append("the issue step does not run on failure (if: failure())")
        if "--label drift" not in script(step):
            found.append("the issue is not found / opened by the label drift")
        if "gh issue list" not in script(step) or "gh issue comment" not in script(step):
            found.append("the issue step would open a duplicate instead of updating the open issue")
        if "$STACK" not in script(step):
            found.append("the issue is not the stack's own: every stack would share one")
        if not (step.get("env") or {}).get("GH_TOKEN"):
            found.append("gh has no GH_TOKEN")
        if refresh and not runs_before(wf, refresh[:2], (job_id, index)):
            found.append("out of order: the issue step before the checks")
    if not find(wf, lambda s: "GITHUB_STEP_SUMMARY" in script(s)):
        found.append("nothing writes what drifted to the step summary")
    return found


# --- the flags that make a check fail -------------------------------------------------


def problems_drift_preview(wf: Workflow, makefile: str) -> list[str]:
    """Code vs cloud: `pulumi preview --refresh --expect-no-changes` of the stack, run directly or
    through `make drift`. Without --expect-no-changes the preview exits 0 on drift (only shows it);
    without --refresh it compares the code with the state, not with AWS."""
    found: list[str] = []
    direct = find(wf, lambda s: runs_cli(s, "pulumi preview"))
    through_make = find(wf, lambda s: runs_make(s, "drift"))
    step = one(direct + through_make, "runs pulumi preview --refresh --expect-no-changes (or make drift)", found)
    if step is None:
        return found
    text = script(step[2])
    if through_make:
        if f"STACK={STACK_ARG}" not in text:
            found.append(f"make drift is not given STACK={STACK_ARG}")
        text = make_recipe(makefile, "drift")
        if not re.search(r"(^|\s|@)pulumi preview\b", text):
            found.append("the Makefile's drift target does not run pulumi preview")
    elif f"--stack {STACK_ARG}" not in text:
        found.append(f"pulumi preview without --stack {STACK_ARG}")
    for flag in ("--refresh", "--expect-no-changes"):
        if not re.search(rf"{re.escape(flag)}(\s|$)", text):
            found.append(f"the code-vs-cloud preview runs without {flag}")
    return found


def effective_shell(wf: Workflow, job: dict[str, Any], step: Step) -> str | None:
    """The shell a run step gets: its own, its job's default, the workflow's default; None: GitHub's."""
    for source in (step, (job.get("defaults") or {}).get("run") or {}, (wf.get("defaults") or {}).get("run") or {}):
        if source.get("shell"):
            return str(source["shell"])
    return None


def fails_a_pipe(shell: str | None) -> bool:
    """GitHub runs `shell: bash` as `bash -eo pipefail {0}`; its implicit default is `bash -e {0}`
    (no pipefail), and `sh` has none. A custom command must say -e and pipefail itself."""
    if shell == "bash":
        return True
    return shell is not None and "pipefail" in shell and re.search(r"(^|\s)-[a-z]*e", shell) is not None


def problems_pipefail(wf: Workflow) -> list[str]:
    """A step that pipes a command (`pulumi ... | tee log`) fails only if the shell has pipefail:
    otherwise the pipe's status is tee's, and a failed check passes."""
    found = []
    for job_id, job in jobs(wf).items():
        for index, step in enumerate(steps(job)):
            piped = re.search(r"[^|]\|[^|]", script(step))
            if piped and not fails_a_pipe(effective_shell(wf, job, step)):
                shell = effective_shell(wf, job, step) or "(GitHub's default: bash -e, no pipefail)"
                found.append(f"{job_id} step {index} pipes a command under {shell}: a failure before the pipe passes")
    return found


# --- make diff on every PR, and its comment ------------------------------------------

# The largest comment body GitHub accepts.
GITHUB_COMMENT_LIMIT = 65_536
DIFF_ARTIFACT = "pr-diff"


def problems_pr_diff(wf: Workflow) -> list[str]:
    """The PR's code runs here (a fork's too): pull_request only, a read-only token, no secrets,
    no environment; it runs `make diff FORMAT=markdown` and uploads the Markdown and the PR number."""
    found: list[str] = []
    triggers = wf.get("on") or {}
    if set(triggers) != {"pull_request"}:
        found.append(f"must run on pull_request only (a fork's code with a read-only token), not {sorted(triggers)}")
    for job_id, job in jobs(wf).items():
        if job.get("permissions") != {"contents": "read"}:
            found.append(
                f"job {job_id} must have exactly `permissions: contents: read`, not {job.get('permissions')!r}"
            )
        if job.get("environment"):
            found.append(f"job {job_id} runs in an environment (its secrets would reach the PR's code)")
    for path, value in walk(wf):
        if isinstance(value, str) and re.search(r"\bsecrets\.|\bgithub\.token\b|\bsecrets\b\s*:", value):
            found.append(f"{where(path)}: no secret or token in the workflow that runs the PR's code")
        if path and path[-1] == "secrets":
            found.append(f"{where(path)}: no secret or token in the workflow that runs the PR's code")
    diff = one(find(wf, lambda s: runs_make(s, "diff")), "runs make diff", found)
    upload = one(find(wf, lambda s: action(s) == "actions/upload-artifact"), "uploads the comment", found)
    if diff:
        text = script(diff[2])
        for needed in ("FORMAT=markdown", f"build/{DIFF_ARTIFACT}/comment.md", f"build/{DIFF_ARTIFACT}/pr-number"):
            if needed not in text:
                found.append(f"the make diff step does not write {needed}")
        if "github.event.pull_request.number" not in str((diff[2].get("env") or {}).get("PR_NUMBER")):
            found.append("the PR number does not come from the pull_request event (env PR_NUMBER)")
    if upload:
        inputs = upload[2].get("with") or {}
        if inputs.get("name") != DIFF_ARTIFACT or f"build/{DIFF_ARTIFACT}" not in str(inputs.get("path")):
            found.append(f"the upload is not the artifact {DIFF_ARTIFACT} of build/{DIFF_ARTIFACT}/")
        if diff and not runs_before(wf, diff[:2], upload[:2]):
            found.append("out of order: the upload before make diff")
    return found


def problems_pr_diff_comment(wf: Workflow, producer: Workflow) -> list[str]:
    """The comment is posted with a write token, from the PR run's artifact, read as untrusted data."""
    found: list[str] = []
    triggers = wf.get("on") or {}
    run = triggers.get("workflow_run") if isinstance(triggers, dict) else None
    if set(triggers) != {"workflow_run"} or not isinstance(run, dict):
        found.append(f"must run on workflow_run only, not {sorted(triggers)}")
        run = {}
    if run.get("workflows") != [producer.get("name")] or run.get("types") != ["completed"]:
        found.append(f"must follow the completed runs of {producer.get('name')!r} and nothing else")
    found += problems_runs_pr_code(wf)
    for job_id, job in jobs(wf).items():
        condition = str(job.get("if", ""))
        for needed in ("github.event.workflow_run.event == 'pull_request'", "workflow_run.conclusion == 'success'"):
            if needed not in condition:
                found.append(f"job {job_id} runs without `if: {needed}`")
        if job.get("permissions") != {"actions": "read", "pull-requests": "write"}:
            found.append(
                f"job {job_id} must have exactly actions: read and pull-requests: write, not {job.get('permissions')!r}"
            )
    download = one(
        find(wf, lambda s: action(s) == "actions/download-artifact"), "downloads the PR run's artifact", found
    )
    if download:
        inputs = download[2].get("with") or {}
        if inputs.get("name") != DIFF_ARTIFACT or "github.event.workflow_run.id" not in str(inputs.get("run-id")):
            found.append(f"the download is not {DIFF_ARTIFACT} of the run that triggered this one")
    post = one(find(wf, lambda s: "gh api" in script(s)), "posts the comment through the API", found)
    if post:
        text, env = script(post[2]), post[2].get("env") or {}
        limit = str(env.get("MAX_BYTES", ""))
        if not limit.isdigit() or int(limit) > GITHUB_COMMENT_LIMIT or '-gt "$MAX_BYTES"' not in text:
            found.append(f"no size limit under {GITHUB_COMMENT_LIMIT} bytes checked before posting (MAX_BYTES)")
        if "iconv -f UTF-8" not in text:
            found.append("the text is not checked to be UTF-8 before posting")
        if "github.event.workflow_run.head_sha" not in str(env.get("HEAD_SHA")) or '!= "$HEAD_SHA"' not in text:
            found.append("the PR number from the artifact is believed without checking that PR's head (HEAD_SHA)")
        if "^[0-9]{1,9}$" not in text:
            found.append("the PR number from the artifact is not checked to be a number")
        if 'body=@$comment"' not in text:
            found.append("the comment is not posted from a file (-F body=@file)")
    return found


PURPOSE_CHECKS = {
    PULL_REQUEST: problems_pull_request,
    DEPLOY: problems_deploy,
    DRIFT: lambda wf: problems_drift(wf) + problems_drift_preview(wf, MAKEFILE.read_text()),
    PR_DIFF: problems_pr_diff,
    PR_DIFF_COMMENT: lambda wf: problems_pr_diff_comment(wf, WORKFLOWS[PR_DIFF]),
    DEPLOY_IMAGE: problems_deploy_image,
    REPAIR: problems_repair,
}


# --- Dependabot ------------------------------------------------------------------------


def problems_dependabot(config: dict[str, Any], root: Path = ROOT) -> list[str]:
    """Dependabot updates the actions' SHA pins and every requirements file's pins."""
    found = []
    watched = {(u.get("package-ecosystem"), u.get("directory")) for u in config.get("updates") or []}
    if ("github-actions", "/") not in watched:
        found.append("Dependabot does not update the actions (github-actions, directory /)")
    for requirements in sorted(root.rglob("requirements*.txt")):
        relative = requirements.relative_to(root)
        if any(part.startswith(".") or part in ("venv", "node_modules") for part in relative.parts[:-1]):
            continue
        directory = "/" + relative.parent.as_posix() if relative.parent != Path(".") else "/"
        if ("pip", directory) not in watched:
            found.append(f"Dependabot does not update {relative} (pip, directory {directory})")
    return found


# --- the real workflows ---------------------------------------------------------------


def test_the_pipeline_has_its_workflows():
    assert set(PURPOSE_CHECKS) <= set(WORKFLOWS), sorted(WORKFLOWS)


def test_the_loader_keeps_on_a_string_key():
    doc = load_workflow("on: push\nflag: true\nword: yes\n")
    assert doc == {"on": "push", "flag": True, "word": "yes"}


@pytest.mark.parametrize("name", sorted(WORKFLOWS))
def test_workflow_is_valid_against_the_github_workflow_schema(name):
    assert schema_errors(WORKFLOWS[name]) == []


@pytest.mark.parametrize("name", sorted(WORKFLOWS))
def test_workflow_keeps_the_rules_every_workflow_keeps(name):
    assert generic_problems(WORKFLOWS[name]) == []


@pytest.mark.parametrize("name", sorted(WORKFLOWS))
def test_every_action_is_pinned_by_commit_sha_with_its_version(name):
    assert problems_pins(TEXTS[name]) == []


def test_each_action_is_pinned_to_one_release_everywhere():
    assert problems_releases(TEXTS) == []


@pytest.mark.parametrize("name", sorted(WORKFLOWS))
def test_every_piped_step_fails_when_the_command_before_the_pipe_fails(name):
    assert problems_pipefail(WORKFLOWS[name]) == []


@reads_config
@pytest.mark.parametrize("name", sorted(WORKFLOWS))
def test_what_touches_a_stack_keeps_the_stack_rules(name):
    assert stack_problems(WORKFLOWS[name]) == []


@pytest.mark.parametrize("name", sorted(WORKFLOWS))
def test_every_preview_and_up_runs_the_policy_pack(name):
    assert problems_every_pulumi_step_runs_the_pack(WORKFLOWS[name]) == []


@pytest.mark.parametrize("name", sorted(PURPOSE_CHECKS))
def test_workflow_does_what_it_is_for(name):
    assert PURPOSE_CHECKS[name](WORKFLOWS[name]) == []


def test_deploy_redeploy_drift_deploy_image_and_repair_share_one_group_per_stack():
    groups = {
        (name, job_id): jobs(wf)[job_id]["concurrency"]["group"].replace(job_stack(jobs(wf)[job_id]), "<stack>")
        for name, wf in WORKFLOWS.items()
        for job_id in stack_jobs(wf)
        if name != PULL_REQUEST
    }
    touched = {name for name, _ in groups}
    assert {DEPLOY, DRIFT, DEPLOY_IMAGE, REPAIR} <= touched
    assert set(groups.values()) == {STACK_GROUP.format(stack="<stack>")}, groups
    assert "workflow_dispatch" in WORKFLOWS[DEPLOY]["on"]  # the Redeploy is deploy.yml's deploy job


def test_every_make_target_the_workflows_call_is_in_the_makefile():
    defined = set(re.findall(r"^([A-Za-z][\w-]*):", MAKEFILE.read_text(), re.M))
    called = {
        (name, target)
        for name, wf in WORKFLOWS.items()
        for _, _, step in all_steps(wf)
        for target in re.findall(r"\bmake ([a-z][\w-]*)", script(step))
    }
    missing = sorted(f"{target} (called in {name})" for name, target in called if target not in defined)
    assert not missing, f"the Makefile has no target {missing}"


def test_dependabot_is_valid_and_watches_the_actions_and_every_requirements_file():
    config = yaml.safe_load(DEPENDABOT.read_text())
    assert schema_errors(config, DEPENDABOT_VALIDATOR) == []
    assert problems_dependabot(config) == []


# --- each check can fail ------------------------------------------------------------------


def noticed(problems: list[str], fragment: str) -> None:
    assert problems, "the check did not notice"
    assert any(fragment in p for p in problems), (fragment, problems)


def step_where(wf: Workflow, predicate: Callable[[Step], bool]) -> Step:
    return next(step for _, _, step in all_steps(wf) if predicate(step))


def test_the_schema_check_fails_on_a_broken_workflow():
    broken = load_workflow("""
on: push
jobs:
  build:
    timeout-minutes: soon
    steps:
      - run: make test
        shell: 42
""")
    errors = schema_errors(broken)
    assert errors, "the schema accepted a job without runs-on and a timeout that is not a number"


def test_the_schema_check_fails_on_an_unknown_key_in_a_real_workflow():
    wf = workflow(DEPLOY)
    wf["jobs"]["deploy"]["timeout_minutes"] = 60  # underscore: not a key GitHub knows
    assert schema_errors(wf)


def test_a_job_without_a_timeout_is_found():
    wf = workflow(DEPLOY)
    del wf["jobs"]["deploy"]["timeout-minutes"]
    noticed(problems_timeouts(wf), "job deploy has no timeout-minutes")


@pytest.mark.parametrize("top", ["write-all", {"contents": "write"}, None])
def test_broad_top_level_permissions_are_found(top):
    wf = workflow(PULL_REQUEST)
    if top is None:
        del wf["permissions"]
    else:
        wf["permissions"] = top
    noticed(problems_permissions(wf), "top-level permissions")


def test_write_all_on_a_job_is_found():
    wf = workflow(DRIFT)
    wf["jobs"]["drift"]["permissions"] = "write-all"
    noticed(problems_permissions(wf), "jobs.drift.permissions: write-all")


def test_a_write_scope_no_step_uses_is_found():
    wf = workflow(PULL_REQUEST)
    wf["jobs"]["test"]["permissions"]["id-token"] = "write"
    wf["jobs"]["test"]["permissions"]["contents"] = "write"
    problems = problems_permissions(wf)
    noticed(problems, "job test may write id-token but no step in it uses that")
    noticed(problems, "job test may write contents but no step in it uses that")


def test_a_missing_write_scope_is_found():
    wf = workflow(PULL_REQUEST)
    del wf["jobs"]["preview"]["permissions"]["pull-requests"]
    noticed(problems_permissions(wf), "job preview needs pull-requests: write")


def test_a_push_without_contents_write_is_found():
    wf = workflow(DEPLOY_IMAGE)
    wf["jobs"]["deploy"]["permissions"]["contents"] = "read"
    noticed(problems_permissions(wf), "job deploy needs contents: write")


@pytest.mark.parametrize(
    ("replace", "expected"),
    [
        (lambda line: re.sub(r"@[0-9a-f]{40}", "@v7", line), "is not pinned to a full commit SHA"),
        (lambda line: re.sub(r"@[0-9a-f]{40}", "@main", line), "is not pinned to a full commit SHA"),
        (lambda line: re.sub(r"@([0-9a-f]{40})", lambda m: "@" + m.group(1)[:12], line), "not pinned"),
        (lambda line: line.split(" #")[0], "has no `# v<version>` comment"),
        (lambda line: line.split(" #")[0] + " # latest", "has no `# v<version>` comment"),
    ],
    ids=["major-tag", "branch", "short-sha", "no-comment", "comment-not-a-version"],
)
def test_an_action_not_pinned_by_sha_with_its_version_is_found(replace, expected):
    lines = TEXTS[DEPLOY].splitlines()
    index = next(i for i, line in enumerate(lines) if "actions/checkout@" in line)
    lines[index] = replace(lines[index])
    noticed(problems_pins("\n".join(lines)), expected)


def test_a_uses_the_pin_check_cannot_read_is_found():
    text = TEXTS[DEPLOY].replace("      - uses: actions/checkout@", "      - {uses: actions/checkout@", 1)
    noticed(problems_pins(text), "cannot read")


def test_the_same_action_on_two_releases_is_found():
    texts = dict(TEXTS)
    texts[DEPLOY] = re.sub(
        r"actions/checkout@[0-9a-f]{40} # v[\d.]+", "actions/checkout@" + "9" * 40 + " # v7.0.0", texts[DEPLOY], count=1
    )
    noticed(problems_releases(texts), "actions/checkout is pinned to 2 releases")


def test_a_secret_in_a_script_is_found():
    wf = workflow(DEPLOY)
    smoke = step_where(wf, lambda s: runs_make(s, "smoke"))
    smoke["run"] = 'make smoke BASE_URL="$HOKUSAI_API_BASE_URL" MODEL_ID=21 API_KEY=${{ secrets.HOKUSAI_API_KEY }}'
    problems = problems_secrets(wf)
    noticed(problems, "secrets may only be referenced in env: or with:")
    noticed(problems, "an expression in a script's text")


def test_a_secret_in_a_condition_or_job_env_name_is_found():
    wf = workflow(DRIFT)
    wf["jobs"]["drift"]["if"] = "${{ secrets.PULUMI_ACCESS_TOKEN != '' }}"
    noticed(problems_secrets(wf), "jobs.drift.if: secrets may only be referenced")


def test_an_event_expression_in_a_script_is_found():
    wf = workflow(DEPLOY)
    step_where(wf, lambda s: runs_make(s, "verify"))["run"] += "\necho ${{ github.event.head_commit.message }}"
    noticed(problems_secrets(wf), "an expression in a script's text")


@pytest.mark.parametrize("expression", ["${{ inputs.image_tag }}", "${{ github.event.client_payload.image_tag }}"])
def test_a_dispatchers_input_pasted_into_a_script_is_found(expression):
    wf = workflow(DEPLOY_IMAGE)
    check = step_where(wf, lambda s: "ops.image_request --check" in script(s))
    check["run"] = check["run"].replace('"$IMAGE_TAG"', f'"{expression}"')
    noticed(problems_secrets(wf), "an expression in a script's text")


def test_pull_request_target_is_found():
    wf = workflow(PULL_REQUEST)
    wf["on"] = {"pull_request_target": {"branches": ["main"]}}
    noticed(problems_triggers(wf), "pull_request_target")


def test_a_checkout_that_keeps_its_token_is_found():
    wf = workflow(DRIFT)
    del step_where(wf, lambda s: action(s) == "actions/checkout")["with"]
    noticed(problems_checkout(wf), "persist-credentials: false")


def test_a_cli_that_is_not_the_sdk_release_is_found():
    wf = workflow(DRIFT)
    step_where(wf, lambda s: action(s) == "pulumi/actions")["with"]["pulumi-version"] = "^3"
    noticed(problems_pulumi_version(wf), "requirements.txt pins pulumi==")


@pytest.mark.parametrize(
    "weaken",
    [
        lambda inputs: inputs.pop("cache"),
        lambda inputs: inputs.pop("cache-dependency-path"),
        lambda inputs: inputs.update({"cache-dependency-path": "requirements.txt"}),
    ],
    ids=["no-cache", "no-key", "one-file-key"],
)
def test_a_job_that_installs_without_the_pip_cache_is_found(weaken):
    wf = workflow(DEPLOY)
    weaken(step_where(wf, lambda s: action(s) == "actions/setup-python" and "cache" in (s.get("with") or {}))["with"])
    noticed(problems_pip_cache(wf), "without setup-python's pip cache")


def test_a_job_that_installs_nothing_needs_no_pip_cache():
    wf = workflow(DEPLOY)
    (setup,) = [s for s in steps(wf["jobs"]["stacks"]) if action(s) == "actions/setup-python"]
    assert "cache" not in setup["with"]  # the listing runs on the standard library
    assert problems_pip_cache(wf) == []
    wf["jobs"]["stacks"]["steps"].append({"run": "make lint"})
    noticed(problems_pip_cache(wf), "job stacks installs packages without")


# Stacks ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [PULL_REQUEST, DEPLOY, DRIFT])
@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda job: job["strategy"]["matrix"].update(stack=["development"]), "is not run for each stack"),
        (lambda job: job["strategy"].pop("fail-fast"), "fail-fast: false"),
        (lambda job: job["strategy"].update({"fail-fast": True}), "fail-fast: false"),
        (lambda job: job.update(needs=[n for n in needs(job) if n != "stacks"]), "does not wait for the stacks job"),
        (lambda job: job["env"].update(STACK="development"), "does not set STACK"),
    ],
    ids=["static-matrix", "fail-fast-default", "fail-fast", "no-needs", "stack-fixed"],
)
def test_a_stack_job_that_does_not_run_for_every_stack_file_is_found(name, change, expected):
    wf = workflow(name)
    job_id = next(j for j, job in jobs(wf).items() if (job.get("strategy") or {}).get("matrix"))
    change(jobs(wf)[job_id])
    noticed(PURPOSE_CHECKS[name](wf), expected)


@pytest.mark.parametrize("name", [PULL_REQUEST, DEPLOY, DRIFT, REPAIR])
@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda wf: wf["jobs"].pop("stacks"), "no `stacks` job"),
        (lambda wf: wf["jobs"]["stacks"]["outputs"].clear(), "does not pass its list on"),
        (lambda wf: wf["jobs"]["stacks"]["permissions"].update({"id-token": "write"}), "nothing but contents: read"),
        (
            lambda wf: step_where(wf, lambda s: s.get("id") == "list").update(
                run='echo "stacks=[]" >> "$GITHUB_OUTPUT"'
            ),
            "does not write ops.stack_matrix's list",
        ),
    ],
    ids=["no-stacks-job", "no-output", "more-permissions", "not-the-stack-files"],
)
def test_a_stack_list_that_is_not_the_stack_files_is_found(name, change, expected):
    wf = workflow(name)
    change(wf)
    noticed(problems_stacks_job(wf), expected)


def stacks_step(name: str) -> Step:
    return step_where(WORKFLOWS[name], lambda s: s.get("id") == "list")


def run_listing(name: str, tmp_path: Path, requested: str | None) -> tuple[subprocess.CompletedProcess, str]:
    output = tmp_path / "github_output"
    output.write_text("")
    env = {"GITHUB_OUTPUT": str(output), "PATH": python_on_path(tmp_path)}
    if requested is not None:
        env["REQUESTED"] = requested
    done = run_step(stacks_step(name), ROOT, env)
    return done, output.read_text()


@reads_config
@pytest.mark.parametrize("name", [PULL_REQUEST, DEPLOY, DRIFT])
@tiers.process
def test_the_matrix_the_stacks_job_writes_is_every_stack_file(name, tmp_path):
    done, output = run_listing(name, tmp_path, None)
    assert done.returncode == 0, done.stderr
    assert output == f"stacks={json.dumps(list(STACKS), separators=(',', ':'))}\n"


@reads_config
@pytest.mark.parametrize("name", [DEPLOY, REPAIR])
@pytest.mark.parametrize("stack", STACKS)
@tiers.process
def test_a_stack_asked_for_by_hand_is_the_whole_matrix(name, stack, tmp_path):
    done, output = run_listing(name, tmp_path, stack)
    assert (done.returncode, output) == (0, f'stacks=["{stack}"]\n'), done.stderr


@pytest.mark.parametrize("name", [DEPLOY, REPAIR])
@pytest.mark.parametrize("asked", ["production", 'development"]\nstacks=["x', "$(id)"])
@tiers.process
def test_a_stack_that_has_no_file_fails_the_listing_and_writes_nothing(name, asked, tmp_path):
    done, output = run_listing(name, tmp_path, asked)
    assert done.returncode != 0 and output == ""
    assert "is not a stack of this project" in done.stderr


def test_a_stack_the_deploy_was_not_given_is_found():
    wf = workflow(DEPLOY)
    step_where(wf, lambda s: runs_make(s, "verify"))["run"] = "make verify STACK=development OUTPUTS=build/outputs.json"
    step_where(wf, lambda s: "pulumi stack output" in script(s))["run"] = (
        "pulumi stack output --json --stack development > build/outputs.json"
    )
    step_where(wf, lambda s: pulumi_action(s, "up"))["with"]["stack-name"] = "development"
    problems = problems_stack_arguments(wf)
    noticed(problems, 'make verify is not given STACK="$STACK"')
    noticed(problems, '--stack development is not "$STACK"')
    noticed(problems, "stack-name 'development' is not ${{ matrix.stack }}")


@pytest.mark.parametrize(
    ("name", "job_id"),
    [(DEPLOY, "deploy"), (DRIFT, "drift"), (DEPLOY_IMAGE, "deploy"), (REPAIR, "repair"), (REPAIR, "plan")],
)
@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda job: job.pop("concurrency"), "is not in its stack's group"),
        (lambda job: job["concurrency"].update(group="deploy-development"), "is not in its stack's group"),
        (
            lambda job: job["concurrency"].update(group=job["concurrency"]["group"] + "-x"),
            "is not in its stack's group",
        ),
        (lambda job: job["concurrency"].update({"cancel-in-progress": True}), "cancelled half-way"),
        (lambda job: job["concurrency"].pop("cancel-in-progress"), "cancelled half-way"),
    ],
    ids=["none", "fixed-stack", "another-group", "cancels", "default-cancel"],
)
def test_a_stack_job_outside_the_stacks_group_is_found(name, job_id, change, expected):
    wf = workflow(name)
    change(jobs(wf)[job_id])
    noticed(problems_stack_concurrency(wf), expected)


def test_a_workflow_level_group_is_found():
    wf = workflow(DEPLOY)
    wf["concurrency"] = {"group": "deploy-development", "cancel-in-progress": False}
    noticed(problems_stack_concurrency(wf), "a workflow-level concurrency group")


@pytest.mark.parametrize(("name", "job_id"), [(DEPLOY, "deploy"), (DEPLOY_IMAGE, "deploy"), (REPAIR, "repair")])
@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda job: job.pop("environment"), "outside its GitHub environment"),
        (lambda job: job.update(environment={"name": "development"}), "outside its GitHub environment"),
        (lambda job: job.pop("if"), "would deploy whatever branch"),
        (lambda job: job.update({"if": "always()"}), "would deploy whatever branch"),
    ],
    ids=["no-environment", "fixed-environment", "no-branch-guard", "other-guard"],
)
def test_a_privileged_job_without_approval_or_from_a_branch_is_found(name, job_id, change, expected):
    wf = workflow(name)
    change(jobs(wf)[job_id])
    noticed(problems_privileged(wf), expected)


def test_a_job_that_pushes_is_privileged_too():
    wf = workflow(DEPLOY_IMAGE)
    request = wf["jobs"]["request"]
    request["permissions"]["contents"] = "write"
    request["steps"].append({"run": "git push origin HEAD:main"})
    noticed(problems_privileged(wf), "job request changes a stack outside its GitHub environment")


@pytest.mark.parametrize(
    ("where_", "value"),
    [
        (lambda wf: wf["jobs"]["deploy"]["env"], "${{ inputs.stack }}"),
        (
            lambda wf: step_where(wf, lambda s: pulumi_action(s, "up"))["with"],
            "${{ github.event.client_payload.stack }}",
        ),
    ],
    ids=["env", "with"],
)
def test_a_privileged_job_reading_the_input_unchecked_is_found(where_, value):
    wf = workflow(DEPLOY_IMAGE)
    target = where_(wf)
    key = "STACK" if "STACK" in target else "stack-name"
    target[key] = value
    noticed(problems_privileged(wf), "reads the dispatcher's input directly")
    noticed(problems_untrusted_input(wf), "outside the step that checks it")


def test_an_input_read_by_a_step_that_does_not_check_it_is_found():
    wf = workflow(DEPLOY_IMAGE)
    wf["jobs"]["request"]["steps"].append({"run": 'echo "$TAG"', "env": {"TAG": "${{ inputs.image_tag }}"}})
    noticed(problems_untrusted_input(wf), "jobs.request.steps.3.env.TAG")


@pytest.mark.parametrize(
    ("name", "input_", "options", "expected"),
    [
        (DEPLOY, "stack", ["development", "production"], "input stack: a choice of"),
        (REPAIR, "stack", [], "input stack: a choice of"),
        (DEPLOY_IMAGE, "service", ["api"], "input service: a choice of"),
    ],
)
def test_a_choice_that_is_not_the_stack_files_or_the_contract_is_found(name, input_, options, expected):
    wf = workflow(name)
    choice_inputs(wf)[input_]["options"] = options
    noticed(problems_choices(wf), expected)


def test_a_default_that_is_not_a_choice_is_found():
    wf = workflow(DEPLOY_IMAGE)
    choice_inputs(wf)["stack"]["default"] = "production"
    noticed(problems_choices(wf), "default 'production' is not one of")


def test_a_free_text_stack_is_found():
    wf = workflow(REPAIR)
    choice_inputs(wf)["stack"] = {"type": "string", "default": "development"}
    noticed(problems_choices(wf), "input stack: a choice of")


# The pull request --------------------------------------------------------------------


def test_a_preview_without_its_pr_comment_is_found():
    wf = workflow(PULL_REQUEST)
    step_where(wf, lambda s: pulumi_action(s, "preview"))["with"]["comment-on-pr"] = False
    noticed(problems_pull_request(wf), "does not comment on the PR")


def test_a_preview_without_the_fork_guard_is_found():
    wf = workflow(PULL_REQUEST)
    del wf["jobs"]["preview"]["if"]
    noticed(problems_pull_request(wf), "would run for fork PRs")


@pytest.mark.parametrize("target", TEST_TARGETS)
def test_a_pr_workflow_without_a_tier_of_the_tests_is_found(target):
    wf = workflow(PULL_REQUEST)
    wf["jobs"]["test"]["steps"] = [s for s in steps(wf["jobs"]["test"]) if not runs_make(s, target)]
    assert f"no step runs make {target}" in problems_pull_request(wf)


def test_a_render_of_one_stack_only_is_found():
    wf = workflow(PULL_REQUEST)
    step_where(wf, lambda s: runs_make(s, "synth"))["run"] = "make synth"
    noticed(problems_pull_request(wf), "does not render every stack file")


def test_pr_runs_that_do_not_cancel_each_other_are_found():
    wf = workflow(PULL_REQUEST)
    wf["concurrency"]["cancel-in-progress"] = False
    noticed(problems_pull_request(wf), "cancel-in-progress: true")


# The deploy and the Redeploy ------------------------------------------------------------------


def test_verify_before_up_is_found():
    wf = workflow(DEPLOY)
    deploy_steps = wf["jobs"]["deploy"]["steps"]
    verify = next(i for i, s in enumerate(deploy_steps) if runs_make(s, "verify"))
    deploy_steps.insert(0, deploy_steps.pop(verify))
    noticed(problems_deploy(wf), "out of order: verify after")


def test_smoke_before_verify_is_found():
    wf = workflow(DEPLOY)
    deploy_steps = wf["jobs"]["deploy"]["steps"]
    smoke = next(i for i, s in enumerate(deploy_steps) if runs_make(s, "smoke"))
    verify = next(i for i, s in enumerate(deploy_steps) if runs_make(s, "verify"))
    deploy_steps[smoke], deploy_steps[verify] = deploy_steps[verify], deploy_steps[smoke]
    noticed(problems_deploy(wf), "out of order: smoke after verify")


def test_up_that_does_not_wait_for_the_tests_is_found():
    wf = workflow(DEPLOY)
    wf["jobs"]["deploy"]["needs"] = ["stacks"]
    found = problems_deploy(wf)
    for target in TEST_TARGETS:
        assert f"pulumi up does not wait for make {target}" in found, found


@pytest.mark.parametrize("target", TEST_TARGETS)
def test_a_deploy_without_a_tier_of_the_tests_is_found(target):
    wf = workflow(DEPLOY)
    wf["jobs"]["test"]["steps"] = [s for s in steps(wf["jobs"]["test"]) if not runs_make(s, target)]
    assert f"no step runs make {target}" in problems_deploy(wf)


def test_smoke_without_its_api_key_is_found():
    wf = workflow(DEPLOY)
    del step_where(wf, lambda s: runs_make(s, "smoke"))["env"]["HOKUSAI_API_KEY"]
    noticed(problems_deploy(wf), "no HOKUSAI_API_KEY")


def test_a_deploy_that_cannot_be_redeployed_by_hand_is_found():
    wf = workflow(DEPLOY)
    del wf["on"]["workflow_dispatch"]
    noticed(problems_deploy(wf), "cannot be started by hand for one stack")


def test_a_redeploy_that_deploys_every_stack_is_found():
    wf = workflow(DEPLOY)
    step_where(wf, lambda s: s.get("id") == "list")["run"] = (
        'stacks="$(python -m ops.stack_matrix)"\necho "stacks=$stacks" >> "$GITHUB_OUTPUT"'
    )
    noticed(problems_deploy(wf), "a redeploy does not deploy just the stack asked for")


def test_a_deploy_that_refreshes_is_found():
    wf = workflow(DEPLOY)
    step_where(wf, lambda s: pulumi_action(s, "up"))["with"]["refresh"] = True
    noticed(problems_deploy(wf), "overwrites drift silently")


# deploy-image ----------------------------------------------------------------------------


def test_deploy_image_without_repository_dispatch_is_found():
    wf = workflow(DEPLOY_IMAGE)
    wf["on"]["repository_dispatch"] = {"types": ["deploy"]}
    noticed(problems_deploy_image(wf), "repository_dispatch, type deploy-image")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda job: job["permissions"].update({"id-token": "write"}), "contents: read and no secret"),
        (lambda job: job["steps"][-1]["env"].update(TOKEN="${{ secrets.PULUMI_ACCESS_TOKEN }}"), "and no secret"),
        (
            lambda job: job["steps"][-1].update(run=job["steps"][-1]["run"].replace("--check ", "")),
            "checks the request",
        ),
        (lambda job: job["steps"][-1].update(run=job["steps"][-1]["run"].split(" >>")[0]), "is not what the request"),
    ],
    ids=["more-permissions", "a-secret", "not-checked", "not-passed-on"],
)
def test_a_request_job_that_does_more_or_less_than_check_is_found(change, expected):
    wf = workflow(DEPLOY_IMAGE)
    change(wf["jobs"]["request"])
    noticed(problems_deploy_image(wf), expected)


def deploy_steps(wf: Workflow) -> list[Step]:
    return wf["jobs"]["deploy"]["steps"]


def index_of(wf: Workflow, predicate: Callable[[Step], bool]) -> int:
    return next(i for i, s in enumerate(deploy_steps(wf)) if predicate(s))


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        (pushes, lambda s: pulumi_action(s, "preview"), "the commit after the preview"),
        (lambda s: pulumi_action(s, "up"), pushes, "pulumi up after the commit"),
        (
            lambda s: pulumi_action(s, "preview"),
            lambda s: "ops.image_request --write" in script(s),
            "the preview after",
        ),
    ],
    ids=["commit-before-preview", "up-before-commit", "preview-before-write"],
)
def test_an_image_deploy_out_of_order_is_found(first, second, expected):
    wf = workflow(DEPLOY_IMAGE)
    a, b = index_of(wf, first), index_of(wf, second)
    steps_ = deploy_steps(wf)
    steps_[a], steps_[b] = steps_[b], steps_[a]
    noticed(problems_deploy_image(wf), expected)


def test_an_image_deploy_without_the_commit_is_found():
    wf = workflow(DEPLOY_IMAGE)
    wf["jobs"]["deploy"]["steps"] = [s for s in deploy_steps(wf) if not pushes(s)]
    noticed(problems_deploy_image(wf), "commits the image to main")


def test_an_image_deploy_without_the_read_back_is_found():
    wf = workflow(DEPLOY_IMAGE)
    write = step_where(wf, lambda s: "ops.image_request --write" in script(s))
    write["run"] = write["run"].replace("pulumi config get --path", "echo")
    noticed(problems_deploy_image(wf), "pulumi config get")


def test_an_image_deploy_on_the_dispatched_commit_is_found():
    wf = workflow(DEPLOY_IMAGE)
    del step_where(wf, lambda s: action(s) == "actions/checkout" and (s.get("with") or {}).get("ref"))["with"]["ref"]
    noticed(problems_deploy_image(wf), "checkout ref: main")


def test_an_event_whose_default_stack_differs_from_the_forms_is_found():
    wf = workflow(DEPLOY_IMAGE)
    check = step_where(wf, lambda s: "ops.image_request --check" in script(s))
    check["env"]["STACK"] = check["env"]["STACK"].replace("'development'", "'staging'")
    noticed(problems_deploy_image(wf), "does not default to the form's stack")


def test_an_image_deploy_whose_stack_is_not_the_checked_one_is_found():
    wf = workflow(DEPLOY_IMAGE)
    wf["jobs"]["deploy"]["env"]["STACK"] = "development"
    noticed(problems_deploy_image(wf), "does not take the checked stack")


# repair ------------------------------------------------------------------------------------


@pytest.mark.parametrize("flag", ["--refresh", "--policy-pack policy"])
def test_a_repair_that_lost_its_flag_in_the_makefile_is_found(flag):
    makefile = MAKEFILE.read_text()
    recipe = make_recipe(makefile, "repair")
    assert flag in recipe  # the real Makefile has it
    weakened = makefile.replace(recipe, recipe.replace(f" {flag}", ""))
    noticed(problems_repair(workflow(REPAIR), weakened), f"runs without {flag}")


def test_a_repair_without_the_pack_in_the_makefile_is_found_by_the_pack_check_too():
    makefile = MAKEFILE.read_text()
    weakened = makefile.replace(
        make_recipe(makefile, "repair"), make_recipe(makefile, "repair").replace(" --policy-pack policy", "")
    )
    assert not passes_policy_pack(step_where(WORKFLOWS[REPAIR], lambda s: runs_make(s, "repair")), weakened)


def test_a_repair_that_waits_for_a_prompt_is_found():
    wf = workflow(REPAIR)
    del step_where(wf, lambda s: runs_make(s, "repair"))["env"]["PULUMI_SKIP_CONFIRMATIONS"]
    noticed(problems_repair(wf), "PULUMI_SKIP_CONFIRMATIONS")


def test_a_repair_shown_without_refresh_is_found():
    wf = workflow(REPAIR)
    del step_where(wf, lambda s: pulumi_action(s, "preview"))["with"]["refresh"]
    noticed(problems_repair(wf), "does not refresh")


def test_a_repair_nobody_saw_first_is_found():
    wf = workflow(REPAIR)
    del wf["jobs"]["plan"]
    wf["jobs"]["repair"]["needs"] = ["stacks"]
    noticed(problems_repair(wf), "no pulumi preview with the policy pack before pulumi up")


def test_a_repair_that_runs_on_a_push_is_found():
    wf = workflow(REPAIR)
    wf["on"]["push"] = {"branches": ["main"]}
    noticed(problems_repair(wf), "started by hand only")


# drift -------------------------------------------------------------------------------------


def test_drift_without_a_schedule_is_found():
    wf = workflow(DRIFT)
    del wf["on"]["schedule"]
    noticed(problems_drift(wf), "no schedule")


@pytest.mark.parametrize("flag", ["--preview-only", "--expect-no-changes"])
def test_a_refresh_without_its_flag_is_found(flag):
    wf = workflow(DRIFT)
    refresh = step_where(wf, lambda s: runs_cli(s, "pulumi refresh"))
    refresh["run"] = refresh["run"].replace(flag, "")
    noticed(problems_drift(wf), f"pulumi refresh without {flag}")


@pytest.mark.parametrize("flag", ["--expect-no-changes", "--refresh"])
def test_a_drift_preview_that_lost_its_flag_in_the_makefile_is_found(flag):
    makefile = MAKEFILE.read_text()
    recipe = make_recipe(makefile, "drift")
    assert flag in recipe  # the real Makefile has it
    weakened = makefile.replace(recipe, recipe.replace(f" {flag}", ""))
    noticed(problems_drift_preview(workflow(DRIFT), weakened), f"runs without {flag}")


def test_a_drift_preview_that_lost_its_flag_in_the_workflow_is_found():
    wf = workflow(DRIFT)
    step = step_where(wf, lambda s: runs_make(s, "drift"))
    step["run"] = step["run"].replace(
        f"make drift STACK={STACK_ARG}", f"pulumi preview --stack {STACK_ARG} --refresh --diff"
    )
    noticed(problems_drift_preview(wf, MAKEFILE.read_text()), "runs without --expect-no-changes")


@pytest.mark.parametrize("replacement", ["make preview", "echo skipped: make drift"])
def test_a_drift_workflow_that_no_longer_runs_the_drift_preview_is_found(replacement):
    wf = workflow(DRIFT)
    step = step_where(wf, lambda s: runs_make(s, "drift"))
    step["run"] = re.sub(r"make drift", replacement, step["run"], count=1)
    noticed(problems_drift_preview(wf, MAKEFILE.read_text()), "make drift")


@pytest.mark.parametrize(
    "weaken",
    [
        lambda wf: wf.pop("defaults"),  # GitHub's implicit bash -e: no pipefail
        lambda wf: wf["defaults"]["run"].update(shell="sh"),
        lambda wf: wf["defaults"]["run"].update(shell="bash -e {0}"),
        lambda wf: wf["jobs"]["drift"].update(defaults={"run": {"shell": "bash --noprofile --norc {0}"}}),
        lambda wf: step_where(wf, lambda s: runs_cli(s, "pulumi refresh")).update(shell="sh -e {0}"),
    ],
    ids=["no-default-shell", "sh", "bash-e", "job-default-without-flags", "step-shell"],
)
def test_a_piped_check_that_lost_pipefail_is_found(weaken):
    wf = workflow(DRIFT)
    weaken(wf)
    noticed(problems_pipefail(wf), "a failure before the pipe passes")


def test_a_strict_custom_shell_keeps_a_pipe_failing():
    wf = workflow(DRIFT)
    wf["defaults"]["run"]["shell"] = "bash --noprofile --norc -eo pipefail {0}"
    assert problems_pipefail(wf) == []


def test_a_state_writing_refresh_through_the_action_is_found():
    wf = workflow(DRIFT)
    wf["jobs"]["drift"]["steps"].append(
        {"uses": "pulumi/actions@v7", "with": {"command": "refresh", "stack-name": "${{ matrix.stack }}"}}
    )
    noticed(problems_drift(wf), "writes the drift into the state")


def test_drift_without_verify_is_found():
    wf = workflow(DRIFT)
    wf["jobs"]["drift"]["steps"] = [s for s in steps(wf["jobs"]["drift"]) if not runs_make(s, "verify")]
    noticed(problems_drift(wf), "runs make verify")


def test_verify_skipped_after_drift_is_found():
    wf = workflow(DRIFT)
    step_where(wf, lambda s: runs_make(s, "verify"))["if"] = "success()"
    noticed(problems_drift(wf), "make verify must run even when the refresh found drift")


def test_an_issue_step_that_would_duplicate_is_found():
    wf = workflow(DRIFT)
    issue = step_where(wf, lambda s: "gh issue" in script(s))
    issue["run"] = 'gh issue create --label drift --title "Drift: $STACK" --body-file build/drift/issue.md'
    noticed(problems_drift(wf), "would open a duplicate")


def test_an_issue_shared_by_every_stack_is_found():
    wf = workflow(DRIFT)
    issue = step_where(wf, lambda s: "gh issue" in script(s))
    issue["run"] = issue["run"].replace('title="Drift: the $STACK stack is out of step"', 'title="Drift"')
    noticed(problems_drift(wf), "every stack would share one")


def test_an_issue_step_that_does_not_run_on_failure_is_found():
    wf = workflow(DRIFT)
    step_where(wf, lambda s: "gh issue" in script(s))["if"] = "${{ success() }}"
    noticed(problems_drift(wf), "does not run on failure")


# The policy pack ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "command", "expected"),
    [
        (PULL_REQUEST, "preview", "pulumi preview runs without the policy pack"),
        (DEPLOY, "up", "pulumi up runs without the policy pack"),
        (DEPLOY, "preview", "no pulumi preview with the policy pack before pulumi up"),
        (DEPLOY_IMAGE, "up", "pulumi up runs without the policy pack"),
        (DEPLOY_IMAGE, "preview", "no pulumi preview with the policy pack before pulumi up"),
        (REPAIR, "preview", "no pulumi preview with the policy pack before pulumi up"),
    ],
)
def test_a_pulumi_step_that_loses_the_policy_pack_is_found(name, command, expected):
    wf = workflow(name)
    del step_where(wf, lambda s: pulumi_action(s, command))["with"]["policyPacks"]
    noticed(PURPOSE_CHECKS[name](wf) + problems_every_pulumi_step_runs_the_pack(wf), expected)


@pytest.mark.parametrize("packs", ["policies", "", "./other-pack", "policy-extra"])
def test_a_policy_pack_other_than_policy_is_found(packs):
    wf = workflow(PULL_REQUEST)
    step_where(wf, lambda s: pulumi_action(s, "preview"))["with"]["policyPacks"] = packs
    noticed(problems_pull_request(wf), "without the policy pack")


def test_the_policy_pack_is_recognised_in_a_script_a_make_target_and_among_several_packs():
    assert passes_policy_pack({"run": "pulumi preview --stack development --diff --policy-pack policy"})
    assert passes_policy_pack({"run": "pulumi up --stack development --policy-pack=policy/ --yes"})
    assert not passes_policy_pack({"run": "pulumi preview --stack development --policy-pack policies"})
    assert passes_policy_pack({"uses": "pulumi/actions@v7", "with": {"policyPacks": "../shared-pack\npolicy"}})
    assert passes_policy_pack({"run": 'make repair STACK="$STACK"'})
    assert not passes_policy_pack({"run": 'make drift STACK="$STACK"'})


@pytest.mark.parametrize("name", [PULL_REQUEST, DEPLOY, DEPLOY_IMAGE, REPAIR])
def test_a_policy_pack_that_is_not_installed_is_found(name):
    wf = workflow(name)
    for job in jobs(wf).values():
        job["steps"] = [s for s in steps(job) if not installs_policy_pack(s)]
    noticed(PURPOSE_CHECKS[name](wf), "nothing installs policy/requirements.txt")


@pytest.mark.parametrize("name", [PULL_REQUEST, DEPLOY, DEPLOY_IMAGE])
def test_a_policy_pack_installed_after_pulumi_runs_is_found(name):
    wf = workflow(name)
    job_id, index, _ = find(wf, installs_policy_pack)[0]
    job_steps = jobs(wf)[job_id]["steps"]
    job_steps.append(job_steps.pop(index))
    noticed(PURPOSE_CHECKS[name](wf), "nothing installs policy/requirements.txt")


def test_a_policy_preview_after_up_is_found():
    wf = workflow(DEPLOY)
    deploy_steps_ = wf["jobs"]["deploy"]["steps"]
    gate = next(i for i, s in enumerate(deploy_steps_) if pulumi_action(s, "preview"))
    up = next(i for i, s in enumerate(deploy_steps_) if pulumi_action(s, "up"))
    deploy_steps_.insert(up, deploy_steps_.pop(gate))  # now right after up
    noticed(problems_deploy(wf), "no pulumi preview with the policy pack before pulumi up")


# Dependabot ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("drop", "expected"),
    [
        (("github-actions", "/"), "does not update the actions"),
        (("pip", "/"), "does not update requirements.txt"),
        (("pip", "/policy"), "does not update policy/requirements.txt"),
    ],
)
def test_dependabot_without_an_ecosystem_is_found(drop, expected):
    config = yaml.safe_load(DEPENDABOT.read_text())
    config["updates"] = [u for u in config["updates"] if (u["package-ecosystem"], u["directory"]) != drop]
    noticed(problems_dependabot(config), expected)


def test_the_dependabot_schema_check_fails_on_a_broken_config():
    config = yaml.safe_load(DEPENDABOT.read_text())
    config["updates"][0]["schedule"] = {"interval": "hourly"}
    assert schema_errors(config, DEPENDABOT_VALIDATOR)


# --- the scripts, run against stand-ins ------------------------------------------------------

BASH = shutil.which("bash")
GIT = shutil.which("git")
needs_bash = pytest.mark.skipif(BASH is None, reason="no bash on this machine")

REFRESH_LOG = """\
Previewing refresh (development)

    pulumi:pulumi:Stack: (same)
    \x1b[38;5;3m~ aws:ecs/service:Service: (update)\x1b[0m
        [id=arn:aws:ecs:us-east-1:123456789012:service/hokusai-development/hokusai-api-development]
        [urn=urn:pulumi:development::hokusai::hokusai:ecs:Service$aws:ecs/service:Service::api-service]
      ~ taskDefinition: "hokusai-api-development:151" => "hokusai-api-development:150"
    - aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule: (delete)
        [id=sgr-0123]
        [urn=urn:pulumi:development::hokusai::hokusai:network:DependencyAccess$aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule::redis-from-api]
Resources:
    ~ 1 to update
    - 1 to delete
error: no changes were expected but changes occurred
"""


def run_step(step: Step, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """What GitHub runs for `shell: bash` (the workflows' default)."""
    assert BASH is not None
    return subprocess.run(
        [BASH, "--noprofile", "--norc", "-eo", "pipefail", "-c", script(step)],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def python_on_path(tmp_path: Path) -> str:
    """A PATH whose `python` is the interpreter running these tests (setup-python's, on the runner)."""
    directory = tmp_path / "python-bin"
    directory.mkdir(exist_ok=True)
    if not (directory / "python").exists():
        (directory / "python").symlink_to(sys.executable)
    return f"{directory}{os.pathsep}{os.environ['PATH']}"


@needs_bash
@tiers.process
def test_the_summary_names_what_drifted(tmp_path):
    (tmp_path / "build" / "drift").mkdir(parents=True)
    (tmp_path / "build" / "drift" / "refresh.log").write_text(REFRESH_LOG)
    summary = tmp_path / "summary.md"
    step = step_where(WORKFLOWS[DRIFT], lambda s: s.get("name") == "Summarise")
    done = run_step(
        step,
        tmp_path,
        {
            "GITHUB_STEP_SUMMARY": str(summary),
            "GITHUB_SHA": "abc123",
            "STACK": "development",
            "RUN_URL": "https://example.invalid/run/1",
            "REFRESH": "failure",
            "PREVIEW": "success",
            "VERIFY": "success",
        },
    )
    assert done.returncode == 0, done.stderr
    text = summary.read_text()
    assert text.startswith("## Drift check: development stack")
    assert "| 1. cloud vs state (`pulumi refresh --preview-only`) | **DRIFT** |" in text
    assert "| 2. code vs cloud (`make drift`) | no drift |" in text
    assert "~ aws:ecs/service:Service: (update)" in text and "::api-service]" in text
    assert "- aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule: (delete)" in text
    assert "::redis-from-api]" in text
    assert "\x1b[" not in text, "colour codes in the summary"
    assert (tmp_path / "build" / "drift" / "issue.md").read_text() == text


def fake_gh(tmp_path: Path, open_issues: list[dict[str, Any]]) -> tuple[Path, Path]:
    """A `gh` on PATH that records its arguments and answers `issue list` with `open_issues`."""
    calls = tmp_path / "gh-calls.txt"
    listing = tmp_path / "gh-issue-list.json"
    listing.write_text(json.dumps(open_issues))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    gh = bin_dir / "gh"
    gh.write_text(f"""#!{BASH}
printf '%s\\n' "$*" >> {calls}
case "$1 $2" in
  "issue list") cat {listing} ;;
  "issue create") echo https://example.invalid/issues/9 ;;
esac
""")
    gh.chmod(gh.stat().st_mode | stat.S_IEXEC)
    return bin_dir, calls


@needs_bash
@pytest.mark.parametrize(
    "open_issues, expected, not_expected",
    [
        (
            [
                {"number": 3, "title": "Drift: the staging stack is out of step"},
                {"number": 7, "title": "Drift: the development stack is out of step"},
            ],
            "issue comment 7 --body-file build/drift/issue.md",
            "issue create",
        ),
        (
            [{"number": 3, "title": "Drift: the staging stack is out of step"}],
            "issue create --label drift",
            "issue comment",
        ),
        ([], "issue create --label drift --title Drift: the development stack is out of step", "issue comment"),
    ],
    ids=["its-issue-open", "another-stacks-issue-open", "none-open"],
)
@tiers.process
def test_the_stacks_drift_issue_is_updated_when_open_and_opened_otherwise(
    tmp_path, open_issues, expected, not_expected
):
    (tmp_path / "build" / "drift").mkdir(parents=True)
    (tmp_path / "build" / "drift" / "issue.md").write_text("## Drift check\n")
    bin_dir, calls = fake_gh(tmp_path, open_issues)
    summary = tmp_path / "summary.md"
    step = step_where(WORKFLOWS[DRIFT], lambda s: "gh issue" in script(s))
    done = run_step(
        step,
        tmp_path,
        {
            "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "GITHUB_STEP_SUMMARY": str(summary),
            "GH_TOKEN": "x",
            "GH_REPO": "o/r",
            "STACK": "development",
            "RUN_URL": "https://example.invalid/run/1",
        },
    )
    assert done.returncode == 0, done.stderr
    made = calls.read_text()
    assert made.startswith("label create drift"), made
    assert expected in made and not_expected not in made, made


# --- make diff on every PR: each rule broken, by removing it and by weakening it -------------


def test_the_diff_workflow_that_runs_the_prs_code_gets_no_secret():
    wf = workflow(PR_DIFF)
    step_where(wf, lambda s: runs_make(s, "diff"))["env"]["TOKEN"] = "${{ secrets.PULUMI_ACCESS_TOKEN }}"
    noticed(problems_pr_diff(wf), "no secret or token")
    wf = workflow(PR_DIFF)
    step_where(wf, lambda s: runs_make(s, "diff"))["env"]["GH_TOKEN"] = "${{ github.token }}"
    noticed(problems_pr_diff(wf), "no secret or token")
    wf = workflow(PR_DIFF)
    wf["jobs"]["diff"]["environment"] = "development"
    noticed(problems_pr_diff(wf), "runs in an environment")


@pytest.mark.parametrize(
    "permissions",
    [None, {"contents": "write"}, {"contents": "read", "pull-requests": "write"}, "read-all"],
    ids=["removed", "contents-write", "pull-requests-write", "read-all"],
)
def test_the_diff_job_keeps_a_read_only_token(permissions):
    wf = workflow(PR_DIFF)
    if permissions is None:
        del wf["jobs"]["diff"]["permissions"]
    else:
        wf["jobs"]["diff"]["permissions"] = permissions
    noticed(problems_pr_diff(wf), "must have exactly `permissions: contents: read`")


@pytest.mark.parametrize("trigger", ["pull_request_target", "workflow_run"])
def test_the_diff_workflow_runs_on_pull_request_only(trigger):
    wf = workflow(PR_DIFF)
    wf["on"] = {trigger: wf["on"]["pull_request"]}
    noticed(problems_pr_diff(wf), "must run on pull_request only")


def test_a_diff_workflow_without_its_markdown_or_upload_is_found():
    wf = workflow(PR_DIFF)
    step = step_where(wf, lambda s: runs_make(s, "diff"))
    step["run"] = step["run"].replace("FORMAT=markdown ", "")
    noticed(problems_pr_diff(wf), "does not write FORMAT=markdown")
    wf = workflow(PR_DIFF)
    wf["jobs"]["diff"]["steps"] = [s for s in steps(wf["jobs"]["diff"]) if action(s) != "actions/upload-artifact"]
    noticed(problems_pr_diff(wf), "uploads the comment")


@pytest.mark.parametrize(
    "added",
    [
        {"uses": "actions/checkout@v7", "with": {"persist-credentials": False}},
        {
            "uses": "actions/checkout@v7",
            "with": {"ref": "${{ github.event.workflow_run.head_sha }}", "persist-credentials": False},
        },
        {"uses": "./.github/actions/post"},
        {"run": "make diff FORMAT=markdown > comment.md"},
        {"run": 'python3 -c "print(1)"'},
        {"run": 'bash "$DIFF_DIR/post.sh"'},
        {"run": '"$DIFF_DIR"/post'},
        {"run": "chmod +x post && ./post"},
        {"run": "git fetch origin pull/1/head"},
        {"run": 'echo ok; source "$DIFF_DIR/env"'},
        {"run": 'x="$(python -m synth.diff)"'},
    ],
    ids=[
        "checkout",
        "checkout-head",
        "local-action",
        "make",
        "python",
        "bash-file",
        "artifact-path",
        "dot-slash",
        "git",
        "source",
        "python-in-substitution",
    ],
)
def test_the_comment_workflow_never_checks_out_or_runs_the_prs_code(added):
    wf = workflow(PR_DIFF_COMMENT)
    wf["jobs"]["comment"]["steps"].insert(1, added)
    assert problems_pr_diff_comment(wf, WORKFLOWS[PR_DIFF]), added
    # ... which is also why a workflow_run trigger is allowed there and nowhere else
    noticed(problems_triggers(wf), "trigger workflow_run in a workflow that runs code")


def test_the_code_check_leaves_the_real_comment_script_alone():
    assert problems_runs_pr_code(WORKFLOWS[PR_DIFF_COMMENT]) == []
    assert problems_runs_pr_code(WORKFLOWS[DRIFT]) != []  # it runs make: the check sees it


@pytest.mark.parametrize(
    "condition",
    [None, "github.event.workflow_run.conclusion == 'success'", "github.event.workflow_run.event == 'pull_request'"],
    ids=["removed", "any-event", "failed-runs-too"],
)
def test_the_comment_job_runs_only_after_a_successful_pr_run(condition):
    wf = workflow(PR_DIFF_COMMENT)
    if condition is None:
        del wf["jobs"]["comment"]["if"]
    else:
        wf["jobs"]["comment"]["if"] = condition
    noticed(problems_pr_diff_comment(wf, WORKFLOWS[PR_DIFF]), "runs without `if:")


@pytest.mark.parametrize(
    "permissions",
    [
        {"actions": "read"},
        {"actions": "read", "pull-requests": "write", "contents": "write"},
        {"actions": "write", "pull-requests": "write"},
    ],
    ids=["removed", "contents-write", "actions-write"],
)
def test_the_comment_job_gets_exactly_what_it_uses(permissions):
    wf = workflow(PR_DIFF_COMMENT)
    wf["jobs"]["comment"]["permissions"] = permissions
    noticed(problems_pr_diff_comment(wf, WORKFLOWS[PR_DIFF]), "must have exactly actions: read and pull-requests")


def test_the_comment_workflow_follows_the_diff_workflow_only():
    wf = workflow(PR_DIFF_COMMENT)
    wf["on"]["workflow_run"]["workflows"] = ["pull request"]
    noticed(problems_pr_diff_comment(wf, WORKFLOWS[PR_DIFF]), "must follow the completed runs of 'pr diff'")
    wf = workflow(PR_DIFF_COMMENT)
    wf["on"]["pull_request_target"] = {}
    noticed(problems_pr_diff_comment(wf, WORKFLOWS[PR_DIFF]), "must run on workflow_run only")


def post_step(wf: Workflow) -> Step:
    return step_where(wf, lambda s: "gh api" in script(s))


@pytest.mark.parametrize(
    "weaken, expected",
    [
        (lambda s: s["env"].pop("MAX_BYTES"), "no size limit"),
        (lambda s: s["env"].update(MAX_BYTES="10000000"), "no size limit"),
        (lambda s: s.update(run=s["run"].replace('-gt "$MAX_BYTES"', '-gt "$HUGE"')), "no size limit"),
        (lambda s: s.update(run=s["run"].replace('!= "$HEAD_SHA"', '= "never"')), "without checking that PR's head"),
        (lambda s: s["env"].pop("HEAD_SHA"), "without checking that PR's head"),
        (lambda s: s.update(run=s["run"].replace("^[0-9]{1,9}$", ".+")), "not checked to be a number"),
        (
            lambda s: s.update(run=s["run"].replace('body=@$comment"', 'body=$(cat $comment)"')),
            "not posted from a file",
        ),
        (lambda s: s.update(run=s["run"].replace("iconv -f UTF-8", "true")), "UTF-8"),
    ],
    ids=[
        "no-limit",
        "limit-over-github",
        "limit-not-checked",
        "head-not-compared",
        "no-head",
        "any-number",
        "inline-body",
        "no-utf8",
    ],
)
def test_the_comment_is_checked_as_untrusted_data_before_it_is_posted(weaken, expected):
    wf = workflow(PR_DIFF_COMMENT)
    weaken(post_step(wf))
    noticed(problems_pr_diff_comment(wf, WORKFLOWS[PR_DIFF]), expected)


# --- the two scripts, run against stand-ins for make and gh ----------------------------------


@needs_bash
@tiers.process
def test_the_diff_step_writes_the_markdown_and_the_pr_number_for_every_stack(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    make = bin_dir / "make"
    make.write_text(f'#!{BASH}\nprintf "%s\\n" "$@" > make-args.txt\necho "## Infrastructure diff"\n')
    make.chmod(make.stat().st_mode | stat.S_IEXEC)
    for stack in ("development", "production"):
        (tmp_path / f"Pulumi.{stack}.yaml").write_text("config: {}\n")
    (tmp_path / "Pulumi.yaml").write_text("name: hokusai\n")
    summary = tmp_path / "summary.md"
    step = step_where(WORKFLOWS[PR_DIFF], lambda s: runs_make(s, "diff"))
    done = run_step(
        step,
        tmp_path,
        {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "PR_NUMBER": "42", "GITHUB_STEP_SUMMARY": str(summary)},
    )
    assert done.returncode == 0, done.stderr
    args = (tmp_path / "make-args.txt").read_text().splitlines()
    assert args[:3] == ["diff", "FORMAT=markdown", "BASE=HEAD^1"]
    assert args[3].split() == ["STACK=development", "production"]
    assert (tmp_path / "build" / DIFF_ARTIFACT / "comment.md").read_text() == "## Infrastructure diff\n"
    assert (tmp_path / "build" / DIFF_ARTIFACT / "pr-number").read_text() == "42\n"


HEAD = "a" * 40


def fake_github(tmp_path: Path, pr_head: str, existing: str = "") -> tuple[Path, Path]:
    """A `gh` that answers the PR's head and its comments, and saves what would be posted."""
    calls = tmp_path / "gh-calls.txt"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    gh = bin_dir / "gh"
    gh.write_text(f"""#!{BASH}
printf '%s\\n' "$*" >> {calls}
case "$*" in
  *"--jq .head.sha"*) echo "{pr_head}" ;;
  *"--paginate"*) printf '%s' "{existing}" ;;
  *"--method"*)
    for arg in "$@"; do
      case "$arg" in body=@*) cp "${{arg#body=@}}" {tmp_path}/posted.md ;; esac
    done ;;
esac
""")
    gh.chmod(gh.stat().st_mode | stat.S_IEXEC)
    return bin_dir, calls


def post(tmp_path: Path, comment: bytes | None, number: str = "7", pr_head: str = HEAD, existing: str = ""):
    artifact = tmp_path / "artifact"
    artifact.mkdir()
    if comment is not None:
        (artifact / "comment.md").write_bytes(comment)
    (artifact / "pr-number").write_text(number)
    bin_dir, calls = fake_github(tmp_path, pr_head, existing)
    step = post_step(WORKFLOWS[PR_DIFF_COMMENT])
    env = {k: v for k, v in (step.get("env") or {}).items() if not str(v).startswith("${{")}
    done = run_step(
        step,
        tmp_path,
        {
            **env,
            "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "GH_TOKEN": "x",
            "GH_REPO": "o/r",
            "HEAD_SHA": HEAD,
            "DIFF_DIR": str(artifact),
            "RUNNER_TEMP": str(tmp_path),
        },
    )
    made = calls.read_text() if calls.exists() else ""
    posted = tmp_path / "posted.md"
    return done, made, posted.read_text() if posted.exists() else None


@needs_bash
@tiers.process
def test_the_comment_is_posted_once_and_updated_after(tmp_path):
    marker = "<!-- hokusai-infra: pr-diff -->"
    text = f"## Infrastructure diff\n{marker}\n| a | b |\n"
    done, made, posted = post(tmp_path, text.encode())
    assert done.returncode == 0, done.stderr
    assert "api --method POST repos/o/r/issues/7/comments" in made and "PATCH" not in made
    # our marker first; the copy inside the untrusted text dropped
    assert posted == f"{marker}\n## Infrastructure diff\n| a | b |\n"
    # WHEN the PR is pushed again THEN the first of our comments is rewritten
    again = tmp_path / "again"
    again.mkdir()
    done, made, _ = post(again, text.encode(), existing="991\n992")
    assert done.returncode == 0, done.stderr
    assert "api --method PATCH repos/o/r/issues/comments/991" in made and "POST" not in made


@needs_bash
@pytest.mark.parametrize(
    "comment, number, pr_head, expected_code, message",
    [
        (b"x" * 60_001, "7", HEAD, 1, "more than 60000"),
        ("caf\xe9".encode("latin-1"), "7", HEAD, 1, "not UTF-8"),
        (b"ok", "7; rm -rf /", HEAD, 1, "does not hold a PR number"),
        (b"ok", "", HEAD, 1, "does not hold a PR number"),
        (b"ok", "8", "b" * 40, 0, "not posted"),
        (None, "7", HEAD, 1, "no regular file comment.md"),
    ],
    ids=["too-big", "not-utf8", "injected-number", "no-number", "another-prs-number", "missing"],
)
@tiers.process
def test_untrusted_artifacts_are_refused_and_nothing_is_posted(
    tmp_path, comment, number, pr_head, expected_code, message
):
    done, made, posted = post(tmp_path, comment, number=number, pr_head=pr_head)
    assert done.returncode == expected_code, (done.stdout, done.stderr)
    assert message in done.stdout + done.stderr
    assert "--method" not in made and posted is None


@needs_bash
@tiers.process
def test_a_link_in_place_of_the_comment_is_refused(tmp_path):
    secret = tmp_path / "elsewhere.txt"
    secret.write_text("not for the comment\n")
    artifact = tmp_path / "artifact"
    artifact.mkdir()
    (artifact / "comment.md").symlink_to(secret)
    (artifact / "pr-number").write_text("7")
    bin_dir, calls = fake_github(tmp_path, HEAD)
    step = post_step(WORKFLOWS[PR_DIFF_COMMENT])
    done = run_step(
        step,
        tmp_path,
        {
            "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "MAX_BYTES": "60000",
            "HEAD_SHA": HEAD,
            "DIFF_DIR": str(artifact),
            "RUNNER_TEMP": str(tmp_path),
            "GH_REPO": "o/r",
        },
    )
    assert done.returncode == 1 and "no regular file comment.md" in done.stdout
    assert not calls.exists()


# deploy-image's commit, against a local "origin" -------------------------------------------

needs_git = pytest.mark.skipif(BASH is None or GIT is None, reason="no bash or git on this machine")
STACK_FILE = "Pulumi.development.yaml"
ORIGINAL = "config:\n  hokusai:services:\n    api:\n      image: hokusai/api:v1\n      cpu: 512\n"


def git(cwd: Path, *args: str) -> str:
    assert GIT is not None
    done = subprocess.run([GIT, *args], cwd=cwd, capture_output=True, text=True, timeout=60, env=GIT_ENV)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


GIT_ENV = {
    **{k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
    "GIT_AUTHOR_NAME": "someone",
    "GIT_AUTHOR_EMAIL": "someone@example.invalid",
    "GIT_COMMITTER_NAME": "someone",
    "GIT_COMMITTER_EMAIL": "someone@example.invalid",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


@pytest.fixture
def origin_and_checkout(tmp_path):
    """A bare `origin` with main holding a stack file, and a checkout of it as actions/checkout leaves one."""
    origin, seed, checkout = tmp_path / "origin.git", tmp_path / "seed", tmp_path / "checkout"
    git(tmp_path, "init", "--quiet", "--bare", "--initial-branch=main", str(origin))
    git(tmp_path, "init", "--quiet", "--initial-branch=main", str(seed))
    (seed / STACK_FILE).write_text(ORIGINAL)
    git(seed, "add", ".")
    git(seed, "commit", "--quiet", "-m", "seed")
    git(seed, "push", "--quiet", str(origin), "main")
    git(tmp_path, "clone", "--quiet", "--depth", "1", f"file://{origin}", str(checkout))
    return origin, seed, checkout


def push_from_elsewhere(origin: Path, seed: Path, path: str, text: str) -> None:
    git(seed, "pull", "--quiet", str(origin), "main")
    (seed / path).write_text(text)
    git(seed, "add", ".")
    git(seed, "commit", "--quiet", "-m", f"meanwhile: {path}")
    git(seed, "push", "--quiet", str(origin), "main")


def commit_step(checkout: Path, tmp_path: Path) -> tuple[subprocess.CompletedProcess, str]:
    summary = tmp_path / "summary.md"
    summary.write_text("")
    step = step_where(WORKFLOWS[DEPLOY_IMAGE], pushes)
    env = {k: str(v) for k, v in (step.get("env") or {}).items() if "${{" not in str(v)}
    env.update(
        GITHUB_STEP_SUMMARY=str(summary),
        STACK="development",
        SERVICE="api",
        IMAGE_TAG="v2",
        IMAGE="hokusai/api:v2",
        GH_TOKEN="not-a-token",
        ACTOR="someone",
        RUN_URL="https://example.invalid/run/1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
    )
    return run_step(step, checkout, env), summary.read_text()


def origin_main(origin: Path, path: str = STACK_FILE) -> str:
    return git(origin, "show", f"main:{path}")


@needs_git
@tiers.process
def test_the_image_commit_reaches_main_with_the_bots_name(origin_and_checkout, tmp_path):
    origin, _, checkout = origin_and_checkout
    (checkout / STACK_FILE).write_text(ORIGINAL.replace("v1", "v2"))
    done, summary = commit_step(checkout, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "image: hokusai/api:v2" in origin_main(origin)
    assert (
        git(origin, "log", "-1", "--format=%an|%s", "main") == "github-actions[bot]|deploy-image: api v2 on development"
    )
    assert "Committed" in summary


@needs_git
@tiers.process
def test_when_main_moved_on_the_commit_goes_on_top_of_it(origin_and_checkout, tmp_path):
    origin, seed, checkout = origin_and_checkout
    push_from_elsewhere(origin, seed, "README.md", "merged meanwhile\n")
    (checkout / STACK_FILE).write_text(ORIGINAL.replace("v1", "v2"))
    done, _ = commit_step(checkout, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "image: hokusai/api:v2" in origin_main(origin)
    assert origin_main(origin, "README.md") == "merged meanwhile"
    assert git(checkout, "rev-parse", "HEAD") == git(origin, "rev-parse", "main")  # what deploys is what is on main


@needs_git
@tiers.process
def test_a_conflicting_change_on_main_stops_before_anything_is_pushed(origin_and_checkout, tmp_path):
    origin, seed, checkout = origin_and_checkout
    push_from_elsewhere(origin, seed, STACK_FILE, ORIGINAL.replace("v1", "v1-hotfix"))
    before = git(origin, "rev-parse", "main")
    (checkout / STACK_FILE).write_text(ORIGINAL.replace("v1", "v2"))
    done, _ = commit_step(checkout, tmp_path)
    assert done.returncode == 1
    assert "nothing was pushed or deployed" in done.stdout
    assert git(origin, "rev-parse", "main") == before


@needs_git
@tiers.process
def test_the_same_image_again_commits_nothing(origin_and_checkout, tmp_path):
    origin, _, checkout = origin_and_checkout
    before = git(origin, "rev-parse", "main")
    done, summary = commit_step(checkout, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "nothing to commit" in summary
    assert git(origin, "rev-parse", "main") == before


@needs_git
@tiers.process
def test_the_token_is_never_written_to_the_checkouts_config(origin_and_checkout, tmp_path):
    _, _, checkout = origin_and_checkout
    (checkout / STACK_FILE).write_text(ORIGINAL.replace("v1", "v2"))
    commit_step(checkout, tmp_path)
    assert "not-a-token" not in (checkout / ".git" / "config").read_text()


# --- make drift-state: the drift workflow's first check, run by hand -----------------------


def problems_drift_state(makefile: str) -> list[str]:
    """`make drift-state` is what the drift workflow's cloud-vs-state step runs: a refresh that only
    previews (a real refresh would write the drift into the state and hide it) and fails on drift."""
    recipe = make_recipe(makefile, "drift-state")
    if not re.search(r"(^|\s|@)pulumi refresh\b", recipe):
        return ["make drift-state does not run pulumi refresh"]
    return [
        f"make drift-state runs without {flag}"
        for flag in ("--preview-only", "--expect-no-changes", "--stack $(STACK)")
        if flag not in recipe
    ]


def test_make_drift_state_is_the_drift_workflows_refresh():
    assert problems_drift_state(MAKEFILE.read_text()) == []
    refresh = step_where(workflow(DRIFT), lambda s: runs_cli(s, "pulumi refresh"))
    for flag in ("--preview-only", "--expect-no-changes"):
        assert flag in script(refresh) and flag in make_recipe(MAKEFILE.read_text(), "drift-state")


@pytest.mark.parametrize("flag", ["--preview-only", "--expect-no-changes", "--stack $(STACK)"])
def test_a_drift_state_target_that_lost_its_flag_is_found(flag):
    makefile = MAKEFILE.read_text()
    recipe = make_recipe(makefile, "drift-state")
    noticed(problems_drift_state(makefile.replace(recipe, recipe.replace(f" {flag}", ""))), f"without {flag}")
