"""core/stack_names.py: the stacks CI runs its pipeline for are exactly the stack files.

GIVEN the repository's Pulumi.<stack>.yaml files, or files made up in a directory
THEN  every stack file is listed, the project file and nothing else is not, a file no
      stack can be named after is refused by name, and a stack asked for by hand must
      be one of them.
"""

from __future__ import annotations

import pytest

from core.stack_names import StackNameError, existing_stack, stack_names
from tests.helpers import PROJECT_DIR, reads_config


def files(directory, *names: str):
    for name in names:
        (directory / name).write_text("config: {}\n")
    return directory


@reads_config
def test_every_stack_file_of_the_repository_is_a_stack():
    listed = stack_names()
    on_disk = sorted(p.name for p in PROJECT_DIR.glob("Pulumi.*.yaml"))
    assert [f"Pulumi.{name}.yaml" for name in listed] == on_disk
    assert listed, "the repository has no stack file"


def test_stacks_are_sorted_and_the_project_file_is_not_one(tmp_path):
    files(tmp_path, "Pulumi.yaml", "Pulumi.staging.yaml", "Pulumi.development.yaml", "README.md", "Pulumi.x.yml")
    assert stack_names(tmp_path) == ("development", "staging")


@pytest.mark.parametrize("bad", ["Dev", "dev_1", "a" * 25, "1dev", "dev.eu"])
def test_a_file_no_stack_can_be_named_after_is_refused_by_name(tmp_path, bad):
    files(tmp_path, "Pulumi.development.yaml", f"Pulumi.{bad}.yaml")
    with pytest.raises(StackNameError, match=rf"Pulumi\.{bad}\.yaml: .*rename the file"):
        stack_names(tmp_path)


def test_no_stack_file_is_an_error_saying_how_to_make_one(tmp_path):
    files(tmp_path, "Pulumi.yaml")
    with pytest.raises(StackNameError, match="pulumi stack init"):
        stack_names(tmp_path)


def test_a_stack_asked_for_must_have_a_file(tmp_path):
    files(tmp_path, "Pulumi.development.yaml", "Pulumi.staging.yaml")
    assert existing_stack("staging", tmp_path) == "staging"
    for asked in ("production", "../development", "development\nx=1", "", "Pulumi.development.yaml"):
        with pytest.raises(StackNameError, match="pick one of development, staging"):
            existing_stack(asked, tmp_path)


def test_a_long_request_is_shortened_in_the_message(tmp_path):
    files(tmp_path, "Pulumi.development.yaml")
    with pytest.raises(StackNameError) as raised:
        existing_stack("x" * 10_000, tmp_path)
    assert len(str(raised.value)) < 200
