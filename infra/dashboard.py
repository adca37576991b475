"""A service's CloudWatch dashboard: one page with what its alarms watch, thresholds drawn in.

The body is built by core/dashboard.py (pure); here its inputs that AWS computes (the
load balancer's and target group's ARN suffixes, the alarms' names and ARNs) are
resolved first, so the body is real JSON under the mocks and in a preview alike.

CloudWatch dashboards take no tags (PutDashboard has no Tags parameter, and only alarms
and Contributor Insights rules can be tagged), so, unlike the other components, this
one's Args has no `tags` (tests/test_components.py knows why).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from core.dashboard import DashboardSpec, LogMetric, WatchingAlarm, dashboard_body, dashboard_url
from infra.observability import AlarmResult


@dataclass(frozen=True)
class ServiceDashboardArgs:
    # The dashboard's name (core/naming.py): dashboards are global to the account.
    dashboard_name: str
    # Where the graphs read their metrics, and where the console URL opens.
    region: str
    # The ECS service and its cluster: the AWS/ECS and Container Insights dimensions.
    service_name: str
    cluster_name: str
    # The AWS/ApplicationELB dimensions.
    load_balancer_arn_suffix: pulumi.Output[str]
    target_group_arn_suffix: pulumi.Output[str]
    # The failure signatures' metrics, one graph each.
    log_metrics: tuple[LogMetric, ...]
    # The service's alarms: thresholds drawn on the graphs of what they watch, and their states.
    alarms: tuple[AlarmResult, ...]


@dataclass(frozen=True)
class ServiceDashboardResult:
    name: pulumi.Output[str]
    # The console page of the dashboard (core/dashboard.py: dashboard_url).
    url: pulumi.Output[str]


class ServiceDashboard(pulumi.ComponentResource):
    result: ServiceDashboardResult

    def __init__(self, name: str, args: ServiceDashboardArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("hokusai:observability:ServiceDashboard", name, None, opts)
        alarms = args.alarms
        body = pulumi.Output.all(
            args.load_balancer_arn_suffix,
            args.target_group_arn_suffix,
            pulumi.Output.all(*[alarm.name for alarm in alarms]),
            pulumi.Output.all(*[alarm.arn for alarm in alarms]),
        ).apply(
            lambda resolved: json.dumps(
                dashboard_body(
                    DashboardSpec(
                        region=args.region,
                        service_name=args.service_name,
                        cluster_name=args.cluster_name,
                        load_balancer=resolved[0],
                        target_group=resolved[1],
                        log_metrics=args.log_metrics,
                        alarms=tuple(
                            WatchingAlarm(name=alarm_name, arn=arn, threshold=alarm.threshold, watches=alarm.watches)
                            for alarm, alarm_name, arn in zip(alarms, resolved[2], resolved[3], strict=True)
                        ),
                    )
                ),
                sort_keys=True,
            )
        )
        dashboard = aws.cloudwatch.Dashboard(
            f"{name}-page",
            dashboard_name=args.dashboard_name,
            dashboard_body=body,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.result = ServiceDashboardResult(
            name=dashboard.dashboard_name,
            url=dashboard.dashboard_name.apply(lambda dashboard: dashboard_url(args.region, dashboard)),
        )
        self.register_outputs({"dashboard_name": dashboard.dashboard_name, "url": self.result.url})
