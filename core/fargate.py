"""The CPU/memory pairs Fargate accepts for a Linux task. Pure.

An invalid pair is only rejected by RegisterTaskDefinition, i.e. in the middle
of `pulumi up`; the settings loader checks it before anything is created.
Source: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size
"""

from __future__ import annotations


def _steps(start: int, stop: int, step: int) -> tuple[int, ...]:
    return tuple(range(start, stop + 1, step))


# cpu units -> memory MiB allowed with it
VALID_SIZES: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: _steps(1024, 4096, 1024),
    1024: _steps(2048, 8192, 1024),
    2048: _steps(4096, 16384, 1024),
    4096: _steps(8192, 30720, 1024),
    8192: _steps(16384, 61440, 4096),
    16384: _steps(32768, 122880, 8192),
}


def is_valid_size(cpu: int, memory: int) -> bool:
    return memory in VALID_SIZES.get(cpu, ())


def describe_valid_memory(cpu: int) -> str:
    allowed = VALID_SIZES.get(cpu)
    if not allowed:
        return "cpu must be one of " + ", ".join(str(c) for c in VALID_SIZES)
    if len(allowed) <= 3:
        return f"with cpu {cpu}, memory must be one of " + ", ".join(str(m) for m in allowed)
    step = allowed[1] - allowed[0]
    return f"with cpu {cpu}, memory must be {allowed[0]}..{allowed[-1]} in steps of {step}"
