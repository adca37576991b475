"""Dependency rules: every service is admitted into each dependency it reaches on the dependency's
port, by reference, and may leave its own group for it; nothing else leaves but HTTPS; the ECS
service waits for its rules."""

from __future__ import annotations

import copy

import pulumi_aws
import pytest

from core.contract import CONTRACTS, HTTPS_PORT
from core.stack_file import read_stack_file
from tests.helpers import PROJECT_DIR, by_type, container, load, run, with_mlflow

INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
STACKS = sorted(path.name.split(".")[1] for path in PROJECT_DIR.glob("Pulumi.*.yaml"))


def rendered(stack):
    values, secret_keys = read_stack_file(stack)
    return load(values, stack=stack, secret_keys=secret_keys), run(values, secret_keys=secret_keys, stack=stack)


def rules_on(result, type_, group):
    return {r.name: r.inputs for r in by_type(result, type_) if r.inputs["securityGroupId"] == group}


def groups(result):
    return {s["key"]: s["security_group_id"] for s in result.outputs["services"]}


def dependency_group(result, name):
    return next(d for d in result.outputs["dependencies"] if d["name"] == name)["security_group_id"]


@pytest.mark.parametrize("stack", STACKS)
def test_each_service_is_admitted_into_each_dependency_it_reaches_by_reference(stack):
    settings, result = rendered(stack)
    services = groups(result)
    for dependency in settings.dependencies:
        if not dependency.has_security_group:
            continue
        group = dependency_group(result, dependency.name)
        ingress, egress = rules_on(result, INGRESS, group), {}
        for consumer in dependency.consumers:
            rule = ingress[f"{dependency.name}-from-{consumer}"]
            assert rule["referencedSecurityGroupId"] == services[consumer] and "cidrIpv4" not in rule
            assert (rule["fromPort"], rule["toPort"], rule["ipProtocol"]) == (dependency.port, dependency.port, "tcp")
            assert rule["description"] == f"{dependency.name}_from_{consumer}"
            egress = rules_on(result, EGRESS, services[consumer])
            out = egress[f"{dependency.name}-from-{consumer}-egress"]
            assert out["referencedSecurityGroupId"] == group and "cidrIpv4" not in out
            assert (out["fromPort"], out["toPort"], out["ipProtocol"]) == (dependency.port, dependency.port, "tcp")
        for label, extra in dependency.extra_consumers:
            assert ingress[f"{dependency.name}-from-{label}"]["referencedSecurityGroupId"] == extra


@pytest.mark.parametrize("stack", STACKS)
def test_nothing_leaves_a_service_but_https_and_its_dependencies(stack):
    settings, result = rendered(stack)
    for service in settings.services:
        group = groups(result)[service.key]
        reached = {
            (dependency_group(result, d.name), d.port)
            for d in settings.dependencies
            if service.key in d.consumers and d.has_security_group
        }
        out = rules_on(result, EGRESS, group).values()
        assert {(r["cidrIpv4"], r["fromPort"]) for r in out if "cidrIpv4" in r} == {("0.0.0.0/0", HTTPS_PORT)}
        assert {(r["referencedSecurityGroupId"], r["fromPort"]) for r in out if "cidrIpv4" not in r} == reached
        assert all(r["ipProtocol"] == "tcp" and r["fromPort"] == r["toPort"] for r in out)


def test_a_dependency_reached_over_https_has_no_rules(dev_run):
    for dependency in dev_run.outputs["dependencies"]:
        if dependency["security_group_id"] is None:
            assert dependency["consumer_security_group_ids"] == {}
            assert not [r for r in by_type(dev_run, INGRESS) if r.name.startswith(f"{dependency['name']}-from-")]


def test_extra_consumers_get_their_own_rule_and_no_egress(dev_values):
    dev_values["hokusai:dependencies"]["redis"]["extra_consumers"] = {"data-pipeline-ecs": "sg-0f1e2d3c4b5a69788"}
    result = run(dev_values)
    rule = rules_on(result, INGRESS, dependency_group(result, "redis"))["redis-from-data-pipeline-ecs"]
    assert rule["referencedSecurityGroupId"] == "sg-0f1e2d3c4b5a69788"
    assert rule["description"] == "redis_from_data_pipeline_ecs"  # the incident's rule, by its name
    assert not [r for r in by_type(result, EGRESS) if r.inputs["securityGroupId"] == "sg-0f1e2d3c4b5a69788"]


def test_a_service_is_admitted_only_where_its_contract_reaches(dev_values):
    result = run(with_mlflow(dev_values))
    for name in ("redis", "postgres"):
        admitted = {rule.split("-from-", 1)[1] for rule in rules_on(result, INGRESS, dependency_group(result, name))}
        assert admitted == {key for key, c in CONTRACTS.items() if name in c.dependency_names}


def test_another_service_of_the_stack_admits_its_consumers_on_its_container_port(dev_values):
    result = run(with_mlflow(dev_values))
    mlflow_group = groups(result)["mlflow"]
    assert dependency_group(result, "mlflow") == mlflow_group
    rule = rules_on(result, INGRESS, mlflow_group)["mlflow-from-api"]
    assert (rule["referencedSecurityGroupId"], rule["fromPort"]) == (groups(result)["api"], 5000)


def test_a_custom_port_is_used(dev_values):
    dev_values["hokusai:dependencies"]["redis"]["port"] = 6380
    result = run(dev_values)
    (rule,) = rules_on(result, INGRESS, dependency_group(result, "redis")).values()
    assert (rule["fromPort"], rule["toPort"]) == (6380, 6380)
    environment = {e["name"]: e["value"] for e in container(result)["environment"]}
    assert environment["REDIS_PORT"] == "6380"


def test_the_ecs_service_waits_for_the_rules_its_tasks_need(monkeypatch, dev_values):
    """Tasks dial Redis and PostgreSQL as they start: the service is created after their rules."""
    waited_for: dict[str, list[str]] = {}
    original = pulumi_aws.ecs.Service.__init__

    def recording(self, resource_name, *args, opts=None, **kwargs):
        waited_for[resource_name] = [getattr(r, "_name", "") for r in (opts.depends_on or [])] if opts else []
        original(self, resource_name, *args, opts=opts, **kwargs)

    monkeypatch.setattr(pulumi_aws.ecs.Service, "__init__", recording)
    result = run(copy.deepcopy(with_mlflow(dev_values)))
    for service in result.outputs["services"]:
        for dependency in result.outputs["dependencies"]:
            if service["key"] in dependency["consumer_security_group_ids"]:
                rule = f"{dependency['name']}-from-{service['key']}"
                assert {rule, f"{rule}-egress"} <= set(waited_for[f"{service['key']}-service"]), service["key"]
