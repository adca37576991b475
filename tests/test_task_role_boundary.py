"""The task-role boundary (core/pipeline_policies/boundary.py, docs/policies/hokusai-<stack>-task-role-boundary.json):
it takes nothing away from what the program grants its roles, and caps whatever else
anyone writes into them: nothing in IAM or STS, no other stack's secrets, logs, images or buckets.
"""

from __future__ import annotations

import json

import pytest

from core import naming
from core.iam_policy import Decision, decide, decide_within_boundary
from core.pipeline_policies import policies_for
from core.pipeline_policies.statements import MANAGED_POLICY_LIMIT, size
from core.settings import Settings
from tests.helpers import STACKS, each_service, each_stack, load, stack_secret_keys, stack_settings, stack_values
from tests.iam_needs import Rendered, every_feature, listed, stack_rendered, where

# What a role may be given that the boundary must never let through.
ADMINISTRATOR = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
# The services a task may use at all (boundary.py says why each).
SERVICES_TASKS_USE = {"ecr", "logs", "secretsmanager", "kms", "ssmmessages", "s3"}


def boundary(settings: Settings) -> dict:
    (policy,) = policies_for(settings, "task-role-boundary")
    assert policy.name == naming.task_role_boundary_name(settings.environment)
    return policy.document


def rendered_in(which: str) -> Rendered:
    return every_feature() if which == "every feature" else stack_rendered(which)


def role_policies(found: Rendered) -> list[tuple[str, dict]]:
    return [
        (row.inputs["role"], json.loads(row.inputs["policy"]))
        for row in found.graph.rows
        if row.type == "aws:iam/rolePolicy:RolePolicy"
    ]


@pytest.mark.parametrize("which", [*STACKS, "every feature"])
def test_the_boundary_is_one_managed_policy_within_the_limit_and_its_arn_is_the_roles(which):
    found = rendered_in(which)
    document = boundary(found.settings)
    assert size(document) <= MANAGED_POLICY_LIMIT
    roles = [r for r in found.graph.rows if r.type == "aws:iam/role:Role"]
    expected = (
        f"arn:aws:iam::{found.settings.account_id}:policy/{naming.task_role_boundary_name(found.settings.environment)}"
    )
    assert roles and {r.inputs["permissionsBoundary"] for r in roles} == {expected}


@pytest.mark.parametrize("which", [*STACKS, "every feature"])
def test_the_boundary_takes_nothing_away_from_what_the_program_grants_its_roles(which):
    """Each action on each resource of every inline policy the program writes is still allowed
    under the boundary (with the conditions the statement itself puts on it)."""
    found = rendered_in(which)
    limit = boundary(found.settings)
    problems = []
    for role, document in role_policies(found):
        for statement in document["Statement"]:
            # A request the statement's own conditions admit: one value per key (the first it names).
            context = {
                key: listed(value)[0] if isinstance(value, list | str) else value
                for block in statement.get("Condition", {}).values()
                for key, value in block.items()
            }
            for action in listed(statement["Action"]):
                for resource in listed(statement["Resource"]):
                    decided = decide_within_boundary(document, limit, action, resource, context)
                    if decided is not Decision.ALLOWED:
                        problems.append(f"{role} {statement['Sid']}: {action} on {resource} is {decided.value}")
    assert role_policies(found) and problems == []


@each_service
def test_the_execution_role_may_still_read_every_secret_its_container_references(stack, service):
    found = stack_rendered(stack)
    (estate,) = [s for s in found.run.outputs["services"] if s["key"] == service]
    limit = boundary(found.settings)
    for secret in estate["secret_arns"].values():
        assert decide(limit, "secretsmanager:GetSecretValue", secret) is Decision.ALLOWED


@each_stack
def test_a_role_given_everything_gets_nothing_in_iam_sts_or_outside_the_stack(stack):
    settings, at = stack_settings(stack), where(stack_settings(stack))
    limit = boundary(settings)
    denied = [
        ("iam:CreateUser", at.iam("user/anyone")),
        ("iam:PutRolePolicy", at.iam(f"role/{naming.service_name('api', stack)}-task")),
        ("iam:AttachRolePolicy", at.iam("role/admin")),
        ("iam:PassRole", at.iam("role/admin")),
        ("iam:DeleteRolePermissionsBoundary", at.iam(f"role/{naming.service_name('api', stack)}-task")),
        ("sts:AssumeRole", at.iam("role/admin")),
        ("organizations:LeaveOrganization", "*"),
    ]
    for action, resource in denied:
        assert decide_within_boundary(ADMINISTRATOR, limit, action, resource) is Decision.DENIED, action
    other = f"{stack}-other"
    refused = [
        ("secretsmanager:GetSecretValue", at.arn("secretsmanager", f"secret:hokusai/{other}/database/password-AbCdEf")),
        ("secretsmanager:PutSecretValue", at.arn("secretsmanager", f"secret:hokusai/{stack}/database/password-AbCdEf")),
        ("logs:PutLogEvents", at.arn("logs", f"log-group:/ecs/{naming.service_name('api', other)}:log-stream:x")),
        ("logs:DeleteLogGroup", at.arn("logs", f"log-group:/ecs/{naming.service_name('api', stack)}:*")),
        ("ecr:BatchGetImage", at.arn("ecr", "repository/someone-else/image")),
        ("ecr:PutImage", at.arn("ecr", "repository/hokusai/api")),
        ("s3:GetObject", "arn:aws:s3:::hokusai-pulumi-state/.pulumi/stacks/hokusai/production.json"),
        ("kms:Decrypt", at.arn("kms", "key/0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9")),
        ("ecs:RunTask", "*"),
        ("ec2:AuthorizeSecurityGroupIngress", "*"),
    ]
    for action, resource in refused:
        assert decide_within_boundary(ADMINISTRATOR, limit, action, resource) in (
            Decision.DENIED,
            Decision.NOT_ALLOWED,
        ), action


@pytest.mark.parametrize("which", [*STACKS, "every feature"])
def test_the_boundary_allows_only_services_tasks_use(which):
    document = boundary(rendered_in(which).settings)
    used = {
        action.split(":")[0]
        for statement in document["Statement"]
        if statement["Effect"] == "Allow"
        for action in listed(statement["Action"])
    }
    assert used <= SERVICES_TASKS_USE
    assert all(
        "*" not in action for s in document["Statement"] if s["Effect"] == "Allow" for action in listed(s["Action"])
    )


@each_stack
def test_the_artifact_bucket_a_service_names_is_usable_and_no_other(stack):
    """MLflow's artifact root (`s3://<bucket>/...`, a plain setting) is what tasks may use in S3."""
    values = stack_values(stack)
    services = values["hokusai:services"]
    key = next(iter(services))
    services[key].setdefault("environment", {})["ARTIFACTS_AT"] = f"s3://hokusai-artifacts-{stack}/runs"
    limit = boundary(load(values, stack=stack, secret_keys=stack_secret_keys(stack)))
    bucket = f"arn:aws:s3:::hokusai-artifacts-{stack}"
    assert decide(limit, "s3:PutObject", f"{bucket}/runs/1/model.pkl") is Decision.ALLOWED
    assert decide(limit, "s3:ListBucket", bucket) is Decision.ALLOWED
    assert decide(limit, "s3:GetObject", f"arn:aws:s3:::hokusai-artifacts-{stack}-other/x") is Decision.NOT_ALLOWED
    assert decide(limit, "s3:DeleteBucket", bucket) is Decision.NOT_ALLOWED
    # A stack whose settings name no bucket gets no S3 at all.
    names_a_bucket = any(
        v.startswith("s3://") for service in stack_settings(stack).services for _, v in service.environment
    )
    assert names_a_bucket or "s3:" not in json.dumps(boundary(stack_settings(stack)))


def test_removing_or_weakening_the_iam_deny_is_noticed():
    """The boundary grants nothing in IAM anyway; its Deny says so, and holds against a grant of `*`."""
    settings = stack_settings(STACKS[0])
    limit = boundary(settings)
    without = {**limit, "Statement": [s for s in limit["Statement"] if s["Sid"] != "NothingInIamOrStsEver"]}
    action, role = "iam:PutRolePolicy", where(settings).iam("role/admin")
    assert decide_within_boundary(ADMINISTRATOR, limit, action, role) is Decision.DENIED
    assert decide_within_boundary(ADMINISTRATOR, without, action, role) is Decision.NOT_ALLOWED
    weakened = json.loads(json.dumps(limit))
    (never,) = [s for s in weakened["Statement"] if s["Sid"] == "NothingInIamOrStsEver"]
    never["Action"] = ["iam:CreateUser"]
    assert decide_within_boundary(ADMINISTRATOR, weakened, action, role) is not Decision.DENIED
