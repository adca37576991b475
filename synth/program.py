"""Runs the real Pulumi program (`__main__.py`) under the recording mocks.

No Pulumi CLI, no engine, no AWS: the program registers its resources with the
mocks, which record them. Shared by the tests and by the offline render.
"""

from __future__ import annotations

import json
import runpy
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

import pulumi
import yaml

from synth.mocks import AdoptedWorld, RecordingMocks, Registered

PROJECT_DIR = Path(__file__).resolve().parent.parent
MAIN = PROJECT_DIR / "__main__.py"
PROJECT = "hokusai"


@dataclass
class Run:
    mocks: RecordingMocks
    # the resolved `estate` stack output
    outputs: dict[str, Any]

    @property
    def resources(self) -> list[Registered]:
        return self.mocks.resources


class StackFileError(Exception):
    pass


def read_stack_file(stack: str, project_dir: Path = PROJECT_DIR) -> tuple[dict[str, Any], list[str]]:
    """The stack's config as `key -> value` (values as Python objects) and its secret keys.

    Encrypted (`secure:`) values cannot be decrypted offline; they are replaced by
    a placeholder and reported as secret keys, exactly as Pulumi marks them.
    """
    path = project_dir / f"Pulumi.{stack}.yaml"
    if not path.exists():
        raise StackFileError(f"{path.name} does not exist: create it (pulumi stack init {stack}) or pick another stack")
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise StackFileError(f"{path.name} is not valid YAML: {error}") from None
    config = document.get("config") if isinstance(document, dict) else None
    if not isinstance(config, dict):
        raise StackFileError(f"{path.name} has no 'config:' mapping")
    values: dict[str, Any] = {}
    secret_keys: list[str] = []
    for key, value in config.items():
        if isinstance(value, dict) and set(value) == {"secure"}:
            values[key] = "[secret]"
            secret_keys.append(key)
        else:
            values[key] = value
    return values, secret_keys


def as_pulumi_config(values: Mapping[str, Any]) -> dict[str, str]:
    """Config the way the language host hands it to a program: text, structured values as JSON."""
    encoded = {}
    for key, value in values.items():
        if isinstance(value, (dict, list)):
            encoded[key] = json.dumps(value)
        elif isinstance(value, bool):
            encoded[key] = "true" if value else "false"
        else:
            encoded[key] = str(value)
    return encoded


def run_program(
    config: Mapping[str, Any],
    *,
    stack: str = "development",
    world: AdoptedWorld | None = None,
    secret_keys: Iterable[str] = (),
) -> Run:
    """Run `__main__.py` with `config` (`project:key` -> value) against the mocks."""
    mocks = RecordingMocks(world)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=False)
    pulumi.runtime.set_all_config(as_pulumi_config(config), list(secret_keys))
    captured: dict[str, Any] = {}

    @pulumi.runtime.test
    def program():
        runpy.run_path(str(MAIN), run_name="__main__")
        estate = pulumi.runtime.settings.get_root_resource().outputs.get("estate")
        return pulumi.Output.from_input(estate).apply(lambda value: captured.update(estate=value))

    program()
    return Run(mocks=mocks, outputs=captured.get("estate") or {})
