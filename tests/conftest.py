"""Fixtures only; the helpers they use live in tests/helpers.py (importable)."""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from hypothesis import settings as hypothesis_settings
from moto import mock_aws

from synth.fake_estate import FakeEstate, seed
from synth.program import Run
from tests.helpers import DEV_SECRET_KEYS, DEV_VALUES, REGION, run

# Property tests run on every `make test`: enough examples to find the edge
# cases, few enough to keep the suite in seconds on two cores. HYPOTHESIS_PROFILE=deep
# runs many more (the input fuzzing in tests/fuzz/ takes minutes then: bench/README.md).
hypothesis_settings.register_profile("default", max_examples=150, deadline=None)
hypothesis_settings.register_profile("deep", max_examples=5000, deadline=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture
def dev_values() -> dict[str, Any]:
    """A fresh, mutable copy of Pulumi.development.yaml's config."""
    return copy.deepcopy(DEV_VALUES)


@pytest.fixture(scope="session")
def dev_run() -> Run:
    """The development stack, rendered once for the read-only graph assertions."""
    return run(copy.deepcopy(DEV_VALUES), secret_keys=DEV_SECRET_KEYS)


# --------------------------------------------------------------------------- #
# A moto account holding a copy of the rendered development estate
# (synth/fake_estate.py), for the live tools and the deploy gate.
# --------------------------------------------------------------------------- #


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
def fake(aws_env, dev_run, boto_session) -> Iterator[FakeEstate]:
    """A moto account holding a healthy copy of the development estate."""
    with mock_aws():
        yield seed(dev_run, session=boto_session)
