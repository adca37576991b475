"""The two tiers of the suite (tests/tiers.py): what selects them, and the guards that keep
a slow test out of `make test`.

The guards are tried in an inner pytest run in this process (pytester), with this suite's
own conftest hooks: a fast-tier test that starts a process, renders a config of its own or
starts moto fails naming the marker it lacks, and passes once it has it. An inner test that
does one of those things does it in this test's thread too, so each of these outer tests
carries the same marker (it is a slow test itself).
"""

from __future__ import annotations

import re
import tomllib
import warnings

import pytest

from core.stack_file import PROJECT_DIR
from tests import tiers
from tests.commands import MAKEFILE_TEXT

CONFTEST = (
    "from tests.conftest import pytest_collection_modifyitems, pytest_runtest_call, pytest_runtest_setup"
    "  # noqa: F401\n"
)


def registered_markers() -> dict[str, str]:
    config = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text())
    lines = config["tool"]["pytest"]["ini_options"]["markers"]
    return dict(line.split(": ", 1) for line in lines)


def test_every_slow_kind_and_slow_itself_is_a_registered_marker_saying_the_same():
    markers = registered_markers()
    for kind, meaning in tiers.SLOW_KINDS.items():
        assert kind in markers, f"pyproject.toml does not register the marker {kind!r}"
        assert markers[kind] == meaning, (kind, markers[kind], meaning)
    assert tiers.SLOW in markers


def recipe(target: str, makefile: str = MAKEFILE_TEXT) -> str:
    match = re.search(rf"^{re.escape(target)}:[^\n]*\n((?:\t[^\n]*\n)+)", makefile, flags=re.M)
    assert match, f"the Makefile has no recipe for {target}"
    return match.group(1)


# What each target passes to pytest, exactly: anything more (-k, --ignore, a path, --deselect)
# would leave tests out of both tiers.
TIER_ARGUMENTS = {"test": '-m "not slow"', "test-slow": "-m slow", "test-all": ""}
PYTEST_DEFINITION = "PYTEST = PYTHONDONTWRITEBYTECODE= $(PYTHON) -m pytest"


def tier_problems(makefile: str) -> list[str]:
    """`make test` is the fast tier, `make test-slow` the slow one, `make test-all` both, and
    nothing else narrows what they run."""
    problems = []
    if not re.search(rf"^{re.escape(PYTEST_DEFINITION)}$", makefile, flags=re.M):
        problems.append(f"the Makefile does not define {PYTEST_DEFINITION!r}")
    for target, arguments in TIER_ARGUMENTS.items():
        lines = [line for line in recipe(target, makefile).splitlines() if "$(PYTEST)" in line]
        if len(lines) != 1:
            problems.append(f"make {target} does not run pytest once")
            continue
        given = lines[0].split("$(PYTEST)", 1)[1].strip()
        if given != arguments:
            problems.append(f"make {target} gives pytest {given or 'nothing'!r}, not {arguments or 'nothing'!r}")
    return problems


def test_the_make_targets_select_their_tier():
    assert tier_problems(MAKEFILE_TEXT) == []


@pytest.mark.parametrize(
    "change, found",
    [
        (lambda m: m.replace(' -m "not slow"', ""), "make test gives pytest 'nothing', not '-m \"not slow\"'"),
        (lambda m: m.replace("$(PYTEST) -m slow", '$(PYTEST) -m "not slow"'), "make test-slow gives pytest '-m \"not"),
        (lambda m: m.replace("$(PYTEST) -m slow", "$(PYTEST) -m aws"), "make test-slow gives pytest '-m aws'"),
        (lambda m: m.replace("$(PYTEST) -m slow", "$(PYTEST)"), "make test-slow gives pytest 'nothing'"),
        (lambda m: m.replace("$(PYTEST) -m slow", "$(PYTEST) -m slow -k gate"), "'-m slow -k gate', not '-m slow'"),
        (
            lambda m: m.replace("\t$(RUN)@$(PYTEST)\n", "\t$(RUN)@$(PYTEST) --ignore=tests/fuzz\n"),
            "make test-all gives",
        ),
        (lambda m: m.replace("PYTEST = PYTHONDONTWRITEBYTECODE= ", "PYTEST = "), "does not define"),
    ],
)
def test_a_tier_target_that_selects_the_wrong_tests_is_found(change, found):
    changed = change(MAKEFILE_TEXT)
    assert changed != MAKEFILE_TEXT
    assert any(found in problem for problem in tier_problems(changed)), tier_problems(changed)


def inner_run(pytester, test_source: str, *args: str):
    markers = "\n    ".join([*(f"{kind}: {meaning}" for kind, meaning in tiers.SLOW_KINDS.items()), "slow: any"])
    pytester.makeini(f"[pytest]\nmarkers =\n    {markers}\n")
    pytester.makeconftest(CONFTEST)
    test_file = pytester.makepyfile(test_inner=test_source)
    with warnings.catch_warnings():
        warnings.resetwarnings()
        return pytester.runpytest_inprocess(
            "-q", "-p", "no:cacheprovider", "--rootdir", str(pytester.path), *args, test_file
        )


PROCESS = """
import subprocess
import pytest
from tests import tiers

def test_unmarked():
    subprocess.run(["true"], check=True)

@tiers.process
def test_marked():
    subprocess.run(["true"], check=True)
"""


@tiers.process
def test_a_fast_test_that_starts_a_process_fails_naming_the_marker(pytester):
    result = inner_run(pytester, PROCESS, "-n", "0")
    result.assert_outcomes(failed=1, passed=1)
    assert "test_unmarked starts a process" in result.stdout.str()
    assert "mark it @process (tests/tiers.py)" in result.stdout.str()


# Mocks that answer every resource and call with nothing: set_mocks with them renders nothing
# of the program, which is all the renders guard needs to see.
NOTHING_MOCKS = """
import contextlib
import pulumi
import pulumi.runtime
import pytest
from tests import tiers

class Nothing(pulumi.runtime.Mocks):
    def new_resource(self, args):
        return [args.name + "-id", args.inputs]

    def call(self, args):
        return {}
"""

RENDERS = (
    NOTHING_MOCKS
    + """
def test_unmarked():
    pulumi.runtime.set_mocks(Nothing(), preview=False)

def test_inside_a_shared_render():
    with tiers.shared_render():
        pulumi.runtime.set_mocks(Nothing(), preview=False)

@tiers.renders
def test_marked():
    pulumi.runtime.set_mocks(Nothing(), preview=False)
"""
)


@tiers.renders
def test_a_fast_test_that_renders_a_config_of_its_own_fails_naming_the_marker(pytester):
    result = inner_run(pytester, RENDERS, "-n", "0")
    result.assert_outcomes(failed=1, passed=2)
    assert "test_unmarked runs the program on a config of its own" in result.stdout.str()
    assert "mark it @renders" in result.stdout.str()


AWS = """
import pytest
from moto import mock_aws
from tests import tiers

@pytest.fixture
def fake():
    return "a moto account"

def test_unmarked():
    with mock_aws():
        pass

@tiers.aws
def test_marked():
    with mock_aws():
        pass

def test_by_its_fixture(fake):
    assert fake
"""


@tiers.aws
def test_a_fast_test_that_starts_moto_fails_naming_the_marker(pytester):
    result = inner_run(pytester, AWS, "-n", "0")
    result.assert_outcomes(failed=1, passed=2)
    assert "test_unmarked starts moto" in result.stdout.str()
    assert "mark it @aws" in result.stdout.str()


def test_each_slow_kind_is_left_out_of_the_fast_tier_and_a_fixture_or_hypothesis_can_say_it(pytester):
    marked = "\n".join(f"@tiers.{kind}\ndef test_{kind}():\n    pass\n" for kind in tiers.SLOW_KINDS)
    source = (
        "import pytest\nfrom hypothesis import given, strategies as st\nfrom tests import tiers\n\n"
        "@pytest.fixture\ndef fake():\n    return 1\n\n"
        "@pytest.fixture\ndef fake_estate_scenario():\n    return 1\n\n"
        f"{marked}\ndef test_by_its_fixture(fake):\n    pass\n\n"
        "def test_reads_the_scenario(fake_estate_scenario):\n    pass\n\n"
        "@given(st.integers())\ndef test_a_property(n):\n    pass\n\ndef test_fast():\n    pass\n"
    )
    # SLOW_KINDS names the markers; tiers.<kind> must exist for each (pytest.mark.<kind>).
    fast = inner_run(pytester, source, "-n", "0", "-m", "not slow", "--collect-only")
    assert re.findall(r"::(test_\w+)", fast.stdout.str()) == ["test_fast"], fast.stdout.str()
    slow = inner_run(pytester, source, "-n", "0", "-m", "slow", "--collect-only")
    expected = sorted(
        [
            *(f"test_{kind}" for kind in tiers.SLOW_KINDS),
            "test_by_its_fixture",
            "test_reads_the_scenario",
            "test_a_property",
        ]
    )
    assert sorted(re.findall(r"::(test_\w+)", slow.stdout.str())) == expected, slow.stdout.str()


SETUP_AND_THREADS = """
import subprocess
import threading
import pytest
from tests import tiers

@pytest.fixture(scope="module")
def started_by_a_module_fixture():
    subprocess.run(["true"], check=True)

def test_through_a_module_fixture(started_by_a_module_fixture):
    pass

def test_in_a_thread_of_its_own():
    done = []
    thread = threading.Thread(target=lambda: done.append(subprocess.run(["true"]).returncode))
    thread.start()
    thread.join()
    assert done == [0]
"""


@tiers.process
def test_a_fixture_is_watched_too_and_another_thread_is_not(pytester):
    # The fake-estate scenario runs its processes in a thread of its own, beside the fast tests.
    result = inner_run(pytester, SETUP_AND_THREADS, "-n", "0")
    result.assert_outcomes(errors=1, passed=1)
    assert "test_through_a_module_fixture starts a process" in result.stdout.str()


SESSION_FIXTURE = (
    NOTHING_MOCKS
    + """
@pytest.fixture(scope="session", autouse=True)
def started_for_the_slow_tests():
    with {context}:
        pulumi.runtime.set_mocks(Nothing(), preview=False)

def test_fast_and_first():
    pass
"""
)


@tiers.renders
@pytest.mark.parametrize(
    "context, outcome", [("tiers.unwatched()", {"passed": 1}), ("tiers.shared_render()", {"passed": 1})]
)
def test_what_a_session_fixture_starts_for_others_is_not_the_first_tests_doing(pytester, context, outcome):
    """conftest.py's fake-estate scenario renders and starts make during the first test's setup."""
    result = inner_run(pytester, SESSION_FIXTURE.replace("{context}", context), "-n", "0")
    result.assert_outcomes(**outcome)


@tiers.renders
def test_without_unwatched_the_first_fast_test_would_be_blamed(pytester):
    result = inner_run(pytester, SESSION_FIXTURE.replace("{context}", "contextlib.nullcontext()"), "-n", "0")
    result.assert_outcomes(errors=1)
    assert "test_fast_and_first runs the program on a config of its own" in result.stdout.str()
