"""What a reviewer wants to see of each rendered resource, in one line.

`make synth` prints one row per resource (type, logical name, key properties),
so a pull request's infrastructure diff reads like a list of facts:
which secrets a container gets, which port a rule opens, what an alarm watches.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from synth.mocks import Registered

Describe = Callable[[dict[str, Any]], str]


def short_type(type_: str) -> str:
    """aws:ecs/service:Service -> ecs.Service; the deploy gate's dynamic type -> DeployGate."""
    if type_ == "pulumi-python:dynamic:Resource":
        return "DeployGate"
    module = type_.split(":")[1].split("/")[0]
    return f"{module}.{type_.rsplit(':', 1)[-1]}"


def _n(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _task_definition(i: dict[str, Any]) -> str:
    (container,) = json.loads(i["containerDefinitions"])[:1]
    ports = ",".join(str(p["containerPort"]) for p in container.get("portMappings", []))
    secrets = ", ".join(s["name"] for s in container.get("secrets", []))
    return (
        f"family {i['family']}, {i['cpu']} CPU / {i['memory']} MiB, container {container['name']}:{ports} "
        f"image {container['image'].rsplit('/', 1)[-1]}; secrets [{secrets}] (valueFrom ARNs); "
        f"{len(container.get('environment', []))} plain settings; logs {container['logConfiguration']['options']['awslogs-group']}"
    )


def _service(i: dict[str, Any]) -> str:
    breaker = i.get("deploymentCircuitBreaker") or {}
    alarms = i.get("alarms") or {}
    network = i.get("networkConfiguration") or {}
    return (
        f"{i['name']}: {_n(i['desiredCount'])} x {i.get('launchType')}, "
        f"circuit breaker {'+rollback' if breaker.get('rollback') else 'OFF'}, "
        f"{len(alarms.get('alarmNames', []))} deployment alarms {'+rollback' if alarms.get('rollback') else ''}, "
        f"{_n(i['deploymentMinimumHealthyPercent'])}%/{_n(i['deploymentMaximumPercent'])}%, "
        f"grace {_n(i['healthCheckGracePeriodSeconds'])}s, exec {'on' if i.get('enableExecuteCommand') else 'off'}, "
        f"public IP {'yes' if network.get('assignPublicIp') else 'no'}"
    )


def _role_policy(i: dict[str, Any]) -> str:
    statements = json.loads(i["policy"]).get("Statement", [])
    parts = []
    for s in statements:
        resources = s.get("Resource")
        count = 1 if isinstance(resources, str) else len(resources or [])
        parts.append(f"{s.get('Sid', '?')}({'*' if resources == '*' else count})")
    return f"on {i['role']}: {' '.join(parts)}"


def _rule(direction: str) -> Describe:
    def describe(i: dict[str, Any]) -> str:
        peer = i.get("referencedSecurityGroupId") or i.get("cidrIpv4") or i.get("cidrIpv6")
        ports = "all" if i.get("ipProtocol") == "-1" else f"{i.get('ipProtocol')} {_n(i.get('fromPort'))}"
        arrow = "<-" if direction == "in" else "->"
        return f"{i['securityGroupId']} {arrow} {peer} on {ports}"

    return describe


def route_values(inputs: dict[str, Any]) -> list[str]:
    """The hosts and paths a listener rule matches, in order."""
    values = []
    for condition in inputs.get("conditions", []):
        for key in ("hostHeader", "pathPattern"):
            if condition.get(key):
                values += condition[key]["values"]
    return values


def _listener_rule(i: dict[str, Any]) -> str:
    return f"priority {_n(i['priority'])}: {' '.join(route_values(i))} -> target group"


def _alarm(i: dict[str, Any]) -> str:
    if i.get("metricQueries"):
        expression = next(q["expression"] for q in i["metricQueries"] if q.get("expression"))
        watched = f"({expression})"
    else:
        watched = f"{i['namespace']}/{i['metricName']} {i['statistic']}"
    return (
        f"{i['name']}: {watched} {i['comparisonOperator'].replace('Threshold', '')} {_n(i['threshold'])} "
        f"over {_n(i['evaluationPeriods'])} x {_n(i.get('period', 60))}s -> {len(i.get('alarmActions', []))} action(s)"
    )


def _dashboard(i: dict[str, Any]) -> str:
    widgets = json.loads(i["dashboardBody"])["widgets"]
    graphs = [w for w in widgets if w["type"] == "metric"]
    lines = sum(len(w["properties"].get("annotations", {}).get("horizontal", [])) for w in graphs)
    alarms = sum(len(w["properties"]["alarms"]) for w in widgets if w["type"] == "alarm")
    return f"{i['dashboardName']}: {len(graphs)} graphs, {lines} alarm thresholds drawn, {alarms} alarm states"


DESCRIBE: dict[str, Describe] = {
    "aws:ecs/cluster:Cluster": lambda i: (
        f"{i['name']}, " + ", ".join(f"{s['name']} {s['value']}" for s in i.get("settings", []))
    ),
    "aws:ecs/taskDefinition:TaskDefinition": _task_definition,
    "aws:ecs/service:Service": _service,
    "aws:iam/role:Role": lambda i: i["name"],
    "aws:iam/rolePolicy:RolePolicy": _role_policy,
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": lambda i: f"{i['policyArn']} on {i['role']}",
    "aws:secretsmanager/secret:Secret": lambda i: (
        f"{i['name']} (declared; recovery {_n(i.get('recoveryWindowInDays'))} days)"
    ),
    "aws:secretsmanager/secretVersion:SecretVersion": lambda i: "value from encrypted stack config (secret)",
    "aws:lb/targetGroup:TargetGroup": lambda i: (
        f"{i['name']}: {i['protocol']} {_n(i['port'])} {i['targetType']}, health {i['healthCheck']['path']} "
        f"every {_n(i['healthCheck']['interval'])}s (healthy after {_n(i['healthCheck']['healthyThreshold'])}), "
        f"deregistration {_n(i['deregistrationDelay'])}s"
    ),
    "aws:lb/listenerRule:ListenerRule": _listener_rule,
    "aws:lb/loadBalancer:LoadBalancer": lambda i: (
        f"{i['name']}: {'internal' if i.get('internal') else 'internet-facing'} in {len(i.get('subnets', []))} subnets"
    ),
    "aws:lb/listener:Listener": lambda i: f"{i['protocol']} {_n(i['port'])} -> {i['defaultActions'][0]['type']}",
    "aws:ec2/securityGroup:SecurityGroup": lambda i: i["name"],
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": _rule("in"),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": _rule("out"),
    "aws:cloudwatch/logGroup:LogGroup": lambda i: f"{i['name']}, retention {_n(i.get('retentionInDays'))} days",
    "aws:cloudwatch/logMetricFilter:LogMetricFilter": lambda i: (
        f"{i['pattern']} -> {i['metricTransformation']['namespace']}/{i['metricTransformation']['name']}"
    ),
    "aws:cloudwatch/metricAlarm:MetricAlarm": _alarm,
    "aws:cloudwatch/dashboard:Dashboard": _dashboard,
    "aws:sns/topic:Topic": lambda i: i["name"],
    "aws:sns/topicSubscription:TopicSubscription": lambda i: f"{i['protocol']} {i['endpoint']}",
    "aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace": lambda i: f"{i['name']} in {i['vpc']}",
    "aws:servicediscovery/service:Service": lambda i: (
        f"{i['name']}: A records, TTL {_n(i['dnsConfig']['dnsRecords'][0]['ttl'])}s"
    ),
    "aws:appautoscaling/target:Target": lambda i: (
        f"{i['resourceId']}: {_n(i['minCapacity'])}..{_n(i['maxCapacity'])} tasks"
    ),
    "aws:appautoscaling/policy:Policy": lambda i: (
        f"{i['name']}: CPU target {_n(i['targetTrackingScalingPolicyConfiguration']['targetValue'])}%"
    ),
    "pulumi-python:dynamic:Resource": lambda i: (
        f"pulumi up fails unless {i['service_name']} runs {i['task_definition_arn'].rsplit('/', 1)[-1]} "
        f"within {_n(i['timeout_seconds'])}s"
    ),
}


def describe(resource: Registered) -> str:
    """The key properties of one resource; its inputs' names when the type has no describer."""
    return describe_inputs(resource.type, resource.inputs)


def describe_inputs(type_: str, inputs: dict[str, Any]) -> str:
    """`describe` of a resource given as its type and inputs (as the render records them)."""
    describer = DESCRIBE.get(type_)
    if describer is None:
        return ", ".join(sorted(k for k in inputs if not k.startswith("__")))
    return describer(inputs)


def table(resources: list[Registered]) -> str:
    """Every resource (components left out: they own, they do not exist in AWS), sorted."""
    rows = [
        (short_type(r.type), r.name, describe(r))
        for r in sorted(resources, key=lambda r: (r.type, r.name))
        if not r.type.startswith("hokusai:")
    ]
    widths = [max(len(row[i]) for row in rows + [("resource", "name", "")]) for i in (0, 1)]
    lines = [f"{'resource'.ljust(widths[0])}  {'name'.ljust(widths[1])}  key properties"]
    lines += [f"{kind.ljust(widths[0])}  {name.ljust(widths[1])}  {facts}" for kind, name, facts in rows]
    return "\n".join(lines)
