"""Shared fixtures: the development stack's config, and the program run under
the recording mocks (synth/mocks.py) so tests assert over the whole graph."""

from __future__ import annotations

import copy
import json
from typing import Any, Callable

import boto3
import pytest
from hypothesis import settings as hypothesis_settings
from moto import mock_aws

from infra.config import Settings, load_settings
from synth.fake_estate import FakeEstate, seed
from synth.mocks import AdoptedWorld, Registered, world_for
from synth.program import Run, read_stack_file, run_program

# Property tests run on every `make test`: enough examples to find the edge
# cases, few enough to keep the suite in seconds on two cores.
hypothesis_settings.register_profile("default", max_examples=150, deadline=None)
hypothesis_settings.load_profile("default")

DEV_VALUES, DEV_SECRET_KEYS = read_stack_file("development")


def hokusai_raw(values: dict[str, Any]) -> dict[str, Any]:
    """`hokusai:` keys with the namespace stripped, as the settings loader takes them."""
    return {k.split(":", 1)[1]: v for k, v in values.items() if k.startswith("hokusai:")}


def load(values: dict[str, Any], stack: str = "development", secret_keys=()) -> Settings:
    return load_settings(hokusai_raw(values), stack=stack, region=values.get("aws:region"),
                         secret_config_keys=[k.split(":", 1)[1] for k in secret_keys])


@pytest.fixture
def dev_values() -> dict[str, Any]:
    """A fresh, mutable copy of Pulumi.development.yaml's config."""
    return copy.deepcopy(DEV_VALUES)


@pytest.fixture
def api(dev_values) -> dict[str, Any]:
    """The api service's config inside dev_values (mutate it to vary the stack)."""
    return dev_values["hokusai:services"]["api"]


def run(values: dict[str, Any], world: AdoptedWorld | None = None, secret_keys=(), stack="development") -> Run:
    return run_program(values, stack=stack, world=world or world_for(values), secret_keys=secret_keys)


@pytest.fixture(scope="session")
def dev_run() -> Run:
    """The development stack, rendered once for the read-only graph assertions."""
    return run(copy.deepcopy(DEV_VALUES), secret_keys=DEV_SECRET_KEYS)


@pytest.fixture
def render() -> Callable[..., Run]:
    return run


def container(run_: Run, family: str = "hokusai-api-development") -> dict[str, Any]:
    task = next(r for r in run_.resources
                if r.type == "aws:ecs/taskDefinition:TaskDefinition" and r.inputs["family"] == family)
    (definition,) = json.loads(task.inputs["containerDefinitions"])
    return definition


def by_type(run_: Run, type_: str) -> list[Registered]:
    return [r for r in run_.resources if r.type == type_]


def with_mlflow(values: dict[str, Any]) -> dict[str, Any]:
    """Adds the mlflow service (a second contract) to a stack config."""
    values["hokusai:services"]["mlflow"] = {
        "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/hokusai/mlflow:2.17.2",
        "cpu": 1024,
        "memory": 2048,
        "desired_count": 1,
        "routes": [{"priority": 200, "hosts": ["registry.hokus.ai"], "paths": ["/mlflow/*"]}],
        "environment": {
            "DATABASE_HOST": "db.internal",
            "DATABASE_NAME": "mlflow_db",
            "DATABASE_USER": "mlflow",
            "MLFLOW_ARTIFACT_ROOT": "s3://hokusai-mlflow-artifacts-development",
        },
        "secrets": {"DB_PASSWORD": {"existing": "hokusai/development/database/password"}},
    }
    return values


def with_new_load_balancer(values: dict[str, Any], certificate: bool = True) -> dict[str, Any]:
    values["hokusai:network"]["public_subnet_ids"] = ["subnet-0a1b2c3d4e5f60101", "subnet-0a1b2c3d4e5f60102"]
    values["hokusai:load_balancer"] = {"create": True}
    if certificate:
        values["hokusai:load_balancer"]["certificate_arn"] = (
            "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9"
        )
    return values


# --------------------------------------------------------------------------- #
# A moto account holding a copy of the rendered development estate
# (synth/fake_estate.py), for the live tools and the deploy gate.
# --------------------------------------------------------------------------- #

REGION = "us-east-1"


@pytest.fixture
def aws_env(monkeypatch):
    """An environment in which boto3 can only reach moto: fake credentials, no profile, no endpoint."""
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    # moto reports this many running tasks for a new service: the development desired count.
    monkeypatch.setenv("MOTO_ECS_SERVICE_RUNNING", "2")
    # moto would otherwise load thousands of AMIs into every fresh EC2 backend.
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")


@pytest.fixture(scope="session")
def boto_session() -> boto3.Session:
    """One session for the whole run: botocore caches its service models per session,
    which makes a fresh client cheap after the first."""
    return boto3.Session(region_name=REGION)


@pytest.fixture
def fake(aws_env, dev_run, boto_session) -> FakeEstate:
    """A moto account holding a healthy copy of the development estate."""
    with mock_aws():
        yield seed(dev_run, session=boto_session)
