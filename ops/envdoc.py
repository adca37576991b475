"""docs/ENVIRONMENT.md, generated from the contract (core/contract.py).

Every variable a service gets from the infrastructure (secret, plain or derived
by the program), where its value lives, which services need it and what breaks
without it; then the variables the infrastructure deliberately does not
provide, with their reasons. The contract is the only source, so the document
cannot disagree with the task definition, the execution-role grant or envcheck;
a test (tests/ops/test_envdoc.py) and `--check` fail when the committed file is
stale.

    python -m ops.envdoc            print the Markdown
    python -m ops.envdoc --write    write docs/ENVIRONMENT.md
    python -m ops.envdoc --check    exit 1 if docs/ENVIRONMENT.md is stale (for CI)

Pure generation (`render`) apart from the command line (`main`). The phrasing of
"where a value lives" is shared with envcheck, so both tools say the same thing.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from core import service_discovery, target_group
from core.contract import (
    CONTRACTS,
    DependencyAttribute,
    DependencyRequirement,
    DerivedFrom,
    SecretRequirement,
    ServiceContract,
    SettingRequirement,
)
from core.generated_doc import CannotCheck as DocCannotCheck
from core.generated_doc import GeneratedDoc
from core.settings import NAMESPACE
from core.stack_file import PROJECT_DIR
from ops.report import CannotCheck, Report, emit, fail, ok, run_tool

DOC_NAME = "docs/ENVIRONMENT.md"
DOC_PATH = PROJECT_DIR / DOC_NAME
REGENERATE = "python -m ops.envdoc --write"


# Shown where a secret's conventional name contains the stack (`{environment}`).
STACK_PLACEHOLDER = "<stack>"

SECRET = "secret"
PLAIN = "plain"
DERIVED = "derived"


# --------------------------------------------------------------------------- #
# Where a value lives (shared with envcheck)
# --------------------------------------------------------------------------- #


def secret_config_key(service: str, env_var: str) -> str:
    return f"{NAMESPACE}:services.{service}.secrets.{env_var}"


def setting_config_key(service: str, env_var: str) -> str:
    return f"{NAMESPACE}:services.{service}.environment.{env_var}"


def conventional_secret_name(requirement: SecretRequirement) -> str:
    return requirement.secret_name_for(STACK_PLACEHOLDER)


def derived_source(requirement: SettingRequirement, contract: ServiceContract) -> str:
    """What the program derives a setting from, in words (see SettingRequirement.derived_from)."""
    if requirement.derived_from is None:
        raise ValueError(f"{requirement.env_var} is a plain setting: the program derives it from nothing")
    sources = {
        DerivedFrom.ENVIRONMENT: "the stack name",
        DerivedFrom.CONTAINER_PORT: f"the contract's container port ({contract.container_port})",
        DerivedFrom.DISCOVERY_TTL: (
            f"the TTL of the services' Cloud Map records ({service_discovery.RECORD_TTL_SECONDS} s, "
            "core/service_discovery.py)"
        ),
        DerivedFrom.DEPENDENCY_CHECK_TIMEOUT: (
            f"the time one dependency check may take inside the target group's health check "
            f"({target_group.DEPENDENCY_CHECK_TIMEOUT_SECONDS} s, core/target_group.py)"
        ),
    }
    return sources[requirement.derived_from]


def dependency_source(requirement: DependencyRequirement, attribute: DependencyAttribute) -> str:
    """Where a dependency-derived setting comes from, in words: "dependency redis: host"."""
    return f"dependency {requirement.dependency}: {attribute.value}"


def dependency_config_key(dependency: str, attribute: DependencyAttribute) -> str:
    return f"{NAMESPACE}:dependencies.{dependency}.{attribute.value}"


def dependency_where(requirement: DependencyRequirement, attribute: DependencyAttribute) -> str:
    """The whole of where a dependency-derived setting's value lives (envdoc's column, envcheck's row)."""
    also = (
        f", or from the stack's own `{requirement.dependency}` service (its Cloud Map name and port)"
        if requirement.dependency in CONTRACTS
        else ""
    )
    return (
        f"derived from {dependency_source(requirement, attribute)}: stack config "
        f"`{dependency_config_key(requirement.dependency, attribute)}`{also}; not settable by hand"
    )


def setting_kind(requirement: SettingRequirement) -> str:
    return DERIVED if requirement.derived_from else PLAIN


# --------------------------------------------------------------------------- #
# The document
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class Need:
    """One service's need for one variable: a row of the document."""

    service: str
    kind: str
    where: str  # Markdown
    purpose: str  # what it is for, or what breaks without it


def needs_by_variable(contracts: Mapping[str, ServiceContract]) -> dict[str, list[Need]]:
    """Every provided variable -> the services that need it, sorted by name then service."""
    needs: dict[str, list[Need]] = {}
    for key in sorted(contracts):
        contract = contracts[key]
        for secret in contract.secrets:
            needs.setdefault(secret.env_var, []).append(
                Need(
                    service=key,
                    kind=SECRET,
                    where=(
                        f"Secrets Manager `{conventional_secret_name(secret)}` (by convention); the stack names "
                        f"it at `{secret_config_key(key, secret.env_var)}`; delivered through the task "
                        "definition's `secrets`"
                    ),
                    purpose=f"without it {secret.breaks}",
                )
            )
        for setting in contract.settings:
            if setting.derived_from:
                where = f"set by the program from {derived_source(setting, contract)}; not configurable"
            else:
                where = (
                    f"stack config `{setting_config_key(key, setting.env_var)}`; delivered through the "
                    "task definition's `environment`"
                )
            needs.setdefault(setting.env_var, []).append(
                Need(service=key, kind=setting_kind(setting), where=where, purpose=setting.purpose)
            )
        for dependency in contract.dependencies:
            for env_var, attribute in dependency.settings:
                needs.setdefault(env_var, []).append(
                    Need(
                        service=key,
                        kind=DERIVED,
                        where=dependency_where(dependency, attribute),
                        purpose=f"{attribute.value} of {dependency.dependency}: {dependency.purpose}",
                    )
                )
    return {name: needs[name] for name in sorted(needs)}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _anchor(env_var: str) -> str:
    # GitHub's heading anchor for "### `NAME`": lower case, backticks dropped.
    return env_var.lower()


def _kinds(needs: Sequence[Need]) -> str:
    return ", ".join(sorted({n.kind for n in needs}))


def render(contracts: Mapping[str, ServiceContract] | None = None) -> str:
    """The whole of docs/ENVIRONMENT.md. Deterministic: sorted, no timestamps."""
    contracts = CONTRACTS if contracts is None else contracts
    needs = needs_by_variable(contracts)
    lines = [
        "# Environment variables",
        "",
        f"<!-- Generated from core/contract.py by `{REGENERATE}`. Do not edit by hand. -->",
        "",
        "This file is generated from `core/contract.py`, the single declaration of what each service",
        f"needs. Do not edit it by hand: change the contract, then run `{REGENERATE}`.",
        "`python -m ops.envdoc --check` and `tests/ops/test_envdoc.py` fail when it is stale.",
        "",
        "How a value reaches a container:",
        "",
        f"- **{SECRET}**: the value lives in AWS Secrets Manager. Each stack names the secret at",
        f"  `{NAMESPACE}:services.<service>.secrets.<NAME>` (`existing:` to adopt it, `create:` to have the",
        "  program declare it); the task definition lists it in the container's `secrets` (`valueFrom` =",
        "  the secret's ARN, followed by `:<json_key>:<version_stage>:<version_id>` when the stack names a",
        "  JSON key or a version) and the execution role may read exactly those secrets (by ARN). The value",
        "  is never in code, stack config or the task definition.",
        f"- **{PLAIN}**: the value is in the stack config, `{NAMESPACE}:services.<service>.environment.<NAME>` in",
        "  `Pulumi.<stack>.yaml`, and reaches the container through the task definition's `environment`.",
        "  A stack may set further plain settings there; the ones below are required.",
        f"- **{DERIVED}**: the program sets the value from the stack itself, so it cannot disagree with the",
        "  infrastructure; the stack config may not set it. Most are derived from a dependency: what the",
        f"  service reaches is declared once under `{NAMESPACE}:dependencies.<name>` (or is another service of",
        "  the stack), and the same declaration gives the security-group rule that lets the service reach it.",
        "",
        "Check an application against this list:",
        "`python -m ops.envcheck path/to/.env.example --service <service> --stack <stack>`.",
        "",
        "## Services",
        "",
        "| service | container | port | what it is |",
        "| --- | --- | --- | --- |",
    ]
    for key in sorted(contracts):
        contract = contracts[key]
        lines.append(
            f"| `{key}` | `{contract.container_name}` | {contract.container_port} | {_cell(contract.description)} |"
        )
    lines += [
        "",
        "## Summary",
        "",
        "| variable | kind | needed by |",
        "| --- | --- | --- |",
    ]
    for name, rows in needs.items():
        services = ", ".join(f"`{n.service}`" for n in rows)
        lines.append(f"| [`{name}`](#{_anchor(name)}) | {_kinds(rows)} | {services} |")
    lines += ["", "## Variables"]
    for name, rows in needs.items():
        lines += [
            "",
            f"### `{name}`",
            "",
            "| service | kind | where its value lives | purpose / what breaks without it |",
            "| --- | --- | --- | --- |",
        ]
        for need in rows:
            lines.append(f"| `{need.service}` | {need.kind} | {_cell(need.where)} | {_cell(need.purpose)} |")
    lines += [
        "",
        "## Not provided by the infrastructure",
        "",
        "The applications' `.env.example` files list these, but the deployed service deliberately does",
        "not get them from the infrastructure (a reviewed list: `not_provided` in `core/contract.py`).",
        "Any other variable an application expects must be in the contract, or envcheck fails.",
        "",
    ]
    not_provided = sorted(
        (entry.env_var, key, entry.reason) for key, contract in contracts.items() for entry in contract.not_provided
    )
    if not_provided:
        lines += ["| variable | service | reason |", "| --- | --- | --- |"]
        lines += [f"| `{name}` | `{key}` | {_cell(reason)} |" for name, key, reason in not_provided]
    else:
        lines.append("None.")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- #
# Command line
# --------------------------------------------------------------------------- #


DOC = GeneratedDoc(name=DOC_NAME, path=DOC_PATH, source="core/contract.py", regenerate=REGENERATE, render=render)


def check_fresh(path: Path, expected: str) -> Report:
    """One-row report: does the committed file equal what the contract generates?"""
    report = Report(title=f"envdoc: {DOC_NAME}")
    try:
        state = DOC.staleness(path, expected)
    except DocCannotCheck as error:
        raise CannotCheck(str(error)) from None
    fix = f"{REGENERATE} and commit the file"
    if state.missing:
        report.extend([fail("docs.fresh", DOC_NAME, f"{path} does not exist", fix)])
    elif state.fresh:
        report.extend([ok("docs.fresh", DOC_NAME, "matches core/contract.py")])
    else:
        finding = f"is stale: {state.changed_lines} lines differ from what core/contract.py generates"
        report.extend([fail("docs.fresh", DOC_NAME, finding, fix)])
        report.notes.extend(state.shown_diff())
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.envdoc", description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help=f"write {DOC_NAME}")
    mode.add_argument("--check", action="store_true", help=f"exit 1 if {DOC_NAME} is stale")
    parser.add_argument("--file", type=Path, default=DOC_PATH, help=f"the document (default: {DOC_NAME})")
    parser.add_argument("--json", action="store_true", help="with --check: print the report as JSON")
    args = parser.parse_args(argv)

    def run() -> int:
        text = render()
        if args.check:
            return emit(check_fresh(args.file, text), as_json=args.json)
        if args.write:
            try:
                DOC.write(args.file, text)
            except DocCannotCheck as error:
                raise CannotCheck(str(error)) from None
            print(f"wrote {args.file}", file=sys.stderr)
            return 0
        sys.stdout.write(text)
        return 0

    return run_tool(run)


if __name__ == "__main__":
    sys.exit(main())
