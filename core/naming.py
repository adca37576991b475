"""Physical names of the estate, in one place.

The development stack's names follow the estate this program replaces
(`hokusai-development`, `hokusai-api-development`, `/ecs/hokusai-api-development`),
so the runbooks, dashboards and muscle memory of the people on call still work.

Pure: no Pulumi, no boto3.
"""

from __future__ import annotations

import hashlib

PROJECT = "hokusai"

# Target-group names are limited to 32 characters (target_group_name truncates).
# Other names fit because the settings loader limits the stack name to 24.
TARGET_GROUP_NAME_MAX = 32


def cluster_name(environment: str) -> str:
    return f"{PROJECT}-{environment}"


def service_name(service: str, environment: str) -> str:
    """ECS service name, task-definition family and security-group name."""
    return f"{PROJECT}-{service}-{environment}"


def task_group(service_name: str) -> str:
    """The `group` ECS gives the tasks an ECS service starts (what ListTasks/DescribeTasks report)."""
    return f"service:{service_name}"


def log_group_name(service: str, environment: str) -> str:
    return f"/ecs/{service_name(service, environment)}"


def namespace_name(environment: str) -> str:
    """Cloud Map private DNS namespace: gives `api.hokusai-development.local`."""
    return f"{PROJECT}-{environment}.local"


def discovery_hostname(service: str, environment: str) -> str:
    return f"{service}.{namespace_name(environment)}"


def load_balancer_name(environment: str) -> str:
    return f"{PROJECT}-{environment}"


def alarm_topic_name(environment: str) -> str:
    return f"{PROJECT}-{environment}-alarms"


def alarm_name(service: str, environment: str, what: str) -> str:
    """`hokusai-api-development-huggingface-token`: the service first, so alarms sort by service."""
    return f"{service_name(service, environment)}-{what.replace('_', '-')}"


def dashboard_name(service: str, environment: str) -> str:
    """The service's CloudWatch dashboard: named like the service, so it is found by the same name."""
    return service_name(service, environment)


def metric_filter_name(service: str, environment: str, metric_name: str) -> str:
    return f"{service_name(service, environment)}-{metric_name}"


def target_group_name(service: str, environment: str, *, port: int, vpc_id: str) -> str:
    """Target-group name that changes whenever the target group must be replaced.

    Port, protocol, target type and VPC cannot be changed in place, and Pulumi
    replaces create-before-delete: with a fixed name the new target group would
    collide with the old one ("a target group with the same name exists").
    A short digest of the replace-only properties gives the replacement a new
    name while keeping the name stable (and drift-free) otherwise.
    """
    digest = hashlib.sha256(f"{port}/HTTP/ip/{vpc_id}".encode()).hexdigest()[:6]
    base = service_name(service, environment)[: TARGET_GROUP_NAME_MAX - len(digest) - 1]
    return f"{base.rstrip('-')}-{digest}"


def ecs_resource_id(service: str, environment: str) -> str:
    """Application Auto Scaling's id for the service's desired count."""
    return f"service/{cluster_name(environment)}/{service_name(service, environment)}"
