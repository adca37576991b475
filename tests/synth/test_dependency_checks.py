"""The graph's dependency and egress invariants can fail: for every (service, dependency with a
security group) of every stack file's graph, and of that stack with every contract deployed (a
service of the stack is then another's dependency), remove or weaken its rules and watch the check
name it. Also the secrets' valueFrom with a JSON key: referenced by the full form, granted on the ARN."""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Callable

import pytest

from core.value_from import SecretValueFrom
from synth.checks import check_graph
from synth.program import Run
from tests import tiers
from tests.helpers import (
    container,
    each_service,
    each_stack,
    rendered,
    run,
    run_as,
    stack_values,
    task_definition,
    with_every_contract,
)

# Reads the stack files or the contract: run in every variant copy (tests/test_variants.py).
pytestmark = pytest.mark.reads_config

INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"


@functools.cache
def every_service_run(stack: str) -> Run:
    """The stack with every contract deployed: a contract entry that is another's dependency (mlflow)
    is then a dependency in the stack."""
    return run_as(stack, with_every_contract(stack_values(stack), stack))


RUNS = {"as configured": rendered, "every contract": every_service_run}


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


@each_stack
@tiers.renders
def test_the_rendered_stacks_hold(stack):
    assert findings(rendered(stack).resources, rendered(stack).outputs) == []
    every = every_service_run(stack)
    assert pairs(every), "no contract reaches a dependency with a security group"
    assert findings(every.resources, every.outputs) == []


INGRESS_BREAKS = {
    "removed": None,
    "another port": lambda i: i.update(fromPort=i["fromPort"] + 1, toPort=i["toPort"] + 1),
    "a CIDR for the reference": lambda i: (i.pop("referencedSecurityGroupId"), i.update(cidrIpv4="10.0.0.0/16")),
    "a port range": lambda i: i.update(toPort=i["toPort"] + 100),
}


def with_rule_broken(result: Run, rule_type: str, name: str, breaks: Callable[[dict], object] | None) -> list[str]:
    """The findings on a copy of the render with one rule removed (`breaks` None) or changed by `breaks`."""
    resources = copy.deepcopy(result.resources)
    target = rule(resources, rule_type, name)
    if breaks is None:
        resources.remove(target)
    else:
        breaks(target.inputs)
    return findings(resources, result.outputs)


@each_stack
@pytest.mark.parametrize("how", INGRESS_BREAKS)
@pytest.mark.parametrize("which", RUNS)
@tiers.renders
def test_a_consumers_rule_removed_or_weakened_is_found(stack, which, how):
    result = RUNS[which](stack)
    for service, dependency in pairs(result):
        found = with_rule_broken(result, INGRESS, f"{dependency['name']}-from-{service['key']}", INGRESS_BREAKS[how])
        expected = f"{service['key']}-service: reaches {dependency['name']} but no rule admits its security group"
        assert any(expected in f and "redis_from_data_pipeline_ecs" in f for f in found), (how, found)


EGRESS_BREAKS = {
    "removed": None,
    "another port": lambda i: i.update(fromPort=i["fromPort"] + 1, toPort=i["toPort"] + 1),
}


@each_stack
@pytest.mark.parametrize("how", EGRESS_BREAKS)
@pytest.mark.parametrize("which", RUNS)
@tiers.renders
def test_a_services_egress_to_its_dependency_removed_or_weakened_is_found(stack, which, how):
    result = RUNS[which](stack)
    for service, dependency in pairs(result):
        found = with_rule_broken(
            result, EGRESS, f"{dependency['name']}-from-{service['key']}-egress", EGRESS_BREAKS[how]
        )
        assert any(f"reaches {dependency['name']} but its security group lets nothing out" in f for f in found), found


@tiers.renders
def test_an_extra_consumers_missing_rule_is_found(dev_values):
    declared = dev_values["hokusai:dependencies"]
    names = [name for name, d in declared.items() if d.get("security_group_id")]
    assert names, "the development stack declares no dependency with a security group"
    for name in names:
        declared[name]["extra_consumers"] = {"data-pipeline-ecs": "sg-0f1e2d3c4b5a69788"}
    result = run(dev_values)
    for name in names:
        resources = [r for r in result.resources if r.name != f"{name}-from-data-pipeline-ecs"]
        assert any(
            f"data-pipeline-ecs is a consumer of {name}, but no rule admits" in f
            for f in findings(resources, result.outputs)
        ), name


@each_stack
def test_a_dependency_the_estate_forgets_is_found(stack):
    result = rendered(stack)
    reached = {name for service in result.outputs["services"] for name in service["dependencies"]}
    if not reached:
        pytest.skip(f"no service of {stack} reaches a dependency")
    for name in sorted(reached):
        outputs = copy.deepcopy(result.outputs)
        outputs["dependencies"] = [d for d in outputs["dependencies"] if d["name"] != name]
        assert any(
            f"reaches {name}, which the stack does not describe" in f for f in findings(result.resources, outputs)
        )


@each_stack
@pytest.mark.parametrize(
    "change,expected",
    [
        (lambda i: i.update(ipProtocol="-1", fromPort=None, toPort=None), "on every port"),
        (lambda i: i.update(fromPort=0, toPort=65535), "on ports 0-65535"),
        (lambda i: i.update(fromPort=80, toPort=80), "on ports 80-80"),
    ],
    ids=["all traffic", "every port", "another port"],
)
def test_an_open_egress_is_found(stack, change, expected):
    result = rendered(stack)
    for service in result.outputs["services"]:
        resources = copy.deepcopy(result.resources)
        change(rule(resources, EGRESS, f"{service['key']}-egress").inputs)
        found = findings(resources, result.outputs)
        assert any(f"lets {service['key']}-service out to 0.0.0.0/0 {expected}" in f for f in found), found
        assert any(f"{service['key']}-service: its tasks may not reach HTTPS" in f for f in found), found


@each_stack
def test_a_service_without_https_out_is_found(stack):
    result = rendered(stack)
    for service in result.outputs["services"]:
        resources = [r for r in result.resources if r.name != f"{service['key']}-egress"]
        assert any("its tasks may not reach HTTPS (443)" in f for f in findings(resources, result.outputs))


@each_stack
def test_an_egress_to_a_group_that_is_no_dependency_is_found(stack):
    result = rendered(stack)
    if not pairs(result):
        pytest.skip(f"no service of {stack} reaches a dependency with a security group")
    for service, dependency in pairs(result):
        resources = copy.deepcopy(result.resources)
        stray = copy.deepcopy(rule(resources, EGRESS, f"{dependency['name']}-from-{service['key']}-egress"))
        stray.name = "hand-made-egress"
        stray.inputs["referencedSecurityGroupId"] = "sg-0f1e2d3c4b5a69788"
        resources.append(stray)
        assert any(
            f"hand-made-egress: lets {service['key']}-service out to sg-0f1e2d3c4b5a69788" in f
            for f in findings(resources, result.outputs)
        )


# --------------------------------------------------------------------------- #
# Secrets read by JSON key: the full valueFrom in the task, the ARN in the grant
# --------------------------------------------------------------------------- #


def shared_secrets(values) -> dict[str, list[tuple[str, str]]]:
    """Secret name -> [(service, variable), ...] for each adopted secret two services read."""
    readers: dict[str, list[tuple[str, str]]] = {}
    for key, config in values["hokusai:services"].items():
        for variable, source in config["secrets"].items():
            if "existing" in source:
                readers.setdefault(source["existing"], []).append((key, variable))
    return {name: found for name, found in readers.items() if len(found) > 1}


@pytest.fixture(scope="module")
def json_key_run():
    """Every contract deployed on the development stack, each secret two services share read by
    another JSON key in each (DB_PASSWORD: api and mlflow)."""
    from tests.helpers import DEV_VALUES

    values = with_every_contract(copy.deepcopy(DEV_VALUES))
    shared = shared_secrets(values)
    for readers in shared.values():
        for key, variable in readers:
            values["hokusai:services"][key]["secrets"][variable]["json_key"] = f"{key}_password"
    return shared, run(values)


@tiers.renders  # its fixture renders every contract with a shared secret
def test_two_services_read_two_keys_of_one_secret_with_one_lookup_and_a_grant_on_its_arn(json_key_run):
    shared, result = json_key_run
    if not shared:
        pytest.skip("no two services share a secret")
    lookups = [args.get("name") for token, args in result.mocks.calls if token.endswith("getSecret")]
    arns = set()
    for name, readers in shared.items():
        assert lookups.count(name) == 1, name
        value_froms = {
            key: {s["name"]: s["valueFrom"] for s in container(result, key)["secrets"]}[variable]
            for key, variable in readers
        }
        (arn,) = {SecretValueFrom.parse(v).secret_arn for v in value_froms.values()}
        assert value_froms == {key: f"{arn}:{key}_password::" for key, _ in readers}
        arns.add(arn)
    # Each grant is on the secret's ARN, never on a valueFrom with a JSON key.
    granted = {
        g
        for policy in result.resources
        if policy.name.endswith("-roles-execution-policy")
        for s in json.loads(policy.inputs["policy"])["Statement"]
        if s["Sid"] == "ReadDeclaredSecrets"
        for g in s["Resource"]
    }
    assert arns <= granted and not [g for g in granted if g.count(":") > 6]
    assert findings(result.resources, result.outputs) == []


@tiers.renders
def test_a_grant_on_the_suffixed_value_from_is_found(monkeypatch, dev_values):
    """The program granting the valueFrom (not the secret) would fail every task: the check says so."""
    from core import documents

    # GIVEN a secret of the development stack read by JSON key
    key, config = next((k, c) for k, c in dev_values["hokusai:services"].items() if c["secrets"])
    variable, source = next((v, s) for v, s in config["secrets"].items() if "existing" in s)
    source["json_key"] = "some_key"
    name = source["existing"]
    original = documents.execution_role_policy

    def suffixed(*, secret_arns, **kwargs):
        return original(secret_arns=[a + ":some_key::" if name in a else a for a in secret_arns], **kwargs)

    # WHEN the program grants the valueFrom instead of the secret's ARN THEN the check names it
    monkeypatch.setattr(documents, "execution_role_policy", suffixed)
    result = run(dev_values)
    found = findings(result.resources, result.outputs)
    assert any("may not read arn:aws:secretsmanager" in f and name in f for f in found), found


@each_service
@pytest.mark.parametrize(
    "suffix",
    [":some_key", ":some_key:AWSCURRENT:0a1b2c3d-4e5f-4071-8293-a4b5c6d7e8f9"],
    ids=["too few fields", "stage and id both"],
)
def test_a_value_from_ecs_would_not_accept_is_found(stack, service, suffix):
    result = rendered(stack)
    resources = copy.deepcopy(result.resources)
    family = task_definition(result, service).inputs["family"]
    task = next(
        r for r in resources if r.type == "aws:ecs/taskDefinition:TaskDefinition" and r.inputs["family"] == family
    )
    definitions = json.loads(task.inputs["containerDefinitions"])
    if not definitions[0]["secrets"]:
        pytest.skip(f"the {service} service reads no secret")
    secret = definitions[0]["secrets"][0]
    secret["valueFrom"] += suffix
    task.inputs["containerDefinitions"] = json.dumps(definitions)
    assert any(
        f"{secret['name']} valueFrom" in f and "is not a Secrets Manager ARN" in f
        for f in findings(resources, result.outputs)
    )
