"""Runs the real Pulumi program (`__main__.py`) under the recording mocks.

No Pulumi CLI, no engine, no AWS: the program registers its resources with the
mocks, which record them. Shared by the tests and by the offline render.
"""

from __future__ import annotations

import json
import runpy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi

from core.naming import PROJECT
from core.stack_file import PROJECT_DIR, StackFileError, read_stack_file  # noqa: F401 (re-exported)
from synth.mocks import AdoptedWorld, RecordingMocks, RecordingMonitor, Registered, world_for

MAIN = PROJECT_DIR / "__main__.py"


@dataclass
class Run:
    mocks: RecordingMocks
    # the resolved `estate` stack output
    outputs: dict[str, Any]

    @property
    def resources(self) -> list[Registered]:
        return self.mocks.resources


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
    """Run `__main__.py` with `config` (`project:key` -> value) against the mocks.

    `world` is the pretend account; by default one in which everything the config
    adopts exists (synth.mocks.world_for).
    """
    mocks = RecordingMocks(world if world is not None else world_for(dict(config)))
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=False, monitor=RecordingMonitor(mocks))
    pulumi.runtime.set_all_config(as_pulumi_config(config), list(secret_keys))
    captured: dict[str, Any] = {}

    @pulumi.runtime.test
    def program():
        runpy.run_path(str(MAIN), run_name="__main__")
        estate = pulumi.runtime.settings.get_root_resource().outputs.get("estate")
        return pulumi.Output.from_input(estate).apply(lambda value: captured.update(estate=value))

    program()
    return Run(mocks=mocks, outputs=captured.get("estate") or {})


def run_stack(stack: str) -> Run:
    """The stack as its `Pulumi.<stack>.yaml` configures it, run against the mocks."""
    values, secret_keys = read_stack_file(stack)
    return run_program(values, stack=stack, secret_keys=secret_keys)
