"""`services.<service>.exceptions` and `load_balancer.exceptions`: a secure default relaxed
on purpose, each with the reason it is relaxed.

Every workload default (a read-only root filesystem, a non-root user, ECS Exec off, images
pinned by digest, a TLS policy from the allow-list) holds unless the stack names it here
with a reason: `exceptions: {run_as_root: "the images set no USER yet (docs/ESTATE.md)"}`.
One shape for every default, so a relaxed default is always a line someone wrote and
explained: the reason is refused when missing or blank, shown as a warning at every preview,
printed by `make synth`, and carried in the `estate` output where the invariants
(core/invariants.py) and the policy pack read it.
"""

from __future__ import annotations

from typing import Any

from core.settings.declarations import declared
from core.settings.reader import Reader, kind_of


def read_exceptions(reader: Reader, key: str, raw: Any, path: str) -> tuple[tuple[str, str], ...] | None:
    """The exceptions at `path` (declared as `key`), sorted: (name, reason). None after a problem.
    The names and what a reason must be are the declaration's (declarations.py), so the docs
    say exactly what is checked."""
    setting = declared(key)
    values = reader.read(setting, raw, path)
    if values is None:
        return None
    result: dict[str, str] = {}
    ok = True
    for name, reason in values.items():
        where = f"{path}.{name}"
        if not setting.accepts_name(name):
            reader.problem(where, "is not a default that can be relaxed", f"use {setting.names_shape}")
            ok = False
        elif not isinstance(reason, str) or not setting.matches(reason):
            got = "a blank or over-long reason" if isinstance(reason, str) else kind_of(reason)
            reader.problem(
                where,
                f"needs the reason the default is relaxed, got {got}",
                f'write the reason as its value, e.g. {name}: "<why, and until when>" ({setting.shape})',
            )
            ok = False
        else:
            result[name] = reason.strip()
    return tuple(sorted(result.items())) if ok else None
