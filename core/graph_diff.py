"""Two renderings of a stack -> what changed, resource by resource and property by property. Pure.

`make diff` (synth/diff.py) renders the base and the head offline and hands both lists of
records here. A resource is known by its type and logical name (what its URN is made of);
one only on the head is added, one only on the base removed, one on both with other inputs
changed. Each changed property is a path and its old and new value:

    containerDefinitions[api].image: ".../api:2025-10-07" -> ".../api:2025-11-02"
    containerDefinitions[api].secrets[HUGGINGFACE_API_KEY].valueFrom: "arn:...:a-XyZ" -> "arn:...:b-QrS"

- JSON held in strings (container definitions, policies) is compared as data (core/embedded_json.py);
- a list of named objects (containers, environment, secrets, IAM statements by Sid) is keyed by
  the name, so inserting one element does not show every later one as changed;
- a list of plain values (actions, ARNs, subnets) shows the values added and removed;
- a property that forces a replacement is marked so (core/replacement.py), and so is the resource;
- a value that may be a credential (a secret-looking environment variable, a secret version's
  value) is never shown, only that it changed.

Component resources (`hokusai:...`) exist only in Pulumi's state, not in AWS, and inputs the
engine adds (`__provider`, ...) are no one's change: both are left out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final, Protocol

from core.contract import looks_secret
from core.embedded_json import decoded
from core.naming import PROJECT
from core.replacement import forces_replacement, may_force_replacement


class Absent:
    """The value on the side where a property (or element) does not exist."""

    _instance: Absent | None = None

    def __new__(cls) -> Absent:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "(absent)"


ABSENT: Final = Absent()

# What a value that may be a credential is shown as.
HIDDEN: Final = "(hidden: may be a credential)"
# Inputs that hold a secret's value itself (aws:secretsmanager/secretVersion:SecretVersion).
SECRET_VALUE_INPUTS = frozenset({"secretString", "secretBinary", "secretStringWo"})
# The keys that name an element of a list of objects, in the order they are tried.
NAME_KEYS = ("name", "Sid", "containerName")


class Replacement(StrEnum):
    NONE = ""
    FORCES = "forces replacement"
    MAY = "may force replacement"


class Action(StrEnum):
    ADD = "add"
    REMOVE = "remove"
    UPDATE = "update"
    REPLACE = "replace"


@dataclass(frozen=True)
class PropertyChange:
    path: str
    # ABSENT on the side the property (or list element) does not exist on.
    old: Any
    new: Any
    replacement: Replacement = Replacement.NONE
    # True when the values shown are HIDDEN.
    hidden: bool = False


@dataclass(frozen=True)
class ResourceChange:
    type: str
    name: str
    action: Action
    # UPDATE / REPLACE: what changed. ADD / REMOVE: nothing (see inputs).
    changes: tuple[PropertyChange, ...]
    # The decoded inputs on each side (None where the resource does not exist).
    old_inputs: Mapping[str, Any] | None
    new_inputs: Mapping[str, Any] | None

    @property
    def urn_name(self) -> str:
        """`type::name`, the tail of the resource's URN."""
        return f"{self.type}::{self.name}"

    @property
    def inputs(self) -> Mapping[str, Any]:
        """The inputs it has after the change (before it, when it is removed)."""
        return self.new_inputs if self.new_inputs is not None else self.old_inputs or {}


@dataclass(frozen=True)
class GraphDiff:
    # Every added, removed or changed resource, sorted by type and name.
    resources: tuple[ResourceChange, ...]
    unchanged: int

    def of(self, *actions: Action) -> list[ResourceChange]:
        return [r for r in self.resources if r.action in actions]

    @property
    def empty(self) -> bool:
        return not self.resources


class Recorded(Protocol):
    """A resource as the render records it (core.resource_graph.Record, synth.mocks.Registered)."""

    @property
    def type(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def inputs(self) -> Mapping[str, Any]: ...


class GraphDiffError(ValueError):
    """The records cannot be diffed (two resources share a type and name)."""


def is_component(type_: str) -> bool:
    """The project's component resources (`hokusai:ecs:Service`): they own resources, they are none."""
    return type_.startswith(f"{PROJECT}:")


def diff_graphs(old: Iterable[Recorded], new: Iterable[Recorded]) -> GraphDiff:
    """What changes from the `old` records (the base) to the `new` ones (the head)."""
    before, after = _by_key(old, "base"), _by_key(new, "head")
    changes: list[ResourceChange] = []
    unchanged = 0
    for key in sorted(before.keys() | after.keys()):
        type_, name = key
        old_inputs = _inputs(before[key]) if key in before else None
        new_inputs = _inputs(after[key]) if key in after else None
        if old_inputs is None:
            changes.append(ResourceChange(type_, name, Action.ADD, (), None, new_inputs))
        elif new_inputs is None:
            changes.append(ResourceChange(type_, name, Action.REMOVE, (), old_inputs, None))
        else:
            found = tuple(property_changes(type_, old_inputs, new_inputs))
            if not found:
                unchanged += 1
                continue
            replaces = any(c.replacement is Replacement.FORCES for c in found)
            action = Action.REPLACE if replaces else Action.UPDATE
            changes.append(ResourceChange(type_, name, action, found, old_inputs, new_inputs))
    return GraphDiff(tuple(changes), unchanged)


def _by_key(records: Iterable[Recorded], side: str) -> dict[tuple[str, str], Recorded]:
    found: dict[tuple[str, str], Recorded] = {}
    for record in records:
        if is_component(record.type):
            continue
        key = (record.type, record.name)
        if key in found:
            raise GraphDiffError(
                f"the {side} has two resources of type {record.type} named {record.name!r}: "
                "the diff knows a resource by its type and logical name, as its URN does"
            )
        found[key] = record
    return found


def _inputs(record: Recorded) -> dict[str, Any]:
    return {key: decoded(value) for key, value in record.inputs.items() if not key.startswith("__")}


# --------------------------------------------------------------------------- #
# Properties
# --------------------------------------------------------------------------- #

Part = str  # `image`, or an element: `[api]`, `[0]`


def property_changes(type_: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterator[PropertyChange]:
    """Every leaf that differs between two (decoded) input mappings of a resource of `type_`."""
    for parts, before, after in _walk((), old, new):
        path = format_path(parts)
        if forces_replacement(type_, path):
            replacement = Replacement.FORCES
        elif may_force_replacement(type_, path):
            replacement = Replacement.MAY
        else:
            replacement = Replacement.NONE
        shown_old, hidden_old = redacted(parts, before)
        shown_new, hidden_new = redacted(parts, after)
        yield PropertyChange(path, shown_old, shown_new, replacement, hidden_old or hidden_new)


def _walk(parts: tuple[Part, ...], old: Any, new: Any) -> Iterator[tuple[tuple[Part, ...], Any, Any]]:
    if old == new:
        return
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        for key in sorted(old.keys() | new.keys()):
            yield from _walk((*parts, _key_part(key)), old.get(key, ABSENT), new.get(key, ABSENT))
        return
    if isinstance(old, list) and isinstance(new, list):
        yield from _walk_lists(parts, old, new)
        return
    yield parts, old, new


def _walk_lists(parts: tuple[Part, ...], old: list[Any], new: list[Any]) -> Iterator[tuple[tuple[Part, ...], Any, Any]]:
    name_key = list_name_key(old, new)
    if name_key is not None:
        before = {item[name_key]: item for item in old}
        after = {item[name_key]: item for item in new}
        names = list(before) + [name for name in after if name not in before]
        if set(before) == set(after) and all(before[n] == after[n] for n in before):
            # Only the order changed.
            yield parts, [item[name_key] for item in old], [item[name_key] for item in new]
            return
        for name in names:
            yield from _walk((*parts, f"[{name}]"), before.get(name, ABSENT), after.get(name, ABSENT))
        return
    if all(_is_scalar(v) for v in (*old, *new)):
        removed = _minus(old, new)
        added = _minus(new, old)
        if not removed and not added:
            yield parts, old, new  # the same values in another order
            return
        for value in removed:
            yield parts, value, ABSENT
        for value in added:
            yield parts, ABSENT, value
        return
    for index in range(max(len(old), len(new))):
        yield from _walk(
            (*parts, f"[{index}]"),
            old[index] if index < len(old) else ABSENT,
            new[index] if index < len(new) else ABSENT,
        )


def list_name_key(*lists: Sequence[Any]) -> str | None:
    """The key that names every element of these lists of objects (unique within each), if one does."""
    items = [item for values in lists for item in values]
    if not items or not all(isinstance(item, Mapping) for item in items):
        return None
    for key in NAME_KEYS:
        if all(isinstance(item.get(key), str) for item in items) and all(
            len({item[key] for item in values}) == len(values) for values in lists
        ):
            return key
    return None


def _is_scalar(value: object) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _minus(values: list[Any], others: list[Any]) -> list[Any]:
    """`values` without one occurrence of each of `others` (a multiset difference, in order)."""
    remaining = list(others)
    result = []
    for value in values:
        if value in remaining:
            remaining.remove(value)
        else:
            result.append(value)
    return result


_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_:/@$-]+$")


def _key_part(key: str) -> Part:
    return key if _PLAIN_KEY.match(key) else f'["{key}"]'


def format_path(parts: Sequence[Part]) -> str:
    """(`containerDefinitions`, `[api]`, `image`) -> `containerDefinitions[api].image`."""
    text = ""
    for part in parts:
        text += part if part.startswith("[") or not text else f".{part}"
    return text


# --------------------------------------------------------------------------- #
# Credentials are never shown
# --------------------------------------------------------------------------- #


def _element_name(part: Part) -> str | None:
    return part[1:-1] if part.startswith("[") and not part.startswith('["') else None


def is_credential_path(parts: Sequence[Part]) -> bool:
    """A secret version's value, or the value of an environment variable named like a credential."""
    if not parts:
        return False
    if parts[-1] in SECRET_VALUE_INPUTS:
        return True
    if parts[-1] == "value" and len(parts) >= 2:
        name = _element_name(parts[-2])
        return name is not None and looks_secret(name)
    return False


def redacted(parts: Sequence[Part], value: Any) -> tuple[Any, bool]:
    """`value` as it may be shown at `parts`, and whether anything in it was hidden."""
    if value is ABSENT:
        return value, False
    if is_credential_path(parts):
        return HIDDEN, True
    if isinstance(value, Mapping):
        hidden = False
        shown: dict[str, Any] = {}
        # An element of a named list: {"name": "API_TOKEN", "value": ...} hides its value.
        own_name = value.get("name") if isinstance(value.get("name"), str) else None
        for key, item in value.items():
            if key == "value" and own_name is not None and looks_secret(own_name) or key in SECRET_VALUE_INPUTS:
                shown[key], hidden = HIDDEN, True
                continue
            shown[key], inner = redacted((*parts, _key_part(key)), item)
            hidden = hidden or inner
        return shown, hidden
    if isinstance(value, list):
        name_key = list_name_key(value)
        result, hidden = [], False
        for index, item in enumerate(value):
            part = f"[{item[name_key]}]" if name_key is not None else f"[{index}]"
            shown_item, inner = redacted((*parts, part), item)
            result.append(shown_item)
            hidden = hidden or inner
        return result, hidden
    return value, False
