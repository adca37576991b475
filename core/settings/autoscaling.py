"""`services.<service>.autoscaling`: CPU target tracking around the desired count."""

from __future__ import annotations

from typing import Any

from core.settings.model import Autoscaling
from core.settings.reader import Reader


def read_autoscaling(reader: Reader, raw: Any, path: str, desired: int | None) -> Autoscaling | None:
    scaling = reader.section("services.<service>.autoscaling", raw, path)
    if scaling is None:
        return None
    # The declared defaults of min and max are derived from desired_count (computed here).
    default_min = desired or 1
    low = scaling.read("min", default=default_min)
    high = scaling.read("max", default=max(default_min * 2, 2))
    target = scaling.read("cpu_target_percent")
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
