"""Reading and writing the files a person names: bounded, regular files only, UTF-8, never blocking."""

from __future__ import annotations

import codecs
import os
import time
from pathlib import Path

import pytest

from core.text_file import ByteOrderMark, MissingFile, TextFileError, read_text, write_text

WHAT = "the test file"


def read(path: Path, limit: int = 1024, bom: ByteOrderMark = ByteOrderMark.REFUSE) -> str:
    return read_text(path, limit=limit, what=WHAT, bom=bom)


def refusal(path: Path, limit: int = 1024, bom: ByteOrderMark = ByteOrderMark.REFUSE) -> str:
    started = time.perf_counter()
    with pytest.raises(TextFileError) as caught:
        read(path, limit, bom)
    assert time.perf_counter() - started < 1, "a refusal must not wait or read on"
    return str(caught.value)


def test_a_file_of_exactly_the_limit_is_read_and_one_byte_more_is_refused(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"x" * 1024)
    assert read(path) == "x" * 1024
    path.write_bytes(b"x" * 1025)
    assert "is larger than 1 KiB" in refusal(path)


def test_a_missing_file_is_its_own_error_so_callers_can_advise(tmp_path):
    with pytest.raises(MissingFile, match=f"does not exist: pass the path of {WHAT}"):
        read(tmp_path / "nope")


def test_a_directory_is_refused(tmp_path):
    assert f"{tmp_path} is a directory" in refusal(tmp_path)


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert "is not a regular file" in refusal(fifo)


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_a_device_that_never_ends_is_refused_without_reading_it():
    assert "is not a regular file" in refusal(Path("/dev/zero"))


@pytest.mark.parametrize(
    ("data", "said"),
    [
        ("config: {}\n".encode("utf-16"), "is UTF-16 or UTF-32"),
        ("config: {}\n".encode("utf-32"), "is UTF-16 or UTF-32"),
        (codecs.BOM_UTF8 + b"config: {}\n", "starts with a UTF-8 byte-order mark"),
        (b"a: 1\nb: caf\xe9\n", "byte 0xe9 on line 2 is not valid UTF-8"),
        ("a\n".encode("utf-16-le") + b"\xff\xdc", "(NUL bytes: is it UTF-16?)"),
    ],
    ids=["utf-16", "utf-32", "utf-8 bom", "latin-1", "utf-16 without bom"],
)
def test_anything_but_utf8_is_refused_with_the_fix(tmp_path, data, said):
    path = tmp_path / "f"
    path.write_bytes(data)
    message = refusal(path)
    assert said in message and "UTF-8" in message


def test_a_bom_can_be_dropped_where_an_editor_adds_one(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(codecs.BOM_UTF8 + b"A=1\n")
    assert read(path, bom=ByteOrderMark.STRIP) == "A=1\n"


def test_a_name_with_a_nul_is_refused_not_a_value_error():
    assert "not a usable file name" in refusal(Path("a\x00b"))


def test_writing_creates_the_directory(tmp_path):
    target = tmp_path / "build" / "out.json"
    write_text(target, "{}\n", what=WHAT)
    assert target.read_text() == "{}\n"


def test_writing_into_a_fifo_nobody_reads_is_refused_at_once(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    started = time.perf_counter()
    with pytest.raises(TextFileError, match="a pipe that no process reads"):
        write_text(fifo, "x", what=WHAT)
    assert time.perf_counter() - started < 1


def test_writing_to_a_directory_or_under_a_file_is_refused(tmp_path):
    with pytest.raises(TextFileError, match="is a directory"):
        write_text(tmp_path, "x", what=WHAT)
    (tmp_path / "file").write_text("x")
    with pytest.raises(TextFileError, match="cannot write"):
        write_text(tmp_path / "file" / "out", "x", what=WHAT)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")
def test_a_full_device_is_an_error_naming_it():
    with pytest.raises(TextFileError, match="/dev/full"):
        write_text(Path("/dev/full"), "x" * 100_000, what=WHAT)
