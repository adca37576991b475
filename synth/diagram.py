"""`make diagram`: a picture of each stack, from the offline render (no AWS account, no Pulumi CLI).

    python -m synth.diagram                        # docs/ARCHITECTURE.md, and build/architecture-<stack>.{dot,svg,png}
    python -m synth.diagram --base origin/main     # the PR's picture: Markdown with the change marked, or nothing

Without arguments it writes docs/ARCHITECTURE.md (Mermaid, committed; synth/architecture_doc.py)
and, for each stack, the Graphviz DOT under build/ and, where Graphviz's `dot` is installed,
an SVG and a PNG of it (without `dot` those two are skipped, saying so).

With `--base <git ref>` it renders the stack at that commit (its own program, from
`git archive`, under its own synth/render.py) and at the checkout, and prints the
checkout's picture with what changed marked (core/architecture_diff.py) as Markdown for
a PR comment; when the shape did not change it prints nothing and says so on stderr.

Exit codes: 0 done; 2 could not render (a bad stack file, a ref git does not know, dot failing).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import pulumi

from core.architecture import Architecture
from core.architecture_diff import marked_markdown
from core.architecture_dot import dot
from core.generated_doc import EXIT_CANNOT_CHECK, EXIT_OK, CannotCheck
from synth.architecture_doc import DOC, markdown
from synth.pictures import picture_of_document, picture_of_stack, stack_names
from synth.program import PROJECT_DIR, StackFileError
from synth.quick_exit import exit_without_teardown

BUILD = PROJECT_DIR / "build"
GRAPHVIZ_INSTALL = "apt-get install graphviz (Debian, Ubuntu) or brew install graphviz (macOS)"
# A base render runs the program once under the mocks: seconds. Anything longer is stuck.
BASE_RENDER_TIMEOUT_SECONDS = 300


class CannotDraw(Exception):
    """The picture could not be made: exit 2 with this message."""


# --------------------------------------------------------------------------- #
# make diagram
# --------------------------------------------------------------------------- #


def draw(out: Path = BUILD, *, doc: Path = DOC.path) -> list[str]:
    """Write docs/ARCHITECTURE.md and each stack's DOT (SVG and PNG with Graphviz); what was written."""
    pictures = [picture_of_stack(stack) for stack in stack_names()]
    try:
        DOC.write(doc, markdown(pictures))
    except CannotCheck as error:
        raise CannotDraw(str(error)) from None
    written = [_shown(doc)]
    out.mkdir(parents=True, exist_ok=True)
    graphviz = shutil.which("dot")
    for picture in pictures:
        source = out / f"architecture-{picture.stack}.dot"
        source.write_text(dot(picture), encoding="utf-8")
        written.append(_shown(source))
        if graphviz is None:
            continue
        for image_format in ("svg", "png"):
            image = source.with_suffix(f".{image_format}")
            _graphviz(graphviz, image_format, source, image)
            written.append(_shown(image))
    if graphviz is None:
        print(
            f"make diagram: Graphviz's `dot` is not installed, so no SVG or PNG was drawn ({GRAPHVIZ_INSTALL}, "
            "then run make diagram again); the Mermaid pictures in docs/ARCHITECTURE.md and the .dot files are written",
            file=sys.stderr,
        )
    return written


def _graphviz(graphviz: str, image_format: str, source: Path, image: Path) -> None:
    try:
        subprocess.run(
            [graphviz, f"-T{image_format}", "-o", str(image), str(source)],
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        )
    except subprocess.CalledProcessError as error:
        raise CannotDraw(f"dot -T{image_format} {_shown(source)} failed: {error.stderr.strip()}") from None
    except subprocess.TimeoutExpired:
        raise CannotDraw(f"dot -T{image_format} {_shown(source)} took over 120 s") from None


def _shown(path: Path) -> str:
    return str(path.relative_to(PROJECT_DIR)) if path.is_relative_to(PROJECT_DIR) else str(path)


# --------------------------------------------------------------------------- #
# --base: the PR's picture
# --------------------------------------------------------------------------- #


def base_picture(ref: str, stack: str, *, repository: Path = PROJECT_DIR) -> Architecture:
    """The stack as the commit `ref` renders it, with that commit's own program and render.
    A stack that has no file at `ref` is an empty picture: everything in it is new."""
    with tempfile.TemporaryDirectory(prefix="hokusai-base-") as scratch:
        checkout = Path(scratch) / "base"
        checkout.mkdir()
        _export(ref, checkout, repository)
        if not (checkout / f"Pulumi.{stack}.yaml").exists():
            return Architecture(stack, (), ())
        out = Path(scratch) / f"{stack}.json"
        try:
            rendered = subprocess.run(
                [sys.executable, "-m", "synth.render", "--stack", stack, "--out", str(out)],
                cwd=checkout,
                capture_output=True,
                text=True,
                timeout=BASE_RENDER_TIMEOUT_SECONDS,
                # The base's own code only: nothing of this checkout on its import path.
                env={**os.environ, "PYTHONPATH": str(checkout), "PYTHONDONTWRITEBYTECODE": "1"},
            )
        except subprocess.TimeoutExpired:
            raise CannotDraw(f"rendering {stack} at {ref} took over {BASE_RENDER_TIMEOUT_SECONDS} s") from None
        # 1 is a graph that breaks an invariant: still a picture of what the base would deploy.
        if rendered.returncode not in (0, 1) or not out.exists():
            raise CannotDraw(f"cannot render {stack} at {ref}:\n{rendered.stderr.strip()}")
        document: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
        return picture_of_document(document)


def _export(ref: str, into: Path, repository: Path) -> None:
    """The tree of `ref`, written out (git archive): no worktree, no change to the repository."""
    try:
        archive = subprocess.run(
            ["git", "-C", str(repository), "archive", "--format=tar", ref], capture_output=True, timeout=120
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise CannotDraw(f"git archive {ref} failed: {error}") from None
    if archive.returncode != 0:
        message = archive.stderr.decode(errors="replace").strip()
        raise CannotDraw(f"git does not know {ref!r} ({message}); give a branch, tag or commit, e.g. origin/main")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")


def pr_markdown(ref: str, stacks: list[str]) -> str:
    """The marked picture of each stack whose shape the checkout changes against `ref` ("" for none)."""
    sections = []
    for stack in stacks:
        section = marked_markdown(base_picture(ref, stack), picture_of_stack(stack), base_name=f"`{ref}`")
        if section:
            sections.append(section)
    return "\n".join(sections)


# --------------------------------------------------------------------------- #
# The command line
# --------------------------------------------------------------------------- #


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m synth.diagram", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--base", metavar="REF", help="print the PR's picture: the checkout against this git ref (e.g. origin/main)"
    )
    parser.add_argument(
        "--stack", action="append", help="with --base: only this stack (repeatable; default: every stack file)"
    )
    parser.add_argument("--out", type=Path, default=BUILD, help="where the DOT, SVG and PNG go (default: build/)")
    args = parser.parse_args(argv)
    try:
        if args.base:
            text = pr_markdown(args.base, args.stack or stack_names())
            if text:
                sys.stdout.write(text)
            else:
                print(f"the estate's shape does not change against {args.base}: no picture", file=sys.stderr)
            return EXIT_OK
        for path in draw(args.out):
            print(f"wrote {path}", file=sys.stderr)
        return EXIT_OK
    except (StackFileError, pulumi.RunError, CannotDraw) as error:
        print(f"cannot draw the pictures:\n{error}", file=sys.stderr)
        return EXIT_CANNOT_CHECK


if __name__ == "__main__":
    exit_without_teardown(main())
