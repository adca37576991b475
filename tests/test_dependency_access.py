"""Dependency rules: every service is admitted into each dependency it reaches on the dependency's
port, by reference, and may leave its own group for it; nothing else leaves but HTTPS; the ECS
service waits for its rules. For every service of every stack file, and for every contract entry
(with_every_contract), what is expected read from the settings and the contracts."""

from __future__ import annotations

import copy
import re

import pulumi_aws

from core.contract import CONTRACTS, DEFAULT_PORTS, HTTPS_PORT, DependencyAttribute
from tests import tiers
from tests.helpers import (
    by_type,
    container,
    each_stack,
    rendered,
    run,
    stack_settings,
    with_every_contract,
)
from tests.helpers import load as load_settings

INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"


def rules_on(result, type_, group):
    return {r.name: r.inputs for r in by_type(result, type_) if r.inputs["securityGroupId"] == group}


def dependency_rules_on(result, group):
    """The ingress rules on a dependency's group but the load balancer's (a service of the stack that
    is a dependency also admits its load balancer: `<service>-from-alb-<n>`)."""
    return {
        name: rule for name, rule in rules_on(result, INGRESS, group).items() if not re.search(r"-from-alb-\d+$", name)
    }


def groups(result):
    return {s["key"]: s["security_group_id"] for s in result.outputs["services"]}


def dependency_group(result, name):
    return next(d for d in result.outputs["dependencies"] if d["name"] == name)["security_group_id"]


def with_security_group(settings):
    return [d for d in settings.dependencies if d.has_security_group]


@each_stack
def test_each_service_is_admitted_into_each_dependency_it_reaches_by_reference(stack):
    settings, result = stack_settings(stack), rendered(stack)
    services = groups(result)
    for dependency in with_security_group(settings):
        group = dependency_group(result, dependency.name)
        ingress = dependency_rules_on(result, group)
        # Exactly one rule per consumer, the stack's services and the extra ones: nothing else is admitted.
        labels = [*dependency.consumers, *(label for label, _ in dependency.extra_consumers)]
        assert set(ingress) == {f"{dependency.name}-from-{label}" for label in labels}, dependency.name
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
            rule = ingress[f"{dependency.name}-from-{label}"]
            assert rule["referencedSecurityGroupId"] == extra and "cidrIpv4" not in rule
            assert (rule["fromPort"], rule["toPort"], rule["ipProtocol"]) == (dependency.port, dependency.port, "tcp")


@each_stack
def test_nothing_leaves_a_service_but_https_and_its_dependencies(stack):
    settings, result = stack_settings(stack), rendered(stack)
    for service in settings.services:
        group = groups(result)[service.key]
        reached = {
            (dependency_group(result, d.name), d.port)
            for d in with_security_group(settings)
            if service.key in d.consumers
        }
        out = rules_on(result, EGRESS, group).values()
        assert {(r["cidrIpv4"], r["fromPort"]) for r in out if "cidrIpv4" in r} == {("0.0.0.0/0", HTTPS_PORT)}
        assert {(r["referencedSecurityGroupId"], r["fromPort"]) for r in out if "cidrIpv4" not in r} == reached
        assert all(r["ipProtocol"] == "tcp" and r["fromPort"] == r["toPort"] for r in out)


@each_stack
def test_a_dependency_reached_over_https_has_no_rules(stack):
    result = rendered(stack)
    for dependency in result.outputs["dependencies"]:
        if dependency["security_group_id"] is None:
            assert dependency["consumer_security_group_ids"] == {}
            assert not [r for r in by_type(result, INGRESS) if r.name.startswith(f"{dependency['name']}-from-")]


def declared_with_a_group(values) -> list[str]:
    """The dependencies a stack config declares with a security group."""
    return [name for name, d in (values.get("hokusai:dependencies") or {}).items() if d.get("security_group_id")]


@tiers.renders
def test_extra_consumers_get_their_own_rule_and_no_egress(dev_values):
    names = declared_with_a_group(dev_values)
    assert names, "the development stack declares no dependency with a security group"
    for name in names:
        dev_values["hokusai:dependencies"][name]["extra_consumers"] = {"data-pipeline-ecs": "sg-0f1e2d3c4b5a69788"}
    result = run(dev_values)
    for name in names:
        rule = rules_on(result, INGRESS, dependency_group(result, name))[f"{name}-from-data-pipeline-ecs"]
        assert rule["referencedSecurityGroupId"] == "sg-0f1e2d3c4b5a69788"
        # The incident's rule was redis_from_data_pipeline_ecs: each is named that way.
        assert rule["description"] == f"{name}_from_data_pipeline_ecs"
    assert not [r for r in by_type(result, EGRESS) if r.inputs["securityGroupId"] == "sg-0f1e2d3c4b5a69788"]


@tiers.renders
def test_a_service_is_admitted_only_where_its_contract_reaches(dev_values):
    values = with_every_contract(dev_values)
    settings, result = load_settings(values), run(values)
    for dependency in with_security_group(settings):
        admitted = {
            rule.split("-from-", 1)[1]
            for rule in dependency_rules_on(result, dependency_group(result, dependency.name))
        }
        expected = {key for key, c in CONTRACTS.items() if dependency.name in c.dependency_names}
        assert admitted == expected, dependency.name


@tiers.renders
def test_another_service_of_the_stack_admits_its_consumers_on_its_container_port(dev_values):
    result = run(with_every_contract(dev_values))
    in_stack = [d for d in result.outputs["dependencies"] if d["name"] in groups(result)]
    assert in_stack, "no contract entry is another's dependency"
    for dependency in in_stack:
        name = dependency["name"]
        assert dependency_group(result, name) == groups(result)[name]
        for consumer, group in dependency["consumer_security_group_ids"].items():
            rule = rules_on(result, INGRESS, groups(result)[name])[f"{name}-from-{consumer}"]
            assert (rule["referencedSecurityGroupId"], rule["fromPort"]) == (group, CONTRACTS[name].container_port)


@tiers.renders
def test_a_custom_port_is_used(dev_values):
    # GIVEN each dependency declared with a group (and no url, whose port a custom one must match) on another port
    declared = dev_values["hokusai:dependencies"]
    ports = {
        name: int(declared[name].get("port") or DEFAULT_PORTS[name]) + 1
        for name in declared_with_a_group(dev_values)
        if "url" not in declared[name]
    }
    assert ports, "the development stack declares no dependency with a security group and without a url"
    for name, port in ports.items():
        declared[name]["port"] = port
    # WHEN rendered THEN the rules open it, and each consumer reads it where its contract reads the port
    result, settings = run(dev_values), load_settings(dev_values)
    for name, port in ports.items():
        rules = dependency_rules_on(result, dependency_group(result, name)).values()
        assert rules and all((rule["fromPort"], rule["toPort"]) == (port, port) for rule in rules), name
        for consumer in settings.dependency(name).consumers:
            environment = {e["name"]: e["value"] for e in container(result, consumer)["environment"]}
            requirement = next(r for r in CONTRACTS[consumer].dependencies if r.dependency == name)
            for env_var, attribute in requirement.settings:
                if attribute is DependencyAttribute.PORT:
                    assert environment[env_var] == str(port), env_var


@tiers.renders
def test_the_ecs_service_waits_for_the_rules_its_tasks_need(monkeypatch, dev_values) -> None:
    """Tasks dial Redis and PostgreSQL as they start: the service is created after their rules."""
    waited_for: dict[str, list[str]] = {}
    original = pulumi_aws.ecs.Service.__init__

    def recording(self, resource_name, *args, opts=None, **kwargs):
        waited_for[resource_name] = [getattr(r, "_name", "") for r in (opts.depends_on or [])] if opts else []
        original(self, resource_name, *args, opts=opts, **kwargs)

    monkeypatch.setattr(pulumi_aws.ecs.Service, "__init__", recording)
    result = run(copy.deepcopy(with_every_contract(dev_values)))
    checked = 0
    for service in result.outputs["services"]:
        for dependency in result.outputs["dependencies"]:
            if service["key"] in dependency["consumer_security_group_ids"]:
                rule = f"{dependency['name']}-from-{service['key']}"
                assert {rule, f"{rule}-egress"} <= set(waited_for[f"{service['key']}-service"]), service["key"]
                checked += 1
    assert checked
