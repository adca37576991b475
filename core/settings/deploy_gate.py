"""`deploy_gate`: whether `pulumi up` waits for the deployment to land, and how long."""

from __future__ import annotations

from typing import Any

from core.settings.model import DeployGateSettings
from core.settings.reader import MISSING, Reader


def read_deploy_gate(reader: Reader, raw: Any) -> DeployGateSettings | None:
    values = reader.mapping(raw, "deploy_gate", allowed=("enabled", "timeout_seconds"))
    if values is None:
        return None
    enabled = reader.boolean(values.get("enabled", MISSING), "deploy_gate.enabled", default=True)
    timeout = reader.integer(
        values.get("timeout_seconds", MISSING), "deploy_gate.timeout_seconds", default=900, low=60, high=3600
    )
    if enabled is None or timeout is None:
        return None
    return DeployGateSettings(enabled=enabled, timeout_seconds=timeout)
