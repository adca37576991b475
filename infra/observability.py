"""A service's log group, the metric filters for its failure signatures, and its alarms.

The incident's error line ("HuggingFace token not configured") was in the logs
all along; nobody was counting it. Each signature of the contract becomes a
metric filter and an alarm; the signature alarms are also the ECS service's
deployment alarms, so a deploy that starts emitting them rolls back.
Further alarms watch ALB 5xx, unhealthy targets and running < desired tasks.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from core import naming
from core.contract import ErrorSignature
from core.settings import ServiceSettings, Settings

# One-minute periods: a deployment alarm must fire while ECS still watches the
# deployment (it monitors alarms for the bake time after the rollout).
PERIOD_SECONDS = 60


@dataclass
class ServiceObservabilityArgs:
    settings: Settings
    service: ServiceSettings
    alarm_topic_arn: pulumi.Output[str]
    load_balancer_arn_suffix: pulumi.Output[str]
    target_group_arn_suffix: pulumi.Output[str]


class ServiceObservability(pulumi.ComponentResource):
    def __init__(self, name: str, args: ServiceObservabilityArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("hokusai:observability:ServiceObservability", name, None, opts)
        settings, service = args.settings, args.service
        self._settings, self._service = settings, service
        self._child = pulumi.ResourceOptions(parent=self)
        self._actions = [args.alarm_topic_arn]

        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=service.log_group_name,
            # Finite by default: logs hold request data and cost money forever otherwise.
            retention_in_days=settings.log_retention_days,
            tags=settings.resource_tags,
            opts=self._child,
        )

        self.metric_filters: dict[str, aws.cloudwatch.LogMetricFilter] = {}
        self.signature_alarms: dict[str, aws.cloudwatch.MetricAlarm] = {}
        for signature in service.contract.error_signatures:
            self.metric_filters[signature.key] = self._metric_filter(name, signature)
            self.signature_alarms[signature.key] = self._signature_alarm(name, signature)

        lb_dimensions = {
            "LoadBalancer": args.load_balancer_arn_suffix,
            "TargetGroup": args.target_group_arn_suffix,
        }
        self.alb_5xx_alarm = self._alarm(
            name,
            "alb-5xx",
            description=f"{service.name} targets answered HTTP 5xx through the load balancer",
            namespace="AWS/ApplicationELB",
            metric_name="HTTPCode_Target_5XX_Count",
            statistic="Sum",
            dimensions=lb_dimensions,
            threshold=5,
            evaluation_periods=1,
        )
        self.unhealthy_alarm = self._alarm(
            name,
            "unhealthy-targets",
            description=f"{service.name} has targets failing the load balancer health check "
            f"({service.health_check_path})",
            namespace="AWS/ApplicationELB",
            metric_name="UnHealthyHostCount",
            statistic="Maximum",
            dimensions=lb_dimensions,
            threshold=1,
            evaluation_periods=3,
            comparison="GreaterThanOrEqualToThreshold",
        )
        self.running_alarm = self._running_below_desired_alarm(name)

        self.alarms = {
            **self.signature_alarms,
            "alb_5xx": self.alb_5xx_alarm,
            "unhealthy_targets": self.unhealthy_alarm,
            "running_below_desired": self.running_alarm,
        }
        self.deployment_alarm_names = pulumi.Output.all(
            *[self.signature_alarms[s.key].name for s in service.contract.error_signatures if s.deployment_alarm]
        )
        self.register_outputs({"log_group": self.log_group.name, "deployment_alarms": self.deployment_alarm_names})

    def _metric_filter(self, name: str, signature: ErrorSignature) -> aws.cloudwatch.LogMetricFilter:
        service = self._service
        return aws.cloudwatch.LogMetricFilter(
            f"{name}-filter-{signature.key.replace('_', '-')}",
            name=naming.metric_filter_name(service.key, self._settings.environment, signature.metric_name),
            log_group_name=self.log_group.name,
            pattern=signature.filter_pattern,
            metric_transformation=aws.cloudwatch.LogMetricFilterMetricTransformationArgs(
                name=signature.metric_name,
                namespace=service.contract.metric_namespace,
                value="1",
                # Publish 0 when log lines arrive without a match, so the alarm
                # sees "no errors" rather than "no data".
                default_value="0",
            ),
            opts=self._child,
        )

    def _signature_alarm(self, name: str, signature: ErrorSignature) -> aws.cloudwatch.MetricAlarm:
        return self._alarm(
            name,
            signature.key,
            description=f"{self._service.name}: {signature.meaning}. Fix: {signature.fix}",
            namespace=self._service.contract.metric_namespace,
            metric_name=signature.metric_name,
            statistic="Sum",
            dimensions=None,
            threshold=signature.threshold,
            evaluation_periods=1,
            comparison="GreaterThanOrEqualToThreshold",
            depends_on=[self.metric_filters[signature.key]],
        )

    def _alarm(
        self,
        name: str,
        what: str,
        *,
        description: str,
        namespace: str,
        metric_name: str,
        statistic: str,
        dimensions: dict | None,
        threshold: float,
        evaluation_periods: int,
        comparison: str = "GreaterThanThreshold",
        depends_on: list | None = None,
    ) -> aws.cloudwatch.MetricAlarm:
        return aws.cloudwatch.MetricAlarm(
            f"{name}-alarm-{what.replace('_', '-')}",
            name=naming.alarm_name(self._service.key, self._settings.environment, what),
            alarm_description=description,
            namespace=namespace,
            metric_name=metric_name,
            statistic=statistic,
            dimensions=dimensions,
            period=PERIOD_SECONDS,
            evaluation_periods=evaluation_periods,
            threshold=threshold,
            comparison_operator=comparison,
            # No traffic or no log lines is not an outage.
            treat_missing_data="notBreaching",
            alarm_actions=self._actions,
            ok_actions=self._actions,
            tags=self._settings.resource_tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends_on or []),
        )

    def _running_below_desired_alarm(self, name: str) -> aws.cloudwatch.MetricAlarm:
        settings, service = self._settings, self._service
        dimensions = {"ClusterName": settings.cluster_name, "ServiceName": service.name}

        def query(query_id: str, metric: str) -> aws.cloudwatch.MetricAlarmMetricQueryArgs:
            return aws.cloudwatch.MetricAlarmMetricQueryArgs(
                id=query_id,
                return_data=False,
                metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                    namespace="ECS/ContainerInsights",
                    metric_name=metric,
                    dimensions=dimensions,
                    period=PERIOD_SECONDS,
                    stat="Average",
                ),
            )

        return aws.cloudwatch.MetricAlarm(
            f"{name}-alarm-running-below-desired",
            name=naming.alarm_name(service.key, settings.environment, "running_below_desired"),
            alarm_description=(
                f"{service.name} runs fewer tasks than desired for 5 minutes: tasks are failing to start "
                "or crashing (see stopped tasks: make verify)"
            ),
            metric_queries=[
                query("running", "RunningTaskCount"),
                query("desired", "DesiredTaskCount"),
                aws.cloudwatch.MetricAlarmMetricQueryArgs(
                    id="missing", expression="desired - running", label="tasks missing", return_data=True
                ),
            ],
            evaluation_periods=5,
            threshold=0,
            comparison_operator="GreaterThanThreshold",
            # Container Insights stops publishing when the service is gone: that is an outage.
            treat_missing_data="breaching",
            alarm_actions=self._actions,
            ok_actions=self._actions,
            tags=settings.resource_tags,
            opts=self._child,
        )
