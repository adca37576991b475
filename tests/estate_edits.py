"""Changed copies of the live-estate record (core/live_estate.py), for the cutover tests.

The record is frozen; these rebuild the path down to one entry, so a test can fill a
placeholder the way an operator will (a Fact with the value the AWS call returned) or
add a Difference, and watch what follows.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from core.live_estate import Difference, Fact, LiveEstate, Placeholder, placeholders

_STEP = re.compile(r"([^.\[\]]+)((?:\[\d+\])*)")


def with_entry(estate: LiveEstate, path: str, entry: Any) -> LiveEstate:
    """`estate` with the entry at `path` (a record path, as `lookup` takes it) replaced by `entry`."""
    steps: list[str | int] = []
    for step in path.split("."):
        match = _STEP.fullmatch(step)
        assert match, step
        steps.append(match[1])
        steps += [int(i) for i in re.findall(r"\[(\d+)\]", match[2])]
    return _replaced(estate, steps, entry)


def _replaced(node: Any, steps: list[str | int], entry: Any) -> Any:
    if not steps:
        return entry
    step, rest = steps[0], steps[1:]
    if isinstance(node, Mapping):
        return MappingProxyType({**node, step: _replaced(node[step], rest, entry)})
    if isinstance(node, tuple):
        assert isinstance(step, int)
        return node[:step] + (_replaced(node[step], rest, entry),) + node[step + 1 :]
    assert isinstance(step, str)
    return dataclasses.replace(node, **{step: _replaced(getattr(node, step), rest, entry)})


def filled(estate: LiveEstate, path: str, value: Any) -> LiveEstate:
    """The placeholder at `path` filled in with `value`, as the cutover's first step does."""
    return with_entry(estate, path, Fact(value=value, sources=()))


def with_difference(estate: LiveEstate, *live_facts: str, subject: str = "a deliberate change") -> LiveEstate:
    difference = Difference(subject=subject, live="live", ours="ours", why="a test", live_facts=live_facts)
    return dataclasses.replace(estate, differences=(*estate.differences, difference))


def without_differences(estate: LiveEstate) -> LiveEstate:
    return dataclasses.replace(estate, differences=())


def placeholder_paths(estate: LiveEstate) -> set[str]:
    return {path for path, _ in placeholders(estate)}


__all__ = ["Placeholder", "filled", "placeholder_paths", "with_difference", "with_entry", "without_differences"]
