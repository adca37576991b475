"""Fixtures only; the helpers they use live in tests/helpers.py (importable).

Nothing heavy is imported at the top: the xdist controller imports this file too,
and it runs no test, so pulumi, boto3 and moto are imported by the fixtures that need them.
"""

from __future__ import annotations

import copy
import gc
import os
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import settings as hypothesis_settings

from tests import tiers

if TYPE_CHECKING:
    import boto3

    from synth.fake_estate import FakeEstate
    from synth.program import Run

# Property tests run in every `make test-slow` (they are of the `fuzz` kind: tests/tiers.py):
# enough examples to find the edge cases (each failure found is kept in .hypothesis/ and
# replayed first next time), few enough to keep that tier within its two minutes.
# `HYPOTHESIS_PROFILE=deep make test-slow` searches a hundred times as far (the input fuzzing
# in tests/fuzz/, which sets its own counts for every run, takes minutes then: bench/README.md).
hypothesis_settings.register_profile("default", max_examples=50, deadline=None)
hypothesis_settings.register_profile("deep", max_examples=5000, deadline=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

# The heap of a test process is large (pulumi_aws's modules, botocore's models, moto's
# backends), and with Python's default thresholds a full collection, which walks all
# of it, ran every few tests: a quarter of the in-process CPU time. The young
# generations keep Python's defaults; the old one waits for 100 times as many young
# collections (about once a run). Memory stays under 1 GB a worker.
gc.set_threshold(700, 10, 1000)


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session):
    # What is alive now (the modules, the collected tests) lives as long as the
    # process: take it out of every later collection's walk.
    gc.collect()
    gc.freeze()


@pytest.hookimpl(tryfirst=True)
def pytest_unconfigure(config):
    # An xdist worker has sent everything it has to say ("workerfinished", after every
    # pytest_sessionfinish hook). What would follow is a full collection of its heap and
    # the interpreter's teardown, 2-4 s during which the controller waits for it, and
    # nothing of which reaches the controller any more (it has marked the worker down:
    # an unraisable exception found now would be dropped). So a worker leaves here.
    workeroutput = getattr(config, "workeroutput", None)
    if workeroutput is not None:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(workeroutput.get("exitstatus", 0))


@pytest.fixture
def dev_values() -> dict[str, Any]:
    """A fresh, mutable copy of Pulumi.development.yaml's config."""
    from tests.helpers import DEV_VALUES

    return copy.deepcopy(DEV_VALUES)


@pytest.fixture(scope="session")
def dev_run() -> Run:
    """The development stack, rendered once for the read-only graph assertions: the same
    render as tests.helpers.rendered("development") (its stack file, its secret keys), shared."""
    from tests.helpers import rendered

    return rendered("development")


# --------------------------------------------------------------------------- #
# A moto account holding a copy of the rendered development estate
# (synth/fake_estate.py), for the live tools and the deploy gate.
# --------------------------------------------------------------------------- #


@pytest.fixture
def aws_env(monkeypatch):
    """An environment in which boto3 can only reach moto: fake credentials, no profile, no endpoint."""
    from tests.helpers import REGION

    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    # moto reports this many running tasks for a new service: the development desired count.
    monkeypatch.setenv("MOTO_ECS_SERVICE_RUNNING", "2")
    # moto would otherwise load thousands of AMIs into every fresh EC2 backend.
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")


@pytest.fixture(scope="session")
def boto_session() -> boto3.Session:
    """One session for the whole run: botocore caches its service models per session,
    which makes a fresh client cheap after the first."""
    import boto3
    import moto  # noqa: F401 (first: a session takes moto's request hook from botocore when it is made)

    from tests.helpers import REGION

    return boto3.Session(region_name=REGION)


@pytest.fixture(scope="session")
def seeded_copies():
    """The development estate seeded into moto once per process, copied for each test (tests/moto_snapshot.py)."""
    from tests.moto_snapshot import SeededCopies

    return SeededCopies()


@pytest.fixture
def fake(aws_env, dev_run, boto_session, seeded_copies) -> Iterator[FakeEstate]:
    """A moto account holding a healthy copy of the development estate."""
    from moto import mock_aws

    with mock_aws():
        yield seeded_copies.fake(dev_run, boto_session)


# --------------------------------------------------------------------------- #
# The fake estate end to end: moto_server and the make targets, once per session
# (tests/fake_estate_scenario.py).
# --------------------------------------------------------------------------- #

SCENARIO_FIXTURE = "fake_estate_scenario"
MOTO_FIXTURE = "seeded_copies"  # what every test of a seeded moto account uses (`fake`)


@pytest.fixture(scope="session", autouse=True)
def fake_estate_in_the_background(request, tmp_path_factory):
    """Starts the fake-estate scenario before the first test, if any test of the session
    reads it, so that it runs beside the other tests rather than in front of one of them."""
    from tests.commands import MAKE

    wanted = any(SCENARIO_FIXTURE in getattr(item, "fixturenames", ()) for item in request.session.items)
    if not wanted or MAKE is None:  # without make, the tests that read it are skipped
        yield None
        return
    from tests.fake_estate_scenario import SharedRun

    # Under xdist each worker's base temp is <the session's>/gwN: share the session's.
    base = tmp_path_factory.getbasetemp()
    shared = SharedRun(base.parent if hasattr(request.config, "workerinput") else base)
    with tiers.unwatched():  # it renders and starts make for the server tests, whichever test comes first
        shared.start()
    yield shared
    shared.finish()  # a run this process started stops its server before the session ends


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    # Before `-m` deselects: a test of any slow kind is `slow` too (tests/tiers.py).
    for item in items:
        kinds = tiers.slow_kinds(item)
        for kind in kinds:
            if item.get_closest_marker(kind) is None:
                item.add_marker(kind)  # `aws` by a fixture: selectable as `-m aws` too
        if kinds:
            item.add_marker(tiers.SLOW)

    # The tests of a moto account go first, so that one worker (the one whose half of the
    # tests they open, under worksteal) pays for seeding moto (about 2 s), not both.
    # The scenario is one chain of processes (one CPU at most): a worker that reaches a
    # test reading it before it is done waits. So those tests go last, in their order.
    def order(item: pytest.Item) -> tuple[bool, bool]:
        fixtures = getattr(item, "fixturenames", ())
        return SCENARIO_FIXTURE in fixtures, MOTO_FIXTURE not in fixtures

    items.sort(key=order)


# A fast-tier test that starts a process, runs the program on a config of its own or
# starts moto fails, naming the marker it lacks (tests/tiers.py): watched while its fixtures
# are set up and while it runs.
@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    with tiers.watching(item):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    with tiers.watching(item):
        return (yield)


@pytest.fixture(scope="session")
def fake_estate_scenario(fake_estate_in_the_background):
    """The record of the session's one run of the fake estate, from `make fake-estate` to `make fake-estate-stop`."""
    return fake_estate_in_the_background.result()
