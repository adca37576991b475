"""core/invariants.py: the registry, and what the invariants do with values not known yet.

Breaking each invariant in the rendered graph is tests/synth/test_checks.py (through
synth) and tests/policy/test_policies.py (through the pack). Here:

- the registry: names a policy can carry, a reason for every level, and the incident
  invariants mandatory;
- GIVEN the development graph with any one value (a leaf, or a whole object) made
  unknown, as a preview has what AWS computes THEN no invariant reports anything:
  an unknown value is never a finding; and the harness that says so notices a check
  that compares an unknown as if it were a value;
- an SG whose refreshed state lists the rules the stack declares separately is not
  "inline ingress"; an entry no declared rule explains is.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from core import invariants
from core.invariants import INVARIANTS, Enforcement, Finding, check_records
from core.resource_graph import INGRESS_RULE, SECURITY_GROUP, UNKNOWN, Graph, Record, stack_record
from synth.checks import records_of
from tests import tiers
from tests.helpers import run, with_mlflow, with_new_load_balancer

# The incident invariants: a breach of any of these is what the estate shipped (or could).
INCIDENT_CHECKS = {
    invariants.secrets_only_through_secrets_list,
    invariants.execution_role_reads_exactly_its_secrets,
    invariants.no_world_open_ingress_except_alb,
    invariants.dependencies_admit_every_consumer,
    invariants.deployments_roll_back,
    invariants.failure_signatures_are_watched,
}


@pytest.fixture
def records(dev_run) -> list[Record]:
    return records_of(copy.deepcopy(dev_run.resources), copy.deepcopy(dev_run.outputs))


# --------------------------------------------------------------------------- #
# The registry
# --------------------------------------------------------------------------- #


def test_each_invariant_has_a_unique_policy_name_a_description_and_a_reason_for_its_level():
    names = [i.name for i in INVARIANTS]
    assert len(names) == len(set(names))
    for invariant in INVARIANTS:
        assert re.fullmatch(r"[a-z][a-z0-9]*(-[a-z0-9]+)*", invariant.name), invariant.name
        assert invariant.description.strip() and invariant.why.strip(), invariant.name
        assert invariant.enforcement in (Enforcement.MANDATORY, Enforcement.ADVISORY)
    assert len({i.check for i in INVARIANTS}) == len(INVARIANTS), "one check registered twice"


def test_the_incident_invariants_are_mandatory():
    levels = {i.check: i.enforcement for i in INVARIANTS}
    assert set(levels) >= INCIDENT_CHECKS
    assert {levels[c] for c in INCIDENT_CHECKS} == {Enforcement.MANDATORY}


def test_both_levels_are_used():
    """Advisory exists so that tuning never blocks a deploy; mandatory so that incidents do."""
    assert {i.enforcement for i in INVARIANTS} == {Enforcement.MANDATORY, Enforcement.ADVISORY}


@tiers.renders
def test_the_development_graph_and_a_two_service_variant_hold_every_invariant(records, dev_values):
    assert check_records(records) == []
    two = run(with_new_load_balancer(with_mlflow(dev_values)))
    assert check_records(records_of(two.resources, two.outputs)) == []


# --------------------------------------------------------------------------- #
# Unknown values are never findings
# --------------------------------------------------------------------------- #


def paths(value: Any, prefix: tuple = ()) -> Iterator[tuple]:
    """Every path into `value`: each key or index, whether it holds a leaf or an object."""
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return
    for key, item in items:
        yield prefix + (key,)
        yield from paths(item, prefix + (key,))


def with_unknown(value: dict[str, Any], path: tuple) -> dict[str, Any]:
    """A copy of `value` with UNKNOWN at `path` (unchanged when the path is not there)."""
    value = copy.deepcopy(value)
    node: Any = value
    try:
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = UNKNOWN
    except (KeyError, IndexError, TypeError):
        pass
    return value


def false_alarms(records: list[Record], check: Callable[[list[Record]], list[Finding]]) -> list[str]:
    """What `check` reports about the graph with each one value made unknown, in both
    the inputs and the outputs (the engine gives a policy one set of props)."""
    found = []
    for index, record in enumerate(records):
        for path in sorted(set(paths({**record.inputs, **record.outputs})), key=str):
            changed = Record(
                record.type,
                record.name,
                with_unknown(dict(record.inputs), path),
                with_unknown(dict(record.outputs), path),
            )
            for finding in check([*records[:index], changed, *records[index + 1 :]]):
                found.append(f"{record.name}.{'.'.join(map(str, path))} unknown -> {finding}")
    return found


@tiers.exhaustive  # every invariant once per value of the graph
def test_no_single_unknown_value_is_reported(records):
    assert false_alarms(records, check_records) == []


def test_the_harness_notices_a_check_that_judges_an_unknown_value(records):
    def naive(records: list[Record]) -> list[Finding]:
        """Redis's rule on the right port, comparing an unknown port as if it were a number."""
        return [
            Finding("naive", r.name, "not on 6379")
            for r in Graph(records).of_type(INGRESS_RULE)
            if r.name.startswith("redis-") and r.inputs.get("fromPort") != 6379
        ]

    assert naive(records) == []
    found = false_alarms(records, naive)
    assert any("redis-from-api.fromPort unknown" in f for f in found), found


def test_an_unknown_estate_or_stack_output_is_not_a_missing_dependency(records):
    without_stack = [r for r in records if r.type != "pulumi:pulumi:Stack"]
    for stack in (
        [],
        [stack_record("s", {"estate": UNKNOWN})],
        [stack_record("s", {"estate": {"dependencies": UNKNOWN}})],
    ):
        assert invariants.dependencies_admit_every_consumer(Graph([*without_stack, *stack])) == []


def test_a_known_estate_without_a_dependency_a_service_reaches_is_found(records):
    changed = [
        stack_record(
            r.name,
            {
                "estate": {
                    **r.outputs["estate"],
                    "dependencies": [d for d in r.outputs["estate"]["dependencies"] if d["name"] != "redis"],
                }
            },
        )
        if r.type == "pulumi:pulumi:Stack"
        else r
        for r in records
    ]
    (finding,) = invariants.dependencies_admit_every_consumer(Graph(changed))
    assert "reaches redis, which the stack does not describe" in finding.what


# --------------------------------------------------------------------------- #
# Inline ingress, as AWS reports it after a refresh
# --------------------------------------------------------------------------- #


def with_group_ingress(records: list[Record], name: str, entries: list[dict[str, Any]]) -> list[Record]:
    return [
        Record(r.type, r.name, r.inputs, {**r.outputs, "ingress": entries}) if r.name == name else r for r in records
    ]


def entries_for_declared_rules(records: list[Record], group: Record) -> list[dict[str, Any]]:
    """The `ingress` AWS reports for `group` once its separately declared rules exist."""
    return [
        {
            "protocol": rule.inputs["ipProtocol"],
            "fromPort": rule.inputs["fromPort"],
            "toPort": rule.inputs["toPort"],
            "securityGroups": [rule.inputs["referencedSecurityGroupId"]],
            "cidrBlocks": [],
            "ipv6CidrBlocks": [],
            "prefixListIds": [],
            "self": False,
        }
        for rule in Graph(records).of_type(INGRESS_RULE)
        if rule.inputs["securityGroupId"] == group.outputs["id"]
    ]


def test_a_refreshed_group_listing_its_declared_rules_is_not_inline_ingress(records):
    group = Graph(records).of_type(SECURITY_GROUP)[0]
    entries = entries_for_declared_rules(records, group)
    assert entries, "the service group has declared rules"
    assert invariants.no_world_open_ingress_except_alb(Graph(with_group_ingress(records, group.name, entries))) == []


@pytest.mark.parametrize(
    "extra",
    [
        {"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["0.0.0.0/0"]},
        {"protocol": "-1", "fromPort": 0, "toPort": 0, "self": True},
    ],
    ids=["ssh-from-the-world", "self"],
)
def test_an_ingress_entry_no_declared_rule_explains_is_found(records, extra):
    group = Graph(records).of_type(SECURITY_GROUP)[0]
    entries = [*entries_for_declared_rules(records, group), extra]
    found = invariants.no_world_open_ingress_except_alb(Graph(with_group_ingress(records, group.name, entries)))
    assert any("has inline ingress rules" in f.what and f.resource == group.name for f in found), found


def test_a_declared_rule_on_another_port_does_not_explain_an_entry(records):
    group = Graph(records).of_type(SECURITY_GROUP)[0]
    entries = entries_for_declared_rules(records, group)
    entries[0] = {**entries[0], "fromPort": 8080, "toPort": 8080}
    found = invariants.no_world_open_ingress_except_alb(Graph(with_group_ingress(records, group.name, entries)))
    assert any("has inline ingress rules" in f.what for f in found), found


def test_world_open_443_on_a_group_not_created_yet_cannot_be_judged(records):
    """A new load balancer's group has no id in a preview: its 80/443 rule may be the ALB's."""
    rule = Record(
        INGRESS_RULE,
        "lb-alb-https",
        {"securityGroupId": UNKNOWN, "cidrIpv4": "0.0.0.0/0", "fromPort": 443, "toPort": 443, "ipProtocol": "tcp"},
    )
    assert invariants.no_world_open_ingress_except_alb(Graph([*records, rule])) == []
    on_22 = Record(rule.type, "lb-ssh", {**rule.inputs, "fromPort": 22, "toPort": 22})
    (finding,) = invariants.no_world_open_ingress_except_alb(Graph([*records, on_22]))
    assert "is open to the world" in finding.what


def test_every_target_group_deregisters_quickly_even_when_no_service_is_known_to_use_it(records):
    orphan = Record("aws:lb/targetGroup:TargetGroup", "spare-tg", {"deregistrationDelay": "300"}, {"arn": UNKNOWN})
    (finding,) = invariants.target_groups_are_tuned(Graph([*records, orphan]))
    assert finding.resource == "spare-tg" and "deregistration delay 300 s" in finding.what
    default = Record(orphan.type, "default-tg", {}, {"arn": UNKNOWN})
    assert invariants.target_groups_are_tuned(Graph([*records, default])), "the 300 s default is too long"
