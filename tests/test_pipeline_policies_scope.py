"""What a stack's pipeline policies are scoped to (core/pipeline_policies/scope.py), and how
statements are packed into managed policies (packing.py)."""

from __future__ import annotations

import pytest
import yaml

from core import naming
from core.iam_policy import Decision, decide
from core.pipeline_policies import StackScope, StateBackend
from core.pipeline_policies.packing import PolicyTooLarge, pack
from core.pipeline_policies.statements import allow, size
from tests.helpers import PROJECT_DIR, each_service, each_stack, stack_settings


def matches(pattern: str, arn: str) -> bool:
    return decide({"Statement": [allow("Probe", "x:Y", pattern)]}, "x:Y", arn) is Decision.ALLOWED


@each_service
def test_a_services_target_group_pattern_matches_its_replacements_and_no_other_stacks_or_services(stack, service):
    settings = stack_settings(stack)
    spec = settings.service(service)
    (pattern,) = [p for p in StackScope(settings).target_groups if naming.target_group_prefix(service, stack) in p]
    at = f"arn:aws:elasticloadbalancing:{settings.region}:{settings.account_id}:targetgroup"
    # Today's name, and the one a replacement (another port or VPC) gets.
    for port, vpc in ((spec.container_port, settings.network.vpc_id), (spec.container_port + 1, "vpc-0other")):
        name = naming.target_group_name(service, stack, port=port, vpc_id=vpc)
        assert matches(pattern, f"{at}/{name}/0123456789abcdef")
    for other_service, other_stack in ((service, f"{stack}-x"), (service, f"x{stack}"), (f"{service}x", stack)):
        assert naming.target_group_prefix(other_service, other_stack) != naming.target_group_prefix(service, stack)
        name = naming.target_group_name(other_service, other_stack, port=spec.container_port, vpc_id="vpc-0a")
        assert not matches(pattern, f"{at}/{name}/0123456789abcdef"), name


@each_stack
def test_the_adopted_load_balancer_and_its_rules_are_read_from_the_listener_arn(stack):
    scope = StackScope(stack_settings(stack))
    listener = stack_settings(stack).load_balancer.listener_arn
    if not listener:
        assert scope.adopted_load_balancer is None
        assert scope.listener_rules.endswith(f"listener-rule/app/{naming.load_balancer_name(stack)}/*")
        return
    balancer = scope.adopted_load_balancer
    assert balancer and listener.startswith(balancer.replace(":loadbalancer/", ":listener/") + "/")
    assert matches(scope.listener_rules, listener.replace(":listener/", ":listener-rule/") + "/0123456789abcdef")
    assert not matches(scope.listener_rules, balancer.replace(":loadbalancer/", ":listener-rule/") + "/0ther/01234")


def test_the_state_backends_project_is_the_pulumi_project():
    project = yaml.safe_load((PROJECT_DIR / "Pulumi.yaml").read_text())["name"]
    assert StateBackend().project == project


def test_packing_keeps_the_order_fills_each_policy_and_refuses_what_cannot_fit():
    statements = [allow(f"S{n}", "ecs:DescribeServices", f"arn:aws:ecs:::service/c/{'x' * 100}{n}") for n in range(30)]
    limit = 1_000
    parts = pack(statements, limit=limit)
    assert [s for part in parts for s in part["Statement"]] == statements
    assert all(size(part) <= limit for part in parts)
    # Each but the last is full: the next statement would not have fitted.
    for part, following in zip(parts, parts[1:], strict=False):
        assert size({**part, "Statement": [*part["Statement"], following["Statement"][0]]}) > limit
    with pytest.raises(PolicyTooLarge, match="S0 alone is .* split its resources"):
        pack(statements[:1], limit=100)
