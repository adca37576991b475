"""`redis`: the Redis security group that must admit every consumer."""

from __future__ import annotations

from typing import Any

from core.settings.model import RedisSettings
from core.settings.reader import MISSING, Reader


def read_redis(reader: Reader, raw: Any) -> RedisSettings | None:
    if raw is MISSING or raw is None:
        return None
    redis = reader.section("redis", raw, "redis")
    if redis is None:
        return None
    sg = redis.read("security_group_id")
    port = redis.read("port")
    consumers_raw = redis.read("extra_consumers")
    declared = redis.setting("extra_consumers")
    consumers: list[tuple[str, str]] = []
    for label, group in (consumers_raw or {}).items():
        path = f"redis.extra_consumers.{label}"
        if not declared.accepts_name(label):
            reader.problem(path, f"label {label!r} cannot be used in a resource name", f"use {declared.names_shape}")
            continue
        group_id = reader.text(group, path, pattern=declared.pattern, shape=declared.shape)
        if group_id:
            consumers.append((label, group_id))
    if sg is None or port is None or consumers_raw is None:
        return None
    return RedisSettings(security_group_id=sg, port=port, extra_consumers=tuple(sorted(consumers)))
