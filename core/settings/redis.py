"""`redis`: the Redis security group that must admit every consumer."""

from __future__ import annotations

import re
from typing import Any

from core.settings.model import RedisSettings
from core.settings.reader import MISSING, Reader

_SG = re.compile(r"^sg-[0-9a-f]{8}([0-9a-f]{9})?$")


def read_redis(reader: Reader, raw: Any) -> RedisSettings | None:
    if raw is MISSING or raw is None:
        return None
    values = reader.mapping(raw, "redis", allowed=("security_group_id", "port", "extra_consumers"))
    if values is None:
        return None
    sg = reader.text(
        values.get("security_group_id", MISSING),
        "redis.security_group_id",
        pattern=_SG,
        shape="a security group id (sg-...)",
    )
    port = reader.integer(values.get("port", MISSING), "redis.port", default=6379, low=1, high=65535)
    consumers_raw = reader.mapping(values.get("extra_consumers", MISSING), "redis.extra_consumers")
    consumers: list[tuple[str, str]] = []
    for label, group in (consumers_raw or {}).items():
        path = f"redis.extra_consumers.{label}"
        if not re.match(r"^[a-z][a-z0-9-]{0,40}$", label):
            reader.problem(
                path,
                f"label {label!r} cannot be used in a resource name",
                "use lower-case letters, digits and dashes, e.g. data-pipeline-ecs",
            )
            continue
        group_id = reader.text(group, path, pattern=_SG, shape="a security group id (sg-...)")
        if group_id:
            consumers.append((label, group_id))
    if sg is None or port is None or consumers_raw is None:
        return None
    return RedisSettings(security_group_id=sg, port=port, extra_consumers=tuple(sorted(consumers)))
