"""The Cloud Map private DNS namespace (`hokusai-development.local`).

Services register in it as `<service>.hokusai-development.local`, the names the
applications already use (MLFLOW_SERVER_URL=http://mlflow.hokusai-development.local:5000).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from core import naming
from core.settings import Settings


@dataclass
class DiscoveryNamespaceArgs:
    settings: Settings


class DiscoveryNamespace(pulumi.ComponentResource):
    def __init__(self, name: str, args: DiscoveryNamespaceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("hokusai:discovery:Namespace", name, None, opts)
        settings = args.settings
        self.namespace = aws.servicediscovery.PrivateDnsNamespace(
            f"{name}-namespace",
            name=naming.namespace_name(settings.environment),
            vpc=settings.network.vpc_id,
            description=f"Service discovery for the hokusai {settings.environment} services",
            tags=settings.resource_tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.id = self.namespace.id
        self.name = self.namespace.name
        self.register_outputs({"id": self.id, "name": self.name})
