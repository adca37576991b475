"""Looks up everything the stack adopts instead of creating, before anything is created.

Adopted secrets, the existing ALB listener (and its load balancer's security
groups), the rules already on that listener at the priorities the stack's routes
use, and the AWS account the credentials belong to are all resolved here, first.
If any is missing, or a priority is taken by a rule the stack neither manages nor
imports, the program stops with one message listing them all, before a single
resource is registered: `pulumi preview` fails, and `pulumi up` leaves nothing
half-deployed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

import pulumi
import pulumi_aws as aws

from core import naming
from core.fidelity import placeholder_for
from core.live_estate_docs import DOC_NAME as ESTATE_DOC
from core.live_estate_docs import anchor
from core.settings import NAMESPACE, Route, SecretMode, SecretSource, ServiceSettings, Settings

T = TypeVar("T")


@dataclass(frozen=True)
class AdoptedListener:
    listener_arn: str
    load_balancer_arn: str
    load_balancer_arn_suffix: str
    security_group_ids: tuple[str, ...]
    dns_name: str


@dataclass(frozen=True)
class Existing:
    # SecretSource.identity -> full ARN, for every `existing` secret
    secret_arns: Mapping[str, str] = field(default_factory=dict)
    listener: AdoptedListener | None = None


def look_up_existing(settings: Settings) -> Existing:
    failures: list[str] = []

    def attempt(what: str, fix: str, lookup: Callable[[], T]) -> T | None:
        try:
            return lookup()
        except Exception as error:  # the provider's own message says why (not found, access denied, ...)
            failures.append(f"  - {what}: {_first_line(error)}\n      fix: {fix}")
            return None

    identity = attempt(
        "the AWS credentials",
        "configure credentials for the stack's account (AWS_PROFILE, or aws sso login)",
        aws.get_caller_identity,
    )
    if identity is not None and identity.account_id != settings.account_id:
        failures.append(
            f"  - the AWS credentials belong to account {identity.account_id}, but stack "
            f"'{settings.environment}' deploys to account {settings.account_id} ({NAMESPACE}:account_id)\n"
            f"      fix: use credentials for account {settings.account_id} (check AWS_PROFILE)"
        )

    secret_arns: dict[str, str] = {}
    for source in settings.secret_sources:
        if source.mode is not SecretMode.EXISTING:
            continue
        found = attempt(
            f"secret {source.name_or_arn} ({_users(settings, source)})",
            _missing_secret_fix(settings, source),
            partial(_get_secret, source.name_or_arn),
        )
        if found is not None:
            secret_arns[source.identity] = found.arn

    listener = None
    listener_arn = settings.load_balancer.listener_arn
    if listener_arn:
        listener = attempt(
            f"load balancer listener {listener_arn}",
            _listener_fix(settings),
            partial(_get_listener, listener_arn),
        )
    if listener is not None:
        for service in settings.services:
            for index, route in enumerate(service.routes):
                where = f"listener rule priority {route.priority} ({NAMESPACE}:services.{service.key}.routes[{index}])"
                rule = attempt(
                    where,
                    "let the credentials read the listener's rules and their tags "
                    "(elasticloadbalancing:DescribeRules, elasticloadbalancing:DescribeTags), then preview again",
                    partial(_rule_at, listener.listener_arn, route.priority),
                )
                if rule is not None and not _may_take(rule, route, settings):
                    failures.append(_taken(where, rule, service, index))

    if failures:
        raise pulumi.RunError(
            f"stack '{settings.environment}' adopts {len(failures)} thing(s) that could not be found or used; "
            "nothing was created:\n" + "\n".join(failures)
        )
    return Existing(secret_arns=secret_arns, listener=listener)


def _listener_fix(settings: Settings) -> str:
    fix = (
        f"check {NAMESPACE}:load_balancer.listener_arn (aws elbv2 describe-listeners --listener-arns <arn>), "
        f"or set {NAMESPACE}:load_balancer.create: true"
    )
    placeholder = placeholder_for(settings.environment, f"{NAMESPACE}:load_balancer.listener_arn")
    if placeholder is None:
        return fix
    path, entry = placeholder
    return (
        f"the configured ARN is a placeholder for {entry.what} ({ESTATE_DOC}#{anchor(path)}): "
        f"find it with `{entry.how_to_find}`, then set {NAMESPACE}:load_balancer.listener_arn to it"
    )


# How the provider says no rule has the priority (terraform-provider-aws's "empty result"; a
# rule that vanished between listing and reading is RuleNotFound): the priority is free.
_NO_RULE = re.compile(r"empty result|couldn't find resource|RuleNotFound", re.IGNORECASE)


def _rule_at(listener_arn: str, priority: int) -> aws.lb.GetListenerRuleResult | None:
    """The rule at `priority` on the listener, or None when the priority is free."""
    try:
        return aws.lb.get_listener_rule(listener_arn=listener_arn, priority=priority)
    except Exception as error:  # the provider's own message says why
        if _NO_RULE.search(str(error)):
            return None
        raise


def _may_take(rule: aws.lb.GetListenerRuleResult, route: Route, settings: Settings) -> bool:
    """A rule already at a route's priority is this stack's own (tagged as it tags everything:
    a rule it manages, being updated), or one the route says the cutover imports."""
    tags = dict(rule.tags or {})
    ours = (
        tags.get("managed-by") == "pulumi"
        and tags.get("project") == naming.PROJECT
        and tags.get("environment") == settings.environment
    )
    return ours or route.adopt_existing


def _taken(where: str, rule: aws.lb.GetListenerRuleResult, service: ServiceSettings, index: int) -> str:
    route_key = f"{NAMESPACE}:services.{service.key}.routes[{index}]"
    return (
        f"  - {where}: the listener already has rule {rule.arn} at that priority, which this stack does not "
        f"manage ({_describe_rule(rule)})\n"
        f"      fix: give the route a priority no other rule uses (aws elbv2 describe-rules --listener-arn "
        f"{rule.listener_arn} --query 'Rules[].Priority'), or, if the cutover imports that rule into this "
        f"route, set {route_key}.adopt_existing: true"
    )


def _describe_rule(rule: aws.lb.GetListenerRuleResult) -> str:
    """What a rule matches and does, in a few words: "matches path /api/*; forwards to <target group>"."""
    matches = []
    for condition in rule.conditions or ():
        for field_name, word in (("host_headers", "host"), ("path_patterns", "path")):
            for block in _field(condition, field_name) or ():
                matches += [f"{word} {value}" for value in _field(block, "values") or ()]
    does = []
    for action in rule.actions or ():
        kind = _field(action, "type") or "?"
        targets = [
            _field(group, "arn")
            for forward in _field(action, "forwards") or ()
            for group in _field(forward, "target_groups") or ()
        ]
        does.append(f"forwards to {', '.join(str(t) for t in targets)}" if targets else f"answers with {kind}")
    return f"matches {' and '.join(matches) or 'everything'}; {'; '.join(does) or 'no action'}"


def _field(value: Any, name: str) -> Any:
    """A field of a lookup's nested result, whether it arrives typed or as a plain mapping."""
    if isinstance(value, dict):
        if name in value:
            return value[name]
        camel = re.sub(r"_([a-z])", lambda m: m.group(1).upper(), name)
        return value.get(camel)
    return getattr(value, name, None)


def _get_secret(name_or_arn: str) -> aws.secretsmanager.GetSecretResult:
    if name_or_arn.startswith("arn:"):
        return aws.secretsmanager.get_secret(arn=name_or_arn)
    return aws.secretsmanager.get_secret(name=name_or_arn)


def _get_listener(listener_arn: str) -> AdoptedListener:
    listener = aws.lb.get_listener(arn=listener_arn)
    balancer = aws.lb.get_load_balancer(arn=listener.load_balancer_arn)
    if balancer.load_balancer_type not in (None, "", "application"):
        raise ValueError(f"the listener belongs to a {balancer.load_balancer_type} load balancer, not an ALB")
    if not balancer.security_groups:
        raise ValueError("its load balancer has no security group for the services to admit")
    return AdoptedListener(
        listener_arn=listener.arn,
        load_balancer_arn=balancer.arn,
        load_balancer_arn_suffix=balancer.arn_suffix,
        security_group_ids=tuple(sorted(balancer.security_groups or ())),
        dns_name=balancer.dns_name,
    )


def _users(settings: Settings, source: SecretSource) -> str:
    users = [
        f"{s.env_var} of {service.key}"
        for service in settings.services
        for s in service.secrets
        if s.identity == source.identity
    ]
    return ", ".join(users)


def _missing_secret_fix(settings: Settings, source: SecretSource) -> str:
    name = source.name_or_arn
    service = next(s for s in settings.services if any(x.identity == source.identity for x in s.secrets))
    return (
        f"create it and give it a value (aws secretsmanager create-secret --name {name}; then "
        f"aws secretsmanager put-secret-value --secret-id {name} --secret-string file://<file>), "
        f"or let the program declare it: {NAMESPACE}:services.{service.key}.secrets.{source.env_var}.create"
    )


def _first_line(error: Exception) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0][:300]
