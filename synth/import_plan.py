"""Write the file `pulumi import --file` takes over the live estate with (`make import-plan`).

    python -m synth.import_plan --stack development          # writes build/import-development.json
    python -m synth.import_plan --stack development --json   # also prints it on stdout

Renders the stack under the mocks (synth/program.py) and lists every resource it
declares that already exists in the live estate (core/importable.py), with the
import id each type expects and the program's logical name and parents
(core/import_plan.py). The record cannot give every id: those stay in the file as
`<FILL IN record.path>`, and the tool lists each with how to find it.

Exit codes: 0 the file is ready to import; 1 written, but not usable yet (ids to
fill in, or the stack is not pointed at the live estate's account and region);
2 the stack cannot be rendered or the file cannot be written.
No AWS account, no Pulumi CLI.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import sys
from pathlib import Path

import pulumi

from core.cutover_diff import CutoverDiff, Mismatch, compare
from core.import_plan import ImportPlan, build_plan
from core.importable import Node
from core.live_estate import LIVE
from core.naming import PROJECT
from core.text_file import TextFileError, write_text
from synth.key_properties import short_type
from synth.mocks import Registered
from synth.program import PROJECT_DIR, Run, StackFileError, run_stack
from synth.quick_exit import exit_without_teardown

EXIT_OK, EXIT_FINDINGS, EXIT_CANNOT = 0, 1, 2
# The record the plan is made from (tests put a filled-in copy here).
ESTATE = LIVE


def nodes_of(run: Run) -> list[Node]:
    """The rendered resources as the core's nodes, each with its parent chain."""
    by_urn: dict[str, Registered] = {r.urn: r for r in run.resources if r.urn}
    made: dict[int, Node] = {}

    def node(resource: Registered) -> Node:
        if id(resource) not in made:
            parent = by_urn.get(resource.parent_urn)
            made[id(resource)] = Node(
                type=resource.type,
                name=resource.name,
                inputs=resource.inputs,
                outputs={**resource.outputs, "id": resource.id},
                parent=node(parent) if parent is not None else None,
                custom=resource.custom,
                ignore_changes=resource.ignore_changes,
            )
        return made[id(resource)]

    return [node(r) for r in run.resources]


def provider_version() -> str | None:
    """The pulumi-aws the program runs: the import uses the same provider, so the state agrees."""
    try:
        return importlib.metadata.version("pulumi_aws")
    except importlib.metadata.PackageNotFoundError:
        return None


def plan_for(stack: str) -> tuple[Run, list[Node], ImportPlan]:
    run = run_stack(stack)
    nodes = nodes_of(run)
    plan = build_plan(nodes, stack=stack, project=PROJECT, estate=ESTATE, provider_version=provider_version())
    return run, nodes, plan


def diff_of(run: Run, nodes: list[Node], plan: ImportPlan) -> CutoverDiff:
    """The cutover diff of a plan (core/cutover_diff.py), against the stack's own account and region."""
    outputs = run.outputs
    account, region = str(outputs.get("account_id")), str(outputs.get("region"))
    return compare(plan, nodes, account_id=account, region=region, estate=ESTATE)


def summary(plan: ImportPlan, problems: tuple[Mismatch, ...], out: str) -> str:
    lines = [f"{PROJECT} {plan.stack}: pulumi import --file {out}"]
    if not plan.is_live_estate:
        lines.append(
            f"  nothing to import: the stack's ECS cluster is not the live estate's ({ESTATE.cluster.name.value}); "
            "everything it declares is created"
        )
    width = max((len(e.name) for e in plan.entries), default=0)
    for entry in plan.entries:
        parent = f"  (under {entry.parent})" if entry.parent else ""
        if entry.counterpart is None:
            lines.append(f"  component  {entry.name.ljust(width)}  {entry.node.type}{parent}")
        else:
            lines.append(
                f"  import     {entry.name.ljust(width)}  {short_type(entry.node.type)} {entry.counterpart.subject}: "
                f"{entry.counterpart.import_id.text}{parent}"
            )
    for problem in problems:
        lines.append(
            f"NOT USABLE: the stack deploys to {problem.what} {problem.stack}, the live estate is in {problem.live} "
            f"({problem.record_path}): pulumi import would look in the wrong {problem.what}. Point the stack at the "
            f"live estate (hokusai:account_id, aws:region and the credentials) and run this again."
        )
    unfilled = plan.unfilled
    if unfilled:
        lines.append(
            f"{len(unfilled)} id(s) to fill in before the file is usable: run each `find` with the estate's "
            "credentials, record the answer in core/live_estate.py (the Placeholder at that path becomes a Fact) "
            "and run this again:"
        )
        for entry, part in unfilled:
            lines += [
                f"  - {entry.name} ({entry.node.type}): {part}",
                f"      what: {part.what}",
                f"      find: {part.how_to_find}",
            ]
    elif plan.imported and not problems:
        lines.append(f"ready: {len(plan.imported)} resource(s) to import")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m synth.import_plan", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", default="development", help="stack name (reads Pulumi.<stack>.yaml)")
    parser.add_argument("--out", type=Path, help="where to write the import file (default build/import-<stack>.json)")
    parser.add_argument("--json", action="store_true", help="also print the import file on stdout (the rest on stderr)")
    args = parser.parse_args(argv)
    try:
        run, nodes, plan = plan_for(args.stack)
    except (StackFileError, pulumi.RunError) as error:
        print(f"cannot plan the import of stack '{args.stack}':\n{error}", file=sys.stderr)
        return EXIT_CANNOT
    out = args.out or PROJECT_DIR / "build" / f"import-{args.stack}.json"
    document = json.dumps(plan.document(), indent=2) + "\n"
    try:
        write_text(out, document, what="the import file")
    except TextFileError as error:
        print(f"cannot plan the import of stack '{args.stack}': {error}", file=sys.stderr)
        return EXIT_CANNOT
    problems = diff_of(run, nodes, plan).mismatches
    shown = out.relative_to(PROJECT_DIR) if out.is_relative_to(PROJECT_DIR) else out
    text = summary(plan, problems, str(shown))
    if args.json:
        print(document, end="")
        print(text, file=sys.stderr)
    else:
        print(text)
    return EXIT_FINDINGS if plan.unfilled or problems else EXIT_OK


if __name__ == "__main__":
    exit_without_teardown(main())
