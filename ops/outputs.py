"""Finds the estate of a stack: its `estate` output, from a file or from the Pulumi CLI.

Verify needs no Pulumi engine: `pulumi stack output --json` (run here when the
CLI is installed, or saved to a file beforehand) says where everything is.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from core.estate import Estate, EstateError
from ops.report import CannotCheck


def load_estate(stack: str, outputs_file: Path | None = None) -> Estate:
    if outputs_file is not None:
        try:
            text = Path(outputs_file).read_text()
        except OSError as error:
            raise CannotCheck(f"cannot read the stack outputs file {outputs_file}: {error.strerror}") from None
        source = str(outputs_file)
    else:
        text, source = _from_cli(stack), f"pulumi stack output --stack {stack}"
    try:
        outputs = json.loads(text)
    except ValueError as error:
        raise CannotCheck(f"{source} is not JSON ({error}); write it with `pulumi stack output --json`") from None
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
    if done.returncode != 0:
        raise CannotCheck(f"`pulumi stack output --stack {stack}` failed: {done.stderr.strip()[:500]}")
    return done.stdout
