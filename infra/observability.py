"""A service's log group, the metric filters for its failure signatures, and its alarms.

The incident's error line ("HuggingFace token not configured") was in the logs
all along; nobody was counting it. Each signature of the contract becomes a
metric filter and an alarm; the signature alarms are also the ECS service's
deployment alarms, so a deploy that starts emitting them rolls back.
Further alarms watch ALB 5xx, unhealthy targets and running < desired tasks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from core import naming
from core.contract import ErrorSignature
from core.settings import ServiceSettings

# One-minute periods: a deployment alarm must fire while ECS still watches the
# deployment (it monitors alarms for the bake time after the rollout).
PERIOD_SECONDS = 60
ALB_NAMESPACE = "AWS/ApplicationELB"
CONTAINER_INSIGHTS = "ECS/ContainerInsights"
TASK_COUNT_METRICS = ("RunningTaskCount", "DesiredTaskCount")
# Any 5xx burst worth a look; one unhealthy target for 3 minutes; one task missing for 5.
ALB_5XX_THRESHOLD = 5
UNHEALTHY_THRESHOLD = 1
MISSING_TASKS_THRESHOLD = 0


@dataclass(frozen=True)
class ServiceObservabilityArgs:
    # The service watched: its names, log group, health check path and the
    # error signatures of its contract.
    service: ServiceSettings
    # Filter and alarm names carry the environment (core/naming.py).
    environment: str
    # The Container Insights dimension of the running < desired alarm.
    cluster_name: str
    log_retention_days: int
    # The customer-managed key the log group is encrypted with (None: CloudWatch Logs' own encryption).
    logs_kms_key_arn: str | None
    alarm_topic_arn: pulumi.Output[str]
    load_balancer_arn_suffix: pulumi.Output[str]
    target_group_arn_suffix: pulumi.Output[str]
    tags: Mapping[str, str]


@dataclass(frozen=True)
class MetricFilterResult:
    name: pulumi.Output[str]
    pattern: pulumi.Output[str]
    metric_name: str
    metric_namespace: str


@dataclass(frozen=True)
class AlarmResult:
    """One alarm and what it judges: the dashboard draws its threshold on the graphs of its metrics."""

    name: pulumi.Output[str]
    arn: pulumi.Output[str]
    threshold: float
    # (namespace, metric name) of each metric it reads, all dimensioned by this service
    watches: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class ServiceObservabilityResult:
    log_group_name: pulumi.Output[str]
    log_group_arn: pulumi.Output[str]
    # For depends_on only: the task definition names its log group as plain text,
    # so nothing else orders it after the group its tasks write to.
    log_group: aws.cloudwatch.LogGroup
    # One per error signature of the contract, in the contract's order.
    metric_filters: tuple[MetricFilterResult, ...]
    # Every alarm: the signatures', then ALB 5xx, unhealthy targets, running < desired.
    alarm_names: tuple[pulumi.Output[str], ...]
    # The same alarms, in the same order, with their thresholds and what they watch.
    alarms: tuple[AlarmResult, ...]
    # The signature alarms ECS rolls a deployment back on.
    deployment_alarm_names: pulumi.Output[list[str]]


class ServiceObservability(pulumi.ComponentResource):
    result: ServiceObservabilityResult

    def __init__(self, name: str, args: ServiceObservabilityArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("hokusai:observability:ServiceObservability", name, None, opts)
        service = args.service
        self._args = args
        self._child = pulumi.ResourceOptions(parent=self)
        self._actions = [args.alarm_topic_arn]
        # Each alarm as it was declared: its threshold and metrics, for the dashboard.
        self._watching: dict[aws.cloudwatch.MetricAlarm, AlarmResult] = {}

        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=service.log_group_name,
            # Finite by default: logs hold request data and cost money forever otherwise.
            retention_in_days=args.log_retention_days,
            kms_key_id=args.logs_kms_key_arn,
            tags=args.tags,
            # The logs are the evidence of an incident: `pulumi destroy` or a replacement must not delete
            # them (protect refuses the delete; retain_on_delete keeps the group if it is forced).
            opts=pulumi.ResourceOptions.merge(self._child, pulumi.ResourceOptions(protect=True, retain_on_delete=True)),
        )

        metric_filters: dict[str, aws.cloudwatch.LogMetricFilter] = {}
        signature_alarms: dict[str, aws.cloudwatch.MetricAlarm] = {}
        for signature in service.contract.error_signatures:
            metric_filters[signature.key] = self._metric_filter(name, signature, log_group)
            signature_alarms[signature.key] = self._signature_alarm(name, signature, metric_filters[signature.key])

        lb_dimensions = {
            "LoadBalancer": args.load_balancer_arn_suffix,
            "TargetGroup": args.target_group_arn_suffix,
        }
        alb_5xx_alarm = self._alarm(
            name,
            "alb-5xx",
            description=f"{service.name} targets answered HTTP 5xx through the load balancer",
            namespace=ALB_NAMESPACE,
            metric_name="HTTPCode_Target_5XX_Count",
            statistic="Sum",
            dimensions=lb_dimensions,
            threshold=ALB_5XX_THRESHOLD,
            evaluation_periods=1,
        )
        unhealthy_alarm = self._alarm(
            name,
            "unhealthy-targets",
            description=f"{service.name} has targets failing the load balancer health check "
            f"({service.health_check_path})",
            namespace=ALB_NAMESPACE,
            metric_name="UnHealthyHostCount",
            statistic="Maximum",
            dimensions=lb_dimensions,
            threshold=UNHEALTHY_THRESHOLD,
            evaluation_periods=3,
            comparison="GreaterThanOrEqualToThreshold",
        )
        running_alarm = self._running_below_desired_alarm(name)

        alarms = [*signature_alarms.values(), alb_5xx_alarm, unhealthy_alarm, running_alarm]
        deployment_alarm_names = pulumi.Output.all(
            *[signature_alarms[s.key].name for s in service.contract.error_signatures if s.deployment_alarm]
        )
        self.result = ServiceObservabilityResult(
            log_group_name=log_group.name,
            log_group_arn=log_group.arn,
            log_group=log_group,
            metric_filters=tuple(
                MetricFilterResult(
                    name=metric_filters[signature.key].name,
                    pattern=metric_filters[signature.key].pattern,
                    metric_name=signature.metric_name,
                    metric_namespace=service.contract.metric_namespace,
                )
                for signature in service.contract.error_signatures
            ),
            alarm_names=tuple(alarm.name for alarm in alarms),
            alarms=tuple(self._watching[alarm] for alarm in alarms),
            deployment_alarm_names=deployment_alarm_names,
        )
        self.register_outputs({"log_group": log_group.name, "deployment_alarms": deployment_alarm_names})

    def _metric_filter(
        self, name: str, signature: ErrorSignature, log_group: aws.cloudwatch.LogGroup
    ) -> aws.cloudwatch.LogMetricFilter:
        service = self._args.service
        return aws.cloudwatch.LogMetricFilter(
            f"{name}-filter-{signature.key.replace('_', '-')}",
            name=naming.metric_filter_name(service.key, self._args.environment, signature.metric_name),
            log_group_name=log_group.name,
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

    def _signature_alarm(
        self, name: str, signature: ErrorSignature, metric_filter: aws.cloudwatch.LogMetricFilter
    ) -> aws.cloudwatch.MetricAlarm:
        service = self._args.service
        return self._alarm(
            name,
            signature.key,
            description=f"{service.name}: {signature.meaning}. Fix: {signature.fix}",
            namespace=service.contract.metric_namespace,
            metric_name=signature.metric_name,
            statistic="Sum",
            dimensions=None,
            threshold=signature.threshold,
            evaluation_periods=1,
            comparison="GreaterThanOrEqualToThreshold",
            depends_on=[metric_filter],
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
        alarm = aws.cloudwatch.MetricAlarm(
            f"{name}-alarm-{what.replace('_', '-')}",
            name=naming.alarm_name(self._args.service.key, self._args.environment, what),
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
            tags=self._args.tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends_on or []),
        )
        return self._watched(alarm, threshold, ((namespace, metric_name),))

    def _watched(
        self, alarm: aws.cloudwatch.MetricAlarm, threshold: float, watches: tuple[tuple[str, str], ...]
    ) -> aws.cloudwatch.MetricAlarm:
        self._watching[alarm] = AlarmResult(name=alarm.name, arn=alarm.arn, threshold=threshold, watches=watches)
        return alarm

    def _running_below_desired_alarm(self, name: str) -> aws.cloudwatch.MetricAlarm:
        args, service = self._args, self._args.service
        dimensions = {"ClusterName": args.cluster_name, "ServiceName": service.name}

        def query(query_id: str, metric: str) -> aws.cloudwatch.MetricAlarmMetricQueryArgs:
            return aws.cloudwatch.MetricAlarmMetricQueryArgs(
                id=query_id,
                return_data=False,
                metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                    namespace=CONTAINER_INSIGHTS,
                    metric_name=metric,
                    dimensions=dimensions,
                    period=PERIOD_SECONDS,
                    stat="Average",
                ),
            )

        alarm = aws.cloudwatch.MetricAlarm(
            f"{name}-alarm-running-below-desired",
            name=naming.alarm_name(service.key, args.environment, "running_below_desired"),
            alarm_description=(
                f"{service.name} runs fewer tasks than desired for 5 minutes: tasks are failing to start "
                "or crashing (see stopped tasks: make verify)"
            ),
            metric_queries=[
                query("running", TASK_COUNT_METRICS[0]),
                query("desired", TASK_COUNT_METRICS[1]),
                aws.cloudwatch.MetricAlarmMetricQueryArgs(
                    id="missing", expression="desired - running", label="tasks missing", return_data=True
                ),
            ],
            evaluation_periods=5,
            threshold=MISSING_TASKS_THRESHOLD,
            comparison_operator="GreaterThanThreshold",
            # Container Insights stops publishing when the service is gone: that is an outage.
            treat_missing_data="breaching",
            alarm_actions=self._actions,
            ok_actions=self._actions,
            tags=args.tags,
            opts=self._child,
        )
        return self._watched(
            alarm, MISSING_TASKS_THRESHOLD, tuple((CONTAINER_INSIGHTS, metric) for metric in TASK_COUNT_METRICS)
        )
