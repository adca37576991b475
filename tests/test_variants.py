"""Adding a service, a required secret or a stack takes that change, `make docs` and the
snapshot refresh, nothing else (README.md, "Where to change what").

Each test copies the repository to a temporary directory, makes one kind of change
there, refreshes the copy the documented way (the `docs` target's own commands, then
the test run with UPDATE_SNAPSHOTS=1, as `UPDATE_SNAPSHOTS=1 make test` does) and runs
the tests that read the stack files and the contract in the copy: those that used to
count resources, name the only service or secret, cover the runbook, check the docs
are fresh and compare the snapshot. A test there that still assumed today's config
fails here.

Each costs a few processes, so there is one per kind of change, and only the tests
marked as reading the config (tests.helpers.reads_config, each_stack, each_service) run
in the copy; not the moto and make ones.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from core.contract import CONTRACTS
from tests.helpers import (
    PROJECT_DIR,
    STACK_SERVICES,
    STACKS,
    load,
    stack_names,
    stack_secret_keys,
    stack_values,
    with_services,
)

pytestmark = pytest.mark.variants

# What the copy leaves out: version control, environments, caches and build output.
NOT_COPIED = (".git", ".venv", "build", ".hypothesis", ".pytest_cache", ".ruff_cache", ".mypy_cache", "__pycache__")

# Run first in the copy, so the snapshots are refreshed (UPDATE_SNAPSHOTS=1) before the rest reads them.
RENDER_TESTS = "tests/synth/test_render.py"
# What marks a test to run in the copies: tests.helpers.reads_config, or each_stack / each_service.
MARKED = re.compile(r"\b(reads_config|each_stack|each_service)\b")
# Modules that read the config but have no test marked to run in the copies, and why.
NOT_RUN_IN_THE_COPY = {
    "tests/ops/test_verify.py": "moto: seconds per copy; it reads the estate's service count from the estate",
    "tests/ops/test_verify_policy.py": "moto",
    "tests/ops/test_verify_server.py": "moto_server",
    "tests/test_makefile.py": "runs make and moto_server",
    "tests/ops/test_smoke.py": "reads only the incident's message, not the stack files",
    "tests/ops/test_appcheck.py": "scans application source; reads the stack file the way envcheck does",
    "tests/test_config_properties.py": "hypothesis over every stack file: seconds, and no count to break",
    "tests/test_fargate.py": "the Fargate table, not the config",
    "tests/test_settings_declarations.py": "the declarations' guards, on samples built from a stack file: no count",
    "tests/test_components.py": "the component classes the program registers, not what the config makes of them",
    "tests/test_live_estate.py": "the record of the live estate against the contract's names, not the stack files",
    "tests/test_variants.py": "this file",
    "tests/test_doc_commands.py": "the hand-written docs' commands, links and container names against the "
    "Makefile, the tools and the contract's names: a variant adds no name the docs give",
    "tests/ops/test_verify_variants.py": "moto",
    "tests/synth/test_fake_estate.py": "the fake estate's render cache, on the development stack: renders it "
    "several times, and has no count or name to break",
    "tests/ops/test_oncall_views.py": "moto; the development stack's outputs as the fake estate has them",
    "tests/policy/test_pack_process.py": "starts the policy pack's gRPC server: seconds per copy",
    "tests/policy/test_policies.py": "the pack's policies against synth's checks on the development graph and a "
    "two-service variant; the checks over every stack file run here (tests/synth/test_checks.py)",
    "tests/test_invariants.py": "how the invariants treat unknown values, on the development graph; the invariants "
    "over every stack file run here (tests/synth/test_checks.py)",
    "tests/test_resource_graph.py": "how the graph records carry unknown values, not the stack files",
    "tests/test_rollout.py": "stub ECS answers; it names the runbook's sections, not the stack files",
    # Fuzzing mutates the development stack file into thousands of broken ones: no count or name to break.
    "tests/fuzz/test_stack_files.py": "fuzzes mutations of a stack file: seconds per copy, nothing to break",
    "tests/fuzz/test_cli_arguments.py": "fuzzes the tools' arguments: seconds per copy, nothing to break",
    "tests/fuzz/test_outputs_files.py": "fuzzes outputs files built from the development render: nothing to break",
}
# What marks a module as reading the config, the contract or what is generated from them.
CONFIG_READING = re.compile(
    r"\b(dev_run|dev_values|DEV_VALUES|rendered|stack_settings|stack_values|STACKS|STACK_SERVICES|each_stack"
    r"|each_service|CONTRACTS|read_stack_file|RUNBOOK|snapshots)\b"
)


def copy_repository(destination: Path) -> Path:
    shutil.copytree(PROJECT_DIR, destination, ignore=shutil.ignore_patterns(*NOT_COPIED), symlinks=True)
    return destination


def run(copy: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """A command in the copy, importing the copy's code (PYTHONPATH is the copy and nothing else),
    in an environment without this run's pytest and snapshot settings."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PYTEST_", "UPDATE_SNAPSHOTS", "PYTHONPATH"))
    }
    environment.update({"PYTHONPATH": str(copy), "PYTHONDONTWRITEBYTECODE": "1", **(env or {})})
    return subprocess.run(args, cwd=copy, env=environment, capture_output=True, text=True, timeout=300)


def make_docs_commands(copy: Path) -> list[list[str]]:
    """The recipe of the copy's `make docs`, run with this interpreter (make would set up .venv first)."""
    makefile = (copy / "Makefile").read_text()
    recipe = re.search(r"^docs:[^\n]*\n((?:\t[^\n]*\n)+)", makefile, re.M)
    assert recipe, "the Makefile has no docs target"
    lines = [line.strip().lstrip("@+") for line in recipe.group(1).splitlines()]
    assert lines and all(line.startswith("$(PYTHON) -m ") for line in lines), lines
    return [[sys.executable, *line.removeprefix("$(PYTHON) ").split()] for line in lines]


def marked_modules(root: Path) -> list[str]:
    """The test modules of `root` with tests marked to run in the copies, the render tests first."""
    found = [
        module.relative_to(root).as_posix()
        for module in sorted((root / "tests").rglob("test_*.py"))
        if MARKED.search(module.read_text())
    ]
    return sorted(found, key=lambda name: name != RENDER_TESTS)


def refresh_and_test(copy: Path) -> None:
    """`make docs`, then the copy's config-reading tests with UPDATE_SNAPSHOTS=1 (the documented
    refresh, which writes each stack's snapshot before the rest of the run reads anything)."""
    for command in make_docs_commands(copy):
        done = run(copy, *command)
        assert done.returncode == 0, (command, done.stdout, done.stderr)
    modules = marked_modules(copy)
    assert modules[0] == RENDER_TESTS, modules
    done = run(
        copy,
        # One process (-n 0): the copy's tests are few and short, workers would cost more than they save.
        *(sys.executable, "-m", "pytest", "-q", "-x", "-n", "0", "-p", "no:cacheprovider"),
        *("-m", "reads_config and not changes_config and not variants and not server", *modules),
        env={"UPDATE_SNAPSHOTS": "1"},
    )
    tail = "\n".join(done.stdout.splitlines()[-60:])
    assert done.returncode == 0, f"the tests of the copy failed:\n{tail}\n{done.stderr[-2000:]}"
    assert " passed" in tail, tail


def stack_document(copy: Path, stack: str) -> dict:
    """A stack file as YAML gives it: encrypted values stay `{secure: ...}`."""
    return yaml.safe_load((copy / f"Pulumi.{stack}.yaml").read_text())


def write_stack(copy: Path, stack: str, document: dict) -> None:
    (copy / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(document, sort_keys=False))


# --------------------------------------------------------------------------- #
# The three kinds of change
# --------------------------------------------------------------------------- #


def test_adding_a_service_the_contract_knows_needs_only_its_config(tmp_path):
    # GIVEN a contract entry a stack file does not deploy yet (mlflow today)
    missing = [(stack, key) for stack in STACKS for key in CONTRACTS if (stack, key) not in STACK_SERVICES]
    if not missing:
        pytest.skip("every stack file deploys every contract entry")
    stack, key = missing[0]
    copy = copy_repository(tmp_path / "repository")
    document = stack_document(copy, stack)
    # ... added with what it needs: its dependencies declared unless the stack has them already,
    # and no longer declared as a dependency itself (a stack's mlflow dependency becomes the service)
    with_services(document["config"], [key], stack)
    write_stack(copy, stack, document)
    # WHEN the copy is refreshed and tested THEN everything that reads the config passes
    refresh_and_test(copy)
    assert f"hokusai-{key}-{stack}" in (copy / "tests" / "snapshots" / f"{stack}.json").read_text()


def test_adding_a_required_secret_to_a_contract_needs_only_the_contract_and_the_stack_files(tmp_path):
    # GIVEN a new required secret in the contract of a service a stack deploys
    stack, key = STACK_SERVICES[0]
    copy = copy_repository(tmp_path / "repository")
    contract_file = copy / "core" / "contract.py"
    source = contract_file.read_text()
    entry = re.search(rf"ServiceContract\(\n\s+key=\"{re.escape(key)}\",.*?\n(\s+)secrets=\(\n", source, re.S)
    assert entry, f"cannot find the secrets of the {key} contract in core/contract.py"
    indent = entry.group(1) + "    "
    added = (
        f"{indent}SecretRequirement(\n"
        f'{indent}    env_var="VARIANT_WEBHOOK_TOKEN",\n'
        f'{indent}    default_secret_name="hokusai/{{environment}}/{key}/variant-webhook-token",\n'
        f'{indent}    breaks="the variant test\'s webhook calls are refused",\n'
        f"{indent}),\n"
    )
    contract_file.write_text(source[: entry.end()] + added + source[entry.end() :])
    # ... and every stack file that deploys the service says where its value lives
    for name in stack_names(copy):
        document = stack_document(copy, name)
        services = document["config"].get("hokusai:services") or {}
        if key in services:
            services[key]["secrets"]["VARIANT_WEBHOOK_TOKEN"] = {
                "existing": f"hokusai/{name}/{key}/variant-webhook-token"
            }
            write_stack(copy, name, document)
    # WHEN refreshed and tested THEN it passes, and the secret is in the generated docs and the snapshot
    refresh_and_test(copy)
    assert "VARIANT_WEBHOOK_TOKEN" in (copy / "docs" / "ENVIRONMENT.md").read_text()
    assert "VARIANT_WEBHOOK_TOKEN" in (copy / "tests" / "snapshots" / f"{stack}.json").read_text()


def test_adding_a_stack_needs_only_its_stack_file(tmp_path):
    # GIVEN a new stack file: an existing one's config for another stack name and account
    template, new, account = STACKS[0], "variant", "210987654321"
    assert new not in STACKS
    copy = copy_repository(tmp_path / "repository")
    old_account = str(stack_values(template)["hokusai:account_id"])
    text = (copy / f"Pulumi.{template}.yaml").read_text()
    (copy / f"Pulumi.{new}.yaml").write_text(text.replace(old_account, account).replace(template, new))
    # WHEN refreshed and tested THEN it passes, the new stack has its snapshot, and it was tested
    refresh_and_test(copy)
    snapshot = (copy / "tests" / "snapshots" / f"{new}.json").read_text()
    assert f"hokusai-{new}" in snapshot and account in snapshot


@pytest.mark.parametrize("key", sorted(CONTRACTS))
def test_a_service_added_to_a_stack_that_declares_none_of_its_dependencies_loads(key):
    """with_services declares what the added service reaches when the stack has none of it."""
    stack = STACKS[0]
    values = stack_values(stack)
    values["hokusai:services"], values["hokusai:dependencies"] = {}, {}
    with_services(values, [key], stack)
    settings = load(values, stack=stack, secret_keys=stack_secret_keys(stack))
    assert [s.key for s in settings.services] == [key]
    assert {d.name for d in settings.dependencies} == set(CONTRACTS[key].dependency_names)


# --------------------------------------------------------------------------- #
# The subset stays the set of tests that read the config
# --------------------------------------------------------------------------- #


def test_every_test_module_that_reads_the_config_runs_in_the_copies_or_says_why_not():
    marked = set(marked_modules(PROJECT_DIR))
    assert RENDER_TESTS in marked
    unaccounted = [
        name
        for name in (m.relative_to(PROJECT_DIR).as_posix() for m in sorted((PROJECT_DIR / "tests").rglob("test_*.py")))
        if CONFIG_READING.search((PROJECT_DIR / name).read_text())
        and name not in marked
        and name not in NOT_RUN_IN_THE_COPY
    ]
    assert unaccounted == [], "mark their config-reading tests (tests.helpers.reads_config), or say why not here"
    assert all((PROJECT_DIR / name).exists() for name in NOT_RUN_IN_THE_COPY)


def test_the_copy_runs_its_own_code_not_this_checkouts(tmp_path):
    copy = copy_repository(tmp_path / "repository")
    (copy / "core" / "variant_marker.py").write_text("WHERE = 'copy'\n")
    done = run(copy, sys.executable, "-c", "import core, core.variant_marker; print(core.__file__)")
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()).is_relative_to(copy)
