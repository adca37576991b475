"""envcheck: an application's .env.example against the contract (and a stack).

The fixture tests/ops/fixtures/api.env.example matches the api contract
exactly; each test changes one thing about it (or about the contract) and
reads the report the way on-call would: which variable, which status, which fix.
"""

from __future__ import annotations

import copy
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
from tests.helpers import DEV_VALUES

FIXTURES = Path(__file__).parent / "fixtures"
MATCHING = FIXTURES / "api.env.example"


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


def example_with(tmp_path: Path, *, drop: tuple[str, ...] = (), add: tuple[str, ...] = ()) -> Path:
    """The matching fixture without the lines that set `drop`, plus the `add` lines."""
    setting = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=")
    lines = [
        line for line in MATCHING.read_text().splitlines() if not ((m := setting.match(line)) and m.group(1) in drop)
    ]
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


def test_an_env_example_that_matches_the_contract_passes(capsys):
    code, found = rows(capsys, MATCHING)
    assert code == EXIT_OK
    for name in API.secret_names + API.setting_names:
        assert (found[name]["check"], found[name]["status"]) == ("env.provided", "ok"), name
    assert "secret" in found["HUGGINGFACE_API_KEY"]["finding"]
    assert "hokusai/<stack>/huggingface/api-key" in found["HUGGINGFACE_API_KEY"]["finding"]


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


@pytest.mark.parametrize("name", ["HUGGINGFACE_API_KEY", "REDIS_HOST", "API_PORT"])
def test_a_variable_the_infrastructure_provides_but_the_app_does_not_mention_fails(tmp_path, capsys, name):
    code, found = rows(capsys, example_with(tmp_path, drop=(name,)))
    assert code == EXIT_FINDINGS
    assert (found[name]["check"], found[name]["status"]) == ("env.unread", "FAIL")
    assert "does not read it" in found[name]["fix"]
    assert "remove it from the api contract" in found[name]["fix"]


def test_a_provided_variable_the_app_documents_as_optional_is_fine(tmp_path, capsys):
    path = example_with(tmp_path, drop=("REDIS_PORT",), add=("# REDIS_PORT=6379",))
    code, found = rows(capsys, path)
    assert code == EXIT_OK
    assert found["REDIS_PORT"]["status"] == "ok"
    assert "optional" in found["REDIS_PORT"]["finding"]


def test_a_dependency_setting_says_which_dependency_it_is_derived_from(capsys):
    code, found = rows(capsys, MATCHING)
    assert code == EXIT_OK
    assert "derived from dependency redis: host" in found["REDIS_HOST"]["finding"]
    assert "hokusai:dependencies.redis.host" in found["REDIS_HOST"]["finding"]


def test_commented_optional_variables_are_warnings_never_failures(capsys):
    code, found = rows(capsys, MATCHING)
    assert code == EXIT_OK
    for name in ("LOG_LEVEL", "MODEL_CACHE_DIR", "DEBUG"):
        assert (found[name]["check"], found[name]["status"]) == ("env.optional", "warn"), name


def test_a_credential_like_name_provided_as_a_plain_setting_fails():
    # GIVEN a contract that (wrongly) ships a credential in plain `environment`;
    # settings validation and the contract tests refuse this too, envcheck must as well
    contract = dataclasses.replace(API, settings=API.settings + (SettingRequirement("SENTRY_DSN", "error reporting"),))
    example = parse_env_example(MATCHING.read_text() + "SENTRY_DSN=https://key@sentry.example/1\n")
    # WHEN compared
    results = by_name(compare(example, contract))
    # THEN it fails and says to make it a secret
    assert (results["SENTRY_DSN"].check, results["SENTRY_DSN"].status) == ("env.plain_credential", Status.FAIL)
    assert "SecretRequirement" in results["SENTRY_DSN"].fix


def test_a_credential_like_name_a_stack_provides_as_plain_fails_too():
    example = parse_env_example(MATCHING.read_text() + "# WEBHOOK_SECRET=\n")
    stack = {"WEBHOOK_SECRET": Provision("WEBHOOK_SECRET", "plain", "stack x", "stack")}
    results = by_name(compare(example, API, stack, "x"))
    assert results["WEBHOOK_SECRET"].status is Status.FAIL


def test_not_provided_variables_pass_with_their_reason(capsys):
    code, found = rows(capsys, MATCHING)
    assert code == EXIT_OK
    for entry in API.not_provided:
        row = found[entry.env_var]
        assert (row["check"], row["status"]) == ("env.not_provided", "ok")
        assert entry.reason in row["finding"]


def test_without_its_not_provided_entry_the_same_variable_fails():
    # Proves the list is what lets AWS_ACCESS_KEY_ID pass, not some other leniency.
    example = parse_env_example(MATCHING.read_text())
    contract = dataclasses.replace(
        API, not_provided=tuple(e for e in API.not_provided if e.env_var != "AWS_ACCESS_KEY_ID")
    )
    results = by_name(compare(example, contract))
    assert (results["AWS_ACCESS_KEY_ID"].check, results["AWS_ACCESS_KEY_ID"].status) == ("env.missing", Status.FAIL)


def test_a_not_provided_entry_the_app_no_longer_mentions_is_a_warning(tmp_path, capsys):
    code, found = rows(capsys, example_with(tmp_path, drop=("LINEAR_API_KEY",)))
    assert code == EXIT_OK
    assert (found["LINEAR_API_KEY"]["check"], found["LINEAR_API_KEY"]["status"]) == ("env.stale_not_provided", "warn")


def test_failures_come_first():
    example = parse_env_example(MATCHING.read_text() + "ZZZ_NEW=1\n")
    statuses = [r.status for r in compare(example, API)]
    assert statuses[0] is Status.FAIL
    assert statuses == sorted(statuses, key=[Status.FAIL, Status.WARN, Status.OK].index)


# --------------------------------------------------------------------------- #
# --stack
# --------------------------------------------------------------------------- #


def test_a_setting_the_stack_provides_counts_with_stack(tmp_path, capsys):
    # GIVEN the app reads AUTH_SERVICE_ID, which Pulumi.development.yaml sets but the contract does not
    path = example_with(tmp_path, add=("AUTH_SERVICE_ID=platform",))
    # WHEN checked against the contract alone THEN it is a gap
    code, found = rows(capsys, path)
    assert code == EXIT_FINDINGS and found["AUTH_SERVICE_ID"]["check"] == "env.missing"
    assert "--stack" in found["AUTH_SERVICE_ID"]["fix"]
    # WHEN checked with the development stack THEN the stack provides it
    code, found = rows(capsys, path, "--stack", "development")
    assert code == EXIT_OK
    assert found["AUTH_SERVICE_ID"]["status"] == "ok"
    assert "stack development" in found["AUTH_SERVICE_ID"]["finding"]


def test_a_stack_setting_the_app_does_not_mention_is_a_warning(capsys):
    code, found = rows(capsys, MATCHING, "--stack", "development")
    assert code == EXIT_OK
    assert (found["AUTH_SERVICE_ID"]["check"], found["AUTH_SERVICE_ID"]["status"]) == ("env.unread", "warn")


def test_an_invalid_stack_cannot_be_checked_against(tmp_path, monkeypatch, capsys):
    # GIVEN a stack whose config lacks the incident's secret
    config = copy.deepcopy(DEV_VALUES)
    del config["hokusai:services"]["api"]["secrets"]["HUGGINGFACE_API_KEY"]
    (tmp_path / "Pulumi.broken.yaml").write_text(yaml.safe_dump({"config": config}))
    monkeypatch.setattr(envcheck, "PROJECT_DIR", tmp_path)
    # WHEN checked THEN exit 2 with the settings error, not a traceback
    code, out, err = run_cli(capsys, MATCHING, "--stack", "broken")
    assert code == EXIT_CANNOT_CHECK and out == ""
    assert "configuration problem" in err
    assert "hokusai:services.api.secrets.HUGGINGFACE_API_KEY" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "args, message",
    [
        (("--stack", "production"), "Pulumi.production.yaml does not exist"),
        (("--stack", "../development"), "is not a stack name"),
        (("--service", "mlflow", "--stack", "development"), "does not deploy the mlflow service"),
    ],
)
def test_a_stack_that_cannot_be_read_exits_2(capsys, args, message):
    code, _, err = run_cli(capsys, MATCHING, *args)
    assert code == EXIT_CANNOT_CHECK
    assert message in err


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


def test_an_unknown_service_exits_2_naming_the_known_ones(capsys):
    code, _, err = run_cli(capsys, MATCHING, "--service", "worker")
    assert code == EXIT_CANNOT_CHECK
    assert "'worker'" in err and all(key in err for key in CONTRACTS)


def test_json_output_parses_and_carries_the_verdict(tmp_path, capsys):
    code, out, _ = run_cli(capsys, example_with(tmp_path, drop=("DB_PASSWORD",)), "--json")
    report = json.loads(out)
    assert (code, report["exit_code"], report["passed"]) == (EXIT_FINDINGS, EXIT_FINDINGS, False)
    assert {"check", "subject", "status", "finding", "fix"} <= set(report["results"][0])


def test_the_other_services_contract_can_be_checked(tmp_path, capsys):
    path = tmp_path / ".env.example"
    path.write_text("".join(f"{name}=x\n" for name in provided_by_contract(CONTRACTS["mlflow"])))
    code, _, _ = run_cli(capsys, path, "--service", "mlflow")
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
    example = parse_env_example(MATCHING.read_text())
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
    assert parse_env_example(MATCHING.read_text()).active == frozenset(dotenv_values(MATCHING, interpolate=False))


def test_thousands_of_unreadable_lines_are_a_few_rows_and_a_count():
    example = parse_env_example("=\n" * 1000)
    assert len(example.unparsed) == envcheck.UNPARSED_SHOWN + 1
    assert example.unparsed[-1] == f"... and {1000 - envcheck.UNPARSED_SHOWN} more statements it could not parse"
