"""The ECS cluster."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class ClusterArgs:
    cluster_name: str
    # Whether any service allows ECS Exec: only then does the cluster log exec sessions.
    ecs_exec: bool
    tags: Mapping[str, str]


@dataclass(frozen=True)
class ClusterResult:
    name: pulumi.Output[str]
    arn: pulumi.Output[str]


class Cluster(pulumi.ComponentResource):
    result: ClusterResult

    def __init__(self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("hokusai:ecs:Cluster", name, None, opts)
        cluster = aws.ecs.Cluster(
            f"{name}-cluster",
            name=args.cluster_name,
            # Container Insights publishes RunningTaskCount/DesiredTaskCount, which
            # the "running < desired" alarm watches.
            settings=[aws.ecs.ClusterSettingArgs(name="containerInsights", value="enabled")],
            configuration=(
                aws.ecs.ClusterConfigurationArgs(
                    execute_command_configuration=aws.ecs.ClusterConfigurationExecuteCommandConfigurationArgs(
                        logging="DEFAULT",
                    ),
                )
                if args.ecs_exec
                else None
            ),
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.result = ClusterResult(name=cluster.name, arn=cluster.arn)
        self.register_outputs({"name": self.result.name, "arn": self.result.arn})
