"""A five-service variant of the development stack, for the tests that must still hold (and the
pictures that must still read) when the estate grows: the two real contracts plus three made
up here, each with routes, dependencies (on the stack's dependencies and on each other) and
secrets.

`extra_contracts()` adds the made-up contracts to core.contract.CONTRACTS for the length of a
`with` (every reader of the contract holds that one mapping), and takes them out again.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from core import contract
from core.contract import (
    ERROR_LINES,
    HTTP_5XX,
    MLFLOW_SERVER,
    POSTGRES,
    REDIS,
    DependencyAttribute,
    DependencyRequirement,
    DerivedFrom,
    SecretRequirement,
    ServiceContract,
    SettingRequirement,
)
from synth.program import Run
from tests import tiers
from tests.helpers import DEV_VALUES, pinned_image, run, with_mlflow

_ENVIRONMENT = SettingRequirement("ENVIRONMENT", "deployment environment name", derived_from=DerivedFrom.ENVIRONMENT)


def _secret(env_var: str, name: str) -> SecretRequirement:
    return SecretRequirement(env_var, f"hokusai/{{environment}}/{name}", f"{env_var} is missing: the service fails")


def _reaches(dependency: str, prefix: str, attribute: DependencyAttribute) -> DependencyRequirement:
    return DependencyRequirement(dependency, f"reaches {dependency}", ((f"{prefix}_{attribute.name}", attribute),))


EXTRA = (
    ServiceContract(
        key="scoring",
        description="batch scoring workers' API",
        container_name="scoring",
        container_port=8101,
        health_check_path="/health",
        metric_namespace="Hokusai/Scoring",
        secrets=(_secret("DB_PASSWORD", "database/password"), _secret("SCORING_SIGNING_KEY", "scoring/signing-key")),
        settings=(_ENVIRONMENT,),
        dependencies=(
            _reaches(POSTGRES, "DATABASE", DependencyAttribute.HOST),
            _reaches(REDIS, "REDIS", DependencyAttribute.HOST),
            _reaches(MLFLOW_SERVER, "MLFLOW", DependencyAttribute.URL),
        ),
        error_signatures=(ERROR_LINES, HTTP_5XX),
    ),
    ServiceContract(
        key="billing",
        description="usage metering and invoices",
        container_name="billing",
        container_port=8201,
        health_check_path="/healthz",
        metric_namespace="Hokusai/Billing",
        secrets=(_secret("DB_PASSWORD", "database/password"), _secret("STRIPE_API_KEY", "billing/stripe-api-key")),
        settings=(_ENVIRONMENT,),
        dependencies=(
            _reaches(POSTGRES, "DATABASE", DependencyAttribute.HOST),
            # Another service of the stack: the rule is on scoring's own group.
            _reaches("scoring", "SCORING", DependencyAttribute.URL),
        ),
        error_signatures=(ERROR_LINES, HTTP_5XX),
    ),
    ServiceContract(
        key="webhooks",
        description="outgoing webhooks",
        container_name="webhooks",
        container_port=8301,
        health_check_path="/health",
        metric_namespace="Hokusai/Webhooks",
        secrets=(_secret("WEBHOOK_SIGNING_SECRET", "webhooks/signing-secret"),),
        settings=(_ENVIRONMENT,),
        dependencies=(
            _reaches(REDIS, "REDIS", DependencyAttribute.HOST),
            _reaches("billing", "BILLING", DependencyAttribute.URL),
        ),
        error_signatures=(ERROR_LINES,),
    ),
)

_CONFIG: dict[str, dict[str, Any]] = {
    "scoring": {
        "routes": [{"priority": 300, "hosts": ["api.hokus.ai"], "paths": ["/api/v1/scoring/*"]}],
        "secrets": {
            "DB_PASSWORD": {"existing": "hokusai/development/database/password"},
            "SCORING_SIGNING_KEY": {"existing": "hokusai/development/scoring/signing-key"},
        },
    },
    "billing": {
        "routes": [
            {"priority": 310, "hosts": ["billing.hokus.ai"]},
            {"priority": 320, "hosts": ["api.hokus.ai"], "paths": ["/api/v1/usage/*"]},
        ],
        "secrets": {
            "DB_PASSWORD": {"existing": "hokusai/development/database/password"},
            "STRIPE_API_KEY": {"existing": "hokusai/development/billing/stripe-api-key"},
        },
    },
    "webhooks": {
        "routes": [{"priority": 330, "hosts": ["hooks.hokus.ai"]}],
        "secrets": {"WEBHOOK_SIGNING_SECRET": {"existing": "hokusai/development/webhooks/signing-secret"}},
    },
}


def five_service_values() -> dict[str, Any]:
    """The development config with mlflow (as the stack file has it, else as with_mlflow adds it) and
    the three made-up services (use inside extra_contracts()): everything the stack file has, and more."""
    values = copy.deepcopy(DEV_VALUES)
    if "mlflow" not in values["hokusai:services"]:
        with_mlflow(values)
    for index, (key, extra) in enumerate(_CONFIG.items()):
        values["hokusai:services"][key] = {
            "image": pinned_image(f"hokusai/{key}"),
            "cpu": 256 * 2**index,
            "memory": 1024 * 2**index,
            "desired_count": index + 1,
            **copy.deepcopy(extra),
        }
    return values


@contextmanager
def extra_contracts() -> Iterator[tuple[ServiceContract, ...]]:
    contracts = contract.CONTRACTS
    assert isinstance(contracts, dict)
    added = [c.key for c in EXTRA if c.key not in contracts]
    contracts.update({c.key: c for c in EXTRA})
    try:
        yield EXTRA
    finally:
        for key in added:
            contracts.pop(key, None)


@tiers.shared
def five_services_run() -> Run:
    """five_service_values() rendered once per process (the render takes seconds), shared by
    the dashboard, architecture and architecture-diff tests: read it, never change it."""
    with extra_contracts():
        return run(five_service_values())
