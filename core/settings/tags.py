"""`tags`: extra tags on every taggable resource."""

from __future__ import annotations

from typing import Any

from core.settings.reader import Reader


def read_tags(reader: Reader, raw: Any) -> tuple[tuple[str, str], ...] | None:
    values = reader.mapping(raw, "tags")
    if values is None:
        return None
    tags = []
    for name, value in values.items():
        path = f"tags.{name}"
        if name.lower().startswith("aws:") or not 1 <= len(name) <= 128:
            reader.problem(path, "is not a tag key AWS accepts", "use 1-128 characters not starting with aws:")
            continue
        text = reader.text(value, path, required=False, default="")
        if text is not None and len(text) > 256:
            reader.problem(path, "is longer than 256 characters", "shorten the tag value")
            continue
        if text is not None:
            tags.append((name, text))
    return tuple(sorted(tags))
