"""Where an ECS service's deployment stands, and why tasks stopped.

Shared by `verify` (one look) and the deploy gate (waits until the rollout is
settled). `pulumi up` alone reports success after a circuit-breaker rollback
(pulumi-awsx#1848, terraform-aws-ecs#325): the service is "steady" again, on the
old revision. These functions tell the difference.

`assess` and `explain_stop` are pure (they read DescribeServices/DescribeTasks
responses); `wait_for_rollout` drives an ECS client.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Rollout(StrEnum):
    COMPLETED = "completed"  # the declared revision is PRIMARY and its rollout completed
    IN_PROGRESS = "in progress"  # the declared revision is rolling out
    FAILED = "failed"  # the declared revision's rollout failed (circuit breaker, no rollback)
    ROLLED_BACK = "rolled back"  # the declared revision failed and ECS went back to an older one
    STALE = "stale"  # the service runs another revision than the one declared
    MISSING = "missing"  # no such service, or not ACTIVE


@dataclass(frozen=True)
class StoppedTask:
    task_arn: str
    task_definition_arn: str
    reason: str
    container_reasons: tuple[str, ...] = ()

    @property
    def revision(self) -> str:
        return revision_of(self.task_definition_arn)

    def describe(self) -> str:
        details = "; ".join(r for r in self.container_reasons if r)
        return f"{self.reason}" + (f" ({details})" if details else "")


@dataclass(frozen=True)
class Assessment:
    state: Rollout
    summary: str
    running_revision: str = ""
    stopped: tuple[StoppedTask, ...] = field(default_factory=tuple)

    @property
    def settled(self) -> bool:
        return self.state is not Rollout.IN_PROGRESS

    @property
    def succeeded(self) -> bool:
        return self.state is Rollout.COMPLETED


def revision_of(task_definition_arn: str) -> str:
    """`arn:...:task-definition/hokusai-api-development:151` -> `hokusai-api-development:151`."""
    return task_definition_arn.rsplit("/", 1)[-1] if task_definition_arn else "?"


def primary_deployment(service: dict[str, Any] | None) -> dict[str, Any] | None:
    """The service's PRIMARY deployment (the one ECS rolls toward and keeps), or None.

    The one place that says which of DescribeServices' `deployments` is "the"
    deployment: assess, verify and the deploy gate all ask through here.
    """
    deployments = (service or {}).get("deployments") or []
    return next((d for d in deployments if d.get("status") == "PRIMARY"), None)


_ROLLBACK_WORDS = re.compile(r"roll(ed|ing)?[ -]?back|circuit breaker", re.IGNORECASE)


def assess(
    service: dict[str, Any] | None, declared_task_definition: str, stopped_tasks: Iterable[StoppedTask] = ()
) -> Assessment:
    """Where the service's deployment of `declared_task_definition` stands."""
    if not service or service.get("status") != "ACTIVE":
        status = (service or {}).get("status", "not found")
        return Assessment(Rollout.MISSING, f"the service is {status}")
    declared = revision_of(declared_task_definition)
    deployments = service.get("deployments") or []
    primary = primary_deployment(service)
    if primary is None:
        return Assessment(Rollout.MISSING, "the service has no PRIMARY deployment")
    running = revision_of(primary.get("taskDefinition", ""))
    failed_here = tuple(t for t in stopped_tasks if t.task_definition_arn == declared_task_definition)
    state_reason = primary.get("rolloutStateReason") or ""

    if primary.get("taskDefinition") != declared_task_definition:
        # Only events since the PRIMARY deployment began: an older rollback is history.
        since = primary.get("createdAt")
        events = " ".join(
            e.get("message", "")
            for e in (service.get("events") or [])[:20]
            if since is None or e.get("createdAt") is None or e["createdAt"] >= since
        )
        rolled_back = bool(failed_here) or bool(_ROLLBACK_WORDS.search(state_reason + " " + events))
        if rolled_back:
            why = f": {failed_here[0].describe()}" if failed_here else ""
            return Assessment(
                Rollout.ROLLED_BACK,
                f"the deployment of {declared} was rolled back; the service runs {running}{why}",
                running,
                failed_here,
            )
        return Assessment(Rollout.STALE, f"the service runs {running}, not the declared {declared}", running)

    state = primary.get("rolloutState")
    if state == "FAILED":
        why = f": {failed_here[0].describe()}" if failed_here else (f": {state_reason}" if state_reason else "")
        return Assessment(Rollout.FAILED, f"the rollout of {declared} failed{why}", running, failed_here)
    if state == "IN_PROGRESS":
        return Assessment(
            Rollout.IN_PROGRESS,
            f"{declared} is still rolling out "
            f"({primary.get('runningCount', 0)}/{primary.get('desiredCount', 0)} running)",
            running,
            failed_here,
        )
    # COMPLETED, or no rolloutState at all (services without the circuit breaker).
    others = [d for d in deployments if d is not primary and d.get("runningCount", 0) > 0]
    if others:
        old = ", ".join(f"{revision_of(d.get('taskDefinition', ''))} ({d.get('runningCount')} running)" for d in others)
        return Assessment(
            Rollout.IN_PROGRESS, f"{declared} is PRIMARY but older deployments still run: {old}", running, failed_here
        )
    return Assessment(Rollout.COMPLETED, f"{declared} is deployed and its rollout completed", running)


def stopped_tasks_from(tasks: Iterable[dict[str, Any]]) -> list[StoppedTask]:
    """StoppedTask for each STOPPED task of a DescribeTasks response, newest first."""
    stopped = [t for t in tasks if t.get("lastStatus") == "STOPPED" or t.get("desiredStatus") == "STOPPED"]
    stopped.sort(key=lambda t: str(t.get("stoppedAt") or t.get("createdAt") or ""), reverse=True)
    return [
        StoppedTask(
            task_arn=t.get("taskArn", ""),
            task_definition_arn=t.get("taskDefinitionArn", ""),
            reason=t.get("stoppedReason") or "no reason given",
            container_reasons=tuple(
                c.get("reason") or (f"exit code {c['exitCode']}" if c.get("exitCode") not in (None, 0) else "")
                for c in t.get("containers") or []
            ),
        )
        for t in stopped
    ]


# Known stop reasons -> what to do. First match wins; order from specific to general.
_FIXES: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(
            r"AccessDenied.*secretsmanager|secretsmanager.*AccessDenied|not authorized to perform: "
            r"secretsmanager",
            re.I | re.S,
        ),
        "the execution role may not read a secret the task references: check the grant (make verify) and "
        "make repair (pulumi up --refresh); the grant is derived from the task's secrets list",
    ),
    (
        re.compile(r"ResourceNotFoundException|Secrets Manager can't find|secret.*(not found|does not exist)", re.I),
        "a secret the task references does not exist or has no value (AWSCURRENT): create it or put its value, "
        "then force a new deployment",
    ),
    (
        re.compile(r"ResourceInitializationError", re.I),
        "ECS could not prepare the task (secrets, registry auth or logs): read the full reason; check the "
        "execution role's grant and that the private subnets reach Secrets Manager and ECR (NAT or endpoints)",
    ),
    (
        re.compile(r"CannotPullContainerError|pull image", re.I),
        "the image could not be pulled: check the tag exists in ECR and the execution role may pull it",
    ),
    (
        re.compile(r"OutOfMemory|exit code 137", re.I),
        "the container ran out of memory: raise services.<svc>.memory (with a valid Fargate cpu pair)",
    ),
    (
        re.compile(r"ELB health checks|failed (container )?health checks", re.I),
        "the task failed its health checks: check the app answers 200 on its health path and port, "
        "and the grace period is long enough",
    ),
    (
        re.compile(r"Essential container in task exited", re.I),
        "the application exited at start: read its last log lines (aws logs tail <log group> --since 30m)",
    ),
    (
        re.compile(r"Circuit Breaker", re.I),
        "ECS stopped the deployment after repeated task failures: the other stopped tasks say why",
    ),
)

# Reasons that are part of normal operation, not worth a finding.
_ROUTINE = re.compile(
    r"Scaling activity initiated by|Task stopped by user|Service .* deployment completed|"
    r"ECS is performing maintenance|replaced by a newer",
    re.I,
)


def explain_stop(task: StoppedTask) -> str:
    """What to do about a task that stopped for `task.reason`."""
    text = task.describe()
    for pattern, fix in _FIXES:
        if pattern.search(text):
            return fix
    return "read the task's stopped reason and its last log lines"


def is_routine(task: StoppedTask) -> bool:
    return bool(_ROUTINE.search(task.reason))


# --------------------------------------------------------------------------- #
# Waiting (the deploy gate)
# --------------------------------------------------------------------------- #


def look(ecs: Any, cluster: str, service_name: str, declared_task_definition: str) -> Assessment:
    """One DescribeServices, plus the recent stopped tasks of the declared revision when they matter."""
    response = ecs.describe_services(cluster=cluster, services=[service_name])
    services = response.get("services") or []
    service = services[0] if services else None
    assessment = assess(service, declared_task_definition)
    # Whatever went wrong, the stopped tasks say why (a real rollback is recognised
    # from rolloutStateReason alone, before any task is looked at).
    if not assessment.succeeded and service:
        stopped = recent_stopped_tasks(ecs, cluster, service_name)
        assessment = assess(service, declared_task_definition, stopped)
    return assessment


def recent_stopped_tasks(ecs: Any, cluster: str, service_name: str, limit: int = 20) -> list[StoppedTask]:
    arns = ecs.list_tasks(cluster=cluster, serviceName=service_name, desiredStatus="STOPPED", maxResults=limit).get(
        "taskArns", []
    )
    if not arns:
        return []
    return stopped_tasks_from(ecs.describe_tasks(cluster=cluster, tasks=arns).get("tasks", []))


def wait_for_rollout(
    ecs: Any,
    cluster: str,
    service_name: str,
    declared_task_definition: str,
    *,
    timeout_seconds: float,
    poll_seconds: float = 15,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Assessment:
    """Poll until the rollout of `declared_task_definition` is settled or the timeout passes.

    A timeout is reported as a failure: a deployment that has not settled in
    time is not a successful one.
    """
    deadline = clock() + timeout_seconds
    while True:
        assessment = look(ecs, cluster, service_name, declared_task_definition)
        if assessment.settled:
            return assessment
        if clock() >= deadline:
            return Assessment(
                Rollout.IN_PROGRESS,
                f"timed out after {int(timeout_seconds)} s: {assessment.summary}",
                assessment.running_revision,
                assessment.stopped,
            )
        sleep(poll_seconds)


def failure_message(service_name: str, assessment: Assessment) -> str:
    """The message `pulumi up` fails with: the state, the stopped-task reasons, what to do."""
    lines = [f"{service_name}: {assessment.summary}."]
    shown = [t for t in assessment.stopped if not is_routine(t)][:3]
    for task in shown:
        lines.append(f"  stopped task {task.task_arn.rsplit('/', 1)[-1]} ({task.revision}): {task.describe()}")
        lines.append(f"    fix: {explain_stop(task)}")
    if not shown:
        lines.append("  no stopped task explains it; see `aws ecs describe-services` events and `make verify`")
    lines.append(
        "  after fixing the cause, deploy again with `pulumi up --refresh` (make repair): without --refresh "
        "Pulumi believes the failed revision is already deployed"
    )
    lines.append('  runbook: RUNBOOK.md ("A deployment rolled back")')
    return "\n".join(lines)
