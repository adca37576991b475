"""The graph's dependency and egress invariants can fail: for every (service, dependency with a
security group) of the rendered stacks, remove or weaken its rules and watch the check name it.
Also the secrets' valueFrom with a JSON key: referenced by the full form, granted on the ARN."""

from __future__ import annotations

import copy
import json

import pytest

from core.value_from import SecretValueFrom
from synth.checks import check_graph
from tests.helpers import container, run, with_mlflow

INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"


@pytest.fixture(scope="module")
def every_service_run():
    """The development stack with every service: mlflow is then a dependency in the stack."""
    from tests.helpers import DEV_VALUES

    return run(with_mlflow(copy.deepcopy(DEV_VALUES)))


def findings(resources, outputs) -> list[str]:
    return [str(f) for f in check_graph(resources, outputs)]


def pairs(result):
    """(service, dependency) for every service reaching a dependency with a security group."""
    return [
        (service, dependency)
        for dependency in result.outputs["dependencies"]
        if dependency["security_group_id"]
        for service in result.outputs["services"]
        if service["key"] in dependency["consumer_security_group_ids"]
    ]


def rule(resources, type_, name):
    return next(r for r in resources if r.type == type_ and r.name == name)


def test_the_rendered_stacks_hold(dev_run, every_service_run):
    assert pairs(dev_run) and pairs(every_service_run)
    assert findings(dev_run.resources, dev_run.outputs) == []
    assert findings(every_service_run.resources, every_service_run.outputs) == []


INGRESS_BREAKS = {
    "removed": None,
    "another port": lambda i: i.update(fromPort=i["fromPort"] + 1, toPort=i["toPort"] + 1),
    "a CIDR for the reference": lambda i: (i.pop("referencedSecurityGroupId"), i.update(cidrIpv4="10.0.0.0/16")),
    "a port range": lambda i: i.update(toPort=i["toPort"] + 100),
}


@pytest.mark.parametrize("how", INGRESS_BREAKS)
@pytest.mark.parametrize("run_name", ["dev_run", "every_service_run"])
def test_a_consumers_rule_removed_or_weakened_is_found(request, run_name, how):
    result = request.getfixturevalue(run_name)
    for service, dependency in pairs(result):
        resources = copy.deepcopy(result.resources)
        target = rule(resources, INGRESS, f"{dependency['name']}-from-{service['key']}")
        if INGRESS_BREAKS[how] is None:
            resources.remove(target)
        else:
            INGRESS_BREAKS[how](target.inputs)
        found = findings(resources, result.outputs)
        expected = f"{service['key']}-service: reaches {dependency['name']} but no rule admits its security group"
        assert any(expected in f and "redis_from_data_pipeline_ecs" in f for f in found), (how, found)


EGRESS_BREAKS = {
    "removed": None,
    "another port": lambda i: i.update(fromPort=i["fromPort"] + 1, toPort=i["toPort"] + 1),
}


@pytest.mark.parametrize("how", EGRESS_BREAKS)
def test_a_services_egress_to_its_dependency_removed_or_weakened_is_found(dev_run, how):
    for service, dependency in pairs(dev_run):
        resources = copy.deepcopy(dev_run.resources)
        target = rule(resources, EGRESS, f"{dependency['name']}-from-{service['key']}-egress")
        if EGRESS_BREAKS[how] is None:
            resources.remove(target)
        else:
            EGRESS_BREAKS[how](target.inputs)
        found = findings(resources, dev_run.outputs)
        assert any(f"reaches {dependency['name']} but its security group lets nothing out" in f for f in found), found


def test_an_extra_consumers_missing_rule_is_found(dev_values):
    dev_values["hokusai:dependencies"]["redis"]["extra_consumers"] = {"data-pipeline-ecs": "sg-0f1e2d3c4b5a69788"}
    result = run(dev_values)
    resources = [r for r in result.resources if r.name != "redis-from-data-pipeline-ecs"]
    assert any(
        "data-pipeline-ecs is a consumer of redis, but no rule admits" in f for f in findings(resources, result.outputs)
    )


def test_a_dependency_the_estate_forgets_is_found(dev_run):
    outputs = copy.deepcopy(dev_run.outputs)
    outputs["dependencies"] = [d for d in outputs["dependencies"] if d["name"] != "postgres"]
    assert any("reaches postgres, which the stack does not describe" in f for f in findings(dev_run.resources, outputs))


@pytest.mark.parametrize(
    "change,expected",
    [
        (lambda i: i.update(ipProtocol="-1", fromPort=None, toPort=None), "on every port"),
        (lambda i: i.update(fromPort=0, toPort=65535), "on ports 0-65535"),
        (lambda i: i.update(fromPort=80, toPort=80), "on ports 80-80"),
    ],
    ids=["all traffic", "every port", "another port"],
)
def test_an_open_egress_is_found(dev_run, change, expected):
    for service in dev_run.outputs["services"]:
        resources = copy.deepcopy(dev_run.resources)
        change(rule(resources, EGRESS, f"{service['key']}-egress").inputs)
        found = findings(resources, dev_run.outputs)
        assert any(f"lets {service['key']}-service out to 0.0.0.0/0 {expected}" in f for f in found), found
        assert any(f"{service['key']}-service: its tasks may not reach HTTPS" in f for f in found), found


def test_a_service_without_https_out_is_found(dev_run):
    for service in dev_run.outputs["services"]:
        resources = [r for r in dev_run.resources if r.name != f"{service['key']}-egress"]
        assert any("its tasks may not reach HTTPS (443)" in f for f in findings(resources, dev_run.outputs))


def test_an_egress_to_a_group_that_is_no_dependency_is_found(dev_run):
    resources = copy.deepcopy(dev_run.resources)
    stray = copy.deepcopy(rule(resources, EGRESS, "redis-from-api-egress"))
    stray.name = "hand-made-egress"
    stray.inputs["referencedSecurityGroupId"] = "sg-0f1e2d3c4b5a69788"
    resources.append(stray)
    assert any(
        "hand-made-egress: lets api-service out to sg-0f1e2d3c4b5a69788" in f
        for f in findings(resources, dev_run.outputs)
    )


# --------------------------------------------------------------------------- #
# Secrets read by JSON key: the full valueFrom in the task, the ARN in the grant
# --------------------------------------------------------------------------- #


@pytest.fixture(scope="module")
def json_key_run():
    """DB_PASSWORD read by JSON key by the api, the same secret's other key by mlflow."""
    from tests.helpers import DEV_VALUES

    values = with_mlflow(copy.deepcopy(DEV_VALUES))
    values["hokusai:services"]["api"]["secrets"]["DB_PASSWORD"]["json_key"] = "database_password"
    values["hokusai:services"]["mlflow"]["secrets"]["DB_PASSWORD"]["json_key"] = "mlflow_password"
    return run(values)


def test_two_services_read_two_keys_of_one_secret_with_one_lookup_and_a_grant_on_its_arn(json_key_run):
    lookups = [args.get("name") for token, args in json_key_run.mocks.calls if token.endswith("getSecret")]
    assert lookups.count("hokusai/development/database/password") == 1
    api = {s["name"]: s["valueFrom"] for s in container(json_key_run)["secrets"]}["DB_PASSWORD"]
    mlflow = {s["name"]: s["valueFrom"] for s in container(json_key_run, "hokusai-mlflow-development")["secrets"]}
    arn = SecretValueFrom.parse(api).secret_arn
    assert api == f"{arn}:database_password::" and mlflow["DB_PASSWORD"] == f"{arn}:mlflow_password::"
    for policy in [r for r in json_key_run.resources if r.name.endswith("-roles-execution-policy")]:
        (grant,) = [s for s in json.loads(policy.inputs["policy"])["Statement"] if s["Sid"] == "ReadDeclaredSecrets"]
        assert arn in grant["Resource"] and not [g for g in grant["Resource"] if g.count(":") > 6]
    assert findings(json_key_run.resources, json_key_run.outputs) == []


def test_a_grant_on_the_suffixed_value_from_is_found(monkeypatch, dev_values):
    """The program granting the valueFrom (not the secret) would fail every task: the check says so."""
    from core import documents

    dev_values["hokusai:services"]["api"]["secrets"]["DB_PASSWORD"]["json_key"] = "database_password"
    original = documents.execution_role_policy

    def suffixed(*, secret_arns, **kwargs):
        return original(
            secret_arns=[a + ":database_password::" if "database" in a else a for a in secret_arns], **kwargs
        )

    monkeypatch.setattr(documents, "execution_role_policy", suffixed)
    result = run(dev_values)
    found = findings(result.resources, result.outputs)
    assert any("may not read arn:aws:secretsmanager" in f and "database/password" in f for f in found), found


@pytest.mark.parametrize(
    "suffix",
    [":database_password", ":database_password:AWSCURRENT:0a1b2c3d-4e5f-4071-8293-a4b5c6d7e8f9"],
    ids=["too few fields", "stage and id both"],
)
def test_a_value_from_ecs_would_not_accept_is_found(dev_run, suffix):
    resources = copy.deepcopy(dev_run.resources)
    task = next(r for r in resources if r.type == "aws:ecs/taskDefinition:TaskDefinition")
    definitions = json.loads(task.inputs["containerDefinitions"])
    secret = next(s for s in definitions[0]["secrets"] if s["name"] == "DB_PASSWORD")
    secret["valueFrom"] += suffix
    task.inputs["containerDefinitions"] = json.dumps(definitions)
    assert any(
        "DB_PASSWORD valueFrom" in f and "is not a Secrets Manager ARN" in f
        for f in findings(resources, dev_run.outputs)
    )
