"""Collects what verify looks at, in as few AWS calls as the APIs allow.

Calls that accept many identifiers are made once for all services
(DescribeServices, DescribeTargetGroups, DescribeAlarms, ListTasks on the
cluster, DescribeTasks, the security-group rules of every dependency and of the
services that reach them); the rest are one per
service or per secret. The count therefore grows linearly with the number of
services, not with checks x services (bench/verify_calls.py records it).

Describe/List/Get calls only. Secrets are described, never read.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from core.estate import Estate, ServiceEstate
from core.naming import task_group
from ops.aws import Aws, error_code, translate_errors

T = TypeVar("T")

# How far back the optional log scan looks.
LOG_WINDOW_SECONDS = 15 * 60


@dataclass
class ServiceSnapshot:
    service: dict[str, Any] | None = None
    # every task definition verify needs: the declared one and the ones deployments run
    task_definitions: dict[str, dict[str, Any]] = field(default_factory=dict)
    # the newest ACTIVE revision of the service's family, wherever it came from (None: no such family)
    latest_task_definition: dict[str, Any] | None = None
    running_tasks: list[dict[str, Any]] = field(default_factory=list)
    stopped_tasks: list[dict[str, Any]] = field(default_factory=list)
    target_group: dict[str, Any] | None = None
    target_health: list[dict[str, Any]] = field(default_factory=list)
    log_group: dict[str, Any] | None = None
    metric_filters: list[dict[str, Any]] = field(default_factory=list)
    # the execution role's policy documents (inline and attached); None if the role is gone
    execution_role_policies: list[Any] | None = None
    # signature metric name -> recent matching log events (only with --logs)
    log_matches: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


@dataclass
class Snapshot:
    services: dict[str, ServiceSnapshot]
    # secret ARN -> DescribeSecret response, or None when it does not exist
    secrets: dict[str, dict[str, Any] | None]
    alarms: dict[str, dict[str, Any]]
    # security group id -> its rules (DescribeSecurityGroupRules), for every dependency with a
    # group and every service that reaches one; None when no dependency has a group
    security_group_rules: dict[str, list[dict[str, Any]]] | None
    cluster_found: bool = True


def chunks(items: list[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def collect(aws: Aws, estate: Estate, *, scan_logs: bool = False) -> Snapshot:
    services = {s.key: ServiceSnapshot() for s in estate.services}
    with translate_errors("describing the ECS services"):
        cluster_found = _ecs(aws, estate, services)
    with translate_errors("describing the secrets"):
        secrets = _secrets(aws, estate)
    with translate_errors("reading the execution roles' policies"):
        for service in estate.services:
            services[service.key].execution_role_policies = _role_policies(aws, service.execution_role_arn)
    with translate_errors("describing the target groups"):
        _load_balancing(aws, estate, services)
    with translate_errors("describing the dependencies' security group rules"):
        group_rules = _security_group_rules(aws, estate)
    with translate_errors("describing the log groups and metric filters"):
        for service in estate.services:
            _logs(aws, service, services[service.key], scan_logs)
    with translate_errors("describing the alarms"):
        alarms = _alarms(aws, estate)
    return Snapshot(
        services=services,
        secrets=secrets,
        alarms=alarms,
        security_group_rules=group_rules,
        cluster_found=cluster_found,
    )


def _ecs(aws: Aws, estate: Estate, snapshots: dict[str, ServiceSnapshot]) -> bool:
    ecs = aws.client("ecs")
    by_name = {s.service_name: s for s in estate.services}
    try:
        for batch in chunks(list(by_name), 10):  # DescribeServices takes 10 at a time
            for found in ecs.describe_services(cluster=estate.cluster_name, services=batch).get("services", []):
                if found.get("serviceName") in by_name:
                    snapshots[by_name[found["serviceName"]].key].service = found
    except Exception as error:  # a missing cluster means every service is missing
        if error_code(error) == "ClusterNotFoundException":
            return False
        raise

    # Task definitions: the newest of each family first (DescribeTaskDefinition by family
    # name gives the latest ACTIVE revision: one a deploy workflow registered outside the
    # stack shows up here), then the declared ones and whatever the deployments run, each
    # described once. On a healthy estate all three are the same revision: one call.
    described: dict[str, dict[str, Any] | None] = {}

    def describe(name_or_arn: str) -> dict[str, Any] | None:
        try:
            definition: dict[str, Any] = ecs.describe_task_definition(taskDefinition=name_or_arn)["taskDefinition"]
        except Exception as error:
            if error_code(error) in ("ClientException", "InvalidParameterException"):
                return None  # deregistered or never registered: reported by the checks
            raise
        described[definition["taskDefinitionArn"]] = definition
        return definition

    for service in estate.services:
        snapshots[service.key].latest_task_definition = describe(service.task_family)
    for service in estate.services:
        snapshot = snapshots[service.key]
        definition_arns = {service.task_definition_arn}
        for deployment in (snapshot.service or {}).get("deployments", []):
            definition_arns.add(deployment.get("taskDefinition", ""))
        for arn in sorted(filter(None, definition_arns)):
            definition = described[arn] if arn in described else describe(arn)
            described.setdefault(arn, None)  # asked once, found or not
            if definition is not None:
                snapshot.task_definitions[arn] = definition

    # Tasks: one listing per status for the whole cluster, grouped by service.
    groups = {task_group(s.service_name): s.key for s in estate.services}
    for status, attribute in (("RUNNING", "running_tasks"), ("STOPPED", "stopped_tasks")):
        task_arns = [
            arn
            for page in ecs.get_paginator("list_tasks").paginate(cluster=estate.cluster_name, desiredStatus=status)
            for arn in page.get("taskArns", [])
        ]
        for batch in chunks(task_arns, 100):  # DescribeTasks takes 100 at a time
            for task in ecs.describe_tasks(cluster=estate.cluster_name, tasks=batch).get("tasks", []):
                service_key = groups.get(task.get("group", ""))
                if service_key is not None:
                    getattr(snapshots[service_key], attribute).append(task)
    return True


def _secrets(aws: Aws, estate: Estate) -> dict[str, dict[str, Any] | None]:
    client = aws.client("secretsmanager")
    arns = sorted({arn for s in estate.services for arn in s.secret_arns.values()})
    found: dict[str, dict[str, Any] | None] = {}
    for arn in arns:
        try:
            found[arn] = client.describe_secret(SecretId=arn)
        except Exception as error:
            if error_code(error) != "ResourceNotFoundException":
                raise
            found[arn] = None
    return found


def _role_policies(aws: Aws, role_arn: str) -> list[Any] | None:
    iam = aws.client("iam")
    role_name = role_arn.rsplit("/", 1)[-1]
    try:
        names = [
            n
            for page in iam.get_paginator("list_role_policies").paginate(RoleName=role_name)
            for n in page.get("PolicyNames", [])
        ]
        documents = [iam.get_role_policy(RoleName=role_name, PolicyName=n)["PolicyDocument"] for n in names]
        attached = [
            p["PolicyArn"]
            for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=role_name)
            for p in page.get("AttachedPolicies", [])
        ]
    except Exception as error:
        if error_code(error) == "NoSuchEntity":
            return None
        raise
    for policy_arn in attached:
        version = iam.get_policy(PolicyArn=policy_arn)["Policy"]["DefaultVersionId"]
        documents.append(iam.get_policy_version(PolicyArn=policy_arn, VersionId=version)["PolicyVersion"]["Document"])
    return documents


def _load_balancing(aws: Aws, estate: Estate, snapshots: dict[str, ServiceSnapshot]) -> None:
    elbv2 = aws.client("elbv2")
    by_arn = {s.target_group_arn: s.key for s in estate.services}
    for batch in chunks(list(by_arn), 20):  # DescribeTargetGroups takes 20 at a time
        try:
            groups = elbv2.describe_target_groups(TargetGroupArns=batch).get("TargetGroups", [])
        except Exception as error:
            if error_code(error) != "TargetGroupNotFound":
                raise
            groups = [g for arn in batch for g in _one_target_group(elbv2, arn)]
        for group in groups:
            snapshots[by_arn[group["TargetGroupArn"]]].target_group = group
    for arn, key in by_arn.items():
        if snapshots[key].target_group is not None:
            snapshots[key].target_health = elbv2.describe_target_health(TargetGroupArn=arn).get(
                "TargetHealthDescriptions", []
            )


def _one_target_group(elbv2: Any, arn: str) -> list[dict[str, Any]]:
    """After a batch failed because one group is gone, find the ones that remain."""
    try:
        return elbv2.describe_target_groups(TargetGroupArns=[arn]).get("TargetGroups", [])
    except Exception as error:
        if error_code(error) == "TargetGroupNotFound":
            return []
        raise


def _security_group_rules(aws: Aws, estate: Estate) -> dict[str, list[dict[str, Any]]] | None:
    """The rules of every dependency's group (ingress) and of the services reaching one (egress),
    in one paginated call per 100 groups: EC2 does not document how many values one filter
    takes, and 100 stays well inside what it accepts."""
    reached = [d for d in estate.dependencies if d.security_group_id]
    if not reached:
        return None
    groups = {d.security_group_id for d in reached if d.security_group_id}
    groups |= {s.security_group_id for s in estate.services if any(d.name in s.dependencies for d in reached)}
    ec2 = aws.client("ec2")
    found: dict[str, list[dict[str, Any]]] = {group: [] for group in groups}
    for batch in chunks(sorted(groups), 100):
        pages = ec2.get_paginator("describe_security_group_rules").paginate(
            Filters=[{"Name": "group-id", "Values": batch}]
        )
        for page in pages:
            for rule in page.get("SecurityGroupRules", []):
                found.setdefault(rule.get("GroupId", ""), []).append(rule)
    return found


def _logs(aws: Aws, service: ServiceEstate, snapshot: ServiceSnapshot, scan_logs: bool) -> None:
    logs = aws.client("logs")
    groups = logs.describe_log_groups(logGroupNamePrefix=service.log_group_name).get("logGroups", [])
    snapshot.log_group = next((g for g in groups if g.get("logGroupName") == service.log_group_name), None)
    if snapshot.log_group is None:
        return
    snapshot.metric_filters = [
        f
        for page in logs.get_paginator("describe_metric_filters").paginate(logGroupName=service.log_group_name)
        for f in page.get("metricFilters", [])
    ]
    if scan_logs:
        since = int((time.time() - LOG_WINDOW_SECONDS) * 1000)
        for metric_filter in service.metric_filters:
            events = logs.filter_log_events(
                logGroupName=service.log_group_name, filterPattern=metric_filter.pattern, startTime=since, limit=5
            ).get("events", [])
            snapshot.log_matches[metric_filter.metric_name] = events


def _alarms(aws: Aws, estate: Estate) -> dict[str, dict[str, Any]]:
    cloudwatch = aws.client("cloudwatch")
    names = sorted({n for s in estate.services for n in s.alarm_names})
    found: dict[str, dict[str, Any]] = {}
    for batch in chunks(names, 100):  # DescribeAlarms takes 100 names at a time ...
        # ... but pages its answer (50 by default): ask for 100 a page and follow NextToken.
        pages = cloudwatch.get_paginator("describe_alarms").paginate(
            AlarmNames=batch, AlarmTypes=["MetricAlarm"], PaginationConfig={"PageSize": 100}
        )
        for page in pages:
            for alarm in page.get("MetricAlarms", []):
                found[alarm["AlarmName"]] = alarm
    return found
