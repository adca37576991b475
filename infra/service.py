"""One ECS Fargate service, generic over the contract: task definition, service,
target group and listener rules, Cloud Map registration, autoscaling, and (as
children) its IAM roles and its observability.

Its security group is made first (infra/security_group.py), because the rules that let
it reach its dependencies reference that group and the ECS service waits for them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from core import documents, naming, service_discovery
from core.aws_provider import AwsProvider
from core.dashboard import LogMetric
from core.deployment_key import deployment_key
from core.settings import DeployGateSettings, ServiceSettings
from core.target_group import (
    DEREGISTRATION_DELAY_SECONDS,
    HEALTH_CHECK_INTERVAL_SECONDS,
    HEALTH_CHECK_TIMEOUT_SECONDS,
    HEALTHY_THRESHOLD,
    UNHEALTHY_THRESHOLD,
)
from infra.dashboard import ServiceDashboard, ServiceDashboardArgs
from infra.deploy_gate import DeployGate, DeployGateArgs
from infra.load_balancer import LoadBalancerResult
from infra.observability import MetricFilterResult, ServiceObservability, ServiceObservabilityArgs
from infra.task_roles import TaskRoles, TaskRolesArgs

# Keep every old task serving until its replacement is healthy (min 100 %),
# and start all replacements at once (max 200 %): no capacity dip, fast deploys.
MIN_HEALTHY_PERCENT = 100
MAX_PERCENT = 200


@dataclass(frozen=True)
class ServiceArgs:
    # What runs and how: contract, image, size, routes, environment, secrets, scaling.
    service: ServiceSettings
    # Physical names carry the environment (core/naming.py).
    environment: str
    # The tasks log in this region; their roles trust only this account's ECS tasks.
    region: str
    account_id: str
    # The target group and the security group live in it.
    vpc_id: str
    # The private subnets the tasks run in (no public IP).
    subnet_ids: Sequence[str]
    # By name for the deploy gate and the running-tasks alarm's dimension;
    # by ARN for the ECS service itself.
    cluster_name: str
    cluster_arn: pulumi.Output[str]
    load_balancer: LoadBalancerResult
    # The tasks' security group (infra/security_group.py).
    security_group_id: pulumi.Output[str]
    # The rules the tasks need to reach their dependencies (infra/dependency_access.py): the ECS
    # service waits for them, as its tasks dial Redis and PostgreSQL the moment they start.
    dependency_rules: Sequence[pulumi.Resource]
    # env var -> secret ARN, exactly the service's declared secrets
    secret_arns: Mapping[str, pulumi.Output[str]]
    # The key declared secrets are encrypted with (None: the AWS-managed key).
    secrets_kms_key_arn: str | None
    # The permissions boundary both task roles carry (Settings.task_role_boundary_arn).
    task_role_boundary_arn: str
    namespace_id: pulumi.Output[str]
    alarm_topic_arn: pulumi.Output[str]
    log_retention_days: int
    # The key of the service's log group (Settings.observability_kms_key_arn).
    logs_kms_key_arn: str | None
    deploy_gate: DeployGateSettings
    # How the stack's AWS provider authenticates: the deploy gate looks the same way.
    aws_provider: AwsProvider
    tags: Mapping[str, str]


@dataclass(frozen=True)
class ServiceResult:
    """What the service is, for the estate output."""

    key: str
    service_name: pulumi.Output[str]
    service_arn: pulumi.Output[str]
    task_definition_arn: pulumi.Output[str]
    task_family: pulumi.Output[str]
    container_name: str
    container_port: int
    target_group_arn: pulumi.Output[str]
    health_check_path: str
    security_group_id: pulumi.Output[str]
    execution_role_arn: pulumi.Output[str]
    task_role_arn: pulumi.Output[str]
    log_group_name: pulumi.Output[str]
    metric_filters: tuple[MetricFilterResult, ...]
    alarm_names: tuple[pulumi.Output[str], ...]
    deployment_alarm_names: pulumi.Output[list[str]]
    # env var -> ARN of the secret the container reads it from (what the execution role may read)
    secret_arns: Mapping[str, pulumi.Output[str]]
    # env var -> the container's exact valueFrom: the ARN, then the JSON key and version when named
    secret_value_froms: Mapping[str, pulumi.Output[str]]
    # The plain settings the container gets (names only; values are in the task definition).
    environment_names: tuple[str, ...]
    discovery_name: str
    # What the service reaches (core/contract.py: its dependencies), by name.
    dependencies: tuple[str, ...]
    # The console page of its CloudWatch dashboard (infra/dashboard.py).
    dashboard_url: pulumi.Output[str]
    # Secure defaults relaxed on purpose: exception -> reason.
    exceptions: Mapping[str, str]


class Service(pulumi.ComponentResource):
    result: ServiceResult

    def __init__(self, name: str, args: ServiceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("hokusai:ecs:Service", name, None, opts)
        service = args.service
        child = pulumi.ResourceOptions(parent=self)
        tags = args.tags

        # A fixed name (the live group's: the cutover imports it) cannot take a replacement, which is
        # created before the old group is deleted: a change of what replaces a target group
        # (core/replacement.py) must come with a new name (docs/SETTINGS.md, target_group_name).
        target_group = aws.lb.TargetGroup(
            f"{name}-tg",
            name=service.target_group_name,
            port=service.container_port,
            protocol="HTTP",
            target_type="ip",  # Fargate tasks register by IP (awsvpc)
            vpc_id=args.vpc_id,
            deregistration_delay=DEREGISTRATION_DELAY_SECONDS,
            health_check=aws.lb.TargetGroupHealthCheckArgs(
                enabled=True,
                path=service.health_check_path,
                port="traffic-port",
                protocol="HTTP",
                matcher="200",
                interval=HEALTH_CHECK_INTERVAL_SECONDS,
                timeout=HEALTH_CHECK_TIMEOUT_SECONDS,
                healthy_threshold=HEALTHY_THRESHOLD,
                unhealthy_threshold=UNHEALTHY_THRESHOLD,
            ),
            tags=tags,
            opts=child,
        )
        listener_rules = [
            aws.lb.ListenerRule(
                f"{name}-route-{route.priority}",
                listener_arn=args.load_balancer.listener_arn,
                priority=route.priority,
                actions=[aws.lb.ListenerRuleActionArgs(type="forward", target_group_arn=target_group.arn)],
                conditions=_conditions(route.hosts, route.paths),
                tags=tags,
                opts=child,
            )
            for route in service.routes
        ]

        observability = ServiceObservability(
            f"{name}-observability",
            ServiceObservabilityArgs(
                service=service,
                environment=args.environment,
                cluster_name=args.cluster_name,
                log_retention_days=args.log_retention_days,
                logs_kms_key_arn=args.logs_kms_key_arn,
                alarm_topic_arn=args.alarm_topic_arn,
                load_balancer_arn_suffix=args.load_balancer.arn_suffix,
                target_group_arn_suffix=target_group.arn_suffix,
                tags=tags,
            ),
            opts=child,
        )
        dashboard = ServiceDashboard(
            f"{name}-dashboard",
            ServiceDashboardArgs(
                dashboard_name=naming.dashboard_name(service.key, args.environment),
                region=args.region,
                service_name=service.name,
                cluster_name=args.cluster_name,
                load_balancer_arn_suffix=args.load_balancer.arn_suffix,
                target_group_arn_suffix=target_group.arn_suffix,
                log_metrics=tuple(
                    LogMetric(service.contract.metric_namespace, signature.metric_name, signature.meaning)
                    for signature in service.contract.error_signatures
                ),
                alarms=observability.result.alarms,
            ),
            opts=child,
        )
        roles = TaskRoles(
            f"{name}-roles",
            TaskRolesArgs(
                service_name=service.name,
                image=service.image,
                task_role_policy_arns=service.task_role_policy_arns,
                s3_locations=service.s3_locations,
                account_id=args.account_id,
                region=args.region,
                secret_arns=args.secret_arns,
                secrets_kms_key_arn=args.secrets_kms_key_arn,
                log_group_arn=observability.result.log_group_arn,
                ecs_exec=service.ecs_exec,
                permissions_boundary_arn=args.task_role_boundary_arn,
                tags=tags,
            ),
            opts=child,
        )
        # A relaxed default is visible at every preview, with the reason the stack gives for it.
        for exception, reason in service.exceptions:
            pulumi.log.warn(f"service {service.key}: secure default relaxed ({exception}): {reason}", self)

        env_vars = sorted(args.secret_arns)
        task_definition = aws.ecs.TaskDefinition(
            f"{name}-task",
            family=service.name,
            requires_compatibilities=["FARGATE"],
            network_mode="awsvpc",
            cpu=str(service.cpu),
            memory=str(service.memory),
            runtime_platform=aws.ecs.TaskDefinitionRuntimePlatformArgs(
                operating_system_family="LINUX", cpu_architecture="X86_64"
            ),
            execution_role_arn=roles.result.execution_role_arn,
            task_role_arn=roles.result.task_role_arn,
            # Where the container may write (its contract's writable paths): the root filesystem is read-only.
            volumes=[aws.ecs.TaskDefinitionVolumeArgs(name=v["name"]) for v in documents.task_volumes(service)],
            container_definitions=pulumi.Output.all(*[args.secret_arns[v] for v in env_vars]).apply(
                lambda arns: json.dumps(
                    documents.container_definitions(
                        service, secret_arns=dict(zip(env_vars, arns, strict=True)), region=args.region
                    )
                )
            ),
            # Keep replaced revisions ACTIVE: the circuit breaker rolls back to the
            # previous one, and on-call may point the service back at it (RUNBOOK.md).
            # Deregistering them would make both impossible.
            skip_destroy=True,
            tags=tags,
            # The log group must exist before a task tries to write to it.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[observability.result.log_group]),
        )

        discovery_name = naming.discovery_hostname(service.key, args.environment)
        discovery = aws.servicediscovery.Service(
            f"{name}-discovery",
            name=service.key,
            description=f"{discovery_name}:{service.container_port}",
            dns_config=aws.servicediscovery.ServiceDnsConfigArgs(
                namespace_id=args.namespace_id,
                routing_policy=service_discovery.ROUTING_POLICY,
                dns_records=[
                    aws.servicediscovery.ServiceDnsConfigDnsRecordArgs(
                        type=service_discovery.RECORD_TYPE, ttl=service_discovery.RECORD_TTL_SECONDS
                    )
                ],
            ),
            # ECS reports each task's health; the block is replace-only, and the live services have it
            # (core/service_discovery.py): without it an import would replace them.
            health_check_custom_config=aws.servicediscovery.ServiceHealthCheckCustomConfigArgs(
                failure_threshold=service_discovery.FAILURE_THRESHOLD
            ),
            tags=tags,
            opts=child,
        )

        # Everything that makes ECS start a new deployment when it changes, in one place:
        # the service gets these arguments, and the deploy gate reruns when their digest
        # changes (core/deployment_key.py). A new input of that kind (force_new_deployment,
        # triggers, capacity_provider_strategies, ...) belongs here, not below.
        deployment_inputs: dict[str, Any] = dict(
            task_definition=task_definition.arn,
            launch_type="FARGATE",
            platform_version="LATEST",
            network_configuration=aws.ecs.ServiceNetworkConfigurationArgs(
                subnets=list(args.subnet_ids),
                security_groups=[args.security_group_id],
                assign_public_ip=False,
            ),
            load_balancers=[
                aws.ecs.ServiceLoadBalancerArgs(
                    target_group_arn=target_group.arn,
                    container_name=service.container_name,
                    container_port=service.container_port,
                )
            ],
            service_registries=aws.ecs.ServiceServiceRegistriesArgs(registry_arn=discovery.arn),
        )
        ecs_service = aws.ecs.Service(
            f"{name}-service",
            name=service.name,
            cluster=args.cluster_arn,
            desired_count=service.desired_count,
            **deployment_inputs,
            health_check_grace_period_seconds=service.health_check_grace_seconds,
            deployment_minimum_healthy_percent=MIN_HEALTHY_PERCENT,
            deployment_maximum_percent=MAX_PERCENT,
            # A deployment whose tasks keep failing to start rolls back on its own ...
            deployment_circuit_breaker=aws.ecs.ServiceDeploymentCircuitBreakerArgs(enable=True, rollback=True),
            # ... and so does one whose tasks start but log the known failure signatures.
            alarms=aws.ecs.ServiceAlarmsArgs(
                alarm_names=observability.result.deployment_alarm_names,
                enable=True,
                rollback=True,
            ),
            # A shell into a running task only where the stack says why (exceptions.ecs_exec).
            enable_execute_command=service.ecs_exec,
            propagate_tags="SERVICE",
            enable_ecs_managed_tags=True,
            # Block `pulumi up` until the deployment settles. It does not notice a
            # rollback (it settles on the old revision); the deploy gate does.
            wait_for_steady_state=True,
            tags=tags,
            opts=pulumi.ResourceOptions(
                parent=self,
                # Tasks need the grant to read their secrets, and the rules to reach their
                # dependencies, the moment they start.
                depends_on=[roles, *listener_rules, *args.dependency_rules],
                # Autoscaling owns the running count after the first deploy.
                ignore_changes=["desiredCount"],
            ),
        )

        scaling_target = aws.appautoscaling.Target(
            f"{name}-scaling",
            service_namespace="ecs",
            scalable_dimension="ecs:service:DesiredCount",
            resource_id=naming.ecs_resource_id(service.key, args.environment),
            min_capacity=service.autoscaling.min_count,
            max_capacity=service.autoscaling.max_count,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[ecs_service]),
        )
        aws.appautoscaling.Policy(
            f"{name}-scaling-cpu",
            name=f"{service.name}-cpu",
            policy_type="TargetTrackingScaling",
            service_namespace=scaling_target.service_namespace,
            scalable_dimension=scaling_target.scalable_dimension,
            resource_id=scaling_target.resource_id,
            target_tracking_scaling_policy_configuration=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationArgs(
                predefined_metric_specification=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs(
                    predefined_metric_type="ECSServiceAverageCPUUtilization",
                ),
                target_value=service.autoscaling.cpu_target_percent,
                # Scale out fast, scale in slowly: a model load is expensive.
                scale_out_cooldown=60,
                scale_in_cooldown=300,
            ),
            opts=child,
        )
        # `pulumi up` fails unless the deployment of this revision really lands (infra/deploy_gate.py).
        if args.deploy_gate.enabled:
            DeployGate(
                f"{name}-deploy-gate",
                DeployGateArgs(
                    region=args.region,
                    cluster=args.cluster_name,
                    service_name=ecs_service.name,
                    task_definition_arn=task_definition.arn,
                    deployment_key=_deployment_key(deployment_inputs),
                    timeout_seconds=args.deploy_gate.timeout_seconds,
                    aws=args.aws_provider,
                ),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[ecs_service]),
            )

        self.result = ServiceResult(
            key=service.key,
            service_name=ecs_service.name,
            # The ECS service's id is its ARN.
            service_arn=ecs_service.id,
            task_definition_arn=task_definition.arn,
            task_family=task_definition.family,
            container_name=service.container_name,
            container_port=service.container_port,
            target_group_arn=target_group.arn,
            health_check_path=service.health_check_path,
            security_group_id=args.security_group_id,
            execution_role_arn=roles.result.execution_role_arn,
            task_role_arn=roles.result.task_role_arn,
            log_group_name=observability.result.log_group_name,
            metric_filters=observability.result.metric_filters,
            alarm_names=observability.result.alarm_names,
            deployment_alarm_names=observability.result.deployment_alarm_names,
            secret_arns=dict(args.secret_arns),
            secret_value_froms={
                source.env_var: args.secret_arns[source.env_var].apply(source.container_value_from)
                for source in service.secrets
            },
            environment_names=tuple(env_name for env_name, _ in service.environment),
            discovery_name=discovery_name,
            dependencies=service.contract.dependency_names,
            dashboard_url=dashboard.result.url,
            exceptions=dict(service.exceptions),
        )
        self.register_outputs({"service_arn": ecs_service.id, "task_definition_arn": task_definition.arn})


def _deployment_key(deployment_inputs: dict[str, Any]) -> pulumi.Output[str]:
    """core.deployment_key of the service's deployment arguments, once they are known."""
    return pulumi.Output.from_input(deployment_inputs).apply(lambda resolved: deployment_key(_plain(resolved)))


def _plain(value: Any) -> Any:
    """Resolved Pulumi arguments as plain data: an `...Args` object becomes the dict of its fields."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "__dict__") and not isinstance(value, type):
        return {k: _plain(v) for k, v in vars(value).items()}
    return value


def _conditions(hosts: tuple[str, ...], paths: tuple[str, ...]) -> list[aws.lb.ListenerRuleConditionArgs]:
    conditions = []
    if hosts:
        conditions.append(
            aws.lb.ListenerRuleConditionArgs(host_header=aws.lb.ListenerRuleConditionHostHeaderArgs(values=list(hosts)))
        )
    if paths:
        conditions.append(
            aws.lb.ListenerRuleConditionArgs(
                path_pattern=aws.lb.ListenerRuleConditionPathPatternArgs(values=list(paths))
            )
        )
    return conditions
