"""Reading and writing the text files a person names (a stack file, an outputs file, a
.env.example, a generated doc, where to write a rendering). Pure (the standard library).

Every such read goes through `read_text`: bounded, regular files only, UTF-8 only. So a
directory, /dev/zero, a FIFO, a 2 GB log or a UTF-16 file each get one sentence naming the
file and the fix: never a traceback, never a read that does not end. `write_text` refuses
to write into anything but a regular file (a FIFO without a reader would block for ever).
"""

from __future__ import annotations

import codecs
import errno
import os
import stat
from enum import Enum
from pathlib import Path


class TextFileError(Exception):
    """The file cannot be read as the text it should be, or written; the message names it and the fix."""


class MissingFile(TextFileError):
    """The file does not exist (callers often have their own advice for that)."""


class ByteOrderMark(Enum):
    # Refuse a UTF-8 byte-order mark: the file must be plain UTF-8.
    REFUSE = "refuse"
    # Drop it: an editor's BOM must not become part of the first name (a .env.example).
    STRIP = "strip"


_UTF16_MARKS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def read_text(path: Path, *, limit: int, what: str, bom: ByteOrderMark = ByteOrderMark.REFUSE) -> str:
    """The text of the regular file at `path`, at most `limit` bytes of UTF-8.

    `what` says what the file should be, for the messages ("the stack outputs file").
    Raises MissingFile or TextFileError, each naming `path` and what to do.
    """
    data = read_bytes(path, limit=limit, what=what)
    return decode_utf8(data, path, what=what, bom=bom)


def read_bytes(path: Path, *, limit: int, what: str) -> bytes:
    # O_NONBLOCK: opening a FIFO must not wait for a writer (it is then refused as not a
    # regular file); on a regular file the flag changes nothing.
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)
    try:
        descriptor = os.open(path, flags)
    except FileNotFoundError:
        raise MissingFile(f"{path} does not exist: pass the path of {what}") from None
    except IsADirectoryError:
        raise TextFileError(f"{path} is a directory: pass the path of {what}") from None
    except OSError as error:
        raise TextFileError(f"cannot open {path}: {_reason(error)}") from None
    except ValueError:  # an embedded NUL: only a caller in-process can pass one
        raise TextFileError(f"{str(path)!r} is not a usable file name: pass the path of {what}") from None
    try:
        status = os.fstat(descriptor)
        if stat.S_ISDIR(status.st_mode):
            raise TextFileError(f"{path} is a directory: pass the path of {what}")
        if not stat.S_ISREG(status.st_mode):
            # A device (/dev/zero never ends), a pipe or a socket: nothing with a size to bound.
            raise TextFileError(f"{path} is not a regular file (a device, pipe or socket): pass the path of {what}")
        if status.st_size > limit:
            raise TextFileError(_too_large(path, limit, what))
        # One byte over the limit tells a file that grew since fstat from one that did not.
        chunks, wanted = [], limit + 1
        while wanted > 0:
            chunk = os.read(descriptor, min(wanted, 1024 * 1024))
            if not chunk:
                break
            chunks.append(chunk)
            wanted -= len(chunk)
    except OSError as error:
        raise TextFileError(f"cannot read {path}: {_reason(error)}") from None
    finally:
        os.close(descriptor)
    data = b"".join(chunks)
    if len(data) > limit:
        raise TextFileError(_too_large(path, limit, what))
    return data


def decode_utf8(data: bytes, path: Path, *, what: str, bom: ByteOrderMark = ByteOrderMark.REFUSE) -> str:
    if data.startswith(_UTF16_MARKS):
        raise TextFileError(
            f"{path} is UTF-16 or UTF-32 (it starts with that byte-order mark); {what} must be UTF-8: "
            "save it as UTF-8 (PowerShell's `>` writes UTF-16: use `| Out-File -Encoding utf8`)"
        )
    if data.startswith(codecs.BOM_UTF8):
        if bom is ByteOrderMark.REFUSE:
            raise TextFileError(
                f"{path} starts with a UTF-8 byte-order mark; {what} must be plain UTF-8: save it without the BOM"
            )
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        byte = data[error.start : error.start + 1].hex()
        hint = " (NUL bytes: is it UTF-16?)" if b"\x00" in data else ""
        raise TextFileError(
            f"{path} is not UTF-8: byte 0x{byte} on line {line} is not valid UTF-8{hint}; save {what} as UTF-8"
        ) from None


def _too_large(path: Path, limit: int, what: str) -> str:
    # The limit is far above any real file of the kind: over it, this is not the file meant.
    return f"{path} is larger than {_size(limit)}, more than {what} can be: pass the right file"


def _size(count: int) -> str:
    return f"{count / 1024 / 1024:.1f} MiB" if count >= 1024 * 1024 else f"{count // 1024} KiB"


def _reason(error: OSError) -> str:
    if error.errno in (errno.EACCES, errno.EPERM):
        return f"{error.strerror} (run as a user who may read it, or fix its permissions)"
    return error.strerror or str(error)


def write_text(path: Path, text: str, *, what: str) -> None:
    """Write `text` (UTF-8) to `path`, creating its directory; TextFileError naming the fix.

    O_NONBLOCK on open: a FIFO that no process reads is refused at once (ENXIO) instead of
    blocking for ever; /dev/null, a FIFO that is read, and regular files are written as usual.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NONBLOCK", 0)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, flags, 0o666)
    except IsADirectoryError:
        raise TextFileError(f"{path} is a directory: pass a file name to write {what} to") from None
    except OSError as error:
        reason = "a pipe that no process reads" if error.errno == errno.ENXIO else _reason(error)
        raise TextFileError(f"cannot write {what} to {path}: {reason}") from None
    except ValueError:  # an embedded NUL: only a caller in-process can pass one
        raise TextFileError(f"{str(path)!r} is not a usable file name: pass where to write {what}") from None
    try:
        os.set_blocking(descriptor, True)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as error:
        raise TextFileError(f"cannot write {what} to {path}: {_reason(error)}") from None
