"""The live estate as it stood at the incident (2025-10-07), as a reviewed record.

Every fact names where it was read: a file of the estate's own repository
(Hokusai-protocol/hokusai-data-pipeline) at a commit and lines, a member of the
binary Terraform plan in that repository, or a file of a published package.
What no source shows is a `Placeholder` saying how to find it before cutover;
where the new stack departs from the estate on purpose, a `Difference` says why.
docs/ESTATE.md is generated from this module (core/live_estate_docs.py).

Facts carry over from the estate; its code and prose do not, and no credential
is recorded: a secret is known here only by where its value lives.

Query it by path, for example:

    LIVE.services["api"].container_name.value          "hokusai-api"
    LIVE.services["api"].secrets["HUGGINGFACE_API_KEY"].secret_name
    LIVE.load_balancers["registry"].https_listener_arn  a Placeholder
    lookup("services.api.health_check.interval")        the same Fact as the attribute

Pure data: no Pulumi, no boto3.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from types import MappingProxyType
from typing import Any, Generic, TypeVar

T = TypeVar("T")
K = TypeVar("K")
V = TypeVar("V")

# --------------------------------------------------------------------------- #
# Citations
# --------------------------------------------------------------------------- #

REPOSITORY = "Hokusai-protocol/hokusai-data-pipeline"
# The squash-merge of the incident's fix (PR #92), committed 2025-10-07 15:18 UTC,
# shortly after the fix was validated in AWS: the estate's repository as it stood
# at the incident.
REFERENCE_COMMIT = "a9ef70899fdd9ed2675743ee08968868c271ba01"
INCIDENT = REFERENCE_COMMIT[:7]
# 2025-10-10: adds the incident's security-group write-up, which the reference
# commit's COMPLETE.md already lists but does not contain.
TIMEOUT_WRITEUP_COMMIT = "211a699"
# 2025-08-11: task-definition dump of API revision 73 (later overwritten).
REVISION_73_COMMIT = "f2d6de7"
# 2026-04-30: a later deploy workflow, cited only to corroborate the API's subnet and group.
LATER_WORKFLOW_COMMIT = "74b51eb"

_HEX_COMMIT = re.compile(r"[0-9a-f]{7,40}")
_LINES = re.compile(r"\d+(-\d+)?(,\d+(-\d+)?)*")


@dataclass(frozen=True)
class Source:
    """A place in the estate's repository: `path@commit:lines`.

    A binary file (the Terraform plan, a zip) has no lines: `locator` names the
    member and the resource address instead.
    """

    path: str
    commit: str
    lines: str = ""
    locator: str = ""

    def __post_init__(self) -> None:
        if not self.path or self.path.startswith("/"):
            raise ValueError(f"source path {self.path!r}: give the path inside {REPOSITORY}, without a leading /")
        if not _HEX_COMMIT.fullmatch(self.commit):
            raise ValueError(f"source {self.path}: commit {self.commit!r} is not 7-40 lower-case hex digits")
        if bool(self.lines) == bool(self.locator):
            raise ValueError(f"source {self.path}: give either lines (a text file) or a locator (a binary file)")
        if self.lines and not _LINES.fullmatch(self.lines):
            raise ValueError(f"source {self.path}: lines {self.lines!r} must look like 12, 12-20 or 5,12-14")

    @property
    def line_numbers(self) -> tuple[int, ...]:
        """Every line the citation covers, in order."""
        numbers: list[int] = []
        for part in self.lines.split(",") if self.lines else ():
            first, _, last = part.partition("-")
            numbers.extend(range(int(first), int(last or first) + 1))
        return tuple(numbers)

    def __str__(self) -> str:
        if self.locator:
            return f"{self.path}@{self.commit} ({self.locator})"
        return f"{self.path}@{self.commit}:{self.lines}"


@dataclass(frozen=True)
class PackageSource:
    """A file of a published package, e.g. the MLflow wheel the estate's image installs."""

    package: str
    version: str
    path: str
    lines: str
    # The file's hash as the wheel's RECORD lists it, so anyone can check the copy they read.
    record_hash: str = ""

    def __post_init__(self) -> None:
        if not (self.package and self.version and self.path):
            raise ValueError("a package source needs the package, its exact version and the file's path")
        if not _LINES.fullmatch(self.lines):
            raise ValueError(f"package source {self.path}: lines {self.lines!r} must look like 12 or 12-20")

    def __str__(self) -> str:
        return f"{self.package}=={self.version} {self.path}:{self.lines}"


Citation = Source | PackageSource


@dataclass(frozen=True)
class Fact(Generic[T]):
    """A value the live estate had, with where it is shown.

    `inferred` marks a value concluded from the cited lines rather than written
    in them (the note says how); every other value appears in its sources.
    """

    value: T
    sources: tuple[Citation, ...]
    note: str = ""
    inferred: bool = False


@dataclass(frozen=True)
class Placeholder:
    """A value the sources do not show, to be filled in before cutover."""

    what: str
    why_unknown: str
    how_to_find: str


@dataclass(frozen=True)
class Difference:
    """Where the new stack deliberately differs from the live estate, and why."""

    subject: str
    live: str
    ours: str
    why: str
    # Record paths (see `lookup`) of what the live side was.
    live_facts: tuple[str, ...] = ()


@dataclass(frozen=True)
class CarriedOver:
    """A live value the new stack keeps on purpose (not a difference), and why."""

    subject: str
    record_path: str
    why: str


@dataclass(frozen=True)
class Disagreement:
    """Sources that say different things about one subject, and which reflects the incident."""

    topic: str
    claims: tuple[Fact[Any], ...]
    verdict: str
    why: str


def _at(path: str, lines: str, commit: str = INCIDENT) -> Source:
    return Source(path=path, commit=commit, lines=lines)


_TFPLAN = "infrastructure/terraform/tfplan"


def _tfstate(address: str) -> Source:
    """A resource of the July 2025 state snapshot inside the binary plan (zip member `tfstate`)."""
    return Source(path=_TFPLAN, commit=INCIDENT, locator=f"tfstate {address}")


def _fact(value: T, *sources: Citation, note: str = "", inferred: bool = False) -> Fact[T]:
    return Fact(value=value, sources=tuple(sources), note=note, inferred=inferred)


def _frozen(mapping: Mapping[K, V]) -> Mapping[K, V]:
    return MappingProxyType(dict(mapping))


# The estate's files, by what they are.
API_TASK_DEF = "current-task-def.json"  # API revision 92, registered 2025-08-12
MLFLOW_TASK_DEF = "mlflow-task-def.json"  # MLflow revision 19, registered 2025-08-12
NEW_TASK_DEF = "new-task-def.json"
VALIDATION = "bugs/500-error-when-calling-model/validation.md"  # the incident's fix, 2025-10-07
HF_ROOT_CAUSE = "bugs/500-error-when-calling-model/root-cause.md"
HF_FIX_TASKS = "bugs/500-error-when-calling-model/fix-tasks.md"
HF_COMPLETE = "bugs/500-error-when-calling-model/COMPLETE.md"
TIMEOUT_WRITEUP = "bugs/500-error-when-calling-model/api-timeout-investigation.md"  # at 211a699
HTTPS_RESOLUTION = "bugs/api-404-errors/RESOLUTION.md"  # 2025-10-02
HTTPS_ROOT_CAUSE = "bugs/api-404-errors/root-cause-confirmed.md"
ROLLBACK_TESTS = "bugs/deployment-rollback/test-results.md"  # 2025-10-01
ROLLBACK_ROOT_CAUSE = "bugs/deployment-rollback/root-cause.md"
ENDPOINT_TESTS = "bugs/endpoints-inaccessible/test-results.md"  # 2025-08-19
ENDPOINT_SUMMARY = "bugs/endpoints-inaccessible/infrastructure-issues-summary.md"  # 2025-08-20
REGISTRATION_TESTS = "bugs/model-registration-failing/test-results.md"  # 2025-08-19
SEPTEMBER_ISSUES = "DEPLOYMENT_ISSUES_2025-09-30.md"
MLFLOW_UPGRADE = "hokusai-ml-platform/features/upgrade-mlflow-2.9.2-to-3.4.0/TEST_RESULTS.md"  # 2025-09-30
DEPLOY_WORKFLOW = ".github/workflows/deploy.yml"
CLAUDE_NOTES = "CLAUDE.md"
API_DOCKERFILE = "Dockerfile.api"
MLFLOW_DOCKERFILE = "Dockerfile.mlflow"
MLFLOW_ENTRYPOINT = "entrypoint.sh"
LEGACY_MAIN_TF = "infrastructure/terraform/main.tf"  # this repository's own, older stack
DEDICATED_ALBS_TF = "infrastructure/terraform/dedicated-albs.tf"
LEGACY_VARIABLES_TF = "infrastructure/terraform/variables.tf"
LEGACY_TFVARS = "infrastructure/terraform/terraform.tfvars"
SERVICE_DISCOVERY_TF = "infrastructure/terraform/service-discovery.tf"
LISTENER_RULES_EXAMPLE = "infrastructure/terraform/listener-rules-for-infra-team.tf.example"
SECURITY_GROUP_SCRIPT = "infrastructure/terraform/fix-security-groups.sh"
AUTH_MIDDLEWARE = "src/middleware/auth.py"
API_SETTINGS = "src/api/utils/config.py"
MODEL_SERVING = "src/api/endpoints/model_serving.py"
DNS_RESOLVER = "src/utils/dns_resolver.py"
HEALTH_ROUTES = "src/api/routes/health.py"
API_MAIN = "src/api/main.py"
STARTUP_VALIDATION = "src/api/utils/startup_validation.py"

MLFLOW_WHEEL_SERVER = PackageSource(
    package="mlflow",
    version="3.4.0",
    path="mlflow/server/__init__.py",
    lines="63-66",
    record_hash="sha256=VCRz61Aw2tFp7EbaoYR9rFk-R2ivfyKLcf61cSHjQY8",
)

# --------------------------------------------------------------------------- #
# The shape of the record
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class SecretReference:
    """A container secret: the exact `valueFrom`, and what it names.

    The parts (store, secret name, ARN suffix, JSON key, parameter name) are read
    from the value, so they cannot disagree with it.
    """

    value_from: Fact[str]

    # The parts read from `value_from` (properties below), which `lookup` may name.
    PARTS = ("store", "secret_name", "arn_suffix", "json_key", "secret_arn", "parameter_name")

    _SECRETS_MANAGER = re.compile(
        r"arn:aws:secretsmanager:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):secret:"
        r"(?P<name>[^:]+?)(?:-(?P<suffix>[A-Za-z0-9]{6}))?(?::(?P<json_key>[^:]*):[^:]*:[^:]*)?"
    )

    def _match(self) -> re.Match[str] | None:
        return self._SECRETS_MANAGER.fullmatch(self.value_from.value)

    @property
    def store(self) -> str:
        return "secretsmanager" if self._match() else "ssm"

    @property
    def secret_name(self) -> str:
        match = self._match()
        return match["name"] if match else ""

    @property
    def arn_suffix(self) -> str:
        """The six characters Secrets Manager appends to a secret's ARN."""
        match = self._match()
        return (match["suffix"] or "") if match else ""

    @property
    def json_key(self) -> str:
        """The key read from a JSON secret; empty when the whole SecretString is the value."""
        match = self._match()
        return (match["json_key"] or "") if match else ""

    @property
    def secret_arn(self) -> str:
        """The secret's complete ARN, without the JSON-key selector."""
        match = self._match()
        if not match:
            return ""
        suffix = f"-{match['suffix']}" if match["suffix"] else ""
        return f"arn:aws:secretsmanager:{match['region']}:{match['account']}:secret:{match['name']}{suffix}"

    @property
    def parameter_name(self) -> str:
        """The SSM parameter's name; empty for a Secrets Manager secret."""
        return "" if self._match() else self.value_from.value


@dataclass(frozen=True)
class Network:
    account_id: Fact[str]
    region: Fact[str]
    vpc_id: Fact[str]
    vpc_cidr: Fact[str]
    private_subnets: Fact[tuple[str, ...]]
    public_subnets: Fact[tuple[str, ...]]


@dataclass(frozen=True)
class SecurityGroup:
    id: Fact[str] | Placeholder
    name: Fact[str] | Placeholder
    # Security groups this one admits (by reference), when shown.
    admits: Fact[tuple[str, ...]] | Placeholder


@dataclass(frozen=True)
class SecurityGroupRule:
    name: Fact[str]
    direction: Fact[str]
    protocol: Fact[str]
    from_port: Fact[int]
    to_port: Fact[int]
    # Keys of LiveEstate.security_groups.
    group: str
    source_group: str
    description: Fact[str]
    applied: Fact[str]


@dataclass(frozen=True)
class Cluster:
    name: Fact[str]
    container_insights: Fact[str]


@dataclass(frozen=True)
class HealthCheck:
    """A container health check (`CMD-SHELL curl -f http://localhost:<port><path> || exit 1`)."""

    command_path: Fact[str]
    command_port: Fact[int]
    interval: Fact[int]
    timeout: Fact[int]
    retries: Fact[int]
    start_period: Fact[int]


@dataclass(frozen=True)
class CircuitBreaker:
    enabled: Fact[bool]
    rollback: Fact[bool]


@dataclass(frozen=True)
class LiveService:
    service_name: Fact[str]
    task_family: Fact[str]
    # The revision the evidence last shows running (the incident's for the API).
    revision: Fact[int]
    container_name: Fact[str]
    container_port: Fact[int]
    image: Fact[str]
    task_cpu: Fact[int]
    task_memory: Fact[int]
    log_group: Fact[str]
    log_stream_prefix: Fact[str]
    log_retention_days: Placeholder
    health_check: HealthCheck
    # Plain (non-secret) settings, by variable name.
    environment: Mapping[str, Fact[str] | Placeholder]
    # Secrets, by variable name.
    secrets: Mapping[str, SecretReference]
    execution_role: Fact[str]
    task_role: Fact[str]
    desired_count: Fact[int]
    circuit_breaker: CircuitBreaker | Placeholder
    health_check_grace_seconds: Placeholder
    subnets: Fact[tuple[str, ...]] | Placeholder
    network_configuration: Placeholder
    task_definition_details: Placeholder
    cloud_map_service: Fact[str]
    # Keys of LiveEstate.target_groups and .security_groups.
    target_group: str
    security_group: str


@dataclass(frozen=True)
class TargetGroup:
    name: Fact[str]
    arn: Fact[str] | Placeholder
    health_check_path: Fact[str] | Placeholder
    health_check_interval: Fact[int] | Placeholder
    health_check_timeout: Fact[int] | Placeholder
    settings: Placeholder


@dataclass(frozen=True)
class ListenerRule:
    priority: Fact[int]
    paths: Fact[tuple[str, ...]]
    # The target group's name, as the record's target group says it (the source describes it in words).
    forwards_to: Fact[str]
    # Key of LiveEstate.target_groups.
    target_group: str
    # What `pulumi import` takes the rule by (core/importable.py).
    arn: Fact[str] | Placeholder


@dataclass(frozen=True)
class LoadBalancer:
    name: Fact[str]
    # Each host name the load balancer answers for, with its evidence.
    hosts: tuple[Fact[str], ...]
    https_listener_port: Fact[int]
    https_listener_arn: Placeholder
    # The HTTPS listener's ELB security policy (the program refuses to adopt one off its allow-list).
    https_ssl_policy: Fact[str]
    https_default_action: Fact[str]
    https_default_target: Placeholder
    https_rules: tuple[ListenerRule, ...]
    security_groups: Placeholder


@dataclass(frozen=True)
class CloudMapService:
    name: Fact[str]
    address: Fact[str]


@dataclass(frozen=True)
class CloudMap:
    namespace: Fact[str]
    namespace_id: Placeholder
    services: Mapping[str, CloudMapService]
    service_ids: Placeholder
    record_type: Fact[str]
    record_ttl: Fact[int]
    routing_policy: Fact[str]
    failure_threshold: Fact[int]


@dataclass(frozen=True)
class Redis:
    replication_group: Fact[str]
    endpoint_host: Fact[str]
    port: Fact[int]
    tls: Fact[bool]
    auth_token: SecretReference
    endpoint_parameter: Fact[str]
    endpoint_parameter_value: Fact[str]
    port_parameter: Fact[str]
    port_parameter_value: Placeholder
    encryption_and_auth: Placeholder
    # Key of LiveEstate.security_groups.
    security_group: str


@dataclass(frozen=True)
class Database:
    identifier: Fact[str]
    endpoint_host: Fact[str]
    port: Fact[int]
    database: Fact[str]
    user: Fact[str]
    password: SecretReference
    engine_version: Fact[str]
    # Key of LiveEstate.security_groups.
    security_group: str


@dataclass(frozen=True)
class ArtifactStore:
    bucket: Fact[str]
    intended_root: Fact[str]


@dataclass(frozen=True)
class AuthService:
    url: Fact[str]
    internal_url: Fact[str]
    read_from: Fact[tuple[str, ...]]


@dataclass(frozen=True)
class MlflowServer:
    version: Fact[str]
    port: Fact[int]
    static_prefix: Fact[str]
    backend_store_variable: Fact[str]
    artifact_root_variable: Fact[str]
    serves_artifacts: Fact[bool]
    health_path: Fact[str]


@dataclass(frozen=True)
class ApplicationReads:
    """What the API's code (at the reference commit) does with its settings."""

    auth_cache_redis_url: Fact[str]
    auth_cache_tls: Fact[str]
    settings_redis_url: Fact[str]
    settings_redis_from_parts: Fact[str]
    huggingface_key_read: Fact[str]
    model_download_dir: Fact[str]
    dns_cache_ttl_seconds: Fact[int]
    health_503_when: Fact[str]
    health_degraded_status: Fact[int]
    uvicorn_port: Fact[int]
    runs_as_root: Fact[bool]
    database_url_read: Fact[bool]
    api_secret_key_read: Fact[bool]
    # Settings defaults the live task left in place (it set none of these variables).
    auth_service_id_default: Fact[str]
    health_check_timeout_default: Fact[str]
    database_connect_timeout_default: Fact[int]


@dataclass(frozen=True)
class DeployWorkflow:
    name: Fact[str]
    branch: Fact[str]
    image_repositories: Fact[tuple[str, ...]]
    registers_by_copying_latest: Fact[bool]
    dropped_fields: Fact[tuple[str, ...]]
    update_service_flags: Fact[tuple[str, ...]]
    waits_fatally: Fact[bool]
    # The commit tag of the API image the application's CI last deployed.
    api_image_tag: Placeholder


@dataclass(frozen=True)
class Incident:
    date: Fact[str]
    symptom: Fact[str]
    revision_before: Fact[int]
    revision_after: Fact[int]


@dataclass(frozen=True)
class LiveEstate:
    incident: Incident
    network: Network
    security_groups: Mapping[str, SecurityGroup]
    redis_rule: SecurityGroupRule
    cluster: Cluster
    services: Mapping[str, LiveService]
    target_groups: Mapping[str, TargetGroup]
    load_balancers: Mapping[str, LoadBalancer]
    cloud_map: CloudMap
    redis: Redis
    database: Database
    artifacts: ArtifactStore
    auth_service: AuthService
    mlflow_server: MlflowServer
    application: ApplicationReads
    deploy: DeployWorkflow
    disagreements: tuple[Disagreement, ...] = field(default=())
    differences: tuple[Difference, ...] = field(default=())
    carried_over: tuple[CarriedOver, ...] = field(default=())


# --------------------------------------------------------------------------- #
# Walking the record
# --------------------------------------------------------------------------- #


def entries(node: object, path: str = "") -> Iterator[tuple[str, Fact[Any] | Placeholder]]:
    """Every Fact and Placeholder under `node`, with its record path, in declaration order."""
    if isinstance(node, Fact | Placeholder):
        yield path, node
    elif is_dataclass(node) and not isinstance(node, type):
        for item in fields(node):
            yield from entries(getattr(node, item.name), f"{path}.{item.name}" if path else item.name)
    elif isinstance(node, Mapping):
        for key, value in node.items():
            yield from entries(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, tuple):
        for index, value in enumerate(node):
            yield from entries(value, f"{path}[{index}]")


def facts(estate: LiveEstate | None = None) -> list[tuple[str, Fact[Any]]]:
    return [(p, e) for p, e in entries(LIVE if estate is None else estate) if isinstance(e, Fact)]


def placeholders(estate: LiveEstate | None = None) -> list[tuple[str, Placeholder]]:
    return [(p, e) for p, e in entries(LIVE if estate is None else estate) if isinstance(e, Placeholder)]


def _attribute_names(node: object) -> set[str]:
    """What a record step may name on `node`: its fields, and a secret reference's parts."""
    names = {f.name for f in fields(node)} if is_dataclass(node) and not isinstance(node, type) else set()
    if isinstance(node, SecretReference):
        names |= set(SecretReference.PARTS)
    return names


_STEP = re.compile(r"([^.\[\]]+)((?:\[\d+\])*)")


def lookup(path: str, estate: LiveEstate | None = None) -> object:
    """The part of the record at `path` (as `entries` names it), e.g. "services.api.secrets.REDIS_URL".

    Raises KeyError naming the first step that does not exist.
    """
    node: object = LIVE if estate is None else estate
    for step in path.split("."):
        match = _STEP.fullmatch(step)
        if not match:
            raise KeyError(f"{path}: {step!r} is not a record step")
        name, indexes = match.groups()
        if isinstance(node, Mapping):
            if name not in node:
                raise KeyError(f"{path}: no {name!r} here (have: {', '.join(map(str, node))})")
            node = node[name]
        elif name in _attribute_names(node):
            node = getattr(node, name)
        else:
            raise KeyError(f"{path}: no {name!r} here")
        for index in re.findall(r"\[(\d+)\]", indexes):
            if not isinstance(node, tuple) or int(index) >= len(node):
                raise KeyError(f"{path}: no item {index} of {name!r}")
            node = node[int(index)]
    return node


# --------------------------------------------------------------------------- #
# The record
# --------------------------------------------------------------------------- #

_ACCOUNT = "932100697590"
_REDIS_HOST = "master.hokusai-redis-development.lenvj6.use1.cache.amazonaws.com"
_RDS_HOST = "hokusai-mlflow-development.cmqduyfpzmbr.us-east-1.rds.amazonaws.com"
_REDIS_TOKEN_VALUE_FROM = (
    f"arn:aws:secretsmanager:us-east-1:{_ACCOUNT}:secret:hokusai/redis/development/auth-token-0GWWJx:auth_token::"
)
_DB_PASSWORD_VALUE_FROM = (
    f"arn:aws:secretsmanager:us-east-1:{_ACCOUNT}:secret:hokusai/app-secrets/development-G9l4vD:database_password::"
)
_HF_VALUE_FROM = f"arn:aws:secretsmanager:us-east-1:{_ACCOUNT}:secret:hokusai/development/huggingface/api-key-lxvarZ"
_REGISTRY_ALB = "hokusai-registry-development"
# The registry ALB's target groups: name, and how the 2025-10-02 write-up describes each.
_REGISTRY_TARGET_GROUPS = {
    "api": ("hokusai-reg-api-development", "Registry API target group"),
    "mlflow": ("hokusai-reg-mlflow-development", "Registry MLflow target group"),
}

_REVISION_92 = "revision 92 (dumped 2025-08-12), the latest API task definition dumped anywhere"
_REVISION_19 = "revision 19 (dumped 2025-08-12), the latest MLflow task definition dumped anywhere"
_REVISION_151_UNDUMPED = "revision 151's container definition is not dumped in any source"

_SERVICE_SETTINGS_QUERY = (
    "aws ecs describe-services --cluster hokusai-development --services {service} "
    "--query 'services[0].{{taskDefinition:taskDefinition,network:networkConfiguration,"
    "grace:healthCheckGracePeriodSeconds,deployment:deploymentConfiguration,"
    "loadBalancers:loadBalancers,registries:serviceRegistries}}'"
)
_LOG_RETENTION_QUERY = (
    "aws logs describe-log-groups --log-group-name-prefix {group} "
    "--query 'logGroups[].[logGroupName,retentionInDays]' --output text  (no retention = never expires)"
)


def _api_service() -> LiveService:
    health = HealthCheck(
        command_path=_fact("/health", _at(API_TASK_DEF, "86-90"), note=_REVISION_92),
        command_port=_fact(8001, _at(API_TASK_DEF, "89")),
        interval=_fact(30, _at(API_TASK_DEF, "91")),
        timeout=_fact(5, _at(API_TASK_DEF, "92")),
        retries=_fact(3, _at(API_TASK_DEF, "93")),
        start_period=_fact(60, _at(API_TASK_DEF, "94")),
    )
    environment = {
        "API_HOST": _fact("0.0.0.0", _at(API_TASK_DEF, "18-19")),
        "API_PORT": _fact("8001", _at(API_TASK_DEF, "42-43"), note="uvicorn does not read it: see application"),
        "AUTH_SERVICE_URL": _fact("https://auth.hokus.ai", _at(API_TASK_DEF, "54-55")),
        "DB_HOST": _fact(_RDS_HOST, _at(API_TASK_DEF, "62-63")),
        "DB_NAME": _fact("mlflow_db", _at(API_TASK_DEF, "58-59")),
        "DB_PORT": _fact("5432", _at(API_TASK_DEF, "38-39")),
        "DB_USER": _fact("mlflow", _at(API_TASK_DEF, "46-47")),
        "ENVIRONMENT": _fact("development", _at(API_TASK_DEF, "50-51")),
        "MLFLOW_SERVER_URL": _fact("http://mlflow.hokusai-development.local:5000", _at(API_TASK_DEF, "30-31")),
        "REDIS_TLS_ENABLED": _fact(
            "true",
            _at(API_TASK_DEF, "26-27"),
            _at(ROLLBACK_ROOT_CAUSE, "219-224"),
            note="in revision 92 and again in revision 143 (2025-10-01)",
        ),
    }
    secrets = {
        "DATABASE_URL": _fact(
            "/hokusai/development/database/url",
            _at(VALIDATION, "61-63"),
            _at(SEPTEMBER_ISSUES, "27"),
            note="an SSM parameter; the application never reads DATABASE_URL",
        ),
        "DB_PASSWORD": _fact(_DB_PASSWORD_VALUE_FROM, _at(VALIDATION, "65-67"), _at(API_TASK_DEF, "70-71")),
        "REDIS_URL": _fact(
            "/hokusai/development/redis/endpoint",
            _at(VALIDATION, "69-71"),
            note="an SSM parameter holding the bare Redis host name, no scheme (see redis.endpoint_parameter_value)",
        ),
        "REDIS_HOST": _fact("/hokusai/development/redis/endpoint", _at(VALIDATION, "73-75")),
        "REDIS_PORT": _fact("/hokusai/development/redis/port", _at(VALIDATION, "77-79")),
        "REDIS_AUTH_TOKEN": _fact(_REDIS_TOKEN_VALUE_FROM, _at(VALIDATION, "81-83"), _at(API_TASK_DEF, "74-75")),
        "HUGGINGFACE_API_KEY": _fact(
            _HF_VALUE_FROM,
            _at(VALIDATION, "85-87"),
            _at(VALIDATION, "189-193"),
            _at(HF_ROOT_CAUSE, "28-33"),
            note="no JSON key: the whole SecretString is the token; added by revision 151, the incident's fix",
        ),
    }
    return LiveService(
        service_name=_fact("hokusai-api-development", _at(VALIDATION, "38-41"), _at(HF_COMPLETE, "226-227")),
        task_family=_fact("hokusai-api-development", _at(API_TASK_DEF, "99"), _at(VALIDATION, "109")),
        revision=_fact(
            151,
            _at(VALIDATION, "33"),
            _at(VALIDATION, "109"),
            note="150 before the fix; ECS rolled 151 back to 150 once, then 151 was deployed again (validation.md:234-235)",
        ),
        container_name=_fact("hokusai-api", _at(API_TASK_DEF, "5"), note=_REVISION_92),
        container_port=_fact(8001, _at(API_TASK_DEF, "8-14"), _at(API_DOCKERFILE, "27")),
        image=_fact(
            f"{_ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/hokusai/api:latest",
            _at(API_TASK_DEF, "6"),
            note=f"{_REVISION_92}; the deploy workflow pushes to the other repository, `hokusai-api:<commit>`",
        ),
        task_cpu=_fact(512, _at(API_TASK_DEF, "149"), _at(API_TASK_DEF, "149", REVISION_73_COMMIT)),
        task_memory=_fact(1024, _at(API_TASK_DEF, "150"), _at(API_TASK_DEF, "150", REVISION_73_COMMIT)),
        log_group=_fact(
            "/ecs/hokusai-api-development",
            _at(API_TASK_DEF, "81"),
            _at(TIMEOUT_WRITEUP, "294", TIMEOUT_WRITEUP_COMMIT),
            note="read during the incident",
        ),
        log_stream_prefix=_fact("ecs", _at(API_TASK_DEF, "83")),
        log_retention_days=Placeholder(
            what="retention of /ecs/hokusai-api-development",
            why_unknown="no source shows the live log group's settings (only the legacy stack's own groups, 30 days)",
            how_to_find=_LOG_RETENTION_QUERY.format(group="/ecs/hokusai-api-development"),
        ),
        health_check=health,
        environment=_frozen(environment),
        secrets=_frozen({name: SecretReference(value_from) for name, value_from in secrets.items()}),
        execution_role=_fact(
            f"arn:aws:iam::{_ACCOUNT}:role/hokusai-data-pipeline-ecs-execution-development",
            _at(API_TASK_DEF, "101"),
            note=f"{_REVISION_92}; see the disagreement on the execution role",
        ),
        task_role=_fact(
            f"arn:aws:iam::{_ACCOUNT}:role/hokusai-data-pipeline-ecs-task-development", _at(API_TASK_DEF, "100")
        ),
        desired_count=_fact(1, _at(VALIDATION, "110"), _at(DEPLOY_WORKFLOW, "200-205")),
        circuit_breaker=CircuitBreaker(
            enabled=_fact(True, _at(ROLLBACK_TESTS, "197-198"), note="as described on 2025-10-01"),
            rollback=_fact(True, _at(ROLLBACK_TESTS, "199"), _at(VALIDATION, "234")),
        ),
        health_check_grace_seconds=Placeholder(
            what="the API service's health-check grace period",
            why_unknown=f"the 2025-10-01 write-up says only that one is set ({ROLLBACK_TESTS}@{INCIDENT}:202)",
            how_to_find=_SERVICE_SETTINGS_QUERY.format(service="hokusai-api-development"),
        ),
        subnets=_fact(
            ("subnet-08cb7663096ac0017",),
            _at(TIMEOUT_WRITEUP, "280", TIMEOUT_WRITEUP_COMMIT),
            _at(DEPLOY_WORKFLOW, "134", LATER_WORKFLOW_COMMIT),
            note="the only subnet any source pairs with the API service (a proposed update-service command in "
            "the incident write-up; a later workflow); whether the service used more is not shown",
        ),
        network_configuration=Placeholder(
            what="the API service's subnets, security groups and assignPublicIp",
            why_unknown="no source dumps the service; only one subnet and the group are named",
            how_to_find=_SERVICE_SETTINGS_QUERY.format(service="hokusai-api-development"),
        ),
        task_definition_details=Placeholder(
            what="revision 151's container definition: name, image, plain environment, cpu/memory, roles, "
            "health check, user, readonlyRootFilesystem",
            why_unknown=f"{_REVISION_151_UNDUMPED}; the incident write-up queried only its secrets",
            how_to_find="aws ecs describe-task-definition --task-definition hokusai-api-development:151 "
            "--query 'taskDefinition.{cpu:cpu,memory:memory,executionRoleArn:executionRoleArn,"
            "taskRoleArn:taskRoleArn,containers:containerDefinitions[].{name:name,image:image,"
            "environment:environment,healthCheck:healthCheck,user:user,readonly:readonlyRootFilesystem}}'",
        ),
        cloud_map_service=_fact("api", _at(SERVICE_DISCOVERY_TF, "31-32"), _at(CLAUDE_NOTES, "64")),
        target_group="api",
        security_group="api_task",
    )


def _mlflow_service() -> LiveService:
    health = HealthCheck(
        command_path=_fact("/health", _at(MLFLOW_TASK_DEF, "58-62"), note=_REVISION_19),
        command_port=_fact(5000, _at(MLFLOW_TASK_DEF, "61")),
        interval=_fact(30, _at(MLFLOW_TASK_DEF, "63")),
        timeout=_fact(5, _at(MLFLOW_TASK_DEF, "64")),
        retries=_fact(3, _at(MLFLOW_TASK_DEF, "65")),
        start_period=_fact(60, _at(MLFLOW_TASK_DEF, "66")),
    )
    environment: dict[str, Fact[str] | Placeholder] = {
        "BACKEND_STORE_URI": _fact(
            f"postgresql://mlflow:<password>@{_RDS_HOST}:5432/mlflow_db?sslmode=require",
            _at(SEPTEMBER_ISSUES, "80-82"),
            _at(SEPTEMBER_ISSUES, "94-98"),
            note="a plain environment value since revision 40 (2025-09-30), with the database password written "
            "into it; the password is deliberately not recorded here",
            inferred=True,
        ),
        "DEFAULT_ARTIFACT_ROOT": Placeholder(
            what="the MLflow container's DEFAULT_ARTIFACT_ROOT",
            why_unknown="no dump of revision 40 or later; the legacy Terraform intends "
            "s3://hokusai-mlflow-artifacts-development/artifacts",
            how_to_find="aws ecs describe-task-definition --task-definition hokusai-mlflow-development "
            "--query \"taskDefinition.containerDefinitions[0].environment[?name=='DEFAULT_ARTIFACT_ROOT']\"",
        ),
        "ENVIRONMENT": _fact("development", _at(MLFLOW_TASK_DEF, "34-35")),
        "MLFLOW_HOST": _fact("0.0.0.0", _at(MLFLOW_TASK_DEF, "38-39"), note="the image's command does not read it"),
        "MLFLOW_PORT": _fact("5000", _at(MLFLOW_TASK_DEF, "22-23"), note="the image's command does not read it"),
        "REDIS_HOST": _fact(_REDIS_HOST, _at(MLFLOW_TASK_DEF, "18-19"), note=_REVISION_19),
        "REDIS_PORT": _fact("6379", _at(MLFLOW_TASK_DEF, "30-31")),
        "REDIS_TLS_ENABLED": _fact("true", _at(MLFLOW_TASK_DEF, "26-27")),
    }
    return LiveService(
        service_name=_fact("hokusai-mlflow-development", _at(DEPLOY_WORKFLOW, "216"), _at(MLFLOW_UPGRADE, "16")),
        task_family=_fact("hokusai-mlflow-development", _at(MLFLOW_TASK_DEF, "71"), _at(MLFLOW_UPGRADE, "17")),
        revision=_fact(
            43,
            _at(MLFLOW_UPGRADE, "17"),
            note="MLflow 3.4.0, deployed 2025-09-30; no later MLflow revision is mentioned before the incident",
        ),
        container_name=_fact("hokusai-mlflow", _at(MLFLOW_TASK_DEF, "5"), note=_REVISION_19),
        container_port=_fact(5000, _at(MLFLOW_TASK_DEF, "8-14"), _at(MLFLOW_DOCKERFILE, "18")),
        image=_fact(
            f"{_ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/hokusai/mlflow:3.4.0",
            _at(MLFLOW_UPGRADE, "10-11"),
            note="built for revision 43 (also pushed as :latest); revision 19 ran hokusai/mlflow:latest",
        ),
        task_cpu=_fact(1024, _at(MLFLOW_TASK_DEF, "121"), note=_REVISION_19),
        task_memory=_fact(2048, _at(MLFLOW_TASK_DEF, "122")),
        log_group=_fact("/ecs/hokusai-mlflow-development", _at(MLFLOW_TASK_DEF, "53"), _at(CLAUDE_NOTES, "316")),
        log_stream_prefix=_fact("ecs", _at(MLFLOW_TASK_DEF, "55")),
        log_retention_days=Placeholder(
            what="retention of /ecs/hokusai-mlflow-development",
            why_unknown="no source shows the live log group's settings",
            how_to_find=_LOG_RETENTION_QUERY.format(group="/ecs/hokusai-mlflow-development"),
        ),
        health_check=health,
        environment=_frozen(dict(sorted(environment.items()))),
        secrets=_frozen(
            {"REDIS_AUTH_TOKEN": SecretReference(_fact(_REDIS_TOKEN_VALUE_FROM, _at(MLFLOW_TASK_DEF, "46-47")))}
        ),
        execution_role=_fact(
            f"arn:aws:iam::{_ACCOUNT}:role/hokusai-data-pipeline-ecs-execution-development",
            _at(MLFLOW_TASK_DEF, "73"),
            note=_REVISION_19,
        ),
        task_role=_fact(
            f"arn:aws:iam::{_ACCOUNT}:role/hokusai-data-pipeline-ecs-task-development",
            _at(MLFLOW_TASK_DEF, "72"),
            note="on 2025-09-30 the MLflow task role could not s3:ListBucket its artifact bucket (TEST_RESULTS.md:174)",
        ),
        desired_count=_fact(1, _at(DEPLOY_WORKFLOW, "214-219"), _at(MLFLOW_UPGRADE, "19")),
        circuit_breaker=Placeholder(
            what="the MLflow service's deployment circuit breaker",
            why_unknown="no source describes the MLflow service's deployment configuration",
            how_to_find=_SERVICE_SETTINGS_QUERY.format(service="hokusai-mlflow-development"),
        ),
        health_check_grace_seconds=Placeholder(
            what="the MLflow service's health-check grace period",
            why_unknown="no source describes it",
            how_to_find=_SERVICE_SETTINGS_QUERY.format(service="hokusai-mlflow-development"),
        ),
        subnets=Placeholder(
            what="the MLflow service's subnets",
            why_unknown="no source names them after the legacy July stack",
            how_to_find=_SERVICE_SETTINGS_QUERY.format(service="hokusai-mlflow-development"),
        ),
        network_configuration=Placeholder(
            what="the MLflow service's subnets, security groups and assignPublicIp",
            why_unknown="no source dumps the service",
            how_to_find=_SERVICE_SETTINGS_QUERY.format(service="hokusai-mlflow-development"),
        ),
        task_definition_details=Placeholder(
            what="the current MLflow revision's container definition (43 or later): name, cpu/memory, "
            "roles, health check path, environment",
            why_unknown=f"{_REVISION_19}; revisions 40-43 are only described",
            how_to_find="aws ecs describe-task-definition --task-definition hokusai-mlflow-development "
            "--query 'taskDefinition.{revision:revision,cpu:cpu,memory:memory,containers:containerDefinitions[]."
            "{name:name,image:image,healthCheck:healthCheck,environmentNames:environment[].name}}'",
        ),
        cloud_map_service=_fact("mlflow", _at(SERVICE_DISCOVERY_TF, "11-12"), _at(CLAUDE_NOTES, "63")),
        target_group="mlflow",
        security_group="mlflow_task",
    )


def _security_groups() -> Mapping[str, SecurityGroup]:
    unknown_name = "no source names it"
    return _frozen(
        {
            "api_task": SecurityGroup(
                id=_fact(
                    "sg-0864e6f6aee2a5cf4",
                    _at(VALIDATION, "248"),
                    _at(TIMEOUT_WRITEUP, "123-127", TIMEOUT_WRITEUP_COMMIT),
                    _at(DEPLOY_WORKFLOW, "135", LATER_WORKFLOW_COMMIT),
                    note="the API service's group at the incident, shared by the data-pipeline ECS tasks",
                ),
                name=_fact("hokusai-data-pipeline-ecs-tasks", _at(TIMEOUT_WRITEUP, "126", TIMEOUT_WRITEUP_COMMIT)),
                admits=Placeholder(
                    what="what the API task group admits (the registry ALB's group on 8001?)",
                    why_unknown="no source lists its ingress",
                    how_to_find="aws ec2 describe-security-group-rules --filters Name=group-id,"
                    "Values=sg-0864e6f6aee2a5cf4 --query 'SecurityGroupRules[?!IsEgress]'",
                ),
            ),
            "ecs_tasks_legacy": SecurityGroup(
                id=_fact(
                    "sg-0e61190afc2502b10",
                    _tfstate("aws_security_group.ecs_tasks"),
                    _at(VALIDATION, "247"),
                    note="the legacy stack's ECS task group, which Redis and RDS admitted",
                ),
                name=_fact("hokusai-ecs-tasks-20250626201339121700000007", _tfstate("aws_security_group.ecs_tasks")),
                admits=_fact(("sg-057176837d4b5daad",), _tfstate("aws_security_group.ecs_tasks"), note="July 2025"),
            ),
            "redis": SecurityGroup(
                id=_fact(
                    "sg-0454e74e2924a7754", _at(VALIDATION, "247"), _at(TIMEOUT_WRITEUP, "118", TIMEOUT_WRITEUP_COMMIT)
                ),
                name=Placeholder(
                    what="the Redis group's name",
                    why_unknown=unknown_name,
                    how_to_find="aws ec2 describe-security-groups --group-ids sg-0454e74e2924a7754 "
                    "--query 'SecurityGroups[0].GroupName'",
                ),
                admits=_fact(
                    ("sg-0e61190afc2502b10",),
                    _at(VALIDATION, "247"),
                    _at(TIMEOUT_WRITEUP, "118-121", TIMEOUT_WRITEUP_COMMIT),
                    note="until redis_from_data_pipeline_ecs was applied on 2025-10-07; it then also admitted "
                    "sg-0864e6f6aee2a5cf4 on 6379",
                ),
            ),
            "rds": SecurityGroup(
                id=_fact(
                    "sg-0f25961be3357a3ae",
                    _tfstate("aws_security_group.rds"),
                    _tfstate("aws_db_instance.mlflow"),
                    note="July 2025 state",
                ),
                name=_fact("hokusai-rds-20250626201341007900000009", _tfstate("aws_security_group.rds")),
                admits=_fact(
                    ("sg-0e61190afc2502b10",),
                    _tfstate("aws_security_group.rds"),
                    note="July 2025, port 5432; whether sg-0864e6f6aee2a5cf4 was admitted at the incident is not "
                    "shown, though the API reached the database",
                ),
            ),
            "main_alb": SecurityGroup(
                id=_fact("sg-0009788bcb980224b", _at(SECURITY_GROUP_SCRIPT, "9")),
                name=Placeholder(
                    what="the main ALB group's name",
                    why_unknown=unknown_name,
                    how_to_find="aws ec2 describe-security-groups --group-ids sg-0009788bcb980224b "
                    "--query 'SecurityGroups[0].GroupName'",
                ),
                admits=Placeholder(
                    what="the main ALB group's ingress",
                    why_unknown="no source lists it",
                    how_to_find="aws ec2 describe-security-group-rules --filters Name=group-id,"
                    "Values=sg-0009788bcb980224b",
                ),
            ),
            "legacy_alb": SecurityGroup(
                id=_fact("sg-057176837d4b5daad", _tfstate("aws_security_group.alb")),
                name=_fact("hokusai-alb-20250626201337001500000005", _tfstate("aws_security_group.alb")),
                admits=_fact((), _tfstate("aws_security_group.alb"), note="80 and 443 from 0.0.0.0/0 only"),
            ),
            "registry_alb": SecurityGroup(
                id=Placeholder(
                    what=f"the security group(s) of {_REGISTRY_ALB}, the ALB that serves api.hokus.ai",
                    why_unknown="no source names them; each service group must admit them on its port",
                    how_to_find=f"aws elbv2 describe-load-balancers --names {_REGISTRY_ALB} "
                    "--query 'LoadBalancers[0].SecurityGroups'",
                ),
                name=Placeholder(
                    what="their names",
                    why_unknown=unknown_name,
                    how_to_find="aws ec2 describe-security-groups --group-ids <the ids above> "
                    "--query 'SecurityGroups[].GroupName'",
                ),
                admits=Placeholder(
                    what="their ingress",
                    why_unknown="no source lists it",
                    how_to_find="aws ec2 describe-security-group-rules --filters Name=group-id,Values=<the ids above>",
                ),
            ),
            "mlflow_task": SecurityGroup(
                id=Placeholder(
                    what="the MLflow service's security group(s)",
                    why_unknown="no source names the group the MLflow tasks used at the incident",
                    how_to_find="aws ecs describe-services --cluster hokusai-development --services "
                    "hokusai-mlflow-development --query "
                    "'services[0].networkConfiguration.awsvpcConfiguration.securityGroups'",
                ),
                name=Placeholder(
                    what="its name",
                    why_unknown=unknown_name,
                    how_to_find="aws ec2 describe-security-groups --group-ids <the id above>",
                ),
                admits=Placeholder(
                    what="what it admits on 5000 (the API's group, the registry ALB's group?)",
                    why_unknown="no source lists it",
                    how_to_find="aws ec2 describe-security-group-rules --filters Name=group-id,Values=<the id above>",
                ),
            ),
        }
    )


def _redis_rule() -> SecurityGroupRule:
    hcl = _at(TIMEOUT_WRITEUP, "143-151", TIMEOUT_WRITEUP_COMMIT)
    return SecurityGroupRule(
        name=_fact(
            "redis_from_data_pipeline_ecs",
            _at(VALIDATION, "249"),
            _at(HF_COMPLETE, "137"),
            note="a Terraform resource of the hokusai-infrastructure repository (redis-queue.tf), never applied "
            "until the incident",
        ),
        direction=_fact("ingress", hcl),
        protocol=_fact("tcp", hcl),
        from_port=_fact(6379, hcl),
        to_port=_fact(6379, hcl),
        group="redis",
        source_group="api_task",
        description=_fact("Redis access from data pipeline ECS tasks", hcl),
        applied=_fact(
            "2025-10-07 14:15 UTC",
            _at(VALIDATION, "232"),
            _at(VALIDATION, "252"),
            note="applied alone with terraform apply -target while the API timed out; the date is the write-up's",
            inferred=True,
        ),
    )


def _target_groups() -> Mapping[str, TargetGroup]:
    describe = (
        "aws elbv2 describe-target-groups --names {name} --query 'TargetGroups[0].{{arn:TargetGroupArn,"
        "port:Port,protocol:Protocol,type:TargetType,path:HealthCheckPath,interval:HealthCheckIntervalSeconds,"
        "timeout:HealthCheckTimeoutSeconds,healthy:HealthyThresholdCount,unhealthy:UnhealthyThresholdCount,"
        "matcher:Matcher}}' && aws elbv2 describe-target-group-attributes --target-group-arn <arn> "
        "--query \"Attributes[?Key=='deregistration_delay.timeout_seconds']\""
    )
    settings_why = (
        "port, protocol and target type are fixed at creation (an import must match them); thresholds, "
        "matcher and deregistration delay are not shown for this group"
    )
    return _frozen(
        {
            "api": TargetGroup(
                name=_fact(
                    _REGISTRY_TARGET_GROUPS["api"][0],
                    _at(ROLLBACK_TESTS, "166-172"),
                    _at(ENDPOINT_SUMMARY, "56"),
                    note="the registry ALB's API group, which the 2025-10-02 rules forward to and whose health "
                    "check the 2025-10-01 write-up examined for the API service",
                ),
                arn=_fact(
                    f"arn:aws:elasticloadbalancing:us-east-1:{_ACCOUNT}:targetgroup/hokusai-reg-api-development/aab4ed4b619b04c0",
                    _at(ENDPOINT_SUMMARY, "147"),
                    note="shown on 2025-08-20; a target group keeps its ARN unless it is recreated",
                ),
                health_check_path=_fact(
                    "/health", _at(ROLLBACK_TESTS, "172"), _at(TIMEOUT_WRITEUP, "64", TIMEOUT_WRITEUP_COMMIT)
                ),
                health_check_interval=_fact(
                    30,
                    _at(TIMEOUT_WRITEUP, "63-67", TIMEOUT_WRITEUP_COMMIT),
                    note="the incident write-up's API target group (unnamed there)",
                ),
                health_check_timeout=_fact(5, _at(TIMEOUT_WRITEUP, "66", TIMEOUT_WRITEUP_COMMIT)),
                settings=Placeholder(
                    what="hokusai-reg-api-development's port, protocol, target type, thresholds, matcher and "
                    "deregistration delay",
                    why_unknown=settings_why,
                    how_to_find=describe.format(name="hokusai-reg-api-development"),
                ),
            ),
            "mlflow": TargetGroup(
                name=_fact(
                    _REGISTRY_TARGET_GROUPS["mlflow"][0],
                    _at(ENDPOINT_TESTS, "47"),
                    _at(LISTENER_RULES_EXAMPLE, "91"),
                    note="the 'Registry MLflow target group' of the 2025-10-02 rules; named on 2025-08-19",
                ),
                arn=Placeholder(
                    what="the ARN of hokusai-reg-mlflow-development",
                    why_unknown="no source shows it",
                    how_to_find="aws elbv2 describe-target-groups --names hokusai-reg-mlflow-development "
                    "--query 'TargetGroups[0].TargetGroupArn' --output text",
                ),
                health_check_path=Placeholder(
                    what="hokusai-reg-mlflow-development's health check path",
                    why_unknown="no source shows it (the legacy stack used /mlflow with 200,308; MLflow 3.4.0 "
                    "answers /health whatever its static prefix)",
                    how_to_find=describe.format(name="hokusai-reg-mlflow-development"),
                ),
                health_check_interval=Placeholder(
                    what="its health check interval",
                    why_unknown="no source shows it",
                    how_to_find=describe.format(name="hokusai-reg-mlflow-development"),
                ),
                health_check_timeout=Placeholder(
                    what="its health check timeout",
                    why_unknown="no source shows it",
                    how_to_find=describe.format(name="hokusai-reg-mlflow-development"),
                ),
                settings=Placeholder(
                    what="hokusai-reg-mlflow-development's port, protocol, target type, thresholds, matcher and "
                    "deregistration delay",
                    why_unknown=settings_why,
                    how_to_find=describe.format(name="hokusai-reg-mlflow-development"),
                ),
            ),
        }
    )


def _rule(priority: int, path: str, target_group: str, line: str) -> ListenerRule:
    """One of the rules created by hand on the registry ALB's HTTPS listener on 2025-10-02."""
    source = _at(HTTPS_RESOLUTION, line)
    name, described = _REGISTRY_TARGET_GROUPS[target_group]
    listener = (
        f"$(aws elbv2 describe-listeners --load-balancer-arn $(aws elbv2 describe-load-balancers --names "
        f"{_REGISTRY_ALB} --query 'LoadBalancers[0].LoadBalancerArn' --output text) "
        "--query 'Listeners[?Port==`443`].ListenerArn' --output text)"
    )
    return ListenerRule(
        priority=_fact(priority, source),
        paths=_fact((path,), source),
        forwards_to=_fact(
            name,
            source,
            note=f"the source says the {described}; see target_groups.{target_group}.name",
            inferred=True,
        ),
        target_group=target_group,
        arn=Placeholder(
            what=f"the ARN of the rule with priority {priority} on {_REGISTRY_ALB}'s HTTPS listener",
            why_unknown="created by hand in the console; no source shows rule ARNs",
            how_to_find=f"aws elbv2 describe-rules --listener-arn {listener} "
            f"--query \"Rules[?Priority=='{priority}'].RuleArn\" --output text",
        ),
    )


def _load_balancers() -> Mapping[str, LoadBalancer]:
    alb_arn = (
        f"$(aws elbv2 describe-load-balancers --names {_REGISTRY_ALB} "
        "--query 'LoadBalancers[0].LoadBalancerArn' --output text)"
    )
    return _frozen(
        {
            "registry": LoadBalancer(
                name=_fact(_REGISTRY_ALB, _at(HTTPS_RESOLUTION, "20"), _at(HTTPS_RESOLUTION, "36")),
                hosts=(
                    _fact(
                        "api.hokus.ai",
                        _at(HTTPS_RESOLUTION, "35-37"),
                        _at(HTTPS_RESOLUTION, "144"),
                        note="verified live on 2025-10-02, five days before the incident",
                    ),
                    _fact("registry.hokus.ai", _at(ENDPOINT_TESTS, "25"), note="resolved on 2025-08-19"),
                ),
                https_listener_port=_fact(443, _at(HTTPS_RESOLUTION, "17"), _at(HTTPS_RESOLUTION, "87")),
                https_listener_arn=Placeholder(
                    what=f"the ARN of {_REGISTRY_ALB}'s HTTPS:443 listener",
                    why_unknown="no source shows it; the rules were created by hand in the console",
                    how_to_find=f"aws elbv2 describe-listeners --load-balancer-arn {alb_arn} "
                    "--query 'Listeners[?Port==`443`].ListenerArn' --output text",
                ),
                https_ssl_policy=_fact(
                    "ELBSecurityPolicy-TLS-1-2-2017-01",
                    _at(DEDICATED_ALBS_TF, "239-246"),
                    note="the legacy Terraform's registry_https listener; that it made the live listener is not "
                    "shown (the rules on it were made by hand)",
                    inferred=True,
                ),
                https_default_action=_fact(
                    "forward",
                    _at(HTTPS_ROOT_CAUSE, "216"),
                    note="the write-up says the registry HTTPS listener has a default forward; it does not name "
                    "the target group",
                ),
                https_default_target=Placeholder(
                    what="the target group of the HTTPS listener's default action",
                    why_unknown="not named in any source (https://api.hokus.ai/health answered 200 on 2025-10-02, "
                    "so it reaches the API)",
                    how_to_find=f"aws elbv2 describe-listeners --load-balancer-arn {alb_arn} "
                    "--query 'Listeners[?Port==`443`].DefaultActions'",
                ),
                https_rules=(
                    _rule(50, "/mlflow/*", "mlflow", line="25"),
                    _rule(105, "/api/mlflow/*", "api", line="24"),
                    _rule(110, "/api/*", "api", line="23"),
                ),
                security_groups=Placeholder(
                    what=f"{_REGISTRY_ALB}'s security groups",
                    why_unknown="see security_groups.registry_alb",
                    how_to_find=f"aws elbv2 describe-load-balancers --names {_REGISTRY_ALB} "
                    "--query 'LoadBalancers[0].SecurityGroups'",
                ),
            ),
        }
    )


def _cloud_map() -> CloudMap:
    return CloudMap(
        namespace=_fact(
            "hokusai-development.local",
            _at(CLAUDE_NOTES, "218"),
            _at(SERVICE_DISCOVERY_TF, "4-5"),
            note="a private DNS namespace in the estate's VPC",
        ),
        namespace_id=Placeholder(
            what="the id of the hokusai-development.local namespace",
            why_unknown="no source shows it (it is not in the July state)",
            how_to_find="aws servicediscovery list-namespaces "
            "--query \"Namespaces[?Name=='hokusai-development.local'].Id\" --output text",
        ),
        services=_frozen(
            {
                "api": CloudMapService(
                    name=_fact("api", _at(SERVICE_DISCOVERY_TF, "32")),
                    address=_fact("http://api.hokusai-development.local:8001", _at(CLAUDE_NOTES, "64")),
                ),
                "mlflow": CloudMapService(
                    name=_fact("mlflow", _at(SERVICE_DISCOVERY_TF, "12")),
                    address=_fact(
                        "http://mlflow.hokusai-development.local:5000", _at(CLAUDE_NOTES, "63"), _at(API_TASK_DEF, "31")
                    ),
                ),
            }
        ),
        service_ids=Placeholder(
            what="the ids of the api and mlflow Cloud Map services",
            why_unknown="no source shows them",
            how_to_find="aws servicediscovery list-services --filters "
            "Name=NAMESPACE_ID,Values=<namespace id>,Condition=EQ --query 'Services[].[Name,Id]' --output text",
        ),
        record_type=_fact("A", _at(SERVICE_DISCOVERY_TF, "19"), _at(SERVICE_DISCOVERY_TF, "39")),
        record_ttl=_fact(
            10,
            _at(SERVICE_DISCOVERY_TF, "18"),
            _at(SERVICE_DISCOVERY_TF, "38"),
            note="this repository's service-discovery.tf; the live services are not dumped anywhere",
        ),
        routing_policy=_fact("MULTIVALUE", _at(SERVICE_DISCOVERY_TF, "22"), _at(SERVICE_DISCOVERY_TF, "42")),
        failure_threshold=_fact(1, _at(SERVICE_DISCOVERY_TF, "25-26"), _at(SERVICE_DISCOVERY_TF, "45-46")),
    )


def _redis() -> Redis:
    return Redis(
        replication_group=_fact(
            "hokusai-redis-development",
            _at(TIMEOUT_WRITEUP, "97-98", TIMEOUT_WRITEUP_COMMIT),
            _at(ROLLBACK_ROOT_CAUSE, "311"),
        ),
        endpoint_host=_fact(
            _REDIS_HOST, _at(TIMEOUT_WRITEUP, "105-106", TIMEOUT_WRITEUP_COMMIT), note="the primary endpoint"
        ),
        port=_fact(6379, _at(TIMEOUT_WRITEUP, "107", TIMEOUT_WRITEUP_COMMIT), _at(API_TASK_DEF, "34-35")),
        tls=_fact(
            True,
            _at(API_TASK_DEF, "26-27"),
            _at(AUTH_MIDDLEWARE, "101-107"),
            note="the clients connect with rediss://; the replication group's own setting is not shown",
            inferred=True,
        ),
        auth_token=SecretReference(_fact(_REDIS_TOKEN_VALUE_FROM, _at(VALIDATION, "81-83"))),
        endpoint_parameter=_fact("/hokusai/development/redis/endpoint", _at(VALIDATION, "71"), _at(VALIDATION, "75")),
        endpoint_parameter_value=_fact(
            _REDIS_HOST,
            _at(ROLLBACK_TESTS, "12-20"),
            _at(ROLLBACK_ROOT_CAUSE, "204-206"),
            note="a bare host name, no scheme and no port (read 2025-10-01)",
        ),
        port_parameter=_fact("/hokusai/development/redis/port", _at(VALIDATION, "79")),
        port_parameter_value=Placeholder(
            what="the value of SSM /hokusai/development/redis/port",
            why_unknown="no source reads it",
            how_to_find="aws ssm get-parameter --name /hokusai/development/redis/port --query Parameter.Value",
        ),
        encryption_and_auth=Placeholder(
            what="whether hokusai-redis-development has transit encryption and AUTH switched on",
            why_unknown="implied by the clients (rediss:// with a token), not shown",
            how_to_find="aws elasticache describe-replication-groups --replication-group-id "
            "hokusai-redis-development --query 'ReplicationGroups[0].{tls:TransitEncryptionEnabled,"
            "auth:AuthTokenEnabled,nodeGroups:NodeGroups[0].PrimaryEndpoint}'",
        ),
        security_group="redis",
    )


def _database() -> Database:
    return Database(
        identifier=_fact("hokusai-mlflow-development", _tfstate("aws_db_instance.mlflow"), _at(CLAUDE_NOTES, "216")),
        endpoint_host=_fact(_RDS_HOST, _at(API_TASK_DEF, "63"), _tfstate("aws_db_instance.mlflow")),
        port=_fact(5432, _at(API_TASK_DEF, "39"), _tfstate("aws_db_instance.mlflow")),
        database=_fact("mlflow_db", _at(API_TASK_DEF, "59"), _tfstate("aws_db_instance.mlflow")),
        user=_fact("mlflow", _at(API_TASK_DEF, "47"), _tfstate("aws_db_instance.mlflow")),
        password=SecretReference(
            _fact(
                _DB_PASSWORD_VALUE_FROM,
                _at(VALIDATION, "67"),
                _at(SEPTEMBER_ISSUES, "95"),
                note="the same secret and key MLflow's password was taken from on 2025-09-30",
            )
        ),
        engine_version=_fact("15.12", _tfstate("aws_db_instance.mlflow"), note="July 2025 state"),
        security_group="rds",
    )


def _application() -> ApplicationReads:
    return ApplicationReads(
        auth_cache_redis_url=_fact(
            "REDIS_URL, when set, is used as given: no scheme added, no auth token added",
            _at(AUTH_MIDDLEWARE, "94-96"),
            _at(AUTH_MIDDLEWARE, "119-127"),
            note="redis-py rejects a URL without a scheme, and the middleware then runs without its cache",
        ),
        auth_cache_tls=_fact(
            "without REDIS_URL: rediss:// when REDIS_HOST starts with master.hokusai or ends with "
            ".cache.amazonaws.com, the token from REDIS_AUTH_TOKEN, database 0; REDIS_TLS_ENABLED is not read",
            _at(AUTH_MIDDLEWARE, "96-117"),
        ),
        settings_redis_url=_fact(
            "REDIS_URL with a scheme is returned unchanged (no token); a bare REDIS_URL gets rediss:// or redis:// "
            "from REDIS_TLS_ENABLED, the port from REDIS_PORT and the token from REDIS_AUTH_TOKEN",
            _at(API_SETTINGS, "250-287"),
            note="Settings.redis_url, used by /health and the event publisher",
        ),
        settings_redis_from_parts=_fact(
            "without REDIS_URL: REDIS_HOST is required; scheme from REDIS_TLS_ENABLED, port from REDIS_PORT "
            "(6379 by default), token from REDIS_AUTH_TOKEN, database 0",
            _at(API_SETTINGS, "289-318"),
        ),
        huggingface_key_read=_fact(
            "once, when the module-level serving service is built at import: a changed secret needs a new task",
            _at(MODEL_SERVING, "61-63"),
            _at(MODEL_SERVING, "353"),
            _at(MODEL_SERVING, "104-105"),
        ),
        model_download_dir=_fact(
            "/tmp",
            _at(MODEL_SERVING, "109-117"),
            _at(API_DOCKERFILE, "24"),
            note="a fresh tempfile.TemporaryDirectory per load, under Python's default temporary directory; "
            "the image sets no TMPDIR or HF_HOME",
            inferred=True,
        ),
        dns_cache_ttl_seconds=_fact(300, _at(DNS_RESOLVER, "85"), note="DNS_CACHE_TTL, default 300"),
        health_503_when=_fact(
            "only when at least one checked dependency is unhealthy and none is healthy; degraded answers 200",
            _at(HEALTH_ROUTES, "281-292"),
            _at(HEALTH_ROUTES, "322-329"),
        ),
        health_degraded_status=_fact(200, _at(HEALTH_ROUTES, "326-327")),
        uvicorn_port=_fact(
            8001, _at(API_DOCKERFILE, "34"), note="hard-coded in the image's command; API_PORT changes nothing"
        ),
        runs_as_root=_fact(
            True,
            _at(API_DOCKERFILE, "1-34"),
            _at(MLFLOW_DOCKERFILE, "1-29"),
            note="neither Dockerfile sets USER, and no task definition sets user",
            inferred=True,
        ),
        database_url_read=_fact(
            False,
            _at(API_SETTINGS, "48-70"),
            _at(API_SETTINGS, "132-150"),
            note="the connection is built from DB_HOST/DB_PORT/DB_USER/DB_NAME and DB_PASSWORD; "
            "`git grep DATABASE_URL a9ef708 -- src` finds nothing",
            inferred=True,
        ),
        api_secret_key_read=_fact(
            False,
            _at(STARTUP_VALIDATION, "142-146"),
            _at(STARTUP_VALIDATION, "233-241"),
            note="named only in a 'recommended' list of a check that runs as a script; "
            "`git grep API_SECRET_KEY a9ef708 -- src` finds nothing else",
            inferred=True,
        ),
        auth_service_id_default=_fact(
            "platform",
            _at(API_SETTINGS, "168"),
            note="AUTH_SERVICE_ID, the service the auth service validates API keys for; no task definition sets it",
        ),
        health_check_timeout_default=_fact(
            "10.0",
            _at(API_SETTINGS, "171"),
            note="HEALTH_CHECK_TIMEOUT in seconds: /health's wait on Redis and MLflow; longer than the target "
            "group's 5 s timeout",
        ),
        database_connect_timeout_default=_fact(
            10,
            _at(API_SETTINGS, "138"),
            note="DATABASE_CONNECT_TIMEOUT in seconds: /health's wait on PostgreSQL, per attempt",
        ),
    )


def _deploy() -> DeployWorkflow:
    return DeployWorkflow(
        name=_fact(
            "Deploy to AWS", _at(DEPLOY_WORKFLOW, "1"), note=f"{DEPLOY_WORKFLOW}, the only workflow that deploys"
        ),
        branch=_fact("main", _at(DEPLOY_WORKFLOW, "3-6"), _at(DEPLOY_WORKFLOW, "125")),
        image_repositories=_fact(
            ("hokusai-api", "hokusai-mlflow"),
            _at(DEPLOY_WORKFLOW, "12-13"),
            _at(DEPLOY_WORKFLOW, "174"),
            note="tagged with the pushed commit's SHA",
        ),
        registers_by_copying_latest=_fact(
            True,
            _at(DEPLOY_WORKFLOW, "171-176"),
            _at(DEPLOY_WORKFLOW, "184-189"),
            note="describe-task-definition of the family, the image replaced, register-task-definition: whatever "
            "the latest revision holds is carried forward",
        ),
        dropped_fields=_fact(
            (
                "taskDefinitionArn",
                "revision",
                "status",
                "requiresAttributes",
                "compatibilities",
                "registeredAt",
                "registeredBy",
            ),
            _at(DEPLOY_WORKFLOW, "174"),
        ),
        update_service_flags=_fact(
            ("--force-new-deployment", "--desired-count 1"),
            _at(DEPLOY_WORKFLOW, "200-205"),
            _at(DEPLOY_WORKFLOW, "214-219"),
        ),
        waits_fatally=_fact(
            False,
            _at(DEPLOY_WORKFLOW, "250-261"),
            note="a service that does not stabilise is reported and the job carries on",
        ),
        api_image_tag=Placeholder(
            what="the tag (a commit of the application) of the hokusai-api image the application's CI last "
            "pushed and deployed; the stack names the incident fix's commit until then",
            why_unknown="the workflow tags each build with the pushed commit; no source shows which builds ran "
            "(whether the push of the incident's fix deployed one is an open question) nor which image revision "
            "151 runs",
            how_to_find="aws ecr describe-images --repository-name hokusai-api "
            "--query 'sort_by(imageDetails,&imagePushedAt)[-1].imageTags' --output text",
        ),
    )


def _disagreements() -> tuple[Disagreement, ...]:
    return (
        Disagreement(
            topic="Which ALB serves api.hokus.ai",
            claims=(
                _fact("hokusai-main-development", _at(ENDPOINT_TESTS, "26"), note="2025-08-19"),
                _fact(_REGISTRY_ALB, _at(HTTPS_RESOLUTION, "35-37"), note="2025-10-02"),
            ),
            verdict=_REGISTRY_ALB,
            why="checked against the live endpoints on 2025-10-02; the write-up says the main ALB was an assumption",
        ),
        Disagreement(
            topic="The registry ALB's HTTPS rules",
            claims=(
                _fact(
                    ("/mlflow/*", "/health", "/api/mlflow/*", "/api/*"),
                    _at(REGISTRATION_TESTS, "16-20"),
                    note="2025-08-19, no priorities given",
                ),
                _fact(("/api/*", "/api/mlflow/*", "/mlflow/*"), _at(HTTPS_RESOLUTION, "22-25"), note="2025-10-02"),
            ),
            verdict="the 2025-10-02 rules: 50 /mlflow/*, 105 /api/mlflow/*, 110 /api/*",
            why="created by hand that day and tested live; not in any Terraform state",
        ),
        Disagreement(
            topic="ECS service names",
            claims=(
                _fact(
                    ("hokusai-api", "hokusai-mlflow"),
                    _tfstate("aws_ecs_service.api"),
                    _tfstate("aws_ecs_service.mlflow"),
                    note="this repository's July 2025 stack",
                ),
                _fact(
                    ("hokusai-api-development", "hokusai-mlflow-development"),
                    _at(VALIDATION, "38-41"),
                    _at(DEPLOY_WORKFLOW, "214-216"),
                ),
            ),
            verdict="hokusai-api-development and hokusai-mlflow-development",
            why="the incident's own commands address them",
        ),
        Disagreement(
            topic="How Redis reaches the API",
            claims=(
                _fact(
                    ("REDIS_HOST", "REDIS_PORT"),
                    _at(API_TASK_DEF, "21-35"),
                    note="plain environment in revision 92",
                ),
                _fact(
                    ("REDIS_URL", "REDIS_HOST", "REDIS_PORT"),
                    _at(VALIDATION, "69-79"),
                    _at(SEPTEMBER_ISSUES, "29"),
                    note="SSM-backed secrets from revision 134 (2025-09-30) to 151",
                ),
            ),
            verdict="SSM parameters through secrets, REDIS_URL included",
            why="the incident's revision 151 lists them",
        ),
        Disagreement(
            topic="The REDIS_AUTH_TOKEN reference",
            claims=(
                _fact(_REDIS_TOKEN_VALUE_FROM, _at(VALIDATION, "83"), _at(API_TASK_DEF, "75")),
                _fact(
                    f"arn:aws:secretsmanager:us-east-1:{_ACCOUNT}:secret:hokusai/redis/development/auth-token:auth_token::",
                    _at(NEW_TASK_DEF, "75"),
                    note="a register-ready draft without the ARN suffix",
                ),
            ),
            verdict="with the -0GWWJx suffix",
            why="revision 151 carries it",
        ),
        Disagreement(
            topic="The database password variable",
            claims=(
                _fact("DATABASE_PASSWORD", _at(LEGACY_MAIN_TF, "598-600"), note="legacy stack, beside SECRET_KEY"),
                _fact("DB_PASSWORD", _at(VALIDATION, "66"), _at(API_TASK_DEF, "70")),
            ),
            verdict="DB_PASSWORD (no SECRET_KEY)",
            why="revision 151's secrets",
        ),
        Disagreement(
            topic="The MLflow URL the API uses",
            claims=(
                _fact("http://registry.hokus.ai/mlflow", _at(LEGACY_MAIN_TF, "584-585"), note="as MLFLOW_TRACKING_URI"),
                _fact("http://mlflow.hokusai-development.local:5000", _at(API_TASK_DEF, "30-31")),
            ),
            verdict="http://mlflow.hokusai-development.local:5000",
            why="revision 92's MLFLOW_SERVER_URL, which is also the proxy's default in the code",
        ),
        Disagreement(
            topic="API task size (cpu/memory)",
            claims=(
                _fact((256, 512), _at(LEGACY_TFVARS, "18-19"), _at(LEGACY_VARIABLES_TF, "70-80")),
                _fact((512, 1024), _at(API_TASK_DEF, "149-150"), _at(API_TASK_DEF, "149-150", REVISION_73_COMMIT)),
            ),
            verdict="512/1024 most likely; revision 151's is not shown",
            why="revisions 73 and 92, the registered ones, agree; the Terraform variables are the legacy stack's",
        ),
        Disagreement(
            topic="API execution role",
            claims=(
                _fact(
                    f"arn:aws:iam::{_ACCOUNT}:role/hokusai-data-pipeline-ecs-execution-development",
                    _at(API_TASK_DEF, "101"),
                    note="revision 92",
                ),
                _fact(
                    "ecsTaskExecutionRole",
                    _at(SEPTEMBER_ISSUES, "39"),
                    _at(SEPTEMBER_ISSUES, "47"),
                    _at(SEPTEMBER_ISSUES, "53"),
                    note="2025-09-30: named in the access error, then given an inline policy by hand",
                ),
            ),
            verdict="unknown for revision 151; the later evidence points to ecsTaskExecutionRole",
            why="no source shows revision 151's roles (see the task definition placeholder)",
        ),
        Disagreement(
            topic="API container name",
            claims=(
                _fact("hokusai-api", _at(API_TASK_DEF, "5"), note="revision 92"),
                _fact("api", _at(HF_FIX_TASKS, "101-104"), note="an ECS Exec example in the incident's fix tasks"),
            ),
            verdict="unknown for revision 151; the stack follows the dumps (hokusai-api)",
            why="the example was written, not run against the task; the load balancer's container name must be "
            "the task definition's, so check revision 151 (services.api.task_definition_details) before cutover",
        ),
        Disagreement(
            topic="API log group",
            claims=(
                _fact("/ecs/hokusai/api/development", _tfstate("aws_cloudwatch_log_group.api")),
                _fact("/ecs/hokusai-api-development", _at(API_TASK_DEF, "81"), _at(ROLLBACK_ROOT_CAUSE, "312")),
            ),
            verdict="/ecs/hokusai-api-development",
            why="the group the task definitions write to and the incident read",
        ),
        Disagreement(
            topic="The API target group's health check path",
            claims=(
                _fact("/health/alb", _at(ENDPOINT_SUMMARY, "56-57"), note="2025-08-20"),
                _fact("/health", _at(ROLLBACK_TESTS, "169-172"), note="2025-10-01"),
            ),
            verdict="/health",
            why="the later reading, and the incident's timeouts were on /health",
        ),
        Disagreement(
            topic="The MLflow container's health check path",
            claims=(
                _fact("/health", _at(MLFLOW_TASK_DEF, "61"), note="revision 19"),
                _fact("/mlflow", _at(LEGACY_MAIN_TF, "670"), _at(MLFLOW_DOCKERFILE, "22")),
            ),
            verdict="unknown for revision 43; /health works either way",
            why="MLflow 3.4.0 registers /health outside the static prefix",
        ),
        Disagreement(
            topic="Desired count",
            claims=(
                _fact(2, _tfstate("aws_ecs_service.api"), _at(LEGACY_TFVARS, "20"), note="legacy stack, July"),
                _fact(1, _at(VALIDATION, "110"), _at(DEPLOY_WORKFLOW, "205")),
            ),
            verdict="1",
            why="the incident's deployment and every workflow run set 1",
        ),
        Disagreement(
            topic="API image repository",
            claims=(
                _fact("hokusai-api", _at(DEPLOY_WORKFLOW, "12"), _at(DEPLOY_WORKFLOW, "174")),
                _fact("hokusai/api", _at(API_TASK_DEF, "6")),
            ),
            verdict="unknown for revision 151; both repositories exist",
            why="the workflow pushes to hokusai-api, hand-registered revisions used hokusai/api",
        ),
    )


def _differences() -> tuple[Difference, ...]:
    return (
        Difference(
            subject="Redis settings of the API",
            live="REDIS_URL (and REDIS_HOST, REDIS_PORT) from SSM: a bare host name",
            ours="no REDIS_URL; REDIS_HOST, REDIS_PORT and REDIS_TLS_ENABLED=true as plain settings, "
            "REDIS_AUTH_TOKEN as a secret",
            why="With REDIS_URL unset, both readers build `rediss://:<token>@host:port/0`: Settings.redis_url from "
            "REDIS_TLS_ENABLED, the auth middleware from the ElastiCache host name. Live, the bare REDIS_URL left "
            "the middleware without its cache. A URL with a scheme would be taken as given by both, without the "
            "token: Redis authentication would silently be off, or the token would have to sit in a plain setting.",
            live_facts=(
                "services.api.secrets.REDIS_URL",
                "redis.endpoint_parameter_value",
                "application.auth_cache_redis_url",
                "application.settings_redis_url",
            ),
        ),
        Difference(
            subject="Where Redis and database host and port come from",
            live="REDIS_HOST and REDIS_PORT from SSM parameters; DB_* as hand-written environment",
            ours="plain settings derived from each service's dependency declarations",
            why="A host and a port are not secrets. One declaration gives both the address the service dials and "
            "the security-group rule that admits it, so the two cannot disagree.",
            live_facts=(
                "services.api.secrets.REDIS_HOST",
                "services.api.secrets.REDIS_PORT",
                "services.api.environment",
            ),
        ),
        Difference(
            subject="DATABASE_URL",
            live="an SSM parameter in the API's secrets",
            ours="not provided",
            why="The application never reads it. It builds its connection from DB_HOST, DB_PORT, DB_USER, DB_NAME "
            "and DB_PASSWORD, so the parameter only widens the execution role and keeps a copy that can drift.",
            live_facts=("services.api.secrets.DATABASE_URL", "application.database_url_read"),
        ),
        Difference(
            subject="API_SECRET_KEY",
            live="not provided (absent from revisions 92 and 151)",
            ours="not provided",
            why="Nothing in the server reads it: only a script's list of recommended variables names it. "
            "Requiring it would create and grant a credential that no code uses.",
            live_facts=("application.api_secret_key_read",),
        ),
        Difference(
            subject="IAM roles",
            live="roles shared by both services; by 2025-09-30 ecsTaskExecutionRole, with an inline policy added "
            "by hand that reads hokusai/app-secrets/development-*, hokusai/redis/development/auth-token-* and "
            "every parameter under /hokusai/development/",
            ours="an execution role and a task role per service; the execution role reads exactly the secrets its "
            "container references",
            why="A shared role with wildcard grants lets every service read every secret. A policy added by hand "
            "is invisible to review: no source shows what let revision 151 read the Hugging Face secret.",
            live_facts=("services.api.execution_role", "services.api.task_role", "services.mlflow.execution_role"),
        ),
        Difference(
            subject="Security groups",
            live="the API on the shared hokusai-data-pipeline-ecs-tasks group; Redis admitted only an older group "
            "until redis_from_data_pipeline_ecs, written but never applied, was applied by hand at the incident",
            ours="a security group per service; each dependency's group admits it by reference, one rule per "
            "consumer, from the service's dependency declarations",
            why="A rule that exists only in code is the incident's second failure. A rule per consumer, derived "
            "from what the service declares it reaches, is created with the service and checked live by verify.",
            live_facts=("security_groups.api_task", "security_groups.redis", "redis_rule"),
        ),
        Difference(
            subject="Task count",
            live="1 task (the workflow forces --desired-count 1)",
            ours="desired count 2, CPU autoscaling between 2 and 6",
            why="One task is a single point of failure: whenever ECS replaces it (a deploy, a failed health "
            "check, host maintenance), the API is down until the new task passes its checks.",
            live_facts=("services.api.desired_count",),
        ),
        Difference(
            subject="Target group health checks",
            live="/health every 30 s with a 5 s timeout; thresholds and deregistration delay not shown",
            ours="interval 10 s, healthy after 2 checks, unhealthy after 3, deregistration delay 30 s, set on the "
            "imported target groups (an in-place update)",
            why="A new task takes traffic within about 20 s, one slow answer (the incident's Redis timeouts) does "
            "not eject a target, and draining is bounded. Importing the groups and updating them in place keeps "
            "the listener rules that forward to them.",
            live_facts=("target_groups.api.health_check_interval", "target_groups.api.health_check_timeout"),
        ),
        Difference(
            subject="MLflow's backend store URI",
            live="BACKEND_STORE_URI as a plain environment value with the database password in it",
            ours="BACKEND_STORE_URI from a Secrets Manager secret",
            why="ECS shows plain environment values to anyone who may describe the task definition; a connection "
            "string with a password is a credential.",
            live_facts=("services.mlflow.environment.BACKEND_STORE_URI",),
        ),
        Difference(
            subject="Redis settings of MLflow",
            live="REDIS_HOST, REDIS_PORT, REDIS_TLS_ENABLED and the REDIS_AUTH_TOKEN secret",
            ours="none",
            why="The stock `mlflow server` reads none of them; giving it the token only widens who holds it.",
            live_facts=("services.mlflow.secrets.REDIS_AUTH_TOKEN", "services.mlflow.environment.REDIS_HOST"),
        ),
        Difference(
            subject="How a deploy happens",
            live="the application's workflow copies the latest revision with a new image, then runs `update-service "
            "--force-new-deployment --desired-count 1` and does not fail when the service does not stabilise",
            ours="`pulumi up`, with the deploy gate",
            why="Copying the latest revision carries forward whatever was changed by hand (a secret dropped stays "
            "dropped), resets the task count, and reports success after a rollback. The gate fails the update "
            "unless the declared revision runs at the desired count.",
            live_facts=(
                "deploy.registers_by_copying_latest",
                "deploy.update_service_flags",
                "deploy.waits_fatally",
            ),
        ),
        Difference(
            subject="Container user and root filesystem",
            live="both images run as root (no USER, no `user` in the task definitions) on a writable root filesystem",
            ours="a read-only root filesystem with /tmp as a task volume, where the API downloads its models and "
            "gunicorn keeps its worker files; user 1000:1000 by default, but the development stack runs the API "
            "and MLflow as root (exceptions.run_as_root, with its reason) until the images add a non-root user: "
            "a to-do",
            why="A compromised process that cannot write the image cannot rewrite the application. Root in the "
            "container owns everything the task can reach; the live images need a USER (and a writable /tmp, "
            "which the volume gives) before the exception can go.",
            live_facts=("application.runs_as_root", "application.model_download_dir"),
        ),
        Difference(
            subject="The API image",
            live="revision 92 (the latest dumped) ran hokusai/api:latest, registered by hand; revision 151's image "
            "is not shown",
            ours="the repository the application's deploy workflow pushes to, hokusai-api, at a commit tag",
            why="`latest` is mutable: a deploy registers no new revision and a rollback cannot name the old image. "
            "The workflow's repository holds every build under its commit, which the application's CI deploys "
            "(the tag is a placeholder until then: deploy.api_image_tag).",
            live_facts=("services.api.image", "deploy.image_repositories"),
        ),
        Difference(
            subject="The API's cache of MLflow's address",
            live="DNS_CACHE_TTL unset: the API keeps MLflow's resolved address for the code's 300 s",
            ours="DNS_CACHE_TTL=10, the Cloud Map records' TTL",
            why="Cloud Map answers with the running tasks' addresses for 10 s; a cache five minutes long sends "
            "the MLflow proxy to a task a deploy has already stopped.",
            live_facts=("application.dns_cache_ttl_seconds", "cloud_map.record_ttl"),
        ),
        Difference(
            subject="Dependency timeouts of the API's health check",
            live="HEALTH_CHECK_TIMEOUT and DATABASE_CONNECT_TIMEOUT unset: /health waits up to 10 s on each dependency",
            ours="both 2 s (core/target_group.py)",
            why="The target group gives /health 5 s. A slow dependency (the incident's Redis timeouts) made "
            "every check time out, and the load balancer took healthy tasks out of service; within 2 s the "
            "check answers, degraded, in time.",
            live_facts=(
                "application.health_check_timeout_default",
                "application.database_connect_timeout_default",
                "target_groups.api.health_check_timeout",
            ),
        ),
        Difference(
            subject="MLflow's other plain settings",
            live="ENVIRONMENT, MLFLOW_HOST and MLFLOW_PORT",
            ours="none",
            why="The image's command (`mlflow server --host 0.0.0.0 --port 5000 ...`) reads only "
            "BACKEND_STORE_URI and DEFAULT_ARTIFACT_ROOT; a setting nothing reads is one nobody notices is wrong.",
            live_facts=(
                "services.mlflow.environment.ENVIRONMENT",
                "services.mlflow.environment.MLFLOW_HOST",
                "services.mlflow.environment.MLFLOW_PORT",
                "mlflow_server.port",
            ),
        ),
        Difference(
            subject="Log retention",
            live="unknown",
            ours="30 days",
            why="A group without retention keeps everything forever, at a cost that only grows; 30 days covers "
            "an incident review and matches the legacy stack's own groups.",
            live_facts=("services.api.log_retention_days", "services.mlflow.log_retention_days"),
        ),
    )


def _carried_over() -> tuple[CarriedOver, ...]:
    return (
        CarriedOver(
            subject="API container health check (interval 30, timeout 5, retries 3, start period 60)",
            record_path="services.api.health_check",
            why="The live values are the ones the API passed with after the fix; the cutover changes only what it "
            "must.",
        ),
        CarriedOver(
            subject="MLflow container health check (interval 30, timeout 5, retries 3, start period 60, /health)",
            record_path="services.mlflow.health_check",
            why="Same reason; MLflow 3.4.0 answers /health whatever its static prefix.",
        ),
    )


LIVE = LiveEstate(
    incident=Incident(
        date=_fact("2025-10-07", _at(VALIDATION, "5")),
        symptom=_fact(
            "HuggingFace token not configured",
            _at(HF_ROOT_CAUSE, "5"),
            note="HTTP 500 on every POST /api/v1/models/21/predict",
        ),
        revision_before=_fact(150, _at(VALIDATION, "177-180"), _at(HF_ROOT_CAUSE, "43-48")),
        revision_after=_fact(151, _at(VALIDATION, "33"), _at(HF_COMPLETE, "228")),
    ),
    network=Network(
        account_id=_fact(_ACCOUNT, _at(API_TASK_DEF, "2")),
        region=_fact("us-east-1", _at(DEPLOY_WORKFLOW, "11"), _at(HF_COMPLETE, "229")),
        vpc_id=_fact(
            "vpc-0ca0902abd6eb1cba",
            _tfstate("module.vpc.aws_vpc.this[0]"),
            note="July 2025 state; the API's incident subnet belongs to it",
        ),
        vpc_cidr=_fact("10.0.0.0/16", _tfstate("module.vpc.aws_vpc.this[0]")),
        private_subnets=_fact(
            ("subnet-08cb7663096ac0017", "subnet-0ed8f9974563ee77b", "subnet-0723ebd69ea2a54f8"),
            _tfstate("module.vpc.aws_subnet.private[0]"),
            _tfstate("module.vpc.aws_subnet.private[1]"),
            _tfstate("module.vpc.aws_subnet.private[2]"),
            note="10.0.1.0/24 us-east-1a, 10.0.2.0/24 us-east-1b, 10.0.3.0/24 us-east-1c (July 2025)",
        ),
        public_subnets=_fact(
            ("subnet-07b0ed7866eac07ce", "subnet-0dc9088af90608056", "subnet-0048cee8b58b7bea0"),
            _tfstate("module.vpc.aws_subnet.public[0]"),
            _tfstate("module.vpc.aws_subnet.public[1]"),
            _tfstate("module.vpc.aws_subnet.public[2]"),
            note="10.0.101-103.0/24 (July 2025)",
        ),
    ),
    security_groups=_security_groups(),
    redis_rule=_redis_rule(),
    cluster=Cluster(
        name=_fact("hokusai-development", _at(VALIDATION, "38"), _at(HF_COMPLETE, "226")),
        container_insights=_fact(
            "enabled",
            _tfstate("aws_ecs_cluster.main"),
            _at(LEGACY_MAIN_TF, "244-247"),
            note="July 2025 state",
        ),
    ),
    services=_frozen({"api": _api_service(), "mlflow": _mlflow_service()}),
    target_groups=_target_groups(),
    load_balancers=_load_balancers(),
    cloud_map=_cloud_map(),
    redis=_redis(),
    database=_database(),
    artifacts=ArtifactStore(
        bucket=_fact(
            "hokusai-mlflow-artifacts-development",
            _tfstate("aws_s3_bucket.mlflow_artifacts"),
            _at(MLFLOW_UPGRADE, "174"),
        ),
        intended_root=_fact(
            "s3://hokusai-mlflow-artifacts-development/artifacts",
            _at(LEGACY_MAIN_TF, "655-656"),
            _at(LEGACY_MAIN_TF, "126"),
            note="what the legacy stack sets; the live container's value is a placeholder",
            inferred=True,
        ),
    ),
    auth_service=AuthService(
        url=_fact("https://auth.hokus.ai", _at(API_TASK_DEF, "55"), _at(API_SETTINGS, "166")),
        internal_url=_fact("http://auth.hokusai-development.local:8000", _at(CLAUDE_NOTES, "62")),
        read_from=_fact(
            ("HOKUSAI_AUTH_SERVICE_URL", "AUTH_SERVICE_URL"),
            _at(AUTH_MIDDLEWARE, "86-88"),
            _at(API_SETTINGS, "166"),
            note="the middleware takes HOKUSAI_AUTH_SERVICE_URL first, then Settings.auth_service_url",
            inferred=True,
        ),
    ),
    mlflow_server=MlflowServer(
        version=_fact("3.4.0", _at(MLFLOW_DOCKERFILE, "12"), _at(MLFLOW_UPGRADE, "10")),
        port=_fact(5000, _at(MLFLOW_DOCKERFILE, "29"), _at(MLFLOW_ENTRYPOINT, "10")),
        static_prefix=_fact("/mlflow", _at(MLFLOW_DOCKERFILE, "29"), _at(MLFLOW_ENTRYPOINT, "11")),
        backend_store_variable=_fact("BACKEND_STORE_URI", _at(MLFLOW_DOCKERFILE, "25"), _at(MLFLOW_DOCKERFILE, "29")),
        artifact_root_variable=_fact(
            "DEFAULT_ARTIFACT_ROOT", _at(MLFLOW_DOCKERFILE, "26"), _at(MLFLOW_DOCKERFILE, "29")
        ),
        serves_artifacts=_fact(True, _at(MLFLOW_DOCKERFILE, "29"), _at(MLFLOW_ENTRYPOINT, "14")),
        health_path=_fact(
            "/health",
            MLFLOW_WHEEL_SERVER,
            note="registered as /health, not through the static prefix, so it answers at /health with "
            "--static-prefix /mlflow",
        ),
    ),
    application=_application(),
    deploy=_deploy(),
    disagreements=_disagreements(),
    differences=_differences(),
    carried_over=_carried_over(),
)
