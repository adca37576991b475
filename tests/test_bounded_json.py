"""JSON within bounds: each bound accepts its limit and refuses one past it."""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core import bounded_json
from core.bounded_json import MAX_DEPTH, MAX_INT_DIGITS, JsonRefused, NotJson


def parse(text: str, max_bytes: int = 1 << 20):
    return bounded_json.parse(text, max_bytes=max_bytes)


def refused(text: str, max_bytes: int = 1 << 20) -> str:
    with pytest.raises(JsonRefused) as caught:
        parse(text, max_bytes)
    return str(caught.value)


def nested(levels: int) -> str:
    return "[" * levels + "]" * levels


def test_nesting_up_to_the_limit_is_read_and_one_level_more_is_refused():
    assert parse(nested(MAX_DEPTH)) is not None
    assert f"more than {MAX_DEPTH} levels" in refused(nested(MAX_DEPTH + 1))
    assert parse(json.dumps({"a": {"b": [1]}})) == {"a": {"b": [1]}}


def test_nesting_past_the_parsers_recursion_is_refused_fast():
    started = time.perf_counter()
    assert "levels deep" in refused(nested(500_000))
    assert time.perf_counter() - started < 1


def test_whole_numbers_up_to_the_digit_limit_are_read_and_longer_ones_refused():
    assert parse("9" * MAX_INT_DIGITS) == int("9" * MAX_INT_DIGITS)
    assert parse("-" + "9" * MAX_INT_DIGITS) < 0
    assert f"{MAX_INT_DIGITS + 1} digits" in refused("9" * (MAX_INT_DIGITS + 1))
    assert "5000 digits" in refused("[" + "9" * 5000 + "]")


def test_the_size_limit_is_in_bytes():
    assert parse('"' + "x" * 98 + '"', max_bytes=100) == "x" * 98
    assert "larger than" in refused('"' + "x" * 99 + '"', max_bytes=100)
    assert "larger than" in refused('"' + "é" * 50 + '"', max_bytes=100)  # 102 bytes, 52 characters


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("NaN", "NaN, which is not JSON"),
        ("[-Infinity]", "-Infinity, which is not JSON"),
        ("1e999", "too large to be finite"),
        ('{"a": 1, "a": 2}', "has the key 'a' twice"),
        ('"\\ud800"', "lone surrogate"),
        ('{"\\udc80": 1}', "lone surrogate"),
    ],
)
def test_what_is_not_plain_json_is_refused(text, said):
    assert said in refused(text)


def test_text_that_is_not_json_is_its_own_kind_of_refusal():
    with pytest.raises(NotJson, match=r"line 1, column 3"):
        parse("[1")


@given(st.text(max_size=200))
def test_any_text_gives_a_value_or_a_refusal(text):
    try:
        parse(text)
    except JsonRefused as error:
        assert str(error)
