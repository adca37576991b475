"""The ECS cluster."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from core.settings import Settings


@dataclass
class ClusterArgs:
    settings: Settings


class Cluster(pulumi.ComponentResource):
    def __init__(self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("hokusai:ecs:Cluster", name, None, opts)
        settings = args.settings
        self.cluster = aws.ecs.Cluster(
            f"{name}-cluster",
            name=settings.cluster_name,
            # Container Insights publishes RunningTaskCount/DesiredTaskCount, which
            # the "running < desired" alarm watches.
            settings=[aws.ecs.ClusterSettingArgs(name="containerInsights", value="enabled")],
            configuration=aws.ecs.ClusterConfigurationArgs(
                execute_command_configuration=aws.ecs.ClusterConfigurationExecuteCommandConfigurationArgs(
                    logging="DEFAULT",
                ),
            ),
            tags=settings.resource_tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.name = self.cluster.name
        self.arn = self.cluster.arn
        self.register_outputs({"name": self.name, "arn": self.arn})
