"""The load balancer: adopted listener, or a new ALB (the only world-open security group)."""

from __future__ import annotations

import pytest

from tests.helpers import by_type, run, with_new_load_balancer

INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"


def test_an_adopted_listener_creates_no_load_balancer(dev_run):
    assert not by_type(dev_run, "aws:lb/loadBalancer:LoadBalancer")
    assert not by_type(dev_run, "aws:lb/listener:Listener")


def test_the_service_admits_the_adopted_load_balancers_security_group(dev_run):
    adopted_groups = {g for _, groups in dev_run.mocks.world.listeners.values() for g in groups}
    service_group = dev_run.outputs["services"][0]["security_group_id"]
    admitted = {
        r.inputs["referencedSecurityGroupId"]
        for r in by_type(dev_run, INGRESS)
        if r.inputs["securityGroupId"] == service_group
    }
    assert admitted == adopted_groups


@pytest.fixture(scope="module")
def created():
    import copy

    from tests.helpers import DEV_VALUES

    return run(with_new_load_balancer(copy.deepcopy(DEV_VALUES)))


def test_a_new_alb_is_internet_facing_in_the_public_subnets(created):
    (balancer,) = by_type(created, "aws:lb/loadBalancer:LoadBalancer")
    assert balancer.inputs["name"] == "hokusai-development" and balancer.inputs["internal"] is False
    assert balancer.inputs["subnets"] == ["subnet-0a1b2c3d4e5f60101", "subnet-0a1b2c3d4e5f60102"]
    assert balancer.inputs["dropInvalidHeaderFields"] is True


def test_only_the_alb_is_open_to_the_world_and_only_on_80_and_443(created):
    (alb_group,) = [
        g
        for g in by_type(created, "aws:ec2/securityGroup:SecurityGroup")
        if g.inputs["name"] == "hokusai-development-alb"
    ]
    world = [r.inputs for r in by_type(created, INGRESS) if r.inputs.get("cidrIpv4") or r.inputs.get("cidrIpv6")]
    assert {(r["securityGroupId"], r["fromPort"]) for r in world} == {(alb_group.id, 80), (alb_group.id, 443)}
    assert len(world) == 4  # IPv4 and IPv6 for each port


def test_https_serves_with_the_certificate_and_http_redirects(created):
    listeners = {
        int(listener.inputs["port"]): listener.inputs for listener in by_type(created, "aws:lb/listener:Listener")
    }
    assert listeners[443]["protocol"] == "HTTPS"
    assert listeners[443]["certificateArn"].startswith("arn:aws:acm:us-east-1:123456789012:certificate/")
    assert listeners[443]["sslPolicy"].startswith("ELBSecurityPolicy-TLS13")
    assert listeners[443]["defaultActions"][0]["fixedResponse"]["statusCode"] == "404"
    redirect = listeners[80]["defaultActions"][0]
    assert redirect["type"] == "redirect" and redirect["redirect"]["protocol"] == "HTTPS"


def test_routes_attach_to_the_https_listener(created):
    https = next(
        listener for listener in by_type(created, "aws:lb/listener:Listener") if int(listener.inputs["port"]) == 443
    )
    assert {r.inputs["listenerArn"] for r in by_type(created, "aws:lb/listenerRule:ListenerRule")} == {
        https.outputs["arn"]
    }


def test_the_alb_may_reach_only_the_service_port(created):
    (egress,) = [
        r.inputs
        for r in by_type(created, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
        if r.name == "api-alb-egress"
    ]
    assert egress["referencedSecurityGroupId"] == created.outputs["services"][0]["security_group_id"]
    assert (egress["fromPort"], egress["toPort"]) == (8001, 8001)


def test_without_a_certificate_the_alb_serves_http_only(dev_values):
    result = run(with_new_load_balancer(dev_values, certificate=False))
    (listener,) = by_type(result, "aws:lb/listener:Listener")
    assert (int(listener.inputs["port"]), listener.inputs["protocol"]) == (80, "HTTP")
    ports = {r.inputs["fromPort"] for r in by_type(result, INGRESS) if r.inputs.get("cidrIpv4")}
    assert ports == {80}
