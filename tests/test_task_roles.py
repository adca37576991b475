"""IAM: the execution role reads exactly the referenced secrets; the task role has ECS Exec."""

from __future__ import annotations

import json

from tests.helpers import by_type, container, run


def policies(result, role_name):
    return [
        json.loads(p.inputs["policy"])
        for p in by_type(result, "aws:iam/rolePolicy:RolePolicy")
        if p.inputs["role"] == role_name
    ]


def statements(result, role_name):
    return {s["Sid"]: s for document in policies(result, role_name) for s in document["Statement"]}


def test_the_execution_role_reads_exactly_the_secrets_the_container_references(dev_run):
    referenced = sorted(s["valueFrom"] for s in container(dev_run)["secrets"])
    granted = statements(dev_run, "hokusai-api-development-execution")["ReadDeclaredSecrets"]
    assert granted["Action"] == "secretsmanager:GetSecretValue"
    assert granted["Resource"] == referenced
    assert len(referenced) == 4


def test_no_statement_of_the_execution_role_touches_secrets_by_wildcard(dev_run):
    for statement in statements(dev_run, "hokusai-api-development-execution").values():
        actions = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        if any(a.startswith("secretsmanager:") for a in actions):
            assert "*" not in json.dumps(statement["Resource"])


def test_the_execution_role_writes_only_its_log_group_and_pulls_only_its_repository(dev_run):
    found = statements(dev_run, "hokusai-api-development-execution")
    group = "arn:aws:logs:us-east-1:123456789012:log-group:/ecs/hokusai-api-development"
    assert found["WriteLogs"]["Resource"] == [group, f"{group}:*"]
    assert found["PullImage"]["Resource"] == ["arn:aws:ecr:us-east-1:123456789012:repository/hokusai/api"]
    assert "DecryptDeclaredSecrets" not in found


def test_kms_decrypt_is_granted_only_for_the_configured_key(dev_values):
    key = "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9"
    dev_values["hokusai:secrets_kms_key_arn"] = key
    dev_values["hokusai:services"]["api"]["secrets"]["API_SECRET_KEY"] = {
        "create": "hokusai/development/api/secret-key"
    }
    result = run(dev_values)
    assert statements(result, "hokusai-api-development-execution")["DecryptDeclaredSecrets"]["Resource"] == key
    (created,) = by_type(result, "aws:secretsmanager/secret:Secret")
    assert created.inputs["kmsKeyId"] == key


def test_the_task_role_allows_ecs_exec(dev_run):
    exec_statement = statements(dev_run, "hokusai-api-development-task")["EcsExec"]
    assert set(exec_statement["Action"]) == {
        "ssmmessages:CreateControlChannel",
        "ssmmessages:CreateDataChannel",
        "ssmmessages:OpenControlChannel",
        "ssmmessages:OpenDataChannel",
    }


def test_both_roles_trust_only_this_accounts_ecs_tasks(dev_run):
    for role in by_type(dev_run, "aws:iam/role:Role"):
        (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
        assert statement["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
        assert statement["Condition"]["StringEquals"]["aws:SourceAccount"] == "123456789012"


def test_managed_policies_attach_to_the_task_role_only(dev_values):
    arn = "arn:aws:iam::123456789012:policy/hokusai-datasets-read"
    dev_values["hokusai:services"]["api"]["task_role_policy_arns"] = [arn]
    (attachment,) = by_type(run(dev_values), "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert (attachment.inputs["role"], attachment.inputs["policyArn"]) == ("hokusai-api-development-task", arn)
