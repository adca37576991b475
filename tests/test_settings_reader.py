"""The reader: `present` (the loader's last step from "no problem recorded" to Settings without a
None), and the fixes it words."""

from __future__ import annotations

import re

import pytest

from core.settings.reader import Reader, present


@pytest.mark.parametrize("value", [0, "", (), False, "hokusai-development"])
def test_a_value_read_without_a_problem_is_passed_on_even_when_it_is_falsy(value):
    # An empty tags tuple or a zero is a value, not an absence: only None is refused.
    assert present(value, "tags") is value


def test_none_without_a_recorded_problem_names_the_key_and_blames_the_reader():
    with pytest.raises(
        AssertionError, match=r"^network was read as None with no problem recorded: a bug in its reader$"
    ):
        present(None, "network")


def test_a_value_off_its_pattern_gets_a_fix_that_reads_as_a_sentence():
    reader = Reader()
    assert reader.text("UPPER", "services.api.name", pattern=re.compile("[a-z]+$"), shape="lower-case letters") is None
    (problem,) = reader.problems
    assert problem.fix == "use lower-case letters"
    reader = Reader()
    reader.text("UPPER", "services.api.name", pattern=re.compile("[a-z]+$"))
    assert reader.problems[0].fix == "use a valid value"
