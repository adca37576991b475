"""Property-based: whatever the config holds, the loader answers with Settings or
a SettingsError whose every problem names a real key, what is wrong and a fix.
Never a traceback."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from core.settings import SERVICE_KEYS, TOP_LEVEL_KEYS, SettingsError, load_settings
from tests.helpers import STACK_SERVICES, STACKS, hokusai_raw, stack_values

# Every stack file's `hokusai:` keys, as the loader takes them.
RAW = {stack: hokusai_raw(stack_values(stack)) for stack in STACKS}

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True),
    st.text(max_size=30),
    st.sampled_from(["", "latest", "arn:aws:x", "sg-", "512", "true", "vpc-0a1b2c3d"]),
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


def paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path (sequence of keys/indexes) into a nested config."""
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, child in node.items():
            found += paths(child, prefix + (key,))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found += paths(child, prefix + (index,))
    return found


# (stack, path) for every value of every stack file.
ALL_PATHS = [(stack, path) for stack, raw in RAW.items() for path in paths(raw)]


def assert_well_formed(error: SettingsError, extra_top_keys: Iterable[str] = frozenset()) -> None:
    assert error.problems, "a SettingsError must carry at least one problem"
    for problem in error.problems:
        assert problem.what.strip() and problem.fix.strip()
        if problem.key.startswith("hokusai:"):
            rest = problem.key[len("hokusai:") :]
            allowed = set(TOP_LEVEL_KEYS) | set(extra_top_keys)
            assert rest == "" or any(rest == k or rest.startswith((f"{k}.", f"{k}[")) for k in allowed), problem.key
        else:
            assert problem.key in ("aws:region", "stack"), problem.key
    str(error)  # renders


def load_or_error(raw: Any, region: Any = "us-east-1", stack: Any = "development", extra=frozenset()):
    try:
        return load_settings(raw, stack=stack, region=region)
    except SettingsError as error:
        assert_well_formed(error, set(extra))
        return error


@given(values, values, values)
def test_any_input_gives_settings_or_a_named_error(raw, region, stack):
    load_or_error(raw, region=region, stack=stack, extra={k for k in raw} if isinstance(raw, dict) else ())


@given(st.sampled_from(ALL_PATHS), values)
def test_replacing_any_value_of_any_stack_file_is_reported_or_accepted(stack_path, replacement):
    stack, path = stack_path
    raw = copy.deepcopy(RAW[stack])
    node = raw
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = replacement
    load_or_error(raw, stack=stack)


@given(st.sampled_from(ALL_PATHS))
def test_removing_any_value_of_any_stack_file_is_reported_or_accepted(stack_path):
    stack, path = stack_path
    raw = copy.deepcopy(RAW[stack])
    node = raw
    for step in path[:-1]:
        node = node[step]
    del node[path[-1]]
    load_or_error(raw, stack=stack)


@given(st.sampled_from(STACK_SERVICES), st.dictionaries(st.text(min_size=1, max_size=20), values, max_size=3))
def test_unknown_keys_anywhere_in_a_service_are_named(stack_service, extra):
    stack, service = stack_service
    raw = copy.deepcopy(RAW[stack])
    raw["services"][service].update(extra)
    result = load_or_error(raw, stack=stack)
    unknown = set(extra) - set(SERVICE_KEYS)
    if unknown:
        assert isinstance(result, SettingsError)
        keys = {p.key for p in result.problems}
        assert all(f"hokusai:services.{service}.{name}" in keys for name in unknown)
