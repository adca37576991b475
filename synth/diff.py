"""`make diff`: what this change does to the rendered stacks, offline, for review.

    python -m synth.diff                          # against the merge base with main
    python -m synth.diff --base origin/main --stack development --format markdown

Both sides are rendered the same way `make synth` renders one: the program under the
recording mocks, by the interpreter running this. The head is this checkout's working tree
(uncommitted changes included). The base is BASE's own tree, exported with `git archive` into
a temporary directory and rendered there by its own `synth/render.py` and program: what the
base would deploy, not what today's code makes of the base's config. Each side runs in its own
process (the mocks are process-wide), both at once.

The comparison, the security tables and the Markdown are the pure core's
(core/graph_diff.py, core/security_changes.py, core/diff_report.py). When the estate's shape
changes, the Markdown also carries the marked picture of it (core/architecture_diff.py).

BASE defaults to `git merge-base HEAD main`, else `git merge-base HEAD origin/main`.
A stack file only one side has is shown as every resource added (or removed).
Exit codes: 0 the report (changes or not: it is a report, not a check); 2 the base cannot be
resolved or a side cannot be rendered (the message names the side and the error).
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core import bounded_json
from core.architecture import Architecture
from core.architecture_diff import compare, marked_markdown
from core.architecture_mermaid import Mark
from core.diff_report import Report, StackDiff, markdown, text
from core.graph_diff import Action, GraphDiffError, ResourceChange, diff_graphs
from core.resource_graph import Record
from core.stack_file import PROJECT_DIR, StackFileError, stack_file_path
from synth.key_properties import describe_inputs
from synth.pictures import picture_of_document

# A render of the development stack prints ~40 KB; anything past this is not a rendering.
RENDER_LIMIT = 64 * 1024 * 1024
# A render takes 2-5 s; a side still running after this is stuck (a hang fails the diff, not CI).
RENDER_TIMEOUT_SECONDS = 300
GIT_TIMEOUT_SECONDS = 120
MAIN_BRANCHES = ("main", "origin/main")


class DiffError(Exception):
    """The diff cannot be made; the message names the side (base / head) and what to do."""


# --------------------------------------------------------------------------- #
# git
# --------------------------------------------------------------------------- #


def _git(repo: Path, *args: str, binary: bool = False) -> subprocess.CompletedProcess[Any]:
    try:
        return subprocess.run(
            ["git", "-C", str(repo), *args],
            capture_output=True,
            text=not binary,
            timeout=GIT_TIMEOUT_SECONDS,
            stdin=subprocess.DEVNULL,
        )
    except FileNotFoundError:
        raise DiffError("git is not installed (or not on PATH): make diff needs it to read the base") from None
    except subprocess.TimeoutExpired:
        raise DiffError(f"git {' '.join(args)} took longer than {GIT_TIMEOUT_SECONDS} s") from None


@dataclass(frozen=True)
class Base:
    commit: str
    # How the report names it: `main@1a2b3c4 (merge base)`, `HEAD^1@1a2b3c4`.
    label: str


def resolve_base(repo: Path, base: str | None) -> Base:
    """The commit BASE names; without BASE, the merge base of HEAD with main (else origin/main)."""
    if _git(repo, "rev-parse", "--is-inside-work-tree").returncode != 0:
        raise DiffError(f"{repo} is not a git checkout: make diff compares with a git commit (BASE=<ref>)")
    if base:
        if base.startswith("-"):
            raise DiffError(f"BASE={base!r} is not a git ref: pass a branch, tag or commit (BASE=origin/main)")
        found = _git(repo, "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}")
        if found.returncode != 0:
            raise DiffError(
                f"BASE={base!r} is not a commit in this repository: pass a branch, tag or commit "
                "(git fetch it first if it is remote)"
            )
        commit = found.stdout.strip()
        # A commit given by its hash is named once: `1a2b3c4`, not `1a2b3c4@1a2b3c4`.
        return Base(commit, commit[:7] if commit.startswith(base.lower()) else f"{base}@{commit[:7]}")
    for branch in MAIN_BRANCHES:
        merge_base = _git(repo, "merge-base", "HEAD", branch)
        if merge_base.returncode == 0 and merge_base.stdout.strip():
            commit = merge_base.stdout.strip()
            return Base(commit, f"merge base with {branch}@{commit[:7]}")
    raise DiffError(
        f"cannot find the merge base of HEAD with {' or '.join(MAIN_BRANCHES)} (no such branch, or no common "
        "history): pass the base yourself, e.g. make diff BASE=<branch, tag or commit>"
    )


def head_label(repo: Path) -> str:
    commit = _git(repo, "rev-parse", "--short=7", "HEAD").stdout.strip() or "?"
    dirty = _git(repo, "status", "--porcelain", "--untracked-files=no").stdout.strip()
    return f"working tree (HEAD@{commit}{' + uncommitted changes' if dirty else ''})"


def export_commit(repo: Path, commit: str, destination: Path) -> None:
    """The files of `commit` in `destination` (git archive: no worktree bookkeeping left behind)."""
    archive = _git(repo, "archive", "--format=tar", commit, binary=True)
    if archive.returncode != 0:
        reason = archive.stderr.decode("utf-8", "replace").strip()
        raise DiffError(f"base: git archive {commit[:7]} failed: {reason}")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        # The "data" filter refuses absolute paths, links out of the tree and device files.
        tar.extractall(destination, filter="data")


# --------------------------------------------------------------------------- #
# Rendering a side
# --------------------------------------------------------------------------- #


@dataclass
class Side:
    name: str  # "base" / "head"
    directory: Path
    # Per stack: the rendered records, or None where the side has no stack file.
    stacks: dict[str, list[Record] | None] = field(default_factory=dict)
    estates: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    # Per stack: the rendering as synth/render.py printed it (for the picture).
    documents: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    # Per stack: the invariants the side's render says it breaks.
    broken: dict[str, list[str]] = field(default_factory=dict)


def _render_command(stack: str, out: Path) -> list[str]:
    return [sys.executable, "-m", "synth.render", "--stack", stack, "--json", "--out", str(out)]


def _environment(directory: Path) -> dict[str, str]:
    """This environment, with the side's directory (and nothing else) first on the import path."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")}
    env["PYTHONPATH"] = str(directory)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def render_sides(sides: Sequence[Side], stacks: Sequence[str], scratch: Path) -> None:
    """Render every stack of every side, all at once (each in its own process)."""
    running: list[tuple[Side, str, subprocess.Popen[str]]] = []
    try:
        for side in sides:
            for stack in stacks:
                if not stack_file_path(stack, side.directory).is_file():
                    side.stacks[stack] = None
                    continue
                out = scratch / f"{side.name}-{stack}.json"
                process = subprocess.Popen(
                    _render_command(stack, out),
                    cwd=side.directory,
                    env=_environment(side.directory),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                running.append((side, stack, process))
        for side, stack, process in running:
            try:
                stdout, stderr = process.communicate(timeout=RENDER_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                raise DiffError(
                    f"{side.name}: rendering stack {stack!r} took longer than {RENDER_TIMEOUT_SECONDS} s"
                ) from None
            _read_render(side, stack, process.returncode, stdout, stderr)
    finally:
        for _side, _stack, process in running:
            if process.poll() is None:
                process.kill()
                process.wait()


def _read_render(side: Side, stack: str, code: int, stdout: str, stderr: str) -> None:
    # synth.render: 0 rendered, 1 rendered but an invariant is broken, 2 cannot render.
    if code not in (0, 1):
        tail = "\n  ".join(stderr.strip().splitlines()[-15:]) or f"exit {code}, nothing on stderr"
        raise DiffError(f"{side.name}: cannot render stack {stack!r} ({side.directory}):\n  {tail}")
    try:
        document = bounded_json.parse(stdout, max_bytes=RENDER_LIMIT)
    except bounded_json.JsonRefused as error:
        raise DiffError(f"{side.name}: the render of stack {stack!r} printed no rendering ({error})") from None
    resources = document.get("resources") if isinstance(document, dict) else None
    if not isinstance(resources, list) or not all(
        isinstance(r, dict)
        and isinstance(r.get("type"), str)
        and isinstance(r.get("name"), str)
        and isinstance(r.get("inputs", {}), dict)
        for r in resources
    ):
        raise DiffError(f"{side.name}: the render of stack {stack!r} has no list of resources (type, name, inputs)")
    side.stacks[stack] = [Record(r["type"], r["name"], r.get("inputs") or {}) for r in resources]
    outputs = document.get("outputs")
    estate = outputs.get("estate") if isinstance(outputs, dict) else None
    side.estates[stack] = estate if isinstance(estate, dict) else {}
    side.documents[stack] = document
    side.broken[stack] = [
        line.removeprefix("invariant broken: ") for line in stderr.splitlines() if line.startswith("invariant broken: ")
    ]


# --------------------------------------------------------------------------- #
# The report
# --------------------------------------------------------------------------- #


def security_group_labels(*estates: Mapping[str, Any]) -> dict[str, str]:
    """sg-... -> what it is, from the `estate` outputs: a service's group, a dependency's, a consumer's."""
    labels: dict[str, str] = {}
    for estate in estates:
        for service in estate.get("services") or []:
            if isinstance(service, dict) and isinstance(service.get("security_group_id"), str):
                labels[service["security_group_id"]] = f"{service.get('key')} service"
        for dependency in estate.get("dependencies") or []:
            if not isinstance(dependency, dict):
                continue
            if isinstance(dependency.get("security_group_id"), str):
                labels.setdefault(dependency["security_group_id"], f"{dependency.get('name')}")
            consumers = dependency.get("consumer_security_group_ids")
            for label, group in (consumers if isinstance(consumers, dict) else {}).items():
                if isinstance(group, str):
                    labels.setdefault(group, str(label))
    return labels


def descriptions(base: Side, head: Side, stack: str, resources: Sequence[ResourceChange]) -> dict[str, str]:
    """The key properties (synth/key_properties.py) of each added or removed resource, by `type::name`."""
    raw = {(side.name, r.type, r.name): r.inputs for side in (base, head) for r in side.stacks.get(stack) or []}
    found = {}
    for resource in resources:
        side = "base" if resource.action is Action.REMOVE else "head"
        try:
            found[resource.urn_name] = describe_inputs(resource.type, dict(raw[(side, resource.type, resource.name)]))
        except (KeyError, IndexError, TypeError, ValueError, AttributeError):
            # The describers read today's inputs; a base may be older. The table still lists it.
            continue
    return found


@dataclass(frozen=True)
class MarkedShape:
    # The PR comment's section: the head's picture with the change marked, and the list of them.
    markdown: str
    # One line a change, as a reviewer reads it ("added dependency search"): the terminal's form.
    changes: tuple[str, ...]


def picture(base: Side, head: Side, stack: str, base_label: str) -> MarkedShape | None:
    """The head's picture with the change marked (core/architecture_diff.py) when the estate's
    shape changes: a box or an arrow added or removed (a service, a route, a dependency, a
    secret). A value changed in place (a task size, where a secret's value lives) is in the
    tables already, and gets no picture. None too when a side's rendering cannot be drawn."""
    try:
        before, after = (
            picture_of_document(side.documents[stack]) if stack in side.documents else Architecture(stack, (), ())
            for side in (base, head)
        )
        change = compare(before, after)
    except (KeyError, IndexError, TypeError, ValueError, AttributeError):
        # The picture reads today's estate output; a base may be older. The diff stands without it.
        return None
    marks = {*change.node_marks.values(), *change.edge_marks.values()}
    if not marks & {Mark.ADDED, Mark.REMOVED}:
        return None
    return MarkedShape(marked_markdown(before, after, base_name=f"`{base_label}`"), tuple(change.changes()))


def build_report(base: Side, head: Side, stacks: Sequence[str], base_label: str, head_label_: str) -> Report:
    results = []
    pictures: dict[str, str] = {}
    shape_changes: dict[str, tuple[str, ...]] = {}
    for stack in stacks:
        before, after = base.stacks.get(stack), head.stacks.get(stack)
        if before is None and after is None:
            raise DiffError(
                f"stack {stack!r}: neither side has {stack_file_path(stack).name}: pick a stack that exists "
                "(STACK=<name>, a Pulumi.<name>.yaml)"
            )
        notes = []
        if before is None:
            notes.append(f"the base has no Pulumi.{stack}.yaml: the whole stack is new")
        if after is None:
            notes.append(f"the head has no Pulumi.{stack}.yaml: the whole stack goes")
        for side in (base, head):
            broken = side.broken.get(stack) or []
            if broken:
                notes.append(f"the {side.name} breaks {len(broken)} invariant(s): {'; '.join(broken)}")
        try:
            diff = diff_graphs(before or [], after or [])
        except GraphDiffError as error:
            raise DiffError(f"stack {stack!r}: {error}") from None
        described = descriptions(base, head, stack, diff.of(Action.ADD, Action.REMOVE))
        results.append(StackDiff(stack, diff, tuple(notes), described))
        marked = picture(base, head, stack, base_label) if not diff.empty else None
        if marked:
            pictures[stack] = marked.markdown
            shape_changes[stack] = marked.changes
    estates = [side.estates.get(stack) or {} for stack in stacks for side in (base, head)]
    return Report(
        base_label,
        head_label_,
        tuple(results),
        pictures=pictures,
        shape_changes=shape_changes,
        labels=security_group_labels(*estates),
    )


def make_diff(project_dir: Path, base_ref: str | None, stacks: Sequence[str]) -> Report:
    """Render both sides of every stack and compare them."""
    for stack in stacks:
        stack_file_path(stack, project_dir)  # a bad name is refused before anything runs
    base = resolve_base(project_dir, base_ref)
    label = head_label(project_dir)
    with tempfile.TemporaryDirectory(prefix="hokusai-diff-") as scratch:
        scratch_dir = Path(scratch)
        tree = scratch_dir / "base"
        tree.mkdir()
        export_commit(project_dir, base.commit, tree)
        base_side, head_side = Side("base", tree), Side("head", project_dir)
        render_sides([base_side, head_side], stacks, scratch_dir)
    return build_report(base_side, head_side, stacks, base.label, label)


def main(argv: Sequence[str] | None = None, project_dir: Path = PROJECT_DIR) -> int:
    parser = argparse.ArgumentParser(prog="python -m synth.diff", description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", help="the git ref to compare with (default: the merge base of HEAD with main)")
    parser.add_argument(
        "--stack", action="append", dest="stacks", help="a stack to diff (repeat for several; default: development)"
    )
    parser.add_argument("--format", choices=("text", "markdown"), default="text", help="text (default) or markdown")
    args = parser.parse_args(argv)
    stacks = list(dict.fromkeys(args.stacks or ["development"]))
    try:
        report = make_diff(project_dir, args.base, stacks)
    except (DiffError, StackFileError) as error:
        print(f"make diff: {error}", file=sys.stderr)
        return 2
    output = markdown(report) if args.format == "markdown" else text(report)
    sys.stdout.write(output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
