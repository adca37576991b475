"""verify: does the live estate match what the stack declared?

    python -m ops.verify --stack development [--outputs outputs.json] [--service api] [--logs] [--json]

`pulumi refresh` compares Pulumi's state with the cloud. It cannot see a
service still running an older revision after a rolled-back deployment, a
secret that exists but has no value, or a container logging "HuggingFace token
not configured". This looks at those, with Describe/List/Get calls only (it
never reads a secret value), finding the estate from the stack's `estate`
output and the contract.

Exit 0: all good. 1: findings (each with its fix). 2: could not check
(credentials, network, missing outputs). The read-only IAM policy it needs is
docs/verify-policy.json.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from ops.aws import Aws
from ops.collect import collect
from ops.outputs import add_estate_arguments, load_estate
from ops.report import CannotCheck, Report, emit, run_tool
from ops.verify_checks import run_checks


def verify(
    stack: str,
    *,
    outputs: Path | None = None,
    service: str | None = None,
    scan_logs: bool = False,
    aws: Aws | None = None,
) -> Report:
    estate = load_estate(stack, outputs)
    if service and service not in {s.key for s in estate.services}:
        raise CannotCheck(
            f"stack '{stack}' has no service '{service}' (it has: {', '.join(s.key for s in estate.services)})"
        )
    aws = aws or Aws(region=estate.region)
    snapshot = collect(aws, estate, scan_logs=scan_logs)
    report = Report(f"verify {stack} ({estate.region}, account {estate.account_id})")
    # The fixes name the stack they are about, so they can be pasted as they are.
    report.extend(replace(r, fix=r.fix.replace("<stack>", stack)) for r in run_checks(estate, snapshot, only=service))
    report.notes.append(f"{aws.call_count} AWS API calls for {len(estate.services)} service(s)")
    # Where to look next: each checked service's dashboard (a note, so --json stays one document).
    report.notes += [f"dashboard {s.key}: {s.dashboard_url}" for s in estate.services if service in (None, s.key)]
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.verify", description=__doc__.split("\n\n")[0])
    add_estate_arguments(parser)
    parser.add_argument("--service", help="check only this service (e.g. api)")
    parser.add_argument(
        "--logs", action="store_true", help="also search the last 15 minutes of logs for the failure signatures"
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)

    def run() -> int:
        report = verify(args.stack, outputs=args.outputs, service=args.service, scan_logs=args.logs)
        return emit(report, as_json=args.json)

    return run_tool(run)


if __name__ == "__main__":
    sys.exit(main())
