"""How long the offline render of the development stack takes, how much memory
it needs, where the time goes, and how both grow per added service.

    .venv/bin/python bench/synth.py          (from the repository root)

The issue: "a small benchmark script records the synth time and peak memory of
the development stack (target: under 1.0 s wall and 130 MiB on a 2-core
machine) and how it grows per added service". It prints, as Markdown tables
(bench/README.md records them):

1. The development stack exactly as a user renders it (`make synth`):
   `python -m synth.render --stack development --out <tmp>` as a subprocess,
   a few times; wall time (median, min) and peak RSS.
2. Growth per added service: `python bench/synth.py --child N` renders the stack
   with N copies of the API service (N = 1, 2, 4, 8, 16) and reports the time of
   the render itself; the table gives the marginal milliseconds and MiB per
   added service.
3. Where the development stack's time goes: interpreter start, `import pulumi`,
   botocore and the ECS API model, each pulumi_aws module the program uses, the
   render proper (program under the mocks, invariant checks, JSON) and the
   interpreter's exit, with the garbage collector's share of each.
4. The floor: the imports alone, and the render with the garbage collector
   tuned, so the README can say what would (and would not) reach the target.

Exit 0 whether or not the 1.0 s / 130 MiB targets are met (machines vary; the
verdict is printed). Exit 1 when the render's cost per added service is not
roughly constant (the marginal render time per service between N = 8 and 16
is more than 3x the marginal between N = 1 and 4): a regression check, like
bench/verify_calls.py's. Exit 2 when a render fails, so nothing could be measured.

How it measures, and why:

- Every measurement is a fresh process, because most of the cost is importing
  (pulumi, grpc, pulumi_aws) and a warm interpreter would hide it.
- Peak memory is the child's own ru_maxrss, read with os.wait4 on that child's
  pid. RUSAGE_CHILDREN would report the maximum over every child reaped so far,
  so the largest run would mask all the others.
- The children of part 2 and 3 import pulumi, botocore and the pulumi_aws
  modules up front, each timed, before the render. pulumi_aws loads a service
  module lazily on first attribute access, and that first access imports every
  resource class of the module, so the program's first `aws.ec2.SecurityGroup`
  would otherwise bill ~0.5 s of imports to the render.
- The N aliases follow bench/verify_calls.py: `api1`..`apiN` are the API's
  contract under other keys (and metric namespaces), registered by mutating
  core.contract.CONTRACTS in place (the settings loader and synth.checks hold
  that same dict: asserted).
  The two small helpers are repeated here rather than imported, because
  importing bench/verify_calls.py would load boto3 and moto into the measured
  process and scrub its AWS_* environment.
- Runs are interleaved across N (1, 2, 4, 8, 16, 1, 2, ...) so a slow spell on a
  shared machine spreads over every N instead of skewing one.
"""

from __future__ import annotations

import time

# A child reports when its own code started: the parent subtracts its spawn time
# to get the interpreter's start-up. Taken before any other import on purpose.
STARTED_AT = time.time()

import argparse  # noqa: E402
import contextlib  # noqa: E402
import dataclasses  # noqa: E402
import gc  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from collections.abc import Callable  # noqa: E402
from functools import partial  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a file (`python bench/synth.py`): make the repository importable
    sys.path.insert(0, str(ROOT))

from bench.aliases import register_aliases, stack_config  # noqa: E402

STACK = "development"
SIZES = (1, 2, 4, 8, 16)
RENDER_RUNS = 5  # part 1: renders timed (after one untimed warm-up)
GROWTH_RUNS = 3  # part 2: children per N (the median is reported)
BREAKDOWN_RUNS = 5  # part 3: children (the median of each phase is reported)
FLOOR_RUNS = 5  # part 4: processes per variant (the median is reported)

# The targets, for the development stack on a 2-core machine.
TARGET_SECONDS = 1.0
TARGET_MIB = 130.0
# Growth is "roughly linear" while the late marginal cost per service stays
# within this factor of the early one. Raising it is a decision: update bench/README.md.
LINEARITY_FACTOR = 3.0

# The pulumi_aws modules the program uses, each with one class to touch: the
# first attribute access is what imports the module (see the docstring).
# Part 3 warns when the program loads a module missing from this list.
AWS_MODULES = (
    ("ecs", "Cluster"),
    ("lb", "TargetGroup"),
    ("ec2", "SecurityGroup"),
    ("vpc", "SecurityGroupIngressRule"),
    ("iam", "Role"),
    ("cloudwatch", "LogGroup"),
    ("sns", "Topic"),
    ("servicediscovery", "PrivateDnsNamespace"),
    ("appautoscaling", "Target"),
    ("secretsmanager", "Secret"),
)


def _peak_mib(maxrss: int) -> float:
    """ru_maxrss is KiB on Linux, bytes on macOS."""
    return maxrss / (2**20 if sys.platform == "darwin" else 2**10)


def _own_peak_mib() -> float:
    return _peak_mib(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


# --------------------------------------------------------------------------- #
# Child side: runs in a fresh interpreter, prints one JSON line, exits.
# --------------------------------------------------------------------------- #


class GcClock:
    """Time spent in the cyclic garbage collector (gc.callbacks brackets every collection).

    Importing pulumi_aws creates thousands of classes and hundreds of thousands of
    objects; every few hundred allocations trigger a collection, and the older
    generations' collections traverse all of them: worth seeing apart.
    """

    def __init__(self) -> None:
        self.seconds = 0.0
        self._started = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._started


GC = GcClock()


@dataclasses.dataclass
class Phase:
    label: str
    seconds: float
    gc_seconds: float  # of which in the garbage collector
    peak_mib: float  # the process's peak RSS when the phase ended


def _timed(phases: list[Phase], label: str, step: Callable[[], Any]) -> Any:
    started, gc_before = time.perf_counter(), GC.seconds
    result = step()
    phases.append(Phase(label, time.perf_counter() - started, GC.seconds - gc_before, _own_peak_mib()))
    return result


def _first_access(aws: Any, module: str, cls: str) -> Any:
    return getattr(getattr(aws, module), cls)


def import_phases() -> list[Phase]:
    """Import what the render imports, in the order it does, one timed phase each."""
    phases: list[Phase] = []
    _timed(phases, "import pulumi", lambda: __import__("pulumi"))
    # synth.render imports synth.checks (botocore) before the program imports pulumi_aws.
    _timed(phases, "import botocore.session", lambda: __import__("botocore.session"))

    def ecs_model() -> None:
        # The same lru_cached function the checks call: the render then reuses the shape.
        from synth.checks import _register_task_definition_shape

        _register_task_definition_shape()

    _timed(phases, "ECS API model (RegisterTaskDefinition shape) + synth.checks", ecs_model)
    aws = _timed(phases, "import pulumi_aws (package: lazy module stubs)", lambda: __import__("pulumi_aws"))
    for module, cls in AWS_MODULES:
        _timed(phases, f"pulumi_aws.{module} (first access: {cls})", partial(_first_access, aws, module, cls))
    return phases


def child_growth(count: int) -> int:
    """`--child N`: render the stack with N API aliases; report imports and render time."""
    phases = import_phases()
    from synth.checks import check_graph
    from synth.program import read_stack_file, run_program

    base, secret_keys = read_stack_file(STACK)
    register_aliases(count, holders=("core.settings.services", "synth.checks"))
    values = stack_config(base, count)
    started = time.perf_counter()
    run = run_program(values, stack=STACK, secret_keys=secret_keys)
    findings = check_graph(run.resources, run.outputs)
    render_seconds = time.perf_counter() - started
    if findings or len(run.outputs.get("services", [])) != count:
        # A graph that breaks an invariant (or lost services) is not the stack being measured.
        print(
            f"the render with {count} services is not sound: {len(run.outputs.get('services', []))} services, "
            + "; ".join(map(str, findings)),
            file=sys.stderr,
        )
        return 1
    print(
        json.dumps(
            {
                "started_at": STARTED_AT,
                "imports": sum(p.seconds for p in phases),
                "render": render_seconds,
                "resources": len(run.resources),
                "finished_at": time.time(),
            }
        )
    )
    return 0


def child_breakdown() -> int:
    """`--child-breakdown`: the development stack's render (synth.render.main), phase by phase."""
    phases = import_phases()

    def render() -> int:
        from synth import render as render_module

        with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stdout(io.StringIO()):
            return render_module.main(["--stack", STACK, "--out", str(Path(tmp) / f"{STACK}.json")])

    code = _timed(phases, "render: project modules, program under mocks, checks, JSON", render)
    if code != 0:
        print(f"synth.render exited {code}", file=sys.stderr)
        return 1
    # A service module touched only by the program is billed to the render phase: name it.
    loaded = {m.split(".")[1] for m in sys.modules if m.startswith("pulumi_aws.") and m.count(".") >= 2}
    print(
        json.dumps(
            {
                "started_at": STARTED_AT,
                "phases": [dataclasses.asdict(p) for p in phases],
                "unlisted_modules": sorted(loaded - {m for m, _ in AWS_MODULES}),
                # What the interpreter's final collections at exit have to traverse.
                "tracked_objects": len(gc.get_objects()),
                "modules": len(sys.modules),
                "finished_at": time.time(),
            }
        )
    )
    return 0


# --------------------------------------------------------------------------- #
# Parent side
# --------------------------------------------------------------------------- #


@dataclasses.dataclass
class Child:
    wall: float  # spawn to reaped, seconds
    peak_mib: float  # the child's own ru_maxrss
    spawned_at: float  # time.time() just before the spawn
    exited_at: float  # time.time() just after it was reaped
    stdout: str


def spawn(args: list[str]) -> Child:
    """Run `python <args>` from the repository root; exit 2 if it fails."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        spawned_at = time.time()
        started = time.perf_counter()
        process = subprocess.Popen([sys.executable, *args], cwd=ROOT, stdout=out, stderr=err)
        # wait4 reaps this one child and returns its own resource usage (see the docstring).
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        exited_at = time.time()
        process.returncode = os.waitstatus_to_exitcode(status)  # reaped: Popen must not wait again
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if process.returncode != 0:
        sys.stdout.flush()
        print(
            f"`python {' '.join(args)}` exited {process.returncode}: nothing to measure\n{stdout}{stderr}",
            file=sys.stderr,
        )
        sys.exit(2)
    return Child(wall, _peak_mib(usage.ru_maxrss), spawned_at, exited_at, stdout)


def report_of(child: Child) -> dict[str, Any]:
    return json.loads(child.stdout.strip().splitlines()[-1])


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def measure_render(workdir: Path) -> tuple[list[Child], str]:
    """Part 1: the development stack as a user renders it."""
    args = ["-m", "synth.render", "--stack", STACK, "--out", str(workdir / f"{STACK}.json")]
    spawn(args)  # warm-up, not counted: a first run may read the ~18 MB of pulumi_aws bytecode from disk
    runs = [spawn(args) for _ in range(RENDER_RUNS)]
    lines = runs[-1].stdout.splitlines()
    from core.naming import PROJECT  # pure and small; the render's first line starts "<project> <stack>:"

    headline = next((line for line in lines if line.startswith(f"{PROJECT} {STACK}:")), lines[0])
    return runs, headline


@dataclasses.dataclass
class Growth:
    n: int
    resources: int
    wall: float
    imports: float
    render: float
    peak_mib: float


def measure_growth() -> list[Growth]:
    """Part 2: N = 1, 2, 4, 8, 16 services, each in its own process."""
    runs: dict[int, list[tuple[Child, dict[str, Any]]]] = {n: [] for n in SIZES}
    for _ in range(GROWTH_RUNS):
        for n in SIZES:  # interleaved (see the docstring)
            child = spawn([str(Path(__file__).relative_to(ROOT)), "--child", str(n)])
            runs[n].append((child, report_of(child)))
    results = []
    for n in SIZES:
        children, reports = [c for c, _ in runs[n]], [r for _, r in runs[n]]
        results.append(
            Growth(
                n=n,
                resources=reports[0]["resources"],
                wall=statistics.median(c.wall for c in children),
                imports=statistics.median(r["imports"] for r in reports),
                render=statistics.median(r["render"] for r in reports),
                peak_mib=statistics.median(c.peak_mib for c in children),
            )
        )
    return results


def marginal(results: list[Growth], attr: str, i: int) -> float:
    """Cost per added service between results[i - 1] and results[i]."""
    a, b = results[i - 1], results[i]
    return (getattr(b, attr) - getattr(a, attr)) / (b.n - a.n)


@dataclasses.dataclass
class Row:
    label: str
    seconds: float
    gc_seconds: float | None = None
    peak_mib: float | None = None


def measure_breakdown() -> tuple[list[Row], float, dict[str, Any]]:
    """Part 3: one row per phase (medians over the children), the median total, one child's report."""
    children = [spawn([str(Path(__file__).relative_to(ROOT)), "--child-breakdown"]) for _ in range(BREAKDOWN_RUNS)]
    reports = [report_of(c) for c in children]
    pairs = list(zip(children, reports, strict=False))
    rows = [
        Row("interpreter start (python, site)", statistics.median(r["started_at"] - c.spawned_at for c, r in pairs))
    ]
    for i, phase in enumerate(reports[0]["phases"]):
        rows.append(
            Row(
                phase["label"],
                statistics.median(r["phases"][i]["seconds"] for r in reports),
                statistics.median(r["phases"][i]["gc_seconds"] for r in reports),
                statistics.median(r["phases"][i]["peak_mib"] for r in reports),
            )
        )
    # From the JSON line to the process being reaped: module teardown and the final
    # garbage collections, which traverse every object the imports left behind.
    rows.append(
        Row(
            "interpreter exit (teardown, final garbage collections)",
            statistics.median(c.exited_at - r["finished_at"] for c, r in pairs),
            peak_mib=statistics.median(c.peak_mib for c in children),
        )
    )
    # This script's stdlib imports (after STARTED_AT), argument parsing, counting the
    # objects and modules, writing the JSON line: nothing a real render does.
    rows.append(
        Row(
            "this script's own imports and bookkeeping (not in a real render)",
            statistics.median(
                r["finished_at"] - r["started_at"] - sum(p["seconds"] for p in r["phases"]) for r in reports
            ),
        )
    )
    return rows, statistics.median(c.wall for c in children), reports[0]


# Part 4: what the floor is, and what would move it. Each variant is `python -c <code>`
# from the repository root; none changes a file.
def render_code(out: Path) -> str:
    """synth.render exactly as `-m` runs it, so a line of set-up can go before it."""
    return (
        f"import runpy, sys; sys.argv = ['synth.render', '--stack', {STACK!r}, '--out', {str(out)!r}]; "
        "runpy.run_module('synth.render', run_name='__main__', alter_sys=True)"
    )


def imports_code(modules: tuple[tuple[str, str], ...] = AWS_MODULES) -> str:
    """The render's imports alone; os._exit leaves without the teardown, so the wall is the imports."""
    return (
        "import os, pulumi, botocore.session, pulumi_aws as aws; "
        + "".join(f"aws.{module}.{cls}; " for module, cls in modules)
        + "os._exit(0)"
    )


GC_OFF = "import gc; gc.disable(); "
# gc.freeze() in an atexit handler moves every object to the permanent generation,
# so the collections during interpreter teardown have nothing to traverse.
FREEZE_AT_EXIT = "import atexit, gc; atexit.register(gc.freeze); "


def measure_floor(workdir: Path) -> list[tuple[str, float, float, float]]:
    """Part 4: (variant, median wall, min wall, max peak MiB); runs interleaved like part 2's."""
    render = render_code(workdir / f"{STACK}.json")
    variants = {
        "the render as it is (`python -m synth.render`, through runpy)": render,
        "the render, gc.freeze() at exit": FREEZE_AT_EXIT + render,
        "the render, garbage collector off, gc.freeze() at exit": GC_OFF + FREEZE_AT_EXIT + render,
        "imports only: pulumi, botocore, the ten pulumi_aws modules (no render, no teardown)": imports_code(),
        "imports only, garbage collector off": GC_OFF + imports_code(),
        "imports only, garbage collector off, without pulumi_aws.ec2": GC_OFF
        + imports_code(tuple(pair for pair in AWS_MODULES if pair[0] != "ec2")),
    }
    runs: dict[str, list[Child]] = {label: [] for label in variants}
    for _ in range(FLOOR_RUNS):
        for label, code in variants.items():
            runs[label].append(spawn(["-c", code]))
    return [
        (
            label,
            statistics.median(c.wall for c in children),
            min(c.wall for c in children),
            max(c.peak_mib for c in children),
        )
        for label, children in runs.items()
    ]


def main() -> int:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        renders, headline = measure_render(Path(tmp))
    walls = [r.wall for r in renders]
    peaks = [r.peak_mib for r in renders]
    wall, peak = statistics.median(walls), max(peaks)
    print(f"## 1. `python -m synth.render --stack {STACK}` ({RENDER_RUNS} runs after one warm-up)\n")
    print(f"{headline}\n")
    print("| wall (median) | wall (min) | wall (max) | peak RSS (max of runs) | target |")
    print("| ---: | ---: | ---: | ---: | --- |")
    print(
        f"| {ms(wall)} | {ms(min(walls))} | {ms(max(walls))} | {peak:.1f} MiB | "
        f"{TARGET_SECONDS:g} s, {TARGET_MIB:g} MiB |"
    )
    time_met, memory_met = wall < TARGET_SECONDS, peak < TARGET_MIB
    print(
        f"\ntime target ({TARGET_SECONDS:g} s): {'met' if time_met else 'NOT met'}; "
        f"memory target ({TARGET_MIB:g} MiB): {'met' if memory_met else 'NOT met'}"
    )

    results = measure_growth()
    print(
        f"\n## 2. Growth per added service (`--child N`: N copies of the API service; "
        f"median of {GROWTH_RUNS} processes)\n"
    )
    print(
        "| services (N) | resources | total wall | imports | render only | peak RSS | "
        "marginal render per added service | marginal RSS per added service |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for i, r in enumerate(results):
        extra = (
            "| | "
            if i == 0
            else f"| {marginal(results, 'render', i) * 1000:.0f} ms | {marginal(results, 'peak_mib', i):.2f} MiB "
        )
        print(
            f"| {r.n} | {r.resources} | {ms(r.wall)} | {ms(r.imports)} | {ms(r.render)} | {r.peak_mib:.1f} MiB {extra}|"
        )
    per_service_resources = (results[-1].resources - results[0].resources) / (results[-1].n - results[0].n)
    fixed_resources = results[0].resources - per_service_resources * results[0].n
    print(
        f"\nresources = {fixed_resources:g} + {per_service_resources:g} per service; "
        f"render time and RSS per service from N = {results[0].n} to {results[-1].n}: "
        f"{marginal([results[0], results[-1]], 'render', 1) * 1000:.0f} ms, "
        f"{marginal([results[0], results[-1]], 'peak_mib', 1):.2f} MiB"
    )
    headroom = (TARGET_MIB - results[0].peak_mib) / marginal([results[0], results[-1]], "peak_mib", 1)
    print(f"services that fit under {TARGET_MIB:g} MiB at that slope: {int(results[0].n + headroom)}")

    rows, total, report = measure_breakdown()
    print(f"\n## 3. Where the development stack's time goes (`--child-breakdown`, median of {BREAKDOWN_RUNS})\n")
    print("| phase | time | share | of which garbage collector | peak RSS when done |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for row in rows:
        print(
            f"| {row.label} | {ms(row.seconds)} | {row.seconds / total:.0%} | "
            f"{'' if row.gc_seconds is None else ms(row.gc_seconds)} | "
            f"{'' if row.peak_mib is None else f'{row.peak_mib:.1f} MiB'} |"
        )
    print(f"| **total (process wall)** | **{ms(total)}** | | | |")
    aws = sum(r.seconds for r in rows if r.label.startswith("pulumi_aws"))
    imports = sum(r.seconds for r in rows if r.label.startswith(("import", "ECS", "pulumi_aws")))
    print(
        f"\nimports: {ms(imports)} ({imports / total:.0%}), of which pulumi_aws {ms(aws)}; "
        f"{report['modules']} modules and {report['tracked_objects']:,} GC-tracked objects at exit"
    )
    if report["unlisted_modules"]:
        print(
            f"note: the program also loads pulumi_aws {', '.join(report['unlisted_modules'])}: add them to "
            "AWS_MODULES (their import is billed to the render phase above)"
        )

    with tempfile.TemporaryDirectory() as tmp:
        floor = measure_floor(Path(tmp))
    print(f"\n## 4. The floor, and what would move it (`python -c`, {FLOOR_RUNS} runs each)\n")
    print("| variant | wall (median) | wall (min) | median vs the render as it is | peak RSS |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for label, seconds, fastest, peak_mib in floor:
        print(
            f"| {label} | {ms(seconds)} | {ms(fastest)} | {(seconds - floor[0][1]) * 1000:+.0f} ms | "
            f"{peak_mib:.1f} MiB |"
        )

    # The regression check: the cost of one more service must not grow with the services.
    # Early slope over N = 1..4 (three added services: one alone is within the noise of
    # a shared machine), late slope over the last step (8..16).
    early = marginal([results[0], results[2]], "render", 1)
    late = marginal(results, "render", len(results) - 1)
    print(
        f"\n(all four parts: {time.perf_counter() - started:.0f} s; Python {sys.version.split()[0]}, "
        f"{os.cpu_count()} CPUs)"
    )
    a, b = results[-2].n, results[-1].n
    if late > LINEARITY_FACTOR * max(early, 0.001):
        print(
            f"\nthe render's cost per added service grows with the services: {late * 1000:.0f} ms per service "
            f"between N = {a} and {b}, over {LINEARITY_FACTOR:g}x the {early * 1000:.0f} ms between N = "
            f"{results[0].n} and {results[2].n}",
            file=sys.stderr,
        )
        return 1
    print(
        f"\nok: {late * 1000:.0f} ms per added service between N = {a} and {b}, {early * 1000:.0f} ms between "
        f"N = {results[0].n} and {results[2].n} (limit {LINEARITY_FACTOR:g}x): the render grows linearly "
        "with the services"
    )
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="bench/synth.py", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--child", type=int, metavar="N", help="(internal) render the stack with N API services and print one JSON line"
    )
    parser.add_argument(
        "--child-breakdown",
        action="store_true",
        help="(internal) render the development stack phase by phase and print one JSON line",
    )
    options = parser.parse_args()
    if options.child is not None:
        sys.exit(child_growth(options.child))
    if options.child_breakdown:
        sys.exit(child_breakdown())
    sys.exit(main())
