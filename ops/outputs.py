"""Finds the estate of a stack: its `estate` output, from a file or from the Pulumi CLI.

Verify needs no Pulumi engine: `pulumi stack output --json` (run here when the
CLI is installed, or saved to a file beforehand) says where everything is.

Whatever the file or the CLI gives, the result is an Estate whose every field has its
declared type, or CannotCheck (exit 2) saying what is wrong: nothing reaches AWS before that.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
from pathlib import Path

from core import bounded_json
from core.estate import Estate, EstateError, ServiceEstate
from core.stack_file import StackFileError, stack_file_path
from core.text_file import TextFileError, read_text
from ops.report import CannotCheck

# The development stack's outputs are about 3 KiB; a file over this is not stack outputs.
OUTPUTS_LIMIT = 1024 * 1024
# The estate nests five levels (estate, services, a service, its metric filters, one filter).
OUTPUTS_MAX_DEPTH = 16


def add_estate_arguments(parser: argparse.ArgumentParser) -> None:
    """--stack and --outputs, what load_estate takes: the same two options on every live tool."""
    parser.add_argument("--stack", required=True, help="stack name, e.g. development")
    parser.add_argument("--outputs", type=Path, help="file with `pulumi stack output --json` (default: the Pulumi CLI)")


def load_estate(stack: str, outputs_file: Path | None = None) -> Estate:
    try:
        stack_file_path(stack)  # only to refuse what is not a stack name, before it goes anywhere
    except StackFileError as error:
        raise CannotCheck(str(error)) from None
    if outputs_file is not None:
        try:
            text = read_text(Path(outputs_file), limit=OUTPUTS_LIMIT, what="the stack outputs file")
        except TextFileError as error:
            raise CannotCheck(f"{error} (write it with `pulumi stack output --json --stack {stack}`)") from None
        source = str(outputs_file)
    else:
        text, source = _from_cli(stack), f"pulumi stack output --stack {stack}"
    try:
        outputs = bounded_json.parse(text, max_bytes=OUTPUTS_LIMIT, max_depth=OUTPUTS_MAX_DEPTH)
    except bounded_json.JsonRefused as error:
        raise CannotCheck(f"{source} {error}; write it with `pulumi stack output --json`") from None
    try:
        estate = Estate.from_outputs(outputs)
    except EstateError as error:
        raise CannotCheck(f"{source}: {error}") from None
    if estate.stack != stack:
        raise CannotCheck(f"{source} describes stack '{estate.stack}', not '{stack}': pass the matching --stack")
    return estate


def _from_cli(stack: str) -> str:
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        raise CannotCheck(
            "the Pulumi CLI is not installed, and no --outputs file was given: run "
            f"`pulumi stack output --json --stack {stack} > outputs.json` where it is, then pass --outputs outputs.json"
        )
    try:
        done = subprocess.run(
            [pulumi, "stack", "output", "--json", "--stack", stack],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise CannotCheck("`pulumi stack output` did not answer within 120 s") from None
    except (OSError, UnicodeDecodeError) as error:
        raise CannotCheck(f"`pulumi stack output` could not be run or read: {error}") from None
    if done.returncode != 0:
        raise CannotCheck(f"`pulumi stack output --stack {stack}` failed: {done.stderr.strip()[:500]}")
    return done.stdout


def one_service(estate: Estate, key: str) -> ServiceEstate:
    """The estate's service `key`, or CannotCheck naming the ones it has."""
    for service in estate.services:
        if service.key == key:
            return service
    raise CannotCheck(
        f"stack '{estate.stack}' has no service '{key}' (it has: {', '.join(s.key for s in estate.services)})"
    )
