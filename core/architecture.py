"""The picture of a stack, as a small graph: what reaches what, read from the render.

    hosts and paths -> listener rules -> target groups -> services (task size, count)
    services -> what they reach (Redis, the database, MLflow, the auth service, another
                service), with the port and the security-group rule that lets them through
    services -> the secrets they read (names, never values)
    services -> the alarms that roll a deployment back (the ECS service's deployment alarms)

Built from the same things the live tools trust: the `estate` stack output (what each
service is, reaches and reads: core/estate.py) and the rendered resources' inputs
(listener rules, target groups, task sizes, the rules on the dependencies' groups, the
alarms). Inputs only, no computed outputs, so a render written to JSON (build/<stack>.json,
or the one a base commit writes) draws the same picture as a render in memory.

The emitters (core/architecture_mermaid.py, core/architecture_dot.py) and the PR's marked
picture (core/architecture_diff.py) work on this model alone.

Pure: no Pulumi, no boto3.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from core.resource_graph import ECS_SERVICE, INGRESS_RULE, METRIC_ALARM, TARGET_GROUP, TASK_DEFINITION, Record
from core.value_from import SecretValueFrom

LISTENER_RULE = "aws:lb/listenerRule:ListenerRule"
SCALING_TARGET = "aws:appautoscaling/target:Target"
# Secrets Manager ends a secret's ARN with "-" and 6 random characters.
_SECRET_SUFFIX = 7
ANY_HOST = "any host"


class NodeKind(StrEnum):
    """What a node is; also the picture's layers, left to right, in this order."""

    HOST = "host"
    RULE = "rule"
    TARGET_GROUP = "target_group"
    SERVICE = "service"
    DEPENDENCY = "dependency"
    SECRET = "secret"
    ALARM = "alarm"


LAYERS: tuple[NodeKind, ...] = tuple(NodeKind)

# The layers boxed on their own; hosts and rules are boxed per load balancer instead, and each
# service's secrets and alarms together, beside it (one arrow to the box, not one per item:
# with five services, one per item is string, not a picture).
LAYER_TITLES: Mapping[NodeKind, str] = {
    NodeKind.TARGET_GROUP: "Target groups",
    NodeKind.SERVICE: "Services (task size, count)",
    NodeKind.DEPENDENCY: "Dependencies",
}
_ROUTED = (NodeKind.HOST, NodeKind.RULE)
_OWNED = (NodeKind.SECRET, NodeKind.ALARM)


class EdgeKind(StrEnum):
    ROUTES = "routes"  # host -> the rule matching it
    FORWARDS = "forwards"  # rule -> target group
    SERVES = "serves"  # target group -> the service registered in it
    REACHES = "reaches"  # service -> a dependency, or another service
    READS = "reads"  # service -> a secret
    ROLLS_BACK = "rolls_back"  # service -> an alarm that rolls its deployments back

    @property
    def to_owned(self) -> bool:
        """An edge to what the service owns (secrets, alarms): drawn as one arrow to their box."""
        return self in (EdgeKind.READS, EdgeKind.ROLLS_BACK)


@dataclass(frozen=True)
class Node:
    # Stable across renders of different commits: the PR's picture matches nodes by it.
    id: str
    kind: NodeKind
    label: str
    # A second, smaller line: size and count, port, secret name, threshold ("" for none).
    detail: str = ""
    # The load balancer a host or rule is on; the service (node id) a secret or alarm belongs
    # to; "" for the other kinds.
    group: str = ""


@dataclass(frozen=True)
class Box:
    """A box of the picture: a title and its nodes, left to right in the order given."""

    key: str
    title: str
    nodes: tuple[Node, ...]
    # The service (node id) whose secrets and alarms the box holds; "" for a layer's box.
    service: str = ""


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    kind: EdgeKind
    label: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.source, self.target, self.kind.value)


@dataclass(frozen=True)
class Architecture:
    stack: str
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]

    def node(self, node_id: str) -> Node:
        for node in self.nodes:
            if node.id == node_id:
                return node
        raise KeyError(node_id)

    def of_kind(self, kind: NodeKind) -> tuple[Node, ...]:
        return tuple(node for node in self.nodes if node.kind is kind)

    def boxes(self) -> list[Box]:
        """The picture's boxes, left to right: the routes on each load balancer, the target groups,
        the services, their dependencies, then each service's secrets and rollback alarms."""
        boxes = [
            Box(f"routes:{lb}", f"Routes on {lb}", tuple(n for n in self.nodes if n.kind in _ROUTED and n.group == lb))
            for lb in sorted({n.group for n in self.nodes if n.kind in _ROUTED})
        ]
        boxes += [
            Box(kind.value, title, self.of_kind(kind)) for kind, title in LAYER_TITLES.items() if self.of_kind(kind)
        ]
        for service in self.of_kind(NodeKind.SERVICE):
            owned = tuple(n for kind in _OWNED for n in self.nodes if n.kind is kind and n.group == service.id)
            if owned:
                title = f"{service.label}: secrets read, alarms that roll it back"
                boxes.append(Box(f"owned:{service.id}", title, owned, service.id))
        return boxes


class _Builder:
    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {}
        self.edges: dict[tuple[str, str, str], Edge] = {}

    def node(self, node: Node) -> str:
        self.nodes.setdefault(node.id, node)
        return node.id

    def edge(self, edge: Edge) -> None:
        self.edges.setdefault(edge.key, edge)


def architecture(stack: str, estate: Mapping[str, Any], records: Iterable[Record]) -> Architecture:
    """The picture of one stack from its `estate` output and its resources (inputs are enough)."""
    resources = list(records)
    built = _Builder()
    services = [s for s in estate.get("services") or () if isinstance(s, Mapping)]
    group_owner = {s.get("security_group_id"): s.get("key") for s in services}
    dependencies = {d.get("name"): d for d in estate.get("dependencies") or () if isinstance(d, Mapping)}
    for service in services:
        service_id = built.node(_service_node(service, resources))
        _routes(built, service, service_id, resources)
        for name in service.get("dependencies") or ():
            _reach(built, service, service_id, dependencies.get(name) or {"name": name}, group_owner, resources)
        for env_var, value_from in sorted((service.get("secret_value_froms") or {}).items()):
            secret = _secret_node(service_id, str(service.get("key")), env_var, value_from)
            built.edge(Edge(service_id, built.node(secret), EdgeKind.READS))
        for alarm_name in _deployment_alarms(service, resources):
            alarm = _alarm_node(service_id, str(service.get("service_name")), alarm_name, resources)
            built.edge(Edge(service_id, built.node(alarm), EdgeKind.ROLLS_BACK))
    order = {kind: index for index, kind in enumerate(LAYERS)}
    nodes = sorted(built.nodes.values(), key=lambda n: (order[n.kind], n.group, n.id))
    edges = sorted(built.edges.values(), key=lambda e: e.key)
    return Architecture(stack, tuple(nodes), tuple(edges))


# --------------------------------------------------------------------------- #
# Services and what routes to them
# --------------------------------------------------------------------------- #


def _inputs(resources: list[Record], type_: str, **wanted: object) -> Mapping[str, Any] | None:
    for record in resources:
        if record.type == type_ and all(record.inputs.get(k) == v for k, v in wanted.items()):
            return record.inputs
    return None


def _service_node(service: Mapping[str, Any], resources: list[Record]) -> Node:
    name = str(service.get("service_name"))
    task = _inputs(resources, TASK_DEFINITION, family=service.get("task_family")) or {}
    ecs = _inputs(resources, ECS_SERVICE, name=name) or {}
    size = " · ".join(part for part in (_cpu(task.get("cpu")), _memory(task.get("memory"))) if part)
    count = _count(ecs.get("desiredCount"), _scaling(name, resources))
    return Node(f"service:{service.get('key')}", NodeKind.SERVICE, str(service.get("key")), _join(size, count))


def _cpu(units: object) -> str:
    """Fargate CPU units as vCPU: 512 -> 0.5 vCPU."""
    number = _number(units)
    return "" if number is None else f"{_trim(number / 1024)} vCPU"


def _memory(mib: object) -> str:
    number = _number(mib)
    if number is None:
        return ""
    return f"{_trim(number / 1024)} GiB" if number >= 1024 else f"{_trim(number)} MiB"


def _count(desired: object, scaling: tuple[float, float] | None) -> str:
    number = _number(desired)
    if number is None:
        return ""
    tasks = f"{_trim(number)} task{'' if number == 1 else 's'}"
    if scaling is None:
        return tasks
    return f"{tasks} ({_trim(scaling[0])}-{_trim(scaling[1])})"


def _scaling(service_name: str, resources: list[Record]) -> tuple[float, float] | None:
    """The autoscaling range of the ECS service (resource id service/<cluster>/<service>)."""
    for record in resources:
        if record.type == SCALING_TARGET and str(record.inputs.get("resourceId", "")).endswith(f"/{service_name}"):
            low, high = _number(record.inputs.get("minCapacity")), _number(record.inputs.get("maxCapacity"))
            if low is not None and high is not None:
                return low, high
    return None


def _routes(built: _Builder, service: Mapping[str, Any], service_id: str, resources: list[Record]) -> None:
    target_group_arn = service.get("target_group_arn")
    if not isinstance(target_group_arn, str):
        return
    group_name = _target_group_name(target_group_arn)
    target_group = _inputs(resources, TARGET_GROUP, name=group_name) or {}
    health = (target_group.get("healthCheck") or {}).get("path") or service.get("health_check_path")
    port = _number(target_group.get("port")) or _number(service.get("container_port"))
    tg_id = built.node(
        Node(
            f"target_group:{group_name}",
            NodeKind.TARGET_GROUP,
            f"target group :{_trim(port)}" if port is not None else "target group",
            f"health {health}" if health else "",
        )
    )
    built.edge(
        Edge(tg_id, service_id, EdgeKind.SERVES, f"{service.get('container_name')}:{service.get('container_port')}")
    )
    for record in resources:
        if record.type != LISTENER_RULE or target_group_arn not in _forwards_to(record.inputs):
            continue
        balancer = _load_balancer_name(record.inputs.get("listenerArn"))
        hosts, paths = _conditions(record.inputs)
        priority = _number(record.inputs.get("priority"))
        rule_id = built.node(
            Node(
                f"rule:{record.name}",
                NodeKind.RULE,
                f"rule {_trim(priority)}" if priority is not None else "rule",
                " ".join(paths) if paths else "any path",
                balancer,
            )
        )
        built.edge(Edge(rule_id, tg_id, EdgeKind.FORWARDS))
        for host in hosts or (ANY_HOST,):
            host_id = built.node(Node(f"host:{balancer}:{host}", NodeKind.HOST, host, "", balancer))
            built.edge(Edge(host_id, rule_id, EdgeKind.ROUTES))


def _forwards_to(inputs: Mapping[str, Any]) -> set[str]:
    arns: set[str] = set()
    for action in inputs.get("actions") or ():
        if isinstance(action, Mapping) and isinstance(action.get("targetGroupArn"), str):
            arns.add(action["targetGroupArn"])
        forward = action.get("forward") if isinstance(action, Mapping) else None
        for group in (forward or {}).get("targetGroups") or ():
            if isinstance(group, Mapping) and isinstance(group.get("arn"), str):
                arns.add(group["arn"])
    return arns


def _conditions(inputs: Mapping[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    hosts: list[str] = []
    paths: list[str] = []
    for condition in inputs.get("conditions") or ():
        if not isinstance(condition, Mapping):
            continue
        hosts += [str(v) for v in (condition.get("hostHeader") or {}).get("values") or ()]
        paths += [str(v) for v in (condition.get("pathPattern") or {}).get("values") or ()]
    return tuple(hosts), tuple(paths)


def _target_group_name(arn: str) -> str:
    """`hokusai-api-development-3b8733` of `arn:...:targetgroup/hokusai-api-development-3b8733/<id>`."""
    resource = arn.split(":targetgroup/", 1)[-1]
    return resource.split("/", 1)[0]


def _load_balancer_name(listener_arn: object) -> str:
    """`hokusai-main-development` of `arn:...:listener/app/hokusai-main-development/<id>/<id>`."""
    if not isinstance(listener_arn, str) or "listener/app/" not in listener_arn:
        return "load balancer"
    return listener_arn.split("listener/app/", 1)[1].split("/", 1)[0]


# --------------------------------------------------------------------------- #
# What a service reaches, reads, and is rolled back by
# --------------------------------------------------------------------------- #


def _reach(
    built: _Builder,
    service: Mapping[str, Any],
    service_id: str,
    dependency: Mapping[str, Any],
    group_owner: Mapping[object, object],
    resources: list[Record],
) -> None:
    name = str(dependency.get("name"))
    port = _number(dependency.get("port"))
    group = dependency.get("security_group_id")
    owner = group_owner.get(group) if group else None
    if owner is not None:
        target = f"service:{owner}"  # another service of the stack: drawn there
    else:
        detail = f":{_trim(port)}" if port is not None else ""
        target = built.node(Node(f"dependency:{name}", NodeKind.DEPENDENCY, name, detail))
    where = f":{_trim(port)}" if port is not None else ""
    if not group:
        label = f"{where} HTTPS, no rule"
    else:
        rule = _admitting_rule(resources, group, service.get("security_group_id"), port)
        label = f"{where} {rule}" if rule else f"{where} NO RULE"
    built.edge(Edge(service_id, target, EdgeKind.REACHES, label.strip()))


def _admitting_rule(resources: list[Record], group: object, consumer: object, port: float | None) -> str:
    """The description of the ingress rule on `group` that admits `consumer` on `port` ("" for none)."""
    for record in resources:
        inputs = record.inputs
        if (
            record.type == INGRESS_RULE
            and inputs.get("securityGroupId") == group
            and inputs.get("referencedSecurityGroupId") == consumer
            and (port is None or _number(inputs.get("fromPort")) == port)
        ):
            return str(inputs.get("description") or record.name)
    return ""


def _secret_node(service_id: str, service_key: str, env_var: str, value_from: object) -> Node:
    parsed = SecretValueFrom.parse(value_from)
    if parsed is None:
        detail = ""
    else:
        name = parsed.secret_name
        name = name[:-_SECRET_SUFFIX] if len(name) > _SECRET_SUFFIX and name[-_SECRET_SUFFIX] == "-" else name
        detail = f"{name} · key {parsed.json_key}" if parsed.json_key else name
    return Node(f"secret:{service_key}:{env_var}", NodeKind.SECRET, env_var, detail, service_id)


def _deployment_alarms(service: Mapping[str, Any], resources: list[Record]) -> list[str]:
    """What ECS rolls the service's deployments back on: the ECS service's alarms, as declared."""
    ecs = _inputs(resources, ECS_SERVICE, name=service.get("service_name")) or {}
    alarms = ecs.get("alarms") or {}
    names = alarms.get("alarmNames") if isinstance(alarms, Mapping) and alarms.get("rollback") else None
    if names is None:
        names = service.get("deployment_alarm_names") or ()
    return sorted(str(name) for name in names)


_COMPARISONS = {
    "GreaterThanOrEqualToThreshold": ">=",
    "GreaterThanThreshold": ">",
    "LessThanThreshold": "<",
    "LessThanOrEqualToThreshold": "<=",
}


def _alarm_node(service_id: str, service_name: str, alarm_name: str, resources: list[Record]) -> Node:
    alarm = _inputs(resources, METRIC_ALARM, name=alarm_name) or {}
    short = alarm_name.removeprefix(f"{service_name}-") or alarm_name
    threshold = _number(alarm.get("threshold"))
    comparison = _COMPARISONS.get(str(alarm.get("comparisonOperator")), "?")
    metric = alarm.get("metricName") or "expression"
    detail = f"{metric} {comparison} {_trim(threshold)}" if threshold is not None else ""
    return Node(f"alarm:{alarm_name}", NodeKind.ALARM, short, detail, service_id)


# --------------------------------------------------------------------------- #
# Small helpers
# --------------------------------------------------------------------------- #


def _number(value: object) -> float | None:
    """A number, or text of one (task sizes are text); None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _trim(number: float | None) -> str:
    """2.0 -> "2", 0.5 -> "0.5"; the wire format carries every number as a float."""
    if number is None:
        return "?"
    return str(int(number)) if float(number).is_integer() else f"{number:g}"


def _join(*parts: str) -> str:
    return " · ".join(part for part in parts if part)
