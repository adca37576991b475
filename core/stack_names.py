"""Which stacks this project has: one `Pulumi.<stack>.yaml` each. Pure, standard library only.

CI runs the same pipeline for every stack file (the matrices of the pull-request,
deploy and drift workflows come from `python3 -m ops.stack_matrix`), and a
dispatched workflow names one stack: both are held to the files here. Standard
library only, because the job that lists the stacks runs before anything is
installed.
"""

from __future__ import annotations

from pathlib import Path

from core.settings.identity import STACK_NAME

PROJECT_DIR = Path(__file__).resolve().parent.parent
PROJECT_FILE = "Pulumi.yaml"  # the project itself, not a stack


class StackNameError(Exception):
    """A stack that does not exist, or a stack file whose name no stack can have."""


def stack_names(project_dir: Path = PROJECT_DIR) -> tuple[str, ...]:
    """Every stack with a `Pulumi.<stack>.yaml` in `project_dir`, sorted.

    A file whose stack name the program would refuse (core/settings/identity.py: it goes
    into every AWS name) is an error here too, so CI never starts a pipeline for it.
    """
    names = []
    for path in sorted(project_dir.glob("Pulumi.*.yaml")):
        if path.name == PROJECT_FILE:
            continue
        name = path.name.removeprefix("Pulumi.").removesuffix(".yaml")
        if not STACK_NAME.match(name):
            raise StackNameError(
                f"{path.name}: {name!r} cannot be a stack name here (it goes into every AWS name): "
                "rename the file to Pulumi.<lower-case letters, digits and dashes, at most 24>.yaml"
            )
        names.append(name)
    if not names:
        raise StackNameError(f"no Pulumi.<stack>.yaml in {project_dir}: create one with `pulumi stack init <stack>`")
    return tuple(names)


def existing_stack(requested: str, project_dir: Path = PROJECT_DIR) -> str:
    """`requested` if it is one of the stacks, else a StackNameError listing them."""
    known = stack_names(project_dir)
    if requested in known:
        return requested
    shown = requested if len(requested) <= 60 else requested[:57] + "..."
    raise StackNameError(f"{shown!r} is not a stack of this project: pick one of {', '.join(known)}")
