"""The ECS service component: task definition, service, target group, routes, scaling."""

from __future__ import annotations

import pytest

from tests.helpers import by_type, container, run, with_mlflow


def one(result, type_, name=None):
    return result.mocks.one(type_, name)


def test_each_contract_secret_reaches_the_container_only_through_secrets(dev_run):
    definition = container(dev_run)
    arns = dev_run.outputs["services"][0]["secret_arns"]
    assert {s["name"]: s["valueFrom"] for s in definition["secrets"]} == arns
    assert arns["HUGGINGFACE_API_KEY"].startswith(
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:hokusai/development/huggingface/api-key-"
    )
    assert not {e["name"] for e in definition["environment"]} & set(arns)


def test_plain_settings_reach_the_container_through_environment(dev_run):
    environment = {e["name"]: e["value"] for e in container(dev_run)["environment"]}
    for name in ("DATABASE_HOST", "MLFLOW_SERVER_URL", "HOKUSAI_AUTH_SERVICE_URL", "REDIS_HOST"):
        assert environment[name]
    assert environment["ENVIRONMENT"] == "development"
    # Taken as given, a REDIS_URL would make the application connect without REDIS_AUTH_TOKEN.
    assert "REDIS_URL" not in environment


def test_the_task_definition_is_a_fargate_task_with_roles_and_logs(dev_run):
    task = one(dev_run, "aws:ecs/taskDefinition:TaskDefinition")
    assert task.inputs["requiresCompatibilities"] == ["FARGATE"] and task.inputs["networkMode"] == "awsvpc"
    assert (task.inputs["cpu"], task.inputs["memory"]) == ("512", "1024")
    assert task.inputs["executionRoleArn"] == "arn:aws:iam::123456789012:role/hokusai-api-development-execution"
    assert task.inputs["taskRoleArn"] == "arn:aws:iam::123456789012:role/hokusai-api-development-task"
    # Replaced revisions stay ACTIVE, so a rollback (circuit breaker or by hand) has somewhere to go.
    assert task.inputs["skipDestroy"] is True
    definition = container(dev_run)
    assert (definition["name"], definition["portMappings"][0]["containerPort"]) == ("api", 8001)
    assert definition["logConfiguration"]["options"]["awslogs-group"] == "/ecs/hokusai-api-development"


def test_the_service_deploys_safely(dev_run):
    service = one(dev_run, "aws:ecs/service:Service").inputs
    assert service["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert service["alarms"]["enable"] and service["alarms"]["rollback"]
    assert service["alarms"]["alarmNames"] == [
        "hokusai-api-development-huggingface-token",
        "hokusai-api-development-error-lines",
        "hokusai-api-development-http-5xx",
    ]
    assert (service["deploymentMinimumHealthyPercent"], service["deploymentMaximumPercent"]) == (100, 200)
    assert service["healthCheckGracePeriodSeconds"] == 60
    assert service["waitForSteadyState"] is True


def test_the_service_runs_privately_with_ecs_exec(dev_run):
    service = one(dev_run, "aws:ecs/service:Service").inputs
    assert service["launchType"] == "FARGATE" and service["enableExecuteCommand"] is True
    network = service["networkConfiguration"]
    assert network["assignPublicIp"] is False
    assert network["subnets"] == ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"]
    assert network["securityGroups"] == [dev_run.outputs["services"][0]["security_group_id"]]


def test_the_target_group_brings_tasks_into_service_quickly(dev_run):
    group = one(dev_run, "aws:lb/targetGroup:TargetGroup").inputs
    assert (group["port"], group["protocol"], group["targetType"]) == (8001, "HTTP", "ip")
    assert group["deregistrationDelay"] == 30
    check = group["healthCheck"]
    assert (check["path"], check["matcher"], check["interval"], check["healthyThreshold"]) == ("/health", "200", 10, 2)
    service = one(dev_run, "aws:ecs/service:Service").inputs
    assert service["loadBalancers"] == [
        {
            "targetGroupArn": dev_run.outputs["services"][0]["target_group_arn"],
            "containerName": "api",
            "containerPort": 8001,
        }
    ]


def test_listener_rules_route_hosts_and_paths_to_the_api(dev_run):
    rules = {int(r.inputs["priority"]): r.inputs for r in by_type(dev_run, "aws:lb/listenerRule:ListenerRule")}
    listener = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/hokusai-main-development/"
    assert set(rules) == {100, 110}
    assert all(r["listenerArn"].startswith(listener) for r in rules.values())
    assert rules[100]["conditions"] == [{"hostHeader": {"values": ["api.hokus.ai"]}}]
    assert rules[110]["conditions"] == [
        {"hostHeader": {"values": ["registry.hokus.ai"]}},
        {"pathPattern": {"values": ["/api/mlflow/*"]}},
    ]
    target = dev_run.outputs["services"][0]["target_group_arn"]
    assert all(r["actions"] == [{"type": "forward", "targetGroupArn": target}] for r in rules.values())


def test_the_service_registers_in_cloud_map(dev_run):
    discovery = one(dev_run, "aws:servicediscovery/service:Service")
    namespace = one(dev_run, "aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace")
    assert discovery.inputs["dnsConfig"]["namespaceId"] == namespace.id
    assert discovery.inputs["dnsConfig"]["dnsRecords"] == [{"type": "A", "ttl": 10}]
    service = one(dev_run, "aws:ecs/service:Service").inputs
    assert service["serviceRegistries"] == {"registryArn": discovery.outputs["arn"]}


def test_cpu_autoscaling_uses_the_configured_bounds(dev_run):
    target = one(dev_run, "aws:appautoscaling/target:Target").inputs
    assert (target["minCapacity"], target["maxCapacity"]) == (2, 6)
    assert target["resourceId"] == "service/hokusai-development/hokusai-api-development"
    policy = one(dev_run, "aws:appautoscaling/policy:Policy").inputs
    tracking = policy["targetTrackingScalingPolicyConfiguration"]
    assert tracking["targetValue"] == 60
    assert tracking["predefinedMetricSpecification"]["predefinedMetricType"] == "ECSServiceAverageCPUUtilization"


def test_the_service_security_group_admits_only_the_load_balancer(dev_run):
    service_group = dev_run.outputs["services"][0]["security_group_id"]
    rules = [
        r.inputs
        for r in by_type(dev_run, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
        if r.inputs["securityGroupId"] == service_group
    ]
    assert len(rules) == 1
    (rule,) = rules
    assert (rule["fromPort"], rule["toPort"], rule["ipProtocol"]) == (8001, 8001, "tcp")
    assert rule["referencedSecurityGroupId"].startswith("sg-") and "cidrIpv4" not in rule


@pytest.mark.parametrize("key", ["api", "mlflow"])
def test_the_component_is_generic_over_the_contract(dev_values, key):
    result = run(with_mlflow(dev_values))
    family = f"hokusai-{key}-development"
    definition = container(result, family)
    expected = {"api": ("api", 8001), "mlflow": ("mlflow", 5000)}[key]
    assert (definition["name"], definition["portMappings"][0]["containerPort"]) == expected
    mlflow_secrets = {s["name"] for s in container(result, "hokusai-mlflow-development")["secrets"]}
    assert mlflow_secrets == {"DB_PASSWORD"}
