"""`load_balancer`: adopt an existing ALB listener, or have the program create the ALB."""

from __future__ import annotations

from typing import Any

from core.settings.declarations import declared_default
from core.settings.exception_names import LoadBalancerException
from core.settings.exceptions import read_exceptions
from core.settings.model import LoadBalancerSettings
from core.settings.reader import Reader
from core.tls_policies import is_allowed, refusal


def read_load_balancer(
    reader: Reader, raw: Any, region: str | None, account: str | None
) -> LoadBalancerSettings | None:
    load_balancer = reader.section("load_balancer", raw, "load_balancer")
    if load_balancer is None:
        return None
    create = load_balancer.read("create")
    has_listener = load_balancer.given("listener_arn")
    if create is None:
        return None
    if create == has_listener:
        reader.problem(
            "load_balancer",
            "must either name an existing listener or ask for a new load balancer, not "
            + ("both" if create else "neither"),
            "set load_balancer.listener_arn to the existing ALB listener's ARN, "
            "or set load_balancer.create: true (with network.public_subnet_ids)",
        )
        return None
    listener = None
    if has_listener:
        listener = load_balancer.read("listener_arn", region=region, account=account)
        for extra in ("certificate_arn", "ssl_policy"):
            if extra in load_balancer.values:
                reader.problem(
                    f"load_balancer.{extra}",
                    "only applies when the program creates the load balancer",
                    "remove it: the existing listener keeps its own certificate and TLS policy",
                )
    certificate = load_balancer.read("certificate_arn", region=region, account=account) if create else None
    ssl_policy = load_balancer.read("ssl_policy")
    exceptions = read_exceptions(
        reader, "load_balancer.exceptions", load_balancer.raw("exceptions"), load_balancer.path_of("exceptions")
    )
    if (has_listener and listener is None) or exceptions is None:
        return None
    excused = LoadBalancerException.TLS_POLICY_NOT_ALLOWED.value in dict(exceptions)
    if create and ssl_policy is not None and not is_allowed(ssl_policy) and not excused:
        reader.problem("load_balancer.ssl_policy", *refusal(ssl_policy))
    return LoadBalancerSettings(
        listener_arn=listener,
        certificate_arn=certificate,
        # A refused policy is already a problem; the default keeps the other checks going.
        ssl_policy=ssl_policy or declared_default("load_balancer.ssl_policy"),
        exceptions=exceptions,
    )
