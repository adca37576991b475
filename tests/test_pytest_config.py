"""The suite's own safety net: a Pulumi mock test that returns its Output instead
of awaiting it would pass without checking anything. pyproject.toml makes
pytest fail such a test; this proves it does."""

from __future__ import annotations

import subprocess
import sys

from core.stack_file import PROJECT_DIR


def test_a_test_that_returns_a_value_fails_under_the_projects_pytest_config(tmp_path):
    (tmp_path / "test_returns.py").write_text(
        "def test_forgot_to_await_the_output():\n    return 'an Output whose apply never ran'\n"
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            # The project's addopts start worker processes: for one test, run it in this one.
            "-n",
            "0",
            "-c",
            str(PROJECT_DIR / "pyproject.toml"),
            "--rootdir",
            str(tmp_path),
            str(tmp_path / "test_returns.py"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1, done.stdout
    assert "1 failed" in done.stdout
