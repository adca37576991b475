"""Every stack setting, declared once: key, kind, default, what it accepts, what it is for.

The section readers read each value through its declaration here, the loader
refuses every key not declared here, and docs/SETTINGS.md is generated from
here (`python -m core.settings.docs --write`). So a default, a range or a
pattern is written once, and the documentation cannot drift from the checks.

Facts that belong to AWS or to the contract stay where they are and are
referenced: the Fargate sizes (core/fargate.py), the services (core/contract.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from core.contract import CONTRACTS, DEFAULT_PORTS, dependency_names
from core.fargate import VALID_SIZES
from core.settings.exception_names import REASON, REASON_SHAPE, LoadBalancerException, ServiceException
from core.settings.fields import (
    EMPTY_MAPPING,
    NAMESPACE,
    UNSET,
    ArnShape,
    DerivedDefault,
    Kind,
    Setting,
)
from core.tls_policies import RECOMMENDED as RECOMMENDED_TLS_POLICY

# --------------------------------------------------------------------------- #
# What values look like
# --------------------------------------------------------------------------- #

REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
ACCOUNT_ID = re.compile(r"^\d{12}$")
VPC_ID = re.compile(r"^vpc-[0-9a-f]{8}([0-9a-f]{9})?$")
SUBNET_ID = re.compile(r"^subnet-[0-9a-f]{8}([0-9a-f]{9})?$")
SECURITY_GROUP_ID = re.compile(r"^sg-[0-9a-f]{8}([0-9a-f]{9})?$")
SSL_POLICY = re.compile(r"^ELBSecurityPolicy-[A-Za-z0-9-]+$")
# Elastic Load Balancing: at most 32 letters, digits and hyphens, not starting or ending with a hyphen
# nor starting with "internal-". https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html
TARGET_GROUP_NAME = re.compile(r"^(?!internal-)[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?\Z")
# A label becomes part of a rule's name (<dependency>-from-<label>).
CONSUMER_LABEL = re.compile(r"^[a-z][a-z0-9-]{0,40}$")
# A DNS name a service dials (an ElastiCache or RDS endpoint, a Cloud Map name).
HOST_NAME = re.compile(
    r"^(?=.{1,253}\Z)[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\Z"
)
# PostgreSQL identifiers as RDS accepts them for a database or a user.
DATABASE_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]{0,62}\Z")
# A URL without credentials: nothing between the scheme and the host may be a user or password.
URL = re.compile(r"^[a-z][a-z0-9+.-]*://[A-Za-z0-9.-]+(:\d{1,5})?(/[^\s@]*)?\Z")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# AWS tag limits; keys starting with aws: are reserved for AWS itself.
TAG_KEY = re.compile(r"(?is)^(?!aws:).{1,128}\Z")
TAG_VALUE = re.compile(r"(?s)^.{0,256}\Z")
# Pinned by tag or digest: a reference without one means `latest`.
IMAGE = re.compile(r"^[a-z0-9][a-z0-9._/:-]*[a-z0-9](:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[0-9a-f]{64})$")
HOST = re.compile(r"^[A-Za-z0-9*?.-]{1,128}$")
PATH = re.compile(r"^/[A-Za-z0-9_\-.$/~\"'@:+*?&]{0,127}$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SECRET_NAME = re.compile(r"^[A-Za-z0-9/_+=.@-]{1,512}$")
# What ECS may take from a secret (core/value_from.py): each field is separated from the next by ':'.
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html
SECRET_JSON_KEY = re.compile(r"^[^:\s][^:]{0,255}\Z")
# Staging labels: AWSCURRENT, AWSPREVIOUS, AWSPENDING, or one of the secret's own (Secrets Manager: 1-256 characters).
SECRET_VERSION_STAGE = re.compile(r"^[A-Za-z0-9_+=.@-]{1,256}\Z")
# Version ids: what Secrets Manager generates is a UUID; one given at put-secret-value is 32-64 characters.
SECRET_VERSION_ID = re.compile(r"^[A-Za-z0-9-]{32,64}\Z")
CONFIG_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
# The Linux user a container runs as: a numeric uid, or uid:gid. Numeric, because a name must
# exist in the image's /etc/passwd; uid 0 is root, which `exceptions.run_as_root` says instead.
CONTAINER_USER = re.compile(r"^(?!0+(:|\Z))\d{1,10}(:\d{1,10})?\Z")

# An ALB rule takes at most 5 condition values (hosts and paths together).
MAX_RULE_VALUES = 5

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

# The smallest and largest memory of any Fargate task size (MiB); the pair with cpu is checked apart.
_FARGATE_MEMORY = sorted(memory for sizes in VALID_SIZES.values() for memory in sizes)

_SECRET_ARN = ArnShape("secretsmanager", "secret:", "a Secrets Manager secret")

# --------------------------------------------------------------------------- #
# The settings, in the order the docs list them
# --------------------------------------------------------------------------- #

_SETTINGS = (
    # -- the stack ------------------------------------------------------------
    Setting(
        "region",
        Kind.TEXT,
        "region of every resource; every ARN in the config must be in it (the AWS provider's own key)",
        namespace="aws",
        pattern=REGION,
        shape="an AWS region code such as us-east-1",
        fix="pulumi config set aws:region us-east-1",
        refused="{value!r} is not an AWS region",
        refused_fix="use a region code such as us-east-1",
    ),
    Setting(
        "account_id",
        Kind.TEXT,
        "the account the stack deploys to; credentials for another account are refused",
        pattern=ACCOUNT_ID,
        shape="a 12-digit AWS account id",
        fix="pulumi config set account_id <12-digit account id of this stack>",
    ),
    Setting("network", Kind.SECTION, "the existing VPC and the subnets the tasks run in"),
    Setting(
        "load_balancer",
        Kind.SECTION,
        "the ALB in front of the services: adopt an existing listener or create one, exactly one of the two",
    ),
    Setting(
        "dependencies",
        Kind.SECTION_MAPPING,
        "what the services reach (Redis, PostgreSQL, MLflow, the auth service), each declared once; every "
        "dependency a service's contract names must be here, unless it is another service of this stack",
        default=UNSET,
        names_shape="a dependency core/contract.py names: " + ", ".join(dependency_names()),
        example="dependencies: {redis: {security_group_id: sg-..., host: ..., port: 6379, tls: true}}",
    ),
    Setting(
        "services",
        Kind.SECTION_MAPPING,
        "the services to run, at least one, each under its contract's key",
        names_shape="a service core/contract.py knows: " + ", ".join(sorted(CONTRACTS)),
        example="services: {api: {image: ...}}",
    ),
    Setting(
        "log_retention_days",
        Kind.WHOLE_NUMBER,
        "how long CloudWatch Logs keeps each service's log group",
        default=30,
        allowed=LOG_RETENTION_DAYS,
        refused="{value} is not a retention CloudWatch Logs accepts",
    ),
    Setting(
        "alarm_emails",
        Kind.TEXT_LIST,
        "e-mail subscriptions to the alarm topic (each must confirm)",
        default=(),
        pattern=EMAIL,
        shape="an e-mail address",
    ),
    Setting(
        "secrets_kms_key_arn",
        Kind.ARN,
        "customer-managed key of the secrets; the execution role may decrypt with it, nothing else",
        default=UNSET,
        arn=ArnShape("kms", "key/", "a KMS key"),
    ),
    Setting(
        "observability_kms_key_arn",
        Kind.ARN,
        "customer-managed key the log groups (kms_key_id) and the alarm topic (kms_master_key_id) are encrypted "
        "with; unset, AWS-owned encryption. The program does not own the key: its policy must allow "
        "logs.<region>.amazonaws.com kms:Encrypt*, Decrypt*, ReEncrypt*, GenerateDataKey*, Describe* with "
        "kms:EncryptionContext:aws:logs:arn on the stack's log groups, and cloudwatch.amazonaws.com kms:Decrypt "
        "and kms:GenerateDataKey* (else alarms never reach the topic). A key ARN: CloudWatch Logs takes no alias",
        default=UNSET,
        arn=ArnShape("kms", "key/", "a KMS key"),
    ),
    Setting(
        "deploy_gate", Kind.SECTION, "whether `pulumi up` waits for each deployment to land", default=EMPTY_MAPPING
    ),
    Setting(
        "tags",
        Kind.TEXT_MAPPING,
        "extra tags on every resource (beside project, environment, managed-by)",
        default=EMPTY_MAPPING,
        names=TAG_KEY,
        names_shape="1-128 characters not starting with aws:",
        pattern=TAG_VALUE,
        shape="at most 256 characters",
        refused="is longer than 256 characters",
        refused_fix="shorten the tag value",
    ),
    # -- network --------------------------------------------------------------
    Setting(
        "network.vpc_id",
        Kind.TEXT,
        "the existing VPC",
        pattern=VPC_ID,
        shape="a VPC id (vpc-...)",
        fix="set network.vpc_id to the id of the estate's VPC (vpc-...)",
    ),
    Setting(
        "network.private_subnet_ids",
        Kind.TEXT_LIST,
        "subnets the tasks run in, at least one (tasks get no public IP)",
        pattern=SUBNET_ID,
        shape="a subnet id (subnet-...)",
        fix="list the private subnets the tasks run in (subnet-...)",
    ),
    Setting(
        "network.public_subnet_ids",
        Kind.TEXT_LIST,
        "subnets of a created ALB: two or more, in different availability zones; only with load_balancer.create",
        default=(),
        pattern=SUBNET_ID,
        shape="a subnet id (subnet-...)",
    ),
    # -- load balancer --------------------------------------------------------
    Setting(
        "load_balancer.listener_arn",
        Kind.ARN,
        "adopt this existing ALB listener (the development stack does)",
        default=UNSET,
        arn=ArnShape("elasticloadbalancing", "listener/app/", "an Application Load Balancer listener"),
    ),
    Setting(
        "load_balancer.create",
        Kind.BOOLEAN,
        "create the ALB instead; its security group is the only world-open one (80/443)",
        default=False,
    ),
    Setting(
        "load_balancer.certificate_arn",
        Kind.ARN,
        "with create: serve HTTPS and redirect HTTP; without it the new ALB serves HTTP only (a warning says so)",
        default=UNSET,
        arn=ArnShape("acm", "certificate/", "an ACM certificate"),
    ),
    Setting(
        "load_balancer.ssl_policy",
        Kind.TEXT,
        "TLS policy of the created ALB's HTTPS listener (with create and a certificate); one of the TLS 1.2+ "
        "policies in core/tls_policies.py unless load_balancer.exceptions.tls_policy_not_allowed says why. "
        "An adopted listener's own policy is held to the same list at preview, and it must be HTTPS",
        default=RECOMMENDED_TLS_POLICY,
        pattern=SSL_POLICY,
        shape="an ELB security policy name",
    ),
    Setting(
        "load_balancer.exceptions",
        Kind.TEXT_MAPPING,
        "load-balancer defaults relaxed on purpose, `name: reason` (the reason is required, and shown at every "
        "preview): " + "; ".join(f"`{e.value}`" for e in LoadBalancerException),
        default=EMPTY_MAPPING,
        names=re.compile("^(" + "|".join(e.value for e in LoadBalancerException) + ")$"),
        names_shape="one of " + ", ".join(e.value for e in LoadBalancerException),
        pattern=REASON,
        shape=REASON_SHAPE,
        example="{tls_policy_not_allowed: <why>}",
    ),
    # -- dependencies -----------------------------------------------------------
    Setting(
        "dependencies.<dependency>",
        Kind.SECTION,
        "one dependency: where the services find it, and its security group if it has one; the services "
        "whose contract reads it get its settings derived from here (docs/ENVIRONMENT.md), never by hand. "
        "A dependency that is another service of this stack (mlflow) is not declared: its Cloud Map name, "
        "port and security group are that service's",
        default=UNSET,
        example="{security_group_id: sg-..., host: ..., port: 6379, tls: true}",
    ),
    Setting(
        "dependencies.<dependency>.security_group_id",
        Kind.TEXT,
        "the dependency's security group: the program adds a rule to it admitting each service that reaches "
        "it on its port (`<dependency>-from-<service>`), and an egress rule to it on the service's group. "
        "Without it the services reach the dependency only over HTTPS (443), which their egress allows",
        default=UNSET,
        pattern=SECURITY_GROUP_ID,
        shape="a security group id (sg-...)",
    ),
    Setting(
        "dependencies.<dependency>.port",
        Kind.WHOLE_NUMBER,
        "the port the dependency listens on: the rules open it, and it is the `port` the services read",
        default=DerivedDefault(
            ", ".join(f"{name} {port}" for name, port in sorted(DEFAULT_PORTS.items())) + "; otherwise the url's port"
        ),
        low=1,
        high=65535,
    ),
    Setting(
        "dependencies.<dependency>.host",
        Kind.TEXT,
        "the DNS name the services dial (an ElastiCache or RDS endpoint), when their contract reads a host",
        default=UNSET,
        pattern=HOST_NAME,
        shape="a DNS name",
    ),
    Setting(
        "dependencies.<dependency>.tls",
        Kind.BOOLEAN,
        "whether connections use TLS (ElastiCache with encryption in transit needs it), when read",
        default=False,
    ),
    Setting(
        "dependencies.<dependency>.database",
        Kind.TEXT,
        "the database the services open, when their contract reads one",
        default=UNSET,
        pattern=DATABASE_IDENTIFIER,
        shape="a PostgreSQL identifier",
    ),
    Setting(
        "dependencies.<dependency>.user",
        Kind.TEXT,
        "the user the services connect as (its password is a secret), when their contract reads one",
        default=UNSET,
        pattern=DATABASE_IDENTIFIER,
        shape="a PostgreSQL identifier",
    ),
    Setting(
        "dependencies.<dependency>.url",
        Kind.TEXT,
        "the URL the services call, when their contract reads one; never with a user or password in it",
        default=UNSET,
        pattern=URL,
        shape="a URL without credentials, e.g. https://auth.hokus.ai",
    ),
    Setting(
        "dependencies.<dependency>.extra_consumers",
        Kind.TEXT_MAPPING,
        "consumers outside this stack, `label: sg-...`; each gets a rule `<dependency>-from-<label>` "
        "(only with security_group_id)",
        default=EMPTY_MAPPING,
        names=CONSUMER_LABEL,
        names_shape="lower-case letters, digits and dashes, e.g. data-pipeline-ecs",
        pattern=SECURITY_GROUP_ID,
        shape="a security group id (sg-...)",
    ),
    # -- deploy gate ----------------------------------------------------------
    Setting(
        "deploy_gate.enabled",
        Kind.BOOLEAN,
        "fail `pulumi up` when a deployment rolls back or does not settle",
        default=True,
    ),
    Setting(
        "deploy_gate.timeout_seconds",
        Kind.WHOLE_NUMBER,
        "how long the gate waits for the deployment to settle",
        default=900,
        low=60,
        high=3600,
    ),
    # -- one service ----------------------------------------------------------
    Setting(
        "services.<service>",
        Kind.SECTION,
        "one service; what it needs (secrets, settings, port) comes from its contract",
        default=UNSET,
    ),
    Setting(
        "services.<service>.image",
        Kind.TEXT,
        "the image to run, pinned by digest (`repo@sha256:...`); a tag only with exceptions.immutable_tags or "
        "exceptions.mutable_image_tag (a tag can be pushed again); `latest` is refused in any case (a deploy would "
        "register no new revision)",
        pattern=IMAGE,
        shape="a container image with a tag or digest",
        fix="set {path} to the image to run, e.g. <account>.dkr.ecr.<region>.amazonaws.com/hokusai/{service}:<git sha>",
        refused="{value!r} has no tag or digest, or is not an image reference",
        refused_fix="pin the image to a tag or digest (repo:tag or repo@sha256:...)",
    ),
    Setting(
        "services.<service>.cpu",
        Kind.WHOLE_NUMBER,
        "Fargate CPU units of one task",
        default=512,
        allowed=tuple(VALID_SIZES),
        refused="Fargate has no task size with {value} CPU units",
    ),
    Setting(
        "services.<service>.memory",
        Kind.WHOLE_NUMBER,
        "memory of one task (MiB); the pair with cpu must be a size Fargate runs (core/fargate.py)",
        default=1024,
        low=_FARGATE_MEMORY[0],
        high=_FARGATE_MEMORY[-1],
    ),
    Setting(
        "services.<service>.desired_count",
        Kind.WHOLE_NUMBER,
        "tasks at first deploy; autoscaling owns the count afterwards",
        default=2,
        low=1,
        high=100,
    ),
    Setting(
        "services.<service>.autoscaling",
        Kind.SECTION,
        "CPU target tracking between min and max tasks",
        default=EMPTY_MAPPING,
    ),
    Setting(
        "services.<service>.autoscaling.min",
        Kind.WHOLE_NUMBER,
        "fewest tasks; at most desired_count",
        default=DerivedDefault("desired_count"),
        low=1,
        high=100,
    ),
    Setting(
        "services.<service>.autoscaling.max",
        Kind.WHOLE_NUMBER,
        "most tasks; at least desired_count",
        default=DerivedDefault("2 × desired_count"),
        low=1,
        high=100,
    ),
    Setting(
        "services.<service>.autoscaling.cpu_target_percent",
        Kind.WHOLE_NUMBER,
        "average CPU the scaling policy keeps the service at",
        default=60,
        low=10,
        high=90,
    ),
    Setting(
        "services.<service>.health_check_grace_seconds",
        Kind.WHOLE_NUMBER,
        "ALB health checks are ignored this long after a task starts",
        default=60,
        low=0,
        high=1800,
    ),
    Setting(
        "services.<service>.routes",
        Kind.SECTION_LIST,
        "ALB listener rules to the service, at least one; priorities unique across services",
        fix="route traffic to the service, e.g. {path}: [{{priority: 100, hosts: [api.hokus.ai]}}]",
    ),
    Setting(
        "services.<service>.routes[].priority",
        Kind.WHOLE_NUMBER,
        "the rule's priority on the listener (lower wins)",
        low=1,
        high=50000,
        fix="give the rule a unique priority from 1 to 50000 (lower wins)",
    ),
    Setting(
        "services.<service>.routes[].hosts",
        Kind.TEXT_LIST,
        f"host headers the rule matches (any of them); hosts and paths together at most {MAX_RULE_VALUES} values",
        default=(),
        pattern=HOST,
        shape="a host name such as api.hokus.ai",
    ),
    Setting(
        "services.<service>.routes[].adopt_existing",
        Kind.BOOLEAN,
        "the listener already has a rule at this priority, one of the live rules the cutover imports into this "
        "route (`pulumi import`, RUNBOOK.md): preview accepts it. Without it, a rule at the priority that this "
        "stack does not manage stops preview, naming the rule",
        default=False,
    ),
    Setting(
        "services.<service>.routes[].paths",
        Kind.TEXT_LIST,
        "path patterns the rule matches (any of them), with hosts if both are given",
        default=(),
        pattern=PATH,
        shape="a path pattern starting with /",
    ),
    Setting(
        "services.<service>.target_group_name",
        Kind.TEXT,
        "the target group's name. The derived default changes whenever a change of port, protocol, target type "
        "or VPC replaces the group, so the replacement never collides with the old name; a fixed name (the live "
        "group's, which the cutover imports: a changed name replaces it) does not, so such a change fails at "
        "`pulumi up` with a name conflict: change the name with it (core/replacement.py lists what replaces "
        "a target group, and `pulumi preview` shows the replace)",
        default=DerivedDefault("hokusai-<service>-<stack>-<digest of port, protocol, target type and VPC>"),
        pattern=TARGET_GROUP_NAME,
        shape="a target group name: at most 32 letters, digits and hyphens, not starting or ending with a hyphen",
    ),
    Setting(
        "services.<service>.environment",
        Kind.TEXT_MAPPING,
        "plain settings, `NAME: value`; those the contract requires must be set (docs/ENVIRONMENT.md); "
        "credential-like names and passwords in URLs are refused; derived ones are refused: ENVIRONMENT, API_PORT, "
        "and those derived from a dependency (REDIS_HOST is derived from dependency redis: host); "
        "absent when the service needs none",
        # Not required: a service whose contract asks no plain setting of the stack (the api's all
        # come from the stack and its dependencies) has nothing to write here.
        default=UNSET,
        names=ENV_NAME,
        names_shape="letters, digits and underscores, not starting with a digit",
        shape="text (numbers and booleans are written as text)",
    ),
    Setting(
        "services.<service>.secrets",
        Kind.SECTION_MAPPING,
        "where each secret's value lives, `VAR: {existing: ...}` or `VAR: {create: ...}`; every contract secret must be here",
        names=ENV_NAME,
        names_shape="letters, digits and underscores, not starting with a digit",
    ),
    Setting(
        "services.<service>.secrets.<VAR>",
        Kind.SECTION,
        "one secret: exactly one of existing or create",
        default=UNSET,
        example="{existing: hokusai/<stack>/huggingface/api-key}",
    ),
    Setting(
        "services.<service>.secrets.<VAR>.existing",
        Kind.TEXT,
        "a secret that exists; looked up at preview, so a missing one stops it",
        default=UNSET,
        pattern=SECRET_NAME,
        shape="a Secrets Manager secret name or ARN",
        arn=_SECRET_ARN,
    ),
    Setting(
        "services.<service>.secrets.<VAR>.create",
        Kind.TEXT,
        "a secret the program declares; its value is put out of band, or comes from value_from",
        default=UNSET,
        pattern=SECRET_NAME,
        shape="a Secrets Manager secret name",
    ),
    Setting(
        "services.<service>.secrets.<VAR>.value_from",
        Kind.TEXT,
        "with create: the encrypted config key holding the value (`pulumi config set --secret <key>`)",
        default=UNSET,
        pattern=CONFIG_KEY,
        shape="a top-level config key such as apiSecretKey",
        refused="must name a top-level config key",
        refused_fix="use a key such as apiSecretKey",
    ),
    Setting(
        "services.<service>.secrets.<VAR>.json_key",
        Kind.TEXT,
        "read only this key of a JSON secret (valueFrom `<arn>:<json_key>::`); without it, the whole value",
        default=UNSET,
        pattern=SECRET_JSON_KEY,
        shape="a JSON key without ':'",
        refused="{value!r} is not a JSON key ECS can read: it is empty, starts with a space or contains ':'",
        refused_fix="name the key as it is in the secret's JSON, e.g. database_password",
    ),
    Setting(
        "services.<service>.secrets.<VAR>.version_stage",
        Kind.TEXT,
        "read the version with this staging label (AWSCURRENT unless set); not with version_id",
        default=UNSET,
        pattern=SECRET_VERSION_STAGE,
        shape="a staging label such as AWSCURRENT or AWSPREVIOUS",
    ),
    Setting(
        "services.<service>.secrets.<VAR>.version_id",
        Kind.TEXT,
        "read this version of an existing secret; not with version_stage",
        default=UNSET,
        pattern=SECRET_VERSION_ID,
        shape="a version id (a UUID, 32-64 letters, digits and dashes)",
    ),
    Setting(
        "services.<service>.user",
        Kind.TEXT,
        "the Linux user the container runs as (`uid` or `uid:gid`, never 0); ignored with exceptions.run_as_root",
        default="1000:1000",
        pattern=CONTAINER_USER,
        shape="a numeric uid or uid:gid other than 0, e.g. 1000:1000",
        refused="{value!r} is not a numeric non-root uid or uid:gid",
        refused_fix="use a numeric uid:gid such as 1000:1000; to run as root, declare exceptions.run_as_root "
        "with the reason instead",
    ),
    Setting(
        "services.<service>.exceptions",
        Kind.TEXT_MAPPING,
        "secure defaults relaxed on purpose, `name: reason`; each holds unless named here, and the reason is "
        "required, shown at every preview, by `make synth` and in the estate output. "
        "`run_as_root`: the image's own user instead of `user`; "
        "`writable_root_filesystem`: the root filesystem is writable (otherwise only the contract's writable "
        "paths are, each a task volume); "
        "`ecs_exec`: ECS Exec on, with its grant on the task role and session logging on the cluster; "
        "`mutable_image_tag`: an image pinned by tag, not digest (development only); "
        "`immutable_tags`: the image's ECR repository has tag immutability, which the program cannot see offline",
        default=EMPTY_MAPPING,
        names=re.compile("^(" + "|".join(e.value for e in ServiceException) + ")$"),
        names_shape="one of " + ", ".join(e.value for e in ServiceException),
        pattern=REASON,
        shape=REASON_SHAPE,
        example='{run_as_root: "the image sets no USER yet"}',
    ),
    Setting(
        "services.<service>.task_role_policy_arns",
        Kind.ARN_LIST,
        "managed policies for what the application itself calls",
        default=(),
        arn=ArnShape("iam", "policy/", "an IAM managed policy", in_stack_account=False),
    ),
)

DECLARED: Mapping[str, Setting] = MappingProxyType({s.config_key: s for s in _SETTINGS})
"""config key (`hokusai:network.vpc_id`) -> its declaration, in the docs' order.

Read through `declared`, `children` and `all_declared` at call time, so a test
that swaps this mapping changes what the loader checks and what the docs say alike.
"""


def all_declared() -> tuple[Setting, ...]:
    return tuple(DECLARED.values())


def declared(key: str, namespace: str = NAMESPACE) -> Setting:
    """The declaration of `key` (`services.<service>.cpu`); a KeyError is a bug in a reader."""
    return DECLARED[f"{namespace}:{key}"]


def children(section: str) -> tuple[Setting, ...]:
    """The settings directly inside `section` ("" for the top level, `x[]` for a list's items)."""
    return tuple(s for s in DECLARED.values() if s.namespace == NAMESPACE and s.parent == section)


def child_names(section: str) -> tuple[str, ...]:
    return tuple(s.name for s in children(section))


def declared_default(key: str) -> Any:
    """For the model's dataclass defaults: the value declared here, so it is written once.
    (Any: the declaration's kind, not the type checker, says what type it is.)"""
    return declared(key).default


TOP_LEVEL_KEYS = child_names("")
SERVICE_KEYS = child_names("services.<service>")
