"""Looks up everything the stack adopts instead of creating, before anything is created.

Adopted secrets, the existing ALB listener (and its load balancer's security
groups) and the AWS account the credentials belong to are all resolved here,
first. If any is missing, the program stops with one message listing them all,
before a single resource is registered: `pulumi preview` fails, and `pulumi up`
leaves nothing half-deployed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import TypeVar

import pulumi
import pulumi_aws as aws

from core.settings import NAMESPACE, SecretMode, SecretSource, Settings

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
            f"check {NAMESPACE}:load_balancer.listener_arn (aws elbv2 describe-listeners --listener-arns <arn>), "
            f"or set {NAMESPACE}:load_balancer.create: true",
            partial(_get_listener, listener_arn),
        )

    if failures:
        raise pulumi.RunError(
            f"stack '{settings.environment}' adopts {len(failures)} thing(s) that could not be found; "
            "nothing was created:\n" + "\n".join(failures)
        )
    return Existing(secret_arns=secret_arns, listener=listener)


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
