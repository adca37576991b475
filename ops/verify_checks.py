"""The checks of `verify`: pure functions from (declared estate, live snapshot) to results.

Each failure names what is wrong and the fix. They read only the snapshot that
ops/collect.py gathered, so they are tested without AWS as well as against moto.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from core import rollout
from core.arns import parse_arn
from core.contract import CONTRACTS, ServiceContract
from core.documents import READ_SECRET_ACTION
from core.estate import Estate, ServiceEstate
from core.iam_policy import Decision, evaluate
from core.secret_values import credential_in
from core.settings import NAMESPACE
from core.value_from import SecretValueFrom
from ops.collect import ServiceSnapshot, Snapshot
from ops.report import Result, fail, ok, warn

# Repairs of what changed outside the stack. A plain `pulumi up` compares the
# program with Pulumi's state, which still holds the old values, and does
# nothing; `--refresh` reads AWS first and then puts back what was declared.
REPAIR = "make repair STACK=<stack> (pulumi up --refresh)"

ServiceCheck = Callable[[ServiceEstate, ServiceContract, ServiceSnapshot, Snapshot], Iterable[Result]]


def running_task_definition(declared: ServiceEstate, snap: ServiceSnapshot) -> dict[str, Any] | None:
    """The task definition customers are served by: the PRIMARY deployment's, else the declared one."""
    primary = rollout.primary_deployment(snap.service)
    arn = primary.get("taskDefinition", "") if primary else declared.task_definition_arn
    return snap.task_definitions.get(arn)


def _container(declared: ServiceEstate, definition: dict[str, Any] | None) -> dict[str, Any] | None:
    for container in (definition or {}).get("containerDefinitions", []):
        if container.get("name") == declared.container_name:
            return container
    return None


# --------------------------------------------------------------------------- #
# ECS service and deployment
# --------------------------------------------------------------------------- #


def check_service(
    declared: ServiceEstate, contract: ServiceContract, snap: ServiceSnapshot, world: Snapshot
) -> Iterable[Result]:
    name = declared.service_name
    service = snap.service
    if not world.cluster_found:
        yield fail(
            "service.active",
            name,
            "the cluster does not exist",
            f"{REPAIR}, or check the stack outputs are for this account and region",
        )
        return
    if not service or service.get("status") != "ACTIVE":
        yield fail(
            "service.active",
            name,
            f"the service is {(service or {}).get('status', 'missing')}",
            f"{REPAIR} recreates it; `make drift` shows what else changed",
        )
        return
    yield ok("service.active", name, "the service is ACTIVE")

    stopped = rollout.stopped_tasks_from(snap.stopped_tasks)
    primary_arn = _primary_arn(service)
    assessment = rollout.assess(
        service,
        declared.task_definition_arn,
        stopped,
        snap.task_definitions.get(primary_arn),
        snap.task_definitions.get(declared.task_definition_arn),
    )
    declared_revision = rollout.revision_of(declared.task_definition_arn)
    fixes = {
        rollout.Rollout.ROLLED_BACK: f"fix the cause named by the stopped tasks, then {REPAIR}; "
        'runbook: "A deployment rolled back"',
        rollout.Rollout.FAILED: f"fix the cause named by the stopped tasks, then {REPAIR}",
        rollout.Rollout.HAND_DEPLOYED: f"{REPAIR} puts the declared {declared_revision} back; to keep the change "
        "instead, make it in the stack (config or code) and deploy it with pulumi up; "
        'runbook: "A revision deployed by hand"',
        rollout.Rollout.STALE: f"{REPAIR} redeploys the declared revision; if it keeps "
        "reverting, a deployment is rolling back: see the stopped tasks",
        rollout.Rollout.IN_PROGRESS: "wait for the deployment, then verify again",
    }
    if assessment.succeeded:
        yield ok("service.rollout", name, assessment.summary)
    else:
        yield fail("service.rollout", name, assessment.summary, fixes.get(assessment.state, REPAIR))
    yield from _revisions_outside_the_stack(declared, snap, primary_arn)

    old = sorted(
        {
            rollout.revision_of(t.get("taskDefinitionArn", ""))
            for t in snap.running_tasks
            if t.get("taskDefinitionArn") != primary_arn
        }
    )
    if old:
        yield fail(
            "service.old_revisions",
            name,
            f"tasks of another revision still run: {', '.join(old)}",
            f"wait for the deployment to drain them, or stop them (aws ecs stop-task); the service "
            f"runs {rollout.revision_of(primary_arn)}",
        )
    else:
        yield ok("service.old_revisions", name, "no task of another revision runs")

    running, desired = service.get("runningCount", 0), service.get("desiredCount", 0)
    if running < desired:
        yield fail(
            "service.running",
            name,
            f"{running} of {desired} desired tasks run",
            "tasks fail to start or keep crashing: see the stopped tasks below",
        )
    else:
        yield ok("service.running", name, f"{running} of {desired} desired tasks run")

    for task in [t for t in stopped if not rollout.is_routine(t)][:5]:
        yield warn(
            "tasks.stopped",
            name,
            f"task {task.task_arn.rsplit('/', 1)[-1]} ({task.revision}) stopped: {task.describe()}",
            rollout.explain_stop(task),
        )


def _revisions_outside_the_stack(declared: ServiceEstate, snap: ServiceSnapshot, primary_arn: str) -> Iterable[Result]:
    """A newer revision of the family that the stack did not register and that does not run.

    This is how the incident began: the application's deploy workflow registered
    task definitions of its own, outside the infrastructure code. One that runs is
    reported by service.rollout; one that does not is the next deploy waiting to
    bypass the stack.
    """
    latest = snap.latest_task_definition
    latest_arn = (latest or {}).get("taskDefinitionArn", "")
    outside = bool(latest_arn) and rollout.registered_outside_the_stack(latest_arn, declared.task_definition_arn)
    if outside and latest_arn != primary_arn:
        revision = rollout.revision_of(latest_arn)
        yield warn(
            "taskdef.outside_stack",
            revision,
            f"{revision} was registered outside the stack "
            f"({rollout.provenance(latest, snap.task_definitions.get(declared.task_definition_arn))}) and does not "
            "run; the "
            f"stack declares {rollout.revision_of(declared.task_definition_arn)}. Whatever registered it (a deploy "
            "workflow, a console edit) bypasses the stack, as the application's workflow did before the incident",
            "if it holds a change you need, make that change in the stack and deploy it with pulumi up; then "
            f"deregister it (aws ecs deregister-task-definition --task-definition {revision}) and stop whatever "
            'registers task definitions outside the stack; runbook: "A revision deployed by hand"',
        )
    elif not outside:
        yield ok(
            "taskdef.outside_stack",
            declared.task_family,
            f"no revision newer than the declared {rollout.revision_of(declared.task_definition_arn)} is registered",
        )


def _primary_arn(service: dict[str, Any]) -> str:
    primary = rollout.primary_deployment(service)
    return primary.get("taskDefinition", "") if primary else service.get("taskDefinition", "")


# --------------------------------------------------------------------------- #
# Task definition: secrets and settings
# --------------------------------------------------------------------------- #


def check_task_definition(
    declared: ServiceEstate, contract: ServiceContract, snap: ServiceSnapshot, world: Snapshot
) -> Iterable[Result]:
    definition = running_task_definition(declared, snap)
    subject = rollout.revision_of((definition or {}).get("taskDefinitionArn", declared.task_definition_arn))
    container = _container(declared, definition)
    if container is None:
        yield fail(
            "taskdef.container",
            subject,
            f"no task definition with a container '{declared.container_name}' could be read",
            f"{REPAIR} registers it again; it was deregistered by hand",
        )
        return
    secrets = {s.get("name"): s.get("valueFrom") for s in container.get("secrets") or []}
    environment = {e.get("name"): e.get("value") for e in container.get("environment") or []}

    for requirement in contract.secrets:
        name, expected = requirement.env_var, declared.secret_value_froms.get(requirement.env_var)
        actual = secrets.get(name)
        if actual is None:
            yield fail(
                "taskdef.secret",
                subject,
                f"{name} is not in the container's secrets: {requirement.breaks}",
                f"{REPAIR}: the program always declares it; if {subject} is not the declared revision, "
                "the service runs an old one",
            )
        elif actual != expected:
            # Exactly: a shorter ARN, another JSON key or another version is another value.
            yield fail(
                "taskdef.secret",
                subject,
                f"{name} reads {actual}, but the stack declares {expected}{_what_differs(actual, expected)}",
                f"{REPAIR}; someone edited the task definition by hand",
            )
        else:
            yield ok("taskdef.secret", subject, f"{name} comes from {actual}")

    missing = [env_var for env_var in contract.setting_names if env_var not in environment]
    if missing:
        yield fail(
            "taskdef.settings",
            subject,
            f"required settings missing: {', '.join(missing)}",
            f"{REPAIR}: the program always sets them",
        )
    else:
        yield ok("taskdef.settings", subject, f"all {len(contract.setting_names)} required settings are set")

    plaintext = sorted(n for n in environment if contract.must_be_secret(n))
    if plaintext:
        yield fail(
            "taskdef.plaintext",
            subject,
            f"credential-like variables in plain environment: {', '.join(plaintext)} (their values are "
            "visible to anyone who can describe the task definition)",
            f"rotate the exposed values first; then {REPAIR} (a hand-made revision) or move them to the "
            "service's secrets in the stack config and pulumi up",
        )
    else:
        yield ok("taskdef.plaintext", subject, "no credential-like name in plain environment")
    yield from _credential_shaped_values(declared.key, subject, environment, set(plaintext))


def _credential_shaped_values(
    service: str, subject: str, environment: dict[Any, Any], flagged: set[str]
) -> Iterable[Result]:
    """Plain values shaped like a credential, whatever their variable is called (core/secret_values.py).

    The finding names the variable and the kind of credential, never the value: the report is
    printed in CI logs and step summaries, and repeating the value would leak it once more.
    A variable whose name was already reported (taskdef.plaintext) is not reported twice.
    """
    shaped = {
        name: kind
        for name, value in environment.items()
        if isinstance(name, str)
        and name not in flagged
        and isinstance(value, str)
        and (kind := credential_in(value)) is not None
    }
    if not shaped:
        yield ok("taskdef.plaintext_value", subject, "no plain environment value is shaped like a credential")
        return
    yield fail(
        "taskdef.plaintext_value",
        subject,
        "plain environment values shaped like a credential: "
        + ", ".join(f"{name} ({kind})" for name, kind in sorted(shaped.items()))
        + " (visible to anyone who can describe the task definition)",
        "rotate the exposed credentials first; then store each in Secrets Manager and reference it in the "
        f"service's `secrets` ({NAMESPACE}:services.{service}.secrets.<NAME> in the stack config) instead of "
        f"`environment`, and pulumi up; if the revision was registered by hand, {REPAIR}",
    )


def _what_differs(actual: str, expected: str | None) -> str:
    """Which part of a secret's valueFrom differs, in words (empty when it cannot be told)."""
    ours, theirs = SecretValueFrom.parse(expected), SecretValueFrom.parse(actual)
    if ours is None or theirs is None:
        return ""
    if ours.secret_arn != theirs.secret_arn:
        return " (another secret)"
    parts = [
        f"{what} {getattr(theirs, field) or '(none)'!r} instead of {getattr(ours, field) or '(none)'!r}"
        for field, what in (("json_key", "JSON key"), ("version_stage", "version stage"), ("version_id", "version id"))
        if getattr(ours, field) != getattr(theirs, field)
    ]
    return f" ({'; '.join(parts)})" if parts else ""


# --------------------------------------------------------------------------- #
# Secrets and the grant
# --------------------------------------------------------------------------- #


def check_secrets(
    declared: ServiceEstate, contract: ServiceContract, snap: ServiceSnapshot, world: Snapshot
) -> Iterable[Result]:
    container = _container(declared, running_task_definition(declared, snap))
    referenced = {s.get("name"): s.get("valueFrom") for s in (container or {}).get("secrets") or []}
    for env_var, arn in sorted(declared.secret_arns.items()):
        description = world.secrets.get(arn)
        if description is None:
            yield fail(
                "secret.exists",
                env_var,
                f"the secret {arn} does not exist",
                "create it (aws secretsmanager create-secret) and put its value, or make repair if the "
                "stack declares it",
            )
        elif description.get("DeletedDate"):
            yield fail(
                "secret.exists",
                env_var,
                f"the secret {description.get('Name')} is scheduled for deletion on {description['DeletedDate']}",
                f"aws secretsmanager restore-secret --secret-id {description.get('Name')}",
            )
        elif not _has_version(description, SecretValueFrom.parse(declared.secret_value_froms.get(env_var))):
            yield fail(
                "secret.value",
                env_var,
                f"the secret {description.get('Name')} has no value (no {_version_read(declared, env_var)}): "
                "tasks cannot start",
                f"aws secretsmanager put-secret-value --secret-id {description.get('Name')} "
                "--secret-string file://<file>, then force a new deployment",
            )
        else:
            yield ok("secret.exists", env_var, f"{description.get('Name')} exists and has a current value")

    documents = snap.execution_role_policies
    role = declared.execution_role_arn.rsplit("/", 1)[-1]
    if documents is None:
        yield fail("iam.grant", role, "the execution role does not exist", REPAIR)
        return
    for env_var, value_from in sorted(referenced.items()):
        # GetSecretValue is authorised against the secret, whatever key or version the task takes.
        parsed = SecretValueFrom.parse(value_from)
        arn = parsed.secret_arn if parsed else value_from
        verdict = evaluate(
            documents,
            READ_SECRET_ACTION,
            arn,
            secret_read_context(declared.execution_role_arn, arn),
            context_is_complete=False,
        )
        if verdict.decision is Decision.ALLOWED:
            yield ok("iam.grant", role, f"may read {env_var} ({parsed.secret_name if parsed else arn})")
        elif verdict.decision is Decision.CANNOT_TELL:
            yield warn(
                "iam.grant",
                role,
                f"cannot tell whether it may read {env_var}: {verdict.reason}",
                "review the role's policies by hand (aws iam simulate-principal-policy with the request's context)",
            )
        else:
            how = verdict.decision.value + (f" by {verdict.sid}" if verdict.sid else "")
            yield fail(
                "iam.grant",
                role,
                f"may not read {env_var} ({arn}): {how}; tasks fail with ResourceInitializationError",
                f"{REPAIR} restores the grant derived from the task's secrets",
            )


def _has_version(description: dict[str, Any], reads: SecretValueFrom | None) -> bool:
    """Whether the version the task reads exists: AWSCURRENT, or the stage or id its valueFrom names."""
    versions = description.get("VersionIdsToStages") or {}
    if reads is not None and reads.version_id:
        return reads.version_id in versions
    stage = (reads.version_stage if reads is not None else "") or "AWSCURRENT"
    return any(stage in stages for stages in versions.values())


def _version_read(declared: ServiceEstate, env_var: str) -> str:
    reads = SecretValueFrom.parse(declared.secret_value_froms.get(env_var))
    if reads is not None and reads.version_id:
        return f"version {reads.version_id}"
    return f"{(reads.version_stage if reads is not None else '') or 'AWSCURRENT'} version"


def secret_read_context(execution_role_arn: str, secret_arn: str) -> dict[str, str]:
    """What verify knows of the request ECS makes, as the execution role, to read a secret.

    Only what the two ARNs say for certain: a condition on any other key (source
    VPC endpoint, tags, ...) cannot be evaluated here, and the check says so
    instead of guessing either way.
    """
    context = {"aws:PrincipalArn": execution_role_arn}
    role, secret = parse_arn(execution_role_arn), parse_arn(secret_arn)
    if role is not None:
        context["aws:PrincipalAccount"] = role.account
    if secret is not None:
        context["aws:ResourceAccount"] = secret.account
        context["aws:RequestedRegion"] = secret.region
    return context


# --------------------------------------------------------------------------- #
# Load balancing
# --------------------------------------------------------------------------- #


def check_target_group(
    declared: ServiceEstate, contract: ServiceContract, snap: ServiceSnapshot, world: Snapshot
) -> Iterable[Result]:
    group = snap.target_group
    subject = declared.target_group_arn.split(":")[-1]
    if group is None:
        yield fail("lb.target_group", subject, "the target group does not exist", REPAIR)
        return
    path = group.get("HealthCheckPath")
    if path != declared.health_check_path:
        yield fail(
            "lb.health_check",
            subject,
            f"the health check path is {path!r}, declared {declared.health_check_path!r}",
            f"{REPAIR}; the path was changed outside the stack",
        )
    else:
        yield ok("lb.health_check", subject, f"health check on {path}")
    states = [t.get("TargetHealth", {}) for t in snap.target_health]
    unhealthy = [s for s in states if s.get("State") not in ("healthy", "draining")]
    if not states:
        yield fail(
            "lb.targets",
            subject,
            "no target is registered: the load balancer has nowhere to send requests",
            "check the service runs tasks (service.running) and is attached to this target group",
        )
    elif unhealthy:
        reasons = sorted(
            {f"{s.get('State')}: {s.get('Reason', '')} {s.get('Description', '')}".strip() for s in unhealthy}
        )
        yield fail(
            "lb.targets",
            subject,
            f"{len(unhealthy)} of {len(states)} targets unhealthy ({'; '.join(reasons)})",
            f"check the app answers 200 on {declared.health_check_path} on port {declared.container_port}, "
            "and the service security group admits the load balancer",
        )
    else:
        yield ok("lb.targets", subject, f"all {len(states)} targets healthy")


# --------------------------------------------------------------------------- #
# Dependencies: each consumer's rules, live
# --------------------------------------------------------------------------- #


def check_dependencies(estate: Estate, world: Snapshot) -> Iterable[Result]:
    """Each consumer of each dependency with a security group is admitted on its port, and each
    service of the stack among them may leave for it (its egress is otherwise HTTPS only)."""
    rules = world.security_group_rules or {}
    services = {s.key: s for s in estate.services}
    for dependency in estate.dependencies:
        if dependency.security_group_id is None:
            continue
        admitted = _groups_reached(rules.get(dependency.security_group_id, []), dependency.port, egress=False)
        for label, group in sorted(dependency.consumer_security_group_ids.items()):
            subject = f"{dependency.name} <- {label}"
            rule_name = f"{dependency.name}_from_{label.replace('-', '_')}"
            if group not in admitted:
                yield fail(
                    "dependency.access",
                    subject,
                    f"{group} may not reach {dependency.name} ({dependency.security_group_id}) on {dependency.port}: "
                    f"the rule {rule_name} is missing (a consumer without its rule: the missing "
                    "redis_from_data_pipeline_ecs of the incident)",
                    f"{REPAIR} restores the rule; someone removed it outside the stack",
                )
                continue
            service = services.get(label)
            if service is not None and dependency.name in service.dependencies:
                out = _groups_reached(rules.get(group, []), dependency.port, egress=True)
                if dependency.security_group_id not in out and ANYWHERE not in out:
                    yield fail(
                        "dependency.access",
                        subject,
                        f"{label}'s group {group} lets nothing out to {dependency.name} "
                        f"({dependency.security_group_id}) on {dependency.port}",
                        f"{REPAIR} restores the egress rule; someone removed it outside the stack",
                    )
                    continue
            yield ok(
                "dependency.access",
                subject,
                f"{group} may reach {dependency.name} ({dependency.security_group_id}) on {dependency.port}",
            )


# A rule open to any IPv4 address (the egress AWS adds to a group it creates, unless revoked).
ANYWHERE = "0.0.0.0/0"


def _groups_reached(rules: Iterable[dict[str, Any]], port: int, *, egress: bool) -> set[str]:
    """The peers the rules of one direction let through on `port`: referenced groups, or ANYWHERE."""
    peers = set()
    for rule in rules:
        if bool(rule.get("IsEgress")) != egress or rule.get("IpProtocol") not in ("tcp", "-1"):
            continue
        if rule.get("IpProtocol") != "-1" and not rule.get("FromPort", 0) <= port <= rule.get("ToPort", -1):
            continue
        group = (rule.get("ReferencedGroupInfo") or {}).get("GroupId")
        if group:
            peers.add(group)
        elif rule.get("CidrIpv4") == ANYWHERE:
            peers.add(ANYWHERE)
    return peers


# --------------------------------------------------------------------------- #
# Observability
# --------------------------------------------------------------------------- #


def check_observability(
    declared: ServiceEstate, contract: ServiceContract, snap: ServiceSnapshot, world: Snapshot
) -> Iterable[Result]:
    if snap.log_group is None:
        yield fail(
            "logs.group",
            declared.log_group_name,
            "the log group does not exist: tasks cannot start (awslogs fails) and nothing is counted",
            REPAIR,
        )
    else:
        yield ok(
            "logs.group",
            declared.log_group_name,
            f"exists, retention {snap.log_group.get('retentionInDays', 'never expires')} days",
        )
        live = {f.get("filterName"): f for f in snap.metric_filters}
        for declared_filter in declared.metric_filters:
            found = live.get(declared_filter.name)
            if found is None:
                yield fail(
                    "logs.filter",
                    declared_filter.name,
                    f"the metric filter counting {declared_filter.pattern} is missing",
                    f"{REPAIR}; without it the alarm never fires",
                )
            elif found.get("filterPattern") != declared_filter.pattern:
                yield fail(
                    "logs.filter",
                    declared_filter.name,
                    f"pattern is {found.get('filterPattern')!r}, declared {declared_filter.pattern!r}",
                    REPAIR,
                )
            else:
                yield ok("logs.filter", declared_filter.name, f"counts {declared_filter.pattern}")
        for metric, events in sorted(snap.log_matches.items()):
            if events:
                yield fail(
                    "logs.recent",
                    declared.log_group_name,
                    f"{len(events)}+ recent log line(s) match {metric}: {events[0].get('message', '')[:160]!r}",
                    _signature_fix(contract, metric),
                )
    for name in declared.alarm_names:
        alarm = world.alarms.get(name)
        if alarm is None:
            yield fail("alarms.exists", name, "the alarm is missing: this failure would go unnoticed", REPAIR)
        elif alarm.get("StateValue") == "ALARM":
            yield fail(
                "alarms.state",
                name,
                f"in ALARM: {alarm.get('StateReason', '')[:200]}",
                alarm.get("AlarmDescription", "") or "see the alarm's description",
            )
        else:
            yield ok("alarms.state", name, f"exists, state {alarm.get('StateValue')}")


def _signature_fix(contract: ServiceContract, metric: str) -> str:
    for signature in contract.error_signatures:
        if signature.metric_name == metric:
            return signature.fix
    return "read the matching log lines"


SERVICE_CHECKS: tuple[ServiceCheck, ...] = (
    check_service,
    check_task_definition,
    check_secrets,
    check_target_group,
    check_observability,
)


def run_checks(estate: Estate, snapshot: Snapshot, only: str | None = None) -> list[Result]:
    results: list[Result] = []
    for declared in estate.services:
        if only and declared.key != only:
            continue
        contract = CONTRACTS.get(declared.key)
        if contract is None:
            results.append(
                fail(
                    "service.contract",
                    declared.key,
                    "the stack declares a service the contract does not know",
                    "update hokusai-infra (this verifier is older than the stack)",
                )
            )
            continue
        for check in SERVICE_CHECKS:
            results.extend(check(declared, contract, snapshot.services[declared.key], snapshot))
    results.extend(check_dependencies(estate, snapshot))
    return results
