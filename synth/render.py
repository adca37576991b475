"""Render a stack offline (`make synth`): run the program under the recording
mocks, check the graph's invariants, print every resource with its key
properties, and write what would be deployed to build/<stack>.json.

    python -m synth.render --stack development          # the table
    python -m synth.render --stack development --json   # the whole rendering, for machines

No AWS account, no Pulumi CLI. Adopted things (secrets, the ALB listener) are
assumed to exist; `pulumi preview` checks that for real.
Exit codes: 0 rendered and sound; 1 the graph breaks an invariant;
2 the stack cannot be rendered (bad config, missing stack file).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pulumi

from core.naming import PROJECT
from core.text_file import TextFileError, write_text
from core.wire_values import plain
from synth.checks import check_graph, register_task_definition_params
from synth.key_properties import route_values, short_type, table
from synth.mocks import of_type
from synth.program import PROJECT_DIR, Run, StackFileError, run_stack
from synth.quick_exit import exit_without_teardown


def render(stack: str) -> tuple[Run, list]:
    run = run_stack(stack)
    return run, check_graph(run.resources, run.outputs)


def document(stack: str, run: Run) -> dict[str, Any]:
    """What is written to build/<stack>.json: outputs, then every resource."""
    return {
        "stack": stack,
        "outputs": {"estate": run.outputs},
        # Sorted: the engine registers resources concurrently, in no fixed order.
        "resources": [
            {"type": r.type, "name": r.name, "inputs": plain(r.inputs)}
            for r in sorted(run.resources, key=lambda r: (r.type, r.name))
        ],
    }


def summary(stack: str, run: Run, findings: list) -> str:
    estate = run.outputs
    lines = [
        f"{PROJECT} {stack}: {len(run.resources)} resources in {estate.get('region')} "
        f"(account {estate.get('account_id')}), cluster {estate.get('cluster_name')}",
    ]
    for service in estate.get("services", []):
        task = next(
            r
            for r in of_type(run, "aws:ecs/taskDefinition:TaskDefinition")
            if r.inputs.get("family") == service["task_family"]
        )
        container = register_task_definition_params(task)["containerDefinitions"][0]
        routes = [
            r for r in of_type(run, "aws:lb/listenerRule:ListenerRule") if r.name.startswith(f"{service['key']}-route-")
        ]
        lines += [
            f"  service {service['service_name']}  (task {service['task_family']}, "
            f"{task.inputs['cpu']} CPU / {task.inputs['memory']} MiB, container {service['container_name']}:"
            f"{service['container_port']}, {service['discovery_name']})",
            f"    secrets  {', '.join(s['name'] for s in container.get('secrets', []))}  (valueFrom: Secrets Manager ARNs)",
            f"    settings {', '.join(e['name'] for e in container.get('environment', []))}",
            "    routes   " + "; ".join(_route(r.inputs) for r in sorted(routes, key=lambda r: r.inputs["priority"])),
            f"    logs     {service['log_group_name']}: {len(service['metric_filters'])} metric filters, "
            f"{len(service['alarm_names'])} alarms ({len(service['deployment_alarm_names'])} roll deployments back)",
        ]
        exceptions = service.get("exceptions") or {}
        lines.append(
            "    relaxed  "
            + ("; ".join(f"{name}: {reason}" for name, reason in sorted(exceptions.items())) or "no secure default")
        )
        gate = next(
            (
                r
                for r in of_type(run, "pulumi-python:dynamic:Resource")
                if r.inputs.get("service_name") == service["service_name"]
            ),
            None,
        )
        lines.append(
            "    deploy   circuit breaker and alarms roll back; "
            + (
                f"the deploy gate fails `pulumi up` unless {service['task_family']} lands within "
                f"{int(gate.inputs['timeout_seconds'])} s"
                if gate
                else "deploy gate off"
            )
        )
    for dependency in estate.get("dependencies", []):
        consumers = ", ".join(sorted(dependency["consumer_security_group_ids"]))
        lines.append(
            f"  reaches  {dependency['name']}: "
            + (
                f"{dependency['security_group_id']}:{dependency['port']} admits {consumers}"
                if dependency["security_group_id"]
                else f"over HTTPS ({dependency['port']}), no rule"
            )
        )
    counts = Counter(r.type for r in run.resources if r.type.startswith("aws:"))
    lines.append("  resources: " + ", ".join(f"{n} {short_type(t)}" for t, n in sorted(counts.items())))
    if findings:
        lines.append(f"{len(findings)} invariant(s) broken:")
        lines += [f"  - {f}" for f in findings]
    else:
        lines.append(
            "invariants: all hold (secrets, IAM grant, network, dependencies, deploy safety, observability, "
            "ECS API shape)"
        )
    return "\n".join(lines)


def _route(inputs: dict[str, Any]) -> str:
    return f"{int(inputs['priority'])}: {' '.join(route_values(inputs))}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m synth.render", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", default="development", help="stack name (reads Pulumi.<stack>.yaml)")
    parser.add_argument("--out", type=Path, help="where to write the rendering (default build/<stack>.json)")
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the whole rendering (outputs and every resource's inputs) as JSON instead of the table",
    )
    args = parser.parse_args(argv)
    try:
        run, findings = render(args.stack)
    except (StackFileError, pulumi.RunError) as error:
        print(f"cannot render stack '{args.stack}':\n{error}", file=sys.stderr)
        return 2
    out = args.out or PROJECT_DIR / "build" / f"{args.stack}.json"
    rendered = json.dumps(document(args.stack, run), indent=2, sort_keys=True) + "\n"
    try:
        write_text(out, rendered, what="the rendering")
    except TextFileError as error:
        print(f"cannot render stack '{args.stack}': {error}", file=sys.stderr)
        return 2
    if args.json:
        print(rendered, end="")
        for finding in findings:
            print(f"invariant broken: {finding}", file=sys.stderr)
    else:
        print(table(run.resources))
        print()
        print(summary(args.stack, run, findings))
        print(f"wrote {out.relative_to(PROJECT_DIR) if out.is_relative_to(PROJECT_DIR) else out}")
    return 1 if findings else 0


if __name__ == "__main__":
    exit_without_teardown(main())
