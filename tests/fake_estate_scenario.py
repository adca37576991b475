"""The fake estate from start to stop, run once per test session the way a new user
meets it (README: "Trying verify by hand, without AWS"):

    make fake-estate MOTO_PORT=<free port>      # moto_server, then `python -m synth.fake_estate seed`
    make fake-estate MOTO_PORT=<same port>      # again: reuses the server, resets it, seeds again
    make verify OUTPUTS=...                     # the healthy copy: exit 0
    make break FAILURE=redis-rule-removed       # the incident's Redis drift
    make verify OUTPUTS=...  (and JSON=1)       # exit 1, the finding and its fix
    make fake-estate-reset                      # a clean copy
    make verify OUTPUTS=...                     # exit 0 again
    make break FAILURE=huggingface-errors-logged  # the incident's log lines
    make logs OUTPUTS=... MATCH="..."           # the on-call views, through make
    make task-env OUTPUTS=...
    make fake-estate-stop                       # the server is gone
    make break FAILURE=redis-rule-removed       # exit 2: no fake estate runs

Every step is a process (make, then the tool), reaching the server only through
AWS_ENDPOINT_URL: nothing is mocked inside the commands. Two test files read the one
record: tests/ops/test_verify_server.py (what verify prints over HTTP) and
tests/test_makefile.py (the make lifecycle: exit codes, pid file, reuse, reset, stop).

It is about 8 s of CPU (moto_server, three seeds, four verify runs; measured before the
on-call views' three steps were added), so it runs once per session, not once per xdist
worker, and beside the other tests rather than in front of one: `SharedRun` lets the first process that needs it run it in a thread of its own (the
steps are subprocesses, so that process goes on with other tests); the others wait for
its record, a JSON file in the session's temporary directory. (pytest-xdist's
`--dist loadgroup` would keep the tests on one worker, but with pytest 9.2 it silently
stops grouping: pytest-xdist issue #1386.)

FAKE_DIR starts with the render cached, as after an earlier session in the same checkout
(`seed` keeps it there): the process that runs the scenario renders the stack itself
first, in its main thread, in a fraction of the 3 s a seed's own render takes (pulumi and
the program are loaded there already). A seed without a cached render is
tests/synth/test_fake_estate.py's to check.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import os
import signal
import threading
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.commands import Ran, clean_env, command_of, estate_env, free_port, make

FAILURE = "redis-rule-removed"
# The on-call views' step: the incident's log lines, and a filter pattern with quotes and spaces.
LOGGED_FAILURE = "huggingface-errors-logged"
LOGGED_LINE = "HuggingFace token not configured"


@dataclass(frozen=True)
class Scenario:
    """What each step printed and returned, and what the test saw between steps."""

    port: int
    directory: str  # FAKE_DIR: the pid file, the server's log, the outputs
    started: Ran
    pid: int | None  # from the pid file after the first start
    server_command: str  # the command line of that pid while it ran
    seeded_outputs: dict[str, Any]  # the outputs file right after the first seed
    seeded_api_service: dict[str, Any] | None  # the api service as the server described it then
    restarted: Ran
    pid_after_restart: int | None
    healthy: Ran
    broken: Ran
    broken_verify: Ran
    broken_verify_json: Ran
    reset: Ran
    reset_verify: Ran
    errors_logged: Ran  # make break FAILURE=huggingface-errors-logged, on the clean copy
    logs: Ran  # make logs MATCH="HuggingFace token not configured"
    task_env: Ran
    stopped: Ran
    pid_file_after_stop: bool
    server_command_after_stop: str
    break_after_stop: Ran

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), default=str)

    @classmethod
    def from_json(cls, text: str) -> Scenario:
        values = json.loads(text)
        for field in dataclasses.fields(cls):
            if field.type == "Ran":
                values[field.name] = Ran(**values[field.name])
        return cls(**values)


def read_pid(directory: Path) -> int | None:
    try:
        return int((directory / "moto.pid").read_text())
    except (OSError, ValueError):
        return None


def describe_api_service(port: int, outputs: dict[str, Any]) -> dict[str, Any] | None:
    """The api service the outputs name, as the server at `port` describes it (None if it cannot)."""
    import boto3

    try:
        estate = outputs["estate"]
        (api,) = [s for s in estate["services"] if s["key"] == "api"]
        ecs = boto3.client(
            "ecs",
            endpoint_url=f"http://127.0.0.1:{port}",
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        (found,) = ecs.describe_services(cluster=estate["cluster_name"], services=[api["service_name"]])["services"]
        return found
    except Exception:  # the tests say what is missing; a failed start must not hide the other steps
        return None


def run_scenario(directory: Path, base_env: Mapping[str, str]) -> Scenario:
    """Every step in order, each recorded whatever the one before did; the server is
    stopped at the end, by the scenario's own stop step or, failing that, here.
    `base_env`: the environment to start from, taken before any test could change it."""
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    where = [f"MOTO_PORT={port}", f"FAKE_DIR={directory}"]
    outputs_file = directory / "fake-outputs.json"
    outputs = f"OUTPUTS={outputs_file}"
    # make fake-estate and friends need no AWS settings; verify gets what the README says to export.
    plain, with_endpoint = clean_env(base_env), estate_env(port, base_env)

    def run(*args: str, with_aws: bool = False) -> Ran:
        return make(*args, env=with_endpoint if with_aws else plain)

    try:
        started = run("fake-estate", *where)
        pid = read_pid(directory)
        server_command = command_of(pid) if pid else ""
        try:
            seeded_outputs = json.loads(outputs_file.read_text())
        except (OSError, ValueError):
            seeded_outputs = {}
        seeded_api_service = describe_api_service(port, seeded_outputs)
        restarted = run("fake-estate", *where)
        pid_after_restart = read_pid(directory)
        healthy = run("verify", outputs, with_aws=True)
        broken = run("break", f"FAILURE={FAILURE}", f"FAKE_DIR={directory}")
        broken_verify = run("verify", outputs, with_aws=True)
        broken_verify_json = run("verify", outputs, "JSON=1", with_aws=True)
        reset = run("fake-estate-reset", f"FAKE_DIR={directory}")
        reset_verify = run("verify", outputs, with_aws=True)
        errors_logged = run("break", f"FAILURE={LOGGED_FAILURE}", f"FAKE_DIR={directory}")
        logs = run("logs", outputs, f'MATCH="{LOGGED_LINE}"', with_aws=True)
        task_env = run("task-env", outputs, with_aws=True)
        stopped = run("fake-estate-stop", f"FAKE_DIR={directory}")
        return Scenario(
            port=port,
            directory=str(directory),
            started=started,
            pid=pid,
            server_command=server_command,
            seeded_outputs=seeded_outputs,
            seeded_api_service=seeded_api_service,
            restarted=restarted,
            pid_after_restart=pid_after_restart,
            healthy=healthy,
            broken=broken,
            broken_verify=broken_verify,
            broken_verify_json=broken_verify_json,
            reset=reset,
            reset_verify=reset_verify,
            errors_logged=errors_logged,
            logs=logs,
            task_env=task_env,
            stopped=stopped,
            pid_file_after_stop=(directory / "moto.pid").exists(),
            server_command_after_stop=command_of(pid) if pid else "",
            break_after_stop=run("break", f"FAILURE={FAILURE}", f"FAKE_DIR={directory}"),
        )
    finally:
        stop_whatever_runs(directory, plain)


def stop_whatever_runs(directory: Path, env: Mapping[str, str]) -> None:
    """Leave no server behind: the stop target, then SIGKILL if its pid file is still there."""
    if read_pid(directory) is None:
        return
    make("fake-estate-stop", f"FAKE_DIR={directory}", env=dict(env))
    pid = read_pid(directory)
    if pid is not None and "moto_server" in command_of(pid):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


class SharedRun:
    """One run of the scenario for all the processes of a test session (xdist workers):
    the first to `start` runs it in a thread and writes its record; `result` waits for
    the record, wherever it is being made. Coordinated by an flock on a file in
    `shared_dir`, a directory every worker of the session sees."""

    def __init__(self, shared_dir: Path):
        self.shared_dir = shared_dir
        self.record = shared_dir / "fake-estate-scenario.json"
        self.lock = shared_dir / "fake-estate-scenario.lock"
        self.directory = shared_dir / "fake-estate"  # FAKE_DIR
        # Taken now, before any test runs: a test's monkeypatched variable (PULUMI_CONFIG,
        # AWS_ENDPOINT_URL, ...) must not leak into the commands of a thread running beside it.
        self.base_env = dict(os.environ)
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        """Run it in the background, unless this or another process already does or did."""
        from synth.fake_estate import rendering

        if self.thread is not None:
            return
        lock = os.open(self.lock, os.O_CREAT | os.O_RDWR, 0o644)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(lock)  # another process runs it
            return
        if self.record.exists():
            os.close(lock)  # another process ran it
            return
        try:
            # Here, not in the thread: the Pulumi runtime's state is global to the process.
            rendering("development", self.directory / "render-development.json")
        except BaseException:
            os.close(lock)
            raise
        self.thread = threading.Thread(target=self._run, args=(lock,), name="fake-estate-scenario", daemon=True)
        self.thread.start()

    def _run(self, lock: int) -> None:
        try:
            try:
                text = run_scenario(self.directory, self.base_env).to_json()
            except BaseException:  # a timeout, say: every reader must see why, not wait or rerun
                text = json.dumps({"error": traceback.format_exc()})
            partial = self.record.with_suffix(".partial")
            partial.write_text(text)
            partial.replace(self.record)
        finally:
            os.close(lock)  # releases the flock: the waiting processes read the record

    def result(self) -> Scenario:
        """The record, once it exists (started here if nobody has started it)."""
        self.start()
        if self.thread is not None:
            self.thread.join()
        else:
            lock = os.open(self.lock, os.O_CREAT | os.O_RDWR, 0o644)
            try:
                fcntl.flock(lock, fcntl.LOCK_EX)  # blocks while another process runs it
            finally:
                os.close(lock)
        try:
            text = self.record.read_text()
        except OSError:
            raise AssertionError(f"the fake-estate scenario left no record in {self.record}") from None
        if "error" in (fields := json.loads(text)):
            raise AssertionError(f"the fake-estate scenario did not finish:\n{fields['error']}")
        return Scenario.from_json(text)

    def finish(self) -> None:
        """At the end of the session: wait for a run this process started (it stops its server)."""
        if self.thread is not None:
            self.thread.join()
