"""`tags`: extra tags on every taggable resource."""

from __future__ import annotations

from typing import Any

from core.settings.declarations import declared
from core.settings.reader import Reader


def read_tags(reader: Reader, raw: Any) -> tuple[tuple[str, str], ...] | None:
    setting = declared("tags")
    values = reader.read(setting, raw, "tags")
    if values is None:
        return None
    tags = []
    for name, value in values.items():
        path = f"tags.{name}"
        if not setting.accepts_name(name):
            reader.problem(path, "is not a tag key AWS accepts", f"use {setting.names_shape}")
            continue
        text = reader.text(
            value,
            path,
            required=False,
            default="",
            pattern=setting.pattern,
            refused=setting.refused,
            refused_fix=setting.refused_fix,
        )
        if text is not None:
            tags.append((name, text))
    return tuple(sorted(tags))
