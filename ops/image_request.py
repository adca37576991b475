"""A request to run another image: checked, turned into the stack's new image, written to its file.

    python3 -m ops.image_request --check --stack S --service SVC --image-tag T
    python  -m ops.image_request         --stack S --service SVC --image-tag T [--write]

The deploy-image workflow's input comes from outside (the application's CI, or a
person): `stack`, `service` and `image_tag` are untrusted until this says otherwise.

  --check   the request's shape: a stack with a Pulumi.<stack>.yaml, a service the
            contract knows, a tag or digest (core/image_ref.py). Standard library only,
            for the job that validates the request before anything is installed or any
            credential exists. Prints `stack=`, `service=` and `image_tag=` lines, the
            form $GITHUB_OUTPUT takes, only once all three are valid.
  (default) also reads the stack: the service must be declared there with an image;
            prints the new image: the stack's repository with the requested tag or digest.
  --write   and writes it into Pulumi.<stack>.yaml, changing that one value only
            (core/stack_file_edit.py says why not `pulumi config set`).

Exit 0 with the result on stdout; 2 with what is wrong and how to fix it on stderr.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.contract import CONTRACTS
from core.image_ref import ImageRefError, checked_tag, with_tag
from core.stack_names import PROJECT_DIR, StackNameError, existing_stack

EXIT_CANNOT = 2


class RequestError(Exception):
    pass


def checked_request(stack: str, service: str, image_tag: str, project_dir: Path = PROJECT_DIR) -> tuple[str, str, str]:
    """The request, if its shape is valid: every problem at once, else RequestError."""
    problems = []
    try:
        existing_stack(stack, project_dir)
    except StackNameError as error:
        problems.append(f"stack: {error}")
    if service not in CONTRACTS:
        shown = repr(service) if len(service) <= 60 else repr(service[:57]) + "..."
        problems.append(f"service: {shown} is not a service the contract knows: pick one of {', '.join(CONTRACTS)}")
    try:
        checked_tag(image_tag)
    except ImageRefError as error:
        problems.append(str(error))
    if problems:
        raise RequestError("\n".join(problems))
    return stack, service, image_tag


def new_image(stack: str, service: str, image_tag: str, project_dir: Path = PROJECT_DIR) -> str:
    """The stack's current image of `service` with `image_tag` in place of its tag or digest."""
    # Imported here: --check runs before anything (PyYAML included) is installed.
    from core.stack_file import StackFileError, read_stack_file

    checked_request(stack, service, image_tag, project_dir)
    try:
        values, _ = read_stack_file(stack, project_dir)
    except StackFileError as error:
        raise RequestError(str(error)) from None
    services = values.get("hokusai:services")
    declared = services.get(service) if isinstance(services, dict) else None
    if not isinstance(declared, dict):
        raise RequestError(
            f"service: the stack '{stack}' does not run '{service}' (Pulumi.{stack}.yaml has no "
            f"hokusai:services.{service}): add the service to the stack in a pull request first"
        )
    current = declared.get("image")
    if not isinstance(current, str):
        raise RequestError(
            f"hokusai:services.{service}.image is not set in Pulumi.{stack}.yaml: set the service's image "
            "(its repository and a first tag) in a pull request first"
        )
    try:
        return with_tag(current, image_tag)
    except ImageRefError as error:
        raise RequestError(str(error)) from None


def write_image(stack: str, service: str, image: str, project_dir: Path = PROJECT_DIR) -> None:
    from core.stack_file import stack_file_path
    from core.stack_file_edit import StackFileEditError, with_value

    path = stack_file_path(stack, project_dir)
    try:
        edited = with_value(path.read_text(encoding="utf-8"), ("config", "hokusai:services", service, "image"), image)
    except StackFileEditError as error:
        raise RequestError(f"{path.name}: {error}") from None
    path.write_text(edited, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.image_request", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", required=True, help="the stack to deploy to, e.g. development")
    parser.add_argument("--service", required=True, help=f"the service: one of {', '.join(CONTRACTS)}")
    parser.add_argument("--image-tag", required=True, help="a git SHA, a release tag, or a digest sha256:<64 hex>")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="the request's shape only (standard library)")
    mode.add_argument("--write", action="store_true", help="write the new image into Pulumi.<stack>.yaml")
    args = parser.parse_args(argv)
    try:
        if args.check:
            stack, service, image_tag = checked_request(args.stack, args.service, args.image_tag)
            print(f"stack={stack}\nservice={service}\nimage_tag={image_tag}")
            return 0
        image = new_image(args.stack, args.service, args.image_tag)
        if args.write:
            write_image(args.stack, args.service, image)
    except RequestError as error:
        print(f"image_request: the request is refused, nothing was changed:\n{error}", file=sys.stderr)
        return EXIT_CANNOT
    print(image)
    return 0


if __name__ == "__main__":
    sys.exit(main())
