"""logs: a service's recent log lines, found from its stack.

    python -m ops.logs --stack development [--outputs outputs.json] [--service api] [--since 15m]
                       [--match PATTERN] [--limit 200] [--json]

The log group comes from the stack's outputs, as for verify. --match is a
CloudWatch Logs filter pattern: '"HuggingFace token not configured"' for a phrase,
ERROR for a word. The newest --limit lines of the window are printed, oldest first,
one per line: `<time UTC>  <stream>  <message>` (control characters shown as '?',
so a log line cannot drive the terminal). Nothing else goes to stdout.

Exit 0: the logs were read (whether or not a line matched). 2: could not read them
(credentials, network, outputs, a bad --since or --limit).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import deque
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ops.aws import Aws, translate_errors
from ops.outputs import add_estate_arguments, load_estate, one_service
from ops.report import CannotCheck, run_tool

SINCE = re.compile(r"([1-9][0-9]{0,3})([smhd])")
SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# CloudWatch searches a window this long quickly enough to wait for; older lines are for Logs Insights.
MAX_WINDOW_SECONDS = 7 * 86400
MAX_LIMIT = 10_000
# Each page is one FilterLogEvents call over the window; this bounds a run over a busy group.
MAX_PAGES = 50
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def window_seconds(since: str) -> int:
    match = SINCE.fullmatch(since)
    if not match or int(match.group(1)) * SECONDS[match.group(2)] > MAX_WINDOW_SECONDS:
        raise CannotCheck(f"--since {since!r} is not a window up to 7 days: a number and a unit, e.g. 30s, 15m, 2h, 1d")
    return int(match.group(1)) * SECONDS[match.group(2)]


def recent_lines(
    stack: str,
    *,
    outputs: Path | None = None,
    service: str = "api",
    since: str = "15m",
    match: str | None = None,
    limit: int = 200,
    aws: Aws | None = None,
) -> tuple[str, list[dict[str, Any]], bool]:
    """(log group, the newest `limit` events of the window oldest first, whether the search was cut short)."""
    seconds = window_seconds(since)
    if not 1 <= limit <= MAX_LIMIT:
        raise CannotCheck(f"--limit {limit} is not between 1 and {MAX_LIMIT}")
    estate = load_estate(stack, outputs)
    group = one_service(estate, service).log_group_name
    aws = aws or Aws(region=estate.region)
    logs = aws.client("logs")
    request: dict[str, Any] = {"logGroupName": group, "startTime": int((time.time() - seconds) * 1000)}
    if match:
        request["filterPattern"] = match
    newest: deque[dict[str, Any]] = deque(maxlen=limit)
    with translate_errors(f"reading {group}"):
        for _ in range(MAX_PAGES):
            page = logs.filter_log_events(**request)
            newest.extend(page.get("events") or [])
            if not page.get("nextToken"):
                return group, sorted(newest, key=lambda e: e.get("timestamp", 0)), False
            request["nextToken"] = page["nextToken"]
    return group, sorted(newest, key=lambda e: e.get("timestamp", 0)), True


def line(event: dict[str, Any]) -> str:
    stamp = datetime.fromtimestamp(event.get("timestamp", 0) / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")
    message = _CONTROL.sub("?", str(event.get("message", "")).rstrip("\n"))
    return f"{stamp}  {event.get('logStreamName', '')}  {message}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.logs", description=__doc__.split("\n\n")[0])
    add_estate_arguments(parser)
    parser.add_argument("--service", default="api", help="the service's key (default: api)")
    parser.add_argument("--since", default="15m", help="how far back: 30s, 15m, 2h, 1d (at most 7d; default 15m)")
    parser.add_argument("--match", help="a CloudWatch Logs filter pattern, e.g. '\"HuggingFace token not configured\"'")
    parser.add_argument("--limit", type=int, default=200, help=f"the newest lines to show (1-{MAX_LIMIT}; default 200)")
    parser.add_argument("--json", action="store_true", help="print the lines as JSON")
    args = parser.parse_args(argv)

    def run() -> int:
        group, events, cut = recent_lines(
            args.stack,
            outputs=args.outputs,
            service=args.service,
            since=args.since,
            match=args.match,
            limit=args.limit,
        )
        if args.json:
            print(json.dumps({"log_group": group, "since": args.since, "match": args.match, "events": events}))
        else:
            for event in events:
                print(line(event))
        print(f"{len(events)} line(s) of {group} from the last {args.since}", file=sys.stderr)
        if cut:
            print(
                f"stopped after {MAX_PAGES} pages: narrow --since or --match to see the newest lines", file=sys.stderr
            )
        return 0

    return run_tool(run)


if __name__ == "__main__":
    sys.exit(main())
