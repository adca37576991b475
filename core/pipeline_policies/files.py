"""docs/policies/: the pipeline policies of every stack file, as committed JSON. Pure
(apart from the command line, `main`).

    python -m core.pipeline_policies --stack development --role deployer --part 1   print one policy
    python -m core.pipeline_policies --write     write docs/policies/ for every Pulumi.<stack>.yaml
    python -m core.pipeline_policies --check     exit 1 if a file there is stale, missing or left over

`--role verify` prints docs/verify-policy.json (verify's reads, the same for every stack).
`--state-bucket` and `--secrets-key-alias` render for another state backend
(core/pipeline_policies/scope.py StateBackend; the committed files use its defaults).

Exit codes, as the other tools: 0 ok (or written), 1 stale, 2 could not render, read or write.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from core.generated_doc import EXIT_CANNOT_CHECK, EXIT_OK, EXIT_STALE, CannotCheck, GeneratedDoc
from core.pipeline_policies import ROLES, ManagedPolicy, StateBackend, pipeline_policies, policies_for
from core.settings import Settings, SettingsError, load_settings
from core.stack_file import PROJECT_DIR, StackFileError, read_stack_file, settings_input
from core.text_file import TextFileError, read_text

POLICIES_DIR = PROJECT_DIR / "docs" / "policies"
VERIFY_POLICY = PROJECT_DIR / "docs" / "verify-policy.json"
REGENERATE = "python -m core.pipeline_policies --write (make policies)"
VERIFY = "verify"


class CannotRender(Exception):
    """A stack that cannot be read or is invalid: exit 2 with the reason, never a traceback."""


def stacks(project_dir: Path = PROJECT_DIR) -> tuple[str, ...]:
    """Every stack with a `Pulumi.<stack>.yaml` (Pulumi.yaml is the project, not a stack)."""
    return tuple(
        sorted(
            path.name.removeprefix("Pulumi.").removesuffix(".yaml")
            for path in project_dir.glob("Pulumi.*.yaml")
            if path.name != "Pulumi.yaml"
        )
    )


def stack_settings(stack: str, project_dir: Path = PROJECT_DIR) -> Settings:
    try:
        values, secret_keys = read_stack_file(stack, project_dir)
        return load_settings(**settings_input(values, secret_keys), stack=stack)
    except (StackFileError, SettingsError) as error:
        raise CannotRender(f"stack {stack}: {error}") from None


def text(policy: ManagedPolicy) -> str:
    return json.dumps(policy.document, indent=2) + "\n"


def expected(
    project_dir: Path = PROJECT_DIR, directory: Path = POLICIES_DIR, backend: StateBackend | None = None
) -> dict[Path, str]:
    """Every file docs/policies/ should hold, with its content."""
    return {
        directory / f"{policy.name}.json": text(policy)
        for stack in stacks(project_dir)
        for policy in pipeline_policies(stack_settings(stack, project_dir), backend)
    }


def _doc(path: Path, content: str) -> GeneratedDoc:
    name = f"docs/policies/{path.name}"
    return GeneratedDoc(name=name, path=path, source="the stack files", regenerate=REGENERATE, render=lambda: content)


def check(files: dict[Path, str], directory: Path = POLICIES_DIR) -> tuple[int, list[str]]:
    """(exit code, lines): is each file what its stack generates, and is nothing else there?"""
    worst, lines = EXIT_OK, []
    for path, content in sorted(files.items()):
        code, said = _doc(path, content).check(path, content)
        worst = max(worst, code)
        if code != EXIT_OK:
            lines += said
    left_over = sorted(p for p in directory.glob("*.json") if p not in files) if directory.is_dir() else []
    for path in left_over:
        worst = EXIT_STALE
        lines += [f"docs/policies/{path.name}: no stack generates it any more", f"  fix: {REGENERATE}"]
    if worst == EXIT_OK:
        lines.append(f"docs/policies/: {len(files)} policies, up to date with the stack files")
    return worst, lines


def write(files: dict[Path, str], directory: Path = POLICIES_DIR) -> list[str]:
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CannotCheck(f"cannot create {directory}: {error.strerror or error}") from None
    for path, content in sorted(files.items()):
        _doc(path, content).write(path, content)
    removed = sorted(p for p in directory.glob("*.json") if p not in files)
    for path in removed:
        try:
            path.unlink()
        except OSError as error:
            raise CannotCheck(f"cannot remove {path}: {error.strerror or error}") from None
    return [
        f"wrote {len(files)} policies to {directory}",
        *(f"removed {p.name} (no stack generates it)" for p in removed),
    ]


def one(stack: str, role: str, part: int | None, backend: StateBackend) -> str:
    """The text of one policy: `part` may be left out when the role has only one."""
    if role == VERIFY:
        try:
            return read_text(VERIFY_POLICY, limit=1024 * 1024, what="docs/verify-policy.json")
        except TextFileError as error:
            raise CannotRender(str(error)) from None
    policies = policies_for(stack_settings(stack), role, backend)
    if part is None and len(policies) == 1:
        return text(policies[0])
    if part is None or not 1 <= part <= len(policies):
        names = ", ".join(p.name for p in policies)
        raise CannotRender(
            f"the {role} policy of stack {stack} is {len(policies)} managed policies ({names}): "
            f"pass --part 1 to --part {len(policies)}, or --write to write them all to docs/policies/"
        )
    return text(policies[part - 1])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m core.pipeline_policies", description="The pipeline's IAM policies, per stack (docs/policies/)."
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="write docs/policies/ for every stack file")
    mode.add_argument("--check", action="store_true", help="exit 1 if docs/policies/ is stale")
    parser.add_argument("--stack", help="print one policy of this stack (with --role)")
    parser.add_argument("--role", choices=[*ROLES, VERIFY], help="which policy to print")
    parser.add_argument("--part", type=int, help="which of the role's managed policies (1, 2, ...)")
    parser.add_argument("--dir", type=Path, default=POLICIES_DIR, help="where the files are (default: docs/policies)")
    defaults = StateBackend()
    parser.add_argument("--state-bucket", default=defaults.bucket, help=f"the Pulumi state bucket ({defaults.bucket})")
    parser.add_argument(
        "--secrets-key-alias",
        default=defaults.secrets_key_alias,
        help=f"the secrets provider's KMS key alias ({defaults.secrets_key_alias})",
    )
    args = parser.parse_args(argv)
    backend = StateBackend(bucket=args.state_bucket, secrets_key_alias=args.secrets_key_alias)
    printing = args.stack is not None or args.role is not None
    if printing and (args.write or args.check):
        parser.error("--stack/--role print one policy; --write and --check work on docs/policies/ as a whole")
    if not printing and not (args.write or args.check):
        parser.error("give --stack and --role to print a policy, or --write, or --check")
    if printing and (args.stack is None or args.role is None):
        parser.error("printing a policy needs both --stack and --role")
    if (args.write or args.check) and backend != defaults:
        parser.error(
            "docs/policies/ holds the policies for the default state backend: print others with --stack/--role"
        )
    try:
        if printing:
            sys.stdout.write(one(args.stack, args.role, args.part, backend))
            return EXIT_OK
        files = expected(directory=args.dir)
        if args.write:
            print("\n".join(write(files, args.dir)), file=sys.stderr)
            return EXIT_OK
        code, lines = check(files, args.dir)
        print("\n".join(lines))
        return code
    except (CannotRender, CannotCheck) as error:
        print(f"pipeline policies: cannot {'check' if args.check else 'render'}: {error}", file=sys.stderr)
        return EXIT_CANNOT_CHECK
