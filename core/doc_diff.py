"""A committed generated document against what its source generates: read bounded, diffed
in bounded time. Shared by the docs checks (SETTINGS.md, ESTATE.md, ENVIRONMENT.md). Pure.

difflib's matching is quadratic in the number of lines that look alike: a committed file of
a million blank lines took minutes to diff against a 500-line document. A file with far more
lines than the generated text is not an edited version of it, so it gets a one-line summary
instead of a diff.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from core.text_file import MissingFile, TextFileError, read_text

# The largest generated document is about 100 KiB.
DOC_LIMIT = 1024 * 1024
# More lines than twice the generated ones (and this many more): summarised, not diffed.
_EXTRA_LINES = 200


def read_committed(path: Path, doc_name: str) -> str | None:
    """The committed document's text; None if it does not exist. TextFileError if it cannot be read."""
    try:
        return read_text(path, limit=DOC_LIMIT, what=f"the committed {doc_name}")
    except MissingFile:
        return None


def diff(current: str, expected: str, current_name: str, expected_name: str) -> tuple[int, list[str]]:
    """(how many lines differ, the unified diff's lines)."""
    old, new = current.splitlines(), expected.splitlines()
    if len(old) > 2 * len(new) + _EXTRA_LINES:
        return len(old) + len(new), [
            f"(not diffed: {current_name} has {len(old)} lines, {expected_name} {len(new)}; it is not an edit of it)"
        ]
    lines = list(difflib.unified_diff(old, new, current_name, expected_name, lineterm=""))
    changed = sum(1 for line in lines if line[:1] in "+-" and not line.startswith(("+++", "---")))
    return changed, lines


__all__ = ["DOC_LIMIT", "TextFileError", "diff", "read_committed"]
