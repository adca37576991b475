"""The cutover diff (core/cutover_diff.py, synth/import_diff.py): what the first preview after the
import changes on the live resources, and whether a replacement is one the record justifies.

GIVEN a program that declares the live estate exactly as the record has it (built here from
the record alone, for every service and rule the record has)
WHEN one input differs
THEN the diff names the property, says in place or replaced (core/replacement.py), follows a
replacement to what refers to the replaced resource, and accepts a replacement only where a
Difference of the record names the property. And on every stack file: no replacement of a
live resource that the record does not justify.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from typing import Any

import pytest

from core import cutover_diff
from core.cutover_diff import LIVE_PROPERTIES, CutoverDiff, LiveRef, compare, justification, recorded
from core.import_plan import ImportPlan, build_plan
from core.importable import (
    CLUSTER,
    DISCOVERY_SERVICE,
    ECS_SERVICE,
    IMPORTABLE,
    LISTENER_RULE,
    LOG_GROUP,
    NAMESPACE,
    SERVICE_COMPONENT,
    TARGET_GROUP,
    Node,
    Unfilled,
)
from core.live_estate import LIVE, Fact, LiveEstate, lookup
from core.naming import PROJECT
from synth import import_diff as tool
from synth.import_plan import nodes_of
from tests.estate_edits import filled, with_difference, without_differences
from tests.helpers import each_stack, rendered
from tests.test_replacement import resolves

pytestmark = pytest.mark.reads_config

ACCOUNT, REGION = LIVE.network.account_id.value, LIVE.network.region.value


def known(path: str, default: Any) -> Any:
    """The record's value at `path`, or `default` where it has a placeholder."""
    value = recorded(path, LIVE)
    return default if isinstance(value, Unfilled) else value


@functools.cache
def faithful() -> tuple[Node, ...]:
    """A program declaring every importable live resource of the record exactly as recorded."""
    arn = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}"
    cluster_arn = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{LIVE.cluster.name.value}"
    nodes: list[Node] = [
        Node(
            CLUSTER,
            "cluster-cluster",
            {"name": LIVE.cluster.name.value, "settings": [{"name": "containerInsights", "value": "enabled"}]},
            {"arn": cluster_arn, "id": cluster_arn},
            parent=Node("hokusai:ecs:Cluster", "cluster", {}, custom=False),
        ),
        Node(
            NAMESPACE,
            "discovery-namespace",
            {"name": LIVE.cloud_map.namespace.value, "vpc": LIVE.network.vpc_id.value},
            {"id": "ns-live"},
            parent=Node("hokusai:discovery:Namespace", "discovery", {}, custom=False),
        ),
    ]
    group_arns = {
        key: f"{arn}:targetgroup/{group.name.value}/0123456789abcdef" for key, group in LIVE.target_groups.items()
    }
    for key, service in LIVE.services.items():
        component = Node(SERVICE_COMPONENT, key, {}, custom=False)
        group = LIVE.target_groups[service.target_group]
        base = f"target_groups.{service.target_group}"
        registry = f"arn:aws:servicediscovery:{REGION}:{ACCOUNT}:service/srv-{key}"
        nodes += [
            Node(
                TARGET_GROUP,
                f"{key}-tg",
                {
                    "name": group.name.value,
                    "vpcId": LIVE.network.vpc_id.value,
                    "port": service.container_port.value,
                    "protocol": "HTTP",
                    "targetType": "ip",
                    "healthCheck": {
                        "path": known(f"{base}.health_check_path", "/health"),
                        "interval": known(f"{base}.health_check_interval", 30),
                        "timeout": known(f"{base}.health_check_timeout", 5),
                    },
                },
                {"arn": group_arns[service.target_group]},
                parent=component,
            ),
            Node(
                DISCOVERY_SERVICE,
                f"{key}-discovery",
                {
                    "name": LIVE.cloud_map.services[service.cloud_map_service.value].name.value,
                    "dnsConfig": {
                        "namespaceId": "ns-live",
                        "routingPolicy": LIVE.cloud_map.routing_policy.value,
                        "dnsRecords": [
                            {"type": LIVE.cloud_map.record_type.value, "ttl": LIVE.cloud_map.record_ttl.value}
                        ],
                    },
                    "healthCheckCustomConfig": {"failureThreshold": LIVE.cloud_map.failure_threshold.value},
                },
                {"arn": registry},
                parent=component,
            ),
            Node(
                ECS_SERVICE,
                f"{key}-service",
                {
                    "name": service.service_name.value,
                    "cluster": cluster_arn,
                    "taskDefinition": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{service.task_family.value}:1",
                    "desiredCount": service.desired_count.value,
                    "loadBalancers": [
                        {
                            "targetGroupArn": group_arns[service.target_group],
                            "containerName": service.container_name.value,
                            "containerPort": service.container_port.value,
                        }
                    ],
                    "serviceRegistries": {"registryArn": registry},
                    "networkConfiguration": {
                        "subnets": list(known(f"services.{key}.subnets", ["subnet-0"])),
                        "securityGroups": [known(f"security_groups.{service.security_group}.id", "sg-0")],
                    },
                    "deploymentCircuitBreaker": {"enable": True, "rollback": True},
                },
                parent=component,
                ignore_changes=("desiredCount",),
            ),
            Node(
                LOG_GROUP,
                f"{key}-observability-logs",
                {"name": service.log_group.value},
                parent=Node(
                    "hokusai:observability:ServiceObservability",
                    f"{key}-observability",
                    {},
                    parent=component,
                    custom=False,
                ),
            ),
        ]
        for balancer in LIVE.load_balancers.values():
            for rule in balancer.https_rules:
                if rule.target_group == service.target_group:
                    nodes.append(
                        Node(
                            LISTENER_RULE,
                            f"{key}-route-{rule.priority.value}",
                            {
                                "listenerArn": f"{arn}:listener/app/{balancer.name.value}/0123/4567",
                                "priority": rule.priority.value,
                                "conditions": [{"pathPattern": {"values": list(rule.paths.value)}}],
                                "actions": [{"type": "forward", "targetGroupArn": group_arns[rule.target_group]}],
                            },
                            parent=component,
                        )
                    )
    return tuple(nodes)


def changed(nodes: tuple[Node, ...] | list[Node], resource: str, /, **inputs: Any) -> list[Node]:
    """`nodes` with the inputs of the (leaf) resource named `resource` changed; None removes an input."""
    out = []
    for node in nodes:
        if node.name == resource:
            merged = {k: v for k, v in {**node.inputs, **inputs}.items() if v is not None}
            node = dataclasses.replace(node, inputs=merged)
        out.append(node)
    return out


def diff(nodes, estate: LiveEstate = LIVE, account: str = ACCOUNT) -> tuple[ImportPlan, CutoverDiff]:
    plan = build_plan(list(nodes), stack="s", project=PROJECT, estate=estate)
    return plan, compare(plan, list(nodes), account_id=account, region=REGION, estate=estate)


def replaced(result: CutoverDiff) -> set[tuple[str, str]]:
    return {(c.resource, c.path) for c in result.replacements}


def in_place(result: CutoverDiff) -> set[tuple[str, str]]:
    return {(c.resource, c.path) for c in result.in_place}


SERVICE = next(iter(LIVE.services))
GROUP = LIVE.services[SERVICE].target_group


# --------------------------------------------------------------------------- #
# A program faithful to the record
# --------------------------------------------------------------------------- #


def test_a_faithful_program_takes_everything_over_and_changes_only_the_task_definition():
    plan, result = diff(faithful())
    assert {e.counterpart.record_path for e in plan.imported} == {path for path, _ in cutover_diff.live_resources(LIVE)}
    assert result.replacements == () and result.mismatches == () and result.left_alone == ()
    assert in_place(result) == {(f"{key}-service", "taskDefinition") for key in LIVE.services}


def test_every_importable_type_says_what_the_record_knows_of_it():
    assert set(LIVE_PROPERTIES) == set(IMPORTABLE)


def test_every_compared_property_is_an_input_of_its_type():
    plan, _ = diff(faithful())
    for entry in plan.imported:
        for prop in LIVE_PROPERTIES[entry.node.type](entry.node, entry.counterpart.record_path, LIVE):
            assert resolves(entry.node.type, prop.path), f"{entry.node.type}: {prop.path}"
            lookup(prop.record_path)  # and the record has the path it cites


# --------------------------------------------------------------------------- #
# In place, replaced, and what follows a replacement
# --------------------------------------------------------------------------- #


def test_a_health_check_change_updates_the_target_group_in_place():
    _, result = diff(
        changed(faithful(), f"{SERVICE}-tg", healthCheck={"path": "/health", "interval": 10, "timeout": 5})
    )
    assert (f"{SERVICE}-tg", "healthCheck.interval") in in_place(result) and result.replacements == ()


def test_a_renamed_target_group_is_replaced_and_what_forwards_to_it_follows():
    _, result = diff(changed(faithful(), f"{SERVICE}-tg", name="another-name"))
    assert replaced(result) == {(f"{SERVICE}-tg", "name")}
    assert (f"{SERVICE}-service", "loadBalancers.targetGroupArn") in in_place(result)
    rules = {n.name for n in faithful() if n.type == LISTENER_RULE and n.parent and n.parent.name == SERVICE}
    assert {(rule, "actions.targetGroupArn") for rule in rules} <= in_place(result)
    followed = [c for c in result.in_place if c.path == "loadBalancers.targetGroupArn"]
    assert followed and all(c.cause.startswith(f"follows the replacement of {SERVICE}-tg") for c in followed)


def test_a_namespace_in_another_vpc_replaces_it_and_each_cloud_map_service_in_turn():
    _, result = diff(changed(faithful(), "discovery-namespace", vpc="vpc-elsewhere"))
    discovery = {n.name for n in faithful() if n.type == DISCOVERY_SERVICE}
    assert replaced(result) == {("discovery-namespace", "vpc")} | {(d, "dnsConfig.namespaceId") for d in discovery}
    # The ECS services' registry ARNs change with them, in place.
    assert {(f"{k}-service", "serviceRegistries.registryArn") for k in LIVE.services} <= in_place(result)


def test_a_cloud_map_service_without_the_custom_health_check_is_replaced():
    _, result = diff(changed(faithful(), f"{SERVICE}-discovery", healthCheckCustomConfig=None))
    assert (f"{SERVICE}-discovery", "healthCheckCustomConfig") in replaced(result)


def test_a_container_name_change_updates_the_service_in_place():
    service = LIVE.services[SERVICE]
    balancers = [{"targetGroupArn": "x", "containerName": "other", "containerPort": service.container_port.value}]
    _, result = diff(changed(faithful(), f"{SERVICE}-service", loadBalancers=balancers))
    assert (f"{SERVICE}-service", "loadBalancers.containerName") in in_place(result)
    # A target group ARN that is none of the stack's own is shown as the program has it.
    (target,) = [c for c in result.changes if c.path == "loadBalancers.targetGroupArn"]
    assert target.program == "x" and not target.replaces


def test_the_program_value_names_the_stacks_own_resource_rather_than_its_id():
    nodes = [*faithful(), Node("aws:ec2/securityGroup:SecurityGroup", "api-sg", {}, {"id": "sg-new"})]
    network = {"subnets": ["subnet-0"], "securityGroups": ["sg-new"]}
    _, result = diff(changed(nodes, f"{SERVICE}-service", networkConfiguration=network))
    (change,) = [c for c in result.changes if c.path == "networkConfiguration.securityGroups"]
    assert change.program == '["api-sg (created by the stack)"]'


# --------------------------------------------------------------------------- #
# Justified by the record, or not
# --------------------------------------------------------------------------- #


def test_a_replacement_is_justified_only_by_a_difference_naming_its_property():
    nodes = changed(faithful(), f"{SERVICE}-tg", name="another-name")
    estate = with_difference(LIVE, f"target_groups.{GROUP}.name", subject="New target groups")
    _, result = diff(nodes, estate)
    assert [c.justified_by for c in result.replacements] == ["New target groups"]
    assert result.unjustified_replacements == ()


def test_removing_the_difference_makes_the_replacement_a_finding():
    nodes = changed(faithful(), f"{SERVICE}-tg", name="another-name")
    estate = without_differences(with_difference(LIVE, f"target_groups.{GROUP}.name"))
    _, result = diff(nodes, estate)
    assert [(c.resource, c.path) for c in result.unjustified_replacements] == [(f"{SERVICE}-tg", "name")]


def test_a_difference_naming_another_property_does_not_justify_it():
    nodes = changed(faithful(), f"{SERVICE}-tg", name="another-name")
    estate = with_difference(LIVE, f"target_groups.{GROUP}.health_check_path", f"target_groups.{GROUP}.name_prefix")
    _, result = diff(nodes, estate)
    assert len(result.unjustified_replacements) == 1


def test_a_replacement_that_follows_another_is_justified_as_that_one_is():
    nodes = changed(faithful(), "discovery-namespace", vpc="vpc-elsewhere")
    _, unjustified = diff(nodes)
    assert len(unjustified.unjustified_replacements) == len(unjustified.replacements) > 1
    _, justified = diff(nodes, with_difference(LIVE, "network.vpc_id", subject="A new VPC"))
    assert justified.replacements and {c.justified_by for c in justified.replacements} == {"A new VPC"}


def test_justification_matches_whole_record_steps():
    estate = with_difference(LIVE, "services.api")
    assert justification("services.api.container_name", estate) == "a deliberate change"
    assert justification("services.api_v2.container_name", estate) == ""
    assert justification("security_groups.api_task.id", LIVE)  # the record's own "Security groups"


# --------------------------------------------------------------------------- #
# Not compared, ignored, left alone, and the wrong account
# --------------------------------------------------------------------------- #


def test_what_the_record_does_not_know_is_listed_with_whether_it_would_replace():
    _, result = diff(faithful())
    risks = {(u.resource, u.path): u.replaces_if_different for u in result.uncompared}
    if isinstance(recorded(f"target_groups.{GROUP}.settings", LIVE), Unfilled):
        assert risks[(f"{SERVICE}-tg", "port")] is True
    if isinstance(recorded(f"services.{SERVICE}.log_retention_days", LIVE), Unfilled):
        assert risks[(f"{SERVICE}-observability-logs", "retentionInDays")] is False
    assert all(isinstance(u.unfilled, Unfilled) for u in result.uncompared)


def test_a_filled_placeholder_is_compared():
    estate = filled(LIVE, f"services.{SERVICE}.log_retention_days", 7)
    nodes = changed(faithful(), f"{SERVICE}-observability-logs", retentionInDays=30)
    _, result = diff(nodes, estate)
    assert (f"{SERVICE}-observability-logs", "retentionInDays") in in_place(result)
    assert not [u for u in result.uncompared if u.path == "retentionInDays" and u.resource.startswith(SERVICE)]


def test_what_the_program_ignores_is_kept_and_not_a_change():
    nodes = changed(faithful(), f"{SERVICE}-service", desiredCount=5)
    _, result = diff(nodes)
    assert [(i.resource, i.path) for i in result.ignored if i.resource == f"{SERVICE}-service"] == [
        (f"{SERVICE}-service", "desiredCount")
    ]
    assert (f"{SERVICE}-service", "desiredCount") not in in_place(result)
    unignored = [dataclasses.replace(n, ignore_changes=()) if n.name == f"{SERVICE}-service" else n for n in nodes]
    assert (f"{SERVICE}-service", "desiredCount") in in_place(diff(unignored)[1])


def test_live_resources_the_stack_does_not_take_over_are_listed():
    dropped = [n for n in faithful() if n.service_key != SERVICE]
    _, result = diff(dropped)
    left = {item.record_path for item in result.left_alone}
    assert {f"services.{SERVICE}", f"target_groups.{GROUP}", f"services.{SERVICE}.log_group"} <= left


def test_a_stack_in_another_account_is_a_mismatch():
    _, result = diff(faithful(), account="000000000000")
    assert [(m.what, m.stack, m.live) for m in result.mismatches] == [("account", "000000000000", ACCOUNT)]


def test_a_stack_that_is_not_the_estate_may_be_anywhere():
    """Its cluster is not the record's: nothing of the record is its, wherever it deploys."""
    nodes = changed(faithful(), "cluster-cluster", name="hokusai-elsewhere")
    plan, result = diff(nodes, account="000000000000")
    assert not plan.is_live_estate and result.mismatches == () and result.changes == ()


# --------------------------------------------------------------------------- #
# Every stack file
# --------------------------------------------------------------------------- #


@functools.cache
def stack_diff(stack: str) -> tuple[ImportPlan, CutoverDiff]:
    run = rendered(stack)
    nodes = nodes_of(run)
    plan = build_plan(nodes, stack=stack, project=PROJECT)
    return plan, compare(plan, nodes, account_id=run.outputs["account_id"], region=run.outputs["region"])


@each_stack
def test_no_replacement_of_a_live_resource_that_the_record_does_not_justify(stack):
    _, result = stack_diff(stack)
    assert [
        f"{c.resource} {c.path}: {c.live} -> {c.program}" + (f" ({c.cause})" if c.cause else "")
        for c in result.unjustified_replacements
    ] == []


@each_stack
def test_every_reference_between_imported_resources_is_recognised(stack):
    """The ARN or id a rendered resource passes for another is that resource's (the mocks agree with
    the program), so a reference shows as the resource it is, never as a raw id."""
    plan, result = stack_diff(stack)
    references = {
        (e.node.name, prop.label)
        for e in plan.imported
        for prop in LIVE_PROPERTIES[e.node.type](e.node, e.counterpart.record_path, LIVE)
        if isinstance(prop.live, LiveRef)
    }
    for change in result.changes:
        if (change.resource, change.path) in references:
            assert not change.program.startswith(("arn:", "ns-", "srv-")), change


# --------------------------------------------------------------------------- #
# The tool
# --------------------------------------------------------------------------- #


@each_stack
def test_the_report_lists_every_change_and_exits_1_on_a_finding(stack, capsys, monkeypatch):
    monkeypatch.setattr("synth.import_plan.run_stack", lambda name: rendered(name))
    code = tool.main(["--stack", stack])
    printed = capsys.readouterr().out
    _, result = stack_diff(stack)
    for change in result.changes:
        assert f"{change.resource} ({change.subject}) {change.path}: {change.live} -> {change.program}" in printed
    for item in result.uncompared:
        assert f"{item.resource} {item.path}: fill {item.unfilled.label}" in printed
    assert code == (1 if result.unjustified_replacements or result.mismatches else 0)


@each_stack
def test_json_is_one_document_with_the_same_findings(stack, capsys, monkeypatch):
    monkeypatch.setattr("synth.import_plan.run_stack", lambda name: rendered(name))
    tool.main(["--stack", stack, "--json"])
    document = json.loads(capsys.readouterr().out)
    _, result = stack_diff(stack)
    assert document["unjustified_replacements"] == len(result.unjustified_replacements)
    assert len(document["replaced"]) == len(result.replacements) and len(document["in_place"]) == len(result.in_place)


def test_a_faithful_bound_stack_exits_0(capsys, monkeypatch):
    """The report's verdict on a program that declares the record: nothing to fear."""
    monkeypatch.setattr(tool, "diff_for", lambda stack: diff(faithful()))
    assert tool.main(["--stack", "development"]) == 0
    assert "no replacement of a live resource the record does not justify" in capsys.readouterr().out


def test_a_stack_that_cannot_be_rendered_exits_2(capsys):
    assert tool.main(["--stack", "../development"]) == 2
    assert "cannot compare stack" in capsys.readouterr().err


def test_facts_are_plain_values_for_the_comparison():
    assert recorded("cluster.name", LIVE) == LIVE.cluster.name.value
    assert isinstance(lookup("cluster.name"), Fact)
    assert isinstance(recorded("services.mlflow.circuit_breaker.enabled", LIVE), Unfilled) == (
        not hasattr(LIVE.services["mlflow"].circuit_breaker, "enabled")
    )
