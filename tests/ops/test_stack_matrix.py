"""ops/stack_matrix.py: the matrix of the pull-request, deploy and drift workflows.

GIVEN the repository
WHEN  `python3 -m ops.stack_matrix` runs the way CI's first job runs it: before anything
      is installed (no site-packages here: `-S`)
THEN  it prints every stack file's stack as one JSON list, `--only` a stack that exists,
      and a request for anything else exits 2 with nothing on stdout (so nothing reaches
      $GITHUB_OUTPUT).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests import tiers
from tests.helpers import PROJECT_DIR, STACKS, reads_config


def matrix(*args: str) -> subprocess.CompletedProcess:
    # -S: no site-packages, as on a runner where nothing is installed yet (the checkout on sys.path by hand).
    code = "import sys, runpy; sys.path.insert(0, '.'); runpy.run_module('ops.stack_matrix', run_name='__main__')"
    return subprocess.run(
        [sys.executable, "-S", "-c", code, *args],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )


@reads_config
@tiers.process
def test_the_matrix_is_every_stack_file_without_anything_installed():
    done = matrix()
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == list(STACKS)


@reads_config
@pytest.mark.parametrize("stack", STACKS)
@tiers.process
def test_one_stack_that_exists(stack):
    done = matrix("--only", stack)
    assert (done.returncode, json.loads(done.stdout)) == (0, [stack])


@pytest.mark.parametrize("asked", ["no-such-stack", "development\nstacks=[]", "../Pulumi", ""])
@tiers.process
def test_anything_else_exits_2_with_nothing_on_stdout(asked):
    done = matrix("--only", asked)
    assert done.returncode == 2 and done.stdout == ""
    assert "is not a stack of this project: pick one of" in done.stderr
