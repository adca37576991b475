"""core/embedded_json.py: JSON documents held in strings, as data and back."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.embedded_json import MARKER, MarkerCollision, decoded, embedded_document, from_readable, readable
from synth.render import document
from tests.helpers import each_stack, rendered, same_graph_problems


def test_a_document_the_program_writes_is_decoded():
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
    assert embedded_document(json.dumps(policy)) == policy
    assert decoded({"policy": json.dumps(policy), "name": "x"}) == {"policy": policy, "name": "x"}


@pytest.mark.parametrize(
    "text",
    [
        '{"detail":"Not Found"}',  # written by hand (no spaces): its bytes are what AWS gets
        '{"b": 1, "a": 2} ',  # trailing space
        "[secret]",  # not JSON
        '"a string"',  # JSON, but not a document
        "42",
        "",
        "{",
    ],
)
def test_text_that_is_not_a_document_json_dumps_wrote_stays_text(text):
    assert embedded_document(text) is None
    assert decoded(text) == text
    assert readable(text) == text


def test_a_document_inside_a_document_is_decoded_too():
    inner = json.dumps({"k": "v"})
    outer = json.dumps([{"name": "c", "config": inner}])
    assert decoded(outer) == [{"name": "c", "config": {"k": "v"}}]
    assert readable(outer) == {MARKER: [{"name": "c", "config": {MARKER: {"k": "v"}}}]}


def test_an_input_that_looks_like_the_marker_is_refused_not_misread():
    with pytest.raises(MarkerCollision, match="rename the key"):
        readable({"inputs": {MARKER: "x"}})
    # A marker key beside others is an ordinary key.
    assert from_readable(readable({MARKER: 1, "other": 2})) == {MARKER: 1, "other": 2}


@each_stack
def test_every_document_in_the_rendering_becomes_data_and_back_the_same_document(stack):
    rendering = document(stack, rendered(stack))
    back = from_readable(readable(rendering))
    assert same_graph_problems(rendering, back) == []
    # ... and the readable form really decoded something (the container definitions at least)
    assert json.dumps(readable(rendering)).count(MARKER) >= len(rendered(stack).outputs["services"])


def test_the_comparison_notices_a_changed_value():
    rendering = {"resources": [{"inputs": {"policy": json.dumps({"Statement": [{"Action": "a"}]}), "n": 1}}]}
    back = from_readable(readable(rendering))
    assert same_graph_problems(rendering, back) == []
    back["resources"][0]["inputs"]["n"] = 2
    back["resources"][0]["inputs"]["policy"] = json.dumps({"Statement": [{"Action": "b"}]})
    assert len(same_graph_problems(rendering, back)) == 2


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=20,
)


@given(json_values)
def test_readable_then_back_is_the_same_value_with_documents_key_sorted(value):
    # A value, and the same value with some of its documents written into strings (as the program does).
    wrapped = {"plain": value, "embedded": json.dumps(value) if isinstance(value, (dict, list)) else value}
    try:
        back = from_readable(readable(wrapped))
    except MarkerCollision:
        return  # refused, never misread
    assert same_graph_problems(wrapped, back) == []
