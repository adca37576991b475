"""Does a set of IAM policy documents allow an action on a resource? Pure.

The verifier reads the execution role's own policies (inline and attached) and
asks this for every secret the running task definition references. IAM's
policy simulator would also do, but it is not offered by every endpoint the
tool must run against (moto), and the role's own statements are what the
program controls. Deliberately conservative: an explicit Deny wins; statements
with NotAction/NotResource, or with conditions, count as "cannot tell".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum
from typing import Any


class Decision(StrEnum):
    ALLOWED = "allowed"
    DENIED = "denied"  # an explicit Deny matches
    NOT_ALLOWED = "not allowed"  # no Allow matches (implicit deny)
    CONDITIONAL = "allowed only under conditions"


def _pattern(text: str) -> re.Pattern[str]:
    """IAM wildcards: `*` any run of characters, `?` one character; nothing else is special."""
    return re.compile(
        "^" + "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text) + "$", re.DOTALL
    )


def _listed(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else [v for v in value if isinstance(v, str)]


def _statements(documents: Iterable[Any]) -> Iterable[dict[str, Any]]:
    for document in documents:
        if not isinstance(document, dict):
            continue
        statements = document.get("Statement", [])
        for statement in [statements] if isinstance(statements, dict) else statements:
            if isinstance(statement, dict):
                yield statement


def _matches(statement: dict[str, Any], action: str, resource: str) -> bool | None:
    """True/False when the statement clearly does or does not apply; None when it uses Not*."""
    if "NotAction" in statement or "NotResource" in statement:
        return None
    action_ok = any(_pattern(a.lower()).match(action.lower()) for a in _listed(statement.get("Action")))
    resource_ok = any(_pattern(r).match(resource) for r in _listed(statement.get("Resource")))
    return action_ok and resource_ok


def evaluate(documents: Iterable[Any], action: str, resource: str) -> Decision:
    documents = list(documents)
    uncertain = False
    allowed = conditional = False
    for statement in _statements(documents):
        applies = _matches(statement, action, resource)
        if applies is None:
            uncertain = True
            continue
        if not applies:
            continue
        if statement.get("Effect") == "Deny" and not statement.get("Condition"):
            return Decision.DENIED
        if statement.get("Effect") == "Allow":
            if statement.get("Condition"):
                conditional = True
            else:
                allowed = True
    if allowed:
        return Decision.ALLOWED
    if conditional or uncertain:
        return Decision.CONDITIONAL
    return Decision.NOT_ALLOWED
