"""The secure defaults a stack may relax, by name, and what a reason must look like.

Declared apart from their reader (core/settings/exceptions.py) so declarations.py can name
them in the docs and in its checks without importing a reader.
"""

from __future__ import annotations

import re
from enum import StrEnum


class ServiceException(StrEnum):
    """A service default a stack may relax; the value is its key under `exceptions`."""

    # The container runs as the image's own user (root, for the live images) instead of `user`.
    RUN_AS_ROOT = "run_as_root"
    # The container may write anywhere, not only to its contract's writable paths.
    WRITABLE_ROOT_FILESYSTEM = "writable_root_filesystem"
    # ECS Exec (`aws ecs execute-command`): a shell in the running task, and the task role's grant for it.
    ECS_EXEC = "ecs_exec"
    # The image may be pinned by a tag, which can be pushed again: a development opt-out.
    MUTABLE_IMAGE_TAG = "mutable_image_tag"
    # The image's ECR repository has tag immutability on, so its tag is as good as a digest.
    # The program cannot see that offline: the stack vouches for it, with the reason.
    IMMUTABLE_TAGS = "immutable_tags"


class LoadBalancerException(StrEnum):
    """A load-balancer default a stack may relax (`load_balancer.exceptions`)."""

    # The HTTPS listener's TLS policy is not on the allow-list (core/tls_policies.py).
    TLS_POLICY_NOT_ALLOWED = "tls_policy_not_allowed"


# A reason says something: at least one character that is not white space.
REASON = re.compile(r"(?s)^\s*\S.{0,499}\Z")
REASON_SHAPE = "a reason: why the default does not hold here, and until when (1-500 characters)"
