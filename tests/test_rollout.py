"""core/rollout.py on the shapes real ECS returns (which moto does not produce):
a circuit-breaker rollback announced in rolloutStateReason and service events,
the stop reasons ECS writes, a revision deployed by hand, a rollout COMPLETED
with tasks missing; and the deploy gate's waiting (throttling, a deployment not
started yet) against a scripted ECS and a clock that moves only when slept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core import rollout
from tests.ecs_stubs import NOW, T1, T2, ScriptedEcs, completed, service


class StubEcs:
    """Answers like ECS after a circuit-breaker rollback of :152 back to :151."""

    def __init__(self, described):
        self.described = described
        self.calls = []

    def describe_services(self, **kwargs):
        self.calls.append("DescribeServices")
        return {"services": [self.described]}

    def list_tasks(self, **kwargs):
        self.calls.append("ListTasks")
        return {"taskArns": ["arn:aws:ecs:us-east-1:123456789012:task/hokusai-development/0a1b2c3d"]}

    def describe_tasks(self, **kwargs):
        self.calls.append("DescribeTasks")
        return {
            "tasks": [
                {
                    "taskArn": kwargs["tasks"][0],
                    "taskDefinitionArn": T2,
                    "lastStatus": "STOPPED",
                    "stoppedReason": "ResourceInitializationError: unable to pull secrets or registry auth: "
                    "AccessDeniedException: not authorized to perform: "
                    "secretsmanager:GetSecretValue",
                    "containers": [{"exitCode": None}],
                }
            ]
        }


def test_a_rollback_announced_by_ecs_still_names_why_the_tasks_stopped():
    ecs = StubEcs(service(reason="ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/123"))
    assessment = rollout.look(ecs, "hokusai-development", "hokusai-api-development", T2)
    assert assessment.state is rollout.Rollout.ROLLED_BACK
    assert "ListTasks" in ecs.calls and assessment.stopped
    message = rollout.failure_message("hokusai-api-development", assessment)
    assert "AccessDeniedException" in message and "execution role may not read a secret" in message
    assert "no stopped task explains it" not in message


def test_an_old_rollback_in_the_events_does_not_make_a_stale_service_look_rolled_back():
    old_event = ("(service hokusai-api-development) deployment circuit breaker: rolling back", NOW - timedelta(days=3))
    assessment = rollout.assess(service(events=[old_event]), T2)
    assert assessment.state is rollout.Rollout.STALE


def test_a_fresh_rollback_event_is_recognised():
    event = ("(service hokusai-api-development) deployment circuit breaker: rolling back", NOW + timedelta(minutes=2))
    assert rollout.assess(service(events=[event]), T2).state is rollout.Rollout.ROLLED_BACK


def test_a_completed_rollout_of_the_declared_revision_succeeds():
    described = service(primary_td=T2)
    described["deployments"][0]["rolloutState"] = "COMPLETED"
    assert rollout.assess(described, T2).succeeded


def test_the_primary_deployment_is_the_one_with_status_primary():
    active = {"status": "ACTIVE", "taskDefinition": T1, "runningCount": 1}
    primary = {"status": "PRIMARY", "taskDefinition": T2, "runningCount": 0}
    assert rollout.primary_deployment({"deployments": [active, primary]}) is primary
    assert rollout.primary_deployment({"deployments": [active]}) is None
    assert rollout.primary_deployment({"deployments": None}) is None
    assert rollout.primary_deployment(None) is None


# --------------------------------------------------------------------------- #
# Stop reasons: routine or failure, on the texts ECS really writes
# --------------------------------------------------------------------------- #


def stopped(reason, revision=T2, containers=()):
    return rollout.StoppedTask(
        "arn:aws:ecs:us-east-1:123456789012:task/hokusai-development/0a1b", revision, reason, containers
    )


@pytest.mark.parametrize("row", rollout.ROUTINE_STOPS, ids=lambda r: r.example[:40])
def test_each_routine_reason_ecs_gives_is_routine(row):
    assert rollout.classify_stop(stopped(row.example)) == (rollout.StopKind.ROUTINE, row.meaning)


@pytest.mark.parametrize("row", rollout.FAILURE_STOPS, ids=lambda r: r.example[:40])
def test_each_failure_reason_ecs_gives_gets_its_own_fix(row):
    """Each row's real text lands on that row, not on an earlier, more general one."""
    assert rollout.classify_stop(stopped(row.example)) == (rollout.StopKind.FAILURE, row.meaning)


def test_a_routine_stop_stays_routine_whatever_its_container_exit_code():
    """ECS kills a container that ignores SIGTERM: exit 137 after a deployment's stop is not an OOM."""
    task = stopped(
        "Scaling activity initiated by (deployment ecs-svc/8646900195280463695)", containers=("exit code 137",)
    )
    assert rollout.is_routine(task)


def test_a_reason_nobody_listed_is_shown_not_taken_for_routine():
    task = stopped("Task stopped due to a mystery")
    assert rollout.classify_stop(task)[0] is rollout.StopKind.UNKNOWN and not rollout.is_routine(task)


def test_routine_reasons_are_matched_where_ecs_puts_them_not_anywhere():
    """A failure that merely mentions a routine phrase is still a failure."""
    task = stopped("Essential container in task exited", containers=("Scaling activity initiated by nobody",))
    assert rollout.classify_stop(task)[0] is rollout.StopKind.FAILURE


def test_a_routine_stop_of_the_declared_revision_is_no_rollback():
    """A hand deployment stops the declared revision's tasks routinely: that explains nothing."""
    replaced = stopped("Scaling activity initiated by (deployment ecs-svc/8646900195280463695)", revision=T2)
    assert rollout.assess(service(primary_td=T1), T2, [replaced]).state is rollout.Rollout.STALE
    failed = stopped("Essential container in task exited", revision=T2, containers=("exit code 1",))
    assessment = rollout.assess(service(primary_td=T1), T2, [replaced, failed])
    assert assessment.state is rollout.Rollout.ROLLED_BACK and assessment.stopped == (failed,)


def test_the_gate_message_never_offers_a_routine_stop_as_the_cause():
    replaced = stopped("Scaling activity initiated by (deployment ecs-svc/8646900195280463695)")
    assessment = rollout.Assessment(rollout.Rollout.FAILED, "the rollout of x failed", stopped=(replaced,))
    assert "Scaling activity" not in rollout.failure_message("s", assessment)


# --------------------------------------------------------------------------- #
# A revision deployed by hand, told apart from a rollback and a stale service
# --------------------------------------------------------------------------- #

T3 = "arn:aws:ecs:us-east-1:123456789012:task-definition/hokusai-api-development:153"
REGISTERED = {
    "taskDefinitionArn": T3,
    "registeredBy": "arn:aws:sts::123456789012:assumed-role/hokusai-app-deploy/GitHubActions",
    "registeredAt": datetime(2025, 10, 7, 14, 3, 11, tzinfo=UTC),
}


def test_a_newer_revision_running_without_a_rollback_is_a_hand_deployment_named_with_who_and_when():
    assessment = rollout.assess(service(primary_td=T3), T2, running_definition=REGISTERED)
    assert assessment.state is rollout.Rollout.HAND_DEPLOYED
    assert assessment.summary == (
        "the service runs revision hokusai-api-development:153, not the declared hokusai-api-development:152; "
        "hokusai-api-development:153 was registered outside the stack (registered by "
        "arn:aws:sts::123456789012:assumed-role/hokusai-app-deploy/GitHubActions at 2025-10-07T14:03:11+00:00)"
    )
    assert "roll" not in assessment.summary


def test_a_revision_the_stacks_own_deployer_registered_is_said_to_come_from_a_failed_pulumi_up():
    """A failed `pulumi up` keeps the old stack outputs: its own newer revision looks foreign to them."""
    deployer = "arn:aws:sts::123456789012:assumed-role/hokusai-deployer/"
    declared = {"registeredBy": deployer + "run-42"}
    by_the_deployer = {**REGISTERED, "registeredBy": deployer + "run-43"}
    summary = rollout.assess(service(primary_td=T3), T2, [], by_the_deployer, declared).summary
    assert "the same principal registered the declared revision" in summary
    summary = rollout.assess(service(primary_td=T3), T2, [], REGISTERED, declared).summary
    assert "same principal" not in summary


def test_a_revision_of_another_family_is_outside_the_stack_too():
    other = "arn:aws:ecs:us-east-1:123456789012:task-definition/hokusai-api-hotfix:1"
    assessment = rollout.assess(service(primary_td=other), T2)
    assert assessment.state is rollout.Rollout.HAND_DEPLOYED
    assert "ECS does not say who registered it or when" in assessment.summary


def test_an_older_revision_running_without_a_rollback_is_stale_not_a_hand_deployment():
    assert rollout.assess(service(primary_td=T1), T2).state is rollout.Rollout.STALE


@pytest.mark.parametrize(
    "evidence",
    [
        {"reason": "ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/123"},
        {"events": [("(service hokusai-api-development) rolling back to deployment ecs-svc/1", NOW)]},
    ],
)
def test_rollback_evidence_wins_over_a_newer_revision(evidence):
    assert rollout.assess(service(primary_td=T3, **evidence), T2).state is rollout.Rollout.ROLLED_BACK


def test_the_failed_deployment_of_the_declared_revision_is_rollback_evidence():
    described = service(primary_td=T1)
    described["deployments"].append({"status": "ACTIVE", "taskDefinition": T2, "rolloutState": "FAILED"})
    assert rollout.assess(described, T2).state is rollout.Rollout.ROLLED_BACK
    described["deployments"][-1]["rolloutState"] = "COMPLETED"
    assert rollout.assess(described, T2).state is rollout.Rollout.STALE


@pytest.mark.parametrize(
    ("revision", "declared", "outside"),
    [
        (T3, T2, True),  # newer than anything the stack registered
        (T2, T2, False),
        (T1, T2, False),  # older: the stack registered it before
        ("arn:aws:ecs:us-east-1:123456789012:task-definition/other:1", T2, True),
        ("", T2, False),
        ("not an arn", T2, False),
    ],
)
def test_registered_outside_the_stack(revision, declared, outside):
    assert rollout.registered_outside_the_stack(revision, declared) is outside


# --------------------------------------------------------------------------- #
# Completed means every desired task runs
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(("running", "desired", "done"), [(2, 2, True), (3, 2, True), (1, 2, False), (0, 2, False)])
def test_a_completed_rollout_succeeds_only_when_the_desired_tasks_run(running, desired, done):
    assessment = rollout.assess(completed(running, desired), T2)
    assert assessment.succeeded is done
    if not done:
        assert assessment.state is rollout.Rollout.IN_PROGRESS
        assert f"only {running} of {desired} desired tasks run" in assessment.summary


# --------------------------------------------------------------------------- #
# Waiting: a stub ECS that answers a script, a clock that moves only when slept
# --------------------------------------------------------------------------- #


def throttled(code="ThrottlingException", status=400):
    error = Exception(f"{code}: Rate exceeded")
    error.response = {
        "Error": {"Code": code, "Message": "Rate exceeded"},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return error


class Clock:
    def __init__(self):
        self.now, self.sleeps = 0.0, []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def wait(ecs, clock, timeout=120, poll=10, **kwargs):
    return rollout.wait_for_rollout(
        ecs,
        "c",
        "s",
        T2,
        timeout_seconds=timeout,
        poll_seconds=poll,
        clock=clock,
        sleep=clock.sleep,
        jitter=lambda: 1.0,
        **kwargs,
    )


def test_throttling_then_an_answer_within_the_deadline_passes_after_backing_off():
    ecs, clock = (
        ScriptedEcs(
            throttled(), throttled("TooManyRequestsException"), throttled("ServerException", 500), completed(2, 2)
        ),
        Clock(),
    )
    assert wait(ecs, clock).succeeded
    assert clock.sleeps == [10, 20, 40]  # doubling from the poll interval


def test_backoff_is_capped_and_never_sleeps_past_the_deadline():
    ecs, clock = ScriptedEcs(throttled()), Clock()
    with pytest.raises(rollout.CouldNotLook):
        wait(ecs, clock, timeout=200, poll=15)
    assert max(clock.sleeps) <= rollout.MAX_BACKOFF_SECONDS
    assert sum(clock.sleeps) == 200


def test_throttling_past_the_deadline_fails_saying_so():
    ecs, clock = ScriptedEcs(completed(1, 2), throttled("RequestLimitExceeded")), Clock()
    with pytest.raises(rollout.CouldNotLook) as caught:
        wait(ecs, clock, timeout=60)
    message = str(caught.value)
    assert "throttling or server errors until the gate's 60 s timeout" in message
    assert "RequestLimitExceeded: Rate exceeded" in message
    assert "only 1 of 2 desired tasks run" in message  # what it saw before AWS stopped answering


def test_an_error_that_is_not_throttling_is_not_waited_out():
    denied = throttled("AccessDeniedException")
    ecs, clock = ScriptedEcs(denied), Clock()
    with pytest.raises(Exception, match="AccessDeniedException"):
        wait(ecs, clock)
    assert ecs.looks == 1 and clock.sleeps == []


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (throttled(), True),
        (throttled("Throttling"), True),
        (throttled("TooManyRequestsException"), True),
        (throttled("RequestLimitExceeded"), True),
        (throttled("SomethingNew", 503), True),
        (throttled("AccessDeniedException"), False),
        (throttled("ClusterNotFoundException"), False),
        (ValueError("no response at all"), False),
    ],
)
def test_what_counts_as_transient(error, transient):
    assert rollout.is_transient(error) is transient


def test_completed_with_fewer_tasks_than_desired_keeps_waiting_then_fails_naming_the_counts():
    ecs, clock = ScriptedEcs(completed(1, 2)), Clock()
    assessment = wait(ecs, clock, timeout=60)
    assert not assessment.succeeded and ecs.looks == 7  # every 10 s until 60 s
    assert assessment.summary == (
        "timed out after 60 s: hokusai-api-development:152 rolled out, but only 1 of 2 desired tasks run"
    )


def test_a_deployment_that_has_not_started_yet_is_waited_for():
    """Right after UpdateService the old deployment (old revision) can still be PRIMARY."""
    ecs, clock = ScriptedEcs(completed(2, 2, td=T1, deployment_id="ecs-svc/1"), completed(2, 2)), Clock()
    assessment = wait(ecs, clock)
    assert assessment.succeeded and ecs.looks == 2


def test_the_deployment_the_gate_accepted_last_time_is_not_judged_again():
    """A network-only change keeps the revision: the old deployment would look COMPLETED."""
    old = completed(2, 2, deployment_id="ecs-svc/1")
    ecs, clock = ScriptedEcs(old, old, completed(2, 2, deployment_id="ecs-svc/2")), Clock()
    assessment = wait(ecs, clock, previous_deployment_id="ecs-svc/1")
    assert assessment.succeeded and assessment.deployment_id == "ecs-svc/2" and ecs.looks == 3


def test_a_deployment_that_never_starts_fails_at_the_timeout_saying_so():
    ecs, clock = ScriptedEcs(completed(2, 2, deployment_id="ecs-svc/1")), Clock()
    assessment = wait(ecs, clock, timeout=30, previous_deployment_id="ecs-svc/1")
    assert assessment.state is rollout.Rollout.NOT_STARTED
    assert "the new deployment has not started: the PRIMARY deployment is still ecs-svc/1" in assessment.summary
    assert "--force-new-deployment" in rollout.failure_message("s", assessment)


def test_the_gate_names_who_registered_a_revision_that_runs_without_the_stack():
    ecs, clock = ScriptedEcs(completed(2, 2, td=T3), definitions={T3: REGISTERED}), Clock()
    assessment = wait(ecs, clock, timeout=20)
    assert assessment.state is rollout.Rollout.HAND_DEPLOYED
    assert "registered by arn:aws:sts::123456789012:assumed-role/hokusai-app-deploy/GitHubActions" in assessment.summary
    message = rollout.failure_message("hokusai-api-development", assessment)
    assert 'runbook: RUNBOOK.md ("A revision deployed by hand")' in message and "roll" not in message.lower()


def test_a_failure_seen_once_is_looked_at_again_before_failing():
    rolled_back = service(
        primary_td=T1, reason="ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/0"
    )
    ecs, clock = ScriptedEcs(rolled_back, completed(2, 2)), Clock()
    assert wait(ecs, clock).succeeded
    ecs, clock = ScriptedEcs(rolled_back), Clock()
    assessment = wait(ecs, clock)
    assert assessment.state is rollout.Rollout.ROLLED_BACK and ecs.looks == 2
    assert not assessment.summary.startswith("timed out")
