"""The Application Load Balancer the services are routed through.

Either the stack adopts an existing listener (looked up in infra/existing.py:
the development estate shares `hokusai-main-development`), or this component
creates the ALB, its security group and its listeners. Either way the services
see the same things: the listener to attach rules to, the ALB security groups
to admit, and the ARN suffix CloudWatch metrics are dimensioned by.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from infra.existing import AdoptedListener

WORLD_V4 = "0.0.0.0/0"
WORLD_V6 = "::/0"


@dataclass(frozen=True)
class NewLoadBalancer:
    """The internet-facing ALB the stack creates when it adopts no listener."""

    name: str
    vpc_id: str
    public_subnet_ids: Sequence[str]
    # None: plain HTTP only (preview warns). Otherwise HTTPS with it, and HTTP redirects.
    certificate_arn: str | None
    ssl_policy: str


@dataclass(frozen=True)
class LoadBalancerArgs:
    # The listener the stack adopts (looked up in infra/existing.py), or the ALB to create.
    adopt_or_create: AdoptedListener | NewLoadBalancer
    tags: Mapping[str, str]
    # Load-balancer defaults the stack relaxed on purpose: exception -> reason (warned at every preview).
    exceptions: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LoadBalancerResult:
    listener_arn: pulumi.Output[str]
    # One Output per ALB security group; a tuple so each gets its own SG rule.
    security_group_ids: tuple[pulumi.Output[str], ...]
    # What CloudWatch's AWS/ApplicationELB metrics are dimensioned by.
    arn_suffix: pulumi.Output[str]
    dns_name: pulumi.Output[str]
    # The ALB security group this stack owns (None when the ALB is adopted):
    # services add their egress rule to it.
    owned_security_group_id: pulumi.Output[str] | None
    # The defaults relaxed for it, exception -> reason (the estate output carries them for the invariants).
    exceptions: Mapping[str, str] = field(default_factory=dict)


class LoadBalancer(pulumi.ComponentResource):
    result: LoadBalancerResult

    def __init__(self, name: str, args: LoadBalancerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("hokusai:lb:LoadBalancer", name, None, opts)
        if isinstance(args.adopt_or_create, AdoptedListener):
            adopted = args.adopt_or_create
            self.result = LoadBalancerResult(
                listener_arn=pulumi.Output.from_input(adopted.listener_arn),
                security_group_ids=tuple(pulumi.Output.from_input(i) for i in adopted.security_group_ids),
                arn_suffix=pulumi.Output.from_input(adopted.load_balancer_arn_suffix),
                dns_name=pulumi.Output.from_input(adopted.dns_name),
                owned_security_group_id=None,
            )
        else:
            self.result = self._create(name, args.adopt_or_create, args.tags)
        self.result = dataclasses.replace(self.result, exceptions=dict(args.exceptions))
        for exception, reason in sorted(args.exceptions.items()):
            pulumi.log.warn(f"load balancer: secure default relaxed ({exception}): {reason}", self)
        self.register_outputs({"listener_arn": self.result.listener_arn, "arn_suffix": self.result.arn_suffix})

    def _create(self, name: str, new: NewLoadBalancer, tags: Mapping[str, str]) -> LoadBalancerResult:
        child = pulumi.ResourceOptions(parent=self)
        group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            name=f"{new.name}-alb",
            description="Internet-facing ALB: the only security group open to the world, on 80/443",
            vpc_id=new.vpc_id,
            tags=tags,
            opts=child,
        )
        ports = [80, 443] if new.certificate_arn else [80]
        for port in ports:
            for cidr_name, kwargs in (("v4", {"cidr_ipv4": WORLD_V4}), ("v6", {"cidr_ipv6": WORLD_V6})):
                aws.vpc.SecurityGroupIngressRule(
                    f"{name}-world-{port}-{cidr_name}",
                    security_group_id=group.id,
                    ip_protocol="tcp",
                    from_port=port,
                    to_port=port,
                    description=f"HTTP{'S' if port == 443 else ''} from anywhere",
                    tags=tags,
                    opts=child,
                    **kwargs,
                )
        balancer = aws.lb.LoadBalancer(
            f"{name}-alb",
            name=new.name,
            load_balancer_type="application",
            internal=False,
            security_groups=[group.id],
            subnets=list(new.public_subnet_ids),
            # Reject requests with malformed headers instead of passing them on.
            drop_invalid_header_fields=True,
            tags=tags,
            opts=child,
        )
        not_found = aws.lb.ListenerDefaultActionArgs(
            type="fixed-response",
            fixed_response=aws.lb.ListenerDefaultActionFixedResponseArgs(
                content_type="application/json", status_code="404", message_body='{"detail":"Not Found"}'
            ),
        )
        if new.certificate_arn:
            main = aws.lb.Listener(
                f"{name}-https",
                load_balancer_arn=balancer.arn,
                port=443,
                protocol="HTTPS",
                certificate_arn=new.certificate_arn,
                ssl_policy=new.ssl_policy,
                default_actions=[not_found],
                tags=tags,
                opts=child,
            )
            # Plain HTTP only ever redirects: API keys must not cross the internet in clear.
            aws.lb.Listener(
                f"{name}-http-redirect",
                load_balancer_arn=balancer.arn,
                port=80,
                protocol="HTTP",
                default_actions=[
                    aws.lb.ListenerDefaultActionArgs(
                        type="redirect",
                        redirect=aws.lb.ListenerDefaultActionRedirectArgs(
                            port="443", protocol="HTTPS", status_code="HTTP_301"
                        ),
                    )
                ],
                tags=tags,
                opts=child,
            )
        else:
            pulumi.log.warn(
                "load_balancer.certificate_arn is not set: the new ALB serves plain HTTP only. "
                "Set it to serve HTTPS and redirect HTTP.",
                resource=self,
            )
            main = aws.lb.Listener(
                f"{name}-http",
                load_balancer_arn=balancer.arn,
                port=80,
                protocol="HTTP",
                default_actions=[not_found],
                tags=tags,
                opts=child,
            )
        return LoadBalancerResult(
            listener_arn=main.arn,
            security_group_ids=(group.id,),
            arn_suffix=balancer.arn_suffix,
            dns_name=balancer.dns_name,
            owned_security_group_id=group.id,
        )
