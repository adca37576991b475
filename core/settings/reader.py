"""Reading raw config values: bounded, type-checked, and never raising.

Every reader records a Problem and returns None instead of raising, so one
pass over the config reports everything that is wrong with it.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from core import naming
from core.arns import parse_arn
from core.settings.problems import Problem

NAMESPACE = naming.PROJECT

# A key absent from the config (None is a value YAML can hold).
MISSING = object()


class Reader:
    def __init__(self, namespace: str):
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
    ) -> str | None:
        if value is MISSING or value is None or value == "":
            if required:
                self.problem(path, "is required but not set", fix or f"set it{to_shape(shape)}")
            return default
        if not isinstance(value, str):
            self.problem(path, f"must be text, got {kind_of(value)}", fix or f"quote the value{to_shape(shape)}")
            return None
        if pattern is not None and not pattern.match(value):
            self.problem(path, f"{value!r} is not {shape or 'valid'}", fix or f"use{to_shape(shape)}")
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
        service: str,
        resource_prefix: str,
        what: str,
        region: str | None,
        account: str | None,
        required: bool = True,
    ) -> str | None:
        text = self.text(value, path, required=required, shape=f"the ARN of {what}")
        if text is None:
            return None
        arn = parse_arn(text)
        example = f"arn:aws:{service}:<region>:<account>:{resource_prefix}..."
        if arn is None or arn.service != service or not arn.resource.startswith(resource_prefix):
            self.problem(path, f"{text!r} is not the ARN of {what}", f"use an ARN shaped like {example}")
            return None
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
