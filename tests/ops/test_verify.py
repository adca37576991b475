"""verify against moto: a healthy copy of the development estate passes; each
failure of the incidents, injected on its own, fails exactly the check that
should notice it, with its fix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core import naming
from core.contract import CONTRACTS
from ops import verify as verify_tool
from ops.aws import Aws
from ops.report import Status
from synth.fake_estate import FAILURES
from tests.helpers import DEV_VALUES, INCIDENT, INCIDENT_SERVICE

# The fake estate is a copy of the development stack; its failures are the incident's service's.
FAMILY = naming.service_name(INCIDENT_SERVICE, "development")

# failure -> (checks that must FAIL and nothing else, words the finding or fix must contain)
EXPECTED = {
    "secret-missing-from-task-definition": ({"taskdef.secret"}, INCIDENT.message),
    "secret-deleted": ({"secret.exists"}, "restore-secret"),
    "secret-empty": ({"secret.value"}, "put-secret-value"),
    # fake_estate points the incident's secret at the database password's ARN
    "value-from-wrong-secret": (
        {"taskdef.secret"},
        DEV_VALUES["hokusai:services"][INCIDENT_SERVICE]["secrets"]["DB_PASSWORD"]["existing"],
    ),
    "secret-json-key-wrong": ({"taskdef.secret"}, "JSON key"),
    "stale-revision": ({"service.rollout"}, f"not the declared {FAMILY}:2"),
    "rolled-back": ({"service.rollout"}, "was rolled back"),
    "revision-deployed-by-hand": ({"service.rollout"}, "was registered outside the stack"),
    "running-below-desired": ({"service.running", "service.rollout"}, "2 of 3 desired tasks run"),
    "redis-rule-removed": ({"dependency.access"}, "redis_from_data_pipeline_ecs"),
    # fake_estate removes the rule admitting the incident's service into PostgreSQL
    "postgres-rule-removed": ({"dependency.access"}, f"postgres_from_{INCIDENT_SERVICE}"),
    "metric-filter-removed": ({"logs.filter"}, INCIDENT.message),
    "alarm-removed": ({"alarms.exists"}, naming.alarm_name(INCIDENT_SERVICE, "development", INCIDENT.key)),
    "alarm-firing": ({"alarms.state"}, "Threshold Crossed"),
    "health-check-path-changed": (
        {"lb.health_check"},
        f"declared {CONTRACTS[INCIDENT_SERVICE].health_check_path!r}",
    ),
    "plaintext-secret-in-environment": ({"taskdef.plaintext"}, "rotate"),
    "execution-role-without-grant": ({"iam.grant"}, "ResourceInitializationError"),
    "old-revision-still-running": ({"service.old_revisions"}, f"{FAMILY}:2"),
    "huggingface-errors-logged": ({"logs.recent"}, INCIDENT.message),
}


# failure -> (checks that must WARN, with nothing failing; words the warning must contain)
WARNED = {
    "revision-registered-outside-the-stack": ({"taskdef.outside_stack"}, f"{FAMILY}:2"),
}


def run_verify(fake, tmp_path: Path, boto_session, **kwargs):
    outputs = tmp_path / "outputs.json"
    fake.write(outputs)
    aws = Aws(region="us-east-1", session=boto_session)
    return verify_tool.verify("development", outputs=outputs, aws=aws, **kwargs), aws


def test_every_injectable_failure_has_an_expectation():
    assert set(EXPECTED) | set(WARNED) == set(FAILURES)
    assert not set(EXPECTED) & set(WARNED)


def test_a_healthy_copy_of_the_development_estate_passes(fake, tmp_path, boto_session):
    report, aws = run_verify(fake, tmp_path, boto_session)
    assert report.exit_code == 0, report.table()
    assert [r for r in report.results if r.status is not Status.OK] == []
    checks = {r.check for r in report.results}
    assert {
        "service.rollout",
        "taskdef.secret",
        "secret.exists",
        "iam.grant",
        "lb.targets",
        "dependency.access",
        "logs.filter",
        "alarms.state",
    } <= checks
    services = fake.estate["services"]
    assert report.notes == [
        f"{aws.call_count} AWS API calls for {len(services)} service(s)",
        *(f"dashboard {s['key']}: {s['dashboard_url']}" for s in services),
    ]


def test_the_verifier_never_reads_a_secret_value(fake, tmp_path, boto_session):
    report, aws = run_verify(fake, tmp_path, boto_session, scan_logs=True)
    assert not [call for call in aws.calls if call.startswith("secretsmanager:GetSecretValue")]
    assert all(call.split(":")[1].startswith(("Describe", "List", "Get", "Filter")) for call in aws.calls), aws.calls


@pytest.mark.parametrize("failure", sorted(EXPECTED))
def test_each_injected_failure_is_found_with_its_fix(fake, tmp_path, boto_session, failure):
    FAILURES[failure](fake)
    report, _ = run_verify(fake, tmp_path, boto_session, scan_logs=(failure == "huggingface-errors-logged"))
    checks, words = EXPECTED[failure]
    failed = {r.check for r in report.failures}
    assert report.exit_code == 1
    assert failed == checks, report.table()
    assert all(r.fix for r in report.failures)
    assert any(words in f"{r.subject} {r.finding} {r.fix}" for r in report.failures), report.table()


@pytest.mark.parametrize("failure", sorted(WARNED))
def test_each_injected_warning_is_found_without_failing_the_run(fake, tmp_path, boto_session, failure):
    FAILURES[failure](fake)
    report, _ = run_verify(fake, tmp_path, boto_session)
    checks, words = WARNED[failure]
    warned = [r for r in report.results if r.status is Status.WARN]
    assert report.exit_code == 0, report.table()
    assert {r.check for r in warned} == checks, report.table()
    assert all(r.fix for r in warned)
    assert any(words in f"{r.subject} {r.finding}" for r in warned), report.table()


def test_a_revision_deployed_by_hand_is_named_as_such_and_never_called_a_rollback(fake, tmp_path, boto_session):
    FAILURES["revision-deployed-by-hand"](fake)
    report, _ = run_verify(fake, tmp_path, boto_session)
    (rollout,) = [r for r in report.results if r.check == "service.rollout" and r.subject == FAMILY]
    assert rollout.finding.startswith(
        f"the service runs revision {FAMILY}:2, not the declared {FAMILY}:1; "
        f"{FAMILY}:2 was registered outside the stack ("
    )
    assert "make repair STACK=development" in rollout.fix and "A revision deployed by hand" in rollout.fix
    everything = " ".join(f"{r.check} {r.finding} {r.fix}" for r in report.results).lower()
    assert "rolled back" not in everything and "rolling back" not in everything
    # The declared revision's tasks were stopped by the hand deployment: routine, not a cause.
    assert [r for r in report.results if r.check == "tasks.stopped"] == []


def test_a_rolled_back_deployment_is_not_called_a_hand_deployment(fake, tmp_path, boto_session):
    FAILURES["rolled-back"](fake)
    report, _ = run_verify(fake, tmp_path, boto_session)
    (rollout,) = [r for r in report.results if r.check == "service.rollout" and r.subject == FAMILY]
    assert "was rolled back" in rollout.finding and "outside the stack" not in rollout.finding


def test_a_rollback_shows_why_the_tasks_stopped_and_what_to_do(fake, tmp_path, boto_session):
    FAILURES["rolled-back"](fake)
    report, _ = run_verify(fake, tmp_path, boto_session)
    stopped = [r for r in report.results if r.check == "tasks.stopped"]
    assert stopped and all(r.status is Status.WARN for r in stopped)
    assert "AccessDeniedException" in stopped[0].finding
    assert "execution role may not read a secret" in stopped[0].fix


def test_the_command_line_prints_json_and_a_step_summary(fake, tmp_path, monkeypatch, capsys, boto_session):
    outputs, summary = tmp_path / "outputs.json", tmp_path / "summary.md"
    FAILURES["redis-rule-removed"](fake)
    fake.write(outputs)
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setattr(verify_tool, "Aws", lambda region: Aws(region=region, session=boto_session))
    code = verify_tool.main(["--stack", "development", "--outputs", str(outputs), "--json"])
    printed = json.loads(capsys.readouterr().out)
    assert code == 1 and printed["exit_code"] == 1 and not printed["passed"]
    assert {r["check"] for r in printed["results"] if r["status"] == "FAIL"} == {"dependency.access"}
    assert "| dependency.access | ❌ FAIL |" in summary.read_text()


def test_missing_outputs_cannot_be_checked(tmp_path, capsys):
    assert verify_tool.main(["--stack", "development", "--outputs", str(tmp_path / "nope.json")]) == 2
    assert "nope.json does not exist: pass the path of the stack outputs file" in capsys.readouterr().err


def test_outputs_of_another_stack_are_refused(fake, tmp_path, capsys):
    outputs = tmp_path / "outputs.json"
    fake.write(outputs)
    assert verify_tool.main(["--stack", "production", "--outputs", str(outputs)]) == 2
    assert "describes stack 'development', not 'production'" in capsys.readouterr().err


def test_without_the_pulumi_cli_or_a_file_it_says_how_to_get_the_outputs(monkeypatch, capsys):
    monkeypatch.setattr("shutil.which", lambda name: None)
    assert verify_tool.main(["--stack", "development"]) == 2
    assert "pulumi stack output --json --stack development > outputs.json" in capsys.readouterr().err


def test_an_unreachable_endpoint_cannot_be_checked(dev_run, tmp_path, monkeypatch, capsys, aws_env):
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"estate": dev_run.outputs}))
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # discard port: nothing listens
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    assert verify_tool.main(["--stack", "development", "--outputs", str(outputs)]) == 2
    assert "AWS is unreachable while describing the ECS services" in capsys.readouterr().err


def test_no_credentials_cannot_be_checked(dev_run, tmp_path, monkeypatch, capsys, aws_env):
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"estate": dev_run.outputs}))
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    assert verify_tool.main(["--stack", "development", "--outputs", str(outputs)]) == 2
    assert "no AWS credentials" in capsys.readouterr().err


def test_an_aws_error_past_the_retries_cannot_be_checked(fake, tmp_path, monkeypatch, capsys, boto_session):
    import botocore.exceptions

    outputs = tmp_path / "outputs.json"
    fake.write(outputs)

    def throttled(*args, **kwargs):
        raise botocore.exceptions.ClientError(
            {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "DescribeAlarms"
        )

    monkeypatch.setattr(verify_tool, "collect", throttled)
    assert verify_tool.main(["--stack", "development", "--outputs", str(outputs)]) == 2
    err = capsys.readouterr().err
    assert "could not check: AWS answered with an error" in err and "ThrottlingException" in err
    assert "Traceback" not in err
