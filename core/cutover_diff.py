"""What the first `pulumi preview` after the import will change on the live resources, and how.

Once the live resources are imported (core/import_plan.py), the preview compares
what the program declares with what AWS has: every property the program sets
differently is an update, in place or by replacement (core/replacement.py says
which, per type and property). A replacement of a live resource is a delete and a
create: for a target group, the listener rules lose their target; for a Cloud Map
service, the API's MLFLOW_SERVER_URL stops resolving. So before the import this
module lists, offline, every such difference between the program (the render) and
the record (core/live_estate.py), and says which replace.

A replacement is acceptable only where the record justifies it: a `Difference`
whose `live_facts` names the property's record path (or a record path above it).
Everything else is a finding (tests/test_cutover_diff.py fails on it; the report,
`make import-diff`, exits 1).

What cannot be compared yet, because the record holds a Placeholder, is listed
apart, with whether it would replace the resource if it turns out to differ.

Pure: no Pulumi, no boto3.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from core.import_plan import ImportPlan
from core.importable import (
    CLUSTER,
    DISCOVERY_SERVICE,
    ECS_SERVICE,
    LISTENER_RULE,
    LOG_GROUP,
    NAMESPACE,
    TARGET_GROUP,
    Node,
    Unfilled,
    live_resources,
)
from core.live_estate import LIVE, CircuitBreaker, Fact, LiveEstate, Placeholder, lookup
from core.replacement import may_force_replacement
from core.wire_values import plain

# The program value of a property the program does not set.
NOT_SET = None


@dataclass(frozen=True)
class LiveRef:
    """A live property that is another live resource (the target group a rule forwards to), by record path."""

    record_path: str


@dataclass(frozen=True)
class LiveProperty:
    """One property of a live resource, as the program's input path and the record has it."""

    # The Pulumi input path (core/replacement.py's form: `healthCheck.interval`).
    path: str
    # Where the record says it.
    record_path: str
    # The recorded value (plain data), an Unfilled (the record has a Placeholder), or a LiveRef.
    live: Any
    # The program's value, read from the rendered resource in the same form as `live`.
    program: Callable[[Node], Any]
    # How the report names the property when the input path alone does not say it.
    shown_as: str = ""

    @property
    def label(self) -> str:
        return self.shown_as or self.path


@dataclass(frozen=True)
class Change:
    """A property the program sets differently from the live resource: what the preview will show."""

    resource: str
    type: str
    subject: str
    path: str
    record_path: str
    live: str
    program: str
    replaces: bool
    # Why it changes when the values alone would not say: the replacement it follows.
    cause: str = ""
    # The Difference (its subject) that says the change is deliberate; empty: none does.
    justified_by: str = ""


@dataclass(frozen=True)
class Uncompared:
    """A property the record does not know yet: compare it once the placeholder is filled."""

    resource: str
    type: str
    subject: str
    path: str
    unfilled: Unfilled
    # Whether a different value would replace the resource.
    replaces_if_different: bool


@dataclass(frozen=True)
class Ignored:
    """A property the program tells the engine to ignore (`ignore_changes`): the live value stays."""

    resource: str
    subject: str
    path: str
    live: str


@dataclass(frozen=True)
class Mismatch:
    """The stack points somewhere else than the live estate: the import would look in the wrong place."""

    what: str
    stack: str
    live: str
    record_path: str


@dataclass(frozen=True)
class LeftAlone:
    """A live resource of the record the stack does not take over: it stays as it is."""

    record_path: str
    subject: str


@dataclass(frozen=True)
class CutoverDiff:
    changes: tuple[Change, ...]
    uncompared: tuple[Uncompared, ...]
    ignored: tuple[Ignored, ...]
    mismatches: tuple[Mismatch, ...]
    left_alone: tuple[LeftAlone, ...] = ()

    @property
    def in_place(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if not c.replaces)

    @property
    def replacements(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.replaces)

    @property
    def unjustified_replacements(self) -> tuple[Change, ...]:
        return tuple(c for c in self.replacements if not c.justified_by)


# --------------------------------------------------------------------------- #
# Reading values
# --------------------------------------------------------------------------- #


def recorded(record_path: str, estate: LiveEstate) -> Any:
    """The record's value at `record_path` (plain), or an Unfilled where the record has a Placeholder
    at that path or above it (a placeholder circuit breaker has no `enabled`)."""
    steps = record_path.split(".")
    for end in range(1, len(steps) + 1):
        prefix = ".".join(steps[:end])
        entry = lookup(prefix, estate)
        if isinstance(entry, Placeholder):
            return Unfilled(prefix, entry.what, entry.how_to_find)
        if end == len(steps):
            if isinstance(entry, Fact):
                return plain(entry.value)
            raise TypeError(f"{record_path} is not a Fact of the record")
    raise KeyError(record_path)


def value_at(path: str) -> Callable[[Node], Any]:
    """Reads an input path; a list on the way is looked into (one element: that element's value)."""

    def read(node: Node) -> Any:
        return plain(_walk(node.inputs, [p for p in path.split(".") if p]))

    return read


def _walk(value: Any, parts: list[str]) -> Any:
    if not parts:
        return value
    if isinstance(value, list):
        found = [v for v in (_walk(item, parts) for item in value) if v is not None]
        return found[0] if len(found) == 1 else (found or None)
    if isinstance(value, Mapping):
        return _walk(value.get(parts[0]), parts[1:])
    return None


def _sorted_at(path: str) -> Callable[[Node], Any]:
    def read(node: Node) -> Any:
        return _sorted(value_at(path)(node))

    return read


def show(value: Any) -> str:
    if value is NOT_SET:
        return "not set"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value, sort_keys=True)
    return str(value)


# --------------------------------------------------------------------------- #
# What the record says of each importable type (core/importable.py's IMPORTABLE)
# --------------------------------------------------------------------------- #

PropertiesOf = Callable[[Node, str, LiveEstate], tuple[LiveProperty, ...]]


def _prop(
    path: str, record_path: str, estate: LiveEstate, program: Callable[[Node], Any] | None = None
) -> LiveProperty:
    return LiveProperty(path, record_path, recorded(record_path, estate), program or value_at(path))


def _cluster(node: Node, record_path: str, estate: LiveEstate) -> tuple[LiveProperty, ...]:
    def insights(n: Node) -> Any:
        settings = n.inputs.get("settings") or []
        return next((s.get("value") for s in settings if s.get("name") == "containerInsights"), NOT_SET)

    return (
        _prop("name", "cluster.name", estate),
        LiveProperty(
            "settings",
            "cluster.container_insights",
            recorded("cluster.container_insights", estate),
            insights,
            shown_as="settings.containerInsights",
        ),
    )


def _ecs_service(node: Node, record_path: str, estate: LiveEstate) -> tuple[LiveProperty, ...]:
    key = record_path.removeprefix("services.")
    service = estate.services[key]
    base = f"services.{key}"

    def revision(n: Node) -> Any:
        arn = str(n.inputs.get("taskDefinition") or "")
        family = arn.rsplit("/", 1)[-1].rsplit(":", 1)[0]
        return f"{family}:<the revision this update registers>"

    breaker: tuple[LiveProperty, ...] = tuple(
        _prop(f"deploymentCircuitBreaker.{path}", f"{base}.circuit_breaker.{field}", estate)
        for path, field in (("enable", "enabled"), ("rollback", "rollback"))
    )
    security_group = recorded(f"security_groups.{service.security_group}.id", estate)
    return (
        _prop("name", f"{base}.service_name", estate),
        LiveProperty("cluster", "cluster", LiveRef("cluster"), value_at("cluster")),
        LiveProperty(
            "taskDefinition",
            f"{base}.revision",
            f"{service.task_family.value}:{service.revision.value}",
            revision,
        ),
        _prop("desiredCount", f"{base}.desired_count", estate),
        _prop("loadBalancers.containerName", f"{base}.container_name", estate),
        _prop("loadBalancers.containerPort", f"{base}.container_port", estate),
        LiveProperty(
            "loadBalancers.targetGroupArn",
            f"{base}.target_group",
            LiveRef(f"target_groups.{service.target_group}"),
            value_at("loadBalancers.targetGroupArn"),
        ),
        LiveProperty(
            "serviceRegistries.registryArn",
            f"{base}.cloud_map_service",
            LiveRef(f"cloud_map.services.{service.cloud_map_service.value}"),
            value_at("serviceRegistries.registryArn"),
        ),
        LiveProperty(
            "networkConfiguration.subnets",
            f"{base}.subnets",
            _sorted(recorded(f"{base}.subnets", estate)),
            _sorted_at("networkConfiguration.subnets"),
        ),
        LiveProperty(
            "networkConfiguration.securityGroups",
            f"security_groups.{service.security_group}.id",
            security_group if isinstance(security_group, Unfilled) else [security_group],
            value_at("networkConfiguration.securityGroups"),
        ),
        *(
            breaker
            if isinstance(service.circuit_breaker, CircuitBreaker)
            else (_prop("deploymentCircuitBreaker", f"{base}.circuit_breaker", estate),)
        ),
        _prop("healthCheckGracePeriodSeconds", f"{base}.health_check_grace_seconds", estate),
    )


def _sorted(value: Any) -> Any:
    return sorted(value) if isinstance(value, list) else value


def _log_group(node: Node, record_path: str, estate: LiveEstate) -> tuple[LiveProperty, ...]:
    base = record_path.removesuffix(".log_group")
    return (
        _prop("name", f"{base}.log_group", estate),
        _prop("retentionInDays", f"{base}.log_retention_days", estate),
    )


def _namespace(node: Node, record_path: str, estate: LiveEstate) -> tuple[LiveProperty, ...]:
    return (
        _prop("name", "cloud_map.namespace", estate),
        _prop("vpc", "network.vpc_id", estate),
    )


def _discovery_service(node: Node, record_path: str, estate: LiveEstate) -> tuple[LiveProperty, ...]:
    def custom_health_check(n: Node) -> Any:
        return "set" if n.inputs.get("healthCheckCustomConfig") is not None else NOT_SET

    threshold = recorded("cloud_map.failure_threshold", estate)
    return (
        _prop("name", f"{record_path}.name", estate),
        LiveProperty("dnsConfig.namespaceId", "cloud_map", LiveRef("cloud_map"), value_at("dnsConfig.namespaceId")),
        _prop("dnsConfig.routingPolicy", "cloud_map.routing_policy", estate),
        _prop("dnsConfig.dnsRecords.type", "cloud_map.record_type", estate),
        _prop("dnsConfig.dnsRecords.ttl", "cloud_map.record_ttl", estate),
        # The block is ForceNew as a whole; AWS fixes its failure threshold at 1, so what matters
        # is whether the service has one (ECS then reports task health to Cloud Map).
        LiveProperty(
            "healthCheckCustomConfig",
            "cloud_map.failure_threshold",
            threshold if isinstance(threshold, Unfilled) else "set",
            custom_health_check,
        ),
    )


def _target_group(node: Node, record_path: str, estate: LiveEstate) -> tuple[LiveProperty, ...]:
    settings = recorded(f"{record_path}.settings", estate)
    fixed_at_creation = tuple(
        LiveProperty(path, f"{record_path}.settings", settings, value_at(path))
        for path in ("port", "protocol", "targetType")
        if isinstance(settings, Unfilled)
    )
    return (
        _prop("name", f"{record_path}.name", estate),
        _prop("vpcId", "network.vpc_id", estate),
        *fixed_at_creation,
        _prop("healthCheck.path", f"{record_path}.health_check_path", estate),
        _prop("healthCheck.interval", f"{record_path}.health_check_interval", estate),
        _prop("healthCheck.timeout", f"{record_path}.health_check_timeout", estate),
    )


def _listener_rule(node: Node, record_path: str, estate: LiveEstate) -> tuple[LiveProperty, ...]:
    balancer = record_path.split(".")[1]
    rule = lookup(record_path, estate)
    target = getattr(rule, "target_group", "")
    return (
        _prop("priority", f"{record_path}.priority", estate),
        LiveProperty(
            "conditions",
            f"{record_path}.paths",
            recorded(f"{record_path}.paths", estate),
            value_at("conditions.pathPattern.values"),
            shown_as="conditions.pathPattern",
        ),
        LiveProperty(
            "actions.targetGroupArn",
            f"{record_path}.forwards_to",
            LiveRef(f"target_groups.{target}"),
            value_at("actions.targetGroupArn"),
        ),
        _prop("listenerArn", f"load_balancers.{balancer}.https_listener_arn", estate),
    )


LIVE_PROPERTIES: Mapping[str, PropertiesOf] = {
    CLUSTER: _cluster,
    ECS_SERVICE: _ecs_service,
    LOG_GROUP: _log_group,
    NAMESPACE: _namespace,
    DISCOVERY_SERVICE: _discovery_service,
    TARGET_GROUP: _target_group,
    LISTENER_RULE: _listener_rule,
}


# --------------------------------------------------------------------------- #
# The comparison
# --------------------------------------------------------------------------- #


def justification(record_path: str, estate: LiveEstate) -> str:
    """The subject of the Difference naming `record_path` or a record path above it; empty if none."""
    for difference in estate.differences:
        for fact in difference.live_facts:
            if record_path == fact or record_path.startswith((f"{fact}.", f"{fact}[")):
                return difference.subject
    return ""


def _identities(nodes: Sequence[Node]) -> dict[str, Node]:
    """Each resource by the values other resources refer to it with (its ARN, its id)."""
    found: dict[str, Node] = {}
    for node in nodes:
        for key in ("arn", "id"):
            value = node.outputs.get(key)
            if isinstance(value, str) and value:
                found.setdefault(value, node)
    return found


def compare(
    plan: ImportPlan,
    nodes: Sequence[Node],
    *,
    account_id: str,
    region: str,
    estate: LiveEstate = LIVE,
) -> CutoverDiff:
    """Every difference between the program and the record on the resources `plan` imports."""
    identities = _identities(nodes)
    taken = {id(e.node): e.counterpart for e in plan.imported if e.counterpart is not None}
    subjects = {c.record_path: c.subject for c in taken.values()}
    # Each change with the resource it changes.
    changes: list[tuple[Node, Change]] = []
    uncompared: list[Uncompared] = []
    ignored: list[Ignored] = []
    # (entry, property, the resource the program refers to) of each reference that matched.
    references: list[tuple[Node, str, LiveProperty, Node]] = []
    for entry in plan.imported:
        node, found = entry.node, entry.counterpart
        assert found is not None
        for prop in LIVE_PROPERTIES[node.type](node, found.record_path, estate):
            if prop.path.split(".")[0] in node.ignore_changes:
                ignored.append(Ignored(node.name, found.subject, prop.label, show(prop.live)))
                continue
            if isinstance(prop.live, Unfilled):
                replaces = may_force_replacement(node.type, prop.path)
                uncompared.append(Uncompared(node.name, node.type, found.subject, prop.label, prop.live, replaces))
                continue
            program = prop.program(node)
            if isinstance(prop.live, LiveRef):
                target = identities.get(program) if isinstance(program, str) else None
                target_part = taken.get(id(target)) if target is not None else None
                if target is not None and target_part is not None and target_part.record_path == prop.live.record_path:
                    references.append((node, found.subject, prop, target))
                    continue
                live_shown = _live_resource(prop.live, subjects)
                program_shown = _refers_to(target, target_part, program)
            else:
                if plain(program) == prop.live:
                    continue
                live_shown, program_shown = show(prop.live), _show_program(plain(program), identities, taken)
            change = Change(
                node.name,
                node.type,
                found.subject,
                prop.label,
                prop.record_path,
                live_shown,
                program_shown,
                replaces=may_force_replacement(node.type, prop.path),
                justified_by=justification(prop.record_path, estate),
            )
            changes.append((node, change))
    changes += _follow_replacements(changes, references, subjects)
    left_alone = (
        tuple(LeftAlone(path, subject) for path, subject in live_resources(estate) if path not in subjects)
        if plan.is_live_estate
        else ()
    )
    return CutoverDiff(
        changes=tuple(change for _, change in changes),
        uncompared=tuple(uncompared),
        ignored=tuple(ignored),
        # Only a stack that is the record's estate has to be where the estate is.
        mismatches=_mismatches(account_id, region, estate) if plan.is_live_estate else (),
        left_alone=left_alone,
    )


def _live_resource(ref: LiveRef, subjects: Mapping[str, str]) -> str:
    subject = subjects.get(ref.record_path)
    return f"{subject} ({ref.record_path})" if subject else f"the live {ref.record_path}"


def _show_program(value: Any, identities: Mapping[str, Node], taken: Mapping[int, Any]) -> str:
    """The program's value, with the ids and ARNs of its own resources shown as those resources."""

    def named(item: Any) -> Any:
        target = identities.get(item) if isinstance(item, str) else None
        return _refers_to(target, taken.get(id(target)), item) if target is not None else item

    return show([named(v) for v in value] if isinstance(value, list) else named(value))


def _refers_to(target: Node | None, target_part: Any, program: Any) -> str:
    if target is None:
        return show(plain(program))
    if target_part is None:
        return f"{target.name} (created by the stack)"
    return f"{target.name} (takes over {target_part.record_path})"


def _follow_replacements(
    changes: list[tuple[Node, Change]],
    references: list[tuple[Node, str, LiveProperty, Node]],
    subjects: Mapping[str, str],
) -> list[tuple[Node, Change]]:
    """A reference to a replaced resource changes too (its ARN or id is new): in place or, where the
    property is replace-only, a replacement in turn. Until nothing more follows."""
    replaced: dict[int, Change] = {}
    for node, change in changes:
        if change.replaces:
            replaced.setdefault(id(node), change)
    followed: list[tuple[Node, Change]] = []
    pending = list(references)
    while True:
        still: list[tuple[Node, str, LiveProperty, Node]] = []
        for node, subject, prop, target in pending:
            cause = replaced.get(id(target))
            if cause is None:
                still.append((node, subject, prop, target))
                continue
            change = Change(
                node.name,
                node.type,
                subject,
                prop.label,
                prop.record_path,
                _live_resource(prop.live, subjects),
                f"{target.name} (replaced: a new one)",
                replaces=may_force_replacement(node.type, prop.path),
                cause=f"follows the replacement of {target.name} ({cause.path})",
                justified_by=cause.justified_by,
            )
            followed.append((node, change))
            if change.replaces:
                replaced.setdefault(id(node), change)
        if len(still) == len(pending):
            return followed
        pending = still


def _mismatches(account_id: str, region: str, estate: LiveEstate) -> tuple[Mismatch, ...]:
    found = []
    for what, stack, record_path in (
        ("account", account_id, "network.account_id"),
        ("region", region, "network.region"),
    ):
        live = recorded(record_path, estate)
        if not isinstance(live, Unfilled) and str(live) != stack:
            found.append(Mismatch(what, stack, str(live), record_path))
    return tuple(found)
