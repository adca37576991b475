"""The PR's picture (core/architecture_diff.py): the change between two pictures, marked."""

from __future__ import annotations

import dataclasses

import pytest

from core.architecture import Architecture, Edge, EdgeKind, Node, NodeKind
from core.architecture_diff import compare, marked_markdown, marked_mermaid
from core.architecture_mermaid import MARK_STYLES, Mark
from synth.pictures import picture_of_run
from tests.five_services import extra_contracts, five_services_run
from tests.helpers import each_stack, rendered
from tests.test_architecture import mermaid_problems

API = Node("service:api", NodeKind.SERVICE, "api", "0.5 vCPU · 1 GiB · 2 tasks")
REDIS = Node("dependency:redis", NodeKind.DEPENDENCY, "redis", ":6379")
TOKEN = Node("secret:api:TOKEN", NodeKind.SECRET, "TOKEN", "hokusai/dev/token", "service:api")
HOST = Node("host:lb:api.hokus.ai", NodeKind.HOST, "api.hokus.ai", "", "lb")
RULE = Node("rule:api-route-100", NodeKind.RULE, "rule 100", "any path", "lb")
BASE = Architecture(
    "development",
    (HOST, RULE, API, REDIS, TOKEN),
    (
        Edge(HOST.id, RULE.id, EdgeKind.ROUTES),
        Edge(API.id, REDIS.id, EdgeKind.REACHES, ":6379 redis_from_api"),
        Edge(API.id, TOKEN.id, EdgeKind.READS),
    ),
)


def with_(picture: Architecture, *, nodes=(), edges=(), without=()) -> Architecture:
    kept_nodes = [n for n in picture.nodes if n.id not in without]
    kept_edges = [e for e in picture.edges if e.source not in without and e.target not in without]
    return Architecture(picture.stack, (*kept_nodes, *nodes), (*kept_edges, *edges))


def test_the_same_picture_is_no_change_and_no_comment():
    change = compare(BASE, BASE)
    assert not change.changed and change.changes() == []
    assert marked_mermaid(BASE, BASE).changed is False
    assert marked_markdown(BASE, BASE) == ""


def test_a_new_secret_is_added_a_resized_service_changed_a_dropped_route_removed():
    new_secret = Node("secret:api:NEW_KEY", NodeKind.SECRET, "NEW_KEY", "hokusai/dev/new-key", "service:api")
    resized = dataclasses.replace(API, detail="1 vCPU · 2 GiB · 2 tasks")
    head = with_(
        BASE,
        nodes=(new_secret,),
        edges=(Edge(API.id, new_secret.id, EdgeKind.READS),),
        without=(RULE.id,),
    )
    head = Architecture(head.stack, tuple(resized if n.id == API.id else n for n in head.nodes), head.edges)
    change = compare(BASE, head)
    assert change.node_marks == {new_secret.id: Mark.ADDED, API.id: Mark.CHANGED, RULE.id: Mark.REMOVED}
    assert change.edge_marks == {
        (API.id, new_secret.id, "reads"): Mark.ADDED,
        (HOST.id, RULE.id, "routes"): Mark.REMOVED,
    }
    # The removed route is still drawn (where it was), marked.
    assert RULE.id in {n.id for n in change.picture.nodes}
    # Left to right, as the picture reads.
    assert change.changes() == ["removed rule 100 (any path)", "changed service api", "added secret NEW_KEY of api"]


def test_a_dependency_edge_whose_port_or_rule_changes_is_changed():
    head = Architecture(
        BASE.stack,
        BASE.nodes,
        tuple(
            dataclasses.replace(e, label=":6380 redis_from_api") if e.kind is EdgeKind.REACHES else e
            for e in BASE.edges
        ),
    )
    change = compare(BASE, head)
    assert change.node_marks == {} and change.edge_marks == {(API.id, REDIS.id, "reaches"): Mark.CHANGED}
    assert change.changes() == ["changed api reaches redis (:6380 redis_from_api)"]


def test_the_marked_mermaid_colours_each_mark_and_has_a_legend():
    head = with_(BASE, without=(REDIS.id,))
    marked = marked_mermaid(BASE, head)
    assert marked.changed
    text = marked.mermaid
    for mark, style in MARK_STYLES.items():
        assert f"classDef {mark.value} {style}" in text
        assert f'legend_{mark.value}["{mark.value}"]' in text
    assert "class dependency_redis,legend_removed removed" in text
    # The removed edge is drawn, and its link styled red and dashed.
    edges = [line for line in text.splitlines() if "==>" in line or "-->" in line or "-.->" in line]
    index = next(i for i, line in enumerate(edges) if "dependency_redis" in line)
    assert f"linkStyle {index} stroke:#cf222e" in text
    assert mermaid_problems(text) == []


def test_the_markdown_is_a_fenced_picture_and_a_list_of_the_changes():
    head = with_(BASE, without=(TOKEN.id,))
    text = marked_markdown(BASE, head, base_name="`origin/main`")
    assert text.startswith("### The estate's shape changes: development\n")
    assert "Against `origin/main`" in text
    assert "```mermaid\nflowchart LR\n" in text and text.count("```") == 2
    assert "- removed secret TOKEN of api\n" in text


@pytest.fixture(scope="module")
def five():
    run_ = five_services_run()
    with extra_contracts():
        return picture_of_run("development", run_)


@each_stack
def test_growing_a_stack_to_five_services_marks_the_new_ones_added_and_nothing_else_removed(stack, five):
    if stack != "development":
        pytest.skip("the five-service variant is built on the development stack")
    base = picture_of_run(stack, rendered(stack))
    change = compare(base, five)
    assert change.changed
    # Only a dependency that is now a service of the stack (mlflow) is gone: it is drawn as that service.
    removed = {n for n, mark in change.node_marks.items() if mark is Mark.REMOVED}
    assert {n.removeprefix("dependency:") for n in removed} <= {n.label for n in five.of_kind(NodeKind.SERVICE)}
    assert all(n.startswith("dependency:") for n in removed)
    added_services = {n for n, mark in change.node_marks.items() if mark is Mark.ADDED and n.startswith("service:")}
    assert added_services == {n.id for n in five.of_kind(NodeKind.SERVICE)} - {
        n.id for n in base.of_kind(NodeKind.SERVICE)
    }
    # Their routes, target groups, secrets and alarms are new too.
    for kind in (NodeKind.RULE, NodeKind.TARGET_GROUP, NodeKind.SECRET, NodeKind.ALARM):
        new = {n.id for n in five.of_kind(kind)} - {n.id for n in base.of_kind(kind)}
        assert new and all(change.node_marks[i] is Mark.ADDED for i in new), kind
    # And the other way round, everything they bring is marked removed.
    back = compare(five, base)
    assert {n for n, mark in back.node_marks.items() if mark is Mark.ADDED} == removed
    assert {n for n, mark in back.node_marks.items() if mark is Mark.REMOVED} == {
        n for n, mark in change.node_marks.items() if mark is Mark.ADDED
    }
    assert mermaid_problems(marked_mermaid(five, base).mermaid) == []
