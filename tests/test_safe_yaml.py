"""The bounded YAML reader: JSON-like values, or YamlRefused naming the line, the key path and the fix."""

from __future__ import annotations

import time

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from core import safe_yaml
from core.safe_yaml import MAX_DEPTH, MAX_INT_DIGITS, YamlRefused
from tests.helpers import PROJECT_DIR

STACK_FILES = sorted(PROJECT_DIR.glob("Pulumi.*.yaml"))


def refused(text: str) -> YamlRefused:
    with pytest.raises(YamlRefused) as caught:
        safe_yaml.load(text)
    return caught.value


@pytest.mark.parametrize("path", STACK_FILES, ids=[p.name for p in STACK_FILES])
def test_every_stack_file_reads_as_yaml_safe_load_reads_it(path):
    text = path.read_text(encoding="utf-8")
    assert safe_yaml.load(text) == yaml.safe_load(text)


# JSON-like values as they can sit in a stack file: text keys, finite numbers, bounded whole numbers.
json_like = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(10**MAX_INT_DIGITS) + 1, 10**MAX_INT_DIGITS - 1),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(st.characters(codec="utf-8")),
    ),
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(st.text(), children, max_size=4)),
    max_leaves=20,
)


@given(json_like)
def test_what_pyyaml_writes_reads_back_as_safe_load_reads_it(value):
    text = yaml.safe_dump({"config": value}, allow_unicode=True)
    # (not always `value` itself: PyYAML writes some characters, e.g. U+0085, as it cannot read them back)
    assert safe_yaml.load(text) == yaml.safe_load(text)


@given(st.text(max_size=300))
def test_any_text_gives_a_value_or_a_refusal_naming_a_fix(text):
    try:
        safe_yaml.load(text)
    except YamlRefused as error:
        assert error.what and error.fix


@pytest.mark.parametrize(
    ("text", "what", "line", "where"),
    [
        ("a: &x [1]\nb: *x\n", "defines the anchor &x", 1, "at a"),
        ("a: *x\n", "uses the alias *x", 1, "at a"),
        ("a: 1\na: 2\n", "has the key 'a' twice (lines 1 and 2)", 2, ""),
        ("a:\n  b: 1\n  b: 2\n", "has the key 'b' twice", 3, "at a"),
        ("a:\n  1: x\n", "has the key '1', which YAML reads as a number", 2, "at a"),
        ("a:\n  yes: x\n", "has the key 'yes', which YAML reads as true/false", 2, "at a"),
        ("a:\n  ~: x\n", "has the key '~', which YAML reads as null", 2, "at a"),
        ("a:\n  ? [1]\n  : x\n", "has a list as a key", 2, "at a"),
        ("a:\n  ? {b: 1}\n  : x\n", "has a mapping as a key", 2, "at a"),
        ("a: [x, 2024-01-01]\n", "is '2024-01-01', which YAML reads as a date", 1, "at a[1]"),
        ("a: !!binary aGVsbG8=\n", "has the tag !!binary", 1, "at a"),
        ("a: !!set {x, y}\n", "has the tag !!set", 1, "at a"),
        ("a: !!omap [{x: 1}]\n", "has the tag !!omap", 1, "at a"),
        ("a: !!python/object:os.system {}\n", "has the tag !!python/object:os.system", 1, "at a"),
        ("a: !local x\n", "has the tag !local", 1, "at a"),
        ("a: !!int x\n", "is tagged !!int but 'x' is not one", 1, "at a"),
        ("a: {<<: {b: 1}}\n", "has the key '<<', which YAML reads as a merge key", 1, "at a"),
        ("a: =\n", "is '=', which YAML reads as a YAML 1.1 value key", 1, "at a"),
        ("a: .inf\n", "is '.inf', which is not a finite number", 1, "at a"),
        ("a: -.inf\n", "is '-.inf', which is not a finite number", 1, "at a"),
        ("a: 1\n---\nb: 2\n", "holds a second YAML document", 2, ""),
        ("a:\n\tb: 1\n", "is not valid YAML", 2, ""),
        ("a: [1, 2\n", "is not valid YAML", 2, ""),
        ("a: 'x\x00'\n", "holds the character U+0000 (column 6)", 1, ""),
        ("a:\n  b: \x07\n", "holds the character U+0007", 2, ""),
    ],
)
def test_each_refusal_names_the_line_and_the_key(text, what, line, where):
    error = refused(text)
    assert what in error.what and error.line == line
    assert error.where().endswith(where)
    assert error.fix.strip()


def test_a_lone_surrogate_escape_is_refused_wherever_the_parser_lets_it_through():
    # libyaml refuses "\ud800" itself; the pure-Python parser would not: the builder checks every text.
    builder = safe_yaml._Builder(MAX_DEPTH, MAX_INT_DIGITS)
    event = yaml.ScalarEvent(None, None, (False, True), "\ud800")
    with pytest.raises(YamlRefused, match="lone surrogate"):
        builder._scalar(event)


def nested(levels: int) -> str:
    return "[" * levels + "]" * levels


def test_nesting_up_to_the_limit_is_read_and_one_level_more_is_refused():
    assert safe_yaml.load(nested(MAX_DEPTH)) is not None
    error = refused(nested(MAX_DEPTH + 1))
    assert f"nested more than {MAX_DEPTH} levels deep" in error.what
    assert error.where().startswith("line 1, at [0][0]")


def test_nesting_far_past_the_limit_is_refused_at_once_without_recursion():
    started = time.perf_counter()
    refused("a: " + nested(200_000))
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize(
    ("allowed", "too_long"),
    [
        ("9" * MAX_INT_DIGITS, "9" * (MAX_INT_DIGITS + 1)),
        ("-" + "9" * MAX_INT_DIGITS, "-" + "9" * (MAX_INT_DIGITS + 1)),
        ("0x" + "f" * MAX_INT_DIGITS, "0x" + "f" * (MAX_INT_DIGITS + 1)),
        ("1_" * (MAX_INT_DIGITS - 1) + "1", "1_" * MAX_INT_DIGITS + "1"),
        ("1" + ":30" * ((MAX_INT_DIGITS - 1) // 2), "1" + ":30" * (MAX_INT_DIGITS // 2)),
    ],
    ids=["decimal", "negative", "hex", "underscores", "sexagesimal"],
)
def test_whole_numbers_of_up_to_the_digit_limit_are_read_and_longer_ones_refused(allowed, too_long):
    assert isinstance(safe_yaml.load(f"a: {allowed}\n")["a"], int)
    assert "whole number" in refused(f"a: {too_long}\n").what


def test_a_number_past_pythons_own_digit_limit_is_refused_not_a_value_error():
    assert "5000 digits" in refused("a: " + "9" * 5000 + "\n").what


def billion_laughs(levels: int = 9, width: int = 9) -> str:
    lines = ["a0: &a0 [lol]"] + [
        f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]" for i in range(1, levels + 1)
    ]
    return "config:\n  hokusai:tags:\n" + "".join(f"    {line}\n" for line in lines)


def test_billion_laughs_is_refused_at_the_first_anchor_well_within_a_second():
    started = time.perf_counter()
    error = refused(billion_laughs())
    assert time.perf_counter() - started < 0.1
    assert "anchor &a0" in error.what and error.path == ("config", "hokusai:tags", "a0")


def test_paths_are_written_as_pulumi_config_set_path_writes_them():
    assert safe_yaml.format_path(("services", "api", "routes", 0, "hosts", 1)) == "services.api.routes[0].hosts[1]"
    assert safe_yaml.format_path(("tags", "a.b", "c d")) == 'tags["a.b"]["c d"]'
    long = safe_yaml.format_path(tuple(["a"] * 50))
    assert "..." in long and len(long) < 60


def test_an_empty_file_is_nothing_and_the_json_like_types_come_back_as_python_values():
    assert safe_yaml.load("") is None
    assert safe_yaml.load("# only a comment\n") is None
    assert safe_yaml.load("a: [1, 1.5, true, null, x, '2024-01-01', !!str 12]\n") == {
        "a": [1, 1.5, True, None, "x", "2024-01-01", "12"]
    }
