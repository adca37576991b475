"""A document generated from code and committed: write it, or check it is fresh.

docs/SETTINGS.md (the settings declarations), docs/ESTATE.md (the live-estate
record) and docs/ENVIRONMENT.md (the contract) are each rendered by a pure
function; a reviewer reads the committed file, and CI fails when it no longer
matches its source. The reading, diffing, writing and the `--write | --check`
command line are the same for all three, so they live here once.

Exit codes, as the other tools: 0 fresh (or written), 1 stale or missing,
2 could not read or write.

Pure: no Pulumi, no boto3.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from core.text_file import MissingFile, TextFileError, read_text, write_text

EXIT_OK = 0
EXIT_STALE = 1
EXIT_CANNOT_CHECK = 2

# Enough of the diff to see what changed in a CI log, not the whole file.
DIFF_LINES_SHOWN = 40
# The largest generated document is about 100 KiB: a committed file over this is not one.
DOC_LIMIT = 1024 * 1024
# difflib's matching is quadratic in the lines that look alike: a committed file of a
# million blank lines took minutes to diff against a 500-line document. A file with more
# than twice the generated lines (and this many more) is not an edit of it: it is
# summarised, not diffed.
_EXTRA_LINES = 200


class CannotCheck(Exception):
    """The file could not be read or written: exit 2, never a traceback."""


@dataclass(frozen=True)
class Staleness:
    missing: bool
    # The unified diff, committed -> generated (empty when fresh).
    diff: tuple[str, ...]
    # How many lines differ when the file was too far from the document to diff.
    undiffed_lines: int = 0

    @property
    def fresh(self) -> bool:
        return not self.missing and not self.diff

    @property
    def changed_lines(self) -> int:
        counted = sum(1 for line in self.diff if line[:1] in "+-" and not line.startswith(("+++", "---")))
        return counted + self.undiffed_lines

    def shown_diff(self) -> list[str]:
        lines = list(self.diff[:DIFF_LINES_SHOWN])
        if len(self.diff) > DIFF_LINES_SHOWN:
            lines.append(f"... {len(self.diff) - DIFF_LINES_SHOWN} more diff lines")
        return lines


@dataclass(frozen=True)
class GeneratedDoc:
    name: str  # as people see it: "docs/SETTINGS.md"
    path: Path  # the committed file
    source: str  # what it is generated from: "core/settings/declarations.py"
    regenerate: str  # the command that rewrites it
    render: Callable[[], str]

    def staleness(self, path: Path, expected: str) -> Staleness:
        try:
            # Bounded, a regular file, UTF-8: --file /dev/zero or a FIFO must not read for ever.
            current = read_text(path, limit=DOC_LIMIT, what=f"the committed {self.name}")
        except MissingFile:
            return Staleness(missing=True, diff=())
        except TextFileError as error:
            raise CannotCheck(str(error)) from None
        if current == expected:
            return Staleness(missing=False, diff=())
        old, new = current.splitlines(), expected.splitlines()
        if len(old) > 2 * len(new) + _EXTRA_LINES:
            summary = f"(not diffed: the file has {len(old)} lines, what {self.source} generates {len(new)})"
            return Staleness(missing=False, diff=(summary,), undiffed_lines=len(old) + len(new))
        diff = difflib.unified_diff(
            old, new, f"{self.name} (committed)", f"{self.name} (from {self.source})", lineterm=""
        )
        return Staleness(missing=False, diff=tuple(diff))

    def check(self, path: Path, expected: str) -> tuple[int, list[str]]:
        """(exit code, lines to print): is the file at `path` what the source generates?"""
        state = self.staleness(path, expected)
        fix = f"  fix: {self.regenerate} and commit the file"
        if state.missing:
            return EXIT_STALE, [f"{self.name}: {path} does not exist", fix]
        if state.fresh:
            return EXIT_OK, [f"{self.name}: up to date with {self.source}"]
        head = f"{self.name}: is stale: {state.changed_lines} lines differ from what {self.source} generates"
        return EXIT_STALE, [head, fix, *state.shown_diff()]

    def write(self, path: Path, text: str) -> None:
        try:
            write_text(path, text, what=self.name)  # a directory or an unread FIFO: an error at once
        except TextFileError as error:
            raise CannotCheck(str(error)) from None

    def main(self, argv: Sequence[str] | None, *, prog: str, description: str) -> int:
        """`--write` writes the file, `--check` compares it, neither prints the document."""
        parser = argparse.ArgumentParser(prog=prog, description=description)
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--write", action="store_true", help=f"write {self.name}")
        mode.add_argument("--check", action="store_true", help=f"exit 1 if {self.name} is stale")
        parser.add_argument("--file", type=Path, default=self.path, help=f"the document (default: {self.name})")
        args = parser.parse_args(argv)

        text = self.render()
        try:
            if args.check:
                code, lines = self.check(args.file, text)
                print("\n".join(lines))
                return code
            if args.write:
                self.write(args.file, text)
                print(f"wrote {args.file}", file=sys.stderr)
                return EXIT_OK
        except CannotCheck as error:
            print(f"{self.name}: cannot check: {error}", file=sys.stderr)
            return EXIT_CANNOT_CHECK
        sys.stdout.write(text)
        return EXIT_OK
