"""What is wrong with a stack's configuration: one Problem per key, all of them in one SettingsError."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    key: str  # config key path, e.g. "hokusai:services.api.cpu"
    what: str
    fix: str

    def __str__(self) -> str:
        return f"{self.key}: {self.what}\n      fix: {self.fix}"


class SettingsError(Exception):
    def __init__(self, stack: str, problems: Iterable[Problem]):
        self.stack = stack
        self.problems = tuple(problems)
        super().__init__(str(self))

    def __str__(self) -> str:
        count = len(self.problems)
        head = f"stack '{self.stack}' has {count} configuration problem{'s' if count != 1 else ''}:"
        return "\n".join([head] + [f"  - {p}" for p in self.problems])
