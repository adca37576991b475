"""`tags`: extra tags on every taggable resource."""

from __future__ import annotations

from typing import Any

from core.settings.declarations import declared
from core.settings.reader import Reader

# AWS allows 50 user tags per resource
# (https://docs.aws.amazon.com/tag-editor/latest/userguide/best-practices-and-strats.html);
# the program sets these on every resource itself (Settings.resource_tags).
AWS_TAGS_PER_RESOURCE = 50
PROGRAM_TAG_KEYS = ("project", "environment", "managed-by")


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
    total = len({name for name, _ in tags} | set(PROGRAM_TAG_KEYS))
    if total > AWS_TAGS_PER_RESOURCE:
        reader.problem(
            "tags",
            f"gives every resource {total} tags (these and the program's {', '.join(PROGRAM_TAG_KEYS)}); "
            f"AWS allows {AWS_TAGS_PER_RESOURCE} per resource, so pulumi up would fail",
            f"keep at most {AWS_TAGS_PER_RESOURCE - len(PROGRAM_TAG_KEYS)} tags here",
        )
        return None
    return tuple(sorted(tags))
