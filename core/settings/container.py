"""`services.<service>.image`, `.cpu`, `.memory`: what one task runs, and how big it is."""

from __future__ import annotations

from core.fargate import describe_valid_memory, is_valid_size
from core.settings.reader import Section


def read_image(service: Section) -> str | None:
    image: str | None = service.read("image")  # TEXT: text or None
    if image is not None and image.rsplit("/", 1)[-1].endswith(":latest"):
        service.reader.problem(
            service.path_of("image"),
            "uses the mutable tag 'latest'",
            "pin an immutable tag or digest: with 'latest' a deploy registers no new "
            "task-definition revision and the service keeps running the old image",
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
