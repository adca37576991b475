"""Where an ECS service's deployment stands, and why tasks stopped.

Shared by `verify` (one look) and the deploy gate (waits until the rollout is
settled). `pulumi up` alone reports success after a circuit-breaker rollback
(pulumi-awsx#1848, terraform-aws-ecs#325): the service is "steady" again, on the
old revision. These functions tell the difference, and tell a rollback apart
from a revision someone deployed by hand.

`assess`, `classify_stop` and `registered_outside_the_stack` are pure (they read
DescribeServices/DescribeTasks/DescribeTaskDefinition responses);
`wait_for_rollout` drives an ECS client.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Rollout(StrEnum):
    COMPLETED = "completed"  # the declared revision is PRIMARY, its rollout completed, all desired tasks run
    IN_PROGRESS = "in progress"  # the declared revision is rolling out (or not all its tasks run yet)
    NOT_STARTED = "not started"  # the gate: the deployment it waits for is not PRIMARY yet
    FAILED = "failed"  # the declared revision's rollout failed (circuit breaker, no rollback)
    ROLLED_BACK = "rolled back"  # the declared revision failed and ECS went back to an older one
    HAND_DEPLOYED = "deployed by hand"  # the service runs a revision registered outside the stack
    STALE = "stale"  # the service runs an older revision than the one declared, and no rollback explains it
    MISSING = "missing"  # no such service, or not ACTIVE


# While the deploy gate waits, these may still turn into the declared deployment:
# right after UpdateService the PRIMARY deployment can still be the old one (stale,
# or a revision someone deployed by hand) for a moment.
STILL_COMING = frozenset({Rollout.IN_PROGRESS, Rollout.NOT_STARTED, Rollout.STALE, Rollout.HAND_DEPLOYED})


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
    # the stopped tasks of the declared revision that say why it failed (routine stops left out)
    stopped: tuple[StoppedTask, ...] = field(default_factory=tuple)
    # the PRIMARY deployment's id (ecs-svc/...), so the gate can tell a new deployment from the last one
    deployment_id: str = ""

    @property
    def succeeded(self) -> bool:
        return self.state is Rollout.COMPLETED


class CouldNotLook(Exception):
    """AWS answered the gate only with throttling or server errors until its deadline."""


def revision_of(task_definition_arn: str) -> str:
    """`arn:...:task-definition/hokusai-api-development:151` -> `hokusai-api-development:151`."""
    return task_definition_arn.rsplit("/", 1)[-1] if task_definition_arn else "?"


def family_and_number(task_definition_arn: str) -> tuple[str, int] | None:
    """`arn:...:task-definition/hokusai-api-development:151` -> ("hokusai-api-development", 151)."""
    family, _, number = revision_of(task_definition_arn).rpartition(":")
    return (family, int(number)) if family and number.isdigit() else None


def registered_outside_the_stack(task_definition_arn: str, declared_task_definition_arn: str) -> bool:
    """Whether a revision cannot have been registered by the stack that declares `declared_...`.

    Pulumi registers a new revision for every change of the task definition, so
    the declared one is the newest the stack registered: a newer revision of the
    family, or one of another family, came from somewhere else (a console edit,
    a CLI call, an application deploy workflow that registers its own).
    """
    this, declared = family_and_number(task_definition_arn), family_and_number(declared_task_definition_arn)
    if this is None or declared is None:
        return False
    return this[0] != declared[0] or this[1] > declared[1]


def _principal(registered_by: str) -> str:
    """`arn:aws:sts::1:assumed-role/deployer/run-42` -> `arn:aws:sts::1:assumed-role/deployer`: the role,
    whatever session it was used in."""
    return registered_by.rsplit("/", 1)[0] if ":assumed-role/" in registered_by else registered_by


def provenance(definition: Mapping[str, Any] | None, declared_definition: Mapping[str, Any] | None = None) -> str:
    """`registered by <principal> at <time>`, from a DescribeTaskDefinition answer.

    When the declared revision was registered by the same principal (the stack's
    deployer), say so: a `pulumi up` that registered a revision and then failed
    keeps the previous stack outputs, so its revision looks foreign to them.
    """
    by = (definition or {}).get("registeredBy")
    at = (definition or {}).get("registeredAt")
    if not by and not at:
        return "ECS does not say who registered it or when"
    when = at.isoformat(timespec="seconds") if isinstance(at, datetime) else str(at or "an unknown time")
    text = f"registered by {by or 'an unknown principal'} at {when}"
    declared_by = (declared_definition or {}).get("registeredBy")
    if by and declared_by and _principal(by) == _principal(declared_by):
        text += (
            "; the same principal registered the declared revision: if that is the stack's deployer, a pulumi up "
            "registered it and then failed (see the deploy run)"
        )
    return text


def primary_deployment(service: dict[str, Any] | None) -> dict[str, Any] | None:
    """The service's PRIMARY deployment (the one ECS rolls toward and keeps), or None.

    The one place that says which of DescribeServices' `deployments` is "the"
    deployment: assess, verify and the deploy gate all ask through here.
    """
    deployments = (service or {}).get("deployments") or []
    return next((d for d in deployments if d.get("status") == "PRIMARY"), None)


_ROLLBACK_WORDS = re.compile(r"roll(ed|ing)?[ -]?back|circuit breaker", re.IGNORECASE)


def _rollback_evidence(
    service: dict[str, Any], primary: dict[str, Any], declared_arn: str, failed_here: tuple[StoppedTask, ...]
) -> bool:
    """Whether ECS went back from the declared revision: its tasks failed, its deployment FAILED,
    or the PRIMARY deployment / the service events since it began speak of a rollback."""
    if failed_here:
        return True
    deployments = service.get("deployments") or []
    if any(d.get("taskDefinition") == declared_arn and d.get("rolloutState") == "FAILED" for d in deployments):
        return True
    # Only events since the PRIMARY deployment began: an older rollback is history.
    since = primary.get("createdAt")
    events = " ".join(
        e.get("message", "")
        for e in (service.get("events") or [])[:20]
        if since is None or e.get("createdAt") is None or e["createdAt"] >= since
    )
    return bool(_ROLLBACK_WORDS.search((primary.get("rolloutStateReason") or "") + " " + events))


def assess(
    service: dict[str, Any] | None,
    declared_task_definition: str,
    stopped_tasks: Iterable[StoppedTask] = (),
    running_definition: Mapping[str, Any] | None = None,
    declared_definition: Mapping[str, Any] | None = None,
) -> Assessment:
    """Where the service's deployment of `declared_task_definition` stands.

    `running_definition` and `declared_definition` (DescribeTaskDefinition answers
    of the PRIMARY and the declared revision) only add who registered a revision
    that runs without the stack.
    """
    if not service or service.get("status") != "ACTIVE":
        status = (service or {}).get("status", "not found")
        return Assessment(Rollout.MISSING, f"the service is {status}")
    declared = revision_of(declared_task_definition)
    deployments = service.get("deployments") or []
    primary = primary_deployment(service)
    if primary is None:
        return Assessment(Rollout.MISSING, "the service has no PRIMARY deployment")
    deployment_id = primary.get("id", "")
    running_arn = primary.get("taskDefinition", "")
    running = revision_of(running_arn)
    # A routine stop (a deployment replacing the task, scale-in, maintenance) is never a failure's cause.
    failed_here = tuple(
        t for t in stopped_tasks if t.task_definition_arn == declared_task_definition and not is_routine(t)
    )
    state_reason = primary.get("rolloutStateReason") or ""

    if running_arn != declared_task_definition:
        if _rollback_evidence(service, primary, declared_task_definition, failed_here):
            why = f": {failed_here[0].describe()}" if failed_here else ""
            return Assessment(
                Rollout.ROLLED_BACK,
                f"the deployment of {declared} was rolled back; the service runs {running}{why}",
                running,
                failed_here,
                deployment_id,
            )
        if registered_outside_the_stack(running_arn, declared_task_definition):
            return Assessment(
                Rollout.HAND_DEPLOYED,
                f"the service runs revision {running}, not the declared {declared}; {running} was registered "
                f"outside the stack ({provenance(running_definition, declared_definition)})",
                running,
                deployment_id=deployment_id,
            )
        return Assessment(
            Rollout.STALE,
            f"the service runs {running}, not the declared {declared}",
            running,
            deployment_id=deployment_id,
        )

    state = primary.get("rolloutState")
    if state == "FAILED":
        why = f": {failed_here[0].describe()}" if failed_here else (f": {state_reason}" if state_reason else "")
        return Assessment(Rollout.FAILED, f"the rollout of {declared} failed{why}", running, failed_here, deployment_id)
    running_count = primary.get("runningCount", service.get("runningCount", 0))
    desired_count = primary.get("desiredCount", service.get("desiredCount", 0))
    if state == "IN_PROGRESS":
        return Assessment(
            Rollout.IN_PROGRESS,
            f"{declared} is still rolling out ({running_count}/{desired_count} running)",
            running,
            failed_here,
            deployment_id,
        )
    # COMPLETED, or no rolloutState at all (services without the circuit breaker).
    others = [d for d in deployments if d is not primary and d.get("runningCount", 0) > 0]
    if others:
        old = ", ".join(f"{revision_of(d.get('taskDefinition', ''))} ({d.get('runningCount')} running)" for d in others)
        return Assessment(
            Rollout.IN_PROGRESS,
            f"{declared} is PRIMARY but older deployments still run: {old}",
            running,
            failed_here,
            deployment_id,
        )
    # ECS marks a rollout COMPLETED once it reached steady state, and keeps it so while
    # tasks crash and are replaced afterwards: fewer running than desired is not done.
    # (More running than desired is a scale-in under way, not a failure.)
    if running_count < desired_count:
        return Assessment(
            Rollout.IN_PROGRESS,
            f"{declared} rolled out, but only {running_count} of {desired_count} desired tasks run",
            running,
            failed_here,
            deployment_id,
        )
    return Assessment(
        Rollout.COMPLETED,
        f"{declared} is deployed, its rollout completed and {running_count} of {desired_count} desired tasks run",
        running,
        deployment_id=deployment_id,
    )


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


# --------------------------------------------------------------------------- #
# Why a task stopped: routine or a failure, and what to do
# --------------------------------------------------------------------------- #


class StopKind(StrEnum):
    ROUTINE = "routine"  # ECS or an operator stopped a healthy task: never a failure's cause
    FAILURE = "failure"  # the task could not start or stay up
    UNKNOWN = "unknown"  # a reason this table does not know: shown, since it may be the cause


@dataclass(frozen=True)
class StopReason:
    pattern: re.Pattern[str]
    kind: StopKind
    meaning: str  # for a failure: what to do; for a routine stop: what happened
    example: str  # a stoppedReason ECS really gives (tests/test_rollout.py classifies each one)


# Routine reasons, matched on the task's stoppedReason alone: a task that ECS stopped on
# purpose can still show a container exit code (137 after the stop timeout) that would
# otherwise read as a crash. Texts as ECS writes them (AWS re:Post "Why is my Amazon ECS
# task stopped?", https://repost.aws/knowledge-center/ecs-task-stopped, and the task
# maintenance page of the ECS developer guide).
ROUTINE_STOPS: tuple[StopReason, ...] = (
    StopReason(
        re.compile(r"^Scaling activity initiated by", re.I),
        StopKind.ROUTINE,
        "a deployment replaced the task, or the service scaled in",
        "Scaling activity initiated by (deployment ecs-svc/8646900195280463695)",
    ),
    StopReason(
        re.compile(r"^Task stopped by user", re.I),
        StopKind.ROUTINE,
        "someone stopped the task (StopTask without a reason, or the console)",
        "Task stopped by user",
    ),
    StopReason(
        re.compile(r"ECS is performing maintenance on the underlying infrastructure", re.I),
        StopKind.ROUTINE,
        "AWS retired the task's host (Fargate task maintenance); the service replaced it",
        "Service hokusai-api-development: ECS is performing maintenance on the underlying infrastructure "
        "hosting the task",
    ),
    StopReason(
        re.compile(r"^Your Spot Task was interrupted", re.I),
        StopKind.ROUTINE,
        "Fargate Spot reclaimed the capacity",
        "Your Spot Task was interrupted.",
    ),
)

# Failure reasons -> what to do, matched on the stoppedReason and the containers' reasons.
# First match wins; order from specific to general.
FAILURE_STOPS: tuple[StopReason, ...] = (
    StopReason(
        re.compile(
            r"AccessDenied.*secretsmanager|secretsmanager.*AccessDenied|not authorized to perform: secretsmanager",
            re.I | re.S,
        ),
        StopKind.FAILURE,
        "the execution role may not read a secret the task references: check the grant (make verify) and "
        "make repair (pulumi up --refresh); the grant is derived from the task's secrets list",
        "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval "
        "failed: unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch "
        "secret arn:aws:secretsmanager:us-east-1:123456789012:secret:hokusai/development/huggingface/api-key-AbCdEf "
        "from secrets manager: AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/"
        "hokusai-api-development-execution/0a1b2c3d is not authorized to perform: secretsmanager:GetSecretValue",
    ),
    StopReason(
        re.compile(r"ResourceNotFoundException|Secrets Manager can't find|secret.*(not found|does not exist)", re.I),
        StopKind.FAILURE,
        "a secret the task references does not exist or has no value (AWSCURRENT): create it or put its value, "
        "then force a new deployment",
        "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval "
        "failed: unable to retrieve secret from asm: service call has been retried 5 time(s): "
        "ResourceNotFoundException: Secrets Manager can't find the specified secret.",
    ),
    StopReason(
        re.compile(r"ResourceInitializationError", re.I),
        StopKind.FAILURE,
        "ECS could not prepare the task (secrets, registry auth or logs): read the full reason; check the "
        "execution role's grant and that the private subnets reach Secrets Manager and ECR (NAT or endpoints)",
        "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval "
        "failed: unable to retrieve secret from asm: service call has been retried 5 time(s): failed to fetch "
        "secret from secrets manager: RequestCanceled: request context canceled caused by: context deadline "
        "exceeded. Please check your task network configuration.",
    ),
    StopReason(
        re.compile(r"CannotPullContainerError|pull image", re.I),
        StopKind.FAILURE,
        "the image could not be pulled: check the tag exists in ECR and the execution role may pull it",
        "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref "
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/hokusai/api:2025-10-07-0000000: not found",
    ),
    StopReason(
        re.compile(r"OutOfMemory|exit code 137", re.I),
        StopKind.FAILURE,
        "the container ran out of memory: raise services.<svc>.memory (with a valid Fargate cpu pair)",
        "OutOfMemoryError: Container killed due to memory usage",
    ),
    StopReason(
        re.compile(r"ELB health checks|failed (container )?health checks", re.I),
        StopKind.FAILURE,
        "the task failed its health checks: check the app answers 200 on its health path and port, "
        "and the grace period is long enough",
        "Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:us-east-1:123456789012:"
        "targetgroup/hokusai-api-development/0a1b2c3d4e5f6071)",
    ),
    StopReason(
        re.compile(r"Essential container in task exited", re.I),
        StopKind.FAILURE,
        "the application exited at start: read its last log lines (aws logs tail <log group> --since 30m)",
        "Essential container in task exited",
    ),
    StopReason(
        re.compile(r"Circuit Breaker", re.I),
        StopKind.FAILURE,
        "ECS stopped the deployment after repeated task failures: the other stopped tasks say why",
        "ECS Deployment Circuit Breaker was triggered",
    ),
)

_UNKNOWN_STOP = "read the task's stopped reason and its last log lines"


def classify_stop(task: StoppedTask) -> tuple[StopKind, str]:
    """(routine / failure / unknown, what it means or what to do) for one stopped task."""
    for row in ROUTINE_STOPS:
        if row.pattern.search(task.reason):
            return row.kind, row.meaning
    text = task.describe()
    for row in FAILURE_STOPS:
        if row.pattern.search(text):
            return row.kind, row.meaning
    return StopKind.UNKNOWN, _UNKNOWN_STOP


def explain_stop(task: StoppedTask) -> str:
    """What to do about a task that stopped for `task.reason`."""
    return classify_stop(task)[1]


def is_routine(task: StoppedTask) -> bool:
    return classify_stop(task)[0] is StopKind.ROUTINE


# --------------------------------------------------------------------------- #
# Waiting (the deploy gate)
# --------------------------------------------------------------------------- #

# Error codes (and any HTTP 5xx) that say "ask again later", not "you may not" or "no such thing".
TRANSIENT_ERROR_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "ServerException",
        "InternalFailure",
        "InternalError",
        "InternalServerError",
    }
)
# The longest pause between two looks while AWS keeps throttling.
MAX_BACKOFF_SECONDS = 60.0


def is_transient(error: BaseException) -> bool:
    """An AWS error worth waiting out: throttling or a server error (read from the
    botocore ClientError's `response`, without importing botocore)."""
    response = getattr(error, "response", None)
    if not isinstance(response, dict):
        return False
    code = (response.get("Error") or {}).get("Code", "")
    status = (response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
    return code in TRANSIENT_ERROR_CODES or (isinstance(status, int) and 500 <= status <= 599)


def _error_text(error: BaseException) -> str:
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        details = response.get("Error") or {}
        return f"{details.get('Code', type(error).__name__)}: {details.get('Message', '')}".rstrip(": ")
    return str(error)


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
    if assessment.state is Rollout.HAND_DEPLOYED and service:
        # Who registered what runs instead: one more call, only in this case.
        running_arn = (primary_deployment(service) or {}).get("taskDefinition", "")
        definition = ecs.describe_task_definition(taskDefinition=running_arn).get("taskDefinition")
        assessment = assess(service, declared_task_definition, assessment.stopped, definition)
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
    previous_deployment_id: str | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    jitter: Callable[[], float] = lambda: random.uniform(0.5, 1.0),
) -> Assessment:
    """Poll until the deployment of `declared_task_definition` is settled or the timeout passes.

    - The deployment the gate waits for may not be PRIMARY yet: while the PRIMARY
      deployment is still `previous_deployment_id` (the one the gate accepted last
      time), or runs another revision without a rollback to explain it, it waits.
    - It succeeds only when the PRIMARY deployment runs the declared revision, its
      rollout COMPLETED, and as many tasks run as are desired.
    - A failure verdict (rolled back, failed) must hold on two looks in a row: for
      a moment after UpdateService, DescribeServices can still show the previous
      deployment, with whatever that one went through.
    - Throttling and AWS server errors are waited out with exponential backoff
      (jittered, so several gates do not retry in step) until the deadline; then
      `CouldNotLook`. Any other error propagates at once.

    A timeout is reported as a failure: a deployment that has not settled in time
    is not a successful one.
    """
    deadline = clock() + timeout_seconds
    throttled = 0
    last_error: BaseException | None = None
    last_assessment: Assessment | None = None
    doubted: Assessment | None = None
    while True:
        try:
            assessment = look(ecs, cluster, service_name, declared_task_definition)
        except Exception as error:
            if not is_transient(error):
                raise
            throttled, last_error = throttled + 1, error
            remaining = deadline - clock()
            if remaining <= 0:
                seen = f"; the last look said: {last_assessment.summary}" if last_assessment else ""
                raise CouldNotLook(
                    f"AWS answered with throttling or server errors until the gate's {int(timeout_seconds)} s "
                    f"timeout ({throttled} in a row; the last: {_error_text(last_error)}){seen}. The deployment "
                    "itself may be fine: run `make verify`, then `pulumi up` again"
                ) from None
            backoff = min(MAX_BACKOFF_SECONDS, poll_seconds * 2 ** (throttled - 1)) * jitter()
            sleep(min(backoff, remaining))
            continue
        throttled = 0
        last_assessment = assessment
        if previous_deployment_id and assessment.deployment_id == previous_deployment_id:
            assessment = Assessment(
                Rollout.NOT_STARTED,
                f"the new deployment has not started: the PRIMARY deployment is still {previous_deployment_id}, "
                f"the one the deploy gate accepted last time ({assessment.summary})",
                assessment.running_revision,
                assessment.stopped,
                assessment.deployment_id,
            )
        if assessment.state not in STILL_COMING:
            confirmed = doubted is not None and doubted.state is assessment.state
            if assessment.succeeded or confirmed or clock() >= deadline:
                return assessment
            doubted = assessment  # look once more before failing
        else:
            doubted = None
        if clock() >= deadline:
            return Assessment(
                assessment.state,
                f"timed out after {int(timeout_seconds)} s: {assessment.summary}",
                assessment.running_revision,
                assessment.stopped,
                assessment.deployment_id,
            )
        sleep(poll_seconds)


def failure_message(service_name: str, assessment: Assessment) -> str:
    """The message `pulumi up` fails with: the state, the stopped-task reasons, what to do."""
    lines = [f"{service_name}: {assessment.summary}."]
    shown = [t for t in assessment.stopped if not is_routine(t)][:3]
    for task in shown:
        lines.append(f"  stopped task {task.task_arn.rsplit('/', 1)[-1]} ({task.revision}): {task.describe()}")
        lines.append(f"    fix: {explain_stop(task)}")
    if assessment.state is Rollout.HAND_DEPLOYED:
        lines.append(
            "  the service was pointed at a revision the stack did not register: `make repair` puts the declared "
            "revision back, or make the change in the stack and deploy it"
        )
        lines.append('  runbook: RUNBOOK.md ("A revision deployed by hand")')
        return "\n".join(lines)
    if assessment.state is Rollout.NOT_STARTED:
        lines.append(
            "  the service's deployment settings changed but ECS started no new deployment: start one with "
            f"`aws ecs update-service --service {service_name} --cluster <cluster> --force-new-deployment`, "
            "then run pulumi up again"
        )
    elif not shown:
        lines.append("  no stopped task explains it; see `aws ecs describe-services` events and `make verify`")
    lines.append(
        "  after fixing the cause, deploy again with `pulumi up --refresh` (make repair): without --refresh "
        "Pulumi believes the failed revision is already deployed"
    )
    lines.append('  runbook: RUNBOOK.md ("A deployment rolled back")')
    return "\n".join(lines)
