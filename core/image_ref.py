"""A new image for a service: the stack's repository, the requested tag or digest. Pure, standard library only.

The deploy-image workflow takes `image_tag` from outside (the application's CI, a
person): a git SHA, a release tag, or a digest `sha256:<64 hex>`. It is checked
here against a strict pattern before it goes anywhere, and only the tag or
digest of the stack's current image is replaced: which repository a service
pulls from is the stack's business (and its execution role's ECR grant), never
the caller's.
"""

from __future__ import annotations

import re

from core.settings.declarations import IMAGE

# Docker's tag grammar (letters, digits, '_', '.', '-'; at most 128; not starting with '.' or '-'),
# which covers a git SHA and a release tag; nothing else (no '/', ':', '$', space or newline).
TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
# A mutable tag: a deploy would register no new task-definition revision, and the
# service would keep running whatever `latest` meant before (the settings refuse it too).
MUTABLE_TAGS = frozenset({"latest"})


class ImageRefError(Exception):
    """The requested tag, or the stack's current image, is not what a deploy can use."""


def checked_tag(requested: str) -> str:
    """`requested` if it is a tag (a git SHA, a release tag) or a digest `sha256:...`, else ImageRefError."""
    if DIGEST.fullmatch(requested):
        return requested
    if TAG.fullmatch(requested) and requested not in MUTABLE_TAGS:
        return requested
    shown = repr(requested) if len(requested) <= 80 else repr(requested[:77]) + "..."
    if requested in MUTABLE_TAGS:
        problem = "is a mutable tag: a deploy would register no new revision and keep running the old image"
    elif requested.startswith("sha256:"):
        problem = "is not a digest: sha256: must be followed by exactly 64 lower-case hex digits"
    elif requested == "":
        problem = "is empty"
    else:
        problem = "is not a tag: letters, digits, '_', '.' and '-' only, at most 128, not starting with '.' or '-'"
    raise ImageRefError(
        f"image_tag {shown} {problem}; pass the git SHA or release tag the image was pushed with, "
        "or its digest sha256:<64 hex>"
    )


def repository(image: str) -> str:
    """The image without its tag or digest: `<registry>/<name>` (a registry's `:port` is kept)."""
    without_digest = image.split("@", 1)[0]
    head, slash, last = without_digest.rpartition("/")
    return f"{head}{slash}{last.split(':', 1)[0]}"


def with_tag(current: str, tag: str) -> str:
    """The stack's `current` image with its tag or digest replaced by `tag` (already checked)."""
    if not IMAGE.match(current):
        raise ImageRefError(
            f"the stack's current image {current!r} is not a pinned image reference, so its repository "
            "cannot be taken from it: fix it in the stack file first (repo:tag or repo@sha256:...)"
        )
    separator = "@" if DIGEST.fullmatch(tag) else ":"
    return f"{repository(current)}{separator}{checked_tag(tag)}"
