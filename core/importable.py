"""What the stack takes over from the live estate: which rendered resources already exist, and their import ids.

The cutover does not create the estate again beside the old one: it imports what
exists (`pulumi import --file`, core/import_plan.py) and then updates it in place.
This module declares, once, which resource types are imported and how each finds
its live counterpart in the record (core/live_estate.py) and the id `pulumi import`
expects for it. Everything else the stack declares is created.

The record describes one estate: the one whose ECS cluster it names
(`hokusai-development`). A stack whose cluster has another name is another estate
and takes nothing over. Within that estate a rendered resource is matched to a
live one by its role, never by the name it will have, so that a name the program
gets wrong shows as a replacement (core/cutover_diff.py) instead of silently
dropping out of the import:

| type | live counterpart | import id (pulumi-aws 7.51.1, `## Import` of the resource's docs) |
| --- | --- | --- |
| ECS cluster | `cluster` | the cluster name |
| ECS service | `services.<key>` of the service it belongs to | `<cluster name>/<service name>` |
| log group | `services.<key>.log_group` | the log group name |
| Cloud Map namespace | `cloud_map` | `<namespace id>:<vpc id>` |
| Cloud Map service | `cloud_map.services.<name>` of its service | the service id (`srv-...`) |
| target group | `target_groups.<key>` of its service | the target group ARN |
| listener rule | `load_balancers.<lb>.https_rules[i]` with its priority, on that load balancer's listener | the rule ARN |

"The service it belongs to" is the `hokusai:ecs:Service` component (infra/service.py)
the resource was registered under: its name is the service's key (`api`), as in the
record (`services.api`). A value the record does not have (a Placeholder) stays in
the id as a visible `<FILL IN record.path>`; `ImportId.unfilled` says which.

Pure: no Pulumi, no boto3.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from core.live_estate import LIVE, Fact, LiveEstate, Placeholder, lookup

CLUSTER = "aws:ecs/cluster:Cluster"
ECS_SERVICE = "aws:ecs/service:Service"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
NAMESPACE = "aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace"
DISCOVERY_SERVICE = "aws:servicediscovery/service:Service"
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
LISTENER_RULE = "aws:lb/listenerRule:ListenerRule"

# The component every per-service resource is registered under (infra/service.py); its name is the key.
SERVICE_COMPONENT = "hokusai:ecs:Service"

_LISTENER_LOAD_BALANCER = re.compile(r":listener/(?:app|net)/(?P<name>[^/]+)/")


@dataclass(frozen=True)
class Node:
    """A rendered resource with the resource it was registered under (None: the stack itself)."""

    type: str
    name: str
    inputs: Mapping[str, Any]
    outputs: Mapping[str, Any] = field(default_factory=dict)
    parent: Node | None = None
    custom: bool = True
    ignore_changes: tuple[str, ...] = ()

    def ancestors(self) -> tuple[Node, ...]:
        """The chain of parents, outermost first."""
        chain: list[Node] = []
        node = self.parent
        while node is not None:
            chain.append(node)
            node = node.parent
        return tuple(reversed(chain))

    @property
    def service_key(self) -> str | None:
        """The key of the service component this resource belongs to, if any."""
        return next((a.name for a in reversed(self.ancestors()) if a.type == SERVICE_COMPONENT), None)


@dataclass(frozen=True)
class Unfilled:
    """A part of an import id the record does not know yet (a Placeholder there)."""

    record_path: str
    what: str
    how_to_find: str
    # Which of several values the placeholder stands for (a Cloud Map service's name).
    detail: str = ""

    @property
    def label(self) -> str:
        return f"{self.record_path}: {self.detail}" if self.detail else self.record_path

    def __str__(self) -> str:
        return f"<FILL IN {self.label}>"


IdPart = str | Unfilled


@dataclass(frozen=True)
class ImportId:
    parts: tuple[IdPart, ...]

    @property
    def text(self) -> str:
        """What goes in the import file: known parts as they are, unknown ones as `<FILL IN ...>`."""
        return "".join(str(part) for part in self.parts)

    @property
    def unfilled(self) -> tuple[Unfilled, ...]:
        return tuple(part for part in self.parts if isinstance(part, Unfilled))


@dataclass(frozen=True)
class Counterpart:
    """The live resource a rendered one takes over: where the record describes it, and its import id."""

    record_path: str
    subject: str
    import_id: ImportId


@dataclass(frozen=True)
class Context:
    """What every finder needs besides the resource: the record, and whether the stack is its estate."""

    estate: LiveEstate
    # The stack's ECS cluster is the record's: only then does anything in the stack exist already.
    is_live_estate: bool


Finder = Callable[[Node, Context], Counterpart | None]


@dataclass(frozen=True)
class Importable:
    """One importable resource type: what it is, the id form it takes, and how its counterpart is found."""

    what: str
    id_form: str
    find: Finder


def value_or_unfilled(record_path: str, estate: LiveEstate, *, pick: str = "") -> IdPart:
    """The recorded value at `record_path`, or an Unfilled naming it when the record has a Placeholder.

    `pick`: a key of the value (a mapping of ids by name) when the path holds several.
    """
    entry = lookup(record_path, estate)
    if isinstance(entry, Fact):
        value = entry.value
        if pick and isinstance(value, Mapping):
            return str(value[pick]) if pick in value else _unfilled_pick(record_path, pick)
        return str(value)
    if isinstance(entry, Placeholder):
        return Unfilled(record_path, entry.what, entry.how_to_find, detail=pick)
    raise TypeError(f"{record_path} is neither a Fact nor a Placeholder of the record")


def _unfilled_pick(record_path: str, pick: str) -> Unfilled:
    return Unfilled(record_path, f"the entry for {pick}", f"add {pick} to {record_path} in core/live_estate.py", pick)


def _cluster(node: Node, context: Context) -> Counterpart | None:
    name = context.estate.cluster.name.value
    if not context.is_live_estate or node.inputs.get("name") != name:
        return None
    return Counterpart("cluster", f"ECS cluster {name}", ImportId((name,)))


def _service_key(node: Node, context: Context) -> str | None:
    key = node.service_key
    return key if context.is_live_estate and key in context.estate.services else None


def _ecs_service(node: Node, context: Context) -> Counterpart | None:
    key = _service_key(node, context)
    if key is None:
        return None
    cluster, service = context.estate.cluster.name.value, context.estate.services[key].service_name.value
    return Counterpart(f"services.{key}", f"ECS service {service}", ImportId((f"{cluster}/{service}",)))


def _log_group(node: Node, context: Context) -> Counterpart | None:
    key = _service_key(node, context)
    if key is None:
        return None
    name = context.estate.services[key].log_group.value
    return Counterpart(f"services.{key}.log_group", f"log group {name}", ImportId((name,)))


def _target_group(node: Node, context: Context) -> Counterpart | None:
    key = _service_key(node, context)
    if key is None:
        return None
    group = context.estate.services[key].target_group
    name = context.estate.target_groups[group].name.value
    arn = value_or_unfilled(f"target_groups.{group}.arn", context.estate)
    return Counterpart(f"target_groups.{group}", f"target group {name}", ImportId((arn,)))


def _namespace(node: Node, context: Context) -> Counterpart | None:
    if not context.is_live_estate:
        return None
    estate = context.estate
    namespace_id = value_or_unfilled("cloud_map.namespace_id", estate)
    vpc = value_or_unfilled("network.vpc_id", estate)
    subject = f"Cloud Map namespace {estate.cloud_map.namespace.value}"
    return Counterpart("cloud_map", subject, ImportId((namespace_id, ":", vpc)))


def _discovery_service(node: Node, context: Context) -> Counterpart | None:
    key = _service_key(node, context)
    if key is None:
        return None
    estate = context.estate
    name = estate.services[key].cloud_map_service.value
    if name not in estate.cloud_map.services:
        return None
    service_id = value_or_unfilled("cloud_map.service_ids", estate, pick=name)
    subject = f"Cloud Map service {name}.{estate.cloud_map.namespace.value}"
    return Counterpart(f"cloud_map.services.{name}", subject, ImportId((service_id,)))


def listener_load_balancer(listener_arn: object) -> str | None:
    """The load balancer's name in a listener ARN (`...:listener/app/<name>/<id>/<id>`)."""
    match = _LISTENER_LOAD_BALANCER.search(listener_arn) if isinstance(listener_arn, str) else None
    return match["name"] if match else None


def _listener_rule(node: Node, context: Context) -> Counterpart | None:
    if not context.is_live_estate:
        return None
    balancer_name = listener_load_balancer(node.inputs.get("listenerArn"))
    priority = node.inputs.get("priority")
    for key, balancer in context.estate.load_balancers.items():
        if balancer.name.value != balancer_name:
            continue
        for index, rule in enumerate(balancer.https_rules):
            if rule.priority.value == priority:
                path = f"load_balancers.{key}.https_rules[{index}]"
                subject = f"listener rule {rule.priority.value} on {balancer.name.value}"
                return Counterpart(path, subject, ImportId((value_or_unfilled(f"{path}.arn", context.estate),)))
    return None


# The importable types. Import id forms as the installed pulumi-aws (7.51.1) documents them in each
# resource's `## Import` section (pulumi_aws/<module>/<resource>.py), e.g.
# `pulumi import aws:ecs/service:Service imported cluster-name/service-name`.
IMPORTABLE: Mapping[str, Importable] = MappingProxyType(
    {
        CLUSTER: Importable("ECS cluster", "the cluster name", _cluster),
        ECS_SERVICE: Importable("ECS service", "<cluster name>/<service name>", _ecs_service),
        LOG_GROUP: Importable("log group", "the log group name", _log_group),
        NAMESPACE: Importable("Cloud Map namespace", "<namespace id>:<vpc id>", _namespace),
        DISCOVERY_SERVICE: Importable("Cloud Map service", "the service id", _discovery_service),
        TARGET_GROUP: Importable("target group", "the target group ARN", _target_group),
        LISTENER_RULE: Importable("listener rule", "the rule ARN", _listener_rule),
    }
)


def live_resources(estate: LiveEstate = LIVE) -> tuple[tuple[str, str], ...]:
    """Every live resource of an importable kind the record describes: (record path, what it is).

    What a stack that is the live estate may take over; what it does not take over stays
    as it is (core/cutover_diff.py lists it, the runbook says what to do with it).
    """
    found = [("cluster", f"ECS cluster {estate.cluster.name.value}")]
    for key, service in estate.services.items():
        found += [
            (f"services.{key}", f"ECS service {service.service_name.value}"),
            (f"services.{key}.log_group", f"log group {service.log_group.value}"),
        ]
    found += [
        (f"target_groups.{key}", f"target group {group.name.value}") for key, group in estate.target_groups.items()
    ]
    found.append(("cloud_map", f"Cloud Map namespace {estate.cloud_map.namespace.value}"))
    found += [
        (f"cloud_map.services.{key}", f"Cloud Map service {key}.{estate.cloud_map.namespace.value}")
        for key in estate.cloud_map.services
    ]
    for key, balancer in estate.load_balancers.items():
        found += [
            (
                f"load_balancers.{key}.https_rules[{index}]",
                f"listener rule {rule.priority.value} ({', '.join(rule.paths.value)} -> {rule.forwards_to.value}) "
                f"on {balancer.name.value}",
            )
            for index, rule in enumerate(balancer.https_rules)
        ]
    return tuple(found)


def live_estate_context(nodes: list[Node] | tuple[Node, ...], estate: LiveEstate = LIVE) -> Context:
    """Whether the rendered stack is the record's estate: it declares the record's ECS cluster."""
    clusters = {n.inputs.get("name") for n in nodes if n.type == CLUSTER}
    return Context(estate=estate, is_live_estate=estate.cluster.name.value in clusters)


def counterpart(node: Node, context: Context) -> Counterpart | None:
    """The live resource `node` takes over, or None: the stack creates it."""
    importable = IMPORTABLE.get(node.type)
    return importable.find(node, context) if importable is not None and node.custom else None
