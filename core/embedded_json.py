"""JSON documents held in strings (container definitions, IAM policies, dashboards), as data. Pure.

Several inputs are a JSON document written into a string: `containerDefinitions`, a role's
`policy` and `assumeRolePolicy`, a dashboard's `dashboardBody`. As text they are one escaped
line, so a review sees "this line changed", not which secret or statement did. Two readers
want them as nested data:

- the diff (core/graph_diff.py) compares them structurally: `decoded(value)`;
- the committed snapshot (tests/snapshots/<stack>.json) shows them pretty-printed: `readable(value)`
  wraps each in {"$json": ...} so `from_readable` can turn it back into the string.

Which strings count: a JSON object or array exactly as Python's `json.dumps` writes it, which is
how the program writes every document it builds (infra/task_roles.py, infra/service.py). A
string written any other way (`'{"detail":"Not Found"}'`, a fixed-response body) stays text:
its bytes are what AWS gets, so a change to them must show. The documents that are decoded
are compared as JSON, as the AWS provider compares them (key order is not a change: its
diff suppresses equivalent container definitions and policies), and `from_readable` writes
them back with the keys sorted.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

# The key of the object that stands for a decoded string in the readable form.
MARKER = "$json"


def embedded_document(value: object) -> Any | None:
    """The JSON object or array `value` holds, when it is a string `json.dumps` wrote; else None."""
    if not isinstance(value, str) or not value.startswith(("{", "[")):
        return None
    try:
        parsed = json.loads(value)
    except ValueError:
        return None
    if not isinstance(parsed, (dict, list)) or json.dumps(parsed) != value:
        return None
    return parsed


def decoded(value: Any) -> Any:
    """`value` with every embedded JSON document (at any depth, also inside another) as data."""
    document = embedded_document(value)
    if document is not None:
        return decoded(document)
    if isinstance(value, Mapping):
        return {key: decoded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [decoded(item) for item in value]
    return value


class MarkerCollision(ValueError):
    """An input that already looks like the readable form's marker: the snapshot could not be read back."""


def readable(value: Any) -> Any:
    """`value` with every embedded JSON document replaced by {"$json": <the document, readable too>}."""
    document = embedded_document(value)
    if document is not None:
        return {MARKER: readable(document)}
    if isinstance(value, Mapping):
        if set(value) == {MARKER}:
            raise MarkerCollision(
                f"an input is an object whose only key is {MARKER!r}, the snapshot's marker for a JSON "
                f"string: it could not be told apart from one; rename the key or change core/embedded_json.py MARKER"
            )
        return {key: readable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [readable(item) for item in value]
    return value


def from_readable(value: Any) -> Any:
    """The inverse of `readable`: each {"$json": document} back to a string (keys sorted)."""
    if isinstance(value, Mapping):
        if set(value) == {MARKER}:
            return json.dumps(from_readable(value[MARKER]), sort_keys=True)
        return {key: from_readable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [from_readable(item) for item in value]
    return value
