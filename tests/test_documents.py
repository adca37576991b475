"""Pure document builders: container definitions (checked against the ECS API
model botocore ships), IAM policies, filter patterns."""

from __future__ import annotations

import botocore.session
import pytest
from botocore.validate import ParamValidator

from core import documents
from tests.helpers import STACK_SERVICES, stack_settings

# Reads the stack files or the contract: run in every variant copy (tests/test_variants.py).
pytestmark = pytest.mark.reads_config

# For the execution-role policy builder, which takes any ARNs: an example set.
SECRET_ARNS = {
    "HUGGINGFACE_API_KEY": "arn:aws:secretsmanager:us-east-1:123456789012:secret:hokusai/development/huggingface/api-key-AbCdEf",
    "DB_PASSWORD": "arn:aws:secretsmanager:us-east-1:123456789012:secret:hokusai/development/database/password-GhIjKl",
    "REDIS_AUTH_TOKEN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:hokusai/development/redis/auth-token-MnOpQr",
    "API_SECRET_KEY": "arn:aws:secretsmanager:us-east-1:123456789012:secret:hokusai/development/api/secret-key-StUvWx",
}
LOG_GROUP_ARN = "arn:aws:logs:us-east-1:123456789012:log-group:/ecs/hokusai-api-development"


def secret_arns_of(spec, settings) -> dict[str, str]:
    """An ARN, as Secrets Manager shapes it, for each secret the service's config names."""
    prefix = f"arn:aws:secretsmanager:{settings.region}:{settings.account_id}:secret:"
    return {
        s.env_var: s.name_or_arn if s.name_or_arn.startswith("arn:") else f"{prefix}{s.name_or_arn}-AbCdEf"
        for s in spec.secrets
    }


@pytest.fixture(params=STACK_SERVICES, ids=[f"{stack}-{service}" for stack, service in STACK_SERVICES])
def service(request):
    """(the service's settings, an ARN per secret, its container definitions) for every service of every stack."""
    stack, key = request.param
    settings = stack_settings(stack)
    spec = settings.service(key)
    arns = secret_arns_of(spec, settings)
    return spec, arns, documents.container_definitions(spec, secret_arns=arns, region=settings.region)


def register_task_definition_shape():
    return botocore.session.get_session().get_service_model("ecs").operation_model("RegisterTaskDefinition").input_shape


def test_container_definitions_are_a_valid_register_task_definition_request(service):
    spec, _, definitions = service
    request = {
        "family": spec.name,
        "containerDefinitions": definitions,
        "cpu": str(spec.cpu),
        "memory": str(spec.memory),
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
    }
    report = ParamValidator().validate(request, register_task_definition_shape())
    assert not report.has_errors(), report.generate_report()


def test_the_ecs_model_check_catches_a_misspelt_field(service):
    _, _, definitions = service
    definitions[0]["healthcheck"] = definitions[0].pop("healthCheck")
    report = ParamValidator().validate(
        {"family": "f", "containerDefinitions": definitions}, register_task_definition_shape()
    )
    assert report.has_errors() and "healthcheck" in report.generate_report()


def test_each_secret_is_referenced_by_its_arn_and_never_in_environment(service):
    spec, arns, (container,) = service
    # The ARN, then the JSON key and version the stack names (core/value_from.py).
    assert {s["name"]: s["valueFrom"] for s in container["secrets"]} == {
        source.env_var: source.container_value_from(arns[source.env_var]) for source in spec.secrets
    }
    assert set(arns) == set(spec.contract.secret_names)
    assert not {e["name"] for e in container["environment"]} & set(arns)


def test_plain_settings_and_logs_are_configured(service):
    spec, _, (container,) = service
    assert {e["name"]: e["value"] for e in container["environment"]} == dict(spec.environment)
    assert container["logConfiguration"]["options"]["awslogs-group"] == spec.log_group_name
    port = spec.contract.container_port
    assert container["portMappings"] == [{"containerPort": port, "hostPort": port, "protocol": "tcp"}]
    assert spec.contract.health_check_path in container["healthCheck"]["command"][1]


def test_a_secret_without_an_arn_is_never_dropped_silently(service):
    spec, arns, _ = service
    for variable in arns:
        partial = {k: v for k, v in arns.items() if k != variable}
        with pytest.raises(ValueError, match=variable):
            documents.container_definitions(spec, secret_arns=partial, region="us-east-1")


def policy(**overrides):
    arguments = dict(
        secret_arns=SECRET_ARNS.values(),
        log_group_arn=LOG_GROUP_ARN,
        images=["123456789012.dkr.ecr.us-east-1.amazonaws.com/hokusai/api:abc"],
        region="us-east-1",
    )
    arguments.update(overrides)
    return {s["Sid"]: s for s in documents.execution_role_policy(**arguments)["Statement"]}


def test_the_execution_role_reads_exactly_the_given_secrets():
    assert policy()["ReadDeclaredSecrets"]["Resource"] == sorted(SECRET_ARNS.values())


def test_the_execution_role_never_reads_secrets_by_wildcard():
    with pytest.raises(ValueError, match="wildcard"):
        policy(secret_arns=["arn:aws:secretsmanager:us-east-1:123456789012:secret:*"])


def test_no_secret_means_no_secret_statement():
    assert "ReadDeclaredSecrets" not in policy(secret_arns=[])


def test_kms_decrypt_only_for_a_configured_key():
    assert "DecryptDeclaredSecrets" not in policy()
    key = "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9"
    statement = policy(kms_key_arn=key)["DecryptDeclaredSecrets"]
    assert statement["Resource"] == key
    assert statement["Condition"]["StringEquals"]["kms:ViaService"] == "secretsmanager.us-east-1.amazonaws.com"


def test_image_pull_is_scoped_to_the_repository():
    statements = policy()
    assert statements["PullImage"]["Resource"] == ["arn:aws:ecr:us-east-1:123456789012:repository/hokusai/api"]
    assert statements["EcrLogin"]["Action"] == "ecr:GetAuthorizationToken"


def test_an_image_from_another_registry_needs_no_ecr_grant():
    assert not {"PullImage", "EcrLogin"} & set(policy(images=["ghcr.io/hokusai/api:1.0"]))


def test_logs_are_written_to_the_service_log_group_only():
    assert policy()["WriteLogs"]["Resource"] == [LOG_GROUP_ARN, f"{LOG_GROUP_ARN}:*"]
    assert policy(log_group_arn=LOG_GROUP_ARN + ":*")["WriteLogs"]["Resource"] == [LOG_GROUP_ARN, f"{LOG_GROUP_ARN}:*"]


def test_the_trust_policy_admits_only_this_accounts_ecs_tasks():
    (statement,) = documents.ecs_tasks_trust_policy("123456789012", "us-east-1")["Statement"]
    assert statement["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": "123456789012"}


def test_ecs_exec_needs_the_ssm_message_channels_and_logs_sessions_to_the_service_log_group():
    statements = {s["Sid"]: s for s in documents.ecs_exec_policy(LOG_GROUP_ARN)["Statement"]}
    assert "ssmmessages:OpenDataChannel" in statements["EcsExec"]["Action"]
    assert statements["EcsExecSessionLogs"]["Resource"] == [LOG_GROUP_ARN, f"{LOG_GROUP_ARN}:*"]


@pytest.mark.parametrize(
    "pattern,problem",
    [
        ("%HTTP 5[0-9][0-9]%", "does not accept"),
        ('%"5[0-9][0-9]%', "does not accept"),
        ("%abc", "must end with %"),
        ("%%", "empty"),
        ('"unbalanced', "unbalanced"),
        ("x" * 1025, "longer than"),
    ],
)
def test_filter_patterns_cloudwatch_would_reject_are_caught(pattern, problem):
    assert any(problem in p for p in documents.filter_pattern_problems(pattern))
