"""Reading JSON into dataclasses by their declared field types."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pytest

from core import dataclass_reader
from core.dataclass_reader import ShapeError


@dataclass(frozen=True)
class Leaf:
    name: str
    port: int
    enabled: bool


@dataclass(frozen=True)
class Tree:
    leaves: tuple[Leaf, ...]
    names: tuple[str, ...]
    labels: Mapping[str, str]
    parent: Leaf | None
    note: str | None


GOOD = {
    "leaves": [{"name": "a", "port": 1, "enabled": True}],
    "names": ["x"],
    "labels": {"k": "v"},
    "parent": None,
    "note": "n",
}


def error(value) -> str:
    with pytest.raises(ShapeError) as caught:
        dataclass_reader.read(Tree, value, "tree")
    return str(caught.value)


def test_a_value_of_the_declared_shape_reads_into_the_dataclasses():
    tree = dataclass_reader.read(Tree, GOOD, "tree")
    assert tree == Tree((Leaf("a", 1, True),), ("x",), {"k": "v"}, None, "n")


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (
            {"leaves": [{"name": "a", "port": None, "enabled": True}]},
            "tree.leaves[0].port: expected a whole number, got null",
        ),
        (
            {"leaves": [{"name": "a", "port": True, "enabled": True}]},
            "tree.leaves[0].port: expected a whole number, got true",
        ),
        (
            {"leaves": [{"name": "a", "port": 1.0, "enabled": True}]},
            "tree.leaves[0].port: expected a whole number, got the number 1.0",
        ),
        (
            {"leaves": [{"name": "a", "port": 1, "enabled": 1}]},
            "tree.leaves[0].enabled: expected true or false, got the number 1",
        ),
        ({"leaves": [{"name": 5, "port": 1, "enabled": True}]}, "tree.leaves[0].name: expected text, got the number 5"),
        ({"leaves": [{"name": "a", "port": 1}]}, "tree.leaves[0] lacks enabled"),
        ({"leaves": ["a"]}, 'tree.leaves[0]: expected an object, got the text "a"'),
        ({"leaves": {"a": 1}}, "tree.leaves: expected a list, got an object"),
        ({"names": "x"}, 'tree.names: expected a list, got the text "x"'),
        ({"names": [None]}, "tree.names[0]: expected text, got null"),
        ({"labels": {"k": 1}}, "tree.labels.k: expected text, got the number 1"),
        ({"labels": {"a.b": []}}, 'tree.labels["a.b"]: expected text, got a list'),
        ({"labels": []}, "tree.labels: expected an object, got a list"),
        ({"parent": "p"}, 'tree.parent: expected an object or null, got the text "p"'),
        (
            {"parent": {"name": "a", "port": "1", "enabled": True}},
            'tree.parent.port: expected a whole number, got the text "1"',
        ),
        ({"note": 3}, "tree.note: expected text or null, got the number 3"),
        ({"note": 10**40}, "tree.note: expected text or null, got a whole number of about 41 digits"),
    ],
)
def test_each_mismatch_names_its_path_and_what_was_expected(change, said):
    assert error({**GOOD, **change}) == said


def test_keys_a_dataclass_does_not_declare_are_left_alone():
    assert dataclass_reader.read(Tree, {**GOOD, "newer": 1}, "tree").note == "n"


def test_a_field_type_the_reader_cannot_check_is_a_type_error_at_once():
    @dataclass(frozen=True)
    class Unknown:
        ratio: float

    with pytest.raises(TypeError, match="cannot check a field of type"):
        dataclass_reader.reader_for(Unknown)
