"""core/image_ref.py: what a deploy-image request may ask for, and the image it becomes.

GIVEN an image_tag from outside (the application's CI, a person)
THEN  a git SHA, a release tag or a digest passes; anything else (a mutable tag, a path,
      shell, a newline, an expression, a short digest) is refused with what to pass instead;
      and the new image is the stack's repository, for every service of every stack file,
      with only the tag or digest replaced, in a form the stack settings accept.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.image_ref import DIGEST, TAG, ImageRefError, checked_tag, repository, with_tag
from core.settings.declarations import IMAGE
from tests.helpers import STACK_SERVICES, each_service, reads_config, stack_settings

DIGEST_EXAMPLE = "sha256:" + "0123456789abcdef" * 4
GOOD = [
    "5c68714",
    "455092505e82e04c8c9b95ed3e32e2fecb956948",
    "v1.2.3",
    "2025-10-07-5c68714",
    "fix_amd64",
    DIGEST_EXAMPLE,
]
BAD = {
    "latest": "mutable tag",
    "": "is empty",
    "-x": "is not a tag",
    ".hidden": "is not a tag",
    "hokusai/api:v1": "is not a tag",
    "v1 v2": "is not a tag",
    "v1\nv2": "is not a tag",
    "$(id)": "is not a tag",
    "${{ github.token }}": "is not a tag",
    "a" * 129: "is not a tag",
    "sha256:" + "a" * 63: "is not a digest",
    "sha256:" + "A" * 64: "is not a digest",
    "sha512:" + "a" * 128: "is not a tag",
}


def image_of(stack: str, service: str) -> str:
    return next(s.image for s in stack_settings(stack).services if s.key == service)


@pytest.mark.parametrize("tag", GOOD)
def test_a_sha_a_release_tag_or_a_digest_passes(tag):
    assert checked_tag(tag) == tag


@pytest.mark.parametrize(("tag", "problem"), BAD.items(), ids=lambda v: repr(v)[:20])
def test_anything_else_is_refused_saying_what_to_pass(tag, problem):
    with pytest.raises(ImageRefError) as raised:
        checked_tag(tag)
    assert problem in str(raised.value)
    assert "pass the git SHA or release tag" in str(raised.value)
    assert len(str(raised.value)) < 400


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        (
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/hokusai/api:2025-10-07",
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/hokusai/api",
        ),
        ("registry.local:5000/hokusai/api:v1", "registry.local:5000/hokusai/api"),
        ("hokusai/api@" + DIGEST_EXAMPLE, "hokusai/api"),
        ("registry.local:5000/api", "registry.local:5000/api"),
    ],
)
def test_the_repository_keeps_the_registry_and_its_port(image, expected):
    assert repository(image) == expected


@each_service
def test_every_services_image_keeps_its_repository_and_takes_the_new_tag(stack, service):
    current = image_of(stack, service)
    assert with_tag(current, "5c68714") == f"{repository(current)}:5c68714"
    assert with_tag(current, DIGEST_EXAMPLE) == f"{repository(current)}@{DIGEST_EXAMPLE}"


@reads_config
@given(
    tag=st.one_of(st.from_regex(TAG, fullmatch=True), st.from_regex(DIGEST, fullmatch=True)).filter(
        lambda t: t != "latest"
    ),
    pair=st.sampled_from(STACK_SERVICES),
)
def test_any_accepted_tag_gives_an_image_the_stack_accepts(tag, pair):
    new = with_tag(image_of(*pair), tag)
    assert IMAGE.match(new)
    assert repository(new) == repository(image_of(*pair))


@pytest.mark.parametrize("current", ["hokusai/api", "Hokusai/API:v1", ""])
def test_a_current_image_that_is_not_pinned_is_refused(current):
    with pytest.raises(ImageRefError, match="fix it in the stack file first"):
        with_tag(current, "v1")


def test_a_bad_tag_is_refused_even_with_a_good_current_image():
    with pytest.raises(ImageRefError, match="mutable tag"):
        with_tag("hokusai/api:v1", "latest")
