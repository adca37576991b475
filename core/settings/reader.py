"""Reading raw config values: bounded, type-checked, and never raising.

Every reader records a Problem and returns None instead of raising, so one
pass over the config reports everything that is wrong with it. `Reader.read`
checks a value against its declaration (declarations.py); `Section` reads the
keys of one declared mapping that way and refuses the keys not declared in it.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from core.arns import parse_arn
from core.settings import declarations
from core.settings.fields import NAMESPACE, REQUIRED, ArnShape, DerivedDefault, Kind, Marker, Setting
from core.settings.problems import Problem

# A key absent from the config (None is a value YAML can hold).
MISSING = object()
# `Reader.read` without a default of the caller's: the declared one applies.
_DECLARED = object()

T = TypeVar("T")


class Reader:
    def __init__(self, namespace: str = NAMESPACE):
        self.namespace = namespace
        self.problems: list[Problem] = []

    def key(self, path: str) -> str:
        return f"{self.namespace}:{path}"

    def problem(self, path: str, what: str, fix: str) -> None:
        self.problems.append(Problem(self.key(path), what, fix))

    # -- containers ---------------------------------------------------------

    def mapping(
        self, value: Any, path: str, allowed: Iterable[str] | None = None, example: str = ""
    ) -> dict[str, Any] | None:
        if value is MISSING or value is None:
            return {}
        if not isinstance(value, Mapping):
            self.problem(
                path,
                f"must be a mapping, got {kind_of(value)}",
                f"write it as a YAML mapping of keys to values{example}",
            )
            return None
        result: dict[str, Any] = {}
        for raw_key, raw_value in value.items():
            if not isinstance(raw_key, str):
                self.problem(path, f"has a non-text key {raw_key!r}", "quote the key")
                continue
            result[raw_key] = raw_value
        if allowed is not None:
            self.reject_unknown(result, path, allowed)
        return result

    def reject_unknown(self, values: Mapping[str, Any], path: str, allowed: Iterable[str]) -> None:
        allowed = sorted(allowed)
        for name in values:
            if name in allowed:
                continue
            close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'?" if close else "known keys: " + ", ".join(allowed)
            self.problem(join(path, name), "is not a known setting", f"remove it or rename it; {hint}")

    def list_of(
        self, value: Any, path: str, item: Callable[[Any, str], Any], required: bool = False, fix: str = ""
    ) -> tuple[Any, ...] | None:
        if value is MISSING or value is None:
            if required:
                self.problem(path, "is required", fix or "set it to a list")
                return None
            return ()
        if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
            self.problem(path, f"must be a list, got {kind_of(value)}", fix or "write it as a YAML list")
            return None
        items = [item(v, f"{path}[{i}]") for i, v in enumerate(value)]
        if any(i is None for i in items):
            return None
        return tuple(items)

    # -- scalars ------------------------------------------------------------

    def text(
        self,
        value: Any,
        path: str,
        *,
        required: bool = True,
        default: str | None = None,
        pattern: re.Pattern[str] | None = None,
        shape: str = "",
        fix: str = "",
        refused: str = "",
        refused_fix: str = "",
    ) -> str | None:
        if value is MISSING or value is None or value == "":
            if required:
                self.problem(path, "is required but not set", fix or f"set it{to_shape(shape)}")
            return default
        if not isinstance(value, str):
            self.problem(path, f"must be text, got {kind_of(value)}", fix or f"quote the value{to_shape(shape)}")
            return None
        if pattern is not None and not pattern.match(value):
            self.problem(
                path,
                refused.format(value=value) if refused else f"{value!r} is not {shape or 'valid'}",
                refused_fix or fix or (f"use {shape}" if shape else "use a valid value"),
            )
            return None
        return value

    def integer(
        self, value: Any, path: str, *, default: int | None = None, low: int, high: int, fix: str = ""
    ) -> int | None:
        if value is MISSING or value is None:
            if default is None:
                self.problem(path, "is required but not set", fix or f"set a whole number from {low} to {high}")
            return default
        # YAML gives "512" for a quoted number and pulumi config values are text.
        if isinstance(value, str) and re.fullmatch(r"-?\d{1,12}", value.strip()):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(
                path, f"must be a whole number, got {kind_of(value)}", fix or f"use a whole number from {low} to {high}"
            )
            return None
        if not low <= value <= high:
            self.problem(path, f"{value} is out of range", fix or f"use a whole number from {low} to {high}")
            return None
        return value

    def boolean(self, value: Any, path: str, *, default: bool) -> bool | None:
        if value is MISSING or value is None:
            return default
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if not isinstance(value, bool):
            self.problem(path, f"must be true or false, got {kind_of(value)}", "use true or false")
            return None
        return value

    def arn(
        self,
        value: Any,
        path: str,
        *,
        shape: ArnShape,
        region: str | None,
        account: str | None,
        required: bool = True,
    ) -> str | None:
        what = shape.what
        text = self.text(value, path, required=required, shape=f"the ARN of {what}")
        if text is None:
            return None
        arn = parse_arn(text)
        if arn is None or arn.service != shape.service or not arn.resource.startswith(shape.resource_prefix):
            self.problem(path, f"{text!r} is not the ARN of {what}", f"use an ARN shaped like {shape.example}")
            return None
        if not shape.in_stack_account:
            return text
        if region and arn.region and arn.region != region:
            self.problem(
                path,
                f"is in region {arn.region} but the stack deploys to {region} (aws:region)",
                f"use {what} in {region}, or fix aws:region",
            )
        if account and arn.account and arn.account != account:
            self.problem(
                path,
                f"belongs to account {arn.account} but the stack is for account {account} ({self.key('account_id')})",
                f"use {what} from account {account}, or fix {self.key('account_id')}",
            )
        return text

    # -- through a declaration ------------------------------------------------

    def read(
        self,
        setting: Setting,
        value: Any,
        path: str,
        *,
        default: Any = _DECLARED,
        region: str | None = None,
        account: str | None = None,
        item: Callable[[Any, str], Any] | None = None,
    ) -> Any:
        """`value` (found at `path`) checked against `setting`: its kind, bounds and
        default. `default` is for the defaults the declaration says are derived;
        `region`/`account` scope ARNs; `item` reads each mapping of a list of them."""
        fallback: Any = setting.default if default is _DECLARED else default
        if isinstance(fallback, DerivedDefault):
            raise TypeError(f"{setting.key}: its default ({fallback.says}) is derived; the reader must pass it")
        required = fallback is REQUIRED
        if isinstance(fallback, Marker):
            fallback = None
        fix = setting.fix_at(path)
        match setting.kind:
            case Kind.TEXT if setting.arn is not None and isinstance(value, str) and value.startswith("arn:"):
                # A name or an ARN: an ARN is checked as one (service, region, account).
                return self.arn(value, path, shape=setting.arn_shape, region=region, account=account)
            case Kind.TEXT:
                return self.text(
                    value,
                    path,
                    required=required,
                    default=fallback,
                    pattern=setting.pattern,
                    shape=setting.shape,
                    fix=fix,
                    refused=setting.refused,
                    refused_fix=setting.refused_fix,
                )
            case Kind.WHOLE_NUMBER:
                return self._number(setting, value, path, fallback, fix)
            case Kind.BOOLEAN:
                return self.boolean(value, path, default=fallback)
            case Kind.ARN:
                return self.arn(value, path, shape=setting.arn_shape, region=region, account=account, required=required)
            case Kind.TEXT_LIST:
                return self.list_of(
                    value,
                    path,
                    lambda v, p: self.text(v, p, pattern=setting.pattern, shape=setting.shape),
                    required=required,
                    fix=fix,
                )
            case Kind.ARN_LIST:
                return self.list_of(
                    value,
                    path,
                    lambda v, p: self.arn(v, p, shape=setting.arn_shape, region=region, account=account),
                    required=required,
                    fix=fix,
                )
            case Kind.SECTION_LIST:
                if item is None:
                    raise TypeError(f"{setting.key}: a list of mappings needs the reader of one item")
                return self.list_of(value, path, item, required=required, fix=fix)
            case Kind.TEXT_MAPPING | Kind.SECTION_MAPPING:
                # Names chosen by the stack: the section reader checks each entry.
                return self.mapping(value, path, example=_example(setting))
        raise TypeError(f"{setting.key}: read a {setting.kind!r} with Reader.section")

    def _number(self, setting: Setting, value: Any, path: str, default: int | None, fix: str) -> int | None:
        low, high = setting.number_range
        number = self.integer(value, path, default=default, low=low, high=high, fix=fix or setting.allowed_fix)
        if number is not None and setting.allowed and number not in setting.allowed:
            self.problem(
                path,
                setting.refused.format(value=number) if setting.refused else f"{number} is not allowed",
                setting.refused_fix or setting.allowed_fix,
            )
            return None
        return number

    def section(self, key: str, raw: Any, path: str) -> Section | None:
        """The declared section `key` (a `x[]` for one item of a list), found at `path`."""
        allowed = declarations.child_names(key)
        container = declarations.declared(key.removesuffix("[]"))
        values = self.mapping(raw, path, allowed=allowed, example=_example(container))
        return None if values is None else Section(self, key, path, values)


class Section:
    """The values of one declared mapping, each read through its declaration."""

    def __init__(self, reader: Reader, key: str, path: str, values: dict[str, Any]):
        self.reader = reader
        self.key = key  # as declared: services.<service>
        self.path = path  # as configured: services.api
        self.values = values

    def setting(self, name: str) -> Setting:
        return declarations.declared(join(self.key, name))

    def raw(self, name: str) -> Any:
        return self.values.get(name, MISSING)

    def given(self, name: str) -> bool:
        """Whether the stack sets `name` to something (an empty text counts as not set)."""
        return self.values.get(name) not in (None, "")

    def path_of(self, name: str) -> str:
        return join(self.path, name)

    def read(self, name: str, **options: Any) -> Any:
        return self.reader.read(self.setting(name), self.raw(name), self.path_of(name), **options)


def present(value: T | None, path: str) -> T:
    """`value`, read while no problem was recorded. A reader returns None only after recording
    a problem, so once there are none every required value is here: this says so to the type
    checker, and turns a reader that breaks the rule into an error naming it, not into
    Settings holding a None."""
    if value is None:
        raise AssertionError(f"{path} was read as None with no problem recorded: a bug in its reader")
    return value


def _example(setting: Setting) -> str:
    return f", e.g. {setting.example}" if setting.example else ""


def join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def kind_of(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"the boolean {value!r}"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the text {value[:40]!r}"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    return type(value).__name__


def to_shape(shape: str) -> str:
    return f" to {shape}" if shape else ""
