"""verify's dependency.access without AWS: each consumer of each dependency with a security group
is admitted on its port by reference, and each service of the stack may leave for it. The rule
removed, or weakened (another port, a CIDR for the reference), fails with the rule's name and the fix."""

from __future__ import annotations

import dataclasses

import pytest

from core.estate import Estate
from ops.collect import Snapshot
from ops.report import Status
from ops.verify_checks import REPAIR, check_dependencies
from tests.helpers import STACKS, rendered

EXTRA = ("data-pipeline-ecs", "sg-0f1e2d3c4b5a69788")


# Reads the stack files or the contract: run in every variant copy (tests/test_variants.py).
pytestmark = pytest.mark.reads_config


@pytest.fixture(params=STACKS)
def estate(request):
    """Every stack file's estate, with an extra consumer on every dependency that has a group."""
    estate = Estate.from_outputs(rendered(request.param).outputs)
    return dataclasses.replace(
        estate,
        dependencies=tuple(
            dataclasses.replace(d, consumer_security_group_ids={**d.consumer_security_group_ids, EXTRA[0]: EXTRA[1]})
            if d.security_group_id
            else d
            for d in estate.dependencies
        ),
    )


def ingress(group, peer, port, **changes):
    rule = {
        "GroupId": group,
        "IsEgress": False,
        "IpProtocol": "tcp",
        "FromPort": port,
        "ToPort": port,
        "ReferencedGroupInfo": {"GroupId": peer},
    }
    return {**rule, **changes}


def egress(group, peer, port, **changes):
    return {**ingress(group, peer, port), "IsEgress": True, **changes}


def healthy_rules(estate) -> dict[str, list[dict]]:
    """What the program declares: each consumer's ingress, each service's egress."""
    rules: dict[str, list[dict]] = {}
    services = {s.key: s for s in estate.services}
    for d in estate.dependencies:
        if d.security_group_id is None:
            continue
        for label, group in d.consumer_security_group_ids.items():
            rules.setdefault(d.security_group_id, []).append(ingress(d.security_group_id, group, d.port))
            if label in services:
                rules.setdefault(group, []).append(egress(group, d.security_group_id, d.port))
    return rules


def results(estate, rules):
    world = Snapshot(services={}, secrets={}, alarms={}, security_group_rules=rules)
    return list(check_dependencies(estate, world))


def pairs(estate):
    """(dependency, label, group) for every consumer of every dependency with a group."""
    return [
        (d, label, group)
        for d in estate.dependencies
        if d.security_group_id
        for label, group in sorted(d.consumer_security_group_ids.items())
    ]


def test_every_consumer_of_every_dependency_is_checked_and_passes(estate):
    found = results(estate, healthy_rules(estate))
    assert len(found) == len(pairs(estate)) and {r.status for r in found} == {Status.OK}
    assert {r.subject for r in found} == {f"{d.name} <- {label}" for d, label, _ in pairs(estate)}


def test_a_dependency_reached_over_https_has_no_rule_to_check(estate):
    subjects = {r.subject for r in results(estate, healthy_rules(estate))}
    for d in estate.dependencies:
        if d.security_group_id is None:
            assert not [s for s in subjects if s.startswith(f"{d.name} <-")]


@pytest.mark.parametrize(
    "weaken",
    [
        pytest.param(None, id="removed"),
        pytest.param(lambda r: {**r, "FromPort": r["FromPort"] + 1, "ToPort": r["ToPort"] + 1}, id="another port"),
        pytest.param(
            lambda r: {k: v for k, v in r.items() if k != "ReferencedGroupInfo"} | {"CidrIpv4": "10.0.0.0/16"},
            id="a CIDR for the reference",
        ),
        pytest.param(lambda r: {**r, "IpProtocol": "udp"}, id="udp"),
    ],
)
def test_each_consumers_ingress_removed_or_weakened_fails_with_the_rule_and_the_fix(estate, weaken):
    for dependency, label, group in pairs(estate):
        rules = healthy_rules(estate)
        mine = [r for r in rules[dependency.security_group_id] if r["ReferencedGroupInfo"]["GroupId"] == group]
        others = [r for r in rules[dependency.security_group_id] if r not in mine]
        rules[dependency.security_group_id] = others + ([weaken(r) for r in mine] if weaken else [])
        failed = [r for r in results(estate, rules) if r.status is Status.FAIL]
        assert [r.subject for r in failed] == [f"{dependency.name} <- {label}"]
        assert f"{dependency.name}_from_{label.replace('-', '_')}" in failed[0].finding
        assert "redis_from_data_pipeline_ecs" in failed[0].finding and REPAIR in failed[0].fix


@pytest.mark.parametrize("weaken", [None, lambda r: {**r, "FromPort": 1, "ToPort": 2}], ids=["removed", "another port"])
def test_a_services_egress_to_its_dependency_removed_or_weakened_fails(estate, weaken):
    services = {s.key: s for s in estate.services}
    for dependency, label, group in pairs(estate):
        if label not in services:
            continue
        rules = healthy_rules(estate)
        rules[group] = [
            (weaken(r) if weaken else None)
            if r["ReferencedGroupInfo"]["GroupId"] == dependency.security_group_id
            else r
            for r in rules[group]
        ]
        rules[group] = [r for r in rules[group] if r]
        failed = [r for r in results(estate, rules) if r.status is Status.FAIL]
        assert [r.subject for r in failed] == [f"{dependency.name} <- {label}"]
        assert "lets nothing out" in failed[0].finding and REPAIR in failed[0].fix


def test_an_open_egress_still_lets_the_service_out(estate):
    """A group's allow-all egress (what AWS gives a new group) reaches every dependency."""
    rules = healthy_rules(estate)
    for service in estate.services:
        # its egress only: a service that is another's dependency keeps the ingress on its group
        group = service.security_group_id
        rules[group] = [r for r in rules.get(group, []) if not r["IsEgress"]] + [
            {"GroupId": group, "IsEgress": True, "IpProtocol": "-1", "CidrIpv4": "0.0.0.0/0"}
        ]
    assert {r.status for r in results(estate, rules)} == {Status.OK}
