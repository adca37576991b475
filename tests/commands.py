"""Running the project's commands the way people run them: `make <target>` and
`python -m <tool>` in a subprocess, with an environment that holds nothing of the
caller's that could change the outcome. tests/test_makefile.py and the fake-estate
scenario (tests/fake_estate_scenario.py) use it.

The commands use the virtualenv running these tests (VENV=..., with `-o` on its stamp
so make never reinstalls into it), unless told otherwise (`venv=False`).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAKEFILE = ROOT / "Makefile"
MAKEFILE_TEXT = MAKEFILE.read_text()
MAKE = shutil.which("make")
COMMAND_TIMEOUT = 180.0  # a hang fails the test, not the CI job

# The virtualenv these tests run in stands in for the checkout's .venv.
VENV = Path(sys.executable).parent.parent
USE_THIS_VENV = ["-o", f"{VENV}/.installed", f"VENV={VENV}", f"PYTHON={sys.executable}"]


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


def variable(text: str, name: str) -> list[str]:
    """The words of a Makefile variable set with `NAME := ...` or `NAME = ...`."""
    match = re.search(rf"^{name}\s*:?=(.*)$", text, flags=re.M)
    assert match, f"the Makefile has no {name}"
    return match.group(1).split()


def clean_env(base: Mapping[str, str] | None = None, **extra: str) -> dict[str, str]:
    """This environment (or `base`) minus what could change the outcome: a make that runs these
    tests (MAKEFLAGS and friends), the Makefile's own variables, AWS settings, the step summary."""
    theirs = set(variable(MAKEFILE_TEXT, "HELP_VARIABLES")) | {"VENV", "PYTHON", "HOKUSAI_API_KEY"}
    drop = {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "MAKEFILES", "GNUMAKEFLAGS", "GITHUB_STEP_SUMMARY"}
    env = os.environ if base is None else base
    return {k: v for k, v in env.items() if k not in theirs | drop and not k.startswith("AWS_")} | extra


def estate_env(port: int, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """What the README tells a user to export for the fake estate on `port`, and nothing else of AWS
    (no ~/.aws of whoever runs the tests: a profile or endpoint there must not decide the result)."""
    return clean_env(
        base,
        AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
    )


def make(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None, venv: bool = True) -> Ran:
    command = [MAKE or "make", *args, *(USE_THIS_VENV if venv else [])]
    done = subprocess.run(
        command,
        cwd=cwd,
        env=env if env is not None else clean_env(),
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        stdin=subprocess.DEVNULL,
    )
    return Ran(["make", *args], done.returncode, done.stdout, done.stderr)


def tool(*args: str, env: dict[str, str]) -> Ran:
    """A tool without make (`python -m <args>`), for the exit code make must pass on."""
    done = subprocess.run(
        [sys.executable, "-m", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        stdin=subprocess.DEVNULL,
    )
    return Ran(["python", "-m", *args], done.returncode, done.stdout, done.stderr)


def free_port() -> int:
    """A port nothing listens on now: bind to port 0 and let the kernel choose."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def command_of(pid: int) -> str:
    """The command line of a process ("" once it is gone)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return subprocess.run(["ps", "-o", "command=", "-p", str(pid)], capture_output=True, text=True).stdout
