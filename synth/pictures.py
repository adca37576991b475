"""From a render to a picture: the plumbing between the recording mocks and core/architecture.py.

A picture is drawn from the `estate` output and the resources' inputs, which a render
in memory (synth/program.py) and a render written to JSON (synth/render.py's
build/<stack>.json, or the one a base commit writes) both have.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.architecture import Architecture, architecture
from core.resource_graph import Record
from synth.program import PROJECT_DIR, Run, run_stack


def stack_names() -> list[str]:
    """Every stack with a file here (`Pulumi.<stack>.yaml`), sorted."""
    return sorted(path.name.split(".")[1] for path in PROJECT_DIR.glob("Pulumi.*.yaml"))


def picture_of_run(stack: str, run: Run) -> Architecture:
    return architecture(stack, run.outputs, [Record(r.type, r.name, r.inputs) for r in run.resources])


def picture_of_document(document: Mapping[str, Any]) -> Architecture:
    """The picture of a rendering as synth/render.py writes it (`stack`, `outputs.estate`, `resources`)."""
    estate = (document.get("outputs") or {}).get("estate") or {}
    records = [
        Record(str(r.get("type")), str(r.get("name")), r.get("inputs") or {})
        for r in document.get("resources") or ()
        if isinstance(r, Mapping)
    ]
    return architecture(str(document.get("stack")), estate, records)


def picture_of_stack(stack: str) -> Architecture:
    """The stack as its file configures it, rendered under the mocks."""
    return picture_of_run(stack, run_stack(stack))
