"""A service's security group: who may reach its tasks, and where they may go.

Created before the service itself and before the dependency rules, which reference
it (infra/dependency_access.py): the ECS service waits for those rules, so its group
cannot be a child of it.

In: the load balancer's groups on the container port, nothing else. Out: HTTPS to
anywhere (image pulls from ECR and S3, Secrets Manager, CloudWatch Logs, ECS Exec,
Hugging Face, the auth service), and each dependency's own group on its port (those
rules are the dependency's: infra/dependency_access.py). Nothing else leaves: a task
cannot open a connection the stack did not declare.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from core.contract import HTTPS_PORT
from infra.load_balancer import LoadBalancerResult

ANYWHERE = "0.0.0.0/0"


@dataclass(frozen=True)
class ServiceSecurityGroupArgs:
    # The group's name: the service's physical name (core/naming.py).
    service_name: str
    # The port the load balancer sends requests to.
    container_port: int
    vpc_id: str
    # Its groups are admitted on the container port; a group the stack owns also gets the egress to it.
    load_balancer: LoadBalancerResult
    tags: Mapping[str, str]


@dataclass(frozen=True)
class ServiceSecurityGroupResult:
    security_group_id: pulumi.Output[str]


class ServiceSecurityGroup(pulumi.ComponentResource):
    result: ServiceSecurityGroupResult

    def __init__(self, name: str, args: ServiceSecurityGroupArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("hokusai:network:ServiceSecurityGroup", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        port = args.container_port
        group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            name=args.service_name,
            description=f"{args.service_name} tasks: the load balancer on {port} only",
            vpc_id=args.vpc_id,
            tags=args.tags,
            opts=child,
        )
        # Rules are separate resources that reference security groups, never CIDRs,
        # so `pulumi preview --refresh` sees a rule added or removed by hand.
        for index, alb_group in enumerate(args.load_balancer.security_group_ids):
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-from-alb-{index}",
                security_group_id=group.id,
                referenced_security_group_id=alb_group,
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                description="from the load balancer",
                tags=args.tags,
                opts=child,
            )
        if args.load_balancer.owned_security_group_id is not None:
            aws.vpc.SecurityGroupEgressRule(
                f"{name}-alb-egress",
                security_group_id=args.load_balancer.owned_security_group_id,
                referenced_security_group_id=group.id,
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                description=f"to {args.service_name}",
                tags=args.tags,
                opts=child,
            )
        # Everything the tasks call outside the VPC speaks HTTPS. Cloud Map names still
        # resolve: security groups do not filter traffic to the VPC's DNS resolver (nor to
        # the task metadata endpoint ECS serves the task role's credentials from).
        # https://docs.aws.amazon.com/vpc/latest/userguide/vpc-security-groups.html
        # https://aws.amazon.com/blogs/networking-and-content-delivery/secure-your-amazon-vpc-dns-resolution-with-amazon-route-53-resolver-dns-firewall/
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-egress",
            security_group_id=group.id,
            cidr_ipv4=ANYWHERE,
            ip_protocol="tcp",
            from_port=HTTPS_PORT,
            to_port=HTTPS_PORT,
            description="HTTPS: ECR, Secrets Manager, CloudWatch Logs, Hugging Face, the auth service",
            tags=args.tags,
            opts=child,
        )
        self.result = ServiceSecurityGroupResult(security_group_id=group.id)
        self.register_outputs({"security_group_id": group.id})
