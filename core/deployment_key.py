"""One digest of everything that makes ECS start a new deployment of a service.

The deploy gate reruns when this digest changes, not only when the task
definition does: a new subnet or security group, another target group, a Cloud
Map registry or platform version each start a deployment too (UpdateService,
https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_UpdateService.html),
and each can fail and roll back like a new image.

Pure: the program (infra/service.py) hands in the ECS service's inputs, already
resolved; the tests recompute the digest from what the mocks recorded, so the
key and the service cannot disagree on what was declared.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

# The aws.ecs.Service inputs that start a new deployment when they change, by
# their engine (camelCase) names. desiredCount is not among them (a scale, not a
# deployment), nor alarms, tags or the deployment configuration.
DEPLOYMENT_INPUTS = (
    "taskDefinition",
    "launchType",
    "capacityProviderStrategies",
    "platformVersion",
    "networkConfiguration",
    "loadBalancers",
    "serviceRegistries",
    "serviceConnectConfiguration",
    "volumeConfiguration",
    "vpcLatticeConfigurations",
    "forceNewDeployment",
    "triggers",
)

# Inputs that are sets to AWS (and to the provider): their order is no change.
_UNORDERED = {"subnets", "securitygroups", "loadbalancers", "capacityproviderstrategies", "vpclatticeconfigurations"}


def _canonical_name(name: str) -> str:
    """`assign_public_ip` (Python args) and `assignPublicIp` (engine) name the same input."""
    return name.replace("_", "").lower()


def _canonical(value: Any, name: str = "") -> Any:
    if isinstance(value, Mapping):
        return {
            _canonical_name(str(k)): _canonical(v, _canonical_name(str(k)))
            for k, v in value.items()
            if v is not None and v != [] and v != {}
        }
    if isinstance(value, (list, tuple)):
        items = [_canonical(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True)) if name in _UNORDERED else items
    if isinstance(value, float) and value.is_integer():
        return int(value)  # the engine hands numbers over as floats: 8001.0 is the port 8001
    return value


def deployment_key(inputs: Mapping[str, Any]) -> str:
    """A digest of `inputs` (an ECS service's deployment inputs, in Python or engine names):
    equal exactly when they declare the same deployment."""
    unknown = sorted(k for k in inputs if _canonical_name(k) not in {_canonical_name(n) for n in DEPLOYMENT_INPUTS})
    if unknown:
        raise ValueError(f"not inputs that start an ECS deployment: {', '.join(unknown)} (see DEPLOYMENT_INPUTS)")
    text = json.dumps(_canonical(inputs), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()
