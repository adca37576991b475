"""Running one fuzz case: a tool's exit code, what it printed and how long it took.

Every case runs under a deadline (a hang fails the case, naming it, instead of holding
the suite), and is recorded per kind of input: the cases run and the slowest, which
`pytest tests/fuzz -p no:xdist` prints at the end (bench/README.md, "Input fuzzing").
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from hypothesis import HealthCheck, settings

T = TypeVar("T")

# A case that runs this long is a hang (the slowest honest case takes well under a second).
CASE_DEADLINE_SECONDS = 10.0


def fuzz_settings(examples: int) -> settings:
    """`examples` cases on every run; more under a profile that asks for more
    (HYPOTHESIS_PROFILE=deep, tests/conftest.py)."""
    profile = settings.default
    return settings(
        max_examples=max(examples, profile.max_examples if profile else 0),
        deadline=None,
        # The fixtures used (an AWS environment, a temporary directory) hold for every case.
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


class Hang(BaseException):
    """Not an Exception: no `except Exception` in a tool can swallow it."""


@contextlib.contextmanager
def deadline(seconds: float, case: str) -> Iterator[None]:
    """Raise Hang if the block runs longer than `seconds` (SIGALRM: the main thread, POSIX)."""

    def expire(_signum, _frame):
        raise Hang(f"{case}: still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class Kind:
    cases: int = 0
    slowest: float = 0.0
    slowest_case: str = ""
    exit_codes: dict[int, int] = field(default_factory=dict)


RECORD: dict[str, Kind] = {}


def record(kind: str, case: str, seconds: float, code: int | None = None) -> None:
    entry = RECORD.setdefault(kind, Kind())
    entry.cases += 1
    if code is not None:
        entry.exit_codes[code] = entry.exit_codes.get(code, 0) + 1
    if seconds > entry.slowest:
        entry.slowest, entry.slowest_case = seconds, case[:120]


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str
    seconds: float


def run_main(kind: str, main: Callable[[list[str]], int], argv: Sequence[str]) -> Outcome:
    """`main(argv)` as the command line runs it: its exit code (argparse's SystemExit included),
    stdout and stderr. Any other exception escapes: that is the traceback the fuzz looks for."""
    out, err = io.StringIO(), io.StringIO()
    case = f"{kind} {list(argv)!r}"
    started = time.perf_counter()
    with deadline(CASE_DEADLINE_SECONDS, case), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code: int | str | None
        try:
            code = main(list(argv))
        except SystemExit as exit:  # argparse: 2 for a bad command line, 0 after --help
            code = 0 if exit.code is None else exit.code
    seconds = time.perf_counter() - started
    assert isinstance(code, int), f"{case}: exited with {code!r}, not a number"
    record(kind, case, seconds, code)
    outcome = Outcome(code, out.getvalue(), err.getvalue(), seconds)
    assert_clean(outcome, case)
    return outcome


def assert_clean(outcome: Outcome, case: str) -> None:
    assert outcome.code in (0, 1, 2), f"{case}: exit code {outcome.code!r}\n{outcome.err[-2000:]}"
    assert "Traceback" not in outcome.err, f"{case}: a traceback on stderr\n{outcome.err[-2000:]}"


def timed(kind: str, case: str, action: Callable[[], T]) -> T:
    """`action()` under the deadline, recorded; its exceptions escape."""
    started = time.perf_counter()
    with deadline(CASE_DEADLINE_SECONDS, f"{kind} {case}"):
        result = action()
    record(kind, case, time.perf_counter() - started)
    return result


@contextlib.contextmanager
def refusing_port() -> Iterator[int]:
    """A port on 127.0.0.1 that refuses connections: bound, never listening (Linux answers RST)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]
    finally:
        sock.close()


def fifo(path: str) -> str:
    if not os.path.exists(path):
        os.mkfifo(path)
    return path
