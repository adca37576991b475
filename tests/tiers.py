"""The suite's two tiers, and the guards that keep the fast one fast.

`make test` runs the fast tier: the tests that run in the test process and read only
shared renders (`shared` below: tests/helpers.rendered for each stack file, and a few
named configs, five_services_run, iam_needs.every_feature, each rendered once per process). `make test-slow` runs the
rest, the tests of one of the SLOW_KINDS below; `make test-all` and CI run both. A test
of a slow kind carries its marker (`@process`, `@renders`, ...: the markers below);
conftest.py marks it `slow` as well, which is what the Makefile selects on.

A marker forgotten would slow the fast tier down without anyone noticing, so three of the
kinds are checked while a fast-tier test runs (`watching`, around its setup and its call): starting
a process, running the program on a config of its own, and starting moto each fail the
test with a sentence naming the marker to add. The others are visible in the test's own
code (`fuzz`, `timing`) or come with it (`server`, `variants`).

Imports nothing heavy: the xdist controller reads this module too.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import threading
from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest

# What makes a test slow, and its marker (registered, with these texts, in pyproject.toml).
SLOW_KINDS: dict[str, str] = {
    "process": "starts a process: make, python -m, git, a server",
    "renders": "runs the program on a config of its own, beyond the shared renders (tests/tiers.py: shared)",
    "fuzz": "generates its inputs: tests/fuzz, and every property test (hypothesis marks it by itself)",
    "exhaustive": "runs a whole tool once per row of a long table, or per value of a graph",
    "timing": "waits on the clock: a deadline, a trickling server",
    "aws": "runs against an AWS account faked in moto (the `fake` fixture, mock_aws)",
    "server": "starts moto_server on 127.0.0.1 (end-to-end runs of the command-line tools)",
    "variants": (
        "copies the repository, adds a service / a secret / a stack, refreshes it and runs the config-reading "
        "tests there (tests/test_variants.py)"
    ),
}
SLOW = "slow"

process = pytest.mark.process
renders = pytest.mark.renders
fuzz = pytest.mark.fuzz
exhaustive = pytest.mark.exhaustive
timing = pytest.mark.timing
aws = pytest.mark.aws
server = pytest.mark.server
variants = pytest.mark.variants
# A test that uses one of these fixtures is of the `aws` kind without saying so.
AWS_FIXTURES = frozenset({"fake", "seeded_copies"})
# ... and one that reads the fake-estate scenario (conftest.py) of the `server` kind.
SERVER_FIXTURES = frozenset({"fake_estate_scenario"})


def slow_kinds(item: pytest.Item) -> list[str]:
    """The slow kinds a collected test is marked with (`aws` also by the fixtures it uses)."""
    kinds = [kind for kind in SLOW_KINDS if item.get_closest_marker(kind) is not None]
    fixtures = set(getattr(item, "fixturenames", ()))
    if "aws" not in kinds and AWS_FIXTURES & fixtures:
        kinds.append("aws")
    if "server" not in kinds and SERVER_FIXTURES & fixtures:
        kinds.append("server")
    # A property test (hypothesis) generates its inputs by the dozen: each stays beside the
    # example tests of the same code, which are in the fast tier.
    if "fuzz" not in kinds and getattr(getattr(item, "obj", None), "is_hypothesis_test", False):
        kinds.append("fuzz")
    return kinds


def is_fast(item: pytest.Item) -> bool:
    return item.get_closest_marker(SLOW) is None


# Set while a shared render runs (`shared` below: tests/helpers.rendered and the like), the
# renders a fast-tier test may cause (each is paid once per process, whichever test comes first).
_SHARED_RENDER: contextvars.ContextVar[bool] = contextvars.ContextVar("shared_render", default=False)


@contextlib.contextmanager
def shared_render() -> Iterator[None]:
    token = _SHARED_RENDER.set(True)
    try:
        yield
    finally:
        _SHARED_RENDER.reset(token)


def in_shared_render() -> bool:
    return _SHARED_RENDER.get()


T = TypeVar("T")


def shared(render: Callable[..., T]) -> Callable[..., T]:
    """A render paid once per process (per arguments) and read by many tests, which the fast
    tier may cause: functools.cache, run under shared_render(). Read what it returns, never change it."""

    @functools.cache
    @functools.wraps(render)
    def once(*args):
        with shared_render():
            return render(*args)

    return once


def misplaced(nodeid: str, kind: str, what: str) -> str:
    """The failure a fast-tier test gets when it does what a slow kind does."""
    return (
        f"{nodeid} {what}, which makes it a slow test ({SLOW_KINDS[kind]}): mark it "
        f"@{kind} (tests/tiers.py), and it runs in `make test-slow` (CI runs both tiers)"
    )


# --------------------------------------------------------------------------- #
# The guards: the three calls a fast-tier test may not make, patched once per process
# (conftest.py's runtest hooks say which test, if any, is watched, and in which thread:
# the fake-estate scenario runs its processes beside the tests, in a thread of its own).
# --------------------------------------------------------------------------- #

# (thread, node id) of the test being set up or run; (None, "") while a slow one is. A stack,
# because a test may run pytest inside itself (tests/test_tiers.py).
_watched: list[tuple[int | None, str]] = []


@contextlib.contextmanager
def watching(item: pytest.Item) -> Iterator[None]:
    install_guards()
    _watched.append((threading.get_ident(), item.nodeid) if is_fast(item) else (None, ""))
    try:
        yield
    finally:
        _watched.pop()


@contextlib.contextmanager
def unwatched() -> Iterator[None]:
    """For what a session fixture starts on behalf of the slow tests that asked for it, during
    the setup of whichever test comes first (the fake-estate scenario): not that test's doing."""
    _watched.append((None, ""))
    try:
        yield
    finally:
        _watched.pop()


def _watched_test() -> str | None:
    """The node id of the fast-tier test this thread is running, if it is running one."""
    top = _watched[-1:]  # one read: another thread (the scenario's) may ask while this one pushes
    if top and top[0][0] == threading.get_ident():
        return top[0][1]
    return None


def install_guards() -> None:
    """Patch subprocess.Popen, pulumi.runtime.set_mocks and moto's MockAWS.start, once."""
    global _installed
    if _installed:
        return
    _installed = True
    import subprocess

    import pulumi.runtime
    from moto.core.models import MockAWS

    start_process = subprocess.Popen.__init__
    set_mocks = pulumi.runtime.set_mocks
    start_moto = MockAWS.start

    def guarded_start_process(self, args, *rest, **kwargs):
        if (nodeid := _watched_test()) is not None:
            pytest.fail(misplaced(nodeid, "process", f"starts a process ({args!r:.80})"), pytrace=False)
        start_process(self, args, *rest, **kwargs)

    def guarded_set_mocks(*args, **kwargs):
        if (nodeid := _watched_test()) is not None and not in_shared_render():
            pytest.fail(misplaced(nodeid, "renders", "runs the program on a config of its own"), pytrace=False)
        return set_mocks(*args, **kwargs)

    def guarded_start_moto(self, *args, **kwargs):
        if (nodeid := _watched_test()) is not None:
            pytest.fail(misplaced(nodeid, "aws", "starts moto"), pytrace=False)
        return start_moto(self, *args, **kwargs)

    subprocess.Popen.__init__ = guarded_start_process  # type: ignore[method-assign]
    pulumi.runtime.set_mocks = guarded_set_mocks
    MockAWS.start = guarded_start_moto  # type: ignore[method-assign]


_installed = False
