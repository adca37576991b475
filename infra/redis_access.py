"""Security-group rules that let each Redis consumer reach the Redis cluster.

In the incident, the rule admitting the API's tasks (`redis_from_data_pipeline_ecs`)
was written but never applied, so auth caching failed. Here the consumers come
from the contract (every service that `uses_redis`) plus the stack's extra
consumers, and each gets its own rule resource referencing its security group:
a consumer cannot be declared without its rule, and a rule deleted by hand
shows up in `pulumi preview --refresh`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.service import ServiceResult


@dataclass(frozen=True)
class RedisAccessArgs:
    # The Redis cluster's security group, which the rules are added to.
    security_group_id: str
    port: int
    # label -> consumer security group id (services of this stack and extra consumers)
    consumers: Mapping[str, pulumi.Input[str]]
    tags: Mapping[str, str]


@dataclass(frozen=True)
class RedisAccessResult:
    security_group_id: str
    port: int
    # label -> security group admitted on the Redis port
    consumer_security_group_ids: Mapping[str, pulumi.Input[str]]
    # label -> the id of the rule admitting it
    rule_ids: Mapping[str, pulumi.Output[str]]


class RedisAccess(pulumi.ComponentResource):
    result: RedisAccessResult

    def __init__(self, name: str, args: RedisAccessArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("hokusai:network:RedisAccess", name, None, opts)
        rule_ids: dict[str, pulumi.Output[str]] = {}
        for label, consumer_group in sorted(args.consumers.items()):
            rule = aws.vpc.SecurityGroupIngressRule(
                f"{name}-from-{label}",
                security_group_id=args.security_group_id,
                referenced_security_group_id=consumer_group,
                ip_protocol="tcp",
                from_port=args.port,
                to_port=args.port,
                description=f"redis_from_{label.replace('-', '_')}",
                tags=args.tags,
                opts=pulumi.ResourceOptions(parent=self),
            )
            rule_ids[label] = rule.id
        self.result = RedisAccessResult(
            security_group_id=args.security_group_id,
            port=args.port,
            consumer_security_group_ids=dict(args.consumers),
            rule_ids=rule_ids,
        )
        self.register_outputs({"rules": rule_ids})


def redis_consumers(
    services: Iterable[ServiceResult], extra_consumers: Iterable[tuple[str, str]]
) -> dict[str, pulumi.Input[str]]:
    """Every security group Redis must admit: each service whose contract uses
    Redis, then the stack's extra consumers (label -> security group id)."""
    consumers: dict[str, pulumi.Input[str]] = {
        service.key: service.security_group_id for service in services if service.uses_redis
    }
    consumers.update(dict(extra_consumers))
    return consumers
