"""The settings model: typed, frozen dataclasses the components consume.

Built by the loader (loader.py), which validates every value first. A field's
default is the one declared for its key (declarations.py), not a second copy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from core import naming
from core.contract import ServiceContract
from core.settings.declarations import declared_default


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
    ssl_policy: str = declared_default("load_balancer.ssl_policy")

    @property
    def creates_load_balancer(self) -> bool:
        return self.listener_arn is None


@dataclass(frozen=True)
class RedisSettings:
    security_group_id: str
    port: int = declared_default("redis.port")
    # Consumers outside this stack (label -> their security group id).
    extra_consumers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class DeployGateSettings:
    enabled: bool = declared_default("deploy_gate.enabled")
    timeout_seconds: int = declared_default("deploy_gate.timeout_seconds")


@dataclass(frozen=True)
class Settings:
    environment: str
    region: str
    account_id: str
    network: Network
    load_balancer: LoadBalancerSettings
    redis: RedisSettings | None
    services: tuple[ServiceSettings, ...]
    log_retention_days: int = declared_default("log_retention_days")
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
