"""One value of `Pulumi.<stack>.yaml` changed in place, every other byte kept. Pure (PyYAML only).

The deploy-image workflow commits the new image to main, so that git stays what
runs. `pulumi config set` would do the same edit but rewrites the whole file:
keys sorted, every comment dropped (pulumi/pulumi#423, #3613), which would turn
a one-line bot commit into an unreadable one and lose the comments that say why
each id is there. This replaces the text of exactly one existing scalar, keeps
its quoting style, and proves the result: read back (core/safe_yaml.py), the
file must hold what it held before with that one value changed.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import yaml

from core import safe_yaml

# What may be written unquoted: an image reference, a name, a number-free word.
_PLAIN_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/@:-]*")


class StackFileEditError(Exception):
    """The value to change is not there, is not a scalar, or the edit would change anything else."""


def with_value(text: str, path: tuple[str, ...], value: str) -> str:
    """`text` with the scalar at `path` (from the document's root, e.g. ("config",
    "hokusai:services", "api", "image")) replaced by `value`, everything else untouched."""
    try:
        before = safe_yaml.load(text)
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except (safe_yaml.YamlRefused, yaml.YAMLError) as error:
        raise StackFileEditError(f"the stack file cannot be read: {error}") from None
    node = _scalar_at(root, path)
    start, end = node.start_mark.index, node.end_mark.index
    edited = text[:start] + _render(value, node.style) + text[end:]
    expected = copy.deepcopy(before)
    _set(expected, path, value)
    try:
        after = safe_yaml.load(edited)
    except safe_yaml.YamlRefused as error:  # a rendering mistake, never the caller's input
        raise StackFileEditError(f"the edited file would not read back: {error}") from None
    if after != expected:
        raise StackFileEditError(f"the edit of {'.'.join(path)} would change more than that value")
    return edited


def _scalar_at(node: yaml.Node | None, path: tuple[str, ...]) -> yaml.ScalarNode:
    walked: list[str] = []
    for key in path:
        walked.append(key)
        if not isinstance(node, yaml.MappingNode):
            raise StackFileEditError(f"{'.'.join(walked[:-1]) or 'the file'} is not a mapping")
        node = next((v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == key), None)
        if node is None:
            raise StackFileEditError(f"{'.'.join(walked)} is not in the stack file")
    if not isinstance(node, yaml.ScalarNode) or node.tag != "tag:yaml.org,2002:str":
        raise StackFileEditError(f"{'.'.join(path)} is not a text value")
    return node


def _render(value: str, style: str | None) -> str:
    """`value` written the way the old value was: plain, 'single' or "double" quoted."""
    if style is None and _PLAIN_SAFE.fullmatch(value) and yaml.safe_load(value) == value:
        return value
    if style == '"':
        return json.dumps(value)
    return "'" + value.replace("'", "''") + "'"


def _set(document: Any, path: tuple[str, ...], value: str) -> None:
    for key in path[:-1]:
        document = document[key]
    document[path[-1]] = value
