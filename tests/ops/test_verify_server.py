"""verify end to end, the way a new user meets it (`make fake-estate`, then `make verify`):
the commands run as processes against a moto_server on 127.0.0.1, reached only
through AWS_ENDPOINT_URL. Nothing is called in-process and nothing is mocked
inside the commands, so this is the test of the standard AWS settings
(endpoint, credentials, region) and of the exit codes and output a person sees.

One moto_server and one seeded copy of the development stack for the module.
The states follow each other through fixtures (seeded -> checked healthy ->
broken), so any single test, or `-k` selection, sees the state it needs.
Measured on two cores: 8-10 s for the module, most of it `seed` (3.5-4.5 s: it
imports Pulumi, renders the stack, and each moto backend starts on its first
call); the server starts in about 1 s, and each verify or break takes under 1 s.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

from core.stack_file import read_stack_file

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parents[2]  # the repository root: `python -m ops.verify` runs from here
REGION = "us-east-1"
STACK = "development"
# What the stack file says the copy holds: its account, and how many services verify checks.
_STACK_VALUES, _ = read_stack_file(STACK)
ACCOUNT = str(_STACK_VALUES["hokusai:account_id"])
SERVICE_COUNT = len(_STACK_VALUES["hokusai:services"])
SERVER_START_TIMEOUT = 30.0  # seconds; moto_server normally answers in 1-2 s
COMMAND_TIMEOUT = 120.0  # seconds per command: a hang fails the test instead of the CI job


@dataclass(frozen=True)
class Server:
    endpoint: str
    log: Path


@dataclass(frozen=True)
class Ran:
    """A finished command, printable in an assertion message."""

    args: list[str]
    code: int
    stdout: str
    stderr: str

    def __str__(self) -> str:
        return (
            f"$ {' '.join(self.args)}\nexit {self.code}\n--- stdout ---\n{self.stdout}\n--- stderr ---\n{self.stderr}"
        )


def free_port() -> int:
    """A port nothing listens on now: bind to port 0 and let the kernel choose."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def without_aws_settings() -> dict[str, str]:
    """This process's environment minus anything that could point the commands somewhere
    else: every AWS_* (profile, endpoint, per-service endpoints, tokens, config files)
    and the GitHub step summary the report would otherwise append to."""
    return {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "GITHUB_STEP_SUMMARY"}


def moto_server_command(port: int) -> list[str]:
    # The console script installed next to this interpreter (.venv/bin/moto_server);
    # the module it wraps if the layout differs.
    script = Path(sys.executable).parent / "moto_server"
    launcher = [str(script)] if script.exists() else [sys.executable, "-m", "moto.server"]
    return launcher + ["-H", "127.0.0.1", "-p", str(port)]


def wait_until_answering(process: subprocess.Popen, url: str, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while True:
        if process.poll() is not None:
            pytest.fail(
                f"moto_server exited with {process.returncode} before answering on {url}:\n"
                f"{log.read_text(errors='replace')}",
                pytrace=False,
            )
        try:
            with urllib.request.urlopen(url, timeout=1):
                answered = True
        except urllib.error.HTTPError:
            answered = True  # it answered, even if not with 200
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            answered = False
        # Answered, and by our process: had another program taken the port first, ours would have exited.
        if answered and process.poll() is None:
            return
        if time.monotonic() > deadline:
            pytest.fail(
                f"moto_server did not answer on {url} within {SERVER_START_TIMEOUT:.0f} s:\n"
                f"{log.read_text(errors='replace')}",
                pytrace=False,
            )
        time.sleep(0.1)


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    """moto_server on 127.0.0.1 and a free port, stopped whatever happens."""
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "moto_server.log"
    env = without_aws_settings() | {
        # moto reports this many running tasks for a new service: the development desired count.
        "MOTO_ECS_SERVICE_RUNNING": "2",
        # moto would otherwise load thousands of AMIs into the EC2 backend on its first call.
        "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
    }
    # A file, not a pipe: moto logs every request, and a pipe nobody reads fills up and blocks it.
    with log.open("wb") as sink:
        process = subprocess.Popen(
            moto_server_command(port),
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        endpoint = f"http://127.0.0.1:{port}"
        wait_until_answering(process, f"{endpoint}/moto-api/", log)
        yield Server(endpoint=endpoint, log=log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="module")
def user_env(server: Server) -> dict[str, str]:
    """What the README tells a user to export, and nothing else from AWS."""
    return without_aws_settings() | {
        "AWS_ENDPOINT_URL": server.endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        # No ~/.aws of whoever runs the tests: a profile or endpoint there must not decide the result.
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }


def run(env: dict[str, str], *args: str) -> Ran:
    command = [sys.executable, "-m", *args]
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=COMMAND_TIMEOUT, stdin=subprocess.DEVNULL
    )
    return Ran(args=["python", "-m", *args], code=done.returncode, stdout=done.stdout, stderr=done.stderr)


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("stack") / "outputs.json"


@pytest.fixture(scope="module")
def seeded(user_env, outputs) -> Ran:
    """`python -m synth.fake_estate seed`: a copy of the development stack in moto_server."""
    return run(user_env, "synth.fake_estate", "seed", "--stack", STACK, "--outputs", str(outputs))


@pytest.fixture(scope="module")
def healthy_verify(seeded, user_env, outputs) -> Ran:
    assert seeded.code == 0, seeded
    return run(user_env, "ops.verify", "--stack", STACK, "--outputs", str(outputs))


@pytest.fixture(scope="module")
def broken(healthy_verify, user_env, outputs) -> Ran:
    """The incident's Redis drift, injected after the healthy run (which it depends on, so
    the healthy run always sees the unbroken copy)."""
    return run(user_env, "synth.fake_estate", "break", "redis-rule-removed", "--outputs", str(outputs))


@pytest.fixture(scope="module")
def broken_verify(broken, user_env, outputs) -> Ran:
    assert broken.code == 0, broken
    return run(user_env, "ops.verify", "--stack", STACK, "--outputs", str(outputs))


@pytest.fixture(scope="module")
def broken_verify_json(broken, user_env, outputs) -> Ran:
    assert broken.code == 0, broken
    return run(user_env, "ops.verify", "--stack", STACK, "--outputs", str(outputs), "--json")


# --- the tests --------------------------------------------------------------------


def test_seed_builds_the_copy_in_the_server_at_the_endpoint(seeded, outputs, server):
    # GIVEN a moto_server reached only through AWS_ENDPOINT_URL
    # WHEN the user seeds a copy of the development stack
    # THEN the command succeeds, without the "fewer running tasks" warning
    assert seeded.code == 0, seeded
    assert "seeded a copy of stack development" in seeded.stdout, seeded
    assert "fewer running tasks" not in seeded.stderr, seeded
    # AND the outputs name what the server now holds (so the endpoint, not some account, was used)
    estate = json.loads(outputs.read_text())["estate"]
    ecs = boto3.client(
        "ecs",
        endpoint_url=server.endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    (api,) = [s for s in estate["services"] if s["key"] == "api"]
    (found,) = ecs.describe_services(cluster=estate["cluster_name"], services=[api["service_name"]])["services"]
    assert found["status"] == "ACTIVE" and found["taskDefinition"] == api["task_definition_arn"]


def test_verify_passes_on_the_healthy_copy(healthy_verify):
    # WHEN the user verifies the untouched copy
    # THEN exit 0, the table is printed and says passed
    assert healthy_verify.code == 0, healthy_verify
    out = healthy_verify.stdout
    assert out.splitlines()[0].split() == ["check", "status", "subject", "finding"], healthy_verify
    assert f"verify development (us-east-1, account {ACCOUNT}): passed (" in out, healthy_verify
    assert " FAIL " not in out and "fix:" not in out, healthy_verify
    assert f"AWS API calls for {SERVICE_COUNT} service(s)" in out, healthy_verify
    assert healthy_verify.stderr == "", healthy_verify


def test_verify_fails_on_the_removed_redis_rule_and_prints_the_fix(broken, broken_verify):
    # GIVEN the rule admitting the API into Redis was removed outside the stack
    assert "injected redis-rule-removed" in broken.stdout, broken
    # WHEN the user verifies again
    # THEN exit 1, only dependency.access fails, with the incident's name and the fix under it
    assert broken_verify.code == 1, broken_verify
    lines = broken_verify.stdout.splitlines()
    failing = [line for line in lines if line.split()[1:2] == ["FAIL"]]
    assert [line.split()[0] for line in failing] == ["dependency.access"], broken_verify
    assert "redis_from_data_pipeline_ecs" in failing[0], broken_verify
    fix = lines[lines.index(failing[0]) + 1].strip()
    assert (
        fix
        == "fix: make repair STACK=development (pulumi up --refresh) restores the rule; someone removed it outside the stack"
    ), broken_verify
    # The summary counts the one failure; the number of ok rows grows with the checks, so it is not pinned.
    assert re.search(r"\): FAILED \(\d+ ok, 1 failed, 0 warnings\)", broken_verify.stdout), broken_verify


def test_verify_json_parses_and_carries_the_finding(broken_verify_json):
    # WHEN the same broken copy is verified with --json
    # THEN stdout is one JSON document a machine can act on, with the same verdict and exit code
    assert broken_verify_json.code == 1, broken_verify_json
    report = json.loads(broken_verify_json.stdout)
    assert report["passed"] is False and report["exit_code"] == 1
    failures = [r for r in report["results"] if r["status"] == "FAIL"]
    assert [r["check"] for r in failures] == ["dependency.access"], broken_verify_json
    assert "(pulumi up --refresh) restores the rule" in failures[0]["fix"]
    assert report["notes"] and report["notes"][0].endswith(f"AWS API calls for {SERVICE_COUNT} service(s)")
