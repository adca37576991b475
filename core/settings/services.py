"""`services`: the services the contract knows, each read in full, and the checks across them."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from core import naming
from core.contract import CONTRACTS, ServiceContract
from core.settings.autoscaling import read_autoscaling
from core.settings.container import read_image, read_task_size
from core.settings.declarations import declared
from core.settings.dependencies import derived_settings
from core.settings.environment import read_environment, read_s3_locations
from core.settings.model import Dependency, Network, ServiceSettings
from core.settings.reader import Reader, present
from core.settings.routes import check_routes_across_services, read_route
from core.settings.secrets import check_secrets_across_services, read_secrets


def read_services(
    reader: Reader,
    raw: Any,
    stack: str,
    region: str | None,
    account: str | None,
    network: Network | None,
    secret_config_keys: set[str],
    dependencies: Mapping[str, Dependency],
) -> tuple[ServiceSettings, ...] | None:
    known = sorted(CONTRACTS)
    values = reader.read(declared("services"), raw, "services")
    if values is None:
        return None
    if not values:
        reader.problem(
            "services",
            "declares no service",
            "declare at least the API: services: {api: {image: ..., routes: [...], ...}} "
            f"(services the contract knows: {', '.join(known)})",
        )
        return None
    services: list[ServiceSettings] = []
    failed = False
    for key, body in values.items():
        contract = CONTRACTS.get(key)
        if contract is None:
            close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
            reader.problem(
                f"services.{key}",
                "is not a service the contract knows",
                (f"did you mean '{close[0]}'? " if close else "")
                + f"declare one of: {', '.join(known)}, or add its contract to core/contract.py",
            )
            failed = True
            continue
        service = _service(
            reader, key, contract, body, stack, region, account, network, secret_config_keys, dependencies
        )
        if service is None:
            failed = True
        else:
            services.append(service)
    check_routes_across_services(reader, services)
    check_secrets_across_services(reader, services)
    check_target_group_names_across_services(reader, services)
    return None if failed else tuple(services)


def check_target_group_names_across_services(reader: Reader, services: list[ServiceSettings]) -> None:
    """A target group's name is unique in its account and region: two services cannot share one."""
    owners: dict[str, str] = {}
    for service in services:
        other = owners.setdefault(service.target_group_name, service.key)
        if other != service.key:
            reader.problem(
                f"services.{service.key}.target_group_name",
                f"{service.target_group_name!r} is already the target group of services.{other}",
                "give each service its own target group name, or leave it out for the derived one",
            )


def _service(
    reader: Reader,
    key: str,
    contract: ServiceContract,
    raw: Any,
    stack: str,
    region: str | None,
    account: str | None,
    network: Network | None,
    secret_config_keys: set[str],
    dependencies: Mapping[str, Dependency],
) -> ServiceSettings | None:
    base = f"services.{key}"
    service = reader.section("services.<service>", raw, base)
    if service is None:
        return None
    problems_before = len(reader.problems)

    image = read_image(service)
    cpu, memory = read_task_size(service)
    desired = service.read("desired_count")
    autoscaling = read_autoscaling(reader, service.raw("autoscaling"), service.path_of("autoscaling"), desired)
    grace = service.read("health_check_grace_seconds")
    routes = service.read("routes", item=lambda v, p: read_route(reader, v, p))
    if routes is not None and not routes:
        reader.problem(f"{base}.routes", "is empty", "add at least one route (priority plus hosts and/or paths)")
    environment = read_environment(
        reader,
        contract,
        service.raw("environment"),
        service.path_of("environment"),
        stack,
        derived_settings(contract, dependencies),
    )
    secrets = read_secrets(
        reader, contract, service.raw("secrets"), service.path_of("secrets"), stack, region, account, secret_config_keys
    )
    if environment is not None and secrets is not None:
        for name in sorted(set(dict(environment)) & {s.env_var for s in secrets}):
            reader.problem(
                f"{base}.environment.{name}",
                "is declared both as a plain setting and as a secret",
                f"remove {base}.environment.{name}: it is a secret",
            )
    policies = service.read("task_role_policy_arns")
    s3_locations = (
        read_s3_locations(reader, contract, environment, service.path_of("environment"))
        if environment is not None
        else None
    )
    # The derived name changes with what a target group cannot change in place (core/naming.py);
    # a fixed one (the live estate's, so the cutover imports the group) does not.
    target_group_name = (
        service.read(
            "target_group_name",
            default=naming.target_group_name(key, stack, port=contract.container_port, vpc_id=network.vpc_id),
        )
        if network is not None
        else None
    )

    if len(reader.problems) != problems_before or network is None:
        return None
    return ServiceSettings(
        key=key,
        contract=contract,
        image=present(image, f"{base}.image"),
        cpu=present(cpu, f"{base}.cpu"),
        memory=present(memory, f"{base}.memory"),
        desired_count=desired,
        autoscaling=present(autoscaling, f"{base}.autoscaling"),
        health_check_grace_seconds=grace,
        routes=routes,
        environment=present(environment, f"{base}.environment"),
        secrets=present(secrets, f"{base}.secrets"),
        task_role_policy_arns=policies,
        name=naming.service_name(key, stack),
        log_group_name=naming.log_group_name(key, stack),
        target_group_name=present(target_group_name, f"{base}.target_group_name"),
        s3_locations=present(s3_locations, f"{base}.environment"),
    )
