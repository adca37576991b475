"""Stand-ins for ECS where moto cannot produce the shape: DescribeServices answers
as real ECS gives them, and a client that answers from a script.

Shared by tests/test_rollout.py (core/rollout.py) and tests/test_deploy_gate.py (the gate).
"""

from __future__ import annotations

from datetime import UTC, datetime

T1 = "arn:aws:ecs:us-east-1:123456789012:task-definition/hokusai-api-development:151"
T2 = "arn:aws:ecs:us-east-1:123456789012:task-definition/hokusai-api-development:152"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def service(primary_td=T1, reason="", events=(), created=NOW):
    """A DescribeServices service whose PRIMARY deployment runs `primary_td`, rolling out."""
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


def completed(running, desired, td=T2, deployment_id="ecs-svc/2"):
    """A service whose PRIMARY deployment (`deployment_id`, running `td`) COMPLETED with these counts."""
    described = service(primary_td=td)
    described["deployments"][0].update(
        rolloutState="COMPLETED", runningCount=running, desiredCount=desired, id=deployment_id
    )
    return described


class ScriptedEcs:
    """DescribeServices answers (or raises) from a script; the last entry repeats.
    DescribeTaskDefinition answers from `definitions` (ARN -> taskDefinition)."""

    def __init__(self, *script, definitions=None):
        self.script = list(script)
        self.looks = 0
        self.definitions = definitions or {}

    def describe_services(self, **kwargs):
        step = self.script[min(self.looks, len(self.script) - 1)]
        self.looks += 1
        if isinstance(step, Exception):
            raise step
        return {"services": [step]}

    def list_tasks(self, **kwargs):
        return {"taskArns": []}

    def describe_task_definition(self, taskDefinition, **kwargs):
        return {"taskDefinition": self.definitions.get(taskDefinition, {"taskDefinitionArn": taskDefinition})}
