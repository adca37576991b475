"""`services`: the services the contract knows, each read in full, and the checks across them."""

from __future__ import annotations

import difflib
import re
from typing import Any

from core import naming
from core.contract import CONTRACTS, ServiceContract
from core.fargate import VALID_SIZES, describe_valid_memory, is_valid_size
from core.settings.autoscaling import read_autoscaling
from core.settings.environment import read_environment
from core.settings.model import Network, ServiceSettings
from core.settings.reader import MISSING, Reader
from core.settings.routes import check_routes_across_services, read_route
from core.settings.secrets import check_secrets_across_services, read_secrets

SERVICE_KEYS = (
    "image",
    "cpu",
    "memory",
    "desired_count",
    "autoscaling",
    "health_check_grace_seconds",
    "routes",
    "environment",
    "secrets",
    "task_role_policy_arns",
)


_IMAGE = re.compile(r"^[a-z0-9][a-z0-9._/:-]*[a-z0-9](:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[0-9a-f]{64})$")


def read_services(
    reader: Reader,
    raw: Any,
    stack: str,
    region: str | None,
    account: str | None,
    network: Network | None,
    secret_config_keys: set[str],
) -> tuple[ServiceSettings, ...] | None:
    known = sorted(CONTRACTS)
    values = reader.mapping(raw, "services", allowed=None, example=", e.g. services: {api: {image: ...}}")
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
        service = _service(reader, key, contract, body, stack, region, account, network, secret_config_keys)
        if service is None:
            failed = True
        else:
            services.append(service)
    check_routes_across_services(reader, services)
    check_secrets_across_services(reader, services)
    return None if failed else tuple(services)


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
) -> ServiceSettings | None:
    base = f"services.{key}"
    values = reader.mapping(raw, base, allowed=SERVICE_KEYS)
    if values is None:
        return None
    problems_before = len(reader.problems)

    image = reader.text(
        values.get("image", MISSING),
        f"{base}.image",
        shape="a container image with a tag or digest",
        fix=f"set {base}.image to the image to run, e.g. "
        f"<account>.dkr.ecr.<region>.amazonaws.com/hokusai/{key}:<git sha>",
    )
    if image is not None:
        if not _IMAGE.match(image):
            reader.problem(
                f"{base}.image",
                f"{image!r} has no tag or digest, or is not an image reference",
                "pin the image to a tag or digest (repo:tag or repo@sha256:...)",
            )
        elif image.rsplit("/", 1)[-1].endswith(":latest"):
            reader.problem(
                f"{base}.image",
                "uses the mutable tag 'latest'",
                "pin an immutable tag or digest: with 'latest' a deploy registers no new "
                "task-definition revision and the service keeps running the old image",
            )

    cpu = reader.integer(
        values.get("cpu", MISSING),
        f"{base}.cpu",
        default=512,
        low=256,
        high=16384,
        fix="use one of " + ", ".join(map(str, VALID_SIZES)),
    )
    memory = reader.integer(values.get("memory", MISSING), f"{base}.memory", default=1024, low=512, high=122880)
    if cpu is not None and cpu not in VALID_SIZES:
        reader.problem(
            f"{base}.cpu",
            f"Fargate has no task size with {cpu} CPU units",
            "use one of " + ", ".join(map(str, VALID_SIZES)),
        )
    elif cpu is not None and memory is not None and not is_valid_size(cpu, memory):
        reader.problem(
            f"{base}.memory",
            f"Fargate does not run a task with cpu {cpu} and memory {memory}",
            describe_valid_memory(cpu),
        )

    desired = reader.integer(values.get("desired_count", MISSING), f"{base}.desired_count", default=2, low=1, high=100)
    autoscaling = read_autoscaling(reader, values.get("autoscaling", MISSING), f"{base}.autoscaling", desired)
    grace = reader.integer(
        values.get("health_check_grace_seconds", MISSING),
        f"{base}.health_check_grace_seconds",
        default=60,
        low=0,
        high=1800,
    )
    routes = reader.list_of(
        values.get("routes", MISSING),
        f"{base}.routes",
        lambda v, p: read_route(reader, v, p),
        required=True,
        fix=f"route traffic to the service, e.g. {base}.routes: [{{priority: 100, hosts: [api.hokus.ai]}}]",
    )
    if routes is not None and not routes:
        reader.problem(f"{base}.routes", "is empty", "add at least one route (priority plus hosts and/or paths)")
    environment = read_environment(reader, contract, values.get("environment", MISSING), f"{base}.environment", stack)
    secrets = read_secrets(
        reader, contract, values.get("secrets", MISSING), f"{base}.secrets", stack, region, account, secret_config_keys
    )
    if environment is not None and secrets is not None:
        for name in sorted(set(dict(environment)) & {s.env_var for s in secrets}):
            reader.problem(
                f"{base}.environment.{name}",
                "is declared both as a plain setting and as a secret",
                f"remove {base}.environment.{name}: it is a secret",
            )
    policies = reader.list_of(
        values.get("task_role_policy_arns", MISSING),
        f"{base}.task_role_policy_arns",
        lambda v, p: reader.arn(
            v, p, service="iam", resource_prefix="policy/", what="an IAM managed policy", region=None, account=None
        ),
    )

    if len(reader.problems) != problems_before or network is None:
        return None
    return ServiceSettings(
        key=key,
        contract=contract,
        image=image,
        cpu=cpu,
        memory=memory,
        desired_count=desired,
        autoscaling=autoscaling,
        health_check_grace_seconds=grace,
        routes=routes,
        environment=environment,
        secrets=secrets,
        task_role_policy_arns=policies,
        name=naming.service_name(key, stack),
        log_group_name=naming.log_group_name(key, stack),
        target_group_name=naming.target_group_name(key, stack, port=contract.container_port, vpc_id=network.vpc_id),
    )
