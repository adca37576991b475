"""core/rollout.py on the shapes real ECS returns (which moto does not produce):
a circuit-breaker rollback announced in rolloutStateReason and service events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core import rollout

T1 = "arn:aws:ecs:us-east-1:123456789012:task-definition/hokusai-api-development:151"
T2 = "arn:aws:ecs:us-east-1:123456789012:task-definition/hokusai-api-development:152"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def service(primary_td=T1, reason="", events=(), created=NOW):
    return {
        "status": "ACTIVE",
        "runningCount": 2,
        "desiredCount": 2,
        "deployments": [
            {
                "status": "PRIMARY",
                "taskDefinition": primary_td,
                "rolloutState": "IN_PROGRESS",
                "rolloutStateReason": reason,
                "runningCount": 2,
                "desiredCount": 2,
                "createdAt": created,
            }
        ],
        "events": [{"message": m, "createdAt": at} for m, at in events],
    }


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
