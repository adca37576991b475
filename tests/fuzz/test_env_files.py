"""Fuzz: the `.env.example` files envcheck reads (`make envcheck ENV_EXAMPLE=...`).

Whatever the file holds, envcheck exits 0, 1 or 2 without a traceback, in time linear in
its size, and with --json prints JSON (or nothing, when it could not check).
"""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ops import envcheck
from ops.envcheck import ENV_EXAMPLE_LIMIT, WHITESPACE_RUN, parse_env_example
from tests import tiers
from tests.fuzz import nasty
from tests.fuzz.harness import fuzz_settings, run_main

pytestmark = tiers.fuzz

# Far below the 12 s one line of blanks took before, far above a linear pass over 64 KiB.
SECONDS = 4.0


def check_file(path, data: bytes, *flags: str):
    path.write_bytes(data)
    outcome = run_main("envcheck .env", envcheck.main, [str(path), *flags])
    if "--json" in flags and outcome.code != 2:
        assert json.loads(outcome.out)["exit_code"] == outcome.code
    if outcome.code == 2:
        assert outcome.out == "" and outcome.err.startswith("could not check: ")
    return outcome


@pytest.mark.parametrize("name", list(nasty.ENV_FILES))
def test_each_nasty_env_file_is_checked_or_refused_in_seconds(tmp_path, name):
    # Linear in the size, and the size is bounded: thousands of variables take a second or
    # two on a slow shared machine (python-dotenv reads about 10 000 lines a second there).
    outcome = check_file(tmp_path / ".env.example", nasty.ENV_FILES[name], "--json")
    assert outcome.seconds < SECONDS, f"{name}: {outcome.seconds:.2f} s"


def test_whitespace_runs_do_not_cost_quadratic_time_and_change_no_name():
    # 60 000 blanks in one value took python-dotenv about 12 s before runs were cut.
    for blank in (" ", "\t", "\x0c", "\x0b", "\u3000"):
        text = f"A=x{blank * 60_000}y\nB=1 {blank * 100}# comment\n'C D'=2\n"
        started = time.perf_counter()
        example = parse_env_example(text)
        assert time.perf_counter() - started < 0.5, repr(blank)
        assert example.active == {"A", "B", "C D"}


def test_whitespace_is_cut_only_past_the_run_no_line_has():
    kept = "A" + " " * WHITESPACE_RUN + "=1\n"
    assert parse_env_example(kept).active == parse_env_example("A =1\n").active == {"A"}


def test_a_file_of_exactly_the_limit_is_read_and_a_larger_one_refused(tmp_path):
    line = b"# " + b"x" * 97 + b"\n"
    body = line * (ENV_EXAMPLE_LIMIT // len(line))
    body += b"#" * (ENV_EXAMPLE_LIMIT - len(body) - 1) + b"\n"
    assert len(body) == ENV_EXAMPLE_LIMIT
    assert check_file(tmp_path / ".env.example", body).code in (0, 1)
    outcome = check_file(tmp_path / ".env.example", body + b"#")
    assert outcome.code == 2 and "is larger than 64 KiB" in outcome.err


env_text = st.lists(
    st.one_of(
        st.sampled_from(list("AB_=#'\"\\$ {}\n\r\t\x0b\x0c") + ["export ", "A=", "# A=", "\\n", "${A}", " #"]),
        st.characters(codec="utf-8"),
    ),
    max_size=150,
).map("".join)
ENV_LINES = nasty.ENV_EXAMPLE.decode().splitlines(keepends=True)


@st.composite
def changed_env_examples(draw) -> str:
    lines = list(ENV_LINES)
    for _ in range(draw(st.integers(1, 4))):
        index = draw(st.integers(0, len(lines) - 1))
        lines.insert(index, draw(env_text))
        if draw(st.booleans()):
            del lines[draw(st.integers(0, len(lines) - 1))]
    return "".join(lines)


flag_sets = st.lists(
    st.sampled_from([("--json",), ("--stack", "development"), ("--service", "mlflow"), ("--service", "nope")]),
    max_size=2,
).map(lambda groups: sum(groups, ()))


@fuzz_settings(300)
@given(body=st.one_of(env_text, changed_env_examples()), flags=flag_sets)
def test_any_text_gives_a_report_or_a_reason(tmp_path, body, flags):
    check_file(tmp_path / ".env.example", body.encode("utf-8"), *flags)


@fuzz_settings(100)
@given(body=st.binary(max_size=300))
def test_any_bytes_give_a_report_or_a_reason(tmp_path, body):
    check_file(tmp_path / ".env.example", body, "--json")


@pytest.mark.parametrize(
    "line", ["A=x\n", "'\n", "A=x" + " " * WHITESPACE_RUN + "y\n"], ids=["names", "quotes", "blanks"]
)
def test_a_file_at_the_size_limit_is_checked_in_seconds(tmp_path, line):
    # (the table above has the other shapes: unreadable lines, many names, comments)
    body = (line * (ENV_EXAMPLE_LIMIT // len(line) + 1)).encode()[:ENV_EXAMPLE_LIMIT]
    outcome = check_file(tmp_path / ".env.example", body)
    assert outcome.seconds < SECONDS, f"{line!r}: {outcome.seconds:.2f} s"
