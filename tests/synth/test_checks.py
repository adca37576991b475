"""Each invariant can fail: break the rendered graph (or the program) on purpose
and watch the check name the problem. The development graph holds them all
(tests/test_main.py)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable

import pytest

from synth.checks import check_graph
from tests.helpers import run

TASK = "aws:ecs/taskDefinition:TaskDefinition"


@pytest.fixture
def graph(dev_run):
    """A mutable copy of the development graph: (resources, estate)."""
    return copy.deepcopy(dev_run.resources), copy.deepcopy(dev_run.outputs)


def first(resources, type_, name=None):
    return next(r for r in resources if r.type == type_ and (name is None or r.name == name))


def edit_container(resources, change: Callable[[dict], None]) -> None:
    task = first(resources, TASK)
    definitions = json.loads(task.inputs["containerDefinitions"])
    change(definitions[0])
    task.inputs["containerDefinitions"] = json.dumps(definitions)


def findings(graph) -> list[str]:
    return [str(f) for f in check_graph(*graph)]


def only(found: list[str], *fragments: str) -> None:
    assert found, "the check did not notice"
    for fragment in fragments:
        assert any(fragment in f for f in found), (fragment, found)


def test_a_secret_missing_from_the_task_definition_is_found(graph):
    edit_container(
        graph[0], lambda c: c.update(secrets=[s for s in c["secrets"] if s["name"] != "HUGGINGFACE_API_KEY"])
    )
    only(findings(graph), "HUGGINGFACE_API_KEY is not in the container's secrets", "HuggingFace token not configured")


def test_a_secret_in_plain_environment_is_found(graph):
    edit_container(graph[0], lambda c: c["environment"].append({"name": "HUGGINGFACE_API_KEY", "value": "x"}))
    only(findings(graph), "HUGGINGFACE_API_KEY is in plain environment")


def test_a_value_from_that_is_not_a_secret_arn_is_found(graph):
    edit_container(graph[0], lambda c: c["secrets"][0].update(valueFrom="hokusai/development/huggingface/api-key"))
    only(findings(graph), "is not a Secrets Manager ARN")


@pytest.mark.parametrize("name", ["API_PORT", "REDIS_HOST"], ids=["derived from the stack", "from a dependency"])
def test_a_missing_required_setting_is_found(graph, name):
    edit_container(graph[0], lambda c: c.update(environment=[e for e in c["environment"] if e["name"] != name]))
    only(findings(graph), f"required setting {name} is not set")


def test_a_container_definition_the_ecs_api_would_reject_is_found(graph):
    edit_container(graph[0], lambda c: c["logConfiguration"].update(logDriver="awslog"))
    edit_container(graph[0], lambda c: c.update(portMapping=c.pop("portMappings")))
    only(findings(graph), "'awslog' is not one of", "portMapping")


def test_a_secret_the_execution_role_may_not_read_is_found(graph):
    policy = first(graph[0], "aws:iam/rolePolicy:RolePolicy", "api-roles-execution-policy")
    document = json.loads(policy.inputs["policy"])
    statement = next(s for s in document["Statement"] if s["Sid"] == "ReadDeclaredSecrets")
    statement["Resource"] = statement["Resource"][1:]
    policy.inputs["policy"] = json.dumps(document)
    only(findings(graph), "may not read arn:aws:secretsmanager", "ResourceInitializationError")


def test_a_wildcard_secret_grant_is_found(graph):
    policy = first(graph[0], "aws:iam/rolePolicy:RolePolicy", "api-roles-execution-policy")
    document = json.loads(policy.inputs["policy"])
    next(s for s in document["Statement"] if s["Sid"] == "ReadDeclaredSecrets")["Resource"].append(
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:*"
    )
    policy.inputs["policy"] = json.dumps(document)
    only(findings(graph), "wildcard")


def test_a_deny_on_the_execution_role_is_found(graph):
    """The grant is read with core/iam_policy.py: a Deny beside it takes the secret away."""
    policy = first(graph[0], "aws:iam/rolePolicy:RolePolicy", "api-roles-execution-policy")
    document = json.loads(policy.inputs["policy"])
    document["Statement"].append(
        {"Sid": "NoHuggingFace", "Effect": "Deny", "Action": "secretsmanager:Get*", "Resource": "*huggingface*"}
    )
    policy.inputs["policy"] = json.dumps(document)
    only(findings(graph), "may not read arn:aws:secretsmanager", "huggingface/api-key", "(denied)")


def test_a_grant_under_a_condition_the_check_cannot_evaluate_is_found(graph):
    policy = first(graph[0], "aws:iam/rolePolicy:RolePolicy", "api-roles-execution-policy")
    document = json.loads(policy.inputs["policy"])
    statement = next(s for s in document["Statement"] if s["Sid"] == "ReadDeclaredSecrets")
    statement["Condition"] = {"StringEquals": {"aws:SourceVpce": "vpce-0a1b2c3d"}}
    policy.inputs["policy"] = json.dumps(document)
    only(findings(graph), "cannot tell whether it may read", "aws:SourceVpce")


def test_a_task_role_without_ecs_exec_is_found(graph):
    graph[0].remove(first(graph[0], "aws:iam/rolePolicy:RolePolicy", "api-roles-ecs-exec"))
    only(findings(graph), "does not allow ECS Exec")


def test_a_world_open_rule_outside_the_alb_is_found(graph):
    rule = copy.deepcopy(first(graph[0], "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "api-from-alb-0"))
    rule.name = "hand-made"
    rule.inputs.pop("referencedSecurityGroupId")
    rule.inputs["cidrIpv4"] = "0.0.0.0/0"
    graph[0].append(rule)
    only(findings(graph), "hand-made: is open to the world")


def test_a_cidr_rule_is_found(graph):
    rule = first(graph[0], "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "redis-from-api")
    rule.inputs["cidrIpv4"] = "10.0.0.0/16"
    only(findings(graph), "admits CIDR 10.0.0.0/16")


def test_a_missing_redis_rule_is_found(graph):
    graph[0].remove(first(graph[0], "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "redis-from-api"))
    only(findings(graph), "reaches redis but no rule admits its security group", "redis_from_data_pipeline_ecs")


def test_a_redis_rule_on_the_wrong_port_is_found(graph):
    first(graph[0], "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "redis-from-api").inputs[
        "fromPort"
    ] = 6380
    only(findings(graph), "reaches redis but no rule admits")


def test_a_service_nobody_can_reach_is_found(graph):
    graph[0].remove(first(graph[0], "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "api-from-alb-0"))
    only(findings(graph), "nothing may reach the service's port")


@pytest.mark.parametrize(
    "change,expected",
    [
        (lambda s: s.update(deploymentCircuitBreaker={"enable": True, "rollback": False}), "does not roll back"),
        (lambda s: s["alarms"].update(rollback=False), "deployment alarms do not roll back"),
        (lambda s: s["alarms"].update(alarmNames=[]), "has no deployment alarms"),
        (lambda s: s["alarms"]["alarmNames"].append("hokusai-api-development-typo"), "is not declared"),
        (lambda s: s.update(deploymentMinimumHealthyPercent=50), "100 / 200"),
        (lambda s: s.update(enableExecuteCommand=False), "ECS Exec is off"),
        (lambda s: s["networkConfiguration"].update(assignPublicIp=True), "public IPs"),
    ],
)
def test_unsafe_deployment_settings_are_found(graph, change, expected):
    change(first(graph[0], "aws:ecs/service:Service").inputs)
    only(findings(graph), expected)


def test_removing_the_huggingface_alarm_from_the_deployment_alarms_is_found(graph):
    alarms = first(graph[0], "aws:ecs/service:Service").inputs["alarms"]
    alarms["alarmNames"].remove("hokusai-api-development-huggingface-token")
    only(findings(graph), "is not a deployment alarm of its service")


@pytest.mark.parametrize(
    "change,expected",
    [
        (lambda g: g["healthCheck"].update(path="/"), "health check path is '/'"),
        (lambda g: g.update(deregistrationDelay=300), "deregistration delay"),
        (lambda g: g.update(targetType="instance"), "task IPs"),
    ],
)
def test_a_mistuned_target_group_is_found(graph, change, expected):
    change(first(graph[0], "aws:lb/targetGroup:TargetGroup").inputs)
    only(findings(graph), expected)


def test_a_missing_metric_filter_is_found(graph):
    graph[0].remove(
        first(graph[0], "aws:cloudwatch/logMetricFilter:LogMetricFilter", "api-observability-filter-huggingface-token")
    )
    only(findings(graph), 'no metric filter counts "HuggingFace token not configured"')


def test_a_missing_alarm_is_found(graph):
    graph[0].remove(
        first(graph[0], "aws:cloudwatch/metricAlarm:MetricAlarm", "api-observability-alarm-huggingface-token")
    )
    only(findings(graph), "nothing alarms on Hokusai/API/HuggingFaceTokenError")


def test_an_alarm_that_notifies_no_one_is_found(graph):
    first(graph[0], "aws:cloudwatch/metricAlarm:MetricAlarm", "api-observability-alarm-http-5xx").inputs[
        "alarmActions"
    ] = []
    only(findings(graph), "notifies no one")


def test_a_log_group_without_retention_is_found(graph):
    first(graph[0], "aws:cloudwatch/logGroup:LogGroup").inputs.pop("retentionInDays")
    only(findings(graph), "keeps logs forever")


# Breaking the program itself, not the recorded graph: the guards catch a regression in the code.


def test_a_program_that_forgets_a_redis_consumer_is_caught(monkeypatch, dev_values):
    import dataclasses

    from infra.dependency_access import DependencyAccess

    original = DependencyAccess.__init__

    def forgetful(self, name, args, opts=None):
        original(self, name, dataclasses.replace(args, services={}) if name == "redis" else args, opts)

    monkeypatch.setattr(DependencyAccess, "__init__", forgetful)
    result = run(dev_values)
    only([str(f) for f in check_graph(result.resources, result.outputs)], "reaches redis but no rule admits")


def test_a_program_whose_grant_drifts_from_the_secrets_list_is_caught(monkeypatch, dev_values):
    from core import documents

    original = documents.execution_role_policy

    def forgetful(*, secret_arns, **kwargs):
        return original(secret_arns=[a for a in secret_arns if "huggingface" not in a], **kwargs)

    monkeypatch.setattr(documents, "execution_role_policy", forgetful)
    result = run(dev_values)
    only([str(f) for f in check_graph(result.resources, result.outputs)], "may not read", "huggingface/api-key")
