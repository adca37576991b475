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
    # The key of the conventional secret's JSON value the variable is read from (the estate
    # keeps several values in one secret); empty when the whole value is the variable's.
    default_json_key: str = ""

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
    # the TTL of the services' Cloud Map records (core/service_discovery.py)
    DISCOVERY_TTL = "discovery_ttl"
    # how long one dependency check may take inside the target group's health check (core/target_group.py)
    DEPENDENCY_CHECK_TIMEOUT = "dependency_check_timeout"


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
    """A variable the application reads (its `.env.example` lists it, or appcheck finds its code
    reading it) that the infrastructure deliberately does not provide to the deployed service
    (envcheck and appcheck read these).

    Each entry is a reviewed decision, not a way to silence envcheck: a variable
    that is neither provided nor listed here is reported so a human decides.
    """

    env_var: str
    # Why the deployed service does without it; shown by envcheck and docs/ENVIRONMENT.md.
    reason: str
    # Where the application's code reads it (a file of its src/ and the line, at the commit
    # appcheck was run on: docs/APPCHECK.md), for a variable its `.env.example` does not list:
    # envcheck then knows the entry is not stale.
    read_at: str = ""


@dataclass(frozen=True)
class UndocumentedRead:
    """A variable the contract provides that the application's code reads but its `.env.example`
    does not list (envcheck reports it as a warning, not as a variable nothing reads).

    The gap is the application's documentation, not the contract: `read_at` names the line
    that reads it (a file of the application's `src/` at the commit appcheck was run on,
    docs/APPCHECK.md), so a reviewer can check the claim.
    """

    env_var: str
    read_at: str


@dataclass(frozen=True)
class S3Access:
    """Read and write access of the service's task role to the S3 location a plain setting names.

    The setting's value is an `s3://bucket[/prefix]` URI (checked when the stack is loaded);
    the task role may list that prefix and get, put and delete the objects under it, and
    nothing else in S3 (core/documents.py: s3_prefix_policy). One value, so the location the
    application writes to and the location it may write to cannot disagree.
    """

    env_var: str
    purpose: str


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
    # Where the application writes: each path is a task volume (Fargate ephemeral storage)
    # mounted read-write, and the rest of the root filesystem is read-only.
    writable_paths: tuple[str, ...] = ()
    # Provided variables the application reads that its `.env.example` leaves out (see UndocumentedRead).
    undocumented_reads: tuple[UndocumentedRead, ...] = ()
    # The task role's S3 access, each to the location one of the service's plain settings names.
    s3_access: tuple[S3Access, ...] = ()

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
    r"(^|_)(SECRET|PASSWORD|PASSWD|PASS|PWD|TOKEN|API_KEY|APIKEY|ACCESS_KEY|PRIVATE_KEY|CREDENTIALS?|DSN"
    r"|PAT|SALT|PEPPER|SIGNING)($|_)"
)
# A name ending in KEY names a key (HF_KEY, STRIPE_KEY, JWT_SIGNING_KEY), unless it is one of
# the keys that are not credentials: a data-structure key, or the public id of a key pair
# (AWS_ACCESS_KEY_ID ends in ID, and ACCESS_KEY flags it above: the pair travels together).
_KEY_AT_THE_END = re.compile(r"(^|_)KEY$")
_NOT_A_CREDENTIAL_KEY = re.compile(
    r"(^|_)(PARTITION|SORT|PRIMARY|FOREIGN|CACHE|ROUTING|IDEMPOTENCY|HASH|RANGE|OBJECT|S3|PUBLIC|JSON|LOOKUP)_KEY$"
)


def looks_secret(env_var: str) -> bool:
    name = env_var.upper()
    if SECRET_LIKE_NAME.search(name):
        return True
    return bool(_KEY_AT_THE_END.search(name)) and not _NOT_A_CREDENTIAL_KEY.search(name)


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


def _code_default(default: str) -> str:
    """The reason for a tuning knob the deployed API runs with the application's default for."""
    return (
        f"tuning: the application's default ({default}) applies, as it did live (no dumped task definition "
        "sets it); provide it here only to change it"
    )


# Why the api contract leaves a variable the application's code reads (docs/APPCHECK.md) to the
# code: each a reviewed decision, in a few words (appcheck and envcheck show them, and
# docs/ENVIRONMENT.md). File names are the application's, under src/, at the commit appcheck read.
_PIPELINE = (
    "the offline pipeline's configuration (utils/config.py), which the server loads only for its DSPy "
    "routes; the code's default applies, as it did live"
)
_WEBHOOKS_OFF = (
    "webhook notifications are off in the deployed service, as live (no receiver exists; no task definition "
    "set WEBHOOK_URL): the webhook publisher and its settings are read only when WEBHOOK_URL is set"
)
_DSPY_TRACING = "DSPy tracing to MLflow (integrations/mlflow_dspy.py): the code's defaults apply, as they did live"
_PROVIDERS = (
    "inference-provider tuning (config/providers.py), read only by the predict route module, which "
    "api/main.py does not mount"
)
_HOKUSAI_DB = (
    "the model-deployment database settings (database/config.py), read only by the predict route module "
    "(not mounted by api/main.py) and the CLI; the server's database is DB_*/DATABASE_*"
)
_MODEL_STORAGE = "model upload (services/model_storage/), which nothing the server imports uses"
_UNUSED_SETTINGS_FIELD = "a Settings field (api/utils/config.py) no code under src/ uses"
_NOT_READ = "nothing under src/ reads it (only .env.example lists it)"
_CLI_ONLY = "read by the command-line client (cli/), not by the server"

API = ServiceContract(
    key="api",
    description="Hokusai prediction API (FastAPI): /api/v1/models/{id}/predict, /info, /health, MLflow proxy",
    # The live estate's names (core/live_estate.py: services.api), so the cutover imports what runs.
    container_name="hokusai-api",
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
            # The estate keeps the application's secrets in one JSON secret (core/live_estate.py).
            default_secret_name="hokusai/app-secrets/{environment}",
            default_json_key="database_password",
            breaks="the API cannot connect to PostgreSQL: model registry and API-key lookups fail",
        ),
        SecretRequirement(
            env_var="REDIS_AUTH_TOKEN",
            default_secret_name="hokusai/redis/{environment}/auth-token",
            default_json_key="auth_token",
            breaks="the auth cache in Redis rejects the API: every authenticated request is slow or fails",
        ),
    ),
    settings=(
        SettingRequirement("ENVIRONMENT", "deployment environment name", derived_from=DerivedFrom.ENVIRONMENT),
        SettingRequirement("API_PORT", "port uvicorn listens on", derived_from=DerivedFrom.CONTAINER_PORT),
        SettingRequirement("AUTH_SERVICE_ID", "the service the auth service validates API keys for"),
        SettingRequirement(
            "DNS_CACHE_TTL",
            "how long the API caches MLflow's resolved address: the Cloud Map records' TTL, not the code's "
            "300 s, so a replaced MLflow task is dialled within seconds",
            derived_from=DerivedFrom.DISCOVERY_TTL,
        ),
        SettingRequirement(
            "HEALTH_CHECK_TIMEOUT",
            "how long /health waits on Redis and MLflow: inside the target group's health-check timeout",
            derived_from=DerivedFrom.DEPENDENCY_CHECK_TIMEOUT,
        ),
        SettingRequirement(
            "DATABASE_CONNECT_TIMEOUT",
            "how long /health waits on PostgreSQL: inside the target group's health-check timeout",
            derived_from=DerivedFrom.DEPENDENCY_CHECK_TIMEOUT,
        ),
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
            "the auth service that validates API keys (the middleware reads HOKUSAI_AUTH_SERVICE_URL, "
            "the settings AUTH_SERVICE_URL)",
            (
                ("HOKUSAI_AUTH_SERVICE_URL", DependencyAttribute.URL),
                ("AUTH_SERVICE_URL", DependencyAttribute.URL),
            ),
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
        # core/live_estate.py: application.api_secret_key_read and the difference "API_SECRET_KEY".
        NotProvided(
            "API_SECRET_KEY",
            "nothing in the server reads it: only api/utils/startup_validation.py's list of recommended variables "
            "names it, in a check that runs as a script; providing it would create and grant an unused credential",
        ),
        # The password: DB_PASSWORD is provided, and the code reads it first.
        NotProvided(
            "DATABASE_PASSWORD",
            "the other name the code reads the database password under, after DB_PASSWORD "
            "(api/utils/config.py), which is provided as a secret",
        ),
        NotProvided(
            "DB_SECRET_NAME",
            "read only when neither DB_PASSWORD nor DATABASE_PASSWORD is set, to fetch the password itself; "
            "DB_PASSWORD is provided, and the task role may read no secret",
        ),
        NotProvided("API_HOST", "the image's command binds uvicorn to 0.0.0.0 itself (Dockerfile.api)"),
        NotProvided(
            "MLFLOW_FALLBACK_IP",
            "a fixed MLflow address for when DNS fails: Cloud Map resolves MLflow, and a task's address changes "
            "at every deploy",
        ),
        NotProvided(
            "MLFLOW_ARTIFACT_ROOT",
            "the artifact location of experiments the API creates; MLflow's own DEFAULT_ARTIFACT_ROOT applies "
            "when it is unset, as live",
            read_at="utils/mlflow_config.py:216",
        ),
        NotProvided(
            "MLFLOW_SERVE_ARTIFACTS",
            _code_default("true: the MLflow server runs with --serve-artifacts, Dockerfile.mlflow"),
            read_at="api/routes/health_mlflow.py:75",
        ),
        NotProvided(
            "MLFLOW_PROXY_DEBUG",
            _code_default("false: no request dumps in the logs"),
            read_at="api/routes/health_mlflow.py:18",
        ),
        NotProvided("MLFLOW_EXPERIMENT_NAME", _code_default("hokusai-pipeline")),
        NotProvided("MLFLOW_MAX_RETRIES", _code_default("3"), read_at="utils/mlflow_config.py:196"),
        NotProvided("MLFLOW_BASE_DELAY", _code_default("2.0 s"), read_at="utils/mlflow_config.py:197"),
        NotProvided("MLFLOW_CB_FAILURE_THRESHOLD", _code_default("5"), read_at="api/utils/config.py:174"),
        NotProvided("MLFLOW_CB_RECOVERY_TIMEOUT", _code_default("60 s"), read_at="api/utils/config.py:175"),
        NotProvided("MLFLOW_CB_MAX_RECOVERY_ATTEMPTS", _code_default("5"), read_at="api/utils/config.py:176"),
        NotProvided("DNS_TIMEOUT", _code_default("10 s"), read_at="utils/dns_resolver.py:86"),
        NotProvided("AUTH_SERVICE_TIMEOUT", _code_default("10 s")),
        NotProvided("CORS_ORIGINS", _code_default('["*"]')),
        NotProvided("DATABASE_FALLBACK_NAME", _code_default("mlflow"), read_at="api/utils/config.py:45"),
        NotProvided("DATABASE_MAX_RETRIES", _code_default("3"), read_at="api/utils/config.py:139"),
        NotProvided("DATABASE_RETRY_DELAY", _code_default("1.0 s"), read_at="api/utils/config.py:140"),
        NotProvided("MESSAGE_QUEUE_TYPE", _code_default("redis"), read_at="events/publishers/factory.py:33"),
        NotProvided("SECRET_KEY", _UNUSED_SETTINGS_FIELD, read_at="api/utils/config.py:26"),
        NotProvided("ALGORITHM", _UNUSED_SETTINGS_FIELD, read_at="api/utils/config.py:27"),
        NotProvided("ACCESS_TOKEN_EXPIRE_MINUTES", _UNUSED_SETTINGS_FIELD, read_at="api/utils/config.py:28"),
        NotProvided("RATE_LIMIT_REQUESTS", _UNUSED_SETTINGS_FIELD, read_at="api/utils/config.py:162"),
        NotProvided("RATE_LIMIT_PERIOD", _UNUSED_SETTINGS_FIELD, read_at="api/utils/config.py:163"),
        NotProvided("ENABLE_REDIS_FALLBACK", _UNUSED_SETTINGS_FIELD, read_at="api/utils/config.py:189"),
        NotProvided("WEBHOOK_URL", _WEBHOOKS_OFF),
        NotProvided("WEBHOOK_SECRET", _WEBHOOKS_OFF),
        NotProvided("WEBHOOK_SECRET_KEY", _WEBHOOKS_OFF, read_at="events/publishers/factory.py:60"),
        NotProvided("WEBHOOK_TIMEOUT", _WEBHOOKS_OFF),
        NotProvided("WEBHOOK_MAX_RETRIES", _WEBHOOKS_OFF),
        NotProvided("WEBHOOK_RETRY_DELAY", _WEBHOOKS_OFF),
        NotProvided("WEBHOOK_CIRCUIT_BREAKER_FAILURE_THRESHOLD", _WEBHOOKS_OFF),
        NotProvided("WEBHOOK_CIRCUIT_BREAKER_RECOVERY_TIME", _WEBHOOKS_OFF),
        NotProvided("PIPELINE_ENV", _PIPELINE),
        NotProvided("PIPELINE_LOG_LEVEL", _PIPELINE),
        NotProvided("PIPELINE_DATA_DIR", _PIPELINE),
        NotProvided("PIPELINE_MODEL_DIR", _PIPELINE),
        NotProvided("METAFLOW_DATASTORE_ROOT", _PIPELINE),
        NotProvided("RANDOM_SEED", _PIPELINE),
        NotProvided("DRY_RUN", _PIPELINE),
        NotProvided("MAX_WORKERS", _PIPELINE, read_at="utils/config.py:80"),
        NotProvided("BATCH_SIZE", _PIPELINE, read_at="utils/config.py:81"),
        NotProvided("CONFIDENCE_THRESHOLD", _PIPELINE, read_at="utils/config.py:84"),
        NotProvided("MESSAGE_QUEUE_NAME", _PIPELINE, read_at="utils/config.py:102"),
        NotProvided("MESSAGE_RETRY_MAX", _PIPELINE, read_at="utils/config.py:103"),
        NotProvided("MESSAGE_RETRY_BASE_DELAY", _PIPELINE, read_at="utils/config.py:104"),
        NotProvided("MLFLOW_DSPY_ENABLED", _DSPY_TRACING, read_at="integrations/mlflow_dspy.py:77"),
        NotProvided("MLFLOW_DSPY_LOG_INPUTS", _DSPY_TRACING, read_at="integrations/mlflow_dspy.py:78"),
        NotProvided("MLFLOW_DSPY_LOG_OUTPUTS", _DSPY_TRACING, read_at="integrations/mlflow_dspy.py:79"),
        NotProvided("MLFLOW_DSPY_LOG_SIGNATURES", _DSPY_TRACING, read_at="integrations/mlflow_dspy.py:80"),
        NotProvided("MLFLOW_DSPY_LOG_INTERMEDIATE", _DSPY_TRACING, read_at="integrations/mlflow_dspy.py:81"),
        NotProvided("MLFLOW_DSPY_SAMPLING_RATE", _DSPY_TRACING, read_at="integrations/mlflow_dspy.py:83"),
        NotProvided("MLFLOW_DSPY_BUFFER_SIZE", _DSPY_TRACING, read_at="integrations/mlflow_dspy.py:84"),
        NotProvided("MLFLOW_DSPY_EXPERIMENT", _DSPY_TRACING, read_at="integrations/mlflow_dspy.py:85"),
        NotProvided("HUGGINGFACE_DEFAULT_INSTANCE", _PROVIDERS, read_at="config/providers.py:28"),
        NotProvided("HUGGINGFACE_TIMEOUT", _PROVIDERS, read_at="config/providers.py:29"),
        NotProvided("HUGGINGFACE_MAX_RETRIES", _PROVIDERS, read_at="config/providers.py:30"),
        NotProvided("SAGEMAKER_DEFAULT_INSTANCE", _PROVIDERS, read_at="config/providers.py:55"),
        NotProvided("SAGEMAKER_TIMEOUT", _PROVIDERS, read_at="config/providers.py:56"),
        NotProvided("SAGEMAKER_MAX_RETRIES", _PROVIDERS, read_at="config/providers.py:57"),
        NotProvided("HOKUSAI_DB_HOST", _HOKUSAI_DB, read_at="database/config.py:21"),
        NotProvided("HOKUSAI_DB_PORT", _HOKUSAI_DB, read_at="database/config.py:22"),
        NotProvided("HOKUSAI_DB_NAME", _HOKUSAI_DB, read_at="database/config.py:23"),
        NotProvided("HOKUSAI_DB_USER", _HOKUSAI_DB, read_at="database/config.py:24"),
        NotProvided("HOKUSAI_DB_PASSWORD", _HOKUSAI_DB, read_at="database/config.py:25"),
        NotProvided("HOKUSAI_DB_TYPE", _HOKUSAI_DB, read_at="database/config.py:26"),
        NotProvided("HOKUSAI_MODEL_BUCKET", _MODEL_STORAGE, read_at="services/model_storage/storage_manager.py:224"),
        NotProvided("CONTAINER_REGISTRY", _MODEL_STORAGE, read_at="services/model_storage/storage_manager.py:293"),
        NotProvided("USER", _MODEL_STORAGE, read_at="services/model_storage/huggingface_uploader.py:397"),
        NotProvided("HOKUSAI_ADMIN_TOKEN", _CLI_ONLY),
        NotProvided(
            "SERVICE_AUTH_TOKEN",
            "read by api/auth_utils.py for api/proxy.py, a module nothing imports",
            read_at="api/auth_utils.py:32",
        ),
        NotProvided(
            "GOOGLE_CLOUD_PROJECT",
            "read by events/handlers.py's Pub/Sub handler, which nothing creates",
            read_at="events/handlers.py:54",
        ),
        NotProvided("DISABLE_DOCS", _NOT_READ),
        NotProvided("METAFLOW_DEFAULT_DATASTORE", _NOT_READ),
    ),
    # The application reads these (src/ at the incident's commit, docs/APPCHECK.md) but its
    # .env.example does not list them.
    undocumented_reads=(
        UndocumentedRead("REDIS_TLS_ENABLED", "api/utils/config.py:259"),
        UndocumentedRead("AUTH_SERVICE_URL", "api/utils/config.py:166"),
        UndocumentedRead("DNS_CACHE_TTL", "utils/dns_resolver.py:85"),
        UndocumentedRead("HEALTH_CHECK_TIMEOUT", "api/utils/config.py:171"),
        UndocumentedRead("DATABASE_CONNECT_TIMEOUT", "api/utils/config.py:138"),
    ),
    # Models download into a fresh tempfile.TemporaryDirectory under Python's default temporary
    # directory, with huggingface_hub's cache_dir set to it (the record: application.model_download_dir),
    # so /tmp is the one place it writes; HF_HOME (~/.cache) is never used and needs no volume.
    writable_paths=("/tmp",),
)

MLFLOW = ServiceContract(
    key="mlflow",
    description="MLflow tracking server and model registry (stock `mlflow server`) behind the API's /api/mlflow proxy",
    container_name="hokusai-mlflow",
    container_port=5000,
    # MLflow 3.4.0 serves /health outside its --static-prefix (core/live_estate.py: mlflow_server.health_path).
    health_check_path="/health",
    metric_namespace="Hokusai/MLflow",
    # The image's command reads exactly these two (Dockerfile.mlflow: mlflow server --backend-store-uri
    # "${BACKEND_STORE_URI}" --default-artifact-root "${DEFAULT_ARTIFACT_ROOT}").
    secrets=(
        SecretRequirement(
            env_var="BACKEND_STORE_URI",
            # A PostgreSQL URI with the password in it: a credential, so a secret (the live task had it
            # in plain text; core/live_estate.py, differences: "MLflow's backend store URI").
            default_secret_name="hokusai/{environment}/mlflow/backend-store-uri",
            breaks="MLflow cannot open its backend store: every registry call returns HTTP 500",
        ),
    ),
    settings=(
        SettingRequirement(
            "DEFAULT_ARTIFACT_ROOT",
            "where MLflow stores run artifacts, an s3://bucket/prefix URI; the task role may read and write there",
        ),
    ),
    s3_access=(S3Access("DEFAULT_ARTIFACT_ROOT", "the run artifacts MLflow serves (--serve-artifacts)"),),
    dependencies=(
        # No settings: the database's address is inside BACKEND_STORE_URI. The dependency gives the rule
        # on the database's security group that admits MLflow.
        DependencyRequirement(POSTGRES, "the MLflow backend store, which BACKEND_STORE_URI names", ()),
    ),
    error_signatures=(ERROR_LINES, HTTP_5XX),
    # `mlflow server` with a remote backend and artifact store writes little to disk, but on Linux it
    # runs gunicorn (mlflow/server/__init__.py of the 3.x series), whose workers keep heartbeat files
    # in the temporary directory, /tmp by default. Not a fact of the estate's repository: MLflow's own.
    writable_paths=("/tmp",),
)

CONTRACTS: Mapping[str, ServiceContract] = {c.key: c for c in (API, MLFLOW)}


def dependency_names(contracts: Mapping[str, ServiceContract] | None = None) -> tuple[str, ...]:
    """Every dependency a contract names, sorted: the names a stack may declare."""
    contracts = CONTRACTS if contracts is None else contracts
    return tuple(sorted({d for contract in contracts.values() for d in contract.dependency_names}))
