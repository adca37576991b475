"""task-env: what a task-definition revision gives its container, by name, judged against the stack.

    python -m ops.task_env --stack development [--outputs outputs.json] [--service api] [--revision N] [--json]

Without --revision, the revision the service's PRIMARY deployment runs (what
customers get); with it, that revision of the service's family: the question
before an emergency rollback ("does revision 150 have the secret?"). It lists each
secret with where it is read from and the plain settings' NAMES, never a value, and
judges them as verify does (core/contract.py, the stack's declared valueFrom).

Exit 0: the revision has what the contract requires. 1: it does not (a secret missing
or read from elsewhere, a setting missing, a credential in plain environment).
2: could not look (credentials, network, outputs, no such revision).
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import sys
from pathlib import Path
from typing import Any

from core import rollout
from core.contract import CONTRACTS
from ops.aws import Aws, error_code, translate_errors
from ops.collect import ServiceSnapshot, Snapshot
from ops.outputs import add_estate_arguments, load_estate, one_service
from ops.report import CannotCheck, Report, emit, ok, run_tool
from ops.verify_checks import check_task_definition

REVISION = re.compile(r"[1-9][0-9]{0,6}")


def task_env(
    stack: str,
    *,
    outputs: Path | None = None,
    service: str = "api",
    revision: str | None = None,
    aws: Aws | None = None,
) -> Report:
    if revision is not None and not REVISION.fullmatch(revision):
        raise CannotCheck(f"revision {revision!r} is not a revision number: pass the n of <family>:<n>, e.g. 150")
    estate = load_estate(stack, outputs)
    declared = one_service(estate, service)
    aws = aws or Aws(region=estate.region)
    ecs = aws.client("ecs")
    with translate_errors(f"reading {declared.task_family}'s task definition"):
        if revision is None:
            found = ecs.describe_services(cluster=estate.cluster_name, services=[declared.service_name])
            primary = rollout.primary_deployment(next(iter(found.get("services") or []), None))
            if primary is None:
                raise CannotCheck(f"{declared.service_name} has no PRIMARY deployment: pass --revision")
            wanted = primary["taskDefinition"]
        else:
            wanted = f"{declared.task_family}:{revision}"
        definition = _describe(ecs, wanted)
    arn = definition["taskDefinitionArn"]
    # verify's own judgement of a revision, pointed at this one.
    snapshot = ServiceSnapshot(task_definitions={arn: definition})
    world = Snapshot(services={service: snapshot}, secrets={}, alarms={}, security_group_rules=None)
    at = dataclasses.replace(declared, task_definition_arn=arn)
    report = Report(f"{rollout.revision_of(arn)}: what its container {declared.container_name!r} gets ({stack})")
    # The fixes name the stack they are about, so they can be pasted as they are.
    report.extend(
        dataclasses.replace(r, fix=r.fix.replace("<stack>", stack))
        for r in check_task_definition(at, CONTRACTS[service], snapshot, world)
    )
    container: dict[str, Any] = next(
        (c for c in definition.get("containerDefinitions") or [] if c.get("name") == declared.container_name), {}
    )
    names = sorted(e.get("name", "") for e in container.get("environment") or [])
    report.results.append(
        ok(
            "taskdef.environment",
            rollout.revision_of(arn),
            f"plain settings (names only): {', '.join(names) or 'none'}",
        )
    )
    report.notes.append(f"registered {definition.get('registeredAt', '?')} by {definition.get('registeredBy', '?')}")
    return report


def _describe(ecs: Any, task_definition: str) -> dict[str, Any]:
    try:
        return ecs.describe_task_definition(taskDefinition=task_definition)["taskDefinition"]
    except Exception as error:
        if error_code(error) in ("ClientException", "InvalidParameterException"):
            raise CannotCheck(
                f"there is no task definition {task_definition}: list the family's revisions with "
                f"`aws ecs list-task-definitions --family-prefix {task_definition.split(':')[0].rsplit('/', 1)[-1]}`"
            ) from None
        raise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.task_env", description=__doc__.split("\n\n")[0])
    add_estate_arguments(parser)
    parser.add_argument("--service", default="api", help="the service's key (default: api)")
    parser.add_argument("--revision", help="a revision number of the service's family (default: the running one)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)

    def run() -> int:
        report = task_env(args.stack, outputs=args.outputs, service=args.service, revision=args.revision)
        return emit(report, as_json=args.json)

    return run_tool(run)


if __name__ == "__main__":
    sys.exit(main())
