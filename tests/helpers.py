"""Helpers the tests share, importable as `tests.helpers` (fixtures stay in conftest.py).

The development stack's config, the settings loader and the program run under
the recording mocks (synth/mocks.py), and small lookups over the recorded graph.
The end of the file lists every stack file and every service in it, for the
tests that hold over all of them instead of naming today's stack or service.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest

from core.contract import (
    CONTRACTS,
    DEFAULT_PORTS,
    HTTPS_PORT,
    DependencyAttribute,
    DependencyRequirement,
    ServiceContract,
)
from core.embedded_json import embedded_document
from core.settings import Settings, load_settings
from core.stack_file import PROJECT_DIR, read_stack_file, settings_input
from core.stack_names import stack_names as core_stack_names
from synth.mocks import AdoptedWorld
from synth.mocks import of_type as by_type
from synth.program import Run, run_program
from tests import tiers

__all__ = ["PROJECT_DIR", "by_type"]

DEV_VALUES, DEV_SECRET_KEYS = read_stack_file("development")
REGION = "us-east-1"


def hokusai_raw(values: dict[str, Any]) -> dict[str, Any]:
    """`hokusai:` keys with the namespace stripped, as the settings loader takes them."""
    return settings_input(values, [])["raw"]


def load(values: dict[str, Any], stack: str = "development", secret_keys=()) -> Settings:
    return load_settings(**settings_input(values, list(secret_keys)), stack=stack)


def run(values: dict[str, Any], world: AdoptedWorld | None = None, secret_keys=(), stack="development") -> Run:
    return run_program(values, stack=stack, world=world, secret_keys=secret_keys)


def container(run_: Run, service: str) -> dict[str, Any]:
    """The container definition of one service (by its key) in a rendered stack."""
    (definition,) = json.loads(task_definition(run_, service).inputs["containerDefinitions"])
    return definition


def pinned_image(repository: str, account: str = "123456789012", region: str = REGION) -> str:
    """An ECR image pinned by digest (made up, stable per repository): what the settings take without
    an exception (a tag needs exceptions.immutable_tags or exceptions.mutable_image_tag)."""
    digest = hashlib.sha256(repository.encode()).hexdigest()
    return f"{account}.dkr.ecr.{region}.amazonaws.com/{repository}@sha256:{digest}"


def with_mlflow(values: dict[str, Any]) -> dict[str, Any]:
    """The config with the mlflow service (a second contract) in it: as it is when the stack runs it
    already, else added as `with_services` builds it. The api's mlflow dependency is then this
    service (its Cloud Map name, port and group), so the stack no longer declares it."""
    return with_services(values, ["mlflow"])


def with_new_load_balancer(values: dict[str, Any], certificate: bool = True) -> dict[str, Any]:
    values["hokusai:network"]["public_subnet_ids"] = ["subnet-0a1b2c3d4e5f60101", "subnet-0a1b2c3d4e5f60102"]
    values["hokusai:load_balancer"] = {"create": True}
    if certificate:
        account, region = values.get("hokusai:account_id", "123456789012"), values.get("aws:region", REGION)
        values["hokusai:load_balancer"]["certificate_arn"] = (
            f"arn:aws:acm:{region}:{account}:certificate/0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9"
        )
    return values


# --------------------------------------------------------------------------- #
# Every stack file, every service in it, every contract entry.
#
# A test that holds "for the development api" breaks the day a service or a
# stack is added; these let it hold for whatever the repository configures.
# --------------------------------------------------------------------------- #


def stack_names(project_dir: Path = PROJECT_DIR) -> tuple[str, ...]:
    """Every stack with a `Pulumi.<stack>.yaml` in `project_dir`: what CI's matrix runs (core/stack_names.py)."""
    return core_stack_names(project_dir)


STACKS = stack_names()


@functools.cache
def _stack_file(stack: str) -> tuple[dict[str, Any], tuple[str, ...]]:
    values, secret_keys = read_stack_file(stack)
    return values, tuple(secret_keys)


def stack_values(stack: str) -> dict[str, Any]:
    """A fresh, mutable copy of `Pulumi.<stack>.yaml`'s config (`project:key` -> value)."""
    return copy.deepcopy(_stack_file(stack)[0])


def stack_secret_keys(stack: str) -> tuple[str, ...]:
    return _stack_file(stack)[1]


@functools.cache
def stack_settings(stack: str) -> Settings:
    """The stack's settings, as the program reads them (frozen: safe to share)."""
    return load(stack_values(stack), stack=stack, secret_keys=stack_secret_keys(stack))


def service_keys(stack: str) -> tuple[str, ...]:
    return tuple(service.key for service in stack_settings(stack).services)


# The incident this project exists for: a failure signature of a contract that names the secret
# whose absence makes the application write it (HUGGINGFACE_API_KEY of the api, "HuggingFace token
# not configured"). Tests about that incident read it from here, never retype it.
INCIDENT_SERVICE, INCIDENT = next(
    (key, signature) for key, c in CONTRACTS.items() for signature in c.error_signatures if signature.missing_secret
)

STACK_SERVICES = tuple((stack, key) for stack in STACKS for key in service_keys(stack))

# Marks a test that reads the stack files, the contract or what is generated from them:
# tests/test_variants.py runs exactly these in a copy of the repository with a service,
# a secret or a stack added. `@each_stack` and `@each_service` apply it themselves.
reads_config = pytest.mark.reads_config
# Marks a test that runs the program again on a changed copy of a stack's config (a rule, checked
# on every service): it reads the config too, but the variant copies leave it out to stay cheap.
changes_config = pytest.mark.changes_config


def each_stack(test):
    """Parametrize a test over every stack file (`stack`)."""
    return reads_config(pytest.mark.parametrize("stack", STACKS)(test))


def each_service(test):
    """Parametrize a test over every (stack, service) pair the stack files configure."""
    ids = [f"{stack}-{service}" for stack, service in STACK_SERVICES]
    return reads_config(pytest.mark.parametrize(("stack", "service"), STACK_SERVICES, ids=ids)(test))


def stack_only_settings(contract: ServiceContract) -> list[tuple[str, str]]:
    """(stack, a plain setting the contract's service gets from the stack file beyond the contract),
    for the first stack file that gives it one: [] when none does."""
    return [
        (stack, name)
        for stack, service in STACK_SERVICES
        if service == contract.key
        for name, _ in stack_settings(stack).service(service).environment
        if name not in contract.setting_names
    ][:1]


@tiers.shared
def rendered(stack: str) -> Run:
    """The stack as its file configures it, run once per process under the recording mocks.

    Shared by every test of that stack: read it, never change it (copy.deepcopy first).
    """
    return run(stack_values(stack), secret_keys=stack_secret_keys(stack), stack=stack)


def run_as(stack: str, values: dict[str, Any]) -> Run:
    """A changed copy of a stack's config (from stack_values), run as that stack with its secret keys."""
    return run(values, secret_keys=stack_secret_keys(stack), stack=stack)


def with_exception(values: dict[str, Any], service: str, exception: str, reason: str = "a test's reason"):
    """A copy of a stack's config in which `service` relaxes `exception` (core/settings/exception_names.py)."""
    changed = copy.deepcopy(values)
    changed["hokusai:services"][service].setdefault("exceptions", {})[exception] = reason
    return changed


def without_exception(values: dict[str, Any], service: str, exception: str) -> dict[str, Any]:
    changed = copy.deepcopy(values)
    (changed["hokusai:services"][service].get("exceptions") or {}).pop(exception, None)
    return changed


def service_output(run_: Run, service: str) -> dict[str, Any]:
    """One service's entry of the rendered `estate` output."""
    (found,) = [s for s in run_.outputs["services"] if s["key"] == service]
    return found


def secret_arn(run_: Run, source) -> str:
    """The ARN of the secret a SecretSource names in a rendered stack: the adopted one the world
    holds, or the one the program declares."""
    if source.mode.value == "existing":
        found = run_.mocks.world.find_secret(source.name_or_arn)
        assert found is not None, f"{source.name_or_arn} is not in the pretend account"
        return found[1]
    (declared,) = [
        r for r in by_type(run_, "aws:secretsmanager/secret:Secret") if r.inputs.get("name") == source.name_or_arn
    ]
    return declared.outputs["arn"]


def task_definition(run_: Run, service: str):
    family = service_output(run_, service)["task_family"]
    (task,) = [r for r in by_type(run_, "aws:ecs/taskDefinition:TaskDefinition") if r.inputs["family"] == family]
    return task


def ecs_service(run_: Run, service: str):
    name = service_output(run_, service)["service_name"]
    (found,) = [r for r in by_type(run_, "aws:ecs/service:Service") if r.inputs["name"] == name]
    return found


def of_service(run_: Run, service: str, type_: str) -> list:
    """The resources of one type that one service's component created (its children are named `<key>-...`).

    A service that is another's dependency (mlflow) shares its name with that dependency's access
    component, whose rules are `<key>-from-<consumer>[-egress]`: those are not the service's. Its own
    rule admitting the load balancer is `<key>-from-alb-<n>`."""
    not_its_own = re.compile(rf"^{re.escape(service)}-from-(?!alb-\d+$)")
    return [r for r in by_type(run_, type_) if r.name.startswith(f"{service}-") and not not_its_own.match(r.name)]


def service_config(contract: ServiceContract, stack: str, values: dict[str, Any], priority: int) -> dict[str, Any]:
    """A valid `services.<key>` entry for a contract, built from the contract alone: its
    conventional secret names, a placeholder for each plain setting, one route."""
    account = values.get("hokusai:account_id", "123456789012")
    region = values.get("aws:region", REGION)
    return {
        "image": pinned_image(f"hokusai/{contract.key}", account, region),
        "cpu": 256,
        "memory": 512,
        "desired_count": 1,
        "routes": [{"priority": priority, "paths": [f"/{contract.key}/*"]}],
        "environment": {
            s.env_var: (
                f"s3://{stack}-{contract.key}-placeholder/{contract.key}"
                if s.env_var in {access.env_var for access in contract.s3_access}
                else f"{s.env_var.lower()}-placeholder"
            )
            for s in contract.settings
            if not s.derived_from
        },
        "secrets": {
            s.env_var: {"existing": s.secret_name_for(stack)}
            | ({"json_key": s.default_json_key} if s.default_json_key else {})
            for s in contract.secrets
        },
    }


def with_services(values: dict[str, Any], keys: list[str], stack: str = "development") -> dict[str, Any]:
    """Adds a service for each contract key in `keys` the config does not deploy yet, as
    `service_config` builds it, and keeps the dependencies consistent with them: a dependency
    named like an added service is that service now (the stack no longer declares it), and each
    dependency an added service reaches that the stack neither declares nor runs is declared
    (`dependency_config`). Works on a stack file's `config` mapping as well as on `values`."""
    services = values["hokusai:services"]
    priorities = [route["priority"] for service in services.values() for route in service.get("routes", [])]
    next_priority = max(priorities, default=0) + 10
    added = [key for key in keys if key not in services]
    for key in added:
        services[key] = service_config(CONTRACTS[key], stack, values, next_priority)
        next_priority += 10
    dependencies = values.setdefault("hokusai:dependencies", {})
    for key in added:
        dependencies.pop(key, None)
    for key in added:
        for requirement in CONTRACTS[key].dependencies:
            if requirement.dependency not in dependencies and requirement.dependency not in services:
                dependencies[requirement.dependency] = dependency_config(requirement, stack)
    return values


def with_every_contract(values: dict[str, Any], stack: str = "development") -> dict[str, Any]:
    """Adds a service for every contract entry the config does not deploy yet (see with_services)."""
    return with_services(values, list(CONTRACTS), stack)


def dependency_config(requirement: DependencyRequirement, stack: str) -> dict[str, Any]:
    """A valid `dependencies.<name>` entry offering what `requirement` reads, built from it alone:
    placeholders, and a security group (a made-up id) unless it is reached over HTTPS."""
    name = requirement.dependency
    port = DEFAULT_PORTS.get(name, HTTPS_PORT)
    placeholders: dict[DependencyAttribute, Any] = {
        DependencyAttribute.HOST: f"{name}.{stack}.internal",
        DependencyAttribute.PORT: port,
        DependencyAttribute.TLS: True,
        DependencyAttribute.DATABASE: f"{name}_db",
        DependencyAttribute.USER: name,
        DependencyAttribute.URL: f"https://{name}.{stack}.internal" + ("" if port == HTTPS_PORT else f":{port}"),
    }
    config = {attribute.value: placeholders[attribute] for _, attribute in requirement.settings}
    if port != HTTPS_PORT:
        config.update(port=port, security_group_id="sg-" + hashlib.sha256(name.encode()).hexdigest()[:17])
    return config


# --------------------------------------------------------------------------- #
# An application's .env.example that matches a contract
# --------------------------------------------------------------------------- #

# A copy of the API application's .env.example, in its real syntax (quotes, `export`,
# comments, commented optionals); written to match the api contract.
ENV_EXAMPLE_FIXTURE = Path(__file__).resolve().parent / "ops" / "fixtures" / "api.env.example"
_ASSIGNMENT = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=")


def env_example_matching(contract: ServiceContract, base: Path | None = ENV_EXAMPLE_FIXTURE) -> str:
    """`base` (the fixture) kept matching `contract` as it is today: a line for each variable the
    contract provides or lists as not provided that `base` lacks, and no active line for one the
    contract no longer knows. So a secret or setting added to the contract needs no fixture edit."""
    expected = [*contract.secret_names, *contract.setting_names, *(e.env_var for e in contract.not_provided)]
    lines = base.read_text().splitlines() if base is not None else []
    kept = [line for line in lines if not ((m := _ASSIGNMENT.match(line)) and m.group(1) not in expected)]
    present = {m.group(1) for line in kept if (m := _ASSIGNMENT.match(line))}
    added = [f"{name}=placeholder" for name in expected if name not in present]
    if added and kept:
        kept += ["", "# ===== Added to the contract since this file was written ====="]
    kept += added
    return "\n".join(kept) + "\n"


# --------------------------------------------------------------------------- #
# Two renderings that must be the same graph
# --------------------------------------------------------------------------- #


def same_graph_problems(original: Any, back: Any, path: str = "") -> list[str]:
    """Where `back` differs from the rendering `original`. A string may differ only as the same JSON
    document written with its keys sorted (as the readable snapshot reads back: core/embedded_json.py)."""
    if isinstance(original, dict) and isinstance(back, dict):
        if original.keys() != back.keys():
            return [f"{path}: keys {sorted(original)} != {sorted(back)}"]
        return [p for key in original for p in same_graph_problems(original[key], back[key], f"{path}.{key}")]
    if isinstance(original, list) and isinstance(back, list):
        if len(original) != len(back):
            return [f"{path}: {len(original)} items != {len(back)}"]
        return [
            p
            for i, (a, b) in enumerate(zip(original, back, strict=True))
            for p in same_graph_problems(a, b, f"{path}[{i}]")
        ]
    if type(original) is type(back) and original == back:
        return []
    if (
        isinstance(original, str)
        and embedded_document(original) is not None
        and back == json.dumps(json.loads(original), sort_keys=True)
    ):
        return []
    return [f"{path}: {original!r} != {back!r}"]
