"""The program run under other mocks than the project's.

Every other graph test uses synth/mocks.py; if those mocks hid a mistake (an
ARN shape the program leans on, an answer that is too kind), the tests would
not see it. This file runs __main__.py under deliberately plain mocks written
here, sharing no code with synth/, and finds each property the program issue
lists (items 1-9) again.
"""

from __future__ import annotations

import json
import runpy

import pulumi
import pytest

from core.naming import PROJECT
from core.stack_file import PROJECT_DIR, read_stack_file

ACCOUNT, REGION = "123456789012", "us-east-1"


class PlainMocks(pulumi.runtime.Mocks):
    """Opaque ids, one ARN shape for everything, lookups that find whatever is asked."""

    def __init__(self) -> None:
        self.created: list[tuple[str, str, dict]] = []

    def new_resource(self, args):
        self.created.append((args.typ, args.name, dict(args.inputs)))
        arn = f"arn:aws:plain:{REGION}:{ACCOUNT}:{args.name}"
        return f"id-{args.name}", {
            **args.inputs,
            "arn": arn,
            "arnSuffix": f"suffix/{args.name}",
            "name": args.inputs.get("name", args.name),
        }

    def call(self, args):
        if args.token.endswith("getCallerIdentity"):
            return {"accountId": ACCOUNT, "arn": "arn:aws:iam::123456789012:user/x", "userId": "x", "id": ACCOUNT}
        if args.token.endswith("getSecret"):
            name = args.args.get("name") or args.args["arn"]
            return {"arn": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{name}-Zz9Zz9", "name": name}
        if args.token.endswith("getListener"):
            return {"arn": args.args["arn"], "loadBalancerArn": "arn:aws:elasticloadbalancing:lb"}
        if args.token.endswith("getLoadBalancer"):
            return {
                "arn": args.args["arn"],
                "arnSuffix": "app/lb/1",
                "securityGroups": ["sg-alb"],
                "loadBalancerType": "application",
                "dnsName": "lb.example",
            }
        raise AssertionError(f"unexpected call {args.token}")


@pytest.fixture(scope="module")
def created():
    values, secret_keys = read_stack_file("development")
    config = {k: json.dumps(v) if isinstance(v, (dict, list)) else str(v) for k, v in values.items()}
    mocks = PlainMocks()
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack="development", preview=False)
    pulumi.runtime.set_all_config(config, secret_keys)

    @pulumi.runtime.test
    def program():
        runpy.run_path(str(PROJECT_DIR / "__main__.py"), run_name="__main__")

    program()
    return mocks.created


def find(created, type_suffix, **where):
    found = [
        inputs
        for typ, _name, inputs in created
        if typ.endswith(type_suffix) and all(inputs.get(k) == v for k, v in where.items())
    ]
    assert found, f"no {type_suffix} with {where}"
    return found


def test_1_cluster_with_container_insights(created):
    (cluster,) = find(created, "ecs/cluster:Cluster", name="hokusai-development")
    assert {"name": "containerInsights", "value": "enabled"} in cluster["settings"]


def test_2_3_task_definition_takes_every_secret_by_arn_and_settings_as_environment(created):
    (task,) = find(created, "TaskDefinition", family="hokusai-api-development")
    (container,) = json.loads(task["containerDefinitions"])
    secrets = {s["name"]: s["valueFrom"] for s in container["secrets"]}
    assert (
        secrets["HUGGINGFACE_API_KEY"] == f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:"
        "hokusai/development/huggingface/api-key-Zz9Zz9"
    )
    assert set(secrets) == {"HUGGINGFACE_API_KEY", "DB_PASSWORD", "REDIS_AUTH_TOKEN", "API_SECRET_KEY"}
    environment = {e["name"] for e in container["environment"]}
    assert {"DATABASE_HOST", "MLFLOW_SERVER_URL", "HOKUSAI_AUTH_SERVICE_URL", "REDIS_HOST", "REDIS_PORT"} <= environment
    assert "REDIS_URL" not in environment
    assert not environment & set(secrets)
    assert (container["name"], container["portMappings"][0]["containerPort"]) == ("api", 8001)
    assert container["logConfiguration"]["options"]["awslogs-group"] == "/ecs/hokusai-api-development"
    assert "/health" in " ".join(container["healthCheck"]["command"])
    assert (task["cpu"], task["memory"], task["requiresCompatibilities"]) == ("512", "1024", ["FARGATE"])


def test_4_execution_role_reads_exactly_the_referenced_secrets_and_task_role_has_ecs_exec(created):
    (task,) = find(created, "TaskDefinition", family="hokusai-api-development")
    referenced = sorted(s["valueFrom"] for s in json.loads(task["containerDefinitions"])[0]["secrets"])
    role_ids = {f"id-{logical}": inputs["name"] for typ, logical, inputs in created if typ.endswith("iam/role:Role")}
    policies = {role_ids[p["role"]]: json.loads(p["policy"]) for p in find(created, "iam/rolePolicy:RolePolicy")}
    reads = [
        s
        for s in policies["hokusai-api-development-execution"]["Statement"]
        if s["Action"] == "secretsmanager:GetSecretValue"
    ]
    assert [s["Resource"] for s in reads] == [referenced]
    assert "Decrypt" not in json.dumps(policies["hokusai-api-development-execution"])
    assert "ssmmessages:OpenDataChannel" in json.dumps(policies["hokusai-api-development-task"])


def test_5_service_private_safe_deploys_exec_discovery_and_scaling(created):
    (service,) = find(created, "ecs/service:Service", name="hokusai-api-development")
    assert service["networkConfiguration"]["assignPublicIp"] is False
    assert service["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert (
        service["alarms"]["rollback"] is True
        and "hokusai-api-development-huggingface-token" in service["alarms"]["alarmNames"]
    )
    assert (service["deploymentMinimumHealthyPercent"], service["deploymentMaximumPercent"]) == (100, 200)
    assert service["healthCheckGracePeriodSeconds"] > 0 and service["enableExecuteCommand"] is True
    assert find(created, "privateDnsNamespace:PrivateDnsNamespace", name="hokusai-development.local")
    assert find(created, "servicediscovery/service:Service", name="api")
    (target,) = find(created, "appautoscaling/target:Target")
    assert (target["minCapacity"], target["maxCapacity"]) == (2, 6)
    assert find(created, "appautoscaling/policy:Policy")[0]["policyType"] == "TargetTrackingScaling"


def test_6_target_group_and_listener_rules(created):
    (group,) = find(created, "lb/targetGroup:TargetGroup")
    assert (group["port"], group["targetType"], group["healthCheck"]["path"]) == (8001, "ip", "/health")
    assert group["deregistrationDelay"] <= 60
    hosts = {
        v
        for rule in find(created, "lb/listenerRule:ListenerRule")
        for c in rule["conditions"]
        for v in (c.get("hostHeader") or {}).get("values", [])
    }
    assert hosts == {"api.hokus.ai", "registry.hokus.ai"}


def test_7_security_groups_admit_by_reference_and_redis_admits_the_api(created):
    rules = find(created, "SecurityGroupIngressRule")
    assert not [r for r in rules if r.get("cidrIpv4") or r.get("cidrIpv6")]  # no world-open ingress (ALB adopted)
    (redis,) = [r for r in rules if r["securityGroupId"] == "sg-0a1b2c3d4e5f60718"]
    assert (redis["fromPort"], redis["toPort"], redis["referencedSecurityGroupId"]) == (6379, 6379, "id-api-sg")
    (from_alb,) = [r for r in rules if r["securityGroupId"] == "id-api-sg"]
    assert (from_alb["fromPort"], from_alb["referencedSecurityGroupId"]) == (8001, "sg-alb")


def test_8_logs_filters_alarms_and_their_topic(created):
    assert find(created, "logGroup:LogGroup", name="/ecs/hokusai-api-development")[0]["retentionInDays"] == 30
    (hf,) = find(created, "LogMetricFilter", pattern='"HuggingFace token not configured"')
    assert (hf["metricTransformation"]["namespace"], hf["metricTransformation"]["name"]) == (
        "Hokusai/API",
        "HuggingFaceTokenError",
    )
    alarms = find(created, "MetricAlarm")
    watched = {a.get("metricName") for a in alarms}
    assert {
        "HuggingFaceTokenError",
        "ErrorLogLines",
        "Http5xxResponses",
        "HTTPCode_Target_5XX_Count",
        "UnHealthyHostCount",
    } <= watched
    assert any(a.get("metricQueries") for a in alarms)  # running < desired
    topic = f"arn:aws:plain:{REGION}:{ACCOUNT}:alarms-topic"
    assert all(a["alarmActions"] == [topic] for a in alarms)


def test_9_the_outputs_name_the_estate(created):
    root = pulumi.runtime.settings.get_root_resource()
    assert "estate" in root.outputs
