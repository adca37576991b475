"""How long the test suite takes, the way CI runs it.

    .venv/bin/python bench/suite_time.py [--runs 5] [--idle 0.85] [--max-wait 600] [-- command ...]

The issue: "the suite runs in at most 20 s on the 2-core machine (43-47 s before).
Measure it and record the figure." This runs the command (default `make test`, the
fast tier of the tests, as `.ci/run` does first, with .venv already set up; `-- make
test-all` times both tiers) from the repository root several times and prints each
wall time and the median, with the machine it ran on.

Other work on the machine counts in a wall time, so before each run it waits until
the CPUs have been at least --idle idle over 3 s (at most --max-wait seconds; then it
runs anyway and says so), and after each run it prints how much CPU time the rest of
the machine used meanwhile (all busy time, from /proc/stat, minus this command's own
processes): a run the rest of the machine shared is not the suite's time. The median
is of the runs that others left at least --clean of the CPUs to (all runs if none).
bench/README.md ("Test suite") records a run.

The CPUs of these VMs also run at very different speeds from one minute to the next (the
same pure-Python loop took 1.6 s and 2.3 s a minute apart, on an otherwise idle machine),
which no idle check sees. So around each run a fixed loop is timed (the speed probe), and
the median is also given scaled to the fastest probe of the session: what the runs would
have taken had the CPUs been that fast throughout.

Exit 0 when every run passed, 1 when one failed (the figure would mean nothing), 2 when
it could not run (bad options, a command that does not exist, no /proc/stat).
No verdict on the time: a timing depends on the machine, so no test asserts one.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CPUS = os.cpu_count() or 1


def cpu_times() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    ticks = os.sysconf("SC_CLK_TCK")
    # user nice system idle iowait irq softirq steal [guest guest_nice]: the guest times are
    # counted in user and nice already, so they are left out of the total.
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields) - idle) / ticks, sum(fields) / ticks


def idle_share(seconds: float) -> float:
    busy0, total0 = cpu_times()
    time.sleep(seconds)
    busy1, total1 = cpu_times()
    return min(max(1 - (busy1 - busy0) / max(total1 - total0, 1e-9), 0.0), 1.0)


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


PROBE_LOOPS = 3_000_000


def speed_probe() -> float:
    """Seconds a fixed pure-Python loop takes (about 0.2-0.3 s): how fast the CPUs are now."""
    start = time.perf_counter()
    total = 0
    for number in range(PROBE_LOOPS):
        total += number
    return time.perf_counter() - start


def wait_for_idle(threshold: float, max_wait: float) -> float:
    """The idle share when it reached `threshold`, or the last one seen after `max_wait` s."""
    deadline = time.monotonic() + max_wait
    while (idle := idle_share(3.0)) < threshold and time.monotonic() < deadline:
        pass
    return idle


def count(text: str) -> int:
    value = int(text) if text.strip().isdigit() else 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of runs: give a whole number, 1 or more")
    return value


def share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a share of the CPUs: give a number from 0 to 1, e.g. 0.85")
    return value


def seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds: give 0 or more, e.g. 60")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/suite_time.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=count, default=5, help="how many times to run the command (default 5)")
    parser.add_argument(
        "--idle", type=share, default=0.85, help="wait until the CPUs are this idle over 3 s (0-1, default 0.85)"
    )
    parser.add_argument(
        "--max-wait",
        type=seconds,
        default=600.0,
        help="seconds to wait for an idle machine before each run, then run anyway and say so (default 600; 0: no wait)",
    )
    parser.add_argument(
        "--clean", type=share, default=0.9, help="a run is clean if others used under 1 - this of the CPUs (0-1)"
    )
    parser.add_argument(
        "command",
        nargs="*",
        default=["make", "test"],
        help="what to time, after -- if it has options (default: make test)",
    )
    args = parser.parse_args(argv)
    if not Path("/proc/stat").exists():
        parser.error("needs Linux's /proc/stat to tell the suite's CPU time from the rest of the machine's")

    print(f"machine: {CPUS} CPUs ({cpu_model()}), Python {platform.python_version()}, {platform.system()}")
    print(f"PYTHONDONTWRITEBYTECODE={os.environ.get('PYTHONDONTWRITEBYTECODE', '')!r}")
    print(f"command: {' '.join(args.command)}  (from {ROOT})")
    runs, failed = [], False
    for number in range(1, args.runs + 1):
        idle = wait_for_idle(args.idle, args.max_wait)
        if idle < args.idle:
            print(f"run {number}: the CPUs were only {idle:.0%} idle after {args.max_wait:.0f} s; running anyway")
        probe_before = speed_probe()
        busy0, own0, start = cpu_times()[0], own_cpu(), time.perf_counter()
        try:
            done = subprocess.run(args.command, cwd=ROOT, capture_output=True, text=True)
        except OSError as error:
            print(f"bench/suite_time.py: cannot run {' '.join(args.command)!r}: {error.strerror}", file=sys.stderr)
            return 2
        elapsed, own, busy = time.perf_counter() - start, own_cpu() - own0, cpu_times()[0] - busy0
        others = max(busy - own, 0.0) / (elapsed * CPUS)  # share of all CPUs the rest of the machine took
        probe = (probe_before + speed_probe()) / 2
        runs.append((elapsed, others, probe))
        failed |= done.returncode != 0
        print(
            f"run {number}: {elapsed:.1f} s, exit {done.returncode}, its CPU {own:.1f} s; idle before "
            f"{idle:.0%}, others took {others:.0%} of the CPUs meanwhile; speed probe {probe * 1000:.0f} ms",
            flush=True,
        )
        if done.returncode != 0:
            print(done.stdout[-3000:], done.stderr[-2000:], sep="\n", file=sys.stderr)
    clean = [(t, probe) for t, others, probe in runs if others <= 1 - args.clean]
    counted, label = (clean, f"{len(clean)} clean run(s)") if clean else ([(t, p) for t, _, p in runs], "all runs")
    walls = [t for t, _ in counted]
    fastest = min(p for _, _, p in runs)
    scaled = [t * fastest / p for t, p in counted]
    print(
        f"median of {label} of {len(runs)}: {statistics.median(walls):.1f} s (min {min(walls):.1f}, max {max(walls):.1f})"
    )
    print(
        f"scaled to the fastest speed probe ({fastest * 1000:.0f} ms): median {statistics.median(scaled):.1f} s "
        f"(min {min(scaled):.1f}, max {max(scaled):.1f})"
    )
    if not clean:
        print("no run was clean (the rest of the machine was busy): not the suite's time alone")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
