"""Helpers the tests share, importable as `tests.helpers` (fixtures stay in conftest.py).

The development stack's config, the settings loader and the program run under
the recording mocks (synth/mocks.py), and small lookups over the recorded graph.
"""

from __future__ import annotations

import json
from typing import Any

from core.settings import Settings, load_settings
from core.stack_file import PROJECT_DIR, read_stack_file, settings_input
from synth.mocks import AdoptedWorld
from synth.mocks import of_type as by_type
from synth.program import Run, run_program

__all__ = ["PROJECT_DIR", "by_type"]

DEV_VALUES, DEV_SECRET_KEYS = read_stack_file("development")
REGION = "us-east-1"


def hokusai_raw(values: dict[str, Any]) -> dict[str, Any]:
    """`hokusai:` keys with the namespace stripped, as the settings loader takes them."""
    return settings_input(values, [])["raw"]


def load(values: dict[str, Any], stack: str = "development", secret_keys=()) -> Settings:
    return load_settings(**settings_input(values, list(secret_keys)), stack=stack)


def run(values: dict[str, Any], world: AdoptedWorld | None = None, secret_keys=(), stack="development") -> Run:
    return run_program(values, stack=stack, world=world, secret_keys=secret_keys)


def container(run_: Run, family: str = "hokusai-api-development") -> dict[str, Any]:
    task = next(r for r in by_type(run_, "aws:ecs/taskDefinition:TaskDefinition") if r.inputs["family"] == family)
    (definition,) = json.loads(task.inputs["containerDefinitions"])
    return definition


def with_mlflow(values: dict[str, Any]) -> dict[str, Any]:
    """Adds the mlflow service (a second contract) to a stack config. The api's mlflow dependency
    becomes this service (its Cloud Map name, port and group), so the stack no longer declares it."""
    values["hokusai:services"]["mlflow"] = {
        "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/hokusai/mlflow:2.17.2",
        "cpu": 1024,
        "memory": 2048,
        "desired_count": 1,
        "routes": [{"priority": 200, "hosts": ["registry.hokus.ai"], "paths": ["/mlflow/*"]}],
        # DATABASE_HOST, _NAME and _USER come from the stack's postgres dependency.
        "environment": {"MLFLOW_ARTIFACT_ROOT": "s3://hokusai-mlflow-artifacts-development"},
        "secrets": {"DB_PASSWORD": {"existing": "hokusai/development/database/password"}},
    }
    values.get("hokusai:dependencies", {}).pop("mlflow", None)
    return values


def with_new_load_balancer(values: dict[str, Any], certificate: bool = True) -> dict[str, Any]:
    values["hokusai:network"]["public_subnet_ids"] = ["subnet-0a1b2c3d4e5f60101", "subnet-0a1b2c3d4e5f60102"]
    values["hokusai:load_balancer"] = {"create": True}
    if certificate:
        values["hokusai:load_balancer"]["certificate_arn"] = (
            "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9"
        )
    return values
