"""The invariants, run over the graph the recording mocks keep.

The invariants themselves live in core/invariants.py, pure, so that the CrossGuard
pack (policy/) runs the very same functions in a real `pulumi preview` / `pulumi up`.
Here the recorded resources become the core's records (the stack output `estate`
riding on the stack's own resource, as the engine has it), and one check more runs
that needs botocore and so stays out of the pure core and the pack: container
definitions against the ECS API model. The render refuses a graph with findings;
the tests run them over the development stack and variants, and break each on purpose.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any

import botocore.session
from botocore.validate import ParamValidator

from core.invariants import INVARIANTS, Finding
from core.naming import PROJECT
from core.resource_graph import TASK_DEFINITION, Graph, Record, stack_record
from synth.mocks import Registered

__all__ = ["CHECKS", "SYNTH_ONLY_CHECKS", "Finding", "check_graph", "records_of", "register_task_definition_params"]


def records_of(resources: Sequence[Registered], estate: Mapping[str, Any]) -> list[Record]:
    """The recorded resources as the core's records, and the stack's own resource with its
    `estate` output. A mock's id rides in the outputs, where the provider puts it."""
    records = [Record(r.type, r.name, r.inputs, {**r.outputs, "id": r.id}) for r in resources]
    stack = estate.get("stack") if isinstance(estate, Mapping) else None
    return [*records, stack_record(f"{PROJECT}-{stack}", {"estate": estate})]


# --------------------------------------------------------------------------- #
# Container definitions against the ECS API model (botocore): synth only
# --------------------------------------------------------------------------- #


@lru_cache(maxsize=1)
def _register_task_definition_shape():
    model = botocore.session.get_session().get_service_model("ecs")
    return model.operation_model("RegisterTaskDefinition").input_shape


def register_task_definition_params(task: Registered | Record) -> dict[str, Any]:
    """The RegisterTaskDefinition request the provider will send for this resource."""
    inputs = task.inputs
    params: dict[str, Any] = {
        "family": inputs.get("family"),
        "containerDefinitions": json.loads(inputs.get("containerDefinitions") or "[]"),
        "networkMode": inputs.get("networkMode"),
        "requiresCompatibilities": inputs.get("requiresCompatibilities"),
        "cpu": inputs.get("cpu"),
        "memory": inputs.get("memory"),
        "executionRoleArn": inputs.get("executionRoleArn"),
        "taskRoleArn": inputs.get("taskRoleArn"),
    }
    platform = inputs.get("runtimePlatform")
    if platform:
        params["runtimePlatform"] = {
            "operatingSystemFamily": platform.get("operatingSystemFamily"),
            "cpuArchitecture": platform.get("cpuArchitecture"),
        }
    return {k: v for k, v in params.items() if v is not None}


def _enum_errors(value: Any, shape: Any, path: str) -> list[str]:
    """botocore's validator checks types and required members, not enum values: this does."""
    errors = []
    if shape.type_name == "structure" and isinstance(value, dict):
        for key, item in value.items():
            if key in shape.members:
                errors += _enum_errors(item, shape.members[key], f"{path}.{key}")
    elif shape.type_name == "list" and isinstance(value, list):
        for index, item in enumerate(value):
            errors += _enum_errors(item, shape.member, f"{path}[{index}]")
    elif shape.type_name == "map" and isinstance(value, dict):
        for key, item in value.items():
            errors += _enum_errors(item, shape.value, f"{path}.{key}")
    elif shape.type_name == "string" and getattr(shape, "enum", None) and value not in shape.enum:
        errors.append(f"{path}: {value!r} is not one of {', '.join(shape.enum)}")
    return errors


def container_definitions_match_ecs_api(graph: Graph) -> list[Finding]:
    shape = _register_task_definition_shape()
    findings = []
    for task in graph.of_type(TASK_DEFINITION):
        params = register_task_definition_params(task)
        report = ParamValidator().validate(params, shape)
        if report.has_errors():
            findings.append(Finding("ecs-api", task.name, report.generate_report()))
        for error in _enum_errors(params, shape, "RegisterTaskDefinition"):
            findings.append(Finding("ecs-api", task.name, error))
    return findings


# Checks the pack cannot run (they need botocore, which neither the pure core nor the
# pack's own virtualenv has). Everything else synth checks is a core invariant, so the
# pack enforces it too: tests/policy holds the two lists to that.
SYNTH_ONLY_CHECKS: tuple[Callable[[Graph], list[Finding]], ...] = (container_definitions_match_ecs_api,)

CHECKS: tuple[Callable[[Graph], list[Finding]], ...] = (
    *SYNTH_ONLY_CHECKS,
    *(invariant.check for invariant in INVARIANTS),
)


def check_graph(resources: Sequence[Registered], estate: Mapping[str, Any]) -> list[Finding]:
    graph = Graph(records_of(resources, estate))
    return [finding for check in CHECKS for finding in check(graph)]
