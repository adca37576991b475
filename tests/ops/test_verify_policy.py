"""docs/verify-policy.json: the read-only policy the verifier runs with must allow
every call it makes, and must never allow reading a secret value."""

from __future__ import annotations

import json
from pathlib import Path

from core.iam_policy import Decision, decide
from ops import verify as verify_tool
from ops.aws import Aws
from synth.fake_estate import FAILURES
from tests.iam_needs import VERIFY

POLICY = json.loads((Path(__file__).resolve().parents[2] / "docs" / "verify-policy.json").read_text())
# boto3 service names -> IAM action prefixes
PREFIX = {
    "elbv2": "elasticloadbalancing",
    "ecs": "ecs",
    "ec2": "ec2",
    "iam": "iam",
    "logs": "logs",
    "cloudwatch": "monitoring",
    "secretsmanager": "secretsmanager",
}
IAM_PREFIX = {"monitoring": "cloudwatch"}  # CloudWatch's endpoint is "monitoring", its IAM prefix "cloudwatch"


def allowed_actions() -> set[str]:
    actions: set[str] = set()
    for statement in POLICY["Statement"]:
        if statement["Effect"] == "Allow":
            listed = statement["Action"]
            actions.update([listed] if isinstance(listed, str) else listed)
    return actions


def test_the_policy_allows_every_call_verify_makes(fake, tmp_path, boto_session):
    FAILURES["rolled-back"](fake)  # stopped tasks too, so every kind of call happens
    outputs = tmp_path / "outputs.json"
    fake.write(outputs)
    aws = Aws(region="us-east-1", session=boto_session)
    verify_tool.verify("development", outputs=outputs, aws=aws, scan_logs=True)
    made = set()
    for call in aws.calls:
        service, operation = call.split(":")
        prefix = PREFIX.get(service, service)
        made.add(f"{IAM_PREFIX.get(prefix, prefix)}:{operation}")
    assert made, "verify made no calls"
    assert made - allowed_actions() == set()
    assert {
        "ecs:DescribeServices",
        "cloudwatch:DescribeAlarms",
        "elasticloadbalancing:DescribeTargetHealth",
        "secretsmanager:DescribeSecret",
        "logs:FilterLogEvents",
        "ecs:DescribeTasks",
    } <= made


def test_the_policy_is_read_only():
    assert all(a.split(":")[1].startswith(("Describe", "List", "Get", "Filter")) for a in allowed_actions())


def test_the_policy_never_allows_reading_a_secret_value():
    secret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:hokusai/development/huggingface/api-key-AbCdEf"
    assert decide([POLICY], "secretsmanager:GetSecretValue", secret) is Decision.DENIED
    assert decide([POLICY], "secretsmanager:DescribeSecret", secret) is Decision.ALLOWED


def test_without_logs_verify_makes_only_the_calls_the_pipeline_roles_allow_it(fake, tmp_path, boto_session):
    """The deploy role runs `make verify` (no LOGS=1) and is denied log events: verify must not read them then.
    tests/iam_needs.py VERIFY is what the deploy and read-only roles' tests allow it."""
    FAILURES["rolled-back"](fake)
    outputs = tmp_path / "outputs.json"
    fake.write(outputs)
    aws = Aws(region="us-east-1", session=boto_session)
    verify_tool.verify("development", outputs=outputs, aws=aws, scan_logs=False)
    made = set()
    for call in aws.calls:
        service, operation = call.split(":")
        prefix = PREFIX.get(service, service)
        made.add(f"{IAM_PREFIX.get(prefix, prefix)}:{operation}")
    assert made and made - {n.action for n in VERIFY} == set()
    assert "logs:FilterLogEvents" not in made
