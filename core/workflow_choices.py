"""The choices the hand-run workflows offer: every stack file, every service of the contract.

GitHub shows a `workflow_dispatch` input of `type: choice` as a drop-down, which
saves an operator from a typo under pressure. Its options are a copy of what the
repository already says (the `Pulumi.<stack>.yaml` files, core/contract.py), so
they are written here, by `make docs`, and checked by `make docs-check`: adding a
stack or a service then needs no hand edit of the workflows.

Only an `options:` line right under one of the MARKERS is rewritten; everything
else in the workflow file stays byte for byte.

Pure: no Pulumi, no boto3.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from core.contract import CONTRACTS
from core.generated_doc import EXIT_CANNOT_CHECK, EXIT_OK, EXIT_STALE, CannotCheck, GeneratedDoc
from core.stack_names import PROJECT_DIR, StackNameError, stack_names

WORKFLOWS_DIR = PROJECT_DIR / ".github" / "workflows"
REGENERATE = "make docs"
SOURCE = "the stack files and core/contract.py (core/workflow_choices.py)"

# The comment above an `options:` line, and what the options are.
MARKERS: dict[str, Callable[[Path], Sequence[str]]] = {
    "# make docs writes these options: the stack files.": lambda root: stack_names(root),
    "# make docs writes these options: the contract's services.": lambda _root: sorted(CONTRACTS),
}
_OPTIONS = re.compile(r"^(?P<indent>[ ]*)options:[^\n]*$")


def with_choices(text: str, project_dir: Path = PROJECT_DIR) -> str:
    """The workflow `text` with the options under each marker rewritten from the repository."""
    lines = text.split("\n")
    for index, line in enumerate(lines[:-1]):
        choices = MARKERS.get(line.strip())
        following = _OPTIONS.match(lines[index + 1])
        if choices is None or following is None:
            continue
        lines[index + 1] = f"{following['indent']}options: [{', '.join(choices(project_dir))}]"
    return "\n".join(lines)


def marked_workflows(directory: Path = WORKFLOWS_DIR) -> list[Path]:
    """The workflow files that hold at least one marker, sorted."""
    found = []
    for path in sorted(directory.glob("*.yml")):
        if any(marker in path.read_text(encoding="utf-8") for marker in MARKERS):
            found.append(path)
    return found


def doc_for(path: Path, project_dir: Path) -> GeneratedDoc:
    """One workflow as a generated document: its own text with the choices rewritten."""
    name = path.relative_to(project_dir).as_posix() if path.is_relative_to(project_dir) else str(path)
    return GeneratedDoc(
        name=name,
        path=path,
        source=SOURCE,
        regenerate=REGENERATE,
        render=lambda: with_choices(path.read_text(encoding="utf-8"), project_dir),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m core.workflow_choices", description=(__doc__ or "").split("\n\n")[0]
    )
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="rewrite the options in the workflow files")
    mode.add_argument("--check", action="store_true", help="exit 1 if a workflow's options are stale")
    args = parser.parse_args(argv)
    worst = EXIT_OK
    try:
        for path in marked_workflows(WORKFLOWS_DIR):
            doc = doc_for(path, PROJECT_DIR)
            text = doc.render()
            if args.write:
                if text != path.read_text(encoding="utf-8"):
                    doc.write(path, text)
                    print(f"wrote {doc.name}", file=sys.stderr)
                continue
            code, lines = doc.check(path, text)
            print("\n".join(lines))
            worst = max(worst, code)
    except (CannotCheck, StackNameError, OSError, UnicodeDecodeError) as error:
        print(f"workflow choices: cannot check: {error}", file=sys.stderr)
        return EXIT_CANNOT_CHECK
    return worst if worst in (EXIT_OK, EXIT_STALE) else EXIT_CANNOT_CHECK


if __name__ == "__main__":
    sys.exit(main())
