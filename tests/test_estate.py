"""The `estate` stack output: written by the program, read back by the live tools."""

from __future__ import annotations

import copy

import pytest

from core import dataclass_reader, naming
from core.estate import DependencyEstate, Estate, EstateError, MetricFilterEstate, output_of
from tests.helpers import each_stack, rendered, stack_settings


@each_stack
def test_the_rendered_outputs_read_back_as_an_estate(stack):
    outputs = rendered(stack).outputs
    estate = Estate.from_outputs({"estate": outputs})  # `pulumi stack output --json` shape
    assert (estate.stack, estate.cluster_name) == (stack, naming.cluster_name(stack))
    settings = stack_settings(stack)
    for spec in settings.services:
        service = estate.service(spec.key)
        written = outputs["services"][[s.key for s in estate.services].index(spec.key)]
        assert (service.service_name, service.container_port) == (spec.name, spec.contract.container_port)
        assert [f.metric_name for f in service.metric_filters] == [
            s.metric_name for s in spec.contract.error_signatures
        ]
        assert dict(service.secret_arns) == written["secret_arns"]
        assert dict(service.secret_value_froms) == written["secret_value_froms"]
        assert service.dependencies == spec.contract.dependency_names
    for dependency in estate.dependencies:
        consumers = dependency.consumer_security_group_ids
        # Each service reaching a dependency with a group is among its consumers, by its own group.
        assert all(
            consumers.get(s.key) == s.security_group_id
            for s in estate.services
            if dependency.name in s.dependencies and dependency.security_group_id
        )
    assert {d.name for d in estate.dependencies} == {d.name for d in settings.dependencies}
    assert all({d.name for d in estate.dependencies} >= set(s.dependencies) for s in estate.services)
    assert Estate.from_outputs(outputs) == estate  # the bare `estate` value too


def test_outputs_of_another_program_are_refused_with_the_fix():
    with pytest.raises(EstateError, match="pulumi up"):
        Estate.from_outputs({"something": 1})


def test_a_missing_field_is_named(dev_run):
    outputs = copy.deepcopy(dev_run.outputs)
    del outputs["services"][0]["task_definition_arn"]
    with pytest.raises(EstateError, match=r"estate.services\[0\] lacks task_definition_arn"):
        Estate.from_outputs(outputs)


def test_a_malformed_service_list_is_refused(dev_run):
    outputs = copy.deepcopy(dev_run.outputs)
    outputs["services"] = [service["key"] for service in outputs["services"]]
    with pytest.raises(EstateError, match=r"estate.services\[0\]: expected an object, got the text"):
        Estate.from_outputs(outputs)


def test_the_program_writes_each_level_in_the_dataclass_order_with_json_containers():
    # GIVEN values in another order, with a tuple and a read-only mapping among them
    class Opaque:  # stands in for a Pulumi Output: passed on, never looked into
        pass

    group = Opaque()
    written = output_of(
        DependencyEstate, port=6379, consumer_security_group_ids={"api": group}, security_group_id="sg-1", name="redis"
    )
    assert list(written) == ["name", "security_group_id", "port", "consumer_security_group_ids"]
    assert written["consumer_security_group_ids"] == {"api": group}
    filters = output_of(MetricFilterEstate, name="n", pattern="p", metric_name=("m",), metric_namespace="ns")
    assert filters["metric_name"] == ["m"]


@pytest.mark.parametrize(
    ("values", "said"),
    [
        ({"name": "n", "pattern": "p", "metric_name": "m"}, "the MetricFilterEstate output lacks metric_namespace"),
        (
            {"name": "n", "pattern": "p", "metric_name": "m", "metric_namespace": "ns", "metric_nmae": "m"},
            "the MetricFilterEstate output has metric_nmae, which it does not declare",
        ),
    ],
    ids=["a field left out", "a misspelt field"],
)
def test_the_program_cannot_write_an_output_the_live_tools_would_not_read(values, said):
    with pytest.raises(TypeError) as raised:
        output_of(MetricFilterEstate, **values)
    assert str(raised.value) == said


def leaf_paths(node, prefix=()):
    """Every path into the outputs, to a value of any kind (lists and objects included)."""
    if isinstance(node, dict):
        for key, child in node.items():
            yield prefix + (key,)
            yield from leaf_paths(child, prefix + (key,))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield prefix + (index,)
            yield from leaf_paths(child, prefix + (index,))


def written(path) -> str:
    return "estate" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


def replaced(outputs, path, value):
    changed = copy.deepcopy(outputs)
    node = changed
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return changed


def test_every_field_of_every_service_is_type_checked_at_the_boundary(dev_run):
    """Each value of the rendered outputs, replaced by a value of another JSON type, is
    refused naming its path: derived from the dataclasses, so a new field is covered too."""
    outputs = dev_run.outputs
    paths = list(leaf_paths(outputs))
    assert paths
    for path in paths:
        current = copy.deepcopy(outputs)
        for step in path:
            current = current[step]
        for wrong in (None, True, 7, "text", [], {}):
            if type(wrong) is type(current) or (current is None and wrong is None):
                continue
            if isinstance(current, list) and wrong == [] or isinstance(current, dict) and wrong == {}:
                continue
            try:
                Estate.from_outputs(replaced(outputs, path, wrong))
            except EstateError as error:
                assert written(path) in str(error), (path, wrong, str(error))
            else:
                # Only where the dataclass allows null (`X | None`) may null pass, or a value
                # pass where the outputs hold null (the X is not seen here).
                assert wrong is None or current is None, (path, wrong)


def test_every_field_type_of_the_estate_can_be_checked():
    dataclass_reader.reader_for(Estate)  # TypeError names a field type the reader does not know


def test_outputs_without_services_are_refused(dev_run):
    outputs = copy.deepcopy(dev_run.outputs)
    outputs["services"] = []
    with pytest.raises(EstateError, match="estate.services is empty"):
        Estate.from_outputs(outputs)


def test_a_service_named_twice_is_refused(dev_run):
    outputs = copy.deepcopy(dev_run.outputs)
    keys = ", ".join(s["key"] for s in outputs["services"])
    outputs["services"] = outputs["services"] * 2
    with pytest.raises(EstateError, match=f"names {keys} more than once"):
        Estate.from_outputs(outputs)


def test_a_malformed_dependency_list_is_refused(dev_run):
    outputs = copy.deepcopy(dev_run.outputs)
    outputs["dependencies"] = {"redis": {}}
    with pytest.raises(EstateError, match="estate.dependencies: expected a list, got an object"):
        Estate.from_outputs(outputs)


def test_a_services_dependencies_are_names(dev_run):
    estate = Estate.from_outputs(dev_run.outputs)
    assert all(isinstance(name, str) for service in estate.services for name in service.dependencies)
