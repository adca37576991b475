"""Reads `Pulumi.<stack>.yaml` without the Pulumi CLI. Pure (PyYAML only).

For the offline tools (render, envcheck, the fake estate): the Pulumi program
itself gets its config from the CLI (infra/stack_config.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from core.naming import PROJECT

PROJECT_DIR = Path(__file__).resolve().parent.parent


class StackFileError(Exception):
    pass


def read_stack_file(stack: str, project_dir: Path = PROJECT_DIR) -> tuple[dict[str, Any], list[str]]:
    """The stack's config as `key -> value` (values as Python objects) and its secret keys.

    Encrypted (`secure:`) values cannot be decrypted offline; they are replaced by
    a placeholder and reported as secret keys, exactly as Pulumi marks them.
    """
    path = project_dir / f"Pulumi.{stack}.yaml"
    if not path.exists():
        raise StackFileError(f"{path.name} does not exist: create it (pulumi stack init {stack}) or pick another stack")
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise StackFileError(f"{path.name} is not valid YAML: {error}") from None
    config = document.get("config") if isinstance(document, dict) else None
    if not isinstance(config, dict):
        raise StackFileError(f"{path.name} has no 'config:' mapping")
    values: dict[str, Any] = {}
    secret_keys: list[str] = []
    for key, value in config.items():
        if isinstance(value, dict) and set(value) == {"secure"}:
            values[key] = "[secret]"
            secret_keys.append(key)
        else:
            values[key] = value
    return values, secret_keys


def settings_input(values: dict[str, Any], secret_keys: list[str]) -> dict[str, Any]:
    """Keyword arguments for core.settings.load_settings from a stack file's values."""
    prefix = f"{PROJECT}:"
    return {
        "raw": {k[len(prefix) :]: v for k, v in values.items() if k.startswith(prefix)},
        "region": values.get("aws:region"),
        "secret_config_keys": [k[len(prefix) :] for k in secret_keys if k.startswith(prefix)],
    }
