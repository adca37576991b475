"""The CI pipeline (.github/workflows/*.yml), checked offline.

GIVEN the three workflows (pull request, deploy, drift)
THEN each is valid against the GitHub workflow schema that check-jsonschema ships
     (vendor.github-workflows, no network), and keeps the pipeline's promises:
     the PR previews and comments, main deploys up -> verify -> smoke without
     overlapping, drift is checked on a schedule and fails loudly; every job has
     a timeout and least privilege; actions are pinned; secrets never reach a
     script's text; the PR's preview and the deploy's preview and up run the
     CrossGuard pack (--policy-pack policy), installed beforehand.
AND  `make diff` runs on every PR, forks included, in a workflow with a read-only
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
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS_DIR = ROOT / ".github" / "workflows"
PULL_REQUEST, DEPLOY, DRIFT = "pull-request.yml", "deploy.yml", "drift.yml"
# `make diff` on every PR: run without credentials, posted by a workflow that never runs the PR's code.
PR_DIFF, PR_DIFF_COMMENT = "pr-diff.yml", "pr-diff-comment.yml"
STACK = "development"

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


WORKFLOWS: dict[str, Workflow] = {p.name: load_workflow(p.read_text()) for p in workflow_files()}


def workflow(name: str) -> Workflow:
    """A fresh copy, so a test may break it."""
    return copy.deepcopy(WORKFLOWS[name])


# --- the schema ------------------------------------------------------------------

# The same file `check-jsonschema --builtin-schema vendor.github-workflows` uses
# (schemastore's github-workflow.json, vendored: no download).
SCHEMA = json.loads(
    resources.files("check_jsonschema.builtin_schemas.vendor").joinpath("github-workflows.json").read_text()
)
VALIDATOR = jsonschema.validators.validator_for(SCHEMA)(SCHEMA)


def schema_errors(doc: Workflow) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
        for e in sorted(VALIDATOR.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
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


def runs_cli(step: Step, command: str) -> bool:
    """A line of the step's script starts with `command` (not just mentions it)."""
    return re.search(rf"(^|\n)\s*{re.escape(command)}(\s|$)", script(step)) is not None


def pulumi_action(step: Step, command: str) -> bool:
    return action(step) == "pulumi/actions" and (step.get("with") or {}).get("command") == command


def truthy(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def find(wf: Workflow, predicate: Callable[[Step], bool]) -> list[tuple[str, int, Step]]:
    return [(job_id, index, step) for job_id, index, step in all_steps(wf) if predicate(step)]


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


# --- checks every workflow must pass ---------------------------------------------------

# A major version (v7), a full version (v7.0.1), or a full commit SHA.
PINNED_REF = re.compile(r"^(v\d+(\.\d+){0,2}|[0-9a-f]{40})$")
SECRET_EXPR = re.compile(r"\$\{\{[^}]*\bsecrets\.", re.S)
# Scopes a job may write, and what in the job justifies each.
WRITE_SCOPES: dict[str, Callable[[Step], bool]] = {
    "id-token": lambda s: action(s) == "aws-actions/configure-aws-credentials",
    "pull-requests": lambda s: (
        (action(s) == "pulumi/actions" and truthy((s.get("with") or {}).get("comment-on-pr")))
        or re.search(r"\bgh api\b[^\n]*issues/[^\n]*comments", script(s)) is not None
    ),
    "issues": lambda s: re.search(r"\bgh issue (create|comment|edit)\b", script(s)) is not None,
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


def problems_pins(wf: Workflow) -> list[str]:
    found = []
    for job_id, index, step in all_steps(wf):
        uses = step.get("uses")
        if uses is None or uses.startswith(("./", "docker://")):
            continue
        name, _, ref = uses.partition("@")
        if not PINNED_REF.match(ref):
            found.append(f"{job_id} step {index}: {uses} is not pinned to a version tag or commit")
    return found


def problems_secrets(wf: Workflow) -> list[str]:
    """`${{ secrets.* }}` only as a value under `env:` or `with:`; and no `${{ }}`
    in a script at all (an expression is pasted into the script's text before
    bash runs it: a secret would be written into the script, a branch name or
    commit message could inject commands)."""
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


GENERIC_CHECKS = [
    problems_timeouts,
    problems_permissions,
    problems_pins,
    problems_secrets,
    problems_triggers,
    problems_checkout,
    problems_pulumi_version,
]


def generic_problems(wf: Workflow) -> list[str]:
    return [problem for check in GENERIC_CHECKS for problem in check(wf)]


# --- the policy pack ------------------------------------------------------------------

POLICY_PACK = "policy"


def passes_policy_pack(step: Step) -> bool:
    """The step runs Pulumi with the pack: pulumi/actions' `policyPacks` (one per line
    or comma-separated) lists it, or a script passes `--policy-pack policy`."""
    if action(step) == "pulumi/actions":
        packs = str((step.get("with") or {}).get("policyPacks") or "")
        return POLICY_PACK in [p.strip().rstrip("/") for p in re.split(r"[\n,]", packs)]
    return re.search(rf"--policy-pack[ =]{POLICY_PACK}/?(\s|$)", script(step)) is not None


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
    if not any(runs_before(wf, (j, i), (job_id, index)) for j, i, _ in find(wf, installs_policy_pack)):
        found.append(f"nothing installs policy/requirements.txt into policy/venv before pulumi {what}")
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
    if not find(wf, lambda s: runs_make(s, "test")):
        found.append("no step runs make test")
    if not find(wf, lambda s: runs_make(s, "synth")):
        found.append("no step runs make synth")
    preview = one(find(wf, lambda s: pulumi_action(s, "preview")), "runs pulumi preview (pulumi/actions)", found)
    if preview:
        job_id, index, step = preview
        inputs = step.get("with") or {}
        if inputs.get("stack-name") != STACK:
            found.append(f"the preview is of stack {inputs.get('stack-name')!r}, not {STACK}")
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


def problems_deploy(wf: Workflow) -> list[str]:
    found: list[str] = []
    push = (wf.get("on") or {}).get("push") or {}
    if "main" not in (push.get("branches") or []):
        found.append("not triggered by a push to main")
    concurrency = wf.get("concurrency") or {}
    if not concurrency.get("group") or concurrency.get("cancel-in-progress") is not False:
        found.append("deploys may overlap or be cancelled half-way (concurrency group with cancel-in-progress: false)")
    if STACK not in str(concurrency.get("group", "")):
        found.append(f"the concurrency group is not per stack (no {STACK!r} in it)")
    tests = find(wf, lambda s: runs_make(s, "test"))
    up = one(find(wf, lambda s: pulumi_action(s, "up")), "runs pulumi up (pulumi/actions)", found)
    outputs = one(
        find(wf, lambda s: f"pulumi stack output --json --stack {STACK} > build/outputs.json" in script(s)),
        "writes the stack outputs to build/outputs.json",
        found,
    )
    verify = one(find(wf, lambda s: runs_make(s, "verify")), "runs make verify", found)
    smoke = one(find(wf, lambda s: runs_make(s, "smoke")), "runs make smoke", found)
    if not tests:
        found.append("no step runs make test")
    if up:
        job_id, index, step = up
        if (step.get("with") or {}).get("stack-name") != STACK:
            found.append(f"pulumi up is not of stack {STACK}")
        if not any(runs_before(wf, (t_job, t_index), (job_id, index)) for t_job, t_index, _ in tests):
            found.append("pulumi up does not wait for make test")
        environment = jobs(wf)[job_id].get("environment")
        name = environment.get("name") if isinstance(environment, dict) else environment
        if name != STACK:
            found.append(f"the deploy job is not in the GitHub environment {STACK!r}")
        found += problems_policy_pack(wf, up, "up")
        # `up` (pulumi/actions runs it without its own preview) judges the whole stack only
        # once it has changed it; a preview with the pack before it stops the deploy first.
        gates = find(wf, lambda s: pulumi_action(s, "preview") and passes_policy_pack(s))
        if not any(runs_before(wf, (j, i), (job_id, index)) for j, i, _ in gates):
            found.append("no pulumi preview with the policy pack before pulumi up: a violation would stop it too late")
        for j, i, gate in gates:
            if (gate.get("with") or {}).get("stack-name") != STACK:
                found.append(f"the policy preview before up is not of stack {STACK}")
            found += [p for p in problems_policy_pack(wf, (j, i, gate), "preview") if "installs" in p]
    for before, after, what in (
        (up, outputs, "stack output after up"),
        (outputs, verify, "verify after the outputs"),
        (up, verify, "verify after up"),
        (verify, smoke, "smoke after verify"),
    ):
        if before and after and not runs_before(wf, before[:2], after[:2]):
            found.append(f"out of order: {what}")
    if verify and not all(arg in script(verify[2]) for arg in (f"STACK={STACK}", "OUTPUTS=build/outputs.json")):
        found.append(f"make verify is not given STACK={STACK} OUTPUTS=build/outputs.json")
    if smoke:
        env = smoke[2].get("env") or {}
        if "secrets.HOKUSAI_API_KEY" not in str(env.get("HOKUSAI_API_KEY")):
            found.append("make smoke gets no HOKUSAI_API_KEY from secrets")
        if "MODEL_ID=" not in script(smoke[2]) or "BASE_URL=" not in script(smoke[2]):
            found.append("make smoke is not given BASE_URL and MODEL_ID")
        if not any("vars.HOKUSAI_API_BASE_URL" in str(v) for v in env.values()):
            found.append("the smoke test's BASE_URL does not come from the HOKUSAI_API_BASE_URL variable")
    return found


def problems_drift(wf: Workflow) -> list[str]:
    found: list[str] = []
    triggers = wf.get("on") or {}
    schedule = triggers.get("schedule") or []
    if not schedule or not all(isinstance(entry, dict) and entry.get("cron") for entry in schedule):
        found.append("no schedule")
    if "workflow_dispatch" not in triggers:
        found.append("cannot be started by hand (workflow_dispatch)")
    refresh = one(find(wf, lambda s: runs_cli(s, "pulumi refresh")), "runs pulumi refresh", found)
    if refresh:
        text = script(refresh[2])
        for flag in ("--preview-only", "--expect-no-changes", f"--stack {STACK}"):
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
        if not (step.get("env") or {}).get("GH_TOKEN"):
            found.append("gh has no GH_TOKEN")
        if refresh and not runs_before(wf, refresh[:2], (job_id, index)):
            found.append("out of order: the issue step before the checks")
    if not find(wf, lambda s: "GITHUB_STEP_SUMMARY" in script(s)):
        found.append("nothing writes what drifted to the step summary")
    return found


# --- the flags that make a check fail -------------------------------------------------

MAKEFILE = ROOT / "Makefile"


def make_recipe(makefile: str, target: str) -> str:
    """The recipe lines of `target` in a Makefile's text (tab-indented lines after `target:`)."""
    match = re.search(rf"^{re.escape(target)}:[^\n]*\n((?:\t[^\n]*\n?)*)", makefile, re.M)
    return match.group(1) if match else ""


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
        if f"STACK={STACK}" not in text:
            found.append(f"make drift is not given STACK={STACK}")
        text = make_recipe(makefile, "drift")
        if not re.search(r"(^|\s|@)pulumi preview\b", text):
            found.append("the Makefile's drift target does not run pulumi preview")
    elif f"--stack {STACK}" not in text:
        found.append(f"pulumi preview without --stack {STACK}")
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
}


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
def test_every_piped_step_fails_when_the_command_before_the_pipe_fails(name):
    assert problems_pipefail(WORKFLOWS[name]) == []


@pytest.mark.parametrize("name", sorted(PURPOSE_CHECKS))
def test_workflow_does_what_it_is_for(name):
    assert PURPOSE_CHECKS[name](WORKFLOWS[name]) == []


def test_every_make_target_the_workflows_call_is_in_the_makefile():
    defined = set(re.findall(r"^([A-Za-z][\w-]*):", (ROOT / "Makefile").read_text(), re.M))
    called = {
        (name, target)
        for name, wf in WORKFLOWS.items()
        for _, _, step in all_steps(wf)
        for target in re.findall(r"\bmake ([a-z][\w-]*)", script(step))
    }
    missing = sorted(f"{target} (called in {name})" for name, target in called if target not in defined)
    assert not missing, f"the Makefile has no target {missing}"


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
    noticed(problems, "job test may write contents")


def test_a_missing_write_scope_is_found():
    wf = workflow(PULL_REQUEST)
    del wf["jobs"]["preview"]["permissions"]["pull-requests"]
    noticed(problems_permissions(wf), "job preview needs pull-requests: write")


@pytest.mark.parametrize("ref", ["main", "master", "", "feature/x"])
def test_an_unpinned_action_is_found(ref):
    wf = workflow(DEPLOY)
    step_where(wf, lambda s: action(s) == "actions/checkout")["uses"] = f"actions/checkout@{ref}".rstrip("@")
    noticed(problems_pins(wf), "is not pinned")


def test_a_sha_or_a_full_version_is_a_pin():
    wf = workflow(DEPLOY)
    step_where(wf, lambda s: action(s) == "actions/checkout")["uses"] = "actions/checkout@" + "a" * 40
    step_where(wf, lambda s: action(s) == "actions/setup-python")["uses"] = "actions/setup-python@v7.0.0"
    assert problems_pins(wf) == []


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


def test_a_preview_without_its_pr_comment_is_found():
    wf = workflow(PULL_REQUEST)
    step_where(wf, lambda s: pulumi_action(s, "preview"))["with"]["comment-on-pr"] = False
    noticed(problems_pull_request(wf), "does not comment on the PR")


def test_a_preview_without_the_fork_guard_is_found():
    wf = workflow(PULL_REQUEST)
    del wf["jobs"]["preview"]["if"]
    noticed(problems_pull_request(wf), "would run for fork PRs")


def test_a_pr_workflow_without_tests_is_found():
    wf = workflow(PULL_REQUEST)
    wf["jobs"]["test"]["steps"] = [s for s in steps(wf["jobs"]["test"]) if not runs_make(s, "test")]
    noticed(problems_pull_request(wf), "no step runs make test")


def test_pr_runs_that_do_not_cancel_each_other_are_found():
    wf = workflow(PULL_REQUEST)
    wf["concurrency"]["cancel-in-progress"] = False
    noticed(problems_pull_request(wf), "cancel-in-progress: true")


@pytest.mark.parametrize(
    "change",
    [
        lambda c: c.update({"cancel-in-progress": True}),
        lambda c: c.pop("cancel-in-progress"),
        lambda c: c.pop("group"),
    ],
)
def test_deploys_that_may_overlap_or_be_cancelled_are_found(change):
    wf = workflow(DEPLOY)
    change(wf["concurrency"])
    noticed(problems_deploy(wf), "concurrency")


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
    del wf["jobs"]["deploy"]["needs"]
    noticed(problems_deploy(wf), "pulumi up does not wait for make test")


def test_a_deploy_outside_the_environment_is_found():
    wf = workflow(DEPLOY)
    del wf["jobs"]["deploy"]["environment"]
    noticed(problems_deploy(wf), "not in the GitHub environment")


def test_smoke_without_its_api_key_is_found():
    wf = workflow(DEPLOY)
    del step_where(wf, lambda s: runs_make(s, "smoke"))["env"]["HOKUSAI_API_KEY"]
    noticed(problems_deploy(wf), "no HOKUSAI_API_KEY")


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
    step["run"] = step["run"].replace(f"make drift STACK={STACK}", f"pulumi preview --stack {STACK} --refresh --diff")
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
        {"uses": "pulumi/actions@v7", "with": {"command": "refresh", "stack-name": STACK, "expect-no-changes": True}}
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
    issue["run"] = 'gh issue create --label drift --title "Drift" --body-file build/drift/issue.md'
    noticed(problems_drift(wf), "would open a duplicate")


def test_an_issue_step_that_does_not_run_on_failure_is_found():
    wf = workflow(DRIFT)
    step_where(wf, lambda s: "gh issue" in script(s))["if"] = "${{ success() }}"
    noticed(problems_drift(wf), "does not run on failure")


@pytest.mark.parametrize(
    ("name", "command", "expected"),
    [
        (PULL_REQUEST, "preview", "pulumi preview runs without the policy pack"),
        (DEPLOY, "up", "pulumi up runs without the policy pack"),
        (DEPLOY, "preview", "no pulumi preview with the policy pack before pulumi up"),
    ],
)
def test_a_pulumi_step_that_loses_the_policy_pack_is_found(name, command, expected):
    wf = workflow(name)
    del step_where(wf, lambda s: pulumi_action(s, command))["with"]["policyPacks"]
    noticed(PURPOSE_CHECKS[name](wf), expected)


@pytest.mark.parametrize("packs", ["policies", "", "./other-pack", "policy-extra"])
def test_a_policy_pack_other_than_policy_is_found(packs):
    wf = workflow(PULL_REQUEST)
    step_where(wf, lambda s: pulumi_action(s, "preview"))["with"]["policyPacks"] = packs
    noticed(problems_pull_request(wf), "without the policy pack")


def test_the_policy_pack_is_recognised_in_a_script_and_among_several_packs():
    assert passes_policy_pack({"run": "pulumi preview --stack development --diff --policy-pack policy"})
    assert passes_policy_pack({"run": "pulumi up --stack development --policy-pack=policy/ --yes"})
    assert not passes_policy_pack({"run": "pulumi preview --stack development --policy-pack policies"})
    assert passes_policy_pack({"uses": "pulumi/actions@v7", "with": {"policyPacks": "../shared-pack\npolicy"}})


@pytest.mark.parametrize("name", [PULL_REQUEST, DEPLOY])
def test_a_policy_pack_that_is_not_installed_is_found(name):
    wf = workflow(name)
    for job in jobs(wf).values():
        job["steps"] = [s for s in steps(job) if not installs_policy_pack(s)]
    noticed(PURPOSE_CHECKS[name](wf), "nothing installs policy/requirements.txt")


@pytest.mark.parametrize("name", [PULL_REQUEST, DEPLOY])
def test_a_policy_pack_installed_after_pulumi_runs_is_found(name):
    wf = workflow(name)
    job_id, index, _ = find(wf, installs_policy_pack)[0]
    job_steps = jobs(wf)[job_id]["steps"]
    job_steps.append(job_steps.pop(index))
    noticed(PURPOSE_CHECKS[name](wf), "nothing installs policy/requirements.txt")


def test_a_deploy_whose_only_policy_check_is_the_up_itself_is_found():
    wf = workflow(DEPLOY)
    job = wf["jobs"]["deploy"]
    job["steps"] = [s for s in steps(job) if not pulumi_action(s, "preview")]
    noticed(problems_deploy(wf), "no pulumi preview with the policy pack before pulumi up")


def test_a_policy_preview_after_up_is_found():
    wf = workflow(DEPLOY)
    deploy_steps = wf["jobs"]["deploy"]["steps"]
    gate = next(i for i, s in enumerate(deploy_steps) if pulumi_action(s, "preview"))
    up = next(i for i, s in enumerate(deploy_steps) if pulumi_action(s, "up"))
    deploy_steps.insert(up, deploy_steps.pop(gate))  # now right after up
    noticed(problems_deploy(wf), "no pulumi preview with the policy pack before pulumi up")


# --- the drift job's two scripts, run against stand-ins ---------------------------------------

BASH = shutil.which("bash")
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
    # What GitHub runs for `shell: bash` (the workflows' default).
    assert BASH is not None
    return subprocess.run(
        [BASH, "--noprofile", "--norc", "-eo", "pipefail", "-c", script(step)],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=30,
    )


@needs_bash
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
            "RUN_URL": "https://example.invalid/run/1",
            "REFRESH": "failure",
            "PREVIEW": "success",
            "VERIFY": "success",
        },
    )
    assert done.returncode == 0, done.stderr
    text = summary.read_text()
    assert "| 1. cloud vs state (`pulumi refresh --preview-only`) | **DRIFT** |" in text
    assert "| 2. code vs cloud (`make drift`) | no drift |" in text
    assert "~ aws:ecs/service:Service: (update)" in text and "::api-service]" in text
    assert "- aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule: (delete)" in text
    assert "::redis-from-api]" in text
    assert "\x1b[" not in text, "colour codes in the summary"
    assert (tmp_path / "build" / "drift" / "issue.md").read_text() == text


def fake_gh(tmp_path: Path, open_issue: str) -> tuple[Path, Path]:
    """A `gh` on PATH that records its arguments and answers `issue list`."""
    calls = tmp_path / "gh-calls.txt"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    gh = bin_dir / "gh"
    gh.write_text(f"""#!{BASH}
printf '%s\\n' "$*" >> {calls}
case "$1 $2" in
  "issue list") printf '%s' "{open_issue}" ;;
  "issue create") echo https://example.invalid/issues/9 ;;
esac
""")
    gh.chmod(gh.stat().st_mode | stat.S_IEXEC)
    return bin_dir, calls


@needs_bash
@pytest.mark.parametrize(
    "open_issue, expected, not_expected",
    [
        ("7", "issue comment 7 --body-file build/drift/issue.md", "issue create"),
        ("", "issue create --label drift", "issue comment"),
    ],
)
def test_the_drift_issue_is_updated_when_open_and_opened_otherwise(tmp_path, open_issue, expected, not_expected):
    (tmp_path / "build" / "drift").mkdir(parents=True)
    (tmp_path / "build" / "drift" / "issue.md").write_text("## Drift check\n")
    bin_dir, calls = fake_gh(tmp_path, open_issue)
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
def test_the_comment_is_posted_once_and_updated_after(tmp_path):
    marker = "<!-- hokusai-infra: make diff -->"
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
def test_untrusted_artifacts_are_refused_and_nothing_is_posted(
    tmp_path, comment, number, pr_head, expected_code, message
):
    done, made, posted = post(tmp_path, comment, number=number, pr_head=pr_head)
    assert done.returncode == expected_code, (done.stdout, done.stderr)
    assert message in done.stdout + done.stderr
    assert "--method" not in made and posted is None


@needs_bash
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
