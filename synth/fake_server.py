"""The fake estate's moto_server: one per checkout, started, reseeded and stopped by make.

    python -m synth.fake_server start --port 5555 [--stack development] [--dir build]   # make fake-estate
    python -m synth.fake_server reset [--stack development] [--dir build]               # make fake-estate-reset
    python -m synth.fake_server stop [--dir build]                                      # make fake-estate-stop
    python -m synth.fake_server break <failure> [--dir build]                           # make break FAILURE=...

The server is this checkout's when `<dir>/moto.pid` names a live process that is a
moto_server started by this module from this checkout: its command line runs
`moto_server -H 127.0.0.1 -p <port>` and (where /proc exists) its working directory is
the checkout. A pid file naming anything else is stale and is removed on sight.

`start` on a port where something else listens refuses (exit 2) rather than seeding
someone else's server; `start` again on the same port reuses this checkout's server:
moto is reset and the copy seeded afresh, so the command is idempotent.

Exit codes: 0 done; 2 could not (port taken, server did not start, no fake estate
runs, unknown failure, seeding failed). `stop` with nothing running is not an error.

Only the standard library is imported at the top: `stop` runs with any python3,
before (or without) the project's virtualenv.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the checkout: the server runs from here
HOST = "127.0.0.1"
REGION = "us-east-1"
PID_FILE, LOG_FILE, OUTPUTS_FILE = "moto.pid", "moto.log", "fake-outputs.json"
START_TIMEOUT_S = 30.0  # moto_server normally answers within 1-2 s
STOP_TIMEOUT_S = 10.0

EXIT_OK, EXIT_CANNOT = 0, 2


class Refused(Exception):
    """Could not do what was asked; the message says why and what to do (exit 2)."""


@dataclass(frozen=True)
class Server:
    pid: int
    port: int

    @property
    def endpoint(self) -> str:
        return f"http://{HOST}:{self.port}"


# --------------------------------------------------------------------------- #
# Is it ours?
# --------------------------------------------------------------------------- #


def command_line(pid: int) -> list[str]:
    """The process's arguments ([] if it is gone, a zombie, or not readable)."""
    proc = Path(f"/proc/{pid}/cmdline")
    if proc.parent.exists():
        try:
            return [a for a in proc.read_bytes().decode(errors="replace").split("\0") if a]
        except OSError:
            return []
    try:  # no /proc (macOS): ps prints the command line, split on blanks
        done = subprocess.run(["ps", "-o", "command=", "-p", str(pid)], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return done.stdout.split() if done.returncode == 0 else []


def working_directory(pid: int) -> Path | None:
    try:
        return Path(os.readlink(f"/proc/{pid}/cwd")).resolve()
    except OSError:
        return None  # no /proc, or not ours to read: the command line has to do


def served_port(args: list[str]) -> int | None:
    """The port of `... moto_server -H 127.0.0.1 -p <port>`, as `start` runs it; None for anything else."""
    if not any(Path(a).name == "moto_server" for a in args):
        return None
    try:
        host, port = args[args.index("-H") + 1], args[args.index("-p") + 1]
        return int(port) if host == HOST else None
    except (ValueError, IndexError):
        return None


def ours(directory: Path) -> Server | None:
    """This checkout's running server, from its pid file; a pid file naming anything else is removed."""
    pid_file = directory / PID_FILE
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        pid = 0
    port = served_port(command_line(pid)) if pid > 0 else None
    cwd = working_directory(pid) if port else None
    if port and cwd in (None, ROOT):
        return Server(pid, port)
    pid_file.unlink(missing_ok=True)  # stale: the process is gone, or it is not our moto_server
    return None


def listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        return probe.connect_ex((HOST, port)) == 0


def answering(server: Server) -> bool:
    try:
        with urllib.request.urlopen(f"{server.endpoint}/moto-api/", timeout=2):
            return True
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, OSError):
        return False


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie still has a pid but is gone; its command line is empty
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


# --------------------------------------------------------------------------- #
# Start, reset, stop
# --------------------------------------------------------------------------- #


def launch(port: int, directory: Path) -> Server:
    """A new moto_server on 127.0.0.1:port, detached from make's session, answering."""
    directory.mkdir(parents=True, exist_ok=True)
    script = Path(sys.executable).parent / "moto_server"
    if not script.exists():
        raise Refused(f"no moto_server next to {sys.executable}: install requirements-dev.txt into that virtualenv")
    env = dict(os.environ)
    # moto reports this many running tasks for a new service: the development desired count.
    env["MOTO_ECS_SERVICE_RUNNING"] = "2"
    # moto would otherwise load thousands of AMIs into the EC2 backend on its first call.
    env["MOTO_EC2_LOAD_DEFAULT_AMIS"] = "false"
    log = directory / LOG_FILE
    # A file, not a pipe: moto logs every request, and a pipe nobody reads fills up and blocks it.
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [str(script), "-H", HOST, "-p", str(port)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # outlives make, and Ctrl-C in make's terminal
        )
    server = Server(process.pid, port)
    write_pid(directory, process.pid)
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        # Answering, and by our process: had another program taken the port first, ours would have exited.
        if answering(server) and process.poll() is None:
            return server
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()  # a no-op once it has exited
            process.wait(timeout=10)
            (directory / PID_FILE).unlink(missing_ok=True)
            tail = log.read_text(errors="replace").strip().splitlines()[-5:]
            raise Refused(f"moto_server did not start on {HOST}:{port} (log {log}):\n  " + "\n  ".join(tail))
        time.sleep(0.1)


def write_pid(directory: Path, pid: int) -> None:
    partial = directory / f"{PID_FILE}.partial"
    partial.write_text(f"{pid}\n")
    partial.replace(directory / PID_FILE)


def reset(server: Server) -> None:
    request = urllib.request.Request(f"{server.endpoint}/moto-api/reset", method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10):
            pass
    except (urllib.error.URLError, OSError) as error:
        raise Refused(f"could not reset moto_server at {server.endpoint}: {error}") from None


def aws_environment(server: Server) -> dict[str, str]:
    """The settings the README tells a user to export, and nothing else of AWS: a profile,
    session token or per-service endpoint of the caller's must not send this elsewhere."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return env | {
        "AWS_ENDPOINT_URL": server.endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }


def fake_estate(server: Server, *args: str) -> None:
    """`python -m synth.fake_estate <args>` against the server (its own process, its own environment)."""
    done = subprocess.run([sys.executable, "-m", "synth.fake_estate", *args], cwd=ROOT, env=aws_environment(server))
    if done.returncode != 0:
        raise Refused(f"`python -m synth.fake_estate {args[0]}` failed (exit {done.returncode}); see above")


def seed(server: Server, stack: str, directory: Path) -> None:
    fake_estate(server, "seed", "--stack", stack, "--outputs", str(directory / OUTPUTS_FILE))


def start(port: int, stack: str, directory: Path) -> Server:
    server = ours(directory)
    if server and server.port != port:
        raise Refused(
            f"this checkout's fake estate already runs on {HOST}:{server.port} (pid {server.pid}); "
            f"use MOTO_PORT={server.port}, or `make fake-estate-stop` first"
        )
    if server:
        if not answering(server):
            raise Refused(f"this checkout's moto_server (pid {server.pid}) does not answer on {server.endpoint}")
        print(f"reusing this checkout's moto_server on {server.endpoint} (pid {server.pid}): reset, then seeded again")
        reset(server)
    else:
        if listening(port):
            raise Refused(
                f"something else listens on {HOST}:{port}, and it is not this checkout's fake estate "
                f"(no live pid in {directory / PID_FILE}); not seeding into it. "
                f"Pick a free port: make fake-estate MOTO_PORT=<port>"
            )
        server = launch(port, directory)
        print(f"started moto_server on {server.endpoint} (pid {server.pid}, log {directory / LOG_FILE})")
    seed(server, stack, directory)
    return server


def stop(directory: Path) -> bool:
    """Stop this checkout's server; False if none ran. Never leaves the pid file behind."""
    server = ours(directory)
    if server is None:
        return False
    try:
        os.killpg(server.pid, signal.SIGTERM)  # its own session: the group is moto_server and its children
    except (ProcessLookupError, PermissionError):
        os.kill(server.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while alive(server.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if alive(server.pid):
        os.kill(server.pid, signal.SIGKILL)
    (directory / PID_FILE).unlink(missing_ok=True)
    return True


def running(directory: Path) -> Server:
    server = ours(directory)
    if server is None or not answering(server):
        raise Refused(
            f"no fake estate runs for this checkout ({directory / PID_FILE}): start one with `make fake-estate`"
        )
    return server


def inject(failure: str, directory: Path) -> None:
    from synth.fake_estate import FAILURES  # the project and PyYAML: only here, not for `stop`

    if failure not in FAILURES:
        raise Refused(f"unknown failure {failure!r}; `make break` lists the {len(FAILURES)} it can inject")
    server = running(directory)
    outputs = directory / OUTPUTS_FILE
    if not outputs.exists():
        raise Refused(f"{outputs} is missing: seed the copy again with `make fake-estate-reset`")
    fake_estate(server, "break", failure, "--outputs", str(outputs))


# --------------------------------------------------------------------------- #
# Command line
# --------------------------------------------------------------------------- #


def instructions(server: Server, directory: Path) -> str:
    outputs = directory / OUTPUTS_FILE
    shown = outputs.relative_to(ROOT) if outputs.is_relative_to(ROOT) else outputs
    return "\n".join(
        (
            f"fake estate: a copy of the stack in moto_server on {server.endpoint}; outputs in {shown}",
            f"  export AWS_ENDPOINT_URL={server.endpoint} AWS_ACCESS_KEY_ID=testing "
            f"AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION={REGION}",
            f"  make verify OUTPUTS={shown}",
            "  make break                      # the failures it can inject; make break FAILURE=<name> injects one",
            "  make fake-estate-reset          # a clean copy again",
            "  make fake-estate-stop           # stop it (then unset the AWS_ variables above)",
        )
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m synth.fake_server", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--dir", type=Path, default=ROOT / "build", help="where moto.pid, moto.log and the outputs live"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    starting = commands.add_parser("start", help="start (or reuse and reseed) this checkout's fake estate")
    starting.add_argument("--port", type=int, required=True)
    starting.add_argument("--stack", default="development")
    resetting = commands.add_parser("reset", help="reset the running fake estate and seed it again")
    resetting.add_argument("--stack", default="development")
    commands.add_parser("stop", help="stop this checkout's fake estate")
    breaking = commands.add_parser("break", help="inject one failure into the running fake estate")
    breaking.add_argument("failure")
    args = parser.parse_args(argv)
    directory = args.dir if args.dir.is_absolute() else Path.cwd() / args.dir

    try:
        if args.command == "start":
            print(instructions(start(args.port, args.stack, directory), directory))
        elif args.command == "reset":
            server = running(directory)
            reset(server)
            seed(server, args.stack, directory)
            print(f"reset moto_server on {server.endpoint} and seeded a clean copy of stack {args.stack}")
        elif args.command == "stop":
            if stop(directory):
                print(
                    "stopped this checkout's fake estate; unset AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY"
                )
            else:
                print("no fake estate runs for this checkout: nothing to stop")
        else:
            inject(args.failure, directory)
    except Refused as error:
        print(f"{parser.prog} {args.command}: {error}", file=sys.stderr)
        return EXIT_CANNOT
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
