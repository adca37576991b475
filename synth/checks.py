"""Invariants of the rendered resource graph: the incidents, as checks.

Each function looks at every recorded resource (type, name, inputs) and returns
findings, empty when the graph is sound. The offline render refuses a graph with
findings, and the tests run them over the development stack and over variants,
and prove each can fail by breaking the program on purpose.

These check what `pulumi preview` cannot: JSON blobs (container definitions,
IAM policies) and relations between resources (a secret referenced but not
granted, a Redis consumer without its rule, an alarm wired to nothing).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import botocore.session
from botocore.validate import ParamValidator

from core.arns import parse_arn
from core.contract import CONTRACTS, ServiceContract
from core.documents import READ_SECRET_ACTION
from core.iam_policy import Decision, decide, evaluate, resources_granted
from synth.mocks import Registered, of_type

TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
ECS_SERVICE = "aws:ecs/service:Service"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ROLE_POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
METRIC_FILTER = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
SNS_TOPIC = "aws:sns/topic:Topic"

WORLD = ("0.0.0.0/0", "::/0")
ECS_EXEC = "ssmmessages:OpenDataChannel"  # one of the calls ECS Exec's agent makes with the task role


@dataclass(frozen=True)
class Finding:
    check: str
    resource: str
    what: str

    def __str__(self) -> str:
        return f"[{self.check}] {self.resource}: {self.what}"


class Graph:
    """Lookups over the recorded resources."""

    def __init__(self, resources: Sequence[Registered], estate: Mapping[str, Any]):
        self.resources = list(resources)
        self.estate = estate

    def by_output(self, type_: str, key: str, value: Any) -> list[Registered]:
        return [r for r in of_type(self, type_) if r.outputs.get(key) == value]

    def task_definitions(self) -> Iterable[tuple[Registered, ServiceContract, dict[str, Any]]]:
        """(task definition, its service's contract, its container) for every service container."""
        by_container = {c.container_name: c for c in CONTRACTS.values()}
        for task in of_type(self, TASK_DEFINITION):
            for container in json.loads(task.inputs.get("containerDefinitions") or "[]"):
                contract = by_container.get(container.get("name"))
                if contract is not None:
                    yield task, contract, container


# --------------------------------------------------------------------------- #
# Task definitions
# --------------------------------------------------------------------------- #


@lru_cache(maxsize=1)
def _register_task_definition_shape():
    model = botocore.session.get_session().get_service_model("ecs")
    return model.operation_model("RegisterTaskDefinition").input_shape


def register_task_definition_params(task: Registered) -> dict[str, Any]:
    """The RegisterTaskDefinition request the provider will send for this resource."""
    inputs = task.inputs
    params: dict[str, Any] = {
        "family": inputs.get("family"),
        "containerDefinitions": json.loads(inputs.get("containerDefinitions") or "[]"),
        "networkMode": inputs.get("networkMode"),
        "requiresCompatibilities": inputs.get("requiresCompatibilities"),
        "cpu": inputs.get("cpu"),
        "memory": inputs.get("memory"),
        "executionRoleArn": inputs.get("executionRoleArn"),
        "taskRoleArn": inputs.get("taskRoleArn"),
    }
    platform = inputs.get("runtimePlatform")
    if platform:
        params["runtimePlatform"] = {
            "operatingSystemFamily": platform.get("operatingSystemFamily"),
            "cpuArchitecture": platform.get("cpuArchitecture"),
        }
    return {k: v for k, v in params.items() if v is not None}


def _enum_errors(value: Any, shape: Any, path: str) -> list[str]:
    """botocore's validator checks types and required members, not enum values: this does."""
    errors = []
    if shape.type_name == "structure" and isinstance(value, dict):
        for key, item in value.items():
            if key in shape.members:
                errors += _enum_errors(item, shape.members[key], f"{path}.{key}")
    elif shape.type_name == "list" and isinstance(value, list):
        for index, item in enumerate(value):
            errors += _enum_errors(item, shape.member, f"{path}[{index}]")
    elif shape.type_name == "map" and isinstance(value, dict):
        for key, item in value.items():
            errors += _enum_errors(item, shape.value, f"{path}.{key}")
    elif shape.type_name == "string" and getattr(shape, "enum", None) and value not in shape.enum:
        errors.append(f"{path}: {value!r} is not one of {', '.join(shape.enum)}")
    return errors


def container_definitions_match_ecs_api(graph: Graph) -> list[Finding]:
    shape = _register_task_definition_shape()
    findings = []
    for task in of_type(graph, TASK_DEFINITION):
        params = register_task_definition_params(task)
        report = ParamValidator().validate(params, shape)
        if report.has_errors():
            findings.append(Finding("ecs-api", task.name, report.generate_report()))
        for error in _enum_errors(params, shape, "RegisterTaskDefinition"):
            findings.append(Finding("ecs-api", task.name, error))
    return findings


def secrets_only_through_secrets_list(graph: Graph) -> list[Finding]:
    """Every contract secret is in `secrets` with a Secrets Manager ARN; nothing secret is in `environment`."""
    findings = []
    for task, contract, container in graph.task_definitions():
        secrets = {s.get("name"): s.get("valueFrom") for s in container.get("secrets") or []}
        environment = {e.get("name") for e in container.get("environment") or []}
        for requirement in contract.secrets:
            value_from = secrets.get(requirement.env_var)
            if value_from is None:
                findings.append(
                    Finding(
                        "secrets",
                        task.name,
                        f"{requirement.env_var} is not in the container's secrets: {requirement.breaks}",
                    )
                )
            elif not _is_secret_arn(value_from):
                findings.append(
                    Finding(
                        "secrets",
                        task.name,
                        f"{requirement.env_var} valueFrom {value_from!r} is not a Secrets Manager ARN",
                    )
                )
        for name in sorted(environment):
            if name in secrets or contract.must_be_secret(name):
                findings.append(Finding("secrets", task.name, f"{name} is in plain environment"))
        for setting in contract.settings:
            if setting.env_var not in environment:
                findings.append(Finding("settings", task.name, f"required setting {setting.env_var} is not set"))
    return findings


def _is_secret_arn(value: str) -> bool:
    arn = parse_arn(value)
    return arn is not None and arn.service == "secretsmanager" and arn.resource.startswith("secret:")


# --------------------------------------------------------------------------- #
# IAM
# --------------------------------------------------------------------------- #


def _policies_of(graph: Graph, role: Registered) -> list[dict[str, Any]]:
    documents = []
    for policy in of_type(graph, ROLE_POLICY):
        if policy.inputs.get("role") in (role.id, role.outputs.get("name")):
            documents.append(json.loads(policy.inputs.get("policy") or "{}"))
    return documents


def execution_role_reads_exactly_its_secrets(graph: Graph) -> list[Finding]:
    """The execution role may read every secret the task references, and nothing else."""
    findings = []
    for task, _contract, container in graph.task_definitions():
        referenced = {s.get("valueFrom") for s in container.get("secrets") or []}
        roles = graph.by_output(ROLE, "arn", task.inputs.get("executionRoleArn"))
        if len(roles) != 1:
            findings.append(Finding("iam", task.name, "its execution role is not declared by the stack"))
            continue
        role = roles[0]
        documents = _policies_of(graph, role)
        for arn in sorted(referenced):
            # Nothing is known of the request: a condition on the grant cannot be evaluated, and is a finding.
            verdict = evaluate(documents, READ_SECRET_ACTION, arn, context_is_complete=False)
            if verdict.decision is Decision.CANNOT_TELL:
                findings.append(Finding("iam", role.name, f"cannot tell whether it may read {arn}: {verdict.reason}"))
            elif verdict.decision is not Decision.ALLOWED:
                findings.append(
                    Finding(
                        "iam",
                        role.name,
                        f"may not read {arn}, which the task references ({verdict.decision.value}): "
                        "the task will fail with ResourceInitializationError",
                    )
                )
        granted = resources_granted(documents, READ_SECRET_ACTION)
        for arn in sorted(granted - referenced):
            findings.append(Finding("iam", role.name, f"may read {arn}, which the task does not reference"))
        if any("*" in arn or "?" in arn for arn in granted):
            findings.append(Finding("iam", role.name, f"grants {READ_SECRET_ACTION} on a wildcard"))
        if any(
            a.inputs.get("role") in (role.id, role.outputs.get("name")) for a in of_type(graph, ROLE_POLICY_ATTACHMENT)
        ):
            findings.append(Finding("iam", role.name, "has managed policies attached; its grants must be derived"))
    return findings


def task_role_allows_ecs_exec(graph: Graph) -> list[Finding]:
    findings = []
    for task, _contract, _container in graph.task_definitions():
        roles = graph.by_output(ROLE, "arn", task.inputs.get("taskRoleArn"))
        # ssmmessages has no resource-level permissions: granted on "*" or not at all.
        allowed = bool(roles) and decide(_policies_of(graph, roles[0]), ECS_EXEC, "*") is Decision.ALLOWED
        if not allowed:
            findings.append(Finding("ecs-exec", task.name, "the task role does not allow ECS Exec (ssmmessages)"))
    return findings


# --------------------------------------------------------------------------- #
# Network
# --------------------------------------------------------------------------- #


def no_world_open_ingress_except_alb(graph: Graph) -> list[Finding]:
    findings = []
    alb_groups = {g.id for g in of_type(graph, SECURITY_GROUP) if str(g.inputs.get("name", "")).endswith("-alb")}
    for group in of_type(graph, SECURITY_GROUP):
        if group.inputs.get("ingress"):
            findings.append(Finding("network", group.name, "has inline ingress rules; use separate rule resources"))
    for rule in of_type(graph, INGRESS_RULE):
        cidr = rule.inputs.get("cidrIpv4") or rule.inputs.get("cidrIpv6")
        if cidr is None:
            continue
        if cidr not in WORLD:
            findings.append(Finding("network", rule.name, f"admits CIDR {cidr}; reference a security group instead"))
        elif rule.inputs.get("securityGroupId") not in alb_groups or (
            rule.inputs.get("fromPort"),
            rule.inputs.get("toPort"),
        ) not in ((80, 80), (443, 443)):
            findings.append(Finding("network", rule.name, f"is open to the world ({cidr}) and is not the ALB's 80/443"))
    return findings


def services_admit_only_the_load_balancer(graph: Graph) -> list[Finding]:
    findings = []
    for service in graph.estate.get("services", []):
        rules = [
            r for r in of_type(graph, INGRESS_RULE) if r.inputs.get("securityGroupId") == service["security_group_id"]
        ]
        if not rules:
            findings.append(Finding("network", service["service_name"], "nothing may reach the service's port"))
        for rule in rules:
            if (rule.inputs.get("fromPort"), rule.inputs.get("toPort")) != (service["container_port"],) * 2:
                findings.append(Finding("network", rule.name, "opens a port other than the container port"))
            if not rule.inputs.get("referencedSecurityGroupId"):
                findings.append(Finding("network", rule.name, "does not reference a security group"))
    return findings


def redis_admits_every_consumer(graph: Graph) -> list[Finding]:
    """Every service whose contract uses Redis is admitted into the Redis SG on the Redis port."""
    findings = []
    redis = graph.estate.get("redis")
    for service in graph.estate.get("services", []):
        if not CONTRACTS[service["key"]].uses_redis:
            continue
        if not redis:
            findings.append(Finding("redis", service["service_name"], "uses Redis but the stack declares no Redis"))
            continue
        admitted = [
            r
            for r in of_type(graph, INGRESS_RULE)
            if r.inputs.get("securityGroupId") == redis["security_group_id"]
            and r.inputs.get("referencedSecurityGroupId") == service["security_group_id"]
            and r.inputs.get("fromPort") == redis["port"] == r.inputs.get("toPort")
            and r.inputs.get("ipProtocol") == "tcp"
        ]
        if not admitted:
            findings.append(
                Finding(
                    "redis",
                    service["service_name"],
                    f"uses Redis but no rule admits its security group into {redis['security_group_id']} "
                    f"on {redis['port']} (the missing redis_from_data_pipeline_ecs of the incident)",
                )
            )
    return findings


# --------------------------------------------------------------------------- #
# Deploy safety and load balancing
# --------------------------------------------------------------------------- #


def deployments_are_safe(graph: Graph) -> list[Finding]:
    findings = []
    alarms = {a.inputs.get("name"): a for a in of_type(graph, METRIC_ALARM)}
    for service in of_type(graph, ECS_SERVICE):
        inputs = service.inputs
        breaker = inputs.get("deploymentCircuitBreaker") or {}
        if not (breaker.get("enable") and breaker.get("rollback")):
            findings.append(Finding("deploy", service.name, "the deployment circuit breaker does not roll back"))
        deployment_alarms = inputs.get("alarms") or {}
        if not (deployment_alarms.get("enable") and deployment_alarms.get("rollback")):
            findings.append(Finding("deploy", service.name, "deployment alarms do not roll back"))
        names = deployment_alarms.get("alarmNames") or []
        if not names:
            findings.append(Finding("deploy", service.name, "has no deployment alarms"))
        for name in names:
            if name not in alarms:
                findings.append(Finding("deploy", service.name, f"deployment alarm {name} is not declared"))
        if (inputs.get("deploymentMinimumHealthyPercent"), inputs.get("deploymentMaximumPercent")) != (100, 200):
            findings.append(Finding("deploy", service.name, "min healthy / max percent are not 100 / 200"))
        if not inputs.get("enableExecuteCommand"):
            findings.append(Finding("deploy", service.name, "ECS Exec is off"))
        network = inputs.get("networkConfiguration") or {}
        if network.get("assignPublicIp"):
            findings.append(Finding("network", service.name, "tasks get public IPs"))
    return findings


def target_groups_are_tuned(graph: Graph) -> list[Finding]:
    findings = []
    for service in graph.estate.get("services", []):
        groups = graph.by_output(TARGET_GROUP, "arn", service["target_group_arn"])
        if len(groups) != 1:
            findings.append(Finding("lb", service["service_name"], "its target group is not declared"))
            continue
        group = groups[0].inputs
        check = group.get("healthCheck") or {}
        if check.get("path") != CONTRACTS[service["key"]].health_check_path:
            findings.append(Finding("lb", groups[0].name, f"health check path is {check.get('path')!r}"))
        if group.get("targetType") != "ip" or group.get("port") != service["container_port"]:
            findings.append(Finding("lb", groups[0].name, "must target task IPs on the container port"))
        if int(group.get("deregistrationDelay") or 300) > 60:
            findings.append(Finding("lb", groups[0].name, "deregistration delay above 60 s slows every deploy"))
    return findings


# --------------------------------------------------------------------------- #
# Observability
# --------------------------------------------------------------------------- #


def failure_signatures_are_watched(graph: Graph) -> list[Finding]:
    """For every contract signature: a filter on the service's log group, an alarm on
    its metric notifying the alarm topic; deployment-alarm signatures are deployment alarms."""
    findings = []
    topics = {t.outputs.get("arn") for t in of_type(graph, SNS_TOPIC)}
    services = {s.inputs.get("name"): s for s in of_type(graph, ECS_SERVICE)}
    for service in graph.estate.get("services", []):
        contract = CONTRACTS[service["key"]]
        log_groups = graph.by_output(LOG_GROUP, "name", service["log_group_name"])
        if len(log_groups) != 1:
            findings.append(Finding("observability", service["service_name"], "its log group is not declared"))
            continue
        if not log_groups[0].inputs.get("retentionInDays"):
            findings.append(Finding("observability", log_groups[0].name, "keeps logs forever (no retention)"))
        filters = [
            f for f in of_type(graph, METRIC_FILTER) if f.inputs.get("logGroupName") == service["log_group_name"]
        ]
        ecs = services.get(service["service_name"])
        deployment_alarms = set(((ecs.inputs.get("alarms") or {}).get("alarmNames") or []) if ecs else [])
        for signature in contract.error_signatures:
            matching = [
                f
                for f in filters
                if f.inputs.get("pattern") == signature.filter_pattern
                and (f.inputs.get("metricTransformation") or {}).get("name") == signature.metric_name
                and (f.inputs.get("metricTransformation") or {}).get("namespace") == contract.metric_namespace
            ]
            if not matching:
                findings.append(
                    Finding(
                        "observability",
                        service["service_name"],
                        f"no metric filter counts {signature.filter_pattern} as {signature.metric_name}",
                    )
                )
                continue
            alarms = [
                a
                for a in of_type(graph, METRIC_ALARM)
                if a.inputs.get("metricName") == signature.metric_name
                and a.inputs.get("namespace") == contract.metric_namespace
            ]
            if not alarms:
                findings.append(
                    Finding(
                        "observability",
                        service["service_name"],
                        f"nothing alarms on {contract.metric_namespace}/{signature.metric_name}",
                    )
                )
                continue
            for alarm in alarms:
                if not set(alarm.inputs.get("alarmActions") or []) & topics:
                    findings.append(Finding("observability", alarm.name, "notifies no one (no alarm topic action)"))
                if signature.deployment_alarm and alarm.inputs.get("name") not in deployment_alarms:
                    findings.append(Finding("deploy", alarm.name, "is not a deployment alarm of its service"))
    return findings


CHECKS: tuple[Callable[[Graph], list[Finding]], ...] = (
    container_definitions_match_ecs_api,
    secrets_only_through_secrets_list,
    execution_role_reads_exactly_its_secrets,
    task_role_allows_ecs_exec,
    no_world_open_ingress_except_alb,
    services_admit_only_the_load_balancer,
    redis_admits_every_consumer,
    deployments_are_safe,
    target_groups_are_tuned,
    failure_signatures_are_watched,
)


def check_graph(resources: Sequence[Registered], estate: Mapping[str, Any]) -> list[Finding]:
    graph = Graph(resources, estate)
    return [finding for check in CHECKS for finding in check(graph)]
