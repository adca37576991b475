"""verify against moto on a stack beyond the development one: every service (MLflow a dependency
inside the stack) and secrets read by JSON key. It passes whole, and notices a wrong JSON key and a
removed rule on the in-stack dependency."""

from __future__ import annotations

import copy
import json

import pytest
from moto import mock_aws

from ops import verify as verify_tool
from ops.aws import Aws
from ops.report import Status
from synth.fake_estate import FAILURES, seed
from tests import tiers
from tests.helpers import DEV_VALUES, REGION, run, with_mlflow

# A copy of the estate in moto: every test here (tests/tiers.py).
pytestmark = tiers.aws


@pytest.fixture(scope="module")
def variant_run():
    """Both services read one JSON secret, each by its own key: the api its database password,
    MLflow its backend store URI (the estate keeps the application's secrets in one)."""
    values = with_mlflow(copy.deepcopy(DEV_VALUES))
    api = values["hokusai:services"]["api"]["secrets"]["DB_PASSWORD"]
    api["json_key"] = "database_password"
    values["hokusai:services"]["mlflow"]["secrets"]["BACKEND_STORE_URI"] = {
        "existing": api["existing"],
        "json_key": "backend_store_uri",
    }
    return run(values)


@pytest.fixture
def variant(aws_env, variant_run, boto_session):
    with mock_aws():
        yield seed(variant_run, session=boto_session)


def verify(fake, tmp_path, boto_session):
    outputs = tmp_path / "outputs.json"
    fake.write(outputs)
    return verify_tool.verify("development", outputs=outputs, aws=Aws(region=REGION, session=boto_session))


def test_the_copy_holds_json_secrets_with_every_key_read_and_passes(variant, tmp_path, boto_session):
    shared = DEV_VALUES["hokusai:services"]["api"]["secrets"]["DB_PASSWORD"]["existing"]
    value = variant.client("secretsmanager").get_secret_value(SecretId=shared)
    assert set(json.loads(value["SecretString"])) == {"database_password", "backend_store_uri"}
    report = verify(variant, tmp_path, boto_session)
    assert report.exit_code == 0, report.table()
    access = {r.subject for r in report.results if r.check == "dependency.access"}
    assert {"mlflow <- api", "postgres <- api", "postgres <- mlflow", "redis <- api"} <= access


def test_a_wrong_json_key_is_found_and_named(variant, tmp_path, boto_session):
    FAILURES["secret-json-key-wrong"](variant)
    report = verify(variant, tmp_path, boto_session)
    (failed,) = report.failures
    assert failed.check == "taskdef.secret" and "JSON key 'database_password_old' instead of 'database_password'" in (
        failed.finding
    )
    assert {r.status for r in report.results if r.check == "iam.grant"} == {Status.OK}  # same secret, same grant


def test_a_rule_removed_from_a_dependency_that_is_a_service_of_the_stack_is_found(variant, tmp_path, boto_session):
    ec2 = variant.client("ec2")
    mlflow = next(d for d in variant.estate["dependencies"] if d["name"] == "mlflow")
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [mlflow["security_group_id"]]}])
    doomed = [
        r["SecurityGroupRuleId"]
        for r in rules["SecurityGroupRules"]
        if (r.get("ReferencedGroupInfo") or {}).get("GroupId") == variant.api["security_group_id"]
    ]
    ec2.revoke_security_group_ingress(GroupId=mlflow["security_group_id"], SecurityGroupRuleIds=doomed)
    report = verify(variant, tmp_path, boto_session)
    assert [(r.check, r.subject) for r in report.failures] == [("dependency.access", "mlflow <- api")]
