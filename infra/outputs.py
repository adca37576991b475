"""Builds the `estate` stack output (shape: core/estate.py) from the components."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi

from core import naming
from core.estate import Estate, MetricFilterEstate, RedisEstate, ServiceEstate, to_outputs
from core.settings import Settings
from infra.alarm_topic import AlarmTopicResult
from infra.cluster import ClusterResult
from infra.service import Service


def estate_output(
    settings: Settings,
    *,
    cluster: ClusterResult,
    alarm_topic: AlarmTopicResult,
    services: Mapping[str, Service],
    secret_arns: Mapping[str, Mapping[str, pulumi.Output[str]]],
    redis_consumers: Mapping[str, pulumi.Input[str]],
) -> dict[str, Any]:
    estate = Estate(
        stack=settings.environment,
        region=settings.region,
        account_id=settings.account_id,
        cluster_name=cluster.name,
        cluster_arn=cluster.arn,
        alarm_topic_arn=alarm_topic.arn,
        services=tuple(_service(settings, s, secret_arns[key]) for key, s in services.items()),
        redis=None
        if settings.redis is None
        else RedisEstate(
            security_group_id=settings.redis.security_group_id,
            port=settings.redis.port,
            consumer_security_group_ids=dict(redis_consumers),
        ),
    )
    return to_outputs(estate)


def _service(settings: Settings, component: Service, secret_arns: Mapping[str, pulumi.Output[str]]) -> ServiceEstate:
    spec = component.spec
    observability = component.observability.result
    return ServiceEstate(
        key=spec.key,
        service_name=component.service.name,
        service_arn=component.service.id,
        task_definition_arn=component.task_definition.arn,
        task_family=component.task_definition.family,
        container_name=spec.container_name,
        container_port=spec.container_port,
        target_group_arn=component.target_group.arn,
        health_check_path=spec.health_check_path,
        security_group_id=component.security_group.id,
        execution_role_arn=component.roles.result.execution_role_arn,
        task_role_arn=component.roles.result.task_role_arn,
        log_group_name=observability.log_group_name,
        metric_filters=tuple(
            MetricFilterEstate(
                name=f.name, pattern=f.pattern, metric_name=f.metric_name, metric_namespace=f.metric_namespace
            )
            for f in observability.metric_filters
        ),
        alarm_names=observability.alarm_names,
        deployment_alarm_names=observability.deployment_alarm_names,
        secret_arns=dict(secret_arns),
        environment_names=tuple(name for name, _ in spec.environment),
        discovery_name=naming.discovery_hostname(spec.key, settings.environment),
        uses_redis=spec.contract.uses_redis,
    )
