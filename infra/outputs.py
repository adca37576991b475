"""Builds the `estate` stack output (shape: core/estate.py) from the components' results.

Only the typed results (ClusterResult, ServiceResult, ...) are read here, never a
component's children: what the live tools rely on is exactly what each
component says it created (tests/test_outputs.py holds this file to that).
The values are mostly Pulumi Outputs, so each level is laid out by
`output_of`, which holds its names to the dataclass the live tools read it back into.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.estate import DependencyEstate, Estate, MetricFilterEstate, ServiceEstate, output_of
from infra.alarm_topic import AlarmTopicResult
from infra.cluster import ClusterResult
from infra.dependency_access import DependencyAccessResult
from infra.load_balancer import LoadBalancerResult
from infra.observability import MetricFilterResult
from infra.service import ServiceResult


def estate_output(
    *,
    stack: str,
    region: str,
    account_id: str,
    cluster: ClusterResult,
    alarm_topic: AlarmTopicResult,
    services: Sequence[ServiceResult],
    dependencies: Sequence[DependencyAccessResult],
    load_balancer: LoadBalancerResult,
) -> dict[str, Any]:
    return output_of(
        Estate,
        stack=stack,
        region=region,
        account_id=account_id,
        cluster_name=cluster.name,
        cluster_arn=cluster.arn,
        alarm_topic_arn=alarm_topic.arn,
        services=[_service(s) for s in services],
        dependencies=[_dependency(d) for d in dependencies],
        load_balancer_exceptions=dict(load_balancer.exceptions),
        observability_kms_key_arn=alarm_topic.kms_key_arn,
    )


def _service(service: ServiceResult) -> dict[str, object]:
    return output_of(
        ServiceEstate,
        key=service.key,
        service_name=service.service_name,
        service_arn=service.service_arn,
        task_definition_arn=service.task_definition_arn,
        task_family=service.task_family,
        container_name=service.container_name,
        container_port=service.container_port,
        target_group_arn=service.target_group_arn,
        health_check_path=service.health_check_path,
        security_group_id=service.security_group_id,
        execution_role_arn=service.execution_role_arn,
        task_role_arn=service.task_role_arn,
        log_group_name=service.log_group_name,
        metric_filters=[_metric_filter(f) for f in service.metric_filters],
        alarm_names=service.alarm_names,
        deployment_alarm_names=service.deployment_alarm_names,
        secret_arns=dict(service.secret_arns),
        secret_value_froms=dict(service.secret_value_froms),
        environment_names=service.environment_names,
        discovery_name=service.discovery_name,
        dependencies=service.dependencies,
        dashboard_url=service.dashboard_url,
        exceptions=dict(service.exceptions),
    )


def _dependency(dependency: DependencyAccessResult) -> dict[str, object]:
    return output_of(
        DependencyEstate,
        name=dependency.dependency,
        security_group_id=dependency.security_group_id,
        port=dependency.port,
        consumer_security_group_ids=dict(dependency.consumer_security_group_ids),
    )


def _metric_filter(metric_filter: MetricFilterResult) -> dict[str, object]:
    return output_of(
        MetricFilterEstate,
        name=metric_filter.name,
        pattern=metric_filter.pattern,
        metric_name=metric_filter.metric_name,
        metric_namespace=metric_filter.metric_namespace,
    )
