"""The report every live tool prints: one row per check (check, status, finding, fix).

One shape for verify, smoke and envcheck, so on-call reads them the same way:
a table on the terminal, `--json` for machines, and a Markdown summary appended
to `$GITHUB_STEP_SUMMARY` when running in GitHub Actions.

Exit codes, for all tools:
  0  every check passed (warnings allowed)
  1  at least one check failed: something is wrong with the estate
  2  could not check (no credentials, no network, no stack outputs, bad arguments)
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import TextIO

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_CANNOT_CHECK = 2


class Status(StrEnum):
    OK = "ok"
    FAIL = "FAIL"
    WARN = "warn"


@dataclass(frozen=True)
class Result:
    check: str  # what was checked, e.g. "secrets.present"
    subject: str  # what it was checked on, e.g. "hokusai-api-development"
    status: Status
    finding: str  # what was found, in a sentence
    fix: str = ""  # what to do about it (empty when ok)


def ok(check: str, subject: str, finding: str) -> Result:
    return Result(check, subject, Status.OK, finding)


def fail(check: str, subject: str, finding: str, fix: str) -> Result:
    return Result(check, subject, Status.FAIL, finding, fix)


def warn(check: str, subject: str, finding: str, fix: str = "") -> Result:
    return Result(check, subject, Status.WARN, finding, fix)


class CannotCheck(Exception):
    """The tool could not look (credentials, network, missing outputs): exit 2, never a traceback."""


@dataclass
class Report:
    title: str
    results: list[Result] = field(default_factory=list)
    # Extra facts worth printing (e.g. the number of AWS calls made).
    notes: list[str] = field(default_factory=list)

    def extend(self, results: Iterable[Result]) -> None:
        self.results.extend(results)

    @property
    def failures(self) -> list[Result]:
        return [r for r in self.results if r.status is Status.FAIL]

    @property
    def exit_code(self) -> int:
        return EXIT_FINDINGS if self.failures else EXIT_OK

    def summary_line(self) -> str:
        counts = {s: sum(r.status is s for r in self.results) for s in Status}
        verdict = "FAILED" if self.failures else "passed"
        return (
            f"{self.title}: {verdict} ({counts[Status.OK]} ok, {counts[Status.FAIL]} failed, "
            f"{counts[Status.WARN]} warnings)"
        )

    def table(self) -> str:
        headers = ("check", "status", "subject", "finding")
        rows = [(r.check, r.status.value, r.subject, r.finding) for r in self.results]
        widths = [max([len(h)] + [len(row[i]) for row in rows]) for i, h in enumerate(headers[:3])]
        lines = ["  ".join(h.ljust(w) for h, w in zip(headers[:3], widths, strict=False)) + "  " + headers[3]]
        for result, row in zip(self.results, rows, strict=False):
            lines.append("  ".join(c.ljust(w) for c, w in zip(row[:3], widths, strict=False)) + "  " + row[3])
            if result.fix and result.status is not Status.OK:
                lines.append(" " * (sum(widths) + 6) + f"fix: {result.fix}")
        lines += self.notes
        lines.append(self.summary_line())
        return "\n".join(lines)

    def as_json(self) -> str:
        return json.dumps(
            {
                "title": self.title,
                "passed": not self.failures,
                "exit_code": self.exit_code,
                # Field by field, not asdict(): that deep-copies each row, seconds for thousands of them.
                "results": [
                    {**{f.name: getattr(r, f.name) for f in fields(r)}, "status": r.status.value} for r in self.results
                ],
                "notes": self.notes,
            },
            indent=2,
        )

    def markdown(self) -> str:
        def cell(text: str) -> str:
            return text.replace("|", "\\|").replace("\n", " ")

        icon = {Status.OK: "✅", Status.FAIL: "❌", Status.WARN: "⚠️"}
        lines = [
            f"### {self.summary_line()}",
            "",
            "| check | status | subject | finding | fix |",
            "| --- | --- | --- | --- | --- |",
        ]
        for r in self.results:
            lines.append(
                f"| {cell(r.check)} | {icon[r.status]} {r.status.value} | {cell(r.subject)} | "
                f"{cell(r.finding)} | {cell(r.fix)} |"
            )
        lines += [""] + [f"- {cell(n)}" for n in self.notes]
        return "\n".join(lines) + "\n"


def emit(report: Report, *, as_json: bool = False, stream: TextIO | None = None) -> int:
    """Print the report, add it to the GitHub step summary if there is one, return the exit code."""
    stream = stream or sys.stdout
    print(report.as_json() if as_json else report.table(), file=stream)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as handle:
            handle.write(report.markdown())
    return report.exit_code


def run_tool(main: Callable[[], int]) -> int:
    """Run a tool's main, turning CannotCheck into exit 2 with a one-paragraph message."""
    import botocore.exceptions

    try:
        return main()
    except CannotCheck as error:
        print(f"could not check: {error}", file=sys.stderr)
        return EXIT_CANNOT_CHECK
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
        # Throttled past the retries, a service outage, an API this endpoint lacks:
        # the tool could not look, which says nothing about the estate.
        print(f"could not check: AWS answered with an error: {error}", file=sys.stderr)
        return EXIT_CANNOT_CHECK
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_CANNOT_CHECK
