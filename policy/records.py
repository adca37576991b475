"""The engine's resources, as the core's records (core/resource_graph.py).

A stack policy is given every resource of the stack as a PolicyResource: its type,
logical name and `props`, which are its outputs (for an AWS resource: its inputs and
what AWS computed, `id` and `arn` among them; for the stack itself: the stack outputs).
The SDK wraps props in proxies that raise on a value not known yet (a preview's
computed ARN or id), which would abandon the whole policy at the first one. Here they
are read raw instead and each unknown becomes the core's UNKNOWN, so every invariant
judges what is known and says nothing of the rest.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pulumi_policy import PolicyResource
from pulumi_policy.deserialize import serialize_properties
from pulumi_policy.proxy import (
    UNKNOWN_ARCHIVE_VALUE,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_ASSET_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
)

from core.resource_graph import UNKNOWN, Record

# The engine's markers for a value a preview does not know (one per type).
UNKNOWN_MARKERS = frozenset(
    {
        UNKNOWN_BOOLEAN_VALUE,
        UNKNOWN_NUMBER_VALUE,
        UNKNOWN_STRING_VALUE,
        UNKNOWN_ARRAY_VALUE,
        UNKNOWN_ASSET_VALUE,
        UNKNOWN_ARCHIVE_VALUE,
        UNKNOWN_OBJECT_VALUE,
    }
)


def plain(value: Any) -> Any:
    """A property value with the engine's unknown markers as UNKNOWN, and whole numbers
    as int (the engine sends every number as a float: 6379.0)."""
    if isinstance(value, str):
        return UNKNOWN if value in UNKNOWN_MARKERS else value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


def record_of(resource: PolicyResource) -> Record:
    # serialize_properties reads through the SDK's proxies without tripping on unknowns.
    props = plain(serialize_properties(resource.props))
    return Record(resource.resource_type, resource.name, props, props)


def records_of(resources: Iterable[PolicyResource]) -> list[Record]:
    return [record_of(resource) for resource in resources]
