"""What the first `pulumi preview` after the import will change on the live resources (`make import-diff`).

    python -m synth.import_diff --stack development          # the report
    python -m synth.import_diff --stack development --json   # the same, as JSON

For every resource the import takes over (synth/import_plan.py), every property
the program sets differently from the recorded live value (core/cutover_diff.py):
updated in place, or replaced, and whether a Difference of the record justifies
the replacement. This is the list to hold the real `pulumi preview --diff`
against before `pulumi up` (RUNBOOK.md, "Cutover from the hand-managed estate").

Exit codes: 0 no replacement of a live resource the record does not justify;
1 at least one (or the stack does not point at the live estate's account and
region); 2 the stack cannot be rendered. No AWS account, no Pulumi CLI.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys

import pulumi

from core.cutover_diff import CutoverDiff
from core.import_plan import ImportPlan
from core.naming import PROJECT
from synth.import_plan import EXIT_CANNOT, EXIT_FINDINGS, EXIT_OK, diff_of, plan_for
from synth.key_properties import short_type
from synth.program import StackFileError
from synth.quick_exit import exit_without_teardown


def diff_for(stack: str) -> tuple[ImportPlan, CutoverDiff]:
    run, nodes, plan = plan_for(stack)
    return plan, diff_of(run, nodes, plan)


def report(plan: ImportPlan, diff: CutoverDiff) -> str:
    lines = [
        f"{PROJECT} {plan.stack}: what pulumi preview will change on the {len(plan.imported)} imported resource(s)"
    ]
    for mismatch in diff.mismatches:
        lines.append(
            f"NOT THE LIVE ESTATE: the stack deploys to {mismatch.what} {mismatch.stack}, the live estate is in "
            f"{mismatch.live} ({mismatch.record_path})"
        )
    sections = (
        ("replaced (delete, then create)", diff.replacements),
        ("updated in place", diff.in_place),
    )
    for title, changes in sections:
        lines.append(f"{title}: {len(changes)}")
        for change in sorted(changes, key=lambda c: (c.resource, c.path)):
            verdict = ""
            if change.replaces and change.justified_by:
                verdict = f"  [justified: {change.justified_by}]"
            elif change.replaces:
                verdict = (
                    "  [NOT JUSTIFIED: the replacement it follows is not]"
                    if change.cause
                    else f"  [NOT JUSTIFIED: no Difference of the record names {change.record_path}]"
                )
            cause = f" ({change.cause})" if change.cause else ""
            lines.append(
                f"  {short_type(change.type)} {change.resource} ({change.subject}) {change.path}: "
                f"{change.live} -> {change.program}{cause}{verdict}"
            )
    lines.append(f"not compared yet (the record has a placeholder): {len(diff.uncompared)}")
    for item in diff.uncompared:
        risk = "would REPLACE if it differs" if item.replaces_if_different else "in place if it differs"
        lines.append(f"  {short_type(item.type)} {item.resource} {item.path}: fill {item.unfilled.label} ({risk})")
    if diff.ignored:
        lines.append(f"kept as they are live (the program ignores changes to them): {len(diff.ignored)}")
        lines += [f"  {item.resource} {item.path}: {item.live}" for item in diff.ignored]
    if diff.left_alone:
        lines.append(f"live resources the stack does not take over (they stay as they are): {len(diff.left_alone)}")
        lines += [f"  {item.subject} ({item.record_path})" for item in diff.left_alone]
    unjustified = diff.unjustified_replacements
    verdict = (
        f"{len(unjustified)} replacement(s) of a live resource the record does not justify"
        if unjustified
        else "no replacement of a live resource the record does not justify"
    )
    lines.append(verdict + (", and the stack is not the live estate's account/region" if diff.mismatches else ""))
    return "\n".join(lines)


def as_json(plan: ImportPlan, diff: CutoverDiff) -> str:
    def rows(items: tuple) -> list[dict]:
        return [dataclasses.asdict(item) for item in items]

    return json.dumps(
        {
            "stack": plan.stack,
            "imported": [e.name for e in plan.imported],
            "replaced": rows(diff.replacements),
            "in_place": rows(diff.in_place),
            "uncompared": rows(diff.uncompared),
            "ignored": rows(diff.ignored),
            "mismatches": rows(diff.mismatches),
            "left_alone": rows(diff.left_alone),
            "unjustified_replacements": len(diff.unjustified_replacements),
        },
        indent=2,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m synth.import_diff", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", default="development", help="stack name (reads Pulumi.<stack>.yaml)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    try:
        plan, diff = diff_for(args.stack)
    except (StackFileError, pulumi.RunError) as error:
        print(f"cannot compare stack '{args.stack}' with the live estate:\n{error}", file=sys.stderr)
        return EXIT_CANNOT
    print(as_json(plan, diff) if args.json else report(plan, diff))
    return EXIT_FINDINGS if diff.unjustified_replacements or diff.mismatches else EXIT_OK


if __name__ == "__main__":
    exit_without_teardown(main())
