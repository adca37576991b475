"""Where the development stack follows the live estate: each value, bound to its record entry.

Every value of the development stack file, the contract and the program that names
something the live estate has (an account, a subnet, a secret, a container, a rule) is
bound here to the entry of the record that shows it (core/live_estate.py, by `lookup`
path), with how the two relate:

  equals       the stack's value is the live one;
  one of       the stack's value is one of the live values (a repository of two);
  includes     the stack's value is a collection that has the live one (the paths a service may
               write, the TLS policies the program adopts a listener with);
  differs      a deliberate difference the record explains (`Difference`, by subject);
  placeholder  the live value is unknown (`Placeholder`): the stack's stands in until
               the record has it, and the record says how to find it before cutover.

The table is the one place this is written: tests/test_estate_fidelity.py checks every
binding against the stack file, the contract and the record, and that nothing the record
knows about the stack's services is left unbound (`required_record_paths`); docs/ESTATE.md
renders it ("Where the stack follows the estate"), so each value cites its source through
the record; infra/existing.py names a placeholder's entry when its lookup fails.

Where a value lives (`Where.source`):
  stack     a key of Pulumi.<stack>.yaml, as `pulumi config` names it (hokusai:network.vpc_id,
            hokusai:services.api.routes[0].priority);
  contract  an attribute of a service's contract (api.container_name,
            api.secrets.DB_PASSWORD.default_secret_name, formatted for the stack);
  settings  what the settings loader derives from the stack (services.api.log_group_name,
            services.api.environment.DNS_CACHE_TTL, cluster_name);
  program   a constant of the pure core the components use (core.service_discovery.RECORD_TTL_SECONDS).

Pure: no Pulumi, no boto3.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, fields, is_dataclass
from enum import StrEnum
from typing import Any

from core.contract import CONTRACTS
from core.live_estate import LIVE, Difference, Fact, LiveEstate, Placeholder, SecretReference, lookup
from core.settings import Settings

# The stack the record describes: the live estate is the development estate.
STACK = "development"
# The service whose code the record's `application` section reads (src/api of the estate's repository).
APPLICATION_SERVICE = "api"


class Relation(StrEnum):
    EQUALS = "equals"
    ONE_OF = "one of"
    INCLUDES = "includes"
    DIFFERS = "differs"
    PLACEHOLDER = "placeholder"


class Source(StrEnum):
    STACK = "stack"
    CONTRACT = "contract"
    SETTINGS = "settings"
    PROGRAM = "program"


class Part(StrEnum):
    """Which part of the stack's value is bound (an image reference holds three facts)."""

    WHOLE = "whole"
    # <account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>
    IMAGE_REPOSITORY = "image repository"
    IMAGE_TAG = "image tag"


@dataclass(frozen=True)
class Where:
    source: Source
    path: str
    part: Part = Part.WHOLE

    def __str__(self) -> str:
        shown = {
            Source.STACK: f"Pulumi.{STACK}.yaml `{self.path}`",
            Source.CONTRACT: f"core/contract.py `{self.path}`",
            Source.SETTINGS: f"derived from the stack: `{self.path}`",
            Source.PROGRAM: f"`{self.path}`",
        }[self.source]
        return shown if self.part is Part.WHOLE else f"{shown} ({self.part.value})"


@dataclass(frozen=True)
class Binding:
    """One value of the stack and the record entry it follows."""

    where: Where
    # A record path (core.live_estate.lookup).
    record: str
    relation: Relation = Relation.EQUALS
    # With DIFFERS: the subject of the record's Difference that explains it.
    difference: str = ""
    # Why, when the binding is not obvious.
    note: str = ""


def _stack(path: str, part: Part = Part.WHOLE) -> Where:
    return Where(Source.STACK, path, part)


def _contract(path: str) -> Where:
    return Where(Source.CONTRACT, path)


def _settings(path: str) -> Where:
    return Where(Source.SETTINGS, path)


def _program(path: str) -> Where:
    return Where(Source.PROGRAM, path)


def _service(key: str, record_key: str | None = None) -> list[Binding]:
    """What every service of the stack shares with its live counterpart."""
    live = f"services.{record_key or key}"
    return [
        Binding(_settings(f"services.{key}.name"), f"{live}.service_name"),
        Binding(_settings(f"services.{key}.name"), f"{live}.task_family"),
        Binding(_contract(f"{key}.container_port"), f"{live}.container_port"),
        Binding(_stack(f"hokusai:services.{key}.cpu"), f"{live}.task_cpu"),
        Binding(_stack(f"hokusai:services.{key}.memory"), f"{live}.task_memory"),
        Binding(_settings(f"services.{key}.log_group_name"), f"{live}.log_group"),
        Binding(_program("core.documents.LOG_STREAM_PREFIX"), f"{live}.log_stream_prefix"),
        Binding(
            _stack("hokusai:log_retention_days"),
            f"{live}.log_retention_days",
            Relation.DIFFERS,
            difference="Log retention",
        ),
        Binding(_contract(f"{key}.health_check_path"), f"{live}.health_check.command_path"),
        Binding(_contract(f"{key}.container_port"), f"{live}.health_check.command_port"),
        Binding(_program("core.documents.CONTAINER_HEALTH_CHECK_INTERVAL_SECONDS"), f"{live}.health_check.interval"),
        Binding(_program("core.documents.CONTAINER_HEALTH_CHECK_TIMEOUT_SECONDS"), f"{live}.health_check.timeout"),
        Binding(_program("core.documents.CONTAINER_HEALTH_CHECK_RETRIES"), f"{live}.health_check.retries"),
        Binding(
            _program("core.documents.CONTAINER_HEALTH_CHECK_START_PERIOD_SECONDS"), f"{live}.health_check.start_period"
        ),
        Binding(
            _stack(f"hokusai:services.{key}.health_check_grace_seconds"),
            f"{live}.health_check_grace_seconds",
            Relation.PLACEHOLDER,
        ),
        Binding(_settings(f"services.{key}.key"), f"{live}.cloud_map_service"),
        Binding(_settings(f"services.{key}.key"), f"cloud_map.services.{record_key or key}.name"),
        # Both live images run as root: the development stack keeps their user (exceptions.run_as_root)
        # until they add one; the record's Difference "Container user and root filesystem" says why.
        Binding(_settings(f"services.{key}.runs_as_image_user"), "application.runs_as_root"),
    ]


def _secret(service: str, env_var: str, *, json_key: bool) -> list[Binding]:
    """A secret the stack adopts, and the contract's convention for it, against the live reference."""
    live = f"services.{service}.secrets.{env_var}"
    bindings = [
        Binding(_stack(f"hokusai:services.{service}.secrets.{env_var}.existing"), f"{live}.secret_name"),
        Binding(_contract(f"{service}.secrets.{env_var}.default_secret_name"), f"{live}.secret_name"),
    ]
    if json_key:
        bindings += [
            Binding(_stack(f"hokusai:services.{service}.secrets.{env_var}.json_key"), f"{live}.json_key"),
            Binding(_contract(f"{service}.secrets.{env_var}.default_json_key"), f"{live}.json_key"),
        ]
    return bindings


def _development() -> tuple[Binding, ...]:
    api, mlflow = "services.api", "services.mlflow"
    registry = "load_balancers.registry"
    return (
        # -- the account and its network ------------------------------------------------
        Binding(_stack("hokusai:account_id"), "network.account_id"),
        Binding(_stack("aws:region"), "network.region"),
        Binding(_stack("hokusai:network.vpc_id"), "network.vpc_id"),
        Binding(_stack("hokusai:network.private_subnet_ids"), "network.private_subnets"),
        Binding(_settings("cluster_name"), "cluster.name"),
        # -- the load balancer: the registry ALB's HTTPS listener and its rules -----------------
        Binding(
            _stack("hokusai:load_balancer.listener_arn"),
            f"{registry}.https_listener_arn",
            Relation.PLACEHOLDER,
            note="an obviously made-up ARN (zeros) until the record has the live one",
        ),
        # The program adopts the listener only with a TLS policy of its allow-list (infra/existing.py):
        # the live one must be on it, or the cutover's first preview stops.
        Binding(_program("core.tls_policies.ALLOWED_TLS_POLICIES"), f"{registry}.https_ssl_policy", Relation.INCLUDES),
        Binding(_stack("hokusai:services.mlflow.routes[0].priority"), f"{registry}.https_rules[0].priority"),
        Binding(_stack("hokusai:services.mlflow.routes[0].paths"), f"{registry}.https_rules[0].paths"),
        Binding(_stack("hokusai:services.api.routes[0].priority"), f"{registry}.https_rules[1].priority"),
        Binding(_stack("hokusai:services.api.routes[0].paths"), f"{registry}.https_rules[1].paths"),
        Binding(_stack("hokusai:services.api.routes[1].priority"), f"{registry}.https_rules[2].priority"),
        Binding(_stack("hokusai:services.api.routes[1].paths"), f"{registry}.https_rules[2].paths"),
        Binding(_stack("hokusai:services.api.target_group_name"), "target_groups.api.name"),
        Binding(_stack("hokusai:services.mlflow.target_group_name"), "target_groups.mlflow.name"),
        Binding(_contract("api.health_check_path"), "target_groups.api.health_check_path"),
        Binding(_contract("mlflow.health_check_path"), "target_groups.mlflow.health_check_path", Relation.PLACEHOLDER),
        Binding(_program("core.target_group.HEALTH_CHECK_TIMEOUT_SECONDS"), "target_groups.api.health_check_timeout"),
        Binding(
            _program("core.target_group.HEALTH_CHECK_INTERVAL_SECONDS"),
            "target_groups.api.health_check_interval",
            Relation.DIFFERS,
            difference="Target group health checks",
        ),
        # -- Cloud Map ------------------------------------------------------------------------
        Binding(_settings("namespace_name"), "cloud_map.namespace"),
        Binding(_program("core.service_discovery.RECORD_TYPE"), "cloud_map.record_type"),
        Binding(_program("core.service_discovery.RECORD_TTL_SECONDS"), "cloud_map.record_ttl"),
        Binding(_program("core.service_discovery.ROUTING_POLICY"), "cloud_map.routing_policy"),
        Binding(_program("core.service_discovery.FAILURE_THRESHOLD"), "cloud_map.failure_threshold"),
        # -- what the services reach ------------------------------------------------------
        Binding(_stack("hokusai:dependencies.redis.host"), "redis.endpoint_host"),
        Binding(_stack("hokusai:dependencies.redis.port"), "redis.port"),
        Binding(_stack("hokusai:dependencies.redis.tls"), "redis.tls"),
        Binding(_stack("hokusai:dependencies.redis.security_group_id"), "security_groups.redis.id"),
        Binding(_stack("hokusai:dependencies.postgres.host"), "database.endpoint_host"),
        Binding(_stack("hokusai:dependencies.postgres.port"), "database.port"),
        Binding(_stack("hokusai:dependencies.postgres.database"), "database.database"),
        Binding(_stack("hokusai:dependencies.postgres.user"), "database.user"),
        Binding(_stack("hokusai:dependencies.postgres.security_group_id"), "security_groups.rds.id"),
        Binding(_stack("hokusai:dependencies.auth.url"), "auth_service.url"),
        # -- the API ----------------------------------------------------------------------------
        *_service("api"),
        Binding(
            _contract("api.container_name"),
            f"{api}.container_name",
            note="revision 92's dump; revision 151's is not shown (see the disagreement on the API container name)",
        ),
        Binding(
            _stack("hokusai:services.api.image"),
            f"{api}.image",
            Relation.DIFFERS,
            difference="The API image",
        ),
        Binding(
            _stack("hokusai:services.api.image", Part.IMAGE_REPOSITORY), "deploy.image_repositories", Relation.ONE_OF
        ),
        Binding(
            _stack("hokusai:services.api.image", Part.IMAGE_TAG),
            "deploy.api_image_tag",
            Relation.PLACEHOLDER,
            note="the incident fix's commit, standing in for the tag the application's CI deploys",
        ),
        Binding(_stack("hokusai:services.api.desired_count"), f"{api}.desired_count", Relation.DIFFERS, "Task count"),
        *_secret("api", "HUGGINGFACE_API_KEY", json_key=False),
        *_secret("api", "DB_PASSWORD", json_key=True),
        *_secret("api", "REDIS_AUTH_TOKEN", json_key=True),
        Binding(_settings("services.api.environment.ENVIRONMENT"), f"{api}.environment.ENVIRONMENT"),
        Binding(_settings("services.api.environment.API_PORT"), f"{api}.environment.API_PORT"),
        Binding(_settings("services.api.environment.AUTH_SERVICE_URL"), f"{api}.environment.AUTH_SERVICE_URL"),
        Binding(_settings("services.api.environment.MLFLOW_SERVER_URL"), f"{api}.environment.MLFLOW_SERVER_URL"),
        Binding(_settings("services.api.environment.MLFLOW_SERVER_URL"), "cloud_map.services.mlflow.address"),
        Binding(_settings("services.api.environment.REDIS_TLS_ENABLED"), f"{api}.environment.REDIS_TLS_ENABLED"),
        Binding(_stack("hokusai:services.api.environment.AUTH_SERVICE_ID"), "application.auth_service_id_default"),
        # Where the API writes its model downloads: the contract's writable paths must include it
        # (the rest of its root filesystem is read-only).
        Binding(_contract("api.writable_paths"), "application.model_download_dir", Relation.INCLUDES),
        Binding(
            _settings("services.api.environment.DNS_CACHE_TTL"),
            "application.dns_cache_ttl_seconds",
            Relation.DIFFERS,
            difference="The API's cache of MLflow's address",
        ),
        Binding(
            _settings("services.api.environment.HEALTH_CHECK_TIMEOUT"),
            "application.health_check_timeout_default",
            Relation.DIFFERS,
            difference="Dependency timeouts of the API's health check",
        ),
        Binding(
            _settings("services.api.environment.DATABASE_CONNECT_TIMEOUT"),
            "application.database_connect_timeout_default",
            Relation.DIFFERS,
            difference="Dependency timeouts of the API's health check",
        ),
        # -- MLflow -----------------------------------------------------------------------------
        *_service("mlflow"),
        Binding(_contract("mlflow.container_name"), f"{mlflow}.container_name"),
        Binding(_stack("hokusai:services.mlflow.image"), f"{mlflow}.image"),
        Binding(_stack("hokusai:services.mlflow.image", Part.IMAGE_TAG), "mlflow_server.version"),
        Binding(_stack("hokusai:services.mlflow.desired_count"), f"{mlflow}.desired_count"),
        Binding(_contract("mlflow.container_port"), "mlflow_server.port"),
        Binding(_contract("mlflow.health_check_path"), "mlflow_server.health_path"),
        Binding(
            _stack("hokusai:services.mlflow.secrets.BACKEND_STORE_URI.create"),
            f"{mlflow}.environment.BACKEND_STORE_URI",
            Relation.DIFFERS,
            difference="MLflow's backend store URI",
        ),
        Binding(_stack("hokusai:services.mlflow.environment.DEFAULT_ARTIFACT_ROOT"), "artifacts.intended_root"),
        Binding(
            _stack("hokusai:services.mlflow.environment.DEFAULT_ARTIFACT_ROOT"),
            f"{mlflow}.environment.DEFAULT_ARTIFACT_ROOT",
            Relation.PLACEHOLDER,
            note="the legacy Terraform's intent; the live container's value is not shown",
        ),
    )


# stack -> its bindings. Only the development stack has a live counterpart.
BINDINGS: Mapping[str, tuple[Binding, ...]] = {STACK: _development()}


# --------------------------------------------------------------------------- #
# Reading the stack's side
# --------------------------------------------------------------------------- #

_STEP = re.compile(r"([^.\[\]]+)((?:\[\d+\])*)")
_IMAGE = re.compile(r"^(?P<registry>[^/]+)/(?P<repository>[^:@]+)(?::(?P<tag>[^@]+))?(?:@.*)?$")


class Unresolved(LookupError):
    """A binding names a place in the stack, the contract or the program that does not exist."""


def our_value(where: Where, stack_values: Mapping[str, Any], settings: Settings) -> Any:
    """The stack's value at `where`; raises Unresolved naming the first step that is not there."""
    match where.source:
        case Source.STACK:
            value = _stack_value(where.path, stack_values)
        case Source.CONTRACT:
            value = _walk(CONTRACTS, where.path)
            if isinstance(value, str):
                value = value.format(environment=settings.environment)
        case Source.SETTINGS:
            value = _walk(settings, where.path)
        case Source.PROGRAM:
            value = _program_value(where.path)
    return _part(value, where.part, where)


def _stack_value(path: str, stack_values: Mapping[str, Any]) -> Any:
    namespace, _, rest = path.partition(":")
    top, _, inner = rest.partition(".")
    key = f"{namespace}:{top}"
    if key not in stack_values:
        raise Unresolved(f"{path}: the stack file sets no {key}")
    return _walk(stack_values[key], inner, path) if inner else stack_values[key]


def _program_value(path: str) -> Any:
    module_name, _, name = path.rpartition(".")
    if not module_name.startswith("core."):
        raise Unresolved(f"{path}: a program value is a constant of the pure core (core.<module>.<NAME>)")
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        raise Unresolved(f"{path}: no module {module_name}") from None
    if not hasattr(module, name):
        raise Unresolved(f"{path}: {module_name} has no {name}")
    return getattr(module, name)


def _walk(node: Any, path: str, shown: str | None = None) -> Any:
    """Follow `path` (dotted names, `[n]` indexes) through mappings, sequences, dataclasses and
    the settings' own lookups (a service or dependency by key, a setting by name)."""
    shown = shown or path
    for step in path.split(".") if path else ():
        match = _STEP.fullmatch(step)
        if not match:
            raise Unresolved(f"{shown}: {step!r} is not a step")
        name, indexes = match.groups()
        node = _child(node, name, shown)
        for index in re.findall(r"\[(\d+)\]", indexes):
            if not isinstance(node, Sequence) or isinstance(node, str) or int(index) >= len(node):
                raise Unresolved(f"{shown}: no item {index} of {name!r}")
            node = node[int(index)]
    return node


def _child(node: Any, name: str, shown: str) -> Any:
    if isinstance(node, Settings) and name in ("services", "dependencies"):
        return {item.key if name == "services" else item.name: item for item in getattr(node, name)}
    if isinstance(node, Mapping):
        if name not in node:
            raise Unresolved(f"{shown}: no {name!r} here")
        return node[name]
    if name == "environment" and isinstance(getattr(node, "environment", None), tuple):
        return dict(node.environment)
    if name == "secrets" and hasattr(node, "secret"):  # a contract's secrets, by variable
        return {s.env_var: s for s in node.secrets}
    if hasattr(node, "attribute") and name not in {f.name for f in fields(node)}:  # a dependency's attribute
        found = node.attribute(name)
        if found is None:
            raise Unresolved(f"{shown}: no {name!r} here")
        return found
    if (is_dataclass(node) or hasattr(type(node), name)) and hasattr(node, name):
        return getattr(node, name)
    raise Unresolved(f"{shown}: no {name!r} here")


def _part(value: Any, part: Part, where: Where) -> Any:
    if part is Part.WHOLE:
        return value
    match = _IMAGE.match(value) if isinstance(value, str) else None
    if not match:
        raise Unresolved(f"{where.path}: {value!r} is not an image reference")
    return match["repository"] if part is Part.IMAGE_REPOSITORY else (match["tag"] or "")


# --------------------------------------------------------------------------- #
# Checking
# --------------------------------------------------------------------------- #


def same(ours: Any, live: Any) -> bool:
    """Whether a stack value and a recorded one say the same: a list is a tuple, and a number or
    yes/no is the text a container gets ("6379", "true")."""
    ours, live = _comparable(ours), _comparable(live)
    if isinstance(ours, str) != isinstance(live, str):
        return _text(ours) == _text(live)
    return bool(ours == live)


def _comparable(value: Any) -> Any:
    return tuple(_comparable(v) for v in value) if isinstance(value, (list, tuple)) else value


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _differences(estate: LiveEstate) -> dict[str, Difference]:
    return {d.subject: d for d in estate.differences}


def check(
    bindings: Sequence[Binding],
    stack_values: Mapping[str, Any],
    settings: Settings,
    estate: LiveEstate | None = None,
) -> list[str]:
    """What is wrong with each binding: the stack's value and its record entry, as the relation says."""
    estate = LIVE if estate is None else estate
    differences = _differences(estate)
    problems = []
    for binding in bindings:
        where = f"{binding.where} -> {binding.record}"
        try:
            ours = our_value(binding.where, stack_values, settings)
        except Unresolved as error:
            problems.append(f"{where}: {error}")
            continue
        try:
            entry = record_entry(binding.record, estate)
        except KeyError as error:
            problems.append(f"{where}: the record has no such entry ({error.args[0]})")
            continue
        problem = _judge(binding, ours, entry, differences)
        if problem:
            problems.append(f"{where}: {problem}")
    return problems


def record_entry(path: str, estate: LiveEstate | None = None) -> Fact[Any] | Placeholder:
    """The Fact or Placeholder at a record path. A part of a secret reference (its secret's name,
    its JSON key) is read from the reference's `valueFrom` fact, so it carries that fact's sources."""
    estate = LIVE if estate is None else estate
    entry = lookup(path, estate)
    if isinstance(entry, Fact | Placeholder):
        return entry
    parent_path, _, part = path.rpartition(".")
    parent = lookup(parent_path, estate) if parent_path else None
    if isinstance(parent, SecretReference):
        return Fact(value=entry, sources=parent.value_from.sources, note=f"the {part} of its valueFrom")
    raise KeyError(f"{path}: a part of the record, not a fact or a placeholder")


def _judge(binding: Binding, ours: Any, entry: object, differences: Mapping[str, Difference]) -> str:
    relation = binding.relation
    if relation is Relation.PLACEHOLDER:
        if not isinstance(entry, Placeholder):
            return "the record knows this value now: bind it as equals (or differs, with its difference)"
        return ""
    if relation is Relation.DIFFERS:
        difference = differences.get(binding.difference)
        if difference is None:
            return f"no recorded difference {binding.difference!r} explains it"
        if binding.record not in difference.live_facts:
            return f"the difference {binding.difference!r} does not name {binding.record} among its live facts"
        if isinstance(entry, Fact) and same(ours, entry.value):
            return f"{ours!r} is the live value: the difference {binding.difference!r} no longer holds"
        return ""
    if not isinstance(entry, Fact):
        return "the record does not know this value (a placeholder): bind it as a placeholder"
    if relation is Relation.INCLUDES:
        if not isinstance(ours, Collection) or isinstance(ours, str) or not any(same(v, entry.value) for v in ours):
            return f"{ours!r} does not include the live value {entry.value!r}"
        return ""
    if relation is Relation.ONE_OF:
        if not isinstance(entry.value, tuple) or not any(same(ours, value) for value in entry.value):
            return f"{ours!r} is none of the live values {entry.value!r}"
        return ""
    if not same(ours, entry.value):
        return f"{ours!r} is not the live value {entry.value!r}"
    return ""


# --------------------------------------------------------------------------- #
# What must be bound
# --------------------------------------------------------------------------- #

_SERVICE_FACTS = (
    "service_name",
    "task_family",
    "container_name",
    "container_port",
    "image",
    "task_cpu",
    "task_memory",
    "log_group",
    "log_stream_prefix",
    "log_retention_days",
    "health_check.command_path",
    "health_check.command_port",
    "health_check.interval",
    "health_check.timeout",
    "health_check.retries",
    "health_check.start_period",
    "desired_count",
    "health_check_grace_seconds",
    "cloud_map_service",
)


def required_record_paths(settings: Settings, estate: LiveEstate | None = None) -> set[str]:
    """Every record entry about something the stack declares: each must have a binding.

    Read from both sides, so a service, secret or rule added to either is required at once:
    each service the record also knows, with its container, size, logs, health checks, Cloud
    Map name and target group; each secret both sides read (and its JSON key, when live had
    one); each plain setting both give the container; the network, cluster and Cloud Map; the
    dependencies the stack declares; the adopted listener and the live rules to its services.
    """
    estate = LIVE if estate is None else estate
    required = {
        "network.account_id",
        "network.region",
        "network.vpc_id",
        "network.private_subnets",
        "cluster.name",
        "cloud_map.namespace",
        "cloud_map.record_type",
        "cloud_map.record_ttl",
        "cloud_map.routing_policy",
        "cloud_map.failure_threshold",
    }
    dependencies = {d.name for d in settings.dependencies if d.service is None}
    if "redis" in dependencies:
        required |= {
            "redis.endpoint_host",
            "redis.port",
            "redis.tls",
            f"security_groups.{estate.redis.security_group}.id",
        }
    if "postgres" in dependencies:
        database = ("endpoint_host", "port", "database", "user")
        required |= {f"database.{name}" for name in database} | {f"security_groups.{estate.database.security_group}.id"}
    if "auth" in dependencies:
        required.add("auth_service.url")
    target_groups = set()
    for service in settings.services:
        live = estate.services.get(service.key)
        if live is None:
            continue
        base = f"services.{service.key}"
        required |= {f"{base}.{name}" for name in _SERVICE_FACTS}
        required.add("application.runs_as_root")
        if service.key == APPLICATION_SERVICE:
            required.add("application.model_download_dir")
        required |= {f"cloud_map.services.{service.key}.name"} if service.key in estate.cloud_map.services else set()
        required |= {f"target_groups.{live.target_group}.name", f"target_groups.{live.target_group}.health_check_path"}
        target_groups.add(live.target_group)
        for source in service.secrets:
            reference = live.secrets.get(source.env_var)
            if reference is None:
                continue
            required.add(f"{base}.secrets.{source.env_var}.secret_name")
            if reference.json_key:
                required.add(f"{base}.secrets.{source.env_var}.json_key")
        ours = {name for name, _ in service.environment} | {s.env_var for s in service.secrets}
        required |= {f"{base}.environment.{name}" for name in live.environment if name in ours}
    if settings.load_balancer.listener_arn:
        for key, balancer in estate.load_balancers.items():
            required |= {f"load_balancers.{key}.https_listener_arn", f"load_balancers.{key}.https_ssl_policy"}
            for index, rule in enumerate(balancer.https_rules):
                if rule.target_group in target_groups:
                    required |= {f"load_balancers.{key}.https_rules[{index}].{name}" for name in ("priority", "paths")}
    return required


def unbound(bindings: Sequence[Binding], settings: Settings, estate: LiveEstate | None = None) -> list[str]:
    """The required record entries no binding names, sorted."""
    bound = {binding.record for binding in bindings}
    return sorted(required_record_paths(settings, estate) - bound)


# --------------------------------------------------------------------------- #
# For the lookups and the docs
# --------------------------------------------------------------------------- #


def placeholder_for(stack: str, config_key: str, estate: LiveEstate | None = None) -> tuple[str, Placeholder] | None:
    """The record's placeholder a stack's config key stands in for (`hokusai:load_balancer.listener_arn`),
    with its record path; None when the key holds a value the record knows, or the stack has none."""
    estate = LIVE if estate is None else estate
    for binding in BINDINGS.get(stack, ()):
        if (
            binding.relation is Relation.PLACEHOLDER
            and binding.where.source is Source.STACK
            and binding.where.path == config_key
        ):
            entry = record_entry(binding.record, estate)
            if isinstance(entry, Placeholder):
                return binding.record, entry
    return None
