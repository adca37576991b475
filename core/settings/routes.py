"""`services.<service>.routes`: the ALB listener rules that send traffic to a service."""

from __future__ import annotations

import re
from typing import Any

from core.settings.model import Route, ServiceSettings
from core.settings.reader import MISSING, Reader

_HOST = re.compile(r"^[A-Za-z0-9*?.-]{1,128}$")
_PATH = re.compile(r"^/[A-Za-z0-9_\-.$/~\"'@:+*?&]{0,127}$")
# ALB: at most 5 condition values per rule; priorities 1..50000.
_MAX_RULE_VALUES = 5


def read_route(reader: Reader, raw: Any, path: str) -> Route | None:
    values = reader.mapping(raw, path, allowed=("priority", "hosts", "paths"))
    if values is None:
        return None
    priority = reader.integer(
        values.get("priority", MISSING),
        f"{path}.priority",
        low=1,
        high=50000,
        fix="give the rule a unique priority from 1 to 50000 (lower wins)",
    )
    hosts = reader.list_of(
        values.get("hosts", MISSING),
        f"{path}.hosts",
        lambda v, p: reader.text(v, p, pattern=_HOST, shape="a host name such as api.hokus.ai"),
    )
    paths = reader.list_of(
        values.get("paths", MISSING),
        f"{path}.paths",
        lambda v, p: reader.text(v, p, pattern=_PATH, shape="a path pattern starting with /"),
    )
    if hosts is None or paths is None or priority is None:
        return None
    if not hosts and not paths:
        reader.problem(path, "matches nothing: it has neither hosts nor paths", "add hosts and/or paths")
        return None
    if len(hosts) + len(paths) > _MAX_RULE_VALUES:
        reader.problem(
            path,
            f"has {len(hosts) + len(paths)} host and path values; an ALB rule takes at most {_MAX_RULE_VALUES}",
            "split it into several routes with their own priorities",
        )
        return None
    return Route(priority=priority, hosts=hosts, paths=paths)


def check_routes_across_services(reader: Reader, services: list[ServiceSettings]) -> None:
    owners: dict[int, str] = {}
    for service in services:
        for index, route in enumerate(service.routes):
            other = owners.get(route.priority)
            if other is not None:
                reader.problem(
                    f"services.{service.key}.routes[{index}].priority",
                    f"priority {route.priority} is already used by {other}",
                    "give every route a unique priority",
                )
            owners[route.priority] = f"services.{service.key}"
