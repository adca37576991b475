"""How many AWS calls `verify` makes as the stack grows from 1 to 16 services.

    .venv/bin/python bench/verify_calls.py          (from the repository root)

The issue: "batch the AWS calls (the call count must grow linearly with
services, not with checks x services) and record the count". For N = 1, 2, 4,
8, 16 services this renders the stack with N services, seeds a copy into moto
(in-process `mock_aws`), runs verify against it and prints, as Markdown tables
(bench/README.md records them):

- N, total calls, marginal calls per added service, wall time of the verify run
  (median of a few runs), peak Python memory of a verify run (tracemalloc);
- calls per operation at every N, and whether each is per cluster (constant),
  batched (ceil(items / batch size)), per distinct secret, or per service.

It exits 1 when the counts stop fitting that model, so a change that makes a
batched call per service, adds a per-service call, or calls per service per
check, fails this script instead of shipping unnoticed. Exit 0: the model holds.

Benchmark-only tricks (nothing here changes the program or the tools):

- The contract knows two services, `api` and `mlflow`, and the settings loader
  refuses any other key. This process registers N aliases of the API contract
  (`api1` .. `apiN`, identical to `api` except their key) by mutating
  core.contract.CONTRACTS in place. The loader, the program and verify's checks
  imported that same dict object (asserted below), so they all see the aliases.
- The stack config is Pulumi.development.yaml with its `api` service copied to
  api1..apiN, each with its own route (a listener rule priority must be unique).
- The secrets are the API's four, shared by name by every alias (the settings
  loader allows a secret shared the same way): DescribeSecret therefore stays at
  4 calls here. In an estate whose services have their own secrets it is one call
  per distinct secret.
- The copy runs in in-process moto with one boto3 Session for every run, so
  botocore's service models load once and the timings compare verify, not setup.
"""

from __future__ import annotations

import dataclasses
import math
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a file (`python bench/verify_calls.py`): make the repository importable
    sys.path.insert(0, str(ROOT))

# Before boto3 is imported: only moto may answer. A shell still holding the
# `make fake-estate` exports would otherwise send the calls to its moto_server
# (AWS_ENDPOINT_URL), and a profile must never point this at a real account.
for _name in [n for n in os.environ if n.startswith("AWS_")]:
    del os.environ[_name]
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        # moto reports this many running tasks per service: the development desired count.
        "MOTO_ECS_SERVICE_RUNNING": "2",
        # moto would otherwise load thousands of AMIs into every fresh EC2 backend.
        "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
    }
)

import boto3  # noqa: E402
from moto import mock_aws  # noqa: E402

from bench.aliases import register_aliases, stack_config  # noqa: E402
from core.estate import Estate  # noqa: E402
from ops.aws import Aws  # noqa: E402
from ops.verify import verify  # noqa: E402
from synth.fake_estate import seed  # noqa: E402
from synth.program import read_stack_file, run_program  # noqa: E402

SIZES = (1, 2, 4, 8, 16)
STACK = "development"
REGION = "us-east-1"
REPEATS = 3  # verify runs timed per N (the median is reported); verify is read-only, so they see the same estate

# Per-service calls verify may make (no AWS API batches them): DescribeTaskDefinition,
# DescribeTargetHealth, ListRolePolicies + GetRolePolicy + ListAttachedRolePolicies,
# DescribeLogGroups + DescribeMetricFilters. Raising it is a decision: update bench/README.md.
PER_SERVICE_BUDGET = 7


@dataclasses.dataclass(frozen=True)
class Shape:
    """What the batched calls are counted in, for one seeded estate."""

    services: int
    running_tasks: int
    stopped_tasks: int
    target_groups: int
    alarms: int
    secrets: int
    # the groups verify reads the rules of: each dependency's, and each service reaching one
    security_groups: int


# Operations counted in something other than services: the calls expected for a shape.
# The batched ones take as many identifiers per call as the API allows (its documented maximum).
BY_ITEMS: dict[str, tuple[str, Callable[[Shape], int]]] = {
    "ecs:DescribeServices": ("batched: 10 services per call", lambda s: math.ceil(s.services / 10)),
    "ecs:DescribeTasks": (
        "batched: 100 tasks per call, per status listed",
        lambda s: math.ceil(s.running_tasks / 100) + math.ceil(s.stopped_tasks / 100),
    ),
    "elbv2:DescribeTargetGroups": ("batched: 20 target groups per call", lambda s: math.ceil(s.target_groups / 20)),
    "cloudwatch:DescribeAlarms": ("batched: 100 alarm names per call", lambda s: math.ceil(s.alarms / 100)),
    # No batch API describes secrets (BatchGetSecretValue reads values, which verify never does).
    "secretsmanager:DescribeSecret": ("one per distinct secret (here 4, shared by every service)", lambda s: s.secrets),
    "ec2:DescribeSecurityGroupRules": (
        "batched: 100 security groups per call (the dependencies' and their consumers')",
        lambda s: math.ceil(s.security_groups / 100),
    ),
}


@dataclasses.dataclass
class Measured:
    n: int
    shape: Shape
    calls: Counter[str]
    wall_seconds: float
    peak_bytes: int


def shape_of(estate: Estate, ecs: Any) -> Shape:
    def tasks(status: str) -> int:
        pages = ecs.get_paginator("list_tasks").paginate(cluster=estate.cluster_name, desiredStatus=status)
        return sum(len(page["taskArns"]) for page in pages)

    return Shape(
        services=len(estate.services),
        running_tasks=tasks("RUNNING"),
        stopped_tasks=tasks("STOPPED"),
        target_groups=len({s.target_group_arn for s in estate.services}),
        alarms=len({name for s in estate.services for name in s.alarm_names}),
        secrets=len({arn for s in estate.services for arn in s.secret_arns.values()}),
        security_groups=len(
            {d.security_group_id for d in estate.dependencies if d.security_group_id}
            | {
                s.security_group_id
                for s in estate.services
                if any(d.security_group_id and d.name in s.dependencies for d in estate.dependencies)
            }
        ),
    )


def measure(n: int, base: dict[str, Any], secret_keys: list[str], session: boto3.Session, workdir: Path) -> Measured:
    values = stack_config(base, n)
    run = run_program(values, stack=STACK, secret_keys=secret_keys)
    outputs = workdir / f"outputs-{n}.json"
    with mock_aws():  # a fresh, empty account for each N
        fake = seed(run, session=session)
        fake.write(outputs)

        counts, times = [], []
        for _ in range(REPEATS):
            aws = Aws(region=REGION, session=session)
            started = time.perf_counter()
            report = verify(STACK, outputs=outputs, aws=aws)
            times.append(time.perf_counter() - started)
            if report.exit_code != 0:
                sys.exit(
                    f"verify did not pass on the seeded copy with {n} services: the counts would not be "
                    f"those of a healthy estate\n{report.table()}"
                )
            counts.append(aws.calls)
        # One more run for memory: tracemalloc slows Python down, so it is not timed.
        # The peak includes moto answering in-process: an upper bound on verify's own.
        aws = Aws(region=REGION, session=session)
        tracemalloc.start()
        verify(STACK, outputs=outputs, aws=aws)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        counts.append(aws.calls)
        if any(c != counts[0] for c in counts):
            sys.exit(f"verify made different calls on the same estate ({n} services): {counts}")
        estate = Estate.from_outputs(fake.outputs)
        shape = shape_of(estate, fake.client("ecs"))
    return Measured(n=n, shape=shape, calls=counts[0], wall_seconds=statistics.median(times), peak_bytes=peak)


def classify(results: list[Measured]) -> tuple[dict[str, str], dict[str, int], list[str]]:
    """Each operation's kind, the per-service slope of the unbatched ones, and what breaks the model."""
    problems: list[str] = []
    kinds: dict[str, str] = {}
    slopes: dict[str, int] = {}
    operations = sorted({op for r in results for op in r.calls})
    first, second = results[0], results[1]
    for op in operations:
        if op in BY_ITEMS:
            label, expected = BY_ITEMS[op]
            kinds[op] = label
            for r in results:
                if r.calls[op] != expected(r.shape):
                    problems.append(
                        f"{op}: {r.calls[op]} calls for {r.n} services, expected {expected(r.shape)} ({label})"
                    )
            continue
        # Unbatched: exactly a + b*N at every N (constant marginal calls per service).
        slope = (second.calls[op] - first.calls[op]) // (second.n - first.n)
        fixed = first.calls[op] - slope * first.n
        slopes[op] = slope
        kinds[op] = (
            "per cluster (constant)"
            if slope == 0
            else ("per service" if fixed == 0 and slope == 1 else f"{fixed} + {slope} per service")
        )
        for r in results:
            if r.calls[op] != fixed + slope * r.n:
                problems.append(
                    f"{op}: {r.calls[op]} calls for {r.n} services, not the {fixed} + {slope} x N of "
                    f"N = {first.n} and {second.n}: it does not grow linearly with the services"
                )
    unbatched = [sum(r.calls[op] for op in slopes) for r in results]
    marginals = {
        (b - a) / (r2.n - r1.n) for a, b, r1, r2 in zip(unbatched, unbatched[1:], results, results[1:], strict=False)
    }
    if len(marginals) != 1:
        problems.append(f"the unbatched calls per added service are not constant across N: {sorted(marginals)}")
    if sum(slopes.values()) > PER_SERVICE_BUDGET:
        grown = {op: s for op, s in slopes.items() if s}
        problems.append(f"{sum(slopes.values())} calls per service, over the budget of {PER_SERVICE_BUDGET}: {grown}")
    return kinds, slopes, problems


def print_tables(results: list[Measured], kinds: dict[str, str], slopes: dict[str, int]) -> None:
    print(
        "| services (N) | AWS calls | marginal calls per added service | verify wall time (median of "
        f"{REPEATS}) | peak memory (tracemalloc) |"
    )
    print("| ---: | ---: | ---: | ---: | ---: |")
    previous: Measured | None = None
    for r in results:
        total = sum(r.calls.values())
        marginal = "" if previous is None else (f"{(total - sum(previous.calls.values())) / (r.n - previous.n):.3g}")
        print(f"| {r.n} | {total} | {marginal} | {r.wall_seconds * 1000:.0f} ms | {r.peak_bytes / 2**20:.1f} MiB |")
        previous = r
    largest = results[-1]
    print()
    print(
        f"Calls per operation (the largest run: N = {largest.n}, {largest.shape.running_tasks} running tasks, "
        f"{largest.shape.alarms} alarms, {largest.shape.secrets} distinct secrets):"
    )
    print()
    print("| operation | " + " | ".join(f"N={r.n}" for r in results) + " | grows with |")
    print("| --- | " + " | ".join("---:" for _ in results) + " | --- |")
    order = sorted(kinds, key=lambda op: (slopes.get(op, 0) > 0, kinds[op], op))
    for op in order:
        print(f"| {op} | " + " | ".join(str(r.calls[op]) for r in results) + f" | {kinds[op]} |")
    fixed = sum(largest.calls[op] for op in kinds if slopes.get(op, 0) == 0)
    print()
    print(
        f"N = {largest.n}: {fixed} calls per cluster, batched or per secret, {sum(slopes.values())} per service "
        f"({', '.join(op for op, s in slopes.items() if s)})."
    )


def main() -> int:
    base, secret_keys = read_stack_file(STACK)
    register_aliases(max(SIZES), holders=("core.settings.services", "ops.verify_checks"))
    session = boto3.Session(region_name=REGION)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as workdir:
        results = [measure(n, base, secret_keys, session, Path(workdir)) for n in SIZES]
    kinds, slopes, problems = classify(results)
    print_tables(results, kinds, slopes)
    print(
        f"\n(render, seed and verify for every N: {time.perf_counter() - started:.1f} s; "
        f"Python {sys.version.split()[0]})"
    )
    if problems:
        print("\nthe call count no longer grows linearly with the services:", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    print("\nok: every unbatched call grows by a constant per service, every batched one by its batch size")
    return 0


if __name__ == "__main__":
    sys.exit(main())
