"""envcheck: an application's .env.example against the contract (and a stack).

The fixture tests/ops/fixtures/api.env.example, kept matching the api contract
as it is today (tests.helpers.env_example_matching), is the starting point; each
test changes one thing about it (or about the contract) and reads the report the
way on-call would: which variable, which status, which fix.
"""

from __future__ import annotations

import dataclasses
import io
import json
import re
from pathlib import Path

import pytest
import yaml
from dotenv import dotenv_values
from hypothesis import given
from hypothesis import strategies as st

from core.contract import API, CONTRACTS, SettingRequirement
from ops import envcheck
from ops.envcheck import EnvExample, Provision, compare, parse_env_example, provided_by_contract
from ops.report import EXIT_CANNOT_CHECK, EXIT_FINDINGS, EXIT_OK, CannotCheck, Status
from tests.helpers import (
    ENV_EXAMPLE_FIXTURE,
    STACK_SERVICES,
    STACKS,
    env_example_matching,
    stack_only_settings,
    stack_values,
)

# Reads the stack files or the contract: run in every variant copy (tests/test_variants.py).
pytestmark = pytest.mark.reads_config

MATCHING_TEXT = env_example_matching(API, ENV_EXAMPLE_FIXTURE)
# One variable of each way the api contract provides one, where it has one: a secret, a plain
# setting from the stack config, a setting derived from the stack, one derived from a dependency.
PROVIDED = tuple(
    name
    for name in (
        next((s.env_var for s in API.secrets), None),
        next((s.env_var for s in API.settings if not s.derived_from), None),
        next((s.env_var for s in API.settings if s.derived_from), None),
        next(iter(API.dependency_setting_names), None),
    )
    if name is not None
)
# (variable, dependency, attribute) for every setting the api contract derives from a dependency.
DEPENDENCY_SETTINGS = [
    (env_var, requirement.dependency, attribute.value)
    for requirement in API.dependencies
    for env_var, attribute in requirement.settings
]
STACK_ONLY_SETTINGS = stack_only_settings(API)


@pytest.fixture(autouse=True)
def no_step_summary(monkeypatch):
    # emit() appends to $GITHUB_STEP_SUMMARY when CI sets it; tests must not.
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


def run_cli(capsys, *args: str | Path) -> tuple[int, str, str]:
    code = envcheck.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def rows(capsys, *args: str | Path) -> tuple[int, dict[str, dict]]:
    """Run with --json; the result rows by variable name."""
    code, out, _ = run_cli(capsys, *args, "--json")
    return code, {r["subject"]: r for r in json.loads(out)["results"]}


@pytest.fixture
def matching(tmp_path) -> Path:
    """The api's .env.example, matching the api contract."""
    path = tmp_path / "matching" / ".env.example"
    path.parent.mkdir()
    path.write_text(MATCHING_TEXT)
    return path


def example_with(tmp_path: Path, *, drop: tuple[str, ...] = (), add: tuple[str, ...] = ()) -> Path:
    """The matching fixture without the lines that set `drop` (or mention it as a commented
    optional, `# NAME=...`: the application no longer mentions it), plus the `add` lines."""
    setting = re.compile(r"^\s*(?:#+\s*)?(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=")
    lines = [line for line in MATCHING_TEXT.splitlines() if not ((m := setting.match(line)) and m.group(1) in drop)]
    path = tmp_path / ".env.example"
    path.write_text("\n".join(lines + list(add)) + "\n")
    return path


def by_name(results) -> dict[str, object]:
    return {r.subject: r for r in results}


# --------------------------------------------------------------------------- #
# Parsing .env.example
# --------------------------------------------------------------------------- #


def test_active_lines_are_expected_whatever_their_syntax():
    example = parse_env_example(
        "PLAIN=1\nexport EXPORTED=2\nDOUBLE=\"a b\"\nSINGLE='c'\nWITH_COMMENT=3  # why\nEMPTY=\n"
        'MULTILINE="line one\nline two"\n'
    )
    assert example.active == {"PLAIN", "EXPORTED", "DOUBLE", "SINGLE", "WITH_COMMENT", "EMPTY", "MULTILINE"}
    assert example.commented == frozenset()


def test_commented_assignments_are_optional_but_prose_is_not_a_variable():
    example = parse_env_example(
        "# LOG_LEVEL=INFO\n#CACHE_DIR=/tmp\n## export TRACING=off\n"
        "# Set DEBUG=true to see tracebacks\n# ===== Section =====\n"
    )
    assert example.commented == {"LOG_LEVEL", "CACHE_DIR", "TRACING"}
    assert example.active == frozenset()


def test_a_variable_both_set_and_commented_counts_as_set():
    example = parse_env_example("# REDIS_URL=redis://cache:6379/0\nREDIS_URL=redis://localhost:6379/0\n")
    assert (example.active, example.commented) == ({"REDIS_URL"}, frozenset())


def test_an_unparsable_line_is_reported_not_silently_dropped(tmp_path, capsys):
    # GIVEN a line python-dotenv cannot read (a typo that would hide a variable)
    path = example_with(tmp_path, add=("HUGGINGFACE API KEY=oops",))
    # WHEN checked THEN it is a warning naming the line, and nothing reaches stderr
    code, out, err = run_cli(capsys, path)
    assert code == EXIT_OK
    assert "env.unparsed" in out and "could not parse statement starting at line" in out
    assert err == ""


# --------------------------------------------------------------------------- #
# Gaps and matches
# --------------------------------------------------------------------------- #


def test_the_matching_example_keeps_every_line_of_the_applications_file_the_contract_knows():
    """Only what the contract gained or lost since the fixture was written differs from it."""
    known = {*API.secret_names, *API.setting_names, *(e.env_var for e in API.not_provided)}
    kept = MATCHING_TEXT.splitlines()
    for line in ENV_EXAMPLE_FIXTURE.read_text().splitlines():
        name = re.match(r"\s*(?:export\s+)?(\w+)\s*=", line)
        if name is None or name.group(1) in known:
            assert line in kept, line


def test_an_env_example_that_matches_the_contract_passes(capsys, matching):
    code, found = rows(capsys, matching)
    assert code == EXIT_OK
    for name in API.secret_names + API.setting_names:
        assert (found[name]["check"], found[name]["status"]) == ("env.provided", "ok"), name
    for secret in API.secrets:
        assert "secret" in found[secret.env_var]["finding"]
        assert secret.secret_name_for("<stack>") in found[secret.env_var]["finding"]


def test_a_variable_the_infrastructure_lacks_fails_naming_it_and_the_fix(tmp_path, capsys):
    # GIVEN the application starts reading a variable nobody added to the contract
    path = example_with(tmp_path, add=("MODEL_REGISTRY_BUCKET=hokusai-models-dev",))
    # WHEN checked
    code, out, _ = run_cli(capsys, path)
    # THEN it fails, naming the variable and both ways to fix it
    assert code == EXIT_FINDINGS
    line = next(line for line in out.splitlines() if "MODEL_REGISTRY_BUCKET" in line and "FAIL" in line)
    assert "env.missing" in line
    fix = out.split(line, 1)[1].splitlines()[1]
    assert 'SettingRequirement("MODEL_REGISTRY_BUCKET"' in fix and "core/contract.py" in fix
    assert 'NotProvided("MODEL_REGISTRY_BUCKET"' in fix


def test_a_credential_the_infrastructure_lacks_is_to_be_added_as_a_secret(tmp_path, capsys):
    code, found = rows(capsys, example_with(tmp_path, add=("WANDB_API_KEY=your-wandb-key",)))
    assert code == EXIT_FINDINGS
    assert found["WANDB_API_KEY"]["status"] == "FAIL"
    assert "SecretRequirement" in found["WANDB_API_KEY"]["fix"]
    assert "SettingRequirement" not in found["WANDB_API_KEY"]["fix"]


@pytest.mark.parametrize("name", PROVIDED)
def test_a_variable_the_infrastructure_provides_but_the_app_does_not_mention_fails(tmp_path, capsys, name):
    code, found = rows(capsys, example_with(tmp_path, drop=(name,)))
    assert code == EXIT_FINDINGS
    assert (found[name]["check"], found[name]["status"]) == ("env.unread", "FAIL")
    assert "does not read it" in found[name]["fix"]
    assert f"remove it from the {API.key} contract" in found[name]["fix"]


@pytest.mark.parametrize("name", PROVIDED)
def test_a_provided_variable_the_app_documents_as_optional_is_fine(tmp_path, capsys, name):
    path = example_with(tmp_path, drop=(name,), add=(f"# {name}=some-default",))
    code, found = rows(capsys, path)
    assert code == EXIT_OK
    assert found[name]["status"] == "ok"
    assert "optional" in found[name]["finding"]


@pytest.mark.parametrize(("name", "dependency", "attribute"), DEPENDENCY_SETTINGS)
def test_a_dependency_setting_says_which_dependency_it_is_derived_from(capsys, matching, name, dependency, attribute):
    code, found = rows(capsys, matching)
    assert code == EXIT_OK
    assert f"derived from dependency {dependency}: {attribute}" in found[name]["finding"]
    assert f"hokusai:dependencies.{dependency}.{attribute}" in found[name]["finding"]


def test_commented_optional_variables_are_warnings_never_failures(capsys, matching):
    code, found = rows(capsys, matching)
    assert code == EXIT_OK
    for name in ("LOG_LEVEL", "MODEL_CACHE_DIR", "DEBUG"):
        assert (found[name]["check"], found[name]["status"]) == ("env.optional", "warn"), name


def test_a_credential_like_name_provided_as_a_plain_setting_fails():
    # GIVEN a contract that (wrongly) ships a credential in plain `environment`;
    # settings validation and the contract tests refuse this too, envcheck must as well
    contract = dataclasses.replace(API, settings=API.settings + (SettingRequirement("SENTRY_DSN", "error reporting"),))
    example = parse_env_example(MATCHING_TEXT + "SENTRY_DSN=https://key@sentry.example/1\n")
    # WHEN compared
    results = by_name(compare(example, contract))
    # THEN it fails and says to make it a secret
    assert (results["SENTRY_DSN"].check, results["SENTRY_DSN"].status) == ("env.plain_credential", Status.FAIL)
    assert "SecretRequirement" in results["SENTRY_DSN"].fix


def test_a_credential_like_name_a_stack_provides_as_plain_fails_too():
    example = parse_env_example(MATCHING_TEXT + "# WEBHOOK_SECRET=\n")
    stack = {"WEBHOOK_SECRET": Provision("WEBHOOK_SECRET", "plain", "stack x", "stack")}
    results = by_name(compare(example, API, stack, "x"))
    assert results["WEBHOOK_SECRET"].status is Status.FAIL


def test_not_provided_variables_pass_with_their_reason(capsys, matching):
    code, found = rows(capsys, matching)
    assert code == EXIT_OK
    for entry in API.not_provided:
        row = found[entry.env_var]
        assert (row["check"], row["status"]) == ("env.not_provided", "ok")
        assert entry.reason in row["finding"]


@pytest.mark.parametrize("entry", API.not_provided, ids=lambda e: e.env_var)
def test_without_its_not_provided_entry_the_same_variable_fails(entry):
    # Proves the list is what lets the variable pass, not some other leniency.
    example = parse_env_example(MATCHING_TEXT)
    contract = dataclasses.replace(API, not_provided=tuple(e for e in API.not_provided if e != entry))
    results = by_name(compare(example, contract))
    assert (results[entry.env_var].check, results[entry.env_var].status) == ("env.missing", Status.FAIL)


@pytest.mark.parametrize("entry", API.not_provided, ids=lambda e: e.env_var)
def test_a_not_provided_entry_the_app_no_longer_mentions_is_a_warning(tmp_path, capsys, entry):
    """... unless the entry names the line of the code that reads it: then it is not stale."""
    code, found = rows(capsys, example_with(tmp_path, drop=(entry.env_var,)))
    assert code == EXIT_OK
    row = found[entry.env_var]
    if entry.read_at:
        assert (row["check"], row["status"]) == ("env.not_provided", "ok")
        assert entry.read_at in row["finding"] and entry.reason in row["finding"]
    else:
        assert (row["check"], row["status"]) == ("env.stale_not_provided", "warn")


def test_without_the_line_that_reads_it_an_entry_the_app_does_not_mention_is_stale(tmp_path, capsys):
    """Weakening: an entry without read_at is judged by the .env.example alone."""
    entry = next((e for e in API.not_provided if e.read_at), None)
    if entry is None:
        pytest.skip("no not_provided entry of the api contract names the line that reads it")
    weakened = dataclasses.replace(
        API, not_provided=tuple(dataclasses.replace(e, read_at="") for e in API.not_provided)
    )
    example = parse_env_example(example_with(tmp_path, drop=(entry.env_var,)).read_text())
    row = by_name(compare(example, weakened))[entry.env_var]
    assert (row.check, row.status) == ("env.stale_not_provided", Status.WARN)


@pytest.mark.parametrize("entry", API.undocumented_reads, ids=lambda e: e.env_var)
def test_a_provided_variable_the_code_reads_but_the_app_does_not_document_is_a_warning(tmp_path, capsys, entry):
    code, found = rows(capsys, example_with(tmp_path, drop=(entry.env_var,)))
    assert code == EXIT_OK
    row = found[entry.env_var]
    assert (row["check"], row["status"]) == ("env.undocumented", "warn")
    assert entry.read_at in row["finding"] and "the application's .env.example" in row["fix"]


@pytest.mark.parametrize("entry", API.undocumented_reads, ids=lambda e: e.env_var)
def test_without_its_undocumented_read_entry_the_same_variable_fails(tmp_path, entry):
    weakened = dataclasses.replace(
        API, undocumented_reads=tuple(e for e in API.undocumented_reads if e.env_var != entry.env_var)
    )
    example = parse_env_example(example_with(tmp_path, drop=(entry.env_var,)).read_text())
    row = by_name(compare(example, weakened))[entry.env_var]
    assert (row.check, row.status) == ("env.unread", Status.FAIL)


def test_failures_come_first():
    example = parse_env_example(MATCHING_TEXT + "ZZZ_NEW=1\n")
    statuses = [r.status for r in compare(example, API)]
    assert statuses[0] is Status.FAIL
    assert statuses == sorted(statuses, key=[Status.FAIL, Status.WARN, Status.OK].index)


# --------------------------------------------------------------------------- #
# --stack
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("stack,name", STACK_ONLY_SETTINGS)
def test_a_setting_the_stack_provides_counts_with_stack(tmp_path, capsys, stack, name):
    # GIVEN the app reads a variable the stack file sets for the service but the contract does not
    path = example_with(tmp_path, add=(f"{name}=some-value",))
    # WHEN checked against the contract alone THEN it is a gap
    code, found = rows(capsys, path)
    assert code == EXIT_FINDINGS and found[name]["check"] == "env.missing"
    assert "--stack" in found[name]["fix"]
    # WHEN checked with that stack THEN the stack provides it
    code, found = rows(capsys, path, "--stack", stack)
    assert code == EXIT_OK
    assert found[name]["status"] == "ok"
    assert f"stack {stack}" in found[name]["finding"]


@pytest.mark.parametrize("stack,name", STACK_ONLY_SETTINGS)
def test_a_stack_setting_the_app_does_not_mention_is_a_warning(capsys, matching, stack, name):
    code, found = rows(capsys, matching, "--stack", stack)
    assert code == EXIT_OK
    assert (found[name]["check"], found[name]["status"]) == ("env.unread", "warn")


@pytest.mark.parametrize("requirement", API.secrets, ids=lambda s: s.env_var)
def test_an_invalid_stack_cannot_be_checked_against(tmp_path, monkeypatch, capsys, matching, requirement):
    # GIVEN a stack whose config lacks one of the api's secrets
    stack = next(stack for stack, service in STACK_SERVICES if service == API.key)
    config = stack_values(stack)
    del config["hokusai:services"][API.key]["secrets"][requirement.env_var]
    (tmp_path / "Pulumi.broken.yaml").write_text(yaml.safe_dump({"config": config}))
    monkeypatch.setattr(envcheck, "PROJECT_DIR", tmp_path)
    # WHEN checked THEN exit 2 with the settings error, not a traceback
    code, out, err = run_cli(capsys, matching, "--stack", "broken")
    assert code == EXIT_CANNOT_CHECK and out == ""
    assert "configuration problem" in err
    assert f"hokusai:services.{API.key}.secrets.{requirement.env_var}" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "args, message",
    [
        (("--stack", "no-such-stack"), "Pulumi.no-such-stack.yaml does not exist"),
        (("--stack", "../development"), "is not a stack name"),
    ],
)
def test_a_stack_that_cannot_be_read_exits_2(capsys, matching, args, message):
    assert "no-such-stack" not in STACKS
    code, _, err = run_cli(capsys, matching, *args)
    assert code == EXIT_CANNOT_CHECK
    assert message in err


UNDEPLOYED = [(stack, key) for stack in STACKS for key in CONTRACTS if (stack, key) not in STACK_SERVICES]


@pytest.mark.parametrize("stack,service", UNDEPLOYED or [pytest.param(None, None, marks=pytest.mark.skip)])
def test_a_service_the_stack_does_not_deploy_exits_2(capsys, matching, stack, service):
    code, _, err = run_cli(capsys, matching, "--service", service, "--stack", stack)
    assert code == EXIT_CANNOT_CHECK
    assert f"does not deploy the {service} service" in err


def test_stack_yaml_is_read_without_the_pulumi_program():
    # Live tools never import the Pulumi program (DESIGN.md, layers).
    source = Path(envcheck.__file__).read_text() + Path(envcheck.__file__).with_name("envdoc.py").read_text()
    assert not re.search(r"^\s*(import|from)\s+(pulumi|synth)\b", source, re.MULTILINE)


# --------------------------------------------------------------------------- #
# Command line
# --------------------------------------------------------------------------- #


def test_a_missing_file_exits_2_with_a_clear_message(tmp_path, capsys):
    code, out, err = run_cli(capsys, tmp_path / "nope" / ".env.example")
    assert code == EXIT_CANNOT_CHECK and out == ""
    assert "does not exist" in err and "Traceback" not in err


def test_a_directory_exits_2(tmp_path, capsys):
    code, _, err = run_cli(capsys, tmp_path)
    assert code == EXIT_CANNOT_CHECK and "is a directory" in err


def test_an_unknown_service_exits_2_naming_the_known_ones(capsys, matching):
    code, _, err = run_cli(capsys, matching, "--service", "worker")
    assert code == EXIT_CANNOT_CHECK
    assert "'worker'" in err and all(key in err for key in CONTRACTS)


def test_json_output_parses_and_carries_the_verdict(tmp_path, capsys):
    code, out, _ = run_cli(capsys, example_with(tmp_path, drop=(API.secrets[0].env_var,)), "--json")
    report = json.loads(out)
    assert (code, report["exit_code"], report["passed"]) == (EXIT_FINDINGS, EXIT_FINDINGS, False)
    assert {"check", "subject", "status", "finding", "fix"} <= set(report["results"][0])


@pytest.mark.parametrize("key", sorted(CONTRACTS))
def test_every_services_contract_can_be_checked(tmp_path, capsys, key):
    path = tmp_path / ".env.example"
    path.write_text(env_example_matching(CONTRACTS[key], base=None))
    assert set(parse_env_example(path.read_text()).active) >= set(provided_by_contract(CONTRACTS[key]))
    code, _, _ = run_cli(capsys, path, "--service", key)
    assert code == EXIT_OK


# --------------------------------------------------------------------------- #
# The contract's not_provided list
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("contract", CONTRACTS.values(), ids=list(CONTRACTS))
def test_not_provided_never_contradicts_what_is_provided(contract):
    names = [entry.env_var for entry in contract.not_provided]
    assert len(names) == len(set(names))
    assert not set(names) & (set(contract.secret_names) | set(contract.setting_names))
    assert all(entry.reason.strip() for entry in contract.not_provided)


def test_cannot_check_is_what_reading_raises(tmp_path):
    # The readers raise CannotCheck (exit 2), never OSError or a parser error.
    with pytest.raises(CannotCheck, match="does not exist"):
        envcheck.read_env_example(tmp_path / "missing")
    (tmp_path / "Pulumi.bad.yaml").write_text("config: [unclosed\n")
    with pytest.raises(CannotCheck, match="not valid YAML"):
        envcheck.stack_service_settings("bad", "api", tmp_path)
    (tmp_path / "Pulumi.dir.yaml").mkdir()
    with pytest.raises(CannotCheck, match="is a directory"):
        envcheck.stack_service_settings("dir", "api", tmp_path)
    assert parse_env_example("") == EnvExample(active=frozenset(), commented=frozenset())


def test_a_secret_only_the_stack_adds_is_named_by_its_secrets_key():
    example = parse_env_example(MATCHING_TEXT)
    stack = {"SLACK_WEBHOOK_TOKEN": Provision("SLACK_WEBHOOK_TOKEN", "secret", "stack x: Secrets Manager y", "stack")}
    row = by_name(compare(example, API, stack, "x"))["SLACK_WEBHOOK_TOKEN"]
    assert (row.check, row.status) == ("env.unread", Status.WARN)
    assert "hokusai:services.api.secrets.SLACK_WEBHOOK_TOKEN" in row.fix


# --------------------------------------------------------------------------- #
# Reading as python-dotenv reads, in bounded time
# --------------------------------------------------------------------------- #


@given(
    st.lists(
        st.one_of(
            st.sampled_from(["A", "B_1", "=", "#", "'", '"', "\\", " ", "\t", "\n", "\r", "export ", "${A}", "# C="]),
            st.characters(codec="utf-8"),
        ),
        max_size=60,
    ).map("".join)
)
def test_the_names_are_the_ones_python_dotenv_gives_the_application(text):
    loaded = dotenv_values(stream=io.StringIO(text), interpolate=False)
    assert parse_env_example(text).active == frozenset(loaded)


def test_the_fixture_reads_as_python_dotenv_reads_it():
    loaded = dotenv_values(stream=io.StringIO(MATCHING_TEXT), interpolate=False)
    assert parse_env_example(MATCHING_TEXT).active == frozenset(loaded)


def test_thousands_of_unreadable_lines_are_a_few_rows_and_a_count():
    example = parse_env_example("=\n" * 1000)
    assert len(example.unparsed) == envcheck.UNPARSED_SHOWN + 1
    assert example.unparsed[-1] == f"... and {1000 - envcheck.UNPARSED_SHOWN} more statements it could not parse"
