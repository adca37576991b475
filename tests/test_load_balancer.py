"""The load balancer: adopted listener, or a new ALB (the only world-open security group)."""

from __future__ import annotations

import copy

import pytest

from core import naming
from core.contract import CONTRACTS
from tests import tiers
from tests.helpers import (
    DEV_VALUES,
    by_type,
    each_service,
    each_stack,
    of_service,
    rendered,
    run,
    service_output,
    stack_settings,
    with_every_contract,
    with_new_load_balancer,
)

INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"


@each_stack
def test_an_adopted_listener_creates_no_load_balancer(stack):
    created = stack_settings(stack).load_balancer.creates_load_balancer
    assert bool(by_type(rendered(stack), "aws:lb/loadBalancer:LoadBalancer")) is created
    assert bool(by_type(rendered(stack), "aws:lb/listener:Listener")) is created


@each_service
def test_the_service_admits_the_load_balancers_security_groups(stack, service):
    result = rendered(stack)
    if stack_settings(stack).load_balancer.creates_load_balancer:
        alb = f"{naming.load_balancer_name(stack)}-alb"
        groups = {g.id for g in by_type(result, "aws:ec2/securityGroup:SecurityGroup") if g.inputs["name"] == alb}
    else:
        groups = {g for _, adopted in result.mocks.world.listeners.values() for g in adopted}
    service_group = service_output(result, service)["security_group_id"]
    # The service's own rules (another service of the stack reaching it as a dependency has its own)
    admitted = {
        r.inputs["referencedSecurityGroupId"]
        for r in of_service(result, service, INGRESS)
        if r.inputs["securityGroupId"] == service_group
    }
    # ... and nothing else is admitted but the consumers its dependency rules name
    consumers = {
        group
        for d in result.outputs["dependencies"]
        if d["name"] == service
        for group in d["consumer_security_group_ids"].values()
    }
    assert {
        r.inputs["referencedSecurityGroupId"]
        for r in by_type(result, INGRESS)
        if r.inputs["securityGroupId"] == service_group
    } == admitted | consumers
    assert admitted == groups


@pytest.fixture(scope="module")
def created():
    return run(with_new_load_balancer(with_every_contract(copy.deepcopy(DEV_VALUES))))


@tiers.renders
def test_a_new_alb_is_internet_facing_in_the_public_subnets(created):
    (balancer,) = by_type(created, "aws:lb/loadBalancer:LoadBalancer")
    assert balancer.inputs["name"] == naming.load_balancer_name("development") and balancer.inputs["internal"] is False
    assert (
        balancer.inputs["subnets"]
        == with_new_load_balancer(copy.deepcopy(DEV_VALUES))["hokusai:network"]["public_subnet_ids"]
    )
    assert balancer.inputs["dropInvalidHeaderFields"] is True


@tiers.renders
def test_only_the_alb_is_open_to_the_world_and_only_on_80_and_443(created):
    (alb_group,) = [
        g
        for g in by_type(created, "aws:ec2/securityGroup:SecurityGroup")
        if g.inputs["name"] == f"{naming.load_balancer_name('development')}-alb"
    ]
    world = [r.inputs for r in by_type(created, INGRESS) if r.inputs.get("cidrIpv4") or r.inputs.get("cidrIpv6")]
    assert {(r["securityGroupId"], r["fromPort"]) for r in world} == {(alb_group.id, 80), (alb_group.id, 443)}
    assert len(world) == 4  # IPv4 and IPv6 for each port


@tiers.renders
def test_https_serves_with_the_certificate_and_http_redirects(created):
    listeners = {
        int(listener.inputs["port"]): listener.inputs for listener in by_type(created, "aws:lb/listener:Listener")
    }
    assert listeners[443]["protocol"] == "HTTPS"
    assert (
        listeners[443]["certificateArn"]
        == with_new_load_balancer(copy.deepcopy(DEV_VALUES))["hokusai:load_balancer"]["certificate_arn"]
    )
    assert listeners[443]["sslPolicy"].startswith("ELBSecurityPolicy-TLS13")
    assert listeners[443]["defaultActions"][0]["fixedResponse"]["statusCode"] == "404"
    redirect = listeners[80]["defaultActions"][0]
    assert redirect["type"] == "redirect" and redirect["redirect"]["protocol"] == "HTTPS"


@tiers.renders
def test_routes_attach_to_the_https_listener(created):
    https = next(
        listener for listener in by_type(created, "aws:lb/listener:Listener") if int(listener.inputs["port"]) == 443
    )
    assert {r.inputs["listenerArn"] for r in by_type(created, "aws:lb/listenerRule:ListenerRule")} == {
        https.outputs["arn"]
    }


@pytest.mark.parametrize("service", sorted(CONTRACTS))
@tiers.renders
def test_the_alb_may_reach_each_service_on_its_port_only(created, service):
    (egress,) = [
        r.inputs
        for r in of_service(created, service, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
        if r.inputs.get("referencedSecurityGroupId")
    ]
    assert egress["referencedSecurityGroupId"] == service_output(created, service)["security_group_id"]
    port = CONTRACTS[service].container_port
    assert (egress["fromPort"], egress["toPort"]) == (port, port)


@tiers.renders
def test_without_a_certificate_the_alb_serves_http_only(dev_values):
    result = run(with_new_load_balancer(dev_values, certificate=False))
    (listener,) = by_type(result, "aws:lb/listener:Listener")
    assert (int(listener.inputs["port"]), listener.inputs["protocol"]) == (80, "HTTP")
    ports = {r.inputs["fromPort"] for r in by_type(result, INGRESS) if r.inputs.get("cidrIpv4")}
    assert ports == {80}
