"""Reads `Pulumi.<stack>.yaml` without the Pulumi CLI. Pure (PyYAML only).

For the offline tools (render, envcheck, the fake estate): the Pulumi program
itself gets its config from the CLI (infra/stack_config.py).

The file is read bounded (core/text_file.py: a regular file, UTF-8, at most
STACK_FILE_LIMIT bytes) and parsed as JSON-like data (core/safe_yaml.py: no
aliases, dates, tags, duplicate or non-text keys, deep nesting or huge numbers),
so whatever the file holds the caller gets values or a StackFileError naming the
file, the line, the key and the fix.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from core import safe_yaml
from core.naming import PROJECT
from core.text_file import MissingFile, TextFileError, read_text

PROJECT_DIR = Path(__file__).resolve().parent.parent

# The development stack file is about 3 KiB: this is room for any real one, and a bound
# on what a wrong file (a log, an image) costs to refuse.
STACK_FILE_LIMIT = 256 * 1024
# What Pulumi accepts as a stack's own name (`pulumi stack init`: letters, digits, '-',
# '_', '.'; at most 100). The name becomes part of a file name, so nothing else may.
STACK_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")
SECURE = "secure"


class StackFileError(Exception):
    pass


def stack_file_path(stack: str, project_dir: Path = PROJECT_DIR) -> Path:
    """Where the stack's file is; a name that is not a stack name (a path, '..') is refused."""
    if not STACK_NAME.fullmatch(stack) or set(stack) == {"."}:
        shown = stack if len(stack) <= 60 else stack[:57] + "..."
        fix = "pass the stack's name (letters, digits, '-', '_', '.'), e.g. development"
        if "/" in stack:
            fix += "; for org/project/stack, only the part after the last '/'"
        raise StackFileError(f"{shown!r} is not a stack name: {fix}")
    return project_dir / f"Pulumi.{stack}.yaml"


def read_stack_file(stack: str, project_dir: Path = PROJECT_DIR) -> tuple[dict[str, Any], list[str]]:
    """The stack's config as `key -> value` (values as Python objects) and its secret keys.

    Encrypted (`secure:`) values cannot be decrypted offline; they are replaced by
    a placeholder and reported as secret keys, exactly as Pulumi marks them.
    """
    path = stack_file_path(stack, project_dir)
    try:
        text = read_text(path, limit=STACK_FILE_LIMIT, what="a Pulumi stack file")
    except MissingFile:
        raise StackFileError(
            f"{path.name} does not exist: create it (pulumi stack init {stack}) or pick another stack"
        ) from None
    except TextFileError as error:
        raise StackFileError(str(error)) from None
    try:
        document = safe_yaml.load(text)
    except safe_yaml.YamlRefused as error:
        raise StackFileError(
            f"{path.name} {error.where(config_path(error.path))}: {error.what}\n  fix: {error.fix}"
        ) from None
    config = document.get("config") if isinstance(document, dict) else None
    if not isinstance(config, dict):
        raise StackFileError(
            f"{path.name} has no 'config:' mapping: a stack file holds `config:` with the stack's "
            f"`{PROJECT}:` keys under it (pulumi config set writes them)"
        )
    values: dict[str, Any] = {}
    secret_keys: list[str] = []
    for key, value in config.items():
        if isinstance(value, dict) and set(value) == {SECURE}:
            values[key] = "[secret]"
            secret_keys.append(key)
        else:
            values[key] = value
    return values, secret_keys


def config_path(path: safe_yaml.Path) -> str:
    """A key path in the file as Pulumi names it: `hokusai:services.api.cpu` (config omitted)."""
    if path[:1] == ("config",) and len(path) > 1:
        path = path[1:]
    return safe_yaml.format_path(path)


def settings_input(values: dict[str, Any], secret_keys: list[str]) -> dict[str, Any]:
    """Keyword arguments for core.settings.load_settings from a stack file's values."""
    prefix = f"{PROJECT}:"
    return {
        "raw": {k[len(prefix) :]: v for k, v in values.items() if k.startswith(prefix)},
        "region": values.get("aws:region"),
        "secret_config_keys": [k[len(prefix) :] for k in secret_keys if k.startswith(prefix)],
    }
