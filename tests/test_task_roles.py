"""IAM: the execution role reads exactly the referenced secrets; the task role has ECS Exec only when it is on."""

from __future__ import annotations

import json
import re

from core import naming
from core.contract import CONTRACTS
from core.value_from import SecretValueFrom
from tests import tiers
from tests.helpers import (
    by_type,
    changes_config,
    container,
    each_service,
    each_stack,
    ecs_service,
    rendered,
    run_as,
    service_keys,
    stack_settings,
    stack_values,
    with_exception,
    without_exception,
)


def policies(result, role_name):
    return [
        json.loads(p.inputs["policy"])
        for p in by_type(result, "aws:iam/rolePolicy:RolePolicy")
        if p.inputs["role"] == role_name
    ]


# <account>.dkr.ecr.<region>.amazonaws.com/<repository>[:tag | @digest]
ECR_IMAGE = re.compile(r"^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com/([^:@]+)")


def execution_role(stack, service):
    return f"{naming.service_name(service, stack)}-execution"


def statements(result, role_name):
    return {s["Sid"]: s for document in policies(result, role_name) for s in document["Statement"]}


@each_service
def test_the_execution_role_reads_exactly_the_secrets_the_container_references(stack, service):
    result = rendered(stack)
    # The secrets' ARNs, without the JSON key and version their valueFrom may add.
    referenced = sorted(SecretValueFrom.parse(s["valueFrom"]).secret_arn for s in container(result, service)["secrets"])
    assert len(referenced) == len(CONTRACTS[service].secrets)
    granted = statements(result, execution_role(stack, service))["ReadDeclaredSecrets"]
    assert granted["Action"] == "secretsmanager:GetSecretValue"
    assert granted["Resource"] == referenced


@each_service
def test_no_statement_of_the_execution_role_touches_secrets_by_wildcard(stack, service):
    for statement in statements(rendered(stack), execution_role(stack, service)).values():
        actions = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        if any(a.startswith("secretsmanager:") for a in actions):
            assert "*" not in json.dumps(statement["Resource"])


@each_service
def test_the_execution_role_writes_only_its_log_group_and_pulls_only_its_repository(stack, service):
    settings = stack_settings(stack)
    spec = settings.service(service)
    found = statements(rendered(stack), execution_role(stack, service))
    group = f"arn:aws:logs:{settings.region}:{settings.account_id}:log-group:{naming.log_group_name(service, stack)}"
    assert found["WriteLogs"]["Resource"] == [group, f"{group}:*"]
    ecr = ECR_IMAGE.match(spec.image)
    if ecr:
        account, region, repository = ecr.groups()
        assert found["PullImage"]["Resource"] == [f"arn:aws:ecr:{region}:{account}:repository/{repository}"]
    else:
        assert "PullImage" not in found
    assert ("DecryptDeclaredSecrets" in found) is bool(settings.secrets_kms_key_arn)


@each_service
@changes_config
@tiers.renders
def test_kms_decrypt_is_granted_only_for_the_configured_key(stack, service):
    settings = stack_settings(stack)
    key = f"arn:aws:kms:{settings.region}:{settings.account_id}:key/0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9"
    values = stack_values(stack)
    values["hokusai:secrets_kms_key_arn"] = key
    # One of the service's secrets declared by the program, so there is a secret to encrypt.
    secret = CONTRACTS[service].secrets[0]
    for config in values["hokusai:services"].values():
        if secret.env_var in config["secrets"]:
            config["secrets"][secret.env_var] = {"create": secret.secret_name_for(stack)}
    result = run_as(stack, values)
    assert statements(result, execution_role(stack, service))["DecryptDeclaredSecrets"]["Resource"] == key
    created = [
        r
        for r in by_type(result, "aws:secretsmanager/secret:Secret")
        if r.inputs["name"] == secret.secret_name_for(stack)
    ]
    assert [c.inputs["kmsKeyId"] for c in created] == [key]


ECS_EXEC_CHANNELS = {
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
}


def cluster_logs_exec_sessions(result) -> bool:
    (cluster,) = by_type(result, "aws:ecs/cluster:Cluster")
    return (cluster.inputs.get("configuration") or {}).get("executeCommandConfiguration", {}).get(
        "logging"
    ) == "DEFAULT"


@each_service
@tiers.renders
def test_ecs_exec_is_off_and_ungranted_unless_the_stack_says_why(stack, service):
    # GIVEN the stack as configured, and the same stack without the service's ecs_exec reason
    values = without_exception(stack_values(stack), service, "ecs_exec")
    for result in (rendered(stack), run_as(stack, values)):
        on = stack_settings(stack).service(service).ecs_exec if result is rendered(stack) else False
        task_role = f"{naming.service_name(service, stack)}-task"
        # THEN the task role may open the channels exactly when the service has ECS Exec on
        assert ("EcsExec" in statements(result, task_role)) is on
    # AND with no service allowing it, the cluster logs no exec sessions
    assert not cluster_logs_exec_sessions(
        run_as(
            stack,
            {
                **values,
                "hokusai:services": {
                    key: {
                        **body,
                        "exceptions": {k: v for k, v in (body.get("exceptions") or {}).items() if k != "ecs_exec"},
                    }
                    for key, body in values["hokusai:services"].items()
                },
            },
        )
    )


@each_service
@tiers.renders
def test_ecs_exec_with_its_reason_is_on_granted_and_logged(stack, service):
    result = run_as(stack, with_exception(stack_values(stack), service, "ecs_exec"))
    task_role = f"{naming.service_name(service, stack)}-task"
    assert set(statements(result, task_role)["EcsExec"]["Action"]) == ECS_EXEC_CHANNELS
    assert ecs_service(result, service).inputs["enableExecuteCommand"] is True
    assert cluster_logs_exec_sessions(result)


@each_stack
def test_both_roles_trust_only_this_accounts_ecs_tasks(stack):
    for role in by_type(rendered(stack), "aws:iam/role:Role"):
        (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
        assert statement["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
        assert statement["Condition"]["StringEquals"]["aws:SourceAccount"] == stack_settings(stack).account_id


@each_stack
def test_every_role_carries_the_stacks_permissions_boundary(stack):
    """The deploy role may create a role only with this boundary (core/pipeline_policies): a role
    without it would fail `pulumi up`, and one with another would not cap what tasks may do."""
    settings = stack_settings(stack)
    expected = f"arn:aws:iam::{settings.account_id}:policy/hokusai-{stack}-task-role-boundary"
    roles = by_type(rendered(stack), "aws:iam/role:Role")
    assert {r.inputs["name"] for r in roles} == {
        f"{naming.service_name(key, stack)}-{kind}" for key in service_keys(stack) for kind in ("execution", "task")
    }
    assert {r.inputs["name"]: r.inputs.get("permissionsBoundary") for r in roles} == {
        r.inputs["name"]: expected for r in roles
    }


@each_service
@changes_config
@tiers.renders
def test_managed_policies_attach_to_the_task_role_only(stack, service):
    arn = f"arn:aws:iam::{stack_settings(stack).account_id}:policy/hokusai-datasets-read"
    values = stack_values(stack)
    values["hokusai:services"][service]["task_role_policy_arns"] = [arn]
    (attachment,) = by_type(run_as(stack, values), "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    task_role = f"{naming.service_name(service, stack)}-task"
    assert (attachment.inputs["role"], attachment.inputs["policyArn"]) == (task_role, arn)
