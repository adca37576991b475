"""The Cloud Map private DNS namespace (`hokusai-development.local`).

Services register in it as `<service>.hokusai-development.local`, the names the
applications already use (MLFLOW_SERVER_URL=http://mlflow.hokusai-development.local:5000).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from core import naming


@dataclass(frozen=True)
class DiscoveryNamespaceArgs:
    # The namespace is named after the environment (core/naming.py), because the
    # applications' URLs already spell it that way; the description says it too.
    environment: str
    vpc_id: str
    tags: Mapping[str, str]


@dataclass(frozen=True)
class DiscoveryNamespaceResult:
    id: pulumi.Output[str]
    name: pulumi.Output[str]


class DiscoveryNamespace(pulumi.ComponentResource):
    result: DiscoveryNamespaceResult

    def __init__(self, name: str, args: DiscoveryNamespaceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("hokusai:discovery:Namespace", name, None, opts)
        namespace = aws.servicediscovery.PrivateDnsNamespace(
            f"{name}-namespace",
            name=naming.namespace_name(args.environment),
            vpc=args.vpc_id,
            description=f"Service discovery for the hokusai {args.environment} services",
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.result = DiscoveryNamespaceResult(id=namespace.id, name=namespace.name)
        self.register_outputs({"id": self.result.id, "name": self.result.name})
