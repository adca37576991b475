"""The ECS service component: task definition, service, target group, routes, scaling.

Every test holds for every service of every stack file, with what it expects
read from that stack's settings and the service's contract.
"""

from __future__ import annotations

import pytest

from core import naming
from core.contract import CONTRACTS
from tests import tiers
from tests.helpers import (
    by_type,
    container,
    each_service,
    ecs_service,
    of_service,
    rendered,
    run,
    secret_arn,
    service_output,
    stack_settings,
    task_definition,
    with_every_contract,
)


@each_service
def test_each_contract_secret_reaches_the_container_only_through_secrets(stack, service):
    result, spec = rendered(stack), stack_settings(stack).service(service)
    definition = container(result, service)
    written = service_output(result, service)
    arns, value_froms = written["secret_arns"], written["secret_value_froms"]
    assert {s["name"]: s["valueFrom"] for s in definition["secrets"]} == value_froms
    assert set(arns) == set(value_froms) == set(spec.contract.secret_names)
    # Each by the ARN of the secret the stack names for it, then the JSON key and version it names.
    for source in spec.secrets:
        assert arns[source.env_var] == secret_arn(result, source)
        assert value_froms[source.env_var] == source.container_value_from(arns[source.env_var])
    assert not {e["name"] for e in definition["environment"]} & set(arns)


@each_service
def test_plain_settings_reach_the_container_through_environment(stack, service):
    spec = stack_settings(stack).service(service)
    environment = {e["name"]: e["value"] for e in container(rendered(stack), service)["environment"]}
    assert environment == dict(spec.environment)
    assert set(spec.contract.setting_names) <= set(environment)
    assert all(environment[name] for name in spec.contract.setting_names)
    assert all(environment[s.env_var] == stack for s in spec.contract.settings if s.derived_from == "environment")
    # What the contract deliberately does not provide never is: taken as given, a REDIS_URL would
    # make the application connect without REDIS_AUTH_TOKEN.
    assert not set(environment) & {entry.env_var for entry in spec.contract.not_provided}


@each_service
def test_the_task_definition_is_a_fargate_task_with_roles_and_logs(stack, service):
    result, settings = rendered(stack), stack_settings(stack)
    spec, contract = settings.service(service), CONTRACTS[service]
    task = task_definition(result, service).inputs
    assert task["family"] == naming.service_name(service, stack)
    assert task["requiresCompatibilities"] == ["FARGATE"] and task["networkMode"] == "awsvpc"
    assert (task["cpu"], task["memory"]) == (str(spec.cpu), str(spec.memory))
    roles = f"arn:aws:iam::{settings.account_id}:role/{naming.service_name(service, stack)}"
    assert (task["executionRoleArn"], task["taskRoleArn"]) == (f"{roles}-execution", f"{roles}-task")
    # Replaced revisions stay ACTIVE, so a rollback (circuit breaker or by hand) has somewhere to go.
    assert task["skipDestroy"] is True
    definition = container(result, service)
    assert (definition["name"], definition["portMappings"][0]["containerPort"]) == (
        contract.container_name,
        contract.container_port,
    )
    assert definition["logConfiguration"]["options"]["awslogs-group"] == naming.log_group_name(service, stack)


@each_service
def test_the_service_deploys_safely(stack, service):
    result, spec = rendered(stack), stack_settings(stack).service(service)
    inputs = ecs_service(result, service).inputs
    assert inputs["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert inputs["alarms"]["enable"] and inputs["alarms"]["rollback"]
    # Exactly the contract's deployment-alarm signatures, in the contract's order.
    assert inputs["alarms"]["alarmNames"] == [
        naming.alarm_name(service, stack, signature.key)
        for signature in spec.contract.error_signatures
        if signature.deployment_alarm
    ]
    assert (inputs["deploymentMinimumHealthyPercent"], inputs["deploymentMaximumPercent"]) == (100, 200)
    assert inputs["healthCheckGracePeriodSeconds"] == spec.health_check_grace_seconds
    assert inputs["desiredCount"] == spec.desired_count
    assert inputs["waitForSteadyState"] is True


@each_service
def test_the_service_runs_privately_with_ecs_exec_only_where_the_stack_says_why(stack, service):
    result, settings = rendered(stack), stack_settings(stack)
    inputs = ecs_service(result, service).inputs
    assert inputs["name"] == naming.service_name(service, stack)
    assert inputs["launchType"] == "FARGATE"
    assert inputs["enableExecuteCommand"] is settings.service(service).ecs_exec
    network = inputs["networkConfiguration"]
    assert network["assignPublicIp"] is False
    assert network["subnets"] == list(settings.network.private_subnet_ids)
    assert network["securityGroups"] == [service_output(result, service)["security_group_id"]]


@each_service
def test_the_target_group_brings_tasks_into_service_quickly(stack, service):
    result, contract = rendered(stack), CONTRACTS[service]
    (group,) = of_service(result, service, "aws:lb/targetGroup:TargetGroup")
    assert group.outputs["arn"] == service_output(result, service)["target_group_arn"]
    inputs = group.inputs
    assert (inputs["port"], inputs["protocol"], inputs["targetType"]) == (contract.container_port, "HTTP", "ip")
    assert inputs["deregistrationDelay"] == 30
    check = inputs["healthCheck"]
    assert (check["path"], check["matcher"], check["interval"], check["healthyThreshold"]) == (
        contract.health_check_path,
        "200",
        10,
        2,
    )
    assert ecs_service(result, service).inputs["loadBalancers"] == [
        {
            "targetGroupArn": group.outputs["arn"],
            "containerName": contract.container_name,
            "containerPort": contract.container_port,
        }
    ]


@each_service
def test_listener_rules_route_the_configured_hosts_and_paths_to_the_service(stack, service):
    result, settings = rendered(stack), stack_settings(stack)
    target = service_output(result, service)["target_group_arn"]
    rules = {
        int(r.inputs["priority"]): r.inputs
        for r in by_type(result, "aws:lb/listenerRule:ListenerRule")
        if r.inputs["actions"] == [{"type": "forward", "targetGroupArn": target}]
    }
    routes = settings.service(service).routes
    assert set(rules) == {route.priority for route in routes}
    for route in routes:
        expected = [{"hostHeader": {"values": list(route.hosts)}}] if route.hosts else []
        expected += [{"pathPattern": {"values": list(route.paths)}}] if route.paths else []
        assert rules[route.priority]["conditions"] == expected
    adopted = settings.load_balancer.listener_arn
    assert all(r["listenerArn"] == adopted for r in rules.values()) if adopted else True


@each_service
def test_the_service_registers_in_cloud_map(stack, service):
    result = rendered(stack)
    (discovery,) = of_service(result, service, "aws:servicediscovery/service:Service")
    (namespace,) = by_type(result, "aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace")
    assert discovery.inputs["name"] == service
    assert service_output(result, service)["discovery_name"] == naming.discovery_hostname(service, stack)
    assert discovery.inputs["dnsConfig"]["namespaceId"] == namespace.id
    assert discovery.inputs["dnsConfig"]["dnsRecords"] == [{"type": "A", "ttl": 10}]
    assert ecs_service(result, service).inputs["serviceRegistries"] == {"registryArn": discovery.outputs["arn"]}


@each_service
def test_cpu_autoscaling_uses_the_configured_bounds(stack, service):
    result, scaling = rendered(stack), stack_settings(stack).service(service).autoscaling
    (target,) = of_service(result, service, "aws:appautoscaling/target:Target")
    assert (target.inputs["minCapacity"], target.inputs["maxCapacity"]) == (scaling.min_count, scaling.max_count)
    assert target.inputs["resourceId"] == naming.ecs_resource_id(service, stack)
    (policy,) = of_service(result, service, "aws:appautoscaling/policy:Policy")
    tracking = policy.inputs["targetTrackingScalingPolicyConfiguration"]
    assert policy.inputs["resourceId"] == target.inputs["resourceId"]
    assert tracking["targetValue"] == scaling.cpu_target_percent
    assert tracking["predefinedMetricSpecification"]["predefinedMetricType"] == "ECSServiceAverageCPUUtilization"


@each_service
def test_the_service_security_group_admits_only_the_load_balancer(stack, service):
    result = rendered(stack)
    service_group = service_output(result, service)["security_group_id"]
    rules = [
        r.inputs
        for r in by_type(result, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
        if r.inputs["securityGroupId"] == service_group
    ]
    load_balancer_groups = {g for _, groups in result.mocks.world.listeners.values() for g in groups}
    # ... and, when the service is another's dependency (mlflow), the services that reach it
    consumers = {
        group
        for d in result.outputs["dependencies"]
        if d["name"] == service
        for group in d["consumer_security_group_ids"].values()
    }
    assert rules and {rule["referencedSecurityGroupId"] for rule in rules} <= load_balancer_groups | consumers
    port = CONTRACTS[service].container_port
    for rule in rules:
        assert (rule["fromPort"], rule["toPort"], rule["ipProtocol"]) == (port, port, "tcp")
        assert "cidrIpv4" not in rule and "cidrIpv6" not in rule


@pytest.mark.parametrize("key", sorted(CONTRACTS))
@tiers.renders
def test_the_component_is_generic_over_the_contract(dev_values, key):
    """Every contract entry, deployed beside the others, gets its own container from its own contract."""
    result = run(with_every_contract(dev_values))
    contract = CONTRACTS[key]
    definition = container(result, key)
    assert (definition["name"], definition["portMappings"][0]["containerPort"]) == (
        contract.container_name,
        contract.container_port,
    )
    assert {s["name"] for s in definition["secrets"]} == set(contract.secret_names)
