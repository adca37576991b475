"""core/stack_file_edit.py: the deploy-image commit changes one value and nothing else.

GIVEN every stack file, and small files with each quoting style
WHEN  one service's image is replaced
THEN  the text differs in that value only (comments, order and quoting kept), the file
      reads back to the same config with that value changed, and the settings loader
      accepts it; a path that is not there or not text is refused; and an edit that
      would change anything else is caught, not written.
"""

from __future__ import annotations

import pytest

from core import stack_file_edit
from core.stack_file import read_stack_file
from core.stack_file_edit import StackFileEditError, with_value
from tests.helpers import PROJECT_DIR, each_service, load

NEW_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/hokusai/new:5c68714"


def image_path(service: str) -> tuple[str, ...]:
    return ("config", "hokusai:services", service, "image")


@each_service
def test_only_the_image_changes_and_the_stack_still_loads(stack, service, tmp_path):
    original = (PROJECT_DIR / f"Pulumi.{stack}.yaml").read_text()
    before, secrets = read_stack_file(stack)
    old_image = before["hokusai:services"][service]["image"]
    edited = with_value(original, image_path(service), NEW_IMAGE)
    old_lines, new_lines = original.splitlines(keepends=True), edited.splitlines(keepends=True)
    differing = [i for i, (a, b) in enumerate(zip(old_lines, new_lines, strict=True)) if a != b]
    assert len(differing) == 1, differing
    assert new_lines[differing[0]] == old_lines[differing[0]].replace(old_image, NEW_IMAGE)
    (tmp_path / f"Pulumi.{stack}.yaml").write_text(edited)
    after, _ = read_stack_file(stack, tmp_path)
    assert after["hokusai:services"][service]["image"] == NEW_IMAGE
    after["hokusai:services"][service]["image"] = before["hokusai:services"][service]["image"]
    assert after == before
    edited_values, _ = read_stack_file(stack, tmp_path)
    settings = load(edited_values, stack=stack, secret_keys=secrets)
    assert next(s.image for s in settings.services if s.key == service) == NEW_IMAGE


SMALL = """\
# a comment that must stay
config:
  aws:region: us-east-1   # and this one
  hokusai:services:
    api:
      image: {image}
      cpu: 512
"""


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("hokusai/api:v1", f"image: {NEW_IMAGE}\n"),
        ("'hokusai/api:v1'", f"image: '{NEW_IMAGE}'\n"),
        ('"hokusai/api:v1"', f'image: "{NEW_IMAGE}"\n'),
    ],
    ids=["plain", "single", "double"],
)
def test_the_quoting_style_and_everything_around_it_is_kept(written, expected):
    text = SMALL.format(image=written)
    edited = with_value(text, image_path("api"), NEW_IMAGE)
    assert edited == text.replace(f"image: {written}\n", expected)


@pytest.mark.parametrize("value", ["123", "true", "a: b", "#x", "null", "it's"])
def test_a_value_that_would_not_read_back_as_text_is_quoted(value):
    edited = with_value(SMALL.format(image="hokusai/api:v1"), image_path("api"), value)
    assert read_back(edited)["config"]["hokusai:services"]["api"]["image"] == value


def read_back(text: str):
    from core import safe_yaml

    return safe_yaml.load(text)


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        (image_path("mlflow"), "config.hokusai:services.mlflow is not in the stack file"),
        (("config", "hokusai:services", "api", "cpu"), "is not a text value"),
        (("config", "hokusai:services", "api"), "is not a text value"),
        (("config", "aws:region", "x"), "config.aws:region is not a mapping"),
    ],
)
def test_a_value_that_is_not_there_or_not_text_is_refused(path, problem):
    with pytest.raises(StackFileEditError, match=problem.replace(".", r"\.")):
        with_value(SMALL.format(image="hokusai/api:v1"), path, NEW_IMAGE)


def test_a_file_that_does_not_read_is_refused():
    with pytest.raises(StackFileEditError, match="cannot be read"):
        with_value("config: {a: &x 1, b: *x}\n", ("config", "a"), "v")


@pytest.mark.parametrize(
    ("spill", "caught"),
    [
        ("\n      memory: 4096", "would change more than that value"),  # the image is right, a key is added
        ("\n      cpu: 4096", "would not read back"),  # a duplicate key
    ],
)
def test_an_edit_that_would_change_anything_else_is_caught(monkeypatch, spill, caught):
    # A rendering that spills into the lines after the value: the read-back check refuses it.
    monkeypatch.setattr(stack_file_edit, "_render", lambda value, style: value + spill)
    with pytest.raises(StackFileEditError, match=caught):
        with_value(SMALL.format(image="hokusai/api:v1"), image_path("api"), NEW_IMAGE)
