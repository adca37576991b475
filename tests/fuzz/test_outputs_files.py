"""Fuzz: the stack outputs file `make verify OUTPUTS=...` reads.

Whatever the file holds, verify exits 2 with one sentence saying why, prints nothing on
stdout, and makes no AWS call unless the file describes an estate whose every field has
its declared type. Here AWS is a port on 127.0.0.1 that refuses connections, so a valid
file exits 2 as well (AWS unreachable), after verify tried.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core import bounded_json
from core.estate import Estate, EstateError
from ops import verify as verify_tool
from ops.aws import Aws
from ops.outputs import OUTPUTS_LIMIT, OUTPUTS_MAX_DEPTH
from tests import tiers
from tests.fuzz import nasty
from tests.fuzz.harness import fifo, fuzz_settings, refusing_port, run_main
from tests.helpers import REGION

pytestmark = tiers.fuzz

STACK = "development"


@pytest.fixture
def unreachable_aws(aws_env, monkeypatch, boto_session):
    """AWS at a refusing port; every Aws verify makes is counted (and shares one boto3 session:
    a session per case would cost more than the case)."""
    made: list[str] = []

    def counted_aws(region=None, session=None):
        made.append(region)
        return Aws(region=region, session=boto_session)

    with refusing_port() as port:
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
        monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
        monkeypatch.setattr(verify_tool, "Aws", counted_aws)
        # No Pulumi CLI is asked, whatever PATH holds.
        monkeypatch.setattr("ops.outputs.shutil.which", lambda name: None)
        yield made


def describes_an_estate(data: bytes) -> bool:
    """Independently of verify: is this a file verify may go to AWS with?"""
    try:
        text = data.decode("utf-8")
        if text.startswith("\ufeff"):
            return False
        estate = Estate.from_outputs(bounded_json.parse(text, max_bytes=OUTPUTS_LIMIT, max_depth=OUTPUTS_MAX_DEPTH))
    except (UnicodeDecodeError, bounded_json.JsonRefused, EstateError):
        return False
    return estate.stack == STACK


def verify_file(path: Path, data: bytes, made: list[str], case: str, *flags: str) -> None:
    path.write_bytes(data)
    before = len(made)
    outcome = run_main("verify outputs", verify_tool.main, ["--stack", STACK, "--outputs", str(path), *flags])
    assert outcome.code == 2, f"{case}: exit {outcome.code}\n{outcome.err}"
    assert outcome.out == "", f"{case}: printed on stdout"
    assert outcome.err.startswith("could not check: "), outcome.err
    if describes_an_estate(data):
        assert "unreachable" in outcome.err or "AWS answered with an error" in outcome.err, outcome.err
    else:
        assert len(made) == before, f"{case}: verify went to AWS with outputs that describe no estate"


# --------------------------------------------------------------------------- #
# The hand-made table
# --------------------------------------------------------------------------- #


@pytest.fixture(scope="module")
def nasty_outputs(dev_run) -> dict[str, bytes]:
    return nasty.outputs_files(dev_run.outputs)


def test_the_hand_made_outputs_files_exit_2_before_any_aws_call(unreachable_aws, nasty_outputs, tmp_path):
    for name, data in nasty_outputs.items():
        verify_file(tmp_path / "outputs.json", data, unreachable_aws, name)
    assert unreachable_aws == [], "none of the hand-made files describes an estate"


def test_the_rendered_outputs_reach_aws_which_refuses(unreachable_aws, dev_run, tmp_path):
    verify_file(tmp_path / "outputs.json", json.dumps({"estate": dev_run.outputs}).encode(), unreachable_aws, "good")
    assert unreachable_aws == [REGION]


@pytest.mark.parametrize(
    ("path", "said"),
    [
        ("/dev/zero", "is not a regular file"),
        ("fifo", "is not a regular file"),
        (".", "is a directory"),
        ("missing.json", "does not exist"),
    ],
)
def test_an_outputs_path_that_is_no_file_exits_2_without_reading(unreachable_aws, tmp_path, path, said):
    if path == "fifo":
        path = fifo(str(tmp_path / "fifo"))
    elif not path.startswith("/"):
        path = str(tmp_path / path)
    outcome = run_main("verify outputs", verify_tool.main, ["--stack", STACK, "--outputs", path])
    assert outcome.code == 2 and said in outcome.err and outcome.seconds < 1


# --------------------------------------------------------------------------- #
# Generated: the rendered outputs changed anywhere, any JSON, any bytes
# --------------------------------------------------------------------------- #

json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**70), 2**70),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=20),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=10,
)


def paths_in(node: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(node, dict):
        for key, child in node.items():
            found += paths_in(child, (*prefix, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found += paths_in(child, (*prefix, index))
    return found


@st.composite
def changed_outputs(draw, estate: dict[str, Any]) -> bytes:
    outputs = {"estate": copy.deepcopy(estate)}
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in paths_in(outputs) if p]
        if not paths:  # the estate itself was deleted
            break
        path = draw(st.sampled_from(paths))
        parent: Any = outputs
        for step in path[:-1]:
            parent = parent[step]
        action = draw(st.sampled_from(["replace", "delete", "retype", "empty"]))
        if action == "delete":
            del parent[path[-1]]
        elif action == "retype":
            current = parent[path[-1]]
            parent[path[-1]] = [current] if not isinstance(current, list) else {"0": current}
        elif action == "empty":
            parent[path[-1]] = type(parent[path[-1]])() if isinstance(parent[path[-1]], (list, dict, str)) else 0
        else:
            parent[path[-1]] = draw(json_values)
    return json.dumps(outputs).encode()


@pytest.fixture(scope="module")
def rendered_estate(dev_run) -> dict[str, Any]:
    return copy.deepcopy(dev_run.outputs)


@fuzz_settings(300)
@given(data=st.data())
def test_any_change_to_the_rendered_outputs_exits_2_and_reaches_aws_only_when_well_typed(
    unreachable_aws, rendered_estate, tmp_path, data
):
    outputs = data.draw(changed_outputs(rendered_estate))
    verify_file(tmp_path / "outputs.json", outputs, unreachable_aws, repr(outputs[:200]))


@fuzz_settings(200)
@given(
    body=st.one_of(
        json_values.map(lambda value: json.dumps({"estate": value}).encode()),
        json_values.map(lambda value: json.dumps(value).encode()),
        st.text(max_size=100).map(lambda text: text.encode("utf-8", "surrogatepass")),
        st.binary(max_size=100),
    ),
    flags=st.lists(
        st.sampled_from([("--json",), ("--logs",), ("--service", "api"), ("--service", "nope")]), max_size=3
    ),
)
def test_any_json_or_bytes_exit_2_without_an_aws_call(unreachable_aws, tmp_path, body, flags):
    verify_file(tmp_path / "outputs.json", body, unreachable_aws, repr(body[:200]), *sum(flags, ()))
