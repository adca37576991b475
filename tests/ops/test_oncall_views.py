"""The on-call views of one service against moto: make logs, make stopped-tasks, make task-env.

GIVEN a healthy copy of the development estate (synth/fake_estate.py), then the incidents
      injected one by one
THEN  stopped-tasks names each failed stop with what to do (exit 1) and keeps routine
      stops as ok; task-env judges the running revision, or any revision asked for, by
      the contract (exit 1 without the incident's secret) and shows names, never a value;
      logs finds the incident's line by its filter pattern, cannot drive the terminal, and
      stays within its bounds; and every call the three make is allowed by the read-only
      verify policy.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from core.contract import CONTRACTS
from ops import logs as logs_tool
from ops import stopped_tasks as stopped_tool
from ops import task_env as task_env_tool
from ops.aws import Aws
from ops.report import CannotCheck, Status
from synth.fake_estate import FAILURES
from tests.helpers import INCIDENT, INCIDENT_SERVICE
from tests.ops.test_verify_policy import IAM_PREFIX, PREFIX, allowed_actions

STACK = "development"  # the fake estate is a copy of the development stack


def outputs_of(fake, tmp_path: Path) -> Path:
    path = tmp_path / "outputs.json"
    fake.write(path)
    return path


def aws(boto_session) -> Aws:
    return Aws(region="us-east-1", session=boto_session)


def statuses(report, check: str) -> list[Status]:
    return [r.status for r in report.results if r.check == check]


# stopped-tasks ---------------------------------------------------------------------------------


def test_a_healthy_estate_has_no_failed_stop(fake, tmp_path, boto_session):
    report = stopped_tool.stopped_tasks(
        STACK, outputs=outputs_of(fake, tmp_path), service=INCIDENT_SERVICE, aws=aws(boto_session)
    )
    assert report.exit_code == 0, report.table()
    assert Status.FAIL not in statuses(report, "tasks.stopped")


def test_tasks_that_could_not_read_their_secret_are_named_with_what_to_do(fake, tmp_path, boto_session):
    FAILURES["rolled-back"](fake)
    report = stopped_tool.stopped_tasks(
        STACK, outputs=outputs_of(fake, tmp_path), service=INCIDENT_SERVICE, aws=aws(boto_session)
    )
    failed = [r for r in report.results if r.status is Status.FAIL]
    assert report.exit_code == 1 and failed, report.table()
    assert all("AccessDeniedException" in r.finding and "execution role" in r.fix for r in failed), report.table()


def test_a_routine_stop_is_ok_and_says_why(fake, tmp_path, boto_session):
    FAILURES["secret-missing-from-task-definition"](fake)  # replaces the tasks: "Scaling activity initiated by ..."
    report = stopped_tool.stopped_tasks(
        STACK, outputs=outputs_of(fake, tmp_path), service=INCIDENT_SERVICE, aws=aws(boto_session)
    )
    routine = [r for r in report.results if r.finding.startswith("routine:")]
    assert routine and all(r.status is Status.OK for r in routine), report.table()


# task-env ---------------------------------------------------------------------------------------


def test_the_running_revision_has_what_the_contract_requires(fake, tmp_path, boto_session):
    report = task_env_tool.task_env(
        STACK, outputs=outputs_of(fake, tmp_path), service=INCIDENT_SERVICE, aws=aws(boto_session)
    )
    assert report.exit_code == 0, report.table()
    secrets = [r.finding for r in report.results if r.check == "taskdef.secret"]
    assert len(secrets) == len(CONTRACTS[INCIDENT_SERVICE].secrets)


def test_a_revision_without_the_incidents_secret_fails_and_the_one_before_passes(fake, tmp_path, boto_session):
    FAILURES["secret-missing-from-task-definition"](fake)  # registers :2 without it and runs it
    outputs = outputs_of(fake, tmp_path)
    running = task_env_tool.task_env(STACK, outputs=outputs, service=INCIDENT_SERVICE, aws=aws(boto_session))
    assert running.exit_code == 1
    assert any(INCIDENT.missing_secret in r.finding and r.status is Status.FAIL for r in running.results), (
        running.table()
    )
    assert "make repair STACK=development" in running.table()
    before = task_env_tool.task_env(
        STACK, outputs=outputs, service=INCIDENT_SERVICE, revision="1", aws=aws(boto_session)
    )
    assert before.exit_code == 0, before.table()
    assert before.title.startswith(f"hokusai-{INCIDENT_SERVICE}-{STACK}:1")


class _Sentinels:
    """The moto ECS client, with every plain setting's value replaced by one a report must never show."""

    def __init__(self, ecs):
        self._ecs = ecs

    def __getattr__(self, name):
        return getattr(self._ecs, name)

    def describe_task_definition(self, **kwargs):
        answer = self._ecs.describe_task_definition(**kwargs)
        for container in answer["taskDefinition"]["containerDefinitions"]:
            for variable in container.get("environment") or []:
                variable["value"] = f"sentinel-value-of-{variable['name']}"
        return answer


class _Aws:
    def __init__(self, client):
        self._client = client

    def client(self, name):
        return self._client


def test_task_env_shows_names_never_values(fake, tmp_path, boto_session):
    ecs = _Sentinels(aws(boto_session).client("ecs"))
    report = task_env_tool.task_env(STACK, outputs=outputs_of(fake, tmp_path), service=INCIDENT_SERVICE, aws=_Aws(ecs))
    printed = report.table() + report.as_json() + report.markdown()
    definition = ecs.describe_task_definition(taskDefinition=fake.api["task_definition_arn"])["taskDefinition"]
    names = [v["name"] for c in definition["containerDefinitions"] for v in c.get("environment") or []]
    assert names and all(name in printed for name in names)
    assert "sentinel-value-of" not in printed


@pytest.mark.parametrize(
    ("revision", "problem"),
    [("0", "not a revision number"), ("x", "not a revision"), ("99", "there is no task definition")],
)
def test_a_revision_that_is_not_one_cannot_be_checked(fake, tmp_path, boto_session, revision, problem):
    with pytest.raises(CannotCheck, match=problem):
        task_env_tool.task_env(
            STACK,
            outputs=outputs_of(fake, tmp_path),
            service=INCIDENT_SERVICE,
            revision=revision,
            aws=aws(boto_session),
        )


def test_a_service_the_stack_does_not_have_cannot_be_checked(fake, tmp_path, boto_session):
    for tool in (task_env_tool.task_env, stopped_tool.stopped_tasks):
        with pytest.raises(CannotCheck, match="has no service 'nope'"):
            tool(STACK, outputs=outputs_of(fake, tmp_path), service="nope", aws=aws(boto_session))


# logs -------------------------------------------------------------------------------------------


def test_the_incidents_line_is_found_by_its_pattern(fake, tmp_path, boto_session):
    FAILURES["huggingface-errors-logged"](fake)
    group, events, cut = logs_tool.recent_lines(
        STACK,
        outputs=outputs_of(fake, tmp_path),
        service=INCIDENT_SERVICE,
        match=f'"{INCIDENT.message}"',
        aws=aws(boto_session),
    )
    assert group == fake.api["log_group_name"] and not cut
    assert [INCIDENT.message in e["message"] for e in events] == [True]
    assert INCIDENT.message in logs_tool.line(events[0])


@pytest.mark.parametrize("since", ["15m", "30s", "2h", "7d", "168h"])
def test_a_window_up_to_a_week_is_accepted(since):
    assert 0 < logs_tool.window_seconds(since) <= 7 * 86400


@pytest.mark.parametrize("since", ["0m", "8d", "15", "m", "15 m", "-1h", "1w", "15m; rm -rf /", ""])
def test_any_other_window_cannot_be_read(since):
    with pytest.raises(CannotCheck, match="is not a window up to 7 days"):
        logs_tool.window_seconds(since)


def test_a_log_line_cannot_drive_the_terminal():
    printed = logs_tool.line({"timestamp": 0, "logStreamName": "api/x", "message": "ok\x1b[2J\x07\rgone\n"})
    assert printed == "1970-01-01 00:00:00  api/x  ok?[2J??gone"


class _EndlessLogs:
    """A FilterLogEvents that always has another page."""

    def __init__(self):
        self.calls = 0

    def filter_log_events(self, **request: Any) -> dict[str, Any]:
        self.calls += 1
        return {"events": [{"timestamp": self.calls, "message": f"line {self.calls}"}], "nextToken": "more"}


def test_a_busy_group_is_read_within_a_bounded_number_of_pages(fake, tmp_path):
    endless = _EndlessLogs()
    _, events, cut = logs_tool.recent_lines(STACK, outputs=outputs_of(fake, tmp_path), limit=3, aws=_Aws(endless))
    assert cut and endless.calls == logs_tool.MAX_PAGES
    assert [e["message"] for e in events] == [
        f"line {n}" for n in range(logs_tool.MAX_PAGES - 2, logs_tool.MAX_PAGES + 1)
    ]


@pytest.mark.parametrize("limit", [0, logs_tool.MAX_LIMIT + 1])
def test_a_limit_out_of_bounds_cannot_be_read(limit):
    with pytest.raises(CannotCheck, match="--limit"):
        logs_tool.recent_lines(STACK, limit=limit)


def test_the_command_line_prints_only_the_lines_on_stdout(fake, tmp_path, boto_session, monkeypatch, capsys):
    FAILURES["huggingface-errors-logged"](fake)
    outputs = outputs_of(fake, tmp_path)
    monkeypatch.setattr(logs_tool, "Aws", lambda region=None: aws(boto_session))
    code = logs_tool.main(["--stack", STACK, "--outputs", str(outputs), "--service", INCIDENT_SERVICE, "--json"])
    out, err = capsys.readouterr()
    assert code == 0
    assert [INCIDENT.message in e["message"] for e in json.loads(out)["events"]] == [True]
    assert "1 line(s) of" in err


# the read-only policy ------------------------------------------------------------------------------


def test_the_verify_policy_allows_every_call_the_views_make(fake, tmp_path, boto_session):
    FAILURES["rolled-back"](fake)
    outputs = outputs_of(fake, tmp_path)
    session = aws(boto_session)
    stopped_tool.stopped_tasks(STACK, outputs=outputs, service=INCIDENT_SERVICE, aws=session)
    task_env_tool.task_env(STACK, outputs=outputs, service=INCIDENT_SERVICE, aws=session)
    task_env_tool.task_env(STACK, outputs=outputs, service=INCIDENT_SERVICE, revision="1", aws=session)
    logs_tool.recent_lines(STACK, outputs=outputs, service=INCIDENT_SERVICE, match="ERROR", aws=session)
    made = set()
    for call in session.calls:
        service, operation = call.split(":")
        prefix = PREFIX.get(service, service)
        made.add(f"{IAM_PREFIX.get(prefix, prefix)}:{operation}")
    assert {"ecs:ListTasks", "ecs:DescribeTasks", "ecs:DescribeTaskDefinition", "logs:FilterLogEvents"} <= made
    assert made - allowed_actions() == set()
