"""`services.<service>.image`, `.cpu`, `.memory`: what one task runs, and how big it is."""

from __future__ import annotations

from collections.abc import Mapping

from core.fargate import describe_valid_memory, is_valid_size
from core.settings.exception_names import ServiceException
from core.settings.reader import Section

# What pins an image to one build whatever is pushed later (a tag can be pushed again).
DIGEST_MARK = "@sha256:"
# The exceptions that let a tag stand in for a digest: a development opt-out, or a repository
# with ECR tag immutability on (which the program cannot see offline: the stack vouches for it).
TAG_EXCUSES = (ServiceException.MUTABLE_IMAGE_TAG, ServiceException.IMMUTABLE_TAGS)


def read_image(service: Section, exceptions: Mapping[str, str]) -> str | None:
    """The image, refused when `latest`, and when pinned by tag unless an exception says why."""
    image: str | None = service.read("image")  # TEXT: text or None
    if image is None:
        return None
    if image.rsplit("/", 1)[-1].endswith(":latest"):
        service.reader.problem(
            service.path_of("image"),
            "uses the mutable tag 'latest'",
            "pin an immutable tag or digest: with 'latest' a deploy registers no new "
            "task-definition revision and the service keeps running the old image",
        )
    elif DIGEST_MARK not in image and not any(excuse.value in exceptions for excuse in TAG_EXCUSES):
        service.reader.problem(
            service.path_of("image"),
            f"{image!r} is pinned by a tag, which can be pushed again: the task would run whatever the tag "
            "points to when ECS pulls it",
            f"pin the digest (repo@sha256:..., `docker buildx imagetools inspect <image>` shows it); or declare "
            f"{service.path}.exceptions.{ServiceException.IMMUTABLE_TAGS} with the reason if the "
            f"ECR repository has tag immutability on, or .exceptions.{ServiceException.MUTABLE_IMAGE_TAG} with the "
            "reason for a development stack",
        )
    return image


def read_task_size(service: Section) -> tuple[int | None, int | None]:
    """(cpu, memory), each None when refused; an invalid pair is only known once both are read.
    The pair is checked before anything is created: RegisterTaskDefinition would refuse it mid-deploy."""
    cpu = service.read("cpu")
    memory = service.read("memory")
    if cpu is not None and memory is not None and not is_valid_size(cpu, memory):
        service.reader.problem(
            service.path_of("memory"),
            f"Fargate does not run a task with cpu {cpu} and memory {memory}",
            describe_valid_memory(cpu),
        )
    return cpu, memory
