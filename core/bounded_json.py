"""JSON parsed within bounds: size, nesting depth, length of whole numbers. Pure.

`json.loads` alone accepts what no input of this project holds and what costs a traceback
or unbounded time downstream: nesting deep enough for a RecursionError (the parser's, or
the next recursive walk's), whole numbers of any length (int() refuses past 4300 digits),
NaN and Infinity (not JSON), and a repeated key (the last silently wins). `parse` refuses
each with a message saying where; it raises nothing but JsonRefused.
"""

from __future__ import annotations

import json
import math
from typing import Any

MAX_DEPTH = 32
MAX_INT_DIGITS = 18


class JsonRefused(ValueError):
    """Not JSON, or JSON outside the bounds; the message says what and where."""


class NotJson(JsonRefused):
    """Not JSON at all (as opposed to JSON outside the bounds)."""


class _Refused(Exception):
    """Raised from inside json.loads' hooks (a ValueError there would read as a syntax error)."""


def parse(text: str, *, max_bytes: int, max_depth: int = MAX_DEPTH, max_int_digits: int = MAX_INT_DIGITS) -> Any:
    """The JSON value in `text`, or JsonRefused."""
    # Bytes, as a file is measured; a character is at most 4 of them, so the count is
    # only taken when it can matter.
    if len(text) > max_bytes or (len(text) * 4 > max_bytes and len(text.encode("utf-8", "replace")) > max_bytes):
        raise JsonRefused(f"is larger than {max_bytes // 1024} KiB")

    def whole_number(digits: str) -> int:
        if len(digits.lstrip("-")) > max_int_digits:
            raise _Refused(
                f"has a whole number of {len(digits.lstrip('-'))} digits; at most {max_int_digits} are accepted"
            )
        return int(digits)

    def number(digits: str) -> float:
        value = float(digits)
        if not math.isfinite(value):
            raise _Refused(f"has the number {digits[:40]}, too large to be finite")
        return value

    def constant(name: str) -> Any:
        raise _Refused(f"has {name}, which is not JSON")

    def no_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        mapping = dict(pairs)
        if len(mapping) != len(pairs):
            seen: set[str] = set()
            for key, _ in pairs:
                if key in seen:
                    raise _Refused(f"has the key {key[:60]!r} twice in one object")
                seen.add(key)
        return mapping

    try:
        value = json.loads(
            text, parse_int=whole_number, parse_float=number, parse_constant=constant, object_pairs_hook=no_repeats
        )
    except _Refused as refused:
        raise JsonRefused(str(refused)) from None
    except json.JSONDecodeError as error:
        raise NotJson(f"is not JSON: {error.msg} (line {error.lineno}, column {error.colno})") from None
    except RecursionError:
        # The parser recurses once per level: far past any real depth, it gives up this way.
        raise JsonRefused(f"is nested more than {max_depth} levels deep") from None
    _check_nodes(value, max_depth)
    return value


def _check_nodes(value: Any, max_depth: int) -> None:
    """Nesting within `max_depth`, and text that is text: JSON's \ud800 escapes give lone
    surrogates, which no file or terminal can encode. Iterative: no recursion."""
    pending = [(value, 0)]
    while pending:
        node, level = pending.pop()
        if isinstance(node, str):
            _check_text(node)
            continue
        if isinstance(node, dict):
            for key in node:
                _check_text(key)
            children = list(node.values())
        elif isinstance(node, list):
            children = node
        else:
            continue
        if level + 1 > max_depth:
            raise JsonRefused(f"is nested more than {max_depth} levels deep")
        pending.extend((child, level + 1) for child in children)


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise JsonRefused(
            "holds a lone surrogate escape (\\ud800-\\udfff without its pair), which is not a character"
        ) from None
