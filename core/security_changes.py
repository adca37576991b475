"""Which changes of a diff matter to security, in the tables `cdk diff` shows them in. Pure.

A reviewer reads these first, whatever else the change does (core/graph_diff.py has everything):

- IAM statements: a statement added or removed, or its actions / resources / principal /
  condition changed, in any policy document (role policies, trust policies, managed policies,
  resource policies); a managed policy attached or detached;
- security-group rules: ingress and egress rules added, removed or changed (port, protocol,
  source or destination), standalone (`aws:vpc/...Rule`, `aws:ec2/securityGroupRule`) or
  inline on a group;
- secrets: a secret added to or removed from a container, a `valueFrom` changed, a plain
  environment variable named like a credential (its value is never shown), a secret
  declared, deleted or given a new value;
- public exposure: a public IP for tasks, an internet-facing load balancer, a rule open to
  0.0.0.0/0 or ::/0;
- TLS: a listener's protocol, port, SSL policy or certificate.

Each row has a sign: `+` added (or exposure opened), `-` removed (or closed), `~` changed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from core.contract import looks_secret
from core.graph_diff import ABSENT, HIDDEN, Action, GraphDiff, ResourceChange, list_name_key

INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS_RULE = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
EC2_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
ECS_SERVICE = "aws:ecs/service:Service"
LOAD_BALANCER = "aws:lb/loadBalancer:LoadBalancer"
LISTENERS = ("aws:lb/listener:Listener", "aws:alb/listener:Listener")
SECRET = "aws:secretsmanager/secret:Secret"
SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
POLICY_ATTACHMENTS = (
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment",
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
)
WORLD = ("0.0.0.0/0", "::/0")
TLS_INPUTS = ("protocol", "port", "sslPolicy", "certificateArn", "alpnPolicy")


class Category(StrEnum):
    IAM = "IAM statement changes"
    SECURITY_GROUPS = "Security-group rule changes"
    SECRETS = "Secret changes"
    PUBLIC = "Public exposure"
    TLS = "TLS changes"


# The columns of each category's table, after the sign.
COLUMNS: Mapping[Category, tuple[str, ...]] = {
    Category.IAM: ("resource", "document", "statement", "effect", "actions", "resources", "principal / condition"),
    Category.SECURITY_GROUPS: ("rule", "direction", "group", "protocol / ports", "peer"),
    Category.SECRETS: ("resource", "container", "variable", "change"),
    Category.PUBLIC: ("resource", "what"),
    Category.TLS: ("resource", "change"),
}


@dataclass(frozen=True)
class SecurityChange:
    category: Category
    sign: str  # "+", "-" or "~"
    # One cell per column of COLUMNS[category].
    cells: tuple[str, ...]


def security_changes(diff: GraphDiff) -> list[SecurityChange]:
    """Every security-relevant change in `diff`, by category (in Category's order), then resource."""
    found: list[SecurityChange] = []
    for resource in diff.resources:
        for finder in (_iam, _security_group_rules, _secrets, _public_exposure, _tls):
            found += finder(resource)
    order = list(Category)
    return sorted(found, key=lambda c: order.index(c.category))


def by_category(changes: Sequence[SecurityChange]) -> dict[Category, list[SecurityChange]]:
    grouped: dict[Category, list[SecurityChange]] = {}
    for change in changes:
        grouped.setdefault(change.category, []).append(change)
    return grouped


def _sides(resource: ResourceChange) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    return resource.old_inputs or {}, resource.new_inputs or {}


def _text(value: Any) -> str:
    if value is ABSENT or value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True)


def _was_is(old: Any, new: Any) -> str:
    return _text(new) if old == new else f"{_text(old) or '(none)'} → {_text(new) or '(none)'}"


# --------------------------------------------------------------------------- #
# IAM
# --------------------------------------------------------------------------- #


def policy_documents(value: Any, path: str = "") -> dict[str, Mapping[str, Any]]:
    """Every IAM policy document (an object with a `Statement`) in decoded inputs, by its path."""
    if isinstance(value, Mapping):
        if "Statement" in value:
            return {path or "(inputs)": value}
        found: dict[str, Mapping[str, Any]] = {}
        for key, item in value.items():
            found.update(policy_documents(item, f"{path}.{key}" if path else str(key)))
        return found
    if isinstance(value, list):
        found = {}
        for index, item in enumerate(value):
            found.update(policy_documents(item, f"{path}[{index}]"))
        return found
    return {}


def _statements(document: Mapping[str, Any] | None) -> dict[str, Mapping[str, Any]]:
    """A document's statements by their Sid (unique), else by their content."""
    if document is None:
        return {}
    raw = document.get("Statement")
    statements = [raw] if isinstance(raw, Mapping) else [s for s in raw or [] if isinstance(s, Mapping)]
    if list_name_key(statements) == "Sid":
        return {str(s["Sid"]): s for s in statements}
    return {json.dumps(s, sort_keys=True): s for s in statements}


def _as_list(value: Any) -> list[str]:
    if value is None or value is ABSENT:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _listed(statement: Mapping[str, Any], key: str) -> tuple[str, list[str]]:
    """(`Action` or `NotAction`, its values) of a statement."""
    if f"Not{key}" in statement:
        return f"Not{key} ", _as_list(statement[f"Not{key}"])
    return "", _as_list(statement.get(key))


def _delta(old: list[str], new: list[str]) -> str:
    added = [v for v in new if v not in old]
    removed = [v for v in old if v not in new]
    if not added and not removed:
        return ", ".join(new)
    return ", ".join([*(f"+ {v}" for v in added), *(f"− {v}" for v in removed)])


def _principal_condition(statement: Mapping[str, Any]) -> str:
    parts = [_text(statement[k]) for k in ("Principal", "NotPrincipal") if k in statement]
    if "Condition" in statement:
        parts.append(f"Condition {_text(statement['Condition'])}")
    return "; ".join(parts)


def _statement_label(key: str, statement: Mapping[str, Any]) -> str:
    return str(statement["Sid"]) if "Sid" in statement and key == statement["Sid"] else "(no Sid)"


def _iam(resource: ResourceChange) -> Iterator[SecurityChange]:
    old, new = _sides(resource)
    if resource.type in POLICY_ATTACHMENTS and resource.action is not Action.UPDATE:
        sign = "-" if resource.action is Action.REMOVE else "+"
        arn = _text(resource.inputs.get("policyArn"))
        if resource.action is Action.REPLACE:
            arn = _was_is(old.get("policyArn"), new.get("policyArn"))
            sign = "~"
        target = resource.inputs.get("role") or resource.inputs.get("user") or resource.inputs.get("group")
        yield SecurityChange(
            Category.IAM, sign, (resource.name, "managed policy", f"attached to {_text(target)}", "", "", arn, "")
        )
    documents_before, documents_after = policy_documents(old), policy_documents(new)
    for path in sorted(documents_before.keys() | documents_after.keys()):
        before = _statements(documents_before.get(path))
        after = _statements(documents_after.get(path))
        for key in [*before, *(k for k in after if k not in before)]:
            was, now = before.get(key), after.get(key)
            if was == now:
                continue
            if was is None or now is None:
                statement = now if now is not None else was
                assert statement is not None
                sign = "+" if was is None else "-"
                action_prefix, actions = _listed(statement, "Action")
                resource_prefix, resources = _listed(statement, "Resource")
                yield SecurityChange(
                    Category.IAM,
                    sign,
                    (
                        resource.name,
                        path,
                        _statement_label(key, statement),
                        _text(statement.get("Effect")),
                        action_prefix + ", ".join(actions),
                        resource_prefix + ", ".join(resources),
                        _principal_condition(statement),
                    ),
                )
                continue
            old_prefix, old_actions = _listed(was, "Action")
            new_prefix, new_actions = _listed(now, "Action")
            old_res_prefix, old_resources = _listed(was, "Resource")
            new_res_prefix, new_resources = _listed(now, "Resource")
            yield SecurityChange(
                Category.IAM,
                "~",
                (
                    resource.name,
                    path,
                    _statement_label(key, now),
                    _was_is(was.get("Effect"), now.get("Effect")),
                    (new_prefix if old_prefix == new_prefix else f"{old_prefix or 'Action '}→ {new_prefix}")
                    + _delta(old_actions, new_actions),
                    (new_res_prefix if old_res_prefix == new_res_prefix else f"{old_res_prefix}→ {new_res_prefix}")
                    + _delta(old_resources, new_resources),
                    _was_is(_principal_condition(was), _principal_condition(now)),
                ),
            )


# --------------------------------------------------------------------------- #
# Security-group rules
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class Rule:
    direction: str  # ingress / egress
    group: str
    ports: str
    peer: str


def _ports(protocol: Any, from_port: Any, to_port: Any) -> str:
    protocol = _text(protocol) or "?"
    if protocol in ("-1", "all"):
        return "all traffic"
    low, high = _port_text(from_port), _port_text(to_port)
    return f"{protocol} {low}" if low == high or not high else f"{protocol} {low}-{high}"


def _port_text(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else _text(value)


def _peer(inputs: Mapping[str, Any]) -> str:
    peers: list[str] = []
    for key in ("referencedSecurityGroupId", "sourceSecurityGroupId", "cidrIpv4", "cidrIpv6", "prefixListId"):
        if inputs.get(key):
            peers.append(_text(inputs[key]))
    for key in ("cidrBlocks", "ipv6CidrBlocks", "prefixListIds", "securityGroups"):
        peers += _as_list(inputs.get(key))
    if inputs.get("self"):
        peers.append("itself")
    return ", ".join(peers)


def _rule(type_: str, inputs: Mapping[str, Any]) -> Rule | None:
    if not inputs:
        return None
    if type_ in (INGRESS_RULE, EGRESS_RULE):
        direction = "ingress" if type_ == INGRESS_RULE else "egress"
        return Rule(
            direction,
            _text(inputs.get("securityGroupId")),
            _ports(inputs.get("ipProtocol"), inputs.get("fromPort"), inputs.get("toPort")),
            _peer(inputs),
        )
    if type_ == EC2_RULE:
        return Rule(
            _text(inputs.get("type")),
            _text(inputs.get("securityGroupId")),
            _ports(inputs.get("protocol"), inputs.get("fromPort"), inputs.get("toPort")),
            _peer(inputs),
        )
    return None


def _inline_rules(inputs: Mapping[str, Any], group: str) -> list[Rule]:
    rules = []
    for direction in ("ingress", "egress"):
        for entry in inputs.get(direction) or []:
            if isinstance(entry, Mapping):
                ports = _ports(entry.get("protocol"), entry.get("fromPort"), entry.get("toPort"))
                rules.append(Rule(direction, group, ports, _peer(entry)))
    return rules


def _rule_cells(name: str, rule: Rule) -> tuple[str, ...]:
    return (name, rule.direction, rule.group, rule.ports, rule.peer)


def _security_group_rules(resource: ResourceChange) -> Iterator[SecurityChange]:
    old, new = _sides(resource)
    if resource.type == SECURITY_GROUP:
        group = f"{resource.name} (inline)"
        before, after = _inline_rules(old, group), _inline_rules(new, group)
        for rule in before:
            if rule not in after:
                yield SecurityChange(Category.SECURITY_GROUPS, "-", _rule_cells(resource.name, rule))
        for rule in after:
            if rule not in before:
                yield SecurityChange(Category.SECURITY_GROUPS, "+", _rule_cells(resource.name, rule))
        return
    was, now = _rule(resource.type, old), _rule(resource.type, new)
    if was == now:
        return
    if was is None and now is not None:
        yield SecurityChange(Category.SECURITY_GROUPS, "+", _rule_cells(resource.name, now))
        return
    if was is not None and now is None:
        yield SecurityChange(Category.SECURITY_GROUPS, "-", _rule_cells(resource.name, was))
        return
    assert was is not None and now is not None
    yield SecurityChange(
        Category.SECURITY_GROUPS,
        "~",
        (
            resource.name,
            _was_is(was.direction, now.direction),
            _was_is(was.group, now.group),
            _was_is(was.ports, now.ports),
            _was_is(was.peer, now.peer),
        ),
    )


# --------------------------------------------------------------------------- #
# Secrets
# --------------------------------------------------------------------------- #


def _containers(inputs: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    definitions = inputs.get("containerDefinitions")
    if not isinstance(definitions, list):
        return {}
    return {
        str(c.get("name", index)): c
        for index, c in enumerate(definitions)
        if isinstance(c, Mapping)  # a container without a name is keyed by its position
    }


def _named(container: Mapping[str, Any] | None, key: str) -> dict[str, Mapping[str, Any]]:
    entries = (container or {}).get(key)
    if not isinstance(entries, list):
        return {}
    return {str(e["name"]): e for e in entries if isinstance(e, Mapping) and isinstance(e.get("name"), str)}


def _secrets(resource: ResourceChange) -> Iterator[SecurityChange]:
    old, new = _sides(resource)
    if resource.type == TASK_DEFINITION:
        yield from _container_secrets(resource.name, _containers(old), _containers(new))
    elif resource.type == SECRET and resource.action in (Action.ADD, Action.REMOVE, Action.REPLACE):
        sign = {Action.ADD: "+", Action.REMOVE: "-", Action.REPLACE: "~"}[resource.action]
        what = {Action.ADD: "declared", Action.REMOVE: "deleted", Action.REPLACE: "replaced"}[resource.action]
        yield SecurityChange(
            Category.SECRETS, sign, (resource.name, "", _text(resource.inputs.get("name")), f"secret {what}")
        )
    elif resource.type == SECRET_VERSION:
        sign = {Action.ADD: "+", Action.REMOVE: "-"}.get(resource.action, "~")
        yield SecurityChange(
            Category.SECRETS, sign, (resource.name, "", "", f"secret value {resource.action.value} ({HIDDEN})")
        )


def _container_secrets(
    name: str, before: Mapping[str, Mapping[str, Any]], after: Mapping[str, Mapping[str, Any]]
) -> Iterator[SecurityChange]:
    for container in [*before, *(c for c in after if c not in before)]:
        was_secrets, now_secrets = _named(before.get(container), "secrets"), _named(after.get(container), "secrets")
        for variable in [*was_secrets, *(v for v in now_secrets if v not in was_secrets)]:
            was, now = was_secrets.get(variable), now_secrets.get(variable)
            if was == now:
                continue
            if was is None or now is None:
                entry = now if now is not None else was
                assert entry is not None
                verb = "added to the container" if was is None else "removed from the container"
                yield SecurityChange(
                    Category.SECRETS,
                    "+" if was is None else "-",
                    (name, container, variable, f"secret {verb}: valueFrom {_text(entry.get('valueFrom'))}"),
                )
            else:
                yield SecurityChange(
                    Category.SECRETS,
                    "~",
                    (name, container, variable, f"valueFrom {_was_is(was.get('valueFrom'), now.get('valueFrom'))}"),
                )
        was_plain = _named(before.get(container), "environment")
        now_plain = _named(after.get(container), "environment")
        for variable, entry in now_plain.items():
            if looks_secret(variable) and was_plain.get(variable) != entry:
                change = "added" if variable not in was_plain else "changed"
                yield SecurityChange(
                    Category.SECRETS,
                    "+",
                    (
                        name,
                        container,
                        variable,
                        f"plain environment variable named like a credential {change} (value hidden): "
                        "pass it in `secrets` (Secrets Manager) instead",
                    ),
                )


# --------------------------------------------------------------------------- #
# Public exposure
# --------------------------------------------------------------------------- #


def _public_flags(resource: ResourceChange, inputs: Mapping[str, Any]) -> set[str]:
    if not inputs:
        return set()
    flags = set()
    if resource.type == ECS_SERVICE:
        network = inputs.get("networkConfiguration")
        if isinstance(network, Mapping) and network.get("assignPublicIp") is True:
            flags.add("tasks get a public IP (assignPublicIp)")
    if resource.type == LOAD_BALANCER and inputs.get("internal") is not True:
        flags.add("internet-facing load balancer (internal: false)")
    rules: list[Rule] = []
    if resource.type == SECURITY_GROUP:
        rules = _inline_rules(inputs, resource.name)
    else:
        rule = _rule(resource.type, inputs)
        rules = [rule] if rule is not None else []
    for rule in rules:
        open_to = [peer for peer in WORLD if peer in rule.peer.split(", ")]
        if open_to:
            flags.add(f"{rule.direction} {rule.ports} open to {', '.join(open_to)}")
    return flags


def _public_exposure(resource: ResourceChange) -> Iterator[SecurityChange]:
    old, new = _sides(resource)
    was, now = _public_flags(resource, old), _public_flags(resource, new)
    for flag in sorted(now - was):
        yield SecurityChange(Category.PUBLIC, "+", (resource.name, flag))
    for flag in sorted(was - now):
        yield SecurityChange(Category.PUBLIC, "-", (resource.name, flag))


# --------------------------------------------------------------------------- #
# TLS
# --------------------------------------------------------------------------- #


def _tls(resource: ResourceChange) -> Iterator[SecurityChange]:
    if resource.type not in LISTENERS:
        return
    old, new = _sides(resource)
    if resource.action in (Action.ADD, Action.REMOVE):
        inputs = resource.inputs
        facts = ", ".join(f"{key} {_text(inputs.get(key))}" for key in TLS_INPUTS if inputs.get(key) is not None)
        sign = "+" if resource.action is Action.ADD else "-"
        protocol = _text(inputs.get("protocol"))
        note = "" if protocol in ("HTTPS", "TLS") else " (not TLS)"
        yield SecurityChange(Category.TLS, sign, (resource.name, f"listener {facts}{note}"))
        return
    changed = [key for key in TLS_INPUTS if old.get(key) != new.get(key)]
    if changed:
        text = "; ".join(f"{key} {_was_is(old.get(key), new.get(key))}" for key in changed)
        yield SecurityChange(Category.TLS, "~", (resource.name, text))
