"""`deploy_gate`: whether `pulumi up` waits for the deployment to land, and how long."""

from __future__ import annotations

from typing import Any

from core.settings.model import DeployGateSettings
from core.settings.reader import Reader


def read_deploy_gate(reader: Reader, raw: Any) -> DeployGateSettings | None:
    gate = reader.section("deploy_gate", raw, "deploy_gate")
    if gate is None:
        return None
    enabled = gate.read("enabled")
    timeout = gate.read("timeout_seconds")
    if enabled is None or timeout is None:
        return None
    return DeployGateSettings(enabled=enabled, timeout_seconds=timeout)
