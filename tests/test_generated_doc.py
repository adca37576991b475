"""The committed-document check itself: bounded reading, bounded diffing, safe writing."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from core.generated_doc import _EXTRA_LINES, DOC_LIMIT, CannotCheck, GeneratedDoc

DOCUMENT = "".join(f"line {i}\n" for i in range(300))
DOC = GeneratedDoc(
    name="docs/X.md", path=Path("docs/X.md"), source="x.py", regenerate="make docs", render=lambda: DOCUMENT
)
LONGEST_DIFFED = 2 * DOCUMENT.count("\n") + _EXTRA_LINES


def test_a_file_up_to_twice_the_document_and_a_margin_is_diffed_and_a_longer_one_summarised(tmp_path):
    path = tmp_path / "X.md"
    path.write_text("\n" * LONGEST_DIFFED)
    diffed = DOC.staleness(path, DOCUMENT)
    assert diffed.diff[0].startswith("---") and diffed.changed_lines == LONGEST_DIFFED + 300
    path.write_text("\n" * (LONGEST_DIFFED + 1))
    summarised = DOC.staleness(path, DOCUMENT)
    assert summarised.diff == (f"(not diffed: the file has {LONGEST_DIFFED + 1} lines, what x.py generates 300)",)
    assert summarised.changed_lines == LONGEST_DIFFED + 1 + 300 and not summarised.fresh


def test_a_million_blank_lines_are_stale_in_well_under_a_second(tmp_path):
    path = tmp_path / "X.md"
    path.write_text("\n" * (DOC_LIMIT - 1))
    started = time.perf_counter()
    assert not DOC.staleness(path, DOCUMENT).fresh
    assert time.perf_counter() - started < 1


@pytest.mark.parametrize("make", ["fifo", "large", "directory"])
def test_a_file_that_cannot_be_the_document_cannot_be_checked(tmp_path, make):
    path = tmp_path / "X.md"
    if make == "fifo":
        os.mkfifo(path)
    elif make == "large":
        path.write_bytes(b"\n" * (DOC_LIMIT + 1))
    else:
        path.mkdir()
    with pytest.raises(CannotCheck):
        DOC.staleness(path, DOCUMENT)


def test_writing_into_a_fifo_nobody_reads_cannot_be_done(tmp_path):
    os.mkfifo(tmp_path / "X.md")
    with pytest.raises(CannotCheck, match="a pipe that no process reads"):
        DOC.write(tmp_path / "X.md", DOCUMENT)
