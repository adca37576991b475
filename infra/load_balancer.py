"""The Application Load Balancer the services are routed through.

Either the stack adopts an existing listener (looked up in infra/existing.py:
the development estate shares `hokusai-main-development`), or this component
creates the ALB, its security group and its listeners. Either way the services
see the same things: the listener to attach rules to, the ALB security groups
to admit, and the ARN suffix CloudWatch metrics are dimensioned by.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from core import naming
from core.settings import Settings
from infra.existing import AdoptedListener

WORLD_V4 = "0.0.0.0/0"
WORLD_V6 = "::/0"


@dataclass
class LoadBalancerArgs:
    settings: Settings
    adopted: AdoptedListener | None


class LoadBalancer(pulumi.ComponentResource):
    listener_arn: pulumi.Output[str]
    # One Output per ALB security group; a Python list so each gets its own SG rule.
    security_group_ids: list[pulumi.Output[str]]
    arn_suffix: pulumi.Output[str]
    # The ALB security group this stack owns (None when the ALB is adopted):
    # services add their egress rule to it.
    owned_security_group: aws.ec2.SecurityGroup | None

    def __init__(self, name: str, args: LoadBalancerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("hokusai:lb:LoadBalancer", name, None, opts)
        settings = args.settings
        if args.adopted is not None:
            self.owned_security_group = None
            self.listener_arn = pulumi.Output.from_input(args.adopted.listener_arn)
            self.security_group_ids = [pulumi.Output.from_input(i) for i in args.adopted.security_group_ids]
            self.arn_suffix = pulumi.Output.from_input(args.adopted.load_balancer_arn_suffix)
            self.dns_name = pulumi.Output.from_input(args.adopted.dns_name)
        else:
            self._create(name, settings)
        self.register_outputs({"listener_arn": self.listener_arn, "arn_suffix": self.arn_suffix})

    def _create(self, name: str, settings: Settings) -> None:
        child = pulumi.ResourceOptions(parent=self)
        tags = settings.resource_tags
        lb_settings = settings.load_balancer
        group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            name=f"{naming.load_balancer_name(settings.environment)}-alb",
            description="Internet-facing ALB: the only security group open to the world, on 80/443",
            vpc_id=settings.network.vpc_id,
            tags=tags,
            opts=child,
        )
        ports = [80, 443] if lb_settings.certificate_arn else [80]
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
            name=naming.load_balancer_name(settings.environment),
            load_balancer_type="application",
            internal=False,
            security_groups=[group.id],
            subnets=list(settings.network.public_subnet_ids),
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
        if lb_settings.certificate_arn:
            main = aws.lb.Listener(
                f"{name}-https",
                load_balancer_arn=balancer.arn,
                port=443,
                protocol="HTTPS",
                certificate_arn=lb_settings.certificate_arn,
                ssl_policy=lb_settings.ssl_policy,
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
        self.owned_security_group = group
        self.listener_arn = main.arn
        self.security_group_ids = [group.id]
        self.arn_suffix = balancer.arn_suffix
        self.dns_name = balancer.dns_name
