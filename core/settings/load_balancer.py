"""`load_balancer`: adopt an existing ALB listener, or have the program create the ALB."""

from __future__ import annotations

import re
from typing import Any

from core.settings.model import LoadBalancerSettings
from core.settings.reader import MISSING, Reader


def read_load_balancer(
    reader: Reader, raw: Any, region: str | None, account: str | None
) -> LoadBalancerSettings | None:
    values = reader.mapping(raw, "load_balancer", allowed=("listener_arn", "create", "certificate_arn", "ssl_policy"))
    if values is None:
        return None
    create = reader.boolean(values.get("create", MISSING), "load_balancer.create", default=False)
    has_listener = values.get("listener_arn") not in (None, "")
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
        listener = reader.arn(
            values.get("listener_arn"),
            "load_balancer.listener_arn",
            service="elasticloadbalancing",
            resource_prefix="listener/app/",
            what="an Application Load Balancer listener",
            region=region,
            account=account,
        )
        for extra in ("certificate_arn", "ssl_policy"):
            if extra in values:
                reader.problem(
                    f"load_balancer.{extra}",
                    "only applies when the program creates the load balancer",
                    "remove it: the existing listener keeps its own certificate and TLS policy",
                )
    certificate = (
        reader.arn(
            values.get("certificate_arn", MISSING),
            "load_balancer.certificate_arn",
            service="acm",
            resource_prefix="certificate/",
            what="an ACM certificate",
            region=region,
            account=account,
            required=False,
        )
        if create
        else None
    )
    ssl_policy = reader.text(
        values.get("ssl_policy", MISSING),
        "load_balancer.ssl_policy",
        required=False,
        default=LoadBalancerSettings.ssl_policy,
        pattern=re.compile(r"^ELBSecurityPolicy-[A-Za-z0-9-]+$"),
        shape="an ELB security policy name",
    )
    if has_listener and listener is None:
        return None
    return LoadBalancerSettings(
        listener_arn=listener, certificate_arn=certificate, ssl_policy=ssl_policy or LoadBalancerSettings.ssl_policy
    )
