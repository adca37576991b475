"""What one declared setting says about itself: key, kind, default, bounds, words.

The declarations themselves are in declarations.py; the readers (reader.py)
check a value against them, and docs.py prints them. A bound written here is
therefore enforced and documented by the same object.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum, StrEnum
from types import MappingProxyType

from core import naming

NAMESPACE = naming.PROJECT

# The one empty mapping every mapping setting without entries defaults to;
# read-only, because a declaration is shared by every stack that is loaded.
EMPTY_MAPPING: Mapping[str, str] = MappingProxyType({})


class Kind(StrEnum):
    """The shape of a value; the value is how the docs name it."""

    TEXT = "text"
    WHOLE_NUMBER = "whole number"
    BOOLEAN = "true/false"
    ARN = "ARN"
    TEXT_LIST = "list of text"
    ARN_LIST = "list of ARNs"
    # name -> text, each name and value checked (tags, environment, extra consumers)
    TEXT_MAPPING = "mapping of text"
    # fixed keys, each declared with `<this key>.<name>`
    SECTION = "mapping"
    # a list of sections, their keys declared with `<this key>[].<name>` (routes)
    SECTION_LIST = "list of mappings"
    # name -> section, the section declared as `<this key>.<placeholder>` (services, secrets)
    SECTION_MAPPING = "mapping of mappings"


LISTS = frozenset({Kind.TEXT_LIST, Kind.ARN_LIST, Kind.SECTION_LIST})
MAPPINGS = frozenset({Kind.TEXT_MAPPING, Kind.SECTION, Kind.SECTION_MAPPING})


class Marker(Enum):
    """A default that is not a value; the value is what the docs print.
    (Not a StrEnum: a text setting's default may never be mistaken for one.)"""

    # Absent: the loader refuses the stack, naming this key or one below it.
    REQUIRED = "required"
    # Absent: the feature is not used (no listener adopted, no KMS key, ...).
    UNSET = "–"


REQUIRED = Marker.REQUIRED
UNSET = Marker.UNSET


@dataclass(frozen=True)
class DerivedDefault:
    """A default the section reader computes from other settings (it must pass it);
    `says` is how the docs put it."""

    says: str


@dataclass(frozen=True)
class ArnShape:
    """Which ARNs a setting accepts."""

    service: str
    resource_prefix: str
    what: str  # "an ACM certificate"
    # An ARN of the stack's own must be in its region and account. False for ARNs
    # that need not be: an IAM policy has no region and may be another account's.
    in_stack_account: bool = True

    @property
    def example(self) -> str:
        return f"arn:aws:{self.service}:<region>:<account>:{self.resource_prefix}..."


Default = int | bool | str | tuple[()] | Mapping[str, str] | Marker | DerivedDefault


@dataclass(frozen=True)
class Setting:
    """One config key, declared once.

    `key` is the path under the namespace, with `<placeholder>` segments for
    names the stack chooses (`services.<service>.cpu`) and `[]` for the items of
    a list (`services.<service>.routes[].priority`).
    """

    key: str
    kind: Kind
    description: str
    default: Default = REQUIRED
    namespace: str = NAMESPACE
    # Numbers: the values accepted, or the range. With `allowed`, the range is its span.
    allowed: tuple[int, ...] = ()
    low: int | None = None
    high: int | None = None
    # Text (each item, for lists and mappings): what it must match, in words in `shape`.
    pattern: re.Pattern[str] | None = None
    shape: str = ""
    arn: ArnShape | None = None
    # Mappings: what each entry's name must match, in words in `names_shape`.
    names: re.Pattern[str] | None = None
    names_shape: str = ""
    # The fix offered when the value is missing or of the wrong type; may name
    # `{path}` (the key as configured) and the key's placeholders (`{service}`).
    fix: str = ""
    # What is wrong, and the fix, when a value is well-typed but not accepted
    # (pattern or allowed values); `refused` may name `{value}`.
    refused: str = ""
    refused_fix: str = ""
    # Mappings: an example shown when something else is given.
    example: str = ""

    def __post_init__(self) -> None:
        # A declaration that could not be read or documented fails at import, not in a stack.
        if self.kind is Kind.WHOLE_NUMBER and self.bounds is None:
            raise ValueError(f"{self.key}: a whole number needs `allowed` or `low` and `high`")
        if self.kind is Kind.WHOLE_NUMBER and self.default is UNSET:
            raise ValueError(f"{self.key}: a whole number is required, or has a default")
        if self.kind is Kind.BOOLEAN and not isinstance(self.default, bool):
            raise ValueError(f"{self.key}: a boolean has a default, true or false")
        if self.kind in LISTS and not (isinstance(self.default, Marker) or self.default == ()):
            raise ValueError(f"{self.key}: a list defaults to nothing, () or REQUIRED")
        if self.kind in MAPPINGS and not (isinstance(self.default, Marker) or self.default == EMPTY_MAPPING):
            raise ValueError(f"{self.key}: a mapping defaults to nothing, EMPTY_MAPPING or REQUIRED")
        if self.kind in (Kind.ARN, Kind.ARN_LIST) and self.arn is None:
            raise ValueError(f"{self.key}: an ARN setting needs its ArnShape")

    @property
    def name(self) -> str:
        """The last segment of the key: what the enclosing mapping calls it."""
        return self.key.rpartition(".")[2]

    @property
    def parent(self) -> str:
        """The key of the section this setting is in ("" at the top level)."""
        return self.key.rpartition(".")[0]

    @property
    def config_key(self) -> str:
        return f"{self.namespace}:{self.key}"

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    @property
    def bounds(self) -> tuple[int, int] | None:
        if self.allowed:
            return min(self.allowed), max(self.allowed)
        if self.low is None or self.high is None:
            return None
        return self.low, self.high

    @property
    def number_range(self) -> tuple[int, int]:
        """The bounds of a whole number (__post_init__ makes sure it has them)."""
        if self.bounds is None:
            raise TypeError(f"{self.key}: declares no range")
        return self.bounds

    @property
    def arn_shape(self) -> ArnShape:
        """The ARNs an ARN setting accepts (__post_init__ makes sure it has them)."""
        if self.arn is None:
            raise TypeError(f"{self.key}: declares no ArnShape")
        return self.arn

    def matches(self, text: str) -> bool:
        """Whether `text` has the declared pattern (any text, without one)."""
        return self.pattern is None or bool(self.pattern.match(text))

    @property
    def allowed_fix(self) -> str:
        return "use one of " + ", ".join(map(str, self.allowed)) if self.allowed else ""

    def accepts_name(self, name: str) -> bool:
        """Whether a mapping's entry may be called `name` (any name, without `names`)."""
        return self.names is None or bool(self.names.match(name))

    def placeholders(self, path: str) -> dict[str, str]:
        """The names the stack chose, from the key as configured:
        `services.<service>.cpu` at `services.api.cpu` -> {"service": "api"}."""
        return {
            segment[1:-1]: chosen
            for segment, chosen in zip(self.key.split("."), path.split("."), strict=False)
            if segment.startswith("<") and segment.endswith(">")
        }

    def fix_at(self, path: str) -> str:
        return self.fix.format(path=path, **self.placeholders(path)) if self.fix else ""
