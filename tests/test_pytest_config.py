"""The suite's own safety net: a Pulumi mock test that returns its Output instead
of awaiting it would pass without checking anything. pyproject.toml makes
pytest fail such a test; this proves it does, and that it is the config's doing.

The inner pytest runs in this process (pytester, `-p pytester` in the addopts),
under no warning filter but its own: this session's filters (the same config)
would otherwise fail the inner test whatever the file under test says.
"""

from __future__ import annotations

import warnings

from core.stack_file import PROJECT_DIR

RETURNS = "def test_forgot_to_await_the_output():\n    return 'an Output whose apply never ran'\n"
FILTER_LINE = '"error::pytest.PytestReturnNotNoneWarning",'


def run_under(pytester, config_text: str):
    config = pytester.path / "pyproject.toml"
    config.write_text(config_text)
    test_file = pytester.makepyfile(test_returns=RETURNS)
    with warnings.catch_warnings():
        warnings.resetwarnings()
        # -n 0: the project's addopts would start worker processes for this one test.
        return pytester.runpytest_inprocess(
            "-q", "-p", "no:cacheprovider", "-n", "0", "-c", str(config), "--rootdir", str(pytester.path), test_file
        )


def test_a_test_that_returns_a_value_fails_under_the_projects_pytest_config(pytester):
    result = run_under(pytester, (PROJECT_DIR / "pyproject.toml").read_text())
    assert result.ret == 1, result.stdout.str()
    result.assert_outcomes(failed=1)


def test_without_the_filter_the_same_test_passes(pytester):
    # The control: the project's config minus that one filter lets the test through.
    text = (PROJECT_DIR / "pyproject.toml").read_text()
    assert FILTER_LINE in text
    result = run_under(pytester, text.replace(FILTER_LINE, ""))
    assert result.ret == 0, result.stdout.str()
    result.assert_outcomes(passed=1, warnings=1)
