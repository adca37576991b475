"""core/resource_graph.py: the records, the unknown value, and lookups that say "cannot tell"."""

from __future__ import annotations

import copy

import pytest

from core import naming
from core.contract import CONTRACTS
from core.resource_graph import (
    ECS_SERVICE,
    ROLE,
    TARGET_GROUP,
    UNKNOWN,
    Graph,
    Record,
    Unknown,
    field_of,
    has_unknown,
    is_off,
    is_on,
    may_equal,
    parse_json,
    stack_record,
)
from synth.checks import records_of


@pytest.fixture
def records(dev_run) -> list[Record]:
    return records_of(copy.deepcopy(dev_run.resources), copy.deepcopy(dev_run.outputs))


def replaced(records: list[Record], name: str, **changes) -> list[Record]:
    """The records with `name`'s inputs and outputs both changed (as the engine has them: one props)."""
    out = []
    for r in records:
        if r.name == name:
            r = Record(r.type, r.name, {**r.inputs, **changes}, {**r.outputs, **changes})
        out.append(r)
    return out


def test_unknown_is_one_value_that_is_nothing_known():
    assert Unknown() is UNKNOWN
    assert UNKNOWN != "sg-0a1b2c3d" and UNKNOWN != 0 and UNKNOWN is not None
    assert repr(UNKNOWN) == "<unknown until applied>"


@pytest.mark.parametrize(
    "value, expected",
    [
        (UNKNOWN, True),
        ({"a": [1, {"b": UNKNOWN}]}, True),
        ((1, UNKNOWN), True),
        ({"a": [1, "x"]}, False),
        (None, False),
    ],
)
def test_has_unknown_looks_inside(value, expected):
    assert has_unknown(value) is expected


def test_on_and_off_are_only_what_is_known():
    assert is_off(False) and is_off(None) and is_off(0) and not is_off(UNKNOWN) and not is_off(True)
    assert is_on(True) and not is_on(UNKNOWN) and not is_on(False)


def test_may_equal_and_field_of_carry_unknown_through():
    assert may_equal(UNKNOWN, 6379) and may_equal(6379, 6379) and not may_equal(6380, 6379)
    assert field_of(UNKNOWN, "name") is UNKNOWN
    assert field_of({"name": "x"}, "name") == "x"
    assert field_of(None, "name") is None


def test_parse_json_keeps_unknown_and_absent_apart():
    assert parse_json(UNKNOWN) is UNKNOWN
    assert parse_json(None) is None and parse_json("") is None
    assert parse_json('[{"name": "api"}]') == [{"name": "api"}]


def test_the_estate_rides_on_the_stack_resource(records):
    graph = Graph(records)
    assert graph.estate["stack"] == "development"
    assert Graph([r for r in records if r.type != "pulumi:pulumi:Stack"]).estate is None
    assert Graph([stack_record("s", {"estate": UNKNOWN})]).estate is UNKNOWN
    assert Graph([stack_record("s", {})]).estate is None


def test_every_ecs_service_of_the_stack_is_seen_with_its_contract(records):
    graph = Graph(records)
    services = graph.services()
    assert {s.record.name for s in services} == {r.name for r in graph.of_type(ECS_SERVICE)}
    for service in services:
        assert service.contract in CONTRACTS.values()
        assert service.security_groups and not has_unknown(service.security_groups)
        assert service.target_group_arns


def _view(graph: Graph, name: str):
    (found,) = [view for view in graph.services() if view.record.name == name]
    return found


def test_a_service_is_matched_by_its_task_family_when_its_load_balancer_is_unknown(records):
    for service in Graph(records).of_type(ECS_SERVICE):
        changed = replaced(records, service.name, loadBalancers=UNKNOWN)
        view = _view(Graph(changed), service.name)
        assert naming.service_name(view.contract.key, "development") == service.inputs["name"]
        assert view.target_group_arns == ()


def test_unknown_security_groups_make_the_service_network_unknown(records):
    service = Graph(records).of_type(ECS_SERVICE)[0]
    network = {**service.inputs["networkConfiguration"], "securityGroups": [UNKNOWN]}
    view = _view(Graph(replaced(records, service.name, networkConfiguration=network)), service.name)
    assert view.security_groups is UNKNOWN


def test_by_output_cannot_tell_when_the_value_or_a_candidate_is_unknown(records):
    graph = Graph(records)
    group = graph.of_type(TARGET_GROUP)[0]
    assert graph.by_output(TARGET_GROUP, "arn", group.outputs["arn"]) == [group]
    assert graph.by_output(TARGET_GROUP, "arn", UNKNOWN) is None
    assert graph.by_output(TARGET_GROUP, "arn", "arn:aws:elasticloadbalancing:nowhere") == []
    unknown_arn = Graph(replaced(records, group.name, arn=UNKNOWN))
    assert unknown_arn.by_output(TARGET_GROUP, "arn", "arn:aws:elasticloadbalancing:nowhere") is None


def test_a_role_is_found_by_the_name_in_its_arn_while_its_own_arn_is_unknown(records):
    graph = Graph(records)
    role = next(r for r in graph.of_type(ROLE) if r.name == "api-roles-execution")
    arn = role.outputs["arn"]
    assert Graph(replaced(records, role.name, arn=UNKNOWN)).roles_for_arn(arn)[0].name == role.name
    assert graph.roles_for_arn(UNKNOWN) is None


def test_policies_of_a_role_cannot_tell_when_a_policy_or_its_owner_is_unknown(records):
    graph = Graph(records)
    role = next(r for r in graph.of_type(ROLE) if r.name == "api-roles-execution")
    assert graph.policies_of(role)
    assert Graph(replaced(records, "api-roles-execution-policy", policy=UNKNOWN)).policies_of(role) is None
    assert Graph(replaced(records, "api-roles-ecs-exec", role=UNKNOWN)).policies_of(role) is None
