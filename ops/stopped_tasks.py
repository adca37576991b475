"""stopped-tasks: why a service's tasks stopped recently, and what to do about each.

    python -m ops.stopped_tasks --stack development [--outputs outputs.json] [--service api] [--json]

ECS keeps a stopped task for about an hour. Each one is judged by the stop-reason
table verify and the deploy gate share (core/rollout.py): routine (a deployment or
scale-in replaced it, someone stopped it, AWS retired its host), a failure (with
what to do), or a reason the table does not know (shown, since it may be the cause).

Exit 0: no task stopped for a failure. 1: at least one did. 2: could not look
(credentials, network, outputs). The cluster and service come from the stack's
outputs, as for verify; it needs only docs/verify-policy.json.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core import rollout
from ops.aws import Aws, translate_errors
from ops.outputs import add_estate_arguments, load_estate, one_service
from ops.report import Report, Result, emit, fail, ok, run_tool, warn

# What one look describes: ECS lists at most 100 per page, and on-call reads a screenful.
LIMIT = 20


def judged(task: rollout.StoppedTask) -> Result:
    subject = f"{task.task_arn.rsplit('/', 1)[-1]} ({task.revision})"
    kind, meaning = rollout.classify_stop(task)
    if kind is rollout.StopKind.ROUTINE:
        return ok("tasks.stopped", subject, f"routine: {task.describe()} ({meaning})")
    if kind is rollout.StopKind.FAILURE:
        return fail("tasks.stopped", subject, f"stopped: {task.describe()}", meaning)
    return warn("tasks.stopped", subject, f"stopped: {task.describe()}", meaning)


def stopped_tasks(stack: str, *, outputs: Path | None = None, service: str = "api", aws: Aws | None = None) -> Report:
    estate = load_estate(stack, outputs)
    declared = one_service(estate, service)
    aws = aws or Aws(region=estate.region)
    with translate_errors(f"listing the stopped tasks of {declared.service_name}"):
        tasks = rollout.recent_stopped_tasks(aws.client("ecs"), estate.cluster_name, declared.service_name, LIMIT)
    report = Report(f"stopped tasks of {declared.service_name} ({stack}, {estate.region})")
    report.extend(judged(task) for task in tasks)
    if not tasks:
        report.results.append(
            ok(
                "tasks.stopped",
                declared.service_name,
                "no task stopped in the last hour or so (ECS keeps them that long)",
            )
        )
    report.notes.append(f"newest first, at most {LIMIT}; routine stops are shown as ok")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.stopped_tasks", description=__doc__.split("\n\n")[0])
    add_estate_arguments(parser)
    parser.add_argument("--service", default="api", help="the service's key (default: api)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    return run_tool(
        lambda: emit(stopped_tasks(args.stack, outputs=args.outputs, service=args.service), as_json=args.json)
    )


if __name__ == "__main__":
    sys.exit(main())
