"""core/graph_diff.py: two renderings -> what changed, by resource and property.

Small hand-made records for each rule of the comparison; the program's own graph where the
rule is about what the program renders (every resource of every stack compared with itself:
nothing changes).
"""

from __future__ import annotations

import json

import pytest

from core import graph_diff
from core.graph_diff import (
    ABSENT,
    HIDDEN,
    Action,
    GraphDiffError,
    Replacement,
    diff_graphs,
    format_path,
    property_changes,
)
from core.resource_graph import Record
from synth.render import document
from tests.helpers import each_stack, rendered

TASK = "aws:ecs/taskDefinition:TaskDefinition"
POLICY = "aws:iam/rolePolicy:RolePolicy"
RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"


def container(**changes) -> dict:
    base = {
        "name": "api",
        "image": "repo/api:1",
        "environment": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
        "secrets": [{"name": "TOKEN", "valueFrom": "arn:aws:secretsmanager:us-east-1:1:secret:t-AbCdEf"}],
    }
    return base | changes


def task(*containers: dict, **inputs) -> Record:
    return Record(TASK, "api-task", {"containerDefinitions": json.dumps(list(containers)), "cpu": "512", **inputs})


def paths(diff) -> list[tuple[str, object, object]]:
    return [(c.path, c.old, c.new) for r in diff.resources for c in r.changes]


def test_the_same_graph_has_no_changes():
    same = [task(container()), Record(RULE, "r", {"fromPort": 6379})]
    diff = diff_graphs(same, list(same))
    assert diff.empty and diff.unchanged == 2


@each_stack
def test_every_stack_compared_with_itself_has_no_changes(stack):
    records = [Record(r["type"], r["name"], r["inputs"]) for r in document(stack, rendered(stack))["resources"]]
    diff = diff_graphs(records, records)
    assert diff.empty
    assert diff.unchanged == len([r for r in records if not graph_diff.is_component(r.type)])


def test_resources_are_known_by_type_and_name():
    before = [Record(RULE, "redis-from-api", {}), Record(RULE, "old", {})]
    after = [Record(RULE, "redis-from-api", {}), Record(RULE, "new", {}), Record(POLICY, "old", {"policy": "{}"})]
    diff = diff_graphs(before, after)
    assert [(r.action, r.type, r.name) for r in diff.resources] == [
        (Action.ADD, POLICY, "old"),
        (Action.ADD, RULE, "new"),
        (Action.REMOVE, RULE, "old"),
    ]


def test_components_and_engine_inputs_are_left_out():
    before = [Record("hokusai:ecs:Service", "api", {}), Record(RULE, "r", {"__provider": "a", "fromPort": 1})]
    after = [Record(RULE, "r", {"__provider": "b", "fromPort": 1})]
    assert diff_graphs(before, after).empty


def test_two_resources_with_one_type_and_name_cannot_be_told_apart():
    with pytest.raises(GraphDiffError, match="the head has two resources of type .* named 'r'"):
        diff_graphs([], [Record(RULE, "r", {}), Record(RULE, "r", {})])


def test_json_in_strings_is_compared_as_data_and_key_order_is_no_change():
    reordered = json.dumps({k: v for k, v in reversed(list(container().items()))})
    before = [task(container())]
    after = [Record(TASK, "api-task", {"containerDefinitions": f"[{reordered}]", "cpu": "512"})]
    assert diff_graphs(before, after).empty


def test_a_named_list_is_keyed_by_name():
    # GIVEN a variable inserted first and a secret's valueFrom changed
    new_secret = [{"name": "TOKEN", "valueFrom": "arn:aws:secretsmanager:us-east-1:1:secret:t2-GhIjKl"}]
    environment = [{"name": "0_FIRST", "value": "0"}, *container()["environment"]]
    diff = diff_graphs([task(container())], [task(container(environment=environment, secrets=new_secret))])
    # THEN only those show, by name: not every later element of the list
    assert paths(diff) == [
        ("containerDefinitions[api].environment[0_FIRST]", ABSENT, {"name": "0_FIRST", "value": "0"}),
        (
            "containerDefinitions[api].secrets[TOKEN].valueFrom",
            "arn:aws:secretsmanager:us-east-1:1:secret:t-AbCdEf",
            "arn:aws:secretsmanager:us-east-1:1:secret:t2-GhIjKl",
        ),
    ]


def test_only_a_new_order_of_a_named_list_is_one_change():
    environment = list(reversed(container()["environment"]))
    diff = diff_graphs([task(container())], [task(container(environment=environment))])
    assert paths(diff) == [("containerDefinitions[api].environment", ["A", "B"], ["B", "A"])]


def test_a_list_of_values_shows_what_was_added_and_removed():
    def policy(resources):
        return Record(POLICY, "p", {"policy": json.dumps({"Statement": [{"Sid": "Read", "Resource": resources}]})})

    diff = diff_graphs([policy(["a", "b", "c"])], [policy(["a", "c", "d"])])
    assert paths(diff) == [
        ("policy.Statement[Read].Resource", "b", ABSENT),
        ("policy.Statement[Read].Resource", ABSENT, "d"),
    ]
    # ... and the same values in another order are one change
    diff = diff_graphs([policy(["a", "b"])], [policy(["b", "a"])])
    assert paths(diff) == [("policy.Statement[Read].Resource", ["a", "b"], ["b", "a"])]


def test_a_list_without_names_is_compared_by_position():
    before = [Record(RULE, "r", {"conditions": [{"hostHeader": {"values": ["a"]}}]})]
    after = [
        Record(RULE, "r", {"conditions": [{"hostHeader": {"values": ["a"]}}, {"pathPattern": {"values": ["/x"]}}]})
    ]
    assert paths(diff_graphs(before, after)) == [("conditions[1]", ABSENT, {"pathPattern": {"values": ["/x"]}})]


def test_a_change_that_forces_replacement_is_marked_and_replaces_the_resource():
    diff = diff_graphs([task(container())], [task(container(image="repo/api:2"), cpu="1024")])
    (resource,) = diff.resources
    assert resource.action is Action.REPLACE
    assert {c.path: c.replacement for c in resource.changes} == {
        "containerDefinitions[api].image": Replacement.FORCES,
        "cpu": Replacement.FORCES,
    }
    # An in-place change updates.
    diff = diff_graphs([Record(RULE, "r", {"description": "a"})], [Record(RULE, "r", {"description": "b"})])
    assert diff.resources[0].action is Action.UPDATE and diff.resources[0].changes[0].replacement is Replacement.NONE


def test_a_change_that_only_may_replace_is_marked_so():
    changes = list(property_changes(RULE, {"cidrIpv4": "10.0.0.0/8"}, {"cidrIpv4": "10.1.0.0/16"}))
    assert [c.replacement for c in changes] == [Replacement.MAY]


@pytest.mark.parametrize(
    "parts, path",
    [
        (("containerDefinitions", "[api]", "image"), "containerDefinitions[api].image"),
        (("tags", '["a.b"]'), 'tags["a.b"]'),
        (("conditions", "[0]", "hostHeader"), "conditions[0].hostHeader"),
    ],
)
def test_paths_read_as_written(parts, path):
    assert format_path(parts) == path


# --------------------------------------------------------------------------- #
# Credentials never shown
# --------------------------------------------------------------------------- #

SECRET_VALUE = "sk-not-a-real-value-0000"


@pytest.mark.parametrize("name", ["API_TOKEN", "DB_PASSWORD", "api_key", "AWS_SECRET_ACCESS_KEY", "SENTRY_DSN"])
def test_a_plain_variable_named_like_a_credential_never_shows_its_value(name):
    added = container(environment=[*container()["environment"], {"name": name, "value": SECRET_VALUE}])
    changed = container(environment=[*container()["environment"], {"name": name, "value": SECRET_VALUE + "2"}])
    for before, after in ((container(), added), (added, changed), (added, container())):
        diff = diff_graphs([task(before)], [task(after)])
        shown = repr(paths(diff))
        assert SECRET_VALUE not in shown and HIDDEN in shown, shown
        assert all(c.hidden for r in diff.resources for c in r.changes)


def test_a_whole_container_added_hides_its_credential_values_inside():
    second = container(name="worker", environment=[{"name": "WORKER_TOKEN", "value": SECRET_VALUE}])
    diff = diff_graphs([task(container())], [task(container(), second)])
    (change,) = diff.resources[0].changes
    assert change.path == "containerDefinitions[worker]" and change.hidden
    assert change.new["environment"] == [{"name": "WORKER_TOKEN", "value": HIDDEN}]
    assert change.new["image"] == "repo/api:1"  # the rest shows


def test_a_secret_versions_value_never_shows():
    version = "aws:secretsmanager/secretVersion:SecretVersion"
    diff = diff_graphs(
        [Record(version, "v", {"secretString": "old-value"})], [Record(version, "v", {"secretString": "new"})]
    )
    (change,) = diff.resources[0].changes
    assert (change.old, change.new, change.hidden) == (HIDDEN, HIDDEN, True)


def test_without_the_name_check_the_value_would_show(monkeypatch):
    """The hiding rests on core.contract.looks_secret: with it removed, the test above would fail."""
    monkeypatch.setattr(graph_diff, "looks_secret", lambda name: False)
    added = container(environment=[{"name": "API_TOKEN", "value": SECRET_VALUE}])
    assert SECRET_VALUE in repr(paths(diff_graphs([task(container())], [task(added)])))


def test_a_plain_setting_shows_its_value():
    changed = container(environment=[{"name": "A", "value": "10"}, {"name": "B", "value": "2"}])
    assert paths(diff_graphs([task(container())], [task(changed)])) == [
        ("containerDefinitions[api].environment[A].value", "1", "10")
    ]
