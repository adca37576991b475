"""What each service needs from the infrastructure, declared once.

Everything that knows about a required variable reads it from here: the task
definition, the execution-role grant, settings validation, the tests, the live
verifier, envcheck and docs/ENVIRONMENT.md. The incident this project exists for
was a required secret (HUGGINGFACE_API_KEY) written in one place and forgotten
in another; a single declaration is the cure.

Pure data: no Pulumi, no boto3.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True)
class SecretRequirement:
    """A variable whose value lives in Secrets Manager and reaches the container
    only through the task definition's `secrets` list."""

    env_var: str
    # Where the value lives by convention; `{environment}` is the stack name.
    # Stack config still has to name the secret explicitly: the default is only
    # offered in error messages, so nothing is ever adopted by accident.
    default_secret_name: str
    # What a user sees when the secret is missing: used in every error message.
    breaks: str

    def secret_name_for(self, environment: str) -> str:
        return self.default_secret_name.format(environment=environment)


class DerivedFrom(StrEnum):
    """What the program derives a plain setting from, instead of reading it from config.

    A StrEnum, so the value still reads (and compares) as the words it always was.
    """

    # the stack name
    ENVIRONMENT = "environment"
    # the contract's container port
    CONTAINER_PORT = "container_port"


@dataclass(frozen=True)
class SettingRequirement:
    """A plain (non-secret) variable that reaches the container through `environment`."""

    env_var: str
    purpose: str
    # None: the stack config supplies the value. Otherwise the program derives it
    # from the stack itself, so it can never disagree with the infrastructure.
    derived_from: DerivedFrom | None = None


class DependencyAttribute(StrEnum):
    """What a service may read about something it reaches; the value is the key the stack
    declares it under (`dependencies.<dependency>.<attribute>`)."""

    HOST = "host"
    PORT = "port"
    # "true" or "false": whether the connection uses TLS
    TLS = "tls"
    DATABASE = "database"
    USER = "user"
    URL = "url"


@dataclass(frozen=True)
class DependencyRequirement:
    """Something a service reaches over the network (Redis, PostgreSQL, MLflow, the auth service),
    and the plain settings the application reads its address from.

    The stack declares each dependency once (`dependencies.<name>`), or it is another service of
    the same stack; the program derives the settings from that declaration and, when the
    dependency has a security group, writes the rule on it that admits this service on its port.
    The settings cannot be set by hand, so the address a service dials and the rule that lets it
    through come from one place: the missing `redis_from_data_pipeline_ecs` rule of the incident
    was a consumer written down in one place and forgotten in the other.
    """

    dependency: str
    purpose: str
    # env var -> the attribute of the dependency it carries, as the application reads it
    settings: tuple[tuple[str, DependencyAttribute], ...]

    @property
    def env_vars(self) -> tuple[str, ...]:
        return tuple(env_var for env_var, _ in self.settings)


@dataclass(frozen=True)
class NotProvided:
    """A variable the application's `.env.example` lists but the infrastructure
    deliberately does not provide to the deployed service (envcheck reads these).

    Each entry is a reviewed decision, not a way to silence envcheck: a variable
    that is neither provided nor listed here is reported so a human decides.
    """

    env_var: str
    # Why the deployed service does without it; shown by envcheck and docs/ENVIRONMENT.md.
    reason: str


@dataclass(frozen=True)
class ErrorSignature:
    """A log line that means the service is broken, turned into a metric,
    an alarm and (when `deployment_alarm`) an automatic rollback."""

    key: str
    metric_name: str
    # A CloudWatch Logs filter pattern (documents.py builds and checks them).
    filter_pattern: str
    # A sample log line the pattern must match (checked by the tests).
    sample: str
    threshold: int
    meaning: str
    fix: str
    deployment_alarm: bool = True
    # The exact text the application writes (log line, response body) when the
    # signature is one known message; smoke looks for it in HTTP 5xx bodies.
    message: str = ""
    # The secret whose absence makes the application write it (smoke names it in its fix).
    missing_secret: str = ""
    # The text of the application's HTTP 5xx body, and of the line it logs, when that
    # secret HAS a value the provider refuses: the same failure family, fixed in the
    # same secret (smoke names it; it looks for the body text, its fix quotes the log line).
    refused_message: str = ""
    refused_log: str = ""


@dataclass(frozen=True)
class ServiceContract:
    key: str
    description: str
    container_name: str
    container_port: int
    health_check_path: str
    metric_namespace: str
    secrets: tuple[SecretRequirement, ...]
    settings: tuple[SettingRequirement, ...]
    error_signatures: tuple[ErrorSignature, ...]
    # What the service reaches over the network (see DependencyRequirement). A contract
    # fact, not a per-stack choice: the rules that let a service through follow from it.
    dependencies: tuple[DependencyRequirement, ...] = ()
    # Variables the application's `.env.example` lists that the infrastructure
    # deliberately does not provide (see NotProvided); empty unless reviewed.
    not_provided: tuple[NotProvided, ...] = ()

    @property
    def secret_names(self) -> tuple[str, ...]:
        return tuple(s.env_var for s in self.secrets)

    @property
    def setting_names(self) -> tuple[str, ...]:
        """Every plain setting the service gets: its own, then those derived from its dependencies."""
        return tuple(s.env_var for s in self.settings) + self.dependency_setting_names

    @property
    def dependency_names(self) -> tuple[str, ...]:
        return tuple(d.dependency for d in self.dependencies)

    @property
    def dependency_setting_names(self) -> tuple[str, ...]:
        return tuple(env_var for d in self.dependencies for env_var in d.env_vars)

    def dependency_setting(self, env_var: str) -> tuple[DependencyRequirement, DependencyAttribute] | None:
        """The dependency `env_var` is derived from, and which attribute of it; None for any other name."""
        for requirement in self.dependencies:
            for name, attribute in requirement.settings:
                if name == env_var:
                    return requirement, attribute
        return None

    def must_be_secret(self, env_var: str) -> bool:
        """Whether `env_var` must never travel as a plain `environment` value: any
        credential-like name, and every secret this service declares."""
        return looks_secret(env_var) or env_var in self.secret_names

    def secret(self, env_var: str) -> SecretRequirement:
        for requirement in self.secrets:
            if requirement.env_var == env_var:
                return requirement
        raise KeyError(env_var)


# Names that must never travel as plain `environment`: a value under such a name
# is a credential, and ECS shows plain environment values to anyone who may
# describe the task definition. Used by settings validation, verify and envcheck.
SECRET_LIKE_NAME = re.compile(
    r"(^|_)(SECRET|PASSWORD|PASSWD|PASS|TOKEN|API_KEY|APIKEY|ACCESS_KEY|PRIVATE_KEY|CREDENTIALS?|DSN)($|_)"
)


def looks_secret(env_var: str) -> bool:
    return bool(SECRET_LIKE_NAME.search(env_var.upper()))


# Generic failure signatures every service's logs are watched for.
ERROR_LINES = ErrorSignature(
    key="error_lines",
    metric_name="ErrorLogLines",
    # An unquoted term matches the word anywhere in the line: Python's logging
    # ("ERROR:root:..."), uvicorn ("ERROR:    Exception in ASGI application").
    filter_pattern="ERROR",
    sample="ERROR:    Exception in ASGI application",
    threshold=10,
    meaning="the service logs errors at a sustained rate",
    fix="read the log group for the failing requests: aws logs tail <log group> --since 15m --filter-pattern ERROR",
)

HTTP_5XX = ErrorSignature(
    key="http_5xx",
    metric_name="Http5xxResponses",
    # uvicorn's access line: `... "POST /api/v1/models/21/predict HTTP/1.1" 500 ...`.
    # CloudWatch regex allows no spaces or quotes, so `..` stands for `" `.
    filter_pattern=r"%HTTP/[0-9]\.[0-9]..5[0-9][0-9]%",
    sample='INFO:     10.0.1.5:43312 - "POST /api/v1/models/21/predict HTTP/1.1" 500 Internal Server Error',
    threshold=5,
    meaning="the service answers requests with HTTP 5xx",
    fix="look for the exception behind the 5xx in the log group, then run `make verify` for configuration drift",
)

# What the API logs and answers (HTTP 500) when it has no Hugging Face token: the incident.
_HUGGINGFACE_TOKEN_MESSAGE = "HuggingFace token not configured"
_HUGGINGFACE_API_KEY = "HUGGINGFACE_API_KEY"

HUGGINGFACE_TOKEN = ErrorSignature(
    key="huggingface_token",
    metric_name="HuggingFaceTokenError",
    message=_HUGGINGFACE_TOKEN_MESSAGE,
    missing_secret=_HUGGINGFACE_API_KEY,
    # huggingface_hub's HTTPError for a token the Hub refuses, as the API wraps and logs it
    # (model_serving.py at a9ef708; recorded in docs/SMOKE.md).
    refused_message="Failed to load model: 401",
    refused_log="Failed to load model from HuggingFace: 401 Client Error",
    # A quoted term matches the exact phrase.
    filter_pattern=f'"{_HUGGINGFACE_TOKEN_MESSAGE}"',
    sample=f"ERROR:src.api.endpoints.model_serving:{_HUGGINGFACE_TOKEN_MESSAGE}",
    threshold=1,
    meaning=f"the container has no {_HUGGINGFACE_API_KEY}: every prediction returns HTTP 500",
    fix=(
        f"make sure the task definition lists {_HUGGINGFACE_API_KEY} in `secrets` and its secret "
        "has a value (`make verify`), then `pulumi up`"
    ),
)

# What the services reach: the names a stack declares them under (`dependencies.<name>`).
# A dependency named like a service of the contract is that service when the stack runs it.
REDIS = "redis"
POSTGRES = "postgres"
MLFLOW_SERVER = "mlflow"
AUTH_SERVICE = "auth"

# The port a dependency listens on when the stack does not say (ElastiCache's and RDS's defaults).
DEFAULT_PORTS: Mapping[str, int] = {REDIS: 6379, POSTGRES: 5432}
# The one port a service's tasks may reach at any address (infra/security_group.py): a dependency
# without a security group is reachable on it only.
HTTPS_PORT = 443

_TASK_ROLE_CREDENTIALS = "the task role provides AWS credentials; static keys are for local development only"

API = ServiceContract(
    key="api",
    description="Hokusai prediction API (FastAPI): /api/v1/models/{id}/predict, /info, /health, MLflow proxy",
    container_name="api",
    container_port=8001,
    health_check_path="/health",
    metric_namespace="Hokusai/API",
    secrets=(
        SecretRequirement(
            env_var=_HUGGINGFACE_API_KEY,
            default_secret_name="hokusai/{environment}/huggingface/api-key",
            breaks=(
                "private Hugging Face models cannot be downloaded: every "
                f'POST /api/v1/models/{{id}}/predict returns HTTP 500 "{_HUGGINGFACE_TOKEN_MESSAGE}"'
            ),
        ),
        SecretRequirement(
            env_var="DB_PASSWORD",
            default_secret_name="hokusai/{environment}/database/password",
            breaks="the API cannot connect to PostgreSQL: model registry and API-key lookups fail",
        ),
        SecretRequirement(
            env_var="REDIS_AUTH_TOKEN",
            default_secret_name="hokusai/{environment}/redis/auth-token",
            breaks="the auth cache in Redis rejects the API: every authenticated request is slow or fails",
        ),
        SecretRequirement(
            env_var="API_SECRET_KEY",
            default_secret_name="hokusai/{environment}/api/secret-key",
            breaks="the API cannot sign or verify its tokens and refuses to start",
        ),
    ),
    settings=(
        SettingRequirement("ENVIRONMENT", "deployment environment name", derived_from=DerivedFrom.ENVIRONMENT),
        SettingRequirement("API_PORT", "port uvicorn listens on", derived_from=DerivedFrom.CONTAINER_PORT),
    ),
    dependencies=(
        DependencyRequirement(
            REDIS,
            "the auth cache and the event queue",
            (
                ("REDIS_HOST", DependencyAttribute.HOST),
                ("REDIS_PORT", DependencyAttribute.PORT),
                ("REDIS_TLS_ENABLED", DependencyAttribute.TLS),
            ),
        ),
        DependencyRequirement(
            POSTGRES,
            "the registry database (models, API keys)",
            (
                ("DATABASE_HOST", DependencyAttribute.HOST),
                ("DATABASE_PORT", DependencyAttribute.PORT),
                ("DATABASE_NAME", DependencyAttribute.DATABASE),
                ("DATABASE_USER", DependencyAttribute.USER),
            ),
        ),
        DependencyRequirement(
            MLFLOW_SERVER,
            "the MLflow tracking server: the /api/mlflow proxy forwards to it, the model loader tracks with it",
            (
                ("MLFLOW_SERVER_URL", DependencyAttribute.URL),
                ("MLFLOW_TRACKING_URI", DependencyAttribute.URL),
            ),
        ),
        DependencyRequirement(
            AUTH_SERVICE,
            "the auth service that validates API keys",
            (("HOKUSAI_AUTH_SERVICE_URL", DependencyAttribute.URL),),
        ),
    ),
    error_signatures=(HUGGINGFACE_TOKEN, ERROR_LINES, HTTP_5XX),
    not_provided=(
        # The auth middleware uses a REDIS_URL that has a scheme verbatim and never adds
        # REDIS_AUTH_TOKEN to it (core/live_estate.py: application.auth_cache_redis_url); with
        # REDIS_URL unset, both of the application's readers build the authenticated URL from
        # REDIS_HOST, REDIS_PORT, REDIS_TLS_ENABLED and the token.
        NotProvided(
            "REDIS_URL",
            "a REDIS_URL with a scheme is used as given, without REDIS_AUTH_TOKEN: Redis authentication would be "
            "off; the application builds its URL from REDIS_HOST, REDIS_PORT, REDIS_TLS_ENABLED and the token",
        ),
        # Static keys in a container are the credential leak the task role exists to prevent;
        # boto3 finds the task role's credentials through AWS_CONTAINER_CREDENTIALS_RELATIVE_URI.
        NotProvided("AWS_ACCESS_KEY_ID", _TASK_ROLE_CREDENTIALS),
        NotProvided("AWS_SECRET_ACCESS_KEY", _TASK_ROLE_CREDENTIALS),
        # https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-environment-variables.html
        NotProvided("AWS_REGION", "set by ECS/Fargate in every task to the region the task runs in"),
        NotProvided("HOKUSAI_API_KEY", "a client's key, used by the SDK examples and scripts, not by the server"),
        NotProvided("LINEAR_API_KEY", "developer tooling (issue tracker), not used by the running service"),
    ),
)

MLFLOW = ServiceContract(
    key="mlflow",
    description="MLflow tracking server and model registry behind the API's /api/mlflow proxy",
    container_name="mlflow",
    container_port=5000,
    health_check_path="/health",
    metric_namespace="Hokusai/MLflow",
    secrets=(
        SecretRequirement(
            env_var="DB_PASSWORD",
            default_secret_name="hokusai/{environment}/database/password",
            breaks="MLflow cannot open its backend store: every registry call returns HTTP 500",
        ),
    ),
    settings=(
        SettingRequirement("ENVIRONMENT", "deployment environment name", derived_from=DerivedFrom.ENVIRONMENT),
        SettingRequirement("MLFLOW_ARTIFACT_ROOT", "S3 URI where MLflow stores artifacts"),
    ),
    dependencies=(
        DependencyRequirement(
            POSTGRES,
            "the MLflow backend store",
            (
                ("DATABASE_HOST", DependencyAttribute.HOST),
                ("DATABASE_NAME", DependencyAttribute.DATABASE),
                ("DATABASE_USER", DependencyAttribute.USER),
            ),
        ),
    ),
    error_signatures=(ERROR_LINES, HTTP_5XX),
)

CONTRACTS: Mapping[str, ServiceContract] = {c.key: c for c in (API, MLFLOW)}


def dependency_names(contracts: Mapping[str, ServiceContract] | None = None) -> tuple[str, ...]:
    """Every dependency a contract names, sorted: the names a stack may declare."""
    contracts = CONTRACTS if contracts is None else contracts
    return tuple(sorted({d for contract in contracts.values() for d in contract.dependency_names}))
