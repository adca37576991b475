"""`services.<service>.autoscaling`: CPU target tracking around the desired count."""

from __future__ import annotations

from typing import Any

from core.settings.model import Autoscaling
from core.settings.reader import MISSING, Reader


def read_autoscaling(reader: Reader, raw: Any, path: str, desired: int | None) -> Autoscaling | None:
    values = reader.mapping(raw, path, allowed=("min", "max", "cpu_target_percent"))
    if values is None:
        return None
    default_min = desired or 1
    low = reader.integer(values.get("min", MISSING), f"{path}.min", default=default_min, low=1, high=100)
    high = reader.integer(values.get("max", MISSING), f"{path}.max", default=max(default_min * 2, 2), low=1, high=100)
    target = reader.integer(
        values.get("cpu_target_percent", MISSING), f"{path}.cpu_target_percent", default=60, low=10, high=90
    )
    if low is None or high is None or target is None:
        return None
    if low > high:
        reader.problem(path, f"min {low} is above max {high}", "make min <= max")
        return None
    if desired is not None and not low <= desired <= high:
        reader.problem(
            path, f"desired_count {desired} is outside min {low} .. max {high}", "make min <= desired_count <= max"
        )
        return None
    return Autoscaling(min_count=low, max_count=high, cpu_target_percent=target)
