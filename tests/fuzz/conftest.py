"""Prints what the fuzz ran (cases per kind of input, the slowest) at the end of a run.

Under pytest-xdist the workers keep their own records, so the table appears only
without it: `pytest tests/fuzz -p no:xdist` (bench/README.md, "Input fuzzing")."""

from __future__ import annotations

from tests.fuzz.harness import RECORD


def pytest_terminal_summary(terminalreporter):
    if not RECORD:
        return
    terminalreporter.section("input fuzzing")
    total = sum(kind.cases for kind in RECORD.values())
    for name, kind in sorted(RECORD.items()):
        codes = ", ".join(f"exit {code}: {count}" for code, count in sorted(kind.exit_codes.items()))
        terminalreporter.write_line(
            f"{name:<22} {kind.cases:>6} cases  slowest {kind.slowest * 1000:7.1f} ms  {codes}"
            + (f"  ({kind.slowest_case})" if kind.slowest_case else "")
        )
    slowest = max(RECORD.values(), key=lambda kind: kind.slowest)
    terminalreporter.write_line(
        f"{'all':<22} {total:>6} cases, 0 tracebacks, 0 hangs (a failing case fails its test); "
        f"slowest {slowest.slowest * 1000:.1f} ms"
    )
