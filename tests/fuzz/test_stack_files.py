"""Fuzz: stack files, and the config values the program gets from the Pulumi engine.

Whatever `Pulumi.<stack>.yaml` holds, the offline tools get values or a StackFileError,
and the settings loader Settings or a SettingsError: never another exception, never a
hang. The bulk of the cases go through the reader and the loader directly (milliseconds
each); the hand-made table also goes through the whole `make synth` entry point.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from unittest import mock

import pulumi
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pulumi.runtime import config as runtime_config

from core.naming import PROJECT
from core.settings import TOP_LEVEL_KEYS, Settings, SettingsError, load_settings
from core.stack_file import StackFileError, read_stack_file, settings_input
from infra import stack_config
from synth import program, render
from synth.program import as_pulumi_config
from tests import tiers
from tests.fuzz import nasty
from tests.fuzz.harness import fuzz_settings, run_main, timed
from tests.helpers import DEV_SECRET_KEYS, DEV_VALUES

pytestmark = tiers.fuzz

STACK = "fuzz"


def read_and_load(directory: Path, data: bytes, case: str) -> Settings | StackFileError | SettingsError:
    """The offline tools' path: the file, read and validated."""
    (directory / f"Pulumi.{STACK}.yaml").write_bytes(data)

    def attempt():
        try:
            values, secret_keys = read_stack_file(STACK, directory)
        except StackFileError as error:
            assert str(error).startswith(f"Pulumi.{STACK}.yaml") or str(directory) in str(error), str(error)
            return error
        try:
            return load_settings(**settings_input(values, secret_keys), stack=STACK)
        except SettingsError as error:
            return error

    return timed("stack file", case, attempt)


# --------------------------------------------------------------------------- #
# The hand-made table, through the reader and loader, and through `make synth`
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("name", list(nasty.STACK_FILES))
def test_each_nasty_stack_file_is_refused_or_read_in_well_under_a_second(tmp_path, name):
    started = time.perf_counter()
    result = read_and_load(tmp_path, nasty.STACK_FILES[name], name)
    assert time.perf_counter() - started < 0.5
    # None of them is a stack: each is refused, by the reader or by the settings.
    assert isinstance(result, (StackFileError, SettingsError)), result


RENDERED = ["billion laughs", "deep list", "5000-digit integer", "utf-16", "date value", "duplicate key"]


@pytest.mark.parametrize("name", RENDERED)
def test_make_synth_on_a_nasty_stack_file_exits_2_with_the_reason(tmp_path, monkeypatch, name):
    (tmp_path / f"Pulumi.{STACK}.yaml").write_bytes(nasty.STACK_FILES[name])
    monkeypatch.setattr(program, "read_stack_file", lambda stack: read_stack_file(stack, tmp_path))
    outcome = run_main("make synth", render.main, ["--stack", STACK, "--out", str(tmp_path / "out.json")])
    assert outcome.code == 2 and outcome.out == ""
    assert f"cannot render stack '{STACK}'" in outcome.err
    assert outcome.seconds < 1.0


def test_the_stack_name_never_becomes_a_path(tmp_path):
    for stack in ("../development", "/etc/passwd", "a/b", "..", ".", "", "dev\n", "x" * 101):
        with pytest.raises(StackFileError, match="is not a stack name"):
            read_stack_file(stack, tmp_path)


# --------------------------------------------------------------------------- #
# Generated: mutations of the development stack file, YAML-ish text, raw bytes
# --------------------------------------------------------------------------- #

DEV_LINES = nasty.DEV_STACK.decode().splitlines(keepends=True)
NASTY_SCALARS = [
    "",
    "~",
    "null",
    "yes",
    "on",
    "0x1F",
    "0o17",
    "017",
    "1:20",
    "1e400",
    "1.0e+400",
    ".inf",
    "-.Inf",
    ".NaN",
    "2025-10-07",
    "2025-10-07T10:00:00Z",
    "=",
    "<<",
    "*a",
    "&a x",
    "!!binary aGk=",
    "!!set {a}",
    "!!int x",
    "!!str 1",
    "!x y",
    "[",
    "{",
    "]",
    "'",
    '"',
    "'x'",
    '"\\ud800"',
    '"\\x00"',
    "|",
    ">",
    "- a",
    "{a: 1, a: 2}",
    "[[[[[[[[]]]]]]]]",
    "9" * 19,
    "9" * 5000,
    "-" + "9" * 18,
    "x" * 3000,
    "é",
    "\U0001f600",
    "#",
    "a: b: c",
    "\t",
    "secure: v1:x",
    "{secure: v1:x}",
]
NASTY_LINES = [
    "---\n",
    "...\n",
    "%YAML 1.1\n",
    "%TAG ! tag:x,2000:\n",
    "? a\n",
    ": b\n",
    "- x\n",
    "  hokusai:services: ~\n",
    "  hokusai:services: []\n",
    "  hokusai:unknown: 1\n",
    "  aws:region: 7\n",
    "  7: x\n",
    "config:\n",
    "      api: &a {}\n",
    "      mlflow: *a\n",
    "\ufeff\n",
    "\x00\n",
    "\t\n",
]


@st.composite
def mutated_stack_files(draw) -> bytes:
    lines = list(DEV_LINES)
    for _ in range(draw(st.integers(1, 4))):
        index = draw(st.integers(0, len(lines) - 1))
        operation = draw(st.sampled_from(["value", "insert", "delete", "duplicate", "indent", "truncate"]))
        line = lines[index]
        if operation == "value" and ":" in line:
            key = line.split(":")[0] if not line.strip().startswith("-") else line.split("-")[0] + "-"
            if line.strip().startswith(("hokusai:", "aws:")):
                key = line.rsplit(":", 1)[0]
            lines[index] = f"{key}: {draw(st.sampled_from(NASTY_SCALARS))}\n"
        elif operation == "insert":
            lines.insert(index, draw(st.sampled_from(NASTY_LINES)))
        elif operation == "delete":
            del lines[index]
        elif operation == "duplicate":
            lines.insert(index, line)
        elif operation == "indent":
            lines[index] = " " * draw(st.integers(0, 8)) + line.lstrip(" ")
        elif operation == "truncate":
            lines = lines[:index] + [line[: draw(st.integers(0, len(line)))]]
        if not lines:
            lines = [""]
    return "".join(lines).encode("utf-8", "surrogatepass")


yaml_ish_text = st.text(
    alphabet=st.one_of(st.sampled_from(list("ab1:-?[]{},&*!|>'\"%@`#~=<. \n\t\\")), st.characters()), max_size=200
)


@fuzz_settings(300)
@given(data=mutated_stack_files())
def test_any_change_to_the_development_stack_file_gives_settings_or_a_named_error(tmp_path, data):
    read_and_load(tmp_path, data, repr(data[:80]))


@fuzz_settings(200)
@given(
    body=st.one_of(
        yaml_ish_text.map(lambda text: f"config:\n  hokusai:tags:\n    {text}".encode("utf-8", "surrogatepass")),
        yaml_ish_text.map(lambda text: text.encode("utf-8", "surrogatepass")),
        st.binary(max_size=200),
    )
)
def test_any_bytes_give_settings_or_a_named_error(tmp_path, body):
    read_and_load(tmp_path, body, repr(body[:80]))


# --------------------------------------------------------------------------- #
# The Pulumi engine's path: config values as the language host passes them (text, JSON)
# --------------------------------------------------------------------------- #

json_text = st.one_of(
    st.sampled_from(
        [
            "{",
            "[",
            "[]",
            "{}",
            "null",
            nasty.nested(5000),
            nasty.nested(40),
            "[" + "9" * 5000 + "]",
            "[1e999]",
            "[NaN]",
            '{"a": 1, "a": 2}',
            '["\\ud800"]',
            "[" * 100_000,
        ]
    ),
    st.recursive(
        st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=10)),
        lambda children: st.one_of(
            st.lists(children, max_size=3), st.dictionaries(st.text(max_size=8), children, max_size=3)
        ),
        max_leaves=10,
    ).map(json.dumps),
    st.text(max_size=40),
)


class _NoMocks(pulumi.runtime.Mocks):
    def new_resource(self, args):
        raise AssertionError("reading settings must not create resources")

    def call(self, args):
        raise AssertionError("reading settings must not call providers")


@pytest.fixture
def language_host():
    pulumi.runtime.set_mocks(_NoMocks(), project=PROJECT, stack="development")
    yield
    runtime_config.set_all_config({}, [])


def engine_config(replacements: dict[str, str]) -> dict[str, str]:
    config = as_pulumi_config(DEV_VALUES)
    config.update(replacements)
    return config


@fuzz_settings(200)
@given(
    replacements=st.dictionaries(
        st.one_of(st.sampled_from([f"{PROJECT}:{key}" for key in TOP_LEVEL_KEYS] + ["aws:region"]), st.text()),
        json_text,
        max_size=3,
    )
)
def test_any_config_the_engine_passes_gives_settings_or_a_run_error(language_host, replacements):
    runtime_config.set_all_config(engine_config(replacements), list(DEV_SECRET_KEYS))

    def attempt():
        try:
            return stack_config.read_settings()
        except pulumi.RunError as error:
            assert "configuration problem" in str(error)
            return error

    timed("engine config", repr(replacements)[:120], attempt)


def test_a_structured_value_out_of_bounds_is_named_by_its_key(language_host):
    runtime_config.set_all_config(engine_config({f"{PROJECT}:tags": nasty.nested(40)}), [])
    with pytest.raises(pulumi.RunError, match=f"{PROJECT}:tags: is nested more than"):
        stack_config.read_settings()
    with mock.patch.object(stack_config, "CONFIG_VALUE_LIMIT", 10):
        runtime_config.set_all_config(engine_config({f"{PROJECT}:tags": '{"team": "platform"}'}), [])
        with pytest.raises(pulumi.RunError, match="larger than"):
            stack_config.read_settings()
