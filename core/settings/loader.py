"""load_settings: the whole stack configuration, section by section, every problem at once."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from core.settings.deploy_gate import read_deploy_gate
from core.settings.load_balancer import read_load_balancer
from core.settings.model import Settings
from core.settings.network import read_network
from core.settings.problems import Problem, SettingsError
from core.settings.reader import MISSING, NAMESPACE, Reader
from core.settings.redis import read_redis
from core.settings.services import read_services
from core.settings.tags import read_tags

# CloudWatch Logs accepts only these retention periods (PutRetentionPolicy).
LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)


_ACCOUNT = re.compile(r"^\d{12}$")
_REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
_STACK = re.compile(r"^[a-z][a-z0-9-]{0,23}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


TOP_LEVEL_KEYS = (
    "account_id",
    "network",
    "load_balancer",
    "redis",
    "services",
    "log_retention_days",
    "alarm_emails",
    "secrets_kms_key_arn",
    "deploy_gate",
    "tags",
)


def load_settings(
    raw: Any,
    *,
    stack: str,
    region: Any,
    secret_config_keys: Iterable[str] = (),
) -> Settings:
    """Validate `raw` (the `hokusai:` config, namespace stripped) into Settings.

    `region` is the `aws:region` config value. `secret_config_keys` are the
    `hokusai:` keys whose values are encrypted (`pulumi config set --secret`):
    the only keys a declared secret may take its value from.
    """
    reader = Reader(NAMESPACE)
    secret_config_keys = {k for k in secret_config_keys if isinstance(k, str)}

    if not isinstance(stack, str) or not _STACK.match(stack):
        reader.problems.append(
            Problem(
                "stack",
                f"stack name {stack!r} cannot be used in AWS names",
                "name the stack with lower-case letters, digits and dashes (at most 24), e.g. development",
            )
        )
        stack_name = "invalid"
    else:
        stack_name = stack

    if region is None or region == "":
        reader.problems.append(
            Problem("aws:region", "is required but not set", "pulumi config set aws:region us-east-1")
        )
        region_name = None
    elif not isinstance(region, str) or not _REGION.match(region):
        reader.problems.append(
            Problem("aws:region", f"{region!r} is not an AWS region", "use a region code such as us-east-1")
        )
        region_name = None
    else:
        region_name = region

    top = reader.mapping(raw, "", allowed=None)
    if top is None:
        raise SettingsError(stack_name, reader.problems)
    value_from_keys = _value_from_keys(top)
    reader.reject_unknown({k: v for k, v in top.items() if k not in value_from_keys}, "", TOP_LEVEL_KEYS)

    account = reader.text(
        top.get("account_id", MISSING),
        "account_id",
        pattern=_ACCOUNT,
        shape="a 12-digit AWS account id",
        fix="pulumi config set account_id <12-digit account id of this stack>",
    )
    network = read_network(reader, top.get("network", MISSING))
    load_balancer = read_load_balancer(reader, top.get("load_balancer", MISSING), region_name, account)
    if load_balancer and load_balancer.creates_load_balancer and network and len(network.public_subnet_ids) < 2:
        reader.problem(
            "network.public_subnet_ids",
            "needs at least two public subnets when the program creates the load balancer",
            "list two or more public subnets in different availability zones, "
            "or set load_balancer.listener_arn to use an existing ALB",
        )
    redis = read_redis(reader, top.get("redis", MISSING))
    kms_key = reader.arn(
        top.get("secrets_kms_key_arn", MISSING),
        "secrets_kms_key_arn",
        service="kms",
        resource_prefix="key/",
        what="a KMS key",
        region=region_name,
        account=account,
        required=False,
    )
    services = read_services(
        reader, top.get("services", MISSING), stack_name, region_name, account, network, secret_config_keys
    )
    if redis and isinstance(top.get("services"), Mapping):
        for label, _group in redis.extra_consumers:
            if label in top["services"]:
                reader.problem(
                    f"redis.extra_consumers.{label}",
                    f"is named like the service {label}, whose own rule it would replace",
                    "give the extra consumer another label (the service's rule comes from the contract)",
                )
    if services and redis is None and any(s.contract.uses_redis for s in services):
        users = ", ".join(s.key for s in services if s.contract.uses_redis)
        reader.problem(
            "redis.security_group_id",
            f"is required: {users} use Redis and the Redis security group must admit them on its port",
            "set redis.security_group_id to the Redis cluster's security group id (sg-...)",
        )
    retention = reader.integer(
        top.get("log_retention_days", MISSING), "log_retention_days", default=30, low=1, high=3653
    )
    if retention is not None and retention not in LOG_RETENTION_DAYS:
        reader.problem(
            "log_retention_days",
            f"{retention} is not a retention CloudWatch Logs accepts",
            "use one of " + ", ".join(map(str, LOG_RETENTION_DAYS)),
        )
    emails = reader.list_of(
        top.get("alarm_emails", MISSING),
        "alarm_emails",
        lambda v, p: reader.text(v, p, pattern=_EMAIL, shape="an e-mail address"),
    )
    gate = read_deploy_gate(reader, top.get("deploy_gate", MISSING))
    tags = read_tags(reader, top.get("tags", MISSING))

    if reader.problems:
        raise SettingsError(stack_name, reader.problems)
    return Settings(
        environment=stack_name,
        region=region_name,
        account_id=account,
        network=network,
        load_balancer=load_balancer,
        redis=redis,
        services=services,
        log_retention_days=retention,
        alarm_emails=emails,
        secrets_kms_key_arn=kms_key,
        deploy_gate=gate,
        tags=tags,
    )


def _value_from_keys(top: Mapping[str, Any]) -> set[str]:
    """Top-level keys named by a secret's `value_from` are secret values, not settings."""
    keys: set[str] = set()
    services = top.get("services")
    if not isinstance(services, Mapping):
        return keys
    for service in services.values():
        secrets = service.get("secrets") if isinstance(service, Mapping) else None
        if not isinstance(secrets, Mapping):
            continue
        for source in secrets.values():
            if isinstance(source, Mapping) and isinstance(source.get("value_from"), str):
                keys.add(source["value_from"])
    return keys
