"""load_settings: the whole stack configuration, section by section, every problem at once."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from core.contract import CONTRACTS
from core.settings import declarations
from core.settings.dependencies import read_dependencies, resolve_dependencies
from core.settings.deploy_gate import read_deploy_gate
from core.settings.fields import NAMESPACE
from core.settings.identity import read_account, read_region, read_stack_name
from core.settings.load_balancer import read_load_balancer
from core.settings.model import Settings
from core.settings.network import read_network
from core.settings.problems import SettingsError
from core.settings.reader import Reader, Section, present
from core.settings.services import read_services
from core.settings.tags import read_tags


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

    stack_name = read_stack_name(reader, stack)
    region_name = read_region(reader, region)

    raw_top = reader.mapping(raw, "", allowed=None)
    if raw_top is None:
        raise SettingsError(stack_name, reader.problems)
    value_from_keys = _value_from_keys(raw_top)
    reader.reject_unknown(
        {k: v for k, v in raw_top.items() if k not in value_from_keys}, "", declarations.child_names("")
    )
    top = Section(reader, "", "", raw_top)

    account = read_account(top)
    network = read_network(reader, top.raw("network"))
    load_balancer = read_load_balancer(reader, top.raw("load_balancer"), region_name, account)
    if load_balancer and load_balancer.creates_load_balancer and network and len(network.public_subnet_ids) < 2:
        reader.problem(
            "network.public_subnet_ids",
            "needs at least two public subnets when the program creates the load balancer",
            "list two or more public subnets in different availability zones, "
            "or set load_balancer.listener_arn to use an existing ALB",
        )
    kms_key = top.read("secrets_kms_key_arn", region=region_name, account=account)
    observability_key = top.read("observability_kms_key_arn", region=region_name, account=account)
    raw_services = top.raw("services")
    # The stack's services by contract, known before they are read: a dependency may be one of them.
    stack_contracts = (
        {key: CONTRACTS[key] for key in raw_services if key in CONTRACTS} if isinstance(raw_services, Mapping) else {}
    )
    declared_dependencies = read_dependencies(reader, top.raw("dependencies"))
    dependencies = (
        {}
        if declared_dependencies is None
        else resolve_dependencies(reader, declared_dependencies, stack_contracts, stack_name)
    )
    services = read_services(
        reader, raw_services, stack_name, region_name, account, network, secret_config_keys, dependencies
    )
    retention = top.read("log_retention_days")
    emails = top.read("alarm_emails")
    gate = read_deploy_gate(reader, top.raw("deploy_gate"))
    tags = read_tags(reader, top.raw("tags"))

    if reader.problems:
        raise SettingsError(stack_name, reader.problems)
    # No problem recorded, so every required section was read (`present` says why).
    return Settings(
        environment=stack_name,
        region=present(region_name, "region"),
        account_id=present(account, "account_id"),
        network=present(network, "network"),
        load_balancer=present(load_balancer, "load_balancer"),
        services=present(services, "services"),
        dependencies=tuple(dependencies[name] for name in sorted(dependencies)),
        log_retention_days=retention,
        alarm_emails=emails,
        secrets_kms_key_arn=kms_key,
        observability_kms_key_arn=observability_key,
        deploy_gate=present(gate, "deploy_gate"),
        tags=present(tags, "tags"),
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
