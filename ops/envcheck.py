"""envcheck: does the infrastructure give a service what its application expects?

Compares an application's `.env.example` with the service's contract
(core/contract.py) and, with `--stack`, with what that stack's config gives
the service. The incident this project exists for was a variable the
application read (HUGGINGFACE_API_KEY) that the deployed task never got; this
check finds that before a deploy does.

    python -m ops.envcheck PATH/.env.example [--service api] [--stack development] [--json]

How `.env.example` is read:
  - `NAME=value` lines (with `export `, quotes or an inline `# comment`) are
    variables the application expects;
  - `# NAME=value` lines are documented but optional (the application has a
    default): reported as a warning at most, never a failure.

Gaps (exit 1):
  - the application expects NAME, the infrastructure provides it neither as a
    secret nor as a plain setting, and the contract's `not_provided` does not
    list it with a reason;
  - the contract provides NAME but `.env.example` does not mention it (a warning instead when the
    contract's `undocumented_reads` names the line of the application that reads it: then the
    application's documentation is what lags);
  - a credential-like NAME (`looks_secret`) is provided as a plain setting;
  - a NAME whose example value is shaped like a credential (core/secret_values.py: a URL with
    a password, a known token prefix, a JWT, a PEM private key, a long random string) is
    provided as a plain setting: the application expects a credential in it, and a plain
    setting would put that credential where anyone who may describe the task definition reads
    it. The value is never printed.

The stack's own plain values need no such check here: settings validation (core/settings)
refuses a credential-shaped one before envcheck compares anything (exit 2, naming the key).

Exit codes are ops/report.py's: 0 no gap, 1 gap, 2 cannot check.

Pure logic (`parse_env_example`, `provided_by_contract`, `provided_by_stack`,
`compare`) apart from the command line. The stack file is read with
core/stack_file.py (PyYAML): live tools never import the Pulumi program.
"""

from __future__ import annotations

import argparse
import io
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dotenv.parser import parse_stream

from core.contract import CONTRACTS, ServiceContract, looks_secret
from core.secret_values import credential_in
from core.settings import NAMESPACE, ServiceSettings, SettingsError, load_settings
from core.stack_file import PROJECT_DIR, StackFileError, read_stack_file, settings_input
from core.text_file import ByteOrderMark, TextFileError, read_text
from ops.envdoc import (
    DERIVED,
    PLAIN,
    SECRET,
    conventional_secret_name,
    dependency_config_key,
    dependency_source,
    derived_source,
    secret_config_key,
    setting_config_key,
)
from ops.report import CannotCheck, Report, Result, Status, emit, fail, ok, run_tool, warn

# `# NAME=value`, `#NAME=`, `# export NAME=value`: a documented, optional variable.
# Prose comments ("# Set DEBUG=true to ...") do not match: the name must come first.
_COMMENTED_ASSIGNMENT = re.compile(r"^\s*#+\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=")
# A real .env.example is a few KiB; a file over this is not one. (python-dotenv reads 10 000
# to 30 000 lines a second, so this also bounds the time: about a second at worst.)
ENV_EXAMPLE_LIMIT = 64 * 1024
# python-dotenv strips an inline comment from an unquoted value with re.sub(r"\s+#.*", ...),
# which takes time quadratic in the length of a run of whitespace: each start in the run
# scans to its end. 200 KiB of blanks in one value (or of form feeds, which splitlines()
# counts as lines) took minutes. Runs are cut to WHITESPACE_RUN before dotenv sees the text:
# only names are read here, and how a line splits into name, `=`, value and comment depends
# on whether there is whitespace, never on how much (a quoted 'name' with a longer run would
# lose the rest of it, which no real name has).
WHITESPACE_RUN = 64
_LONG_WHITESPACE = re.compile(rf"[^\S\r\n]{{{WHITESPACE_RUN + 1},}}")


# --------------------------------------------------------------------------- #
# What the application expects
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class EnvExample:
    # `NAME=value` lines: the application expects them.
    active: frozenset[str]
    # `# NAME=value` lines whose name is not also active: documented, optional.
    commented: frozenset[str]
    # Statements the parser could not read (a typo there could hide a variable).
    unparsed: tuple[str, ...] = ()
    # Active names whose example value is shaped like a credential -> what it looks like.
    # Only the kind is kept: the value itself is never needed, so never held or printed.
    credential_shaped: Mapping[str, str] = field(default_factory=dict)

    @property
    def mentioned(self) -> frozenset[str]:
        return self.active | self.commented


# Unreadable statements reported one row each; past this, one row says how many more.
UNPARSED_SHOWN = 20


def parse_env_example(text: str) -> EnvExample:
    """The variables a `.env.example` sets and the ones it documents in comments.

    Active lines are parsed by python-dotenv, the parser the application itself
    loads `.env` with, so quoting, `export`, inline comments and multi-line
    values mean here what they mean there. dotenv skips comments, so commented
    assignments are found line by line.
    """
    text = _LONG_WHITESPACE.sub(lambda run: run.group()[:WHITESPACE_RUN], text)
    # parse_stream is what dotenv_values runs (its keys are dotenv_values' names; with
    # interpolate=False nothing else happens to them). Used directly because dotenv
    # reports a statement it cannot read only as a log warning: a logging round trip
    # per bad line, and a handler to swap in and out to turn them into report rows.
    active: dict[str, None] = {}
    unparsed: list[str] = []
    shaped: dict[str, str] = {}
    for binding in parse_stream(io.StringIO(text)):
        if binding.error:
            unparsed.append(f"python-dotenv could not parse statement starting at line {binding.original.line}")
        elif binding.key is not None:
            active[binding.key] = None
            # The last assignment wins, as in dotenv: a later plain value clears an earlier shape.
            kind = credential_in(binding.value) if binding.value else None
            if kind is None:
                shaped.pop(binding.key, None)
            else:
                shaped[binding.key] = kind
    if len(unparsed) > UNPARSED_SHOWN:
        unparsed[UNPARSED_SHOWN:] = [f"... and {len(unparsed) - UNPARSED_SHOWN} more statements it could not parse"]
    names = frozenset(active)
    commented = frozenset(match.group(1) for line in text.splitlines() if (match := _COMMENTED_ASSIGNMENT.match(line)))
    return EnvExample(active=names, commented=commented - names, unparsed=tuple(unparsed), credential_shaped=shaped)


# --------------------------------------------------------------------------- #
# What the infrastructure provides
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class Provision:
    env_var: str
    kind: str  # SECRET, PLAIN or DERIVED (ops.envdoc)
    where: str  # where the value comes from, in words
    # "contract" (every stack provides it) or "stack" (only the stack checked does).
    source: str


def provided_by_contract(contract: ServiceContract) -> dict[str, Provision]:
    provided: dict[str, Provision] = {}
    for secret in contract.secrets:
        provided[secret.env_var] = Provision(
            secret.env_var,
            SECRET,
            f"Secrets Manager {conventional_secret_name(secret)} via the task definition's secrets",
            "contract",
        )
    for setting in contract.settings:
        if setting.derived_from:
            provision = Provision(
                setting.env_var, DERIVED, f"set by the program from {derived_source(setting, contract)}", "contract"
            )
        else:
            provision = Provision(
                setting.env_var, PLAIN, f"stack config {setting_config_key(contract.key, setting.env_var)}", "contract"
            )
        provided[setting.env_var] = provision
    for dependency in contract.dependencies:
        for env_var, attribute in dependency.settings:
            provided[env_var] = Provision(
                env_var,
                DERIVED,
                f"derived from {dependency_source(dependency, attribute)} "
                f"({dependency_config_key(dependency.dependency, attribute)})",
                "contract",
            )
    return provided


def provided_by_stack(service: ServiceSettings, stack: str) -> dict[str, Provision]:
    """What one stack gives the service beyond its contract (plain settings and secrets)."""
    contract_names = set(service.contract.secret_names) | set(service.contract.setting_names)
    provided: dict[str, Provision] = {}
    for name, _value in service.environment:
        if name not in contract_names:
            provided[name] = Provision(name, PLAIN, f"stack {stack}: {setting_config_key(service.key, name)}", "stack")
    for source in service.secrets:
        if source.env_var not in contract_names:
            provided[source.env_var] = Provision(
                source.env_var, SECRET, f"stack {stack}: Secrets Manager {source.name_or_arn}", "stack"
            )
    return provided


# --------------------------------------------------------------------------- #
# The comparison
# --------------------------------------------------------------------------- #

_STATUS_ORDER = {Status.FAIL: 0, Status.WARN: 1, Status.OK: 2}
_AS = {SECRET: "a secret", PLAIN: "a plain setting", DERIVED: "a setting the program derives"}


def compare(
    example: EnvExample,
    contract: ServiceContract,
    stack_provided: Mapping[str, Provision] | None = None,
    stack: str | None = None,
    example_name: str = ".env.example",
) -> list[Result]:
    """One row per variable either side mentions; failures first, then by name."""
    svc = contract.key
    provided = {**(stack_provided or {}), **provided_by_contract(contract)}
    reasons = {entry.env_var: entry.reason for entry in contract.not_provided}
    read_by_code = {entry.env_var: entry.read_at for entry in contract.not_provided if entry.read_at}
    undocumented = {entry.env_var: entry.read_at for entry in contract.undocumented_reads}
    results: list[Result] = [
        warn(
            "env.unparsed",
            example_name,
            message,
            "fix the line: python-dotenv (as the application uses it) skips it, so its variable is unseen",
        )
        for message in example.unparsed
    ]

    for name in sorted(example.mentioned | set(provided) | set(reasons)):
        expected = name in example.active
        how = "expected by the application" if expected else "documented as optional (commented out)"
        provision = provided.get(name)

        if name not in example.mentioned:
            if provision is None and name in read_by_code:
                results.append(
                    ok(
                        "env.not_provided",
                        name,
                        f"read by the application's code ({read_by_code[name]}), not listed in {example_name}; "
                        f"deliberately not provided: {reasons[name]}",
                    )
                )
            elif provision is None:
                results.append(
                    warn(
                        "env.stale_not_provided",
                        name,
                        f"the {svc} contract lists {name} as not provided, but {example_name} does not mention it",
                        f"remove its NotProvided entry from the {svc} contract in core/contract.py "
                        "if the application no longer reads it",
                    )
                )
            elif provision.source == "contract" and name in undocumented:
                # A reviewed entry: the code reads it (the contract names the line), the app's docs omit it.
                results.append(
                    warn(
                        "env.undocumented",
                        name,
                        f"the infrastructure provides {name} to {svc} (as {_AS[provision.kind]}) and the application "
                        f"reads it ({undocumented[name]}), but its {example_name} does not mention it",
                        f"add {name} to the application's {example_name}",
                    )
                )
            elif provision.source == "contract":
                results.append(
                    fail(
                        "env.unread",
                        name,
                        f"the infrastructure provides {name} to {svc} (as {_AS[provision.kind]}) but the application's "
                        f"{example_name} does not mention it",
                        f"the application does not read it: remove it from the {svc} contract in "
                        f"core/contract.py, or fix the app's {example_name} if it does read it",
                    )
                )
            else:
                results.append(
                    warn(
                        "env.unread",
                        name,
                        f"stack {stack} sets {name} for {svc} but {example_name} does not mention it",
                        f"remove {_stack_key(provision, svc)} from Pulumi.{stack}.yaml if the application "
                        f"does not read it, or document it in the app's {example_name}",
                    )
                )
            continue

        shape = example.credential_shaped.get(name)
        if provision is not None:
            if provision.kind != SECRET and shape is not None and not looks_secret(name):
                # The name looks harmless (DATABASE_URL); the application's example shows the value carries one.
                results.append(
                    fail(
                        "env.plain_credential",
                        name,
                        f"the application's {example_name} gives {name} a value shaped like a credential ({shape}): "
                        f"the application expects a credential in it, but the infrastructure provides it as "
                        f"{_AS[provision.kind]}, which anyone who may describe the task definition can read",
                        f"store the value in Secrets Manager and reference it in the service's secrets: a "
                        f"SecretRequirement in the {svc} contract (core/contract.py), configured per stack at "
                        f"{secret_config_key(svc, name)}; if the {example_name} holds a real credential, rotate it "
                        "and put a placeholder there",
                    )
                )
            elif provision.kind != SECRET and looks_secret(name):
                # The check that would have caught a token shipped as a plain `environment` value.
                results.append(
                    fail(
                        "env.plain_credential",
                        name,
                        f"{name} looks like a credential but the infrastructure provides it as {_AS[provision.kind]}: "
                        "anyone who may describe the task definition can read its value",
                        f"make it a secret: a SecretRequirement in the {svc} contract's secrets (core/contract.py), "
                        f"configured per stack at {secret_config_key(svc, name)}",
                    )
                )
            else:
                results.append(ok("env.provided", name, f"{how}; provided as {_AS[provision.kind]}: {provision.where}"))
        elif name in reasons:
            results.append(ok("env.not_provided", name, f"{how}; deliberately not provided: {reasons[name]}"))
        elif expected:
            results.append(
                fail(
                    "env.missing",
                    name,
                    f"the application expects {name} but the infrastructure does not provide it to {svc}",
                    _missing_fix(name, svc, stack, credential=shape is not None),
                )
            )
        else:
            results.append(
                warn(
                    "env.optional",
                    name,
                    f"{how} and not provided by the infrastructure: the application's default applies",
                    f"nothing to do if that default suits the deployed {svc}; otherwise add it to "
                    f"the {svc} contract in core/contract.py",
                )
            )

    return sorted(results, key=lambda r: (_STATUS_ORDER[r.status], r.subject, r.check))


def _stack_key(provision: Provision, svc: str) -> str:
    if provision.kind == SECRET:
        return secret_config_key(svc, provision.env_var)
    return setting_config_key(svc, provision.env_var)


def _missing_fix(name: str, svc: str, stack: str | None, *, credential: bool = False) -> str:
    not_needed = (
        f'if the deployed service does not need it, add NotProvided("{name}", "<why>") to the '
        f"{svc} contract's not_provided"
    )
    if credential or looks_secret(name):
        return (
            f"if the deployed service needs it, add a SecretRequirement for {name} to the {svc} contract's "
            f"secrets in core/contract.py (it looks like a credential: never a plain setting) and configure "
            f"{secret_config_key(svc, name)} in each stack; {not_needed}"
        )
    fix = (
        f'if the deployed service needs it, add SettingRequirement("{name}", "<purpose>") to the {svc} '
        f"contract's settings in core/contract.py and set {setting_config_key(svc, name)} in each stack; "
        f"{not_needed}"
    )
    if stack is None:
        fix += "; if one stack sets it, rerun with --stack <stack>"
    return fix


# --------------------------------------------------------------------------- #
# Reading the inputs (these raise CannotCheck: exit 2, never a traceback)
# --------------------------------------------------------------------------- #


def read_env_example(path: Path) -> str:
    try:
        # An editor's BOM must not become part of the first name.
        return read_text(path, limit=ENV_EXAMPLE_LIMIT, what="the application's .env.example", bom=ByteOrderMark.STRIP)
    except TextFileError as error:
        raise CannotCheck(str(error)) from None


def stack_service_settings(stack: str, service: str, project_dir: Path | None = None) -> ServiceSettings:
    """The validated settings of one service in one stack; an invalid stack cannot be checked against.

    Reads `Pulumi.<stack>.yaml` with core/stack_file.py (PyYAML only): live
    tools never import the Pulumi program.
    """
    try:
        values, secret_keys = read_stack_file(stack, project_dir or PROJECT_DIR)
    except StackFileError as error:  # any file, name or content: core/stack_file.py says what
        raise CannotCheck(str(error)) from None
    try:
        settings = load_settings(**settings_input(values, secret_keys), stack=stack)
    except SettingsError as error:
        raise CannotCheck(str(error)) from None
    try:
        return settings.service(service)
    except KeyError:
        raise CannotCheck(
            f"stack {stack} does not deploy the {service} service "
            f"(no {NAMESPACE}:services.{service} in Pulumi.{stack}.yaml)"
        ) from None


def contract_for(service: str, contracts: Mapping[str, ServiceContract] = CONTRACTS) -> ServiceContract:
    try:
        return contracts[service]
    except KeyError:
        raise CannotCheck(
            f"unknown service {service!r}: the contract (core/contract.py) knows {', '.join(sorted(contracts))}"
        ) from None


# --------------------------------------------------------------------------- #
# Command line
# --------------------------------------------------------------------------- #


def check(path: Path, service: str, stack: str | None = None, project_dir: Path | None = None) -> Report:
    contract = contract_for(service)
    example = parse_env_example(read_env_example(path))
    stack_provided = provided_by_stack(stack_service_settings(stack, service, project_dir), stack) if stack else None
    title = f"envcheck {path} against the {service} contract" + (f" and stack {stack}" if stack else "")
    report = Report(title=title)
    report.extend(compare(example, contract, stack_provided, stack, example_name=path.name))
    report.notes.append(
        f"{path}: {len(example.active)} variables set, {len(example.commented)} documented as optional (commented out)"
    )
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ops.envcheck",
        description="Compare an application's .env.example with what the infrastructure provides.",
    )
    parser.add_argument("env_example", type=Path, help="the application's .env.example")
    parser.add_argument(
        "--service", default="api", help=f"contract to check against: {', '.join(sorted(CONTRACTS))} (default: api)"
    )
    parser.add_argument("--stack", help="also count what Pulumi.<stack>.yaml gives the service")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    return run_tool(lambda: emit(check(args.env_example, args.service, args.stack), as_json=args.json))


if __name__ == "__main__":
    sys.exit(main())
