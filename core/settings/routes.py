"""`services.<service>.routes`: the ALB listener rules that send traffic to a service."""

from __future__ import annotations

from typing import Any

from core.settings.declarations import MAX_RULE_VALUES
from core.settings.model import Route, ServiceSettings
from core.settings.reader import Reader


def read_route(reader: Reader, raw: Any, path: str) -> Route | None:
    route = reader.section("services.<service>.routes[]", raw, path)
    if route is None:
        return None
    priority = route.read("priority")
    hosts = route.read("hosts")
    paths = route.read("paths")
    adopt_existing = route.read("adopt_existing")
    if hosts is None or paths is None or priority is None or adopt_existing is None:
        return None
    if not hosts and not paths:
        reader.problem(path, "matches nothing: it has neither hosts nor paths", "add hosts and/or paths")
        return None
    if len(hosts) + len(paths) > MAX_RULE_VALUES:
        reader.problem(
            path,
            f"has {len(hosts) + len(paths)} host and path values; an ALB rule takes at most {MAX_RULE_VALUES}",
            "split it into several routes with their own priorities",
        )
        return None
    return Route(priority=priority, hosts=hosts, paths=paths, adopt_existing=adopt_existing)


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
