"""The import plan (core/importable.py, core/import_plan.py, synth/import_plan.py): every live
resource the stack takes over, under the program's own name and parents, with the id its type expects.

GIVEN each stack file rendered under the mocks and the record of the live estate
WHEN the plan is built
THEN every rendered resource that has a live counterpart is in it (checked from the
record's side, not with the finders the plan uses), `pulumi import` would give each
the URN the program gives it, each id has its type's form, and what the record does
not know stays a visible `<FILL IN ...>` that the tool lists.
"""

from __future__ import annotations

import functools
import json
import re

import pytest

from core import importable
from core.import_plan import ImportFileError, build_plan, resolve_urns, urn
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
    Counterpart,
    ImportId,
    Node,
    listener_load_balancer,
    live_estate_context,
)
from core.live_estate import LIVE, LiveEstate, Placeholder, lookup
from core.naming import PROJECT
from synth import import_plan as tool
from tests import tiers
from tests.estate_edits import filled
from tests.helpers import STACKS, each_stack, rendered, stack_settings

pytestmark = pytest.mark.reads_config


@functools.cache
def nodes(stack: str) -> tuple[Node, ...]:
    return tuple(tool.nodes_of(rendered(stack)))


def plan_of(stack: str, estate: LiveEstate = LIVE):
    return build_plan(
        list(nodes(stack)), stack=stack, project=PROJECT, estate=estate, provider_version=tool.provider_version()
    )


# The stacks whose ECS cluster is the record's: the estate they would take over exists.
LIVE_STACKS = tuple(s for s in STACKS if live_estate_context(list(nodes(s))).is_live_estate)


# --------------------------------------------------------------------------- #
# What should be imported, said from the record's side
# --------------------------------------------------------------------------- #


def expected_takeovers(resources: tuple[Node, ...] | list[Node], estate: LiveEstate) -> dict[int, str]:
    """id(rendered resource) -> the record path of the live resource it must take over.

    Read off the record: its cluster, its namespace, and per service of the record that
    the stack runs, the ECS service, log group, target group and Cloud Map service of that
    service; and each of the record's listener rules with the priority of a rule the stack
    puts on that load balancer.
    """
    if estate.cluster.name.value not in {n.inputs.get("name") for n in resources if n.type == CLUSTER}:
        return {}
    expected: dict[int, str] = {}
    for node in resources:
        if not node.custom:
            continue
        if node.type == CLUSTER and node.inputs.get("name") == estate.cluster.name.value:
            expected[id(node)] = "cluster"
        if node.type == NAMESPACE:
            expected[id(node)] = "cloud_map"
        key = node.service_key
        if key is not None and key in estate.services:
            live = estate.services[key]
            role = {
                ECS_SERVICE: f"services.{key}",
                LOG_GROUP: f"services.{key}.log_group",
                TARGET_GROUP: f"target_groups.{live.target_group}",
                DISCOVERY_SERVICE: f"cloud_map.services.{live.cloud_map_service.value}",
            }.get(node.type)
            if role:
                expected[id(node)] = role
        if node.type == LISTENER_RULE:
            for name, balancer in estate.load_balancers.items():
                if f"/{balancer.name.value}/" in str(node.inputs.get("listenerArn")):
                    for index, rule in enumerate(balancer.https_rules):
                        if rule.priority.value == node.inputs.get("priority"):
                            expected[id(node)] = f"load_balancers.{name}.https_rules[{index}]"
    return expected


def plan_problems(plan, resources, estate: LiveEstate) -> list[str]:
    """What the plan lacks, or takes over wrongly, against `expected_takeovers`."""
    expected = expected_takeovers(resources, estate)
    got = {id(e.node): e.counterpart.record_path for e in plan.imported}
    problems = []
    for node in resources:
        want, have = expected.get(id(node)), got.get(id(node))
        if want != have:
            problems.append(f"{node.type} {node.name}: should take over {want}, the plan has {have}")
    return problems


@each_stack
def test_every_resource_with_a_live_counterpart_is_in_the_plan(stack):
    assert plan_problems(plan_of(stack), nodes(stack), LIVE) == []


def test_the_record_is_the_estate_of_a_stack_file():
    """The record describes the development estate; its stack file must be one the tests render."""
    assert LIVE_STACKS


@pytest.mark.parametrize("stack", LIVE_STACKS)
def test_a_live_stack_takes_over_the_cluster_its_services_and_the_namespace(stack):
    taken = {e.counterpart.record_path for e in plan_of(stack).imported}
    assert {"cluster", "cloud_map"} <= taken
    for service in stack_settings(stack).services:
        if service.key in LIVE.services:
            assert {f"services.{service.key}", f"services.{service.key}.log_group"} <= taken


@pytest.mark.parametrize("stack", LIVE_STACKS)
def test_the_coverage_check_finds_a_type_left_out_of_the_table(stack, monkeypatch):
    """Removing a type from IMPORTABLE drops its resources from the plan, and the check says so."""
    monkeypatch.setattr(importable, "IMPORTABLE", {k: v for k, v in IMPORTABLE.items() if k != TARGET_GROUP})
    problems = plan_problems(plan_of(stack), nodes(stack), LIVE)
    assert problems and all(p.startswith(TARGET_GROUP) and p.endswith("the plan has None") for p in problems)


@pytest.mark.parametrize("stack", LIVE_STACKS)
def test_the_coverage_check_finds_a_resource_taking_over_the_wrong_live_one(stack, monkeypatch):
    """A finder that matches loosely (every target group takes over the same live one) is caught."""
    first = next(iter(LIVE.target_groups))
    loose = importable.Importable(
        "target group", "the ARN", lambda node, context: Counterpart(f"target_groups.{first}", "x", ImportId(("x",)))
    )
    monkeypatch.setattr(importable, "IMPORTABLE", {**IMPORTABLE, TARGET_GROUP: loose})
    wrong = [
        e
        for e in plan_of(stack).imported
        if e.node.type == TARGET_GROUP
        and expected_takeovers(nodes(stack), LIVE).get(id(e.node)) != f"target_groups.{first}"
    ]
    problems = plan_problems(plan_of(stack), nodes(stack), LIVE)
    assert len(problems) == len(wrong) + sum(
        1 for n in nodes(stack) if n.type == TARGET_GROUP and id(n) not in expected_takeovers(nodes(stack), LIVE)
    )
    assert all(p.startswith(TARGET_GROUP) for p in problems)


def test_the_coverage_check_finds_a_live_rule_left_out():
    """A rule the stack puts on a live listener with a live rule's priority must be imported."""
    balancer_key, balancer = next(iter(LIVE.load_balancers.items()))
    rule = balancer.https_rules[0]
    listener = f"arn:aws:elasticloadbalancing:us-east-1:1:listener/app/{balancer.name.value}/1/2"
    cluster = Node(CLUSTER, "cluster-cluster", {"name": LIVE.cluster.name.value})
    service = Node(SERVICE_COMPONENT, "x", {}, custom=False)
    route = Node(LISTENER_RULE, "x-route", {"listenerArn": listener, "priority": rule.priority.value}, parent=service)
    resources = [cluster, service, route]
    plan = build_plan(resources, stack="s", project=PROJECT)
    assert plan_problems(plan, resources, LIVE) == []
    assert [e.counterpart.record_path for e in plan.imported if e.node is route] == [
        f"load_balancers.{balancer_key}.https_rules[0]"
    ]
    # Another priority, or another load balancer: nothing of the record is there.
    for changed in ({"priority": -1}, {"listenerArn": listener.replace(balancer.name.value, "elsewhere")}):
        other = Node(LISTENER_RULE, "x-route", {**route.inputs, **changed}, parent=service)
        assert not [
            e for e in build_plan([cluster, service, other], stack="s", project=PROJECT).imported if e.node is other
        ]


def test_a_stack_whose_cluster_is_not_the_records_takes_nothing_over():
    cluster = Node(CLUSTER, "cluster-cluster", {"name": "hokusai-elsewhere"})
    service = Node(SERVICE_COMPONENT, next(iter(LIVE.services)), {}, custom=False)
    resources = [cluster, service, Node(ECS_SERVICE, "s", {}, parent=service), Node(NAMESPACE, "ns", {})]
    plan = build_plan(resources, stack="s", project=PROJECT)
    assert not plan.is_live_estate and plan.entries == () and plan_problems(plan, resources, LIVE) == []


# --------------------------------------------------------------------------- #
# Names, parents and URNs
# --------------------------------------------------------------------------- #


@each_stack
def test_pulumi_import_gives_each_entry_the_urn_the_program_gives_it(stack):
    plan = plan_of(stack)
    assert resolve_urns(plan.document(), stack=stack, project=PROJECT) == [
        urn(e.node, stack=stack, project=PROJECT) for e in plan.entries
    ]


@each_stack
def test_each_entry_is_named_as_the_program_names_it_with_its_parents_in_the_file(stack):
    plan = plan_of(stack)
    document = plan.document()
    names = [item["name"] for item in document["resources"]]
    assert len(names) == len(set(names)) and "nameTable" not in document
    by_node = {id(e.node): e for e in plan.entries}
    for entry, item in zip(plan.entries, document["resources"], strict=True):
        assert item.get("logicalName", item["name"]) == entry.node.name and item["type"] == entry.node.type
        if entry.node.parent is None:
            assert "parent" not in item
        else:
            # The parent is in the file, as a component, under its own name.
            parent = by_node[id(entry.node.parent)]
            assert item["parent"] == parent.name and parent.component
        assert ("id" in item) != bool(item.get("component"))


@each_stack
def test_every_component_entry_is_an_ancestor_of_an_imported_resource(stack):
    plan = plan_of(stack)
    ancestors = {id(a) for e in plan.imported for a in e.node.ancestors()}
    assert {id(e.node) for e in plan.entries if e.component} == ancestors


def test_the_urn_leaves_the_stack_out_and_chains_the_parents():
    outer = Node("a:b:Outer", "o", {}, custom=False)
    inner = Node("a:b:Inner", "i", {}, parent=outer, custom=False)
    leaf = Node("aws:x/y:Z", "z", {}, parent=inner)
    assert urn(outer, stack="s", project="p") == "urn:pulumi:s::p::a:b:Outer::o"
    assert urn(leaf, stack="s", project="p") == "urn:pulumi:s::p::a:b:Outer$a:b:Inner$aws:x/y:Z::z"


def test_two_entries_with_one_logical_name_get_unique_names_and_keep_their_logical_names(monkeypatch):
    """The `api` service and the `api` security group: a parent named `api` would be ambiguous."""
    found = importable.Importable("x", "x", lambda node, context: Counterpart("cluster", "x", ImportId(("id",))))
    monkeypatch.setattr(importable, "IMPORTABLE", {"aws:x/y:Z": found, "aws:x/y:W": found})
    service = Node(SERVICE_COMPONENT, "api", {}, custom=False)
    group = Node("hokusai:network:ServiceSecurityGroup", "api", {}, custom=False)
    cluster = Node(CLUSTER, "c", {"name": LIVE.cluster.name.value})
    leaves = [Node("aws:x/y:Z", "api-z", {}, parent=service), Node("aws:x/y:W", "api-w", {}, parent=group)]
    plan = build_plan([cluster, service, group, *leaves], stack="s", project="p")
    document = plan.document()
    assert len({item["name"] for item in document["resources"]}) == len(document["resources"]) == 4
    assert sorted(item.get("logicalName", item["name"]) for item in document["resources"]) == [
        "api",
        "api",
        "api-w",
        "api-z",
    ]
    assert resolve_urns(document, stack="s", project="p") == [urn(e.node, stack="s", project="p") for e in plan.entries]
    # Named by their logical names alone, `pulumi import` would refuse the file.
    plain = {"resources": [{k: v for k, v in item.items() if k != "logicalName"} for item in document["resources"]]}
    for item, entry in zip(plain["resources"], plan.entries, strict=True):
        item["name"] = entry.node.name
        if entry.parent:
            item["parent"] = entry.node.parent.name
    with pytest.raises(ImportFileError, match="ambiguous parent"):
        resolve_urns(plain, stack="s", project="p")


@pytest.mark.parametrize(
    ("resources", "refused"),
    [
        (
            [
                {"type": "t:a:A", "name": "a", "component": True},
                {"type": "t:b:B", "name": "a", "component": True},
                {"type": "aws:x:Y", "name": "y", "id": "1", "parent": "a"},
            ],
            "ambiguous parent",
        ),
        ([{"type": "aws:x:Y", "name": "y", "id": "1", "parent": "nowhere"}], "no entry in 'nameTable'"),
        (
            [
                {"type": "aws:x:Y", "name": "y", "id": "1"},
                {"type": "aws:x:Y", "name": "y2", "logicalName": "y", "id": "2"},
            ],
            "ambiguous URN",
        ),
        ([{"type": "t:a:A", "name": "a", "component": True, "id": "1"}], "needs an id, or component"),
        ([{"type": "aws:x:Y", "name": "y"}], "needs an id, or component"),
    ],
)
def test_the_resolver_refuses_what_pulumi_import_refuses(resources, refused):
    with pytest.raises(ImportFileError, match=refused):
        resolve_urns({"resources": resources}, stack="s", project="p")


# --------------------------------------------------------------------------- #
# Import ids
# --------------------------------------------------------------------------- #

_UNFILLED = r"<FILL IN [^>]+>"
# The form of each type's id (pulumi-aws 7.51.1, `## Import` of each resource), a part the record lacks allowed.
ID_FORMS = {
    CLUSTER: r"[A-Za-z0-9_-]{1,255}",
    ECS_SERVICE: r"[A-Za-z0-9_-]+/[A-Za-z0-9_-]+",
    LOG_GROUP: r"[\w/.#-]+",
    NAMESPACE: rf"(ns-[a-z0-9]+|{_UNFILLED}):(vpc-[0-9a-f]+|{_UNFILLED})",
    DISCOVERY_SERVICE: rf"srv-[a-z0-9]+|{_UNFILLED}",
    TARGET_GROUP: rf"arn:aws:elasticloadbalancing:[a-z0-9-]+:\d{{12}}:targetgroup/[\w-]+/[0-9a-f]+|{_UNFILLED}",
    LISTENER_RULE: rf"arn:aws:elasticloadbalancing:[a-z0-9-]+:\d{{12}}:listener-rule/app/[\w-]+(/[0-9a-f]+){{3}}|{_UNFILLED}",
}


def test_every_importable_type_has_an_id_form():
    assert set(ID_FORMS) == set(IMPORTABLE)


@each_stack
def test_every_id_has_the_form_its_type_expects(stack):
    for entry in plan_of(stack).imported:
        assert re.fullmatch(ID_FORMS[entry.node.type], entry.counterpart.import_id.text), entry.name


@each_stack
def test_ids_come_from_the_record(stack):
    estate = LIVE
    for entry in plan_of(stack).imported:
        text, path = entry.counterpart.import_id.text, entry.counterpart.record_path
        if entry.node.type == CLUSTER:
            assert text == estate.cluster.name.value
        elif entry.node.type == ECS_SERVICE:
            assert text == f"{estate.cluster.name.value}/{lookup(path + '.service_name').value}"
        elif entry.node.type == LOG_GROUP:
            assert text == lookup(path).value
        elif entry.node.type == NAMESPACE:
            assert text.endswith(f":{estate.network.vpc_id.value}")


@each_stack
def test_what_the_record_lacks_stays_visible_and_is_listed(stack):
    plan = plan_of(stack)
    for entry in plan.imported:
        unfilled = entry.counterpart.import_id.unfilled
        assert ("<FILL IN" in entry.counterpart.import_id.text) == bool(unfilled)
        for part in unfilled:
            assert str(part) in entry.counterpart.import_id.text
            assert isinstance(lookup(part.record_path), Placeholder) and part.how_to_find.startswith("aws ")
    assert [p for _, p in plan.unfilled] == [p for e in plan.imported for p in e.counterpart.import_id.unfilled]


def fill_everything(plan, estate: LiveEstate = LIVE) -> LiveEstate:
    """The record with every placeholder the plan's ids need filled in, as an operator would."""
    by_path: dict[str, object] = {}
    picked: dict[str, dict[str, str]] = {}
    for _, part in plan.unfilled:
        if part.detail:
            picked.setdefault(part.record_path, {})[part.detail] = "srv-0123456789abcdef"
        elif part.record_path.endswith("namespace_id"):
            by_path[part.record_path] = "ns-0123456789abcdef"
        else:
            by_path[part.record_path] = (
                "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/x/0123456789abcdef/"
                "0123456789abcdef/0123456789abcdef"
                if ".https_rules[" in part.record_path
                else "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/x/0123456789abcdef"
            )
    by_path.update(picked)
    for path, value in by_path.items():
        estate = filled(estate, path, value)
    return estate


@pytest.mark.parametrize("stack", LIVE_STACKS)
def test_a_filled_record_gives_a_plan_with_nothing_left_to_fill(stack):
    estate = fill_everything(plan_of(stack))
    plan = plan_of(stack, estate)
    assert plan.unfilled == () and plan.imported
    for entry in plan.imported:
        assert re.fullmatch(ID_FORMS[entry.node.type], entry.counterpart.import_id.text)
        assert "<FILL IN" not in entry.counterpart.import_id.text


def test_the_load_balancer_is_read_from_the_listener_arn():
    assert listener_load_balancer("arn:aws:elasticloadbalancing:r:1:listener/app/my-alb/1/2") == "my-alb"
    assert listener_load_balancer("not an arn") is None and listener_load_balancer(None) is None


# --------------------------------------------------------------------------- #
# The tool
# --------------------------------------------------------------------------- #


def _bound(stack: str) -> LiveEstate:
    """The record filled in, and its account and region the stack's: the estate once it is bound."""
    estate = fill_everything(plan_of(stack))
    outputs = rendered(stack).outputs
    estate = filled(estate, "network.account_id", outputs["account_id"])
    return filled(estate, "network.region", outputs["region"])


@each_stack
def test_the_tool_writes_the_file_and_lists_what_to_fill_in(stack, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(tool, "run_stack", lambda name: rendered(name))
    out = tmp_path / "import.json"
    code = tool.main(["--stack", stack, "--out", str(out)])
    plan = plan_of(stack)
    assert json.loads(out.read_text()) == plan.document()
    printed = capsys.readouterr().out
    for entry, part in plan.unfilled:
        assert f"{entry.name} ({entry.node.type}): {part}" in printed and part.how_to_find in printed
    mismatched = plan.is_live_estate and rendered(stack).outputs["account_id"] != LIVE.network.account_id.value
    assert ("NOT USABLE" in printed) == mismatched
    assert code == (1 if plan.unfilled or mismatched else 0)


@pytest.mark.parametrize("stack", LIVE_STACKS)
def test_the_tool_says_ready_when_the_record_is_filled_and_the_stack_bound(stack, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(tool, "run_stack", lambda name: rendered(name))
    monkeypatch.setattr(tool, "ESTATE", _bound(stack))
    assert tool.main(["--stack", stack, "--out", str(tmp_path / "import.json")]) == 0
    printed = capsys.readouterr().out
    assert "ready:" in printed and "<FILL IN" not in printed and "NOT USABLE" not in printed


@pytest.mark.parametrize("stack", LIVE_STACKS)
def test_the_tool_refuses_a_stack_pointed_at_another_account(stack, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(tool, "run_stack", lambda name: rendered(name))
    monkeypatch.setattr(tool, "ESTATE", filled(_bound(stack), "network.account_id", "000000000000"))
    assert tool.main(["--stack", stack, "--out", str(tmp_path / "import.json")]) == 1
    assert "NOT USABLE: the stack deploys to account" in capsys.readouterr().out


@each_stack
def test_json_prints_the_file_alone_on_stdout(stack, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(tool, "run_stack", lambda name: rendered(name))
    out = tmp_path / "import.json"
    tool.main(["--stack", stack, "--out", str(out), "--json"])
    printed = capsys.readouterr()
    assert json.loads(printed.out) == json.loads(out.read_text())
    assert "pulumi import --file" in printed.err


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--stack", "../development"], "is not a stack name"),
        (["--stack", "no-such-stack"], "cannot plan the import of stack 'no-such-stack'"),
        (["--out", "DIRECTORY"], "is a directory"),
    ],
)
@tiers.renders
def test_what_cannot_be_planned_exits_2_with_the_reason(argv, said, tmp_path, capsys):
    argv = [str(tmp_path) if a == "DIRECTORY" else a for a in argv]
    assert tool.main(argv) == 2
    assert said in capsys.readouterr().err
