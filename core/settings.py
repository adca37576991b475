"""Stack settings: typed, frozen, validated, with every problem reported at once.

`load_settings` turns the raw stack configuration (the `hokusai:` keys of
`Pulumi.<stack>.yaml`, already parsed into Python values) into `Settings`.
It never raises anything but `SettingsError`, whatever it is given, and that
error lists every problem with the config key, what is wrong and how to fix it,
so a bad stack stops at `pulumi preview` before a single resource is created.

Pure: no Pulumi, no boto3 (infra/stack_config.py reads the values from Pulumi).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from core import naming
from core.arns import parse_arn
from core.contract import CONTRACTS, DerivedFrom, ServiceContract, looks_secret
from core.fargate import VALID_SIZES, describe_valid_memory, is_valid_size

NAMESPACE = naming.PROJECT

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

# --------------------------------------------------------------------------- #
# Settings
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class Route:
    """One ALB listener rule: requests matching any host AND any path go to the service."""

    priority: int
    hosts: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()


@dataclass(frozen=True)
class Autoscaling:
    min_count: int
    max_count: int
    cpu_target_percent: int


class SecretMode(StrEnum):
    """How the stack gets a secret; the value is also its config key
    (`secrets.<VAR>.existing` or `secrets.<VAR>.create`)."""

    # The secret exists already; the program looks it up by name or ARN, so
    # `pulumi preview` fails if it does not exist.
    EXISTING = "existing"
    # The program declares the secret; its value is either put out of band
    # (`aws secretsmanager put-secret-value`) or comes from the encrypted stack
    # config key `value_from`.
    CREATE = "create"


@dataclass(frozen=True)
class SecretSource:
    """Where one container secret's value lives (see SecretMode)."""

    env_var: str
    mode: SecretMode
    name_or_arn: str
    value_from: str | None = None

    @property
    def identity(self) -> str:
        """Two services naming the same secret share one lookup or one resource."""
        return self.name_or_arn


@dataclass(frozen=True)
class ServiceSettings:
    key: str
    contract: ServiceContract
    image: str
    cpu: int
    memory: int
    desired_count: int
    autoscaling: Autoscaling
    health_check_grace_seconds: int
    routes: tuple[Route, ...]
    # Plain settings supplied by config, plus the derived ones (see contract).
    environment: tuple[tuple[str, str], ...]
    secrets: tuple[SecretSource, ...]
    task_role_policy_arns: tuple[str, ...]
    # Physical names, derived once here so every component agrees.
    name: str
    log_group_name: str
    target_group_name: str

    @property
    def container_name(self) -> str:
        return self.contract.container_name

    @property
    def container_port(self) -> int:
        return self.contract.container_port

    @property
    def health_check_path(self) -> str:
        return self.contract.health_check_path


@dataclass(frozen=True)
class Network:
    vpc_id: str
    private_subnet_ids: tuple[str, ...]
    public_subnet_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class LoadBalancerSettings:
    """Either adopt an existing listener (`listener_arn`) or create the ALB."""

    listener_arn: str | None = None
    certificate_arn: str | None = None
    ssl_policy: str = "ELBSecurityPolicy-TLS13-1-2-2021-06"

    @property
    def creates_load_balancer(self) -> bool:
        return self.listener_arn is None


@dataclass(frozen=True)
class RedisSettings:
    security_group_id: str
    port: int = 6379
    # Consumers outside this stack (label -> their security group id).
    extra_consumers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class DeployGateSettings:
    enabled: bool = True
    timeout_seconds: int = 900


@dataclass(frozen=True)
class Settings:
    environment: str
    region: str
    account_id: str
    network: Network
    load_balancer: LoadBalancerSettings
    redis: RedisSettings | None
    services: tuple[ServiceSettings, ...]
    log_retention_days: int = 30
    alarm_emails: tuple[str, ...] = ()
    secrets_kms_key_arn: str | None = None
    deploy_gate: DeployGateSettings = field(default_factory=DeployGateSettings)
    tags: tuple[tuple[str, str], ...] = ()

    @property
    def cluster_name(self) -> str:
        return naming.cluster_name(self.environment)

    @property
    def resource_tags(self) -> dict[str, str]:
        """Tags on every taggable resource: who owns it and that Pulumi manages it
        (so nobody "fixes" it by hand, which is how the old estate drifted)."""
        return {
            "project": naming.PROJECT,
            "environment": self.environment,
            "managed-by": "pulumi",
            **dict(self.tags),
        }

    def service(self, key: str) -> ServiceSettings:
        for service in self.services:
            if service.key == key:
                return service
        raise KeyError(key)

    @property
    def secret_sources(self) -> tuple[SecretSource, ...]:
        """Every distinct secret the stack references, in first-seen order."""
        seen: dict[str, SecretSource] = {}
        for service in self.services:
            for source in service.secrets:
                seen.setdefault(source.identity, source)
        return tuple(seen.values())


# --------------------------------------------------------------------------- #
# Errors
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class Problem:
    key: str  # config key path, e.g. "hokusai:services.api.cpu"
    what: str
    fix: str

    def __str__(self) -> str:
        return f"{self.key}: {self.what}\n      fix: {self.fix}"


class SettingsError(Exception):
    def __init__(self, stack: str, problems: Iterable[Problem]):
        self.stack = stack
        self.problems = tuple(problems)
        super().__init__(str(self))

    def __str__(self) -> str:
        count = len(self.problems)
        head = f"stack '{self.stack}' has {count} configuration problem{'s' if count != 1 else ''}:"
        return "\n".join([head] + [f"  - {p}" for p in self.problems])


# --------------------------------------------------------------------------- #
# Reading raw values: every reader records a Problem and returns None instead
# of raising, so one pass reports everything.
# --------------------------------------------------------------------------- #

_MISSING = object()
_VPC = re.compile(r"^vpc-[0-9a-f]{8}([0-9a-f]{9})?$")
_SUBNET = re.compile(r"^subnet-[0-9a-f]{8}([0-9a-f]{9})?$")
_SG = re.compile(r"^sg-[0-9a-f]{8}([0-9a-f]{9})?$")
_ACCOUNT = re.compile(r"^\d{12}$")
_REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
_STACK = re.compile(r"^[a-z][a-z0-9-]{0,23}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SECRET_NAME = re.compile(r"^[A-Za-z0-9/_+=.@-]{1,512}$")
_CONFIG_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_HOST = re.compile(r"^[A-Za-z0-9*?.-]{1,128}$")
_PATH = re.compile(r"^/[A-Za-z0-9_\-.$/~\"'@:+*?&]{0,127}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_IMAGE = re.compile(r"^[a-z0-9][a-z0-9._/:-]*[a-z0-9](:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[0-9a-f]{64})$")
_URL_WITH_PASSWORD = re.compile(r"://[^/@\s:]*:[^/@\s]+@")
_SERVICE_KEY = re.compile(r"^[a-z][a-z0-9]{0,15}$")

# ALB: at most 5 condition values per rule; priorities 1..50000.
_MAX_RULE_VALUES = 5


class _Reader:
    def __init__(self, namespace: str):
        self.namespace = namespace
        self.problems: list[Problem] = []

    def key(self, path: str) -> str:
        return f"{self.namespace}:{path}"

    def problem(self, path: str, what: str, fix: str) -> None:
        self.problems.append(Problem(self.key(path), what, fix))

    # -- containers ---------------------------------------------------------

    def mapping(
        self, value: Any, path: str, allowed: Iterable[str] | None = None, example: str = ""
    ) -> dict[str, Any] | None:
        if value is _MISSING or value is None:
            return {}
        if not isinstance(value, Mapping):
            self.problem(
                path, f"must be a mapping, got {_kind(value)}", f"write it as a YAML mapping of keys to values{example}"
            )
            return None
        result: dict[str, Any] = {}
        for raw_key, raw_value in value.items():
            if not isinstance(raw_key, str):
                self.problem(path, f"has a non-text key {raw_key!r}", "quote the key")
                continue
            result[raw_key] = raw_value
        if allowed is not None:
            self.reject_unknown(result, path, allowed)
        return result

    def reject_unknown(self, values: Mapping[str, Any], path: str, allowed: Iterable[str]) -> None:
        allowed = sorted(allowed)
        for name in values:
            if name in allowed:
                continue
            close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'?" if close else "known keys: " + ", ".join(allowed)
            self.problem(_join(path, name), "is not a known setting", f"remove it or rename it; {hint}")

    def list_of(
        self, value: Any, path: str, item: Callable[[Any, str], Any], required: bool = False, fix: str = ""
    ) -> tuple[Any, ...] | None:
        if value is _MISSING or value is None:
            if required:
                self.problem(path, "is required", fix or "set it to a list")
                return None
            return ()
        if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
            self.problem(path, f"must be a list, got {_kind(value)}", fix or "write it as a YAML list")
            return None
        items = [item(v, f"{path}[{i}]") for i, v in enumerate(value)]
        if any(i is None for i in items):
            return None
        return tuple(items)

    # -- scalars ------------------------------------------------------------

    def text(
        self,
        value: Any,
        path: str,
        *,
        required: bool = True,
        default: str | None = None,
        pattern: re.Pattern[str] | None = None,
        shape: str = "",
        fix: str = "",
    ) -> str | None:
        if value is _MISSING or value is None or value == "":
            if required:
                self.problem(path, "is required but not set", fix or f"set it{_shape(shape)}")
            return default
        if not isinstance(value, str):
            self.problem(path, f"must be text, got {_kind(value)}", fix or f"quote the value{_shape(shape)}")
            return None
        if pattern is not None and not pattern.match(value):
            self.problem(path, f"{value!r} is not {shape or 'valid'}", fix or f"use{_shape(shape)}")
            return None
        return value

    def integer(
        self, value: Any, path: str, *, default: int | None = None, low: int, high: int, fix: str = ""
    ) -> int | None:
        if value is _MISSING or value is None:
            if default is None:
                self.problem(path, "is required but not set", fix or f"set a whole number from {low} to {high}")
            return default
        # YAML gives "512" for a quoted number and pulumi config values are text.
        if isinstance(value, str) and re.fullmatch(r"-?\d{1,12}", value.strip()):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(
                path, f"must be a whole number, got {_kind(value)}", fix or f"use a whole number from {low} to {high}"
            )
            return None
        if not low <= value <= high:
            self.problem(path, f"{value} is out of range", fix or f"use a whole number from {low} to {high}")
            return None
        return value

    def boolean(self, value: Any, path: str, *, default: bool) -> bool | None:
        if value is _MISSING or value is None:
            return default
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if not isinstance(value, bool):
            self.problem(path, f"must be true or false, got {_kind(value)}", "use true or false")
            return None
        return value

    def arn(
        self,
        value: Any,
        path: str,
        *,
        service: str,
        resource_prefix: str,
        what: str,
        region: str | None,
        account: str | None,
        required: bool = True,
    ) -> str | None:
        text = self.text(value, path, required=required, shape=f"the ARN of {what}")
        if text is None:
            return None
        arn = parse_arn(text)
        example = f"arn:aws:{service}:<region>:<account>:{resource_prefix}..."
        if arn is None or arn.service != service or not arn.resource.startswith(resource_prefix):
            self.problem(path, f"{text!r} is not the ARN of {what}", f"use an ARN shaped like {example}")
            return None
        if region and arn.region and arn.region != region:
            self.problem(
                path,
                f"is in region {arn.region} but the stack deploys to {region} (aws:region)",
                f"use {what} in {region}, or fix aws:region",
            )
        if account and arn.account and arn.account != account:
            self.problem(
                path,
                f"belongs to account {arn.account} but the stack is for account {account} ({self.key('account_id')})",
                f"use {what} from account {account}, or fix {self.key('account_id')}",
            )
        return text


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"the boolean {value!r}"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the text {value[:40]!r}"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    return type(value).__name__


def _shape(shape: str) -> str:
    return f" to {shape}" if shape else ""


# --------------------------------------------------------------------------- #
# The loader
# --------------------------------------------------------------------------- #

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
    reader = _Reader(NAMESPACE)
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
        top.get("account_id", _MISSING),
        "account_id",
        pattern=_ACCOUNT,
        shape="a 12-digit AWS account id",
        fix="pulumi config set account_id <12-digit account id of this stack>",
    )
    network = _network(reader, top.get("network", _MISSING))
    load_balancer = _load_balancer(reader, top.get("load_balancer", _MISSING), region_name, account)
    if load_balancer and load_balancer.creates_load_balancer and network and len(network.public_subnet_ids) < 2:
        reader.problem(
            "network.public_subnet_ids",
            "needs at least two public subnets when the program creates the load balancer",
            "list two or more public subnets in different availability zones, "
            "or set load_balancer.listener_arn to use an existing ALB",
        )
    redis = _redis(reader, top.get("redis", _MISSING))
    kms_key = reader.arn(
        top.get("secrets_kms_key_arn", _MISSING),
        "secrets_kms_key_arn",
        service="kms",
        resource_prefix="key/",
        what="a KMS key",
        region=region_name,
        account=account,
        required=False,
    )
    services = _services(
        reader, top.get("services", _MISSING), stack_name, region_name, account, network, secret_config_keys
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
        top.get("log_retention_days", _MISSING), "log_retention_days", default=30, low=1, high=3653
    )
    if retention is not None and retention not in LOG_RETENTION_DAYS:
        reader.problem(
            "log_retention_days",
            f"{retention} is not a retention CloudWatch Logs accepts",
            "use one of " + ", ".join(map(str, LOG_RETENTION_DAYS)),
        )
    emails = reader.list_of(
        top.get("alarm_emails", _MISSING),
        "alarm_emails",
        lambda v, p: reader.text(v, p, pattern=_EMAIL, shape="an e-mail address"),
    )
    gate = _deploy_gate(reader, top.get("deploy_gate", _MISSING))
    tags = _tags(reader, top.get("tags", _MISSING))

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


def _network(reader: _Reader, raw: Any) -> Network | None:
    values = reader.mapping(raw, "network", allowed=("vpc_id", "private_subnet_ids", "public_subnet_ids"))
    if values is None:
        return None
    vpc = reader.text(
        values.get("vpc_id", _MISSING),
        "network.vpc_id",
        pattern=_VPC,
        shape="a VPC id (vpc-...)",
        fix="set network.vpc_id to the id of the estate's VPC (vpc-...)",
    )

    def subnet(v: Any, p: str) -> str | None:
        return reader.text(v, p, pattern=_SUBNET, shape="a subnet id (subnet-...)")

    private = reader.list_of(
        values.get("private_subnet_ids", _MISSING),
        "network.private_subnet_ids",
        subnet,
        required=True,
        fix="list the private subnets the tasks run in (subnet-...)",
    )
    public = reader.list_of(values.get("public_subnet_ids", _MISSING), "network.public_subnet_ids", subnet)
    if private is not None and len(private) == 0:
        reader.problem("network.private_subnet_ids", "is empty", "list at least one private subnet (subnet-...)")
    for path, ids in (("network.private_subnet_ids", private), ("network.public_subnet_ids", public)):
        if ids and len(set(ids)) != len(ids):
            reader.problem(path, "lists a subnet twice", "list each subnet once")
    if vpc is None or private is None or public is None:
        return None
    return Network(vpc_id=vpc, private_subnet_ids=private, public_subnet_ids=public)


def _load_balancer(reader: _Reader, raw: Any, region: str | None, account: str | None) -> LoadBalancerSettings | None:
    values = reader.mapping(raw, "load_balancer", allowed=("listener_arn", "create", "certificate_arn", "ssl_policy"))
    if values is None:
        return None
    create = reader.boolean(values.get("create", _MISSING), "load_balancer.create", default=False)
    has_listener = values.get("listener_arn") not in (None, "")
    if create is None:
        return None
    if create == has_listener:
        reader.problem(
            "load_balancer",
            "must either name an existing listener or ask for a new load balancer, not "
            + ("both" if create else "neither"),
            "set load_balancer.listener_arn to the existing ALB listener's ARN, "
            "or set load_balancer.create: true (with network.public_subnet_ids)",
        )
        return None
    listener = None
    if has_listener:
        listener = reader.arn(
            values.get("listener_arn"),
            "load_balancer.listener_arn",
            service="elasticloadbalancing",
            resource_prefix="listener/app/",
            what="an Application Load Balancer listener",
            region=region,
            account=account,
        )
        for extra in ("certificate_arn", "ssl_policy"):
            if extra in values:
                reader.problem(
                    f"load_balancer.{extra}",
                    "only applies when the program creates the load balancer",
                    "remove it: the existing listener keeps its own certificate and TLS policy",
                )
    certificate = (
        reader.arn(
            values.get("certificate_arn", _MISSING),
            "load_balancer.certificate_arn",
            service="acm",
            resource_prefix="certificate/",
            what="an ACM certificate",
            region=region,
            account=account,
            required=False,
        )
        if create
        else None
    )
    ssl_policy = reader.text(
        values.get("ssl_policy", _MISSING),
        "load_balancer.ssl_policy",
        required=False,
        default=LoadBalancerSettings.ssl_policy,
        pattern=re.compile(r"^ELBSecurityPolicy-[A-Za-z0-9-]+$"),
        shape="an ELB security policy name",
    )
    if has_listener and listener is None:
        return None
    return LoadBalancerSettings(
        listener_arn=listener, certificate_arn=certificate, ssl_policy=ssl_policy or LoadBalancerSettings.ssl_policy
    )


def _redis(reader: _Reader, raw: Any) -> RedisSettings | None:
    if raw is _MISSING or raw is None:
        return None
    values = reader.mapping(raw, "redis", allowed=("security_group_id", "port", "extra_consumers"))
    if values is None:
        return None
    sg = reader.text(
        values.get("security_group_id", _MISSING),
        "redis.security_group_id",
        pattern=_SG,
        shape="a security group id (sg-...)",
    )
    port = reader.integer(values.get("port", _MISSING), "redis.port", default=6379, low=1, high=65535)
    consumers_raw = reader.mapping(values.get("extra_consumers", _MISSING), "redis.extra_consumers")
    consumers: list[tuple[str, str]] = []
    for label, group in (consumers_raw or {}).items():
        path = f"redis.extra_consumers.{label}"
        if not re.match(r"^[a-z][a-z0-9-]{0,40}$", label):
            reader.problem(
                path,
                f"label {label!r} cannot be used in a resource name",
                "use lower-case letters, digits and dashes, e.g. data-pipeline-ecs",
            )
            continue
        group_id = reader.text(group, path, pattern=_SG, shape="a security group id (sg-...)")
        if group_id:
            consumers.append((label, group_id))
    if sg is None or port is None or consumers_raw is None:
        return None
    return RedisSettings(security_group_id=sg, port=port, extra_consumers=tuple(sorted(consumers)))


def _deploy_gate(reader: _Reader, raw: Any) -> DeployGateSettings | None:
    values = reader.mapping(raw, "deploy_gate", allowed=("enabled", "timeout_seconds"))
    if values is None:
        return None
    enabled = reader.boolean(values.get("enabled", _MISSING), "deploy_gate.enabled", default=True)
    timeout = reader.integer(
        values.get("timeout_seconds", _MISSING), "deploy_gate.timeout_seconds", default=900, low=60, high=3600
    )
    if enabled is None or timeout is None:
        return None
    return DeployGateSettings(enabled=enabled, timeout_seconds=timeout)


def _tags(reader: _Reader, raw: Any) -> tuple[tuple[str, str], ...] | None:
    values = reader.mapping(raw, "tags")
    if values is None:
        return None
    tags = []
    for name, value in values.items():
        path = f"tags.{name}"
        if name.lower().startswith("aws:") or not 1 <= len(name) <= 128:
            reader.problem(path, "is not a tag key AWS accepts", "use 1-128 characters not starting with aws:")
            continue
        text = reader.text(value, path, required=False, default="")
        if text is not None and len(text) > 256:
            reader.problem(path, "is longer than 256 characters", "shorten the tag value")
            continue
        if text is not None:
            tags.append((name, text))
    return tuple(sorted(tags))


def _services(
    reader: _Reader,
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
    _check_routes_across_services(reader, services)
    _check_secrets_across_services(reader, services)
    return None if failed else tuple(services)


def _service(
    reader: _Reader,
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
        values.get("image", _MISSING),
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
        values.get("cpu", _MISSING),
        f"{base}.cpu",
        default=512,
        low=256,
        high=16384,
        fix="use one of " + ", ".join(map(str, VALID_SIZES)),
    )
    memory = reader.integer(values.get("memory", _MISSING), f"{base}.memory", default=1024, low=512, high=122880)
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

    desired = reader.integer(values.get("desired_count", _MISSING), f"{base}.desired_count", default=2, low=1, high=100)
    autoscaling = _autoscaling(reader, values.get("autoscaling", _MISSING), f"{base}.autoscaling", desired)
    grace = reader.integer(
        values.get("health_check_grace_seconds", _MISSING),
        f"{base}.health_check_grace_seconds",
        default=60,
        low=0,
        high=1800,
    )
    routes = reader.list_of(
        values.get("routes", _MISSING),
        f"{base}.routes",
        lambda v, p: _route(reader, v, p),
        required=True,
        fix=f"route traffic to the service, e.g. {base}.routes: [{{priority: 100, hosts: [api.hokus.ai]}}]",
    )
    if routes is not None and not routes:
        reader.problem(f"{base}.routes", "is empty", "add at least one route (priority plus hosts and/or paths)")
    environment = _environment(reader, contract, values.get("environment", _MISSING), f"{base}.environment", stack)
    secrets = _secrets(
        reader, contract, values.get("secrets", _MISSING), f"{base}.secrets", stack, region, account, secret_config_keys
    )
    if environment is not None and secrets is not None:
        for name in sorted(set(dict(environment)) & {s.env_var for s in secrets}):
            reader.problem(
                f"{base}.environment.{name}",
                "is declared both as a plain setting and as a secret",
                f"remove {base}.environment.{name}: it is a secret",
            )
    policies = reader.list_of(
        values.get("task_role_policy_arns", _MISSING),
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


def _autoscaling(reader: _Reader, raw: Any, path: str, desired: int | None) -> Autoscaling | None:
    values = reader.mapping(raw, path, allowed=("min", "max", "cpu_target_percent"))
    if values is None:
        return None
    default_min = desired or 1
    low = reader.integer(values.get("min", _MISSING), f"{path}.min", default=default_min, low=1, high=100)
    high = reader.integer(values.get("max", _MISSING), f"{path}.max", default=max(default_min * 2, 2), low=1, high=100)
    target = reader.integer(
        values.get("cpu_target_percent", _MISSING), f"{path}.cpu_target_percent", default=60, low=10, high=90
    )
    if low is None or high is None or target is None:
        return None
    if low > high:
        reader.problem(path, f"min {low} is above max {high}", "make min <= max")
        return None
    if desired is not None and not low <= desired <= high:
        reader.problem(
            path, f"desired_count {desired} is outside min {low} .. max {high}", "make min <= desired_count <= max"
        )
        return None
    return Autoscaling(min_count=low, max_count=high, cpu_target_percent=target)


def _route(reader: _Reader, raw: Any, path: str) -> Route | None:
    values = reader.mapping(raw, path, allowed=("priority", "hosts", "paths"))
    if values is None:
        return None
    priority = reader.integer(
        values.get("priority", _MISSING),
        f"{path}.priority",
        low=1,
        high=50000,
        fix="give the rule a unique priority from 1 to 50000 (lower wins)",
    )
    hosts = reader.list_of(
        values.get("hosts", _MISSING),
        f"{path}.hosts",
        lambda v, p: reader.text(v, p, pattern=_HOST, shape="a host name such as api.hokus.ai"),
    )
    paths = reader.list_of(
        values.get("paths", _MISSING),
        f"{path}.paths",
        lambda v, p: reader.text(v, p, pattern=_PATH, shape="a path pattern starting with /"),
    )
    if hosts is None or paths is None or priority is None:
        return None
    if not hosts and not paths:
        reader.problem(path, "matches nothing: it has neither hosts nor paths", "add hosts and/or paths")
        return None
    if len(hosts) + len(paths) > _MAX_RULE_VALUES:
        reader.problem(
            path,
            f"has {len(hosts) + len(paths)} host and path values; an ALB rule takes at most {_MAX_RULE_VALUES}",
            "split it into several routes with their own priorities",
        )
        return None
    return Route(priority=priority, hosts=hosts, paths=paths)


def _environment(
    reader: _Reader, contract: ServiceContract, raw: Any, path: str, stack: str
) -> tuple[tuple[str, str], ...] | None:
    values = reader.mapping(raw, path)
    if values is None:
        return None
    derived = {
        DerivedFrom.ENVIRONMENT: stack,
        DerivedFrom.CONTAINER_PORT: str(contract.container_port),
    }
    result: dict[str, str] = {}
    ok = True
    for name, value in values.items():
        where = f"{path}.{name}"
        if not _valid_env_name(reader, name, where):
            ok = False
            continue
        if looks_secret(name):
            reader.problem(
                where,
                "looks like a credential but is configured as a plain setting, which anyone "
                "who can describe the task definition can read",
                f"move it to {NAMESPACE}:{path.rsplit('.', 1)[0]}.secrets.{name} (a Secrets Manager secret)",
            )
            ok = False
            continue
        requirement = next((s for s in contract.settings if s.env_var == name), None)
        if requirement is not None and requirement.derived_from:
            reader.problem(
                where, f"is set by the program from the stack's {requirement.derived_from}", "remove it from the config"
            )
            ok = False
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, (int, float)):
            value = str(value)
        if not isinstance(value, str):
            reader.problem(where, f"must be text, got {_kind(value)}", "quote the value")
            ok = False
            continue
        if _URL_WITH_PASSWORD.search(value):
            reader.problem(
                where,
                "contains a password inside a URL, in plain text",
                "remove the credentials from the URL and supply them as a secret",
            )
            ok = False
            continue
        result[name] = value
    for requirement in contract.settings:
        if requirement.derived_from:
            result[requirement.env_var] = derived[requirement.derived_from]
        elif requirement.env_var not in values:
            reader.problem(
                f"{path}.{requirement.env_var}",
                f"is required by the {contract.key} service ({requirement.purpose}) but not set",
                f"pulumi config set --path '{NAMESPACE}:{path}.{requirement.env_var}' <value>",
            )
            ok = False
    return tuple(sorted(result.items())) if ok else None


def _valid_env_name(reader: _Reader, name: str, where: str) -> bool:
    if _ENV_NAME.match(name):
        return True
    reader.problem(
        where,
        "is not a valid environment variable name",
        "use letters, digits and underscores, not starting with a digit",
    )
    return False


def _secrets(
    reader: _Reader,
    contract: ServiceContract,
    raw: Any,
    path: str,
    stack: str,
    region: str | None,
    account: str | None,
    secret_config_keys: set[str],
) -> tuple[SecretSource, ...] | None:
    values = reader.mapping(raw, path)
    if values is None:
        return None
    sources: list[SecretSource] = []
    ok = True
    for name, spec in values.items():
        where = f"{path}.{name}"
        if not _valid_env_name(reader, name, where):
            ok = False
            continue
        source = _secret_source(reader, name, spec, where, region, account, secret_config_keys)
        if source is None:
            ok = False
        else:
            sources.append(source)
    configured = {s.env_var for s in sources} | set(values)
    for requirement in contract.secrets:
        if requirement.env_var in configured:
            continue
        default = requirement.secret_name_for(stack)
        reader.problem(
            f"{path}.{requirement.env_var}",
            f"the {contract.key} service requires the secret {requirement.env_var} but the stack does not "
            f"configure it; without it {requirement.breaks}",
            f"pulumi config set --path '{NAMESPACE}:{path}.{requirement.env_var}.existing' {default}  "
            f"(or '.create' to have the program declare the secret)",
        )
        ok = False
    return tuple(sorted(sources, key=lambda s: s.env_var)) if ok else None


def _secret_source(
    reader: _Reader,
    env_var: str,
    raw: Any,
    path: str,
    region: str | None,
    account: str | None,
    secret_config_keys: set[str],
) -> SecretSource | None:
    values = reader.mapping(
        raw,
        path,
        allowed=("existing", "create", "value_from"),
        example=", e.g. {existing: hokusai/<stack>/huggingface/api-key}",
    )
    if values is None:
        return None
    modes = [m for m in SecretMode if values.get(m.value) not in (None, "")]
    if len(modes) != 1:
        reader.problem(
            path,
            "must say where the secret lives with exactly one of 'existing' or 'create'",
            "use existing: <name or ARN of a secret that exists> or create: <name of a secret the program declares>",
        )
        return None
    mode = modes[0]
    target = values[mode.value]
    if isinstance(target, str) and target.startswith("arn:"):
        if mode is SecretMode.CREATE:
            reader.problem(
                f"{path}.create",
                "is an ARN; a secret the program creates is named, not ARN'd",
                "give the secret's name, e.g. hokusai/<stack>/service/thing",
            )
            return None
        target = reader.arn(
            target,
            f"{path}.existing",
            service="secretsmanager",
            resource_prefix="secret:",
            what="a Secrets Manager secret",
            region=region,
            account=account,
        )
    else:
        target = reader.text(
            target, f"{path}.{mode.value}", pattern=_SECRET_NAME, shape="a Secrets Manager secret name or ARN"
        )
    value_from = values.get("value_from")
    if value_from not in (None, ""):
        if mode is not SecretMode.CREATE:
            reader.problem(
                f"{path}.value_from",
                "only applies to a secret the program creates",
                "remove it: an existing secret keeps the value it has",
            )
            return None
        if not isinstance(value_from, str) or not _CONFIG_KEY.match(value_from):
            reader.problem(f"{path}.value_from", "must name a top-level config key", "use a key such as apiSecretKey")
            return None
        if value_from not in secret_config_keys:
            reader.problem(
                f"{path}.value_from",
                f"names {NAMESPACE}:{value_from}, which is not an encrypted config value",
                f"pulumi config set --secret {value_from} <value>  (never store secrets in plain config)",
            )
            return None
    else:
        value_from = None
    if target is None:
        return None
    return SecretSource(env_var=env_var, mode=mode, name_or_arn=target, value_from=value_from)


def _check_routes_across_services(reader: _Reader, services: list[ServiceSettings]) -> None:
    owners: dict[int, str] = {}
    for service in services:
        for index, route in enumerate(service.routes):
            other = owners.get(route.priority)
            if other is not None:
                reader.problem(
                    f"services.{service.key}.routes[{index}].priority",
                    f"priority {route.priority} is already used by {other}",
                    "give every route a unique priority",
                )
            owners[route.priority] = f"services.{service.key}"


def _check_secrets_across_services(reader: _Reader, services: list[ServiceSettings]) -> None:
    seen: dict[str, tuple[str, SecretSource]] = {}
    for service in services:
        for source in service.secrets:
            previous = seen.get(source.identity)
            if previous and (previous[1].mode, previous[1].value_from) != (source.mode, source.value_from):
                reader.problem(
                    f"services.{service.key}.secrets.{source.env_var}",
                    f"uses {source.identity} differently from services.{previous[0]}",
                    "declare a shared secret the same way (existing or create, same value_from) in every service",
                )
            seen.setdefault(source.identity, (service.key, source))
