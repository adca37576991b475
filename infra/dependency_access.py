"""The security-group rules that let the services reach one dependency (Redis, PostgreSQL, MLflow, ...).

In the incident, the rule admitting the API's tasks into Redis (`redis_from_data_pipeline_ecs`)
was written but never applied, so the auth cache timed out. Here the consumers come from the
contract (every service whose contract names the dependency) plus the stack's extra consumers,
and each gets its own rule on the dependency's group, referencing the consumer's group, never a
CIDR: a consumer cannot be declared without its rule, and a rule deleted by hand shows up in
`pulumi preview --refresh` and in `make verify`. A service of the stack also gets the egress rule
on its own group to the dependency's (its egress is otherwise HTTPS only: infra/security_group.py).

A dependency without a security group (reached over HTTPS) has no rules: its result says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class DependencyAccessArgs:
    # The dependency's name, in each rule's description: `<dependency>_from_<consumer>`.
    dependency: str
    # The dependency's security group (another service's, or one the stack declares); None when
    # the services reach it over HTTPS and no rule is needed.
    security_group_id: pulumi.Input[str] | None
    port: int
    # service key -> its security group: ingress on the dependency's group, egress on its own.
    services: Mapping[str, pulumi.Input[str]]
    # label -> a security group outside this stack: ingress only (its egress is not this stack's).
    extra_consumers: Mapping[str, str]
    tags: Mapping[str, str]


@dataclass(frozen=True)
class DependencyAccessResult:
    dependency: str
    security_group_id: pulumi.Input[str] | None
    port: int
    # label -> security group admitted on the port (services by key, then extra consumers)
    consumer_security_group_ids: Mapping[str, pulumi.Input[str]]
    # service key -> the rules its tasks need to reach the dependency (ingress there, egress here)
    service_rules: Mapping[str, tuple[pulumi.Resource, ...]]

    def rules_for(self, service: str) -> tuple[pulumi.Resource, ...]:
        """What `service`'s ECS service must wait for: its tasks dial the dependency as they start."""
        return self.service_rules.get(service, ())


class DependencyAccess(pulumi.ComponentResource):
    result: DependencyAccessResult

    def __init__(self, name: str, args: DependencyAccessArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("hokusai:network:DependencyAccess", name, None, opts)
        group = args.security_group_id
        consumers: dict[str, pulumi.Input[str]] = {}
        service_rules: dict[str, tuple[pulumi.Resource, ...]] = {}
        if group is not None:
            consumers = {**dict(args.services), **dict(args.extra_consumers)}
            for label, consumer_group in sorted(consumers.items()):
                ingress = self._ingress(name, args, group, label, consumer_group)
                if label in args.services:
                    service_rules[label] = (ingress, self._egress(name, args, group, label, consumer_group))
        self.result = DependencyAccessResult(
            dependency=args.dependency,
            security_group_id=group,
            port=args.port,
            consumer_security_group_ids=consumers,
            service_rules=service_rules,
        )
        self.register_outputs({"consumers": consumers})

    def _ingress(
        self, name: str, args: DependencyAccessArgs, group: pulumi.Input[str], label: str, consumer: pulumi.Input[str]
    ) -> aws.vpc.SecurityGroupIngressRule:
        return aws.vpc.SecurityGroupIngressRule(
            f"{name}-from-{label}",
            security_group_id=group,
            referenced_security_group_id=consumer,
            ip_protocol="tcp",
            from_port=args.port,
            to_port=args.port,
            # The incident's missing rule was `redis_from_data_pipeline_ecs`: the same words here.
            description=f"{_words(args.dependency)}_from_{_words(label)}",
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _egress(
        self, name: str, args: DependencyAccessArgs, group: pulumi.Input[str], label: str, consumer: pulumi.Input[str]
    ) -> aws.vpc.SecurityGroupEgressRule:
        return aws.vpc.SecurityGroupEgressRule(
            f"{name}-from-{label}-egress",
            security_group_id=consumer,
            referenced_security_group_id=group,
            ip_protocol="tcp",
            from_port=args.port,
            to_port=args.port,
            description=f"{_words(label)}_to_{_words(args.dependency)}",
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )


def _words(label: str) -> str:
    return label.replace("-", "_")
