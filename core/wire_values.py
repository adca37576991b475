"""Values as the Pulumi engine hands them over, made plain for comparing and writing. Pure.

The engine's wire format carries every number as a float (30.0, 6379.0) and the mocks
may hand lists over as tuples: plain() gives 30 and lists, so a render, a snapshot and
the live record compare and print alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def plain(value: Any) -> Any:
    """Whole floats as int, tuples as lists, mapping keys as str: all the way down."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value
