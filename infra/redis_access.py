"""Security-group rules that let each Redis consumer reach the Redis cluster.

In the incident, the rule admitting the API's tasks (`redis_from_data_pipeline_ecs`)
was written but never applied, so auth caching failed. Here the consumers come
from the contract (every service that `uses_redis`) plus the stack's extra
consumers, and each gets its own rule resource referencing its security group:
a consumer cannot be declared without its rule, and a rule deleted by hand
shows up in `pulumi preview --refresh`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from core.settings import RedisSettings, Settings


@dataclass
class RedisAccessArgs:
    settings: Settings
    redis: RedisSettings
    # label -> consumer security group id (services of this stack and extra consumers)
    consumers: Mapping[str, pulumi.Input[str]]


class RedisAccess(pulumi.ComponentResource):
    def __init__(self, name: str, args: RedisAccessArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("hokusai:network:RedisAccess", name, None, opts)
        redis = args.redis
        self.rules: dict[str, aws.vpc.SecurityGroupIngressRule] = {}
        for label, consumer_group in sorted(args.consumers.items()):
            self.rules[label] = aws.vpc.SecurityGroupIngressRule(
                f"{name}-from-{label}",
                security_group_id=redis.security_group_id,
                referenced_security_group_id=consumer_group,
                ip_protocol="tcp",
                from_port=redis.port,
                to_port=redis.port,
                description=f"redis_from_{label.replace('-', '_')}",
                tags=args.settings.resource_tags,
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.register_outputs({"rules": {label: rule.id for label, rule in self.rules.items()}})


def redis_consumers(
    settings: Settings, service_groups: Mapping[str, pulumi.Input[str]]
) -> dict[str, pulumi.Input[str]]:
    """Every security group Redis must admit: each service whose contract uses
    Redis, then the stack's extra consumers."""
    consumers: dict[str, pulumi.Input[str]] = {
        service.key: service_groups[service.key] for service in settings.services if service.contract.uses_redis
    }
    if settings.redis is not None:
        consumers.update(dict(settings.redis.extra_consumers))
    return consumers
