"""The `estate` output is built from what the components say they created
(their typed results), never from their children or from the settings."""

from __future__ import annotations

import ast
import dataclasses
import typing
from typing import Any

from core.estate import Estate
from infra import outputs
from infra.alarm_topic import AlarmTopicResult
from infra.cluster import ClusterResult
from infra.dependency_access import DependencyAccessResult
from infra.observability import MetricFilterResult
from infra.service import ServiceResult
from tests.helpers import PROJECT_DIR

RESULTS = (ClusterResult, AlarmTopicResult, ServiceResult, MetricFilterResult, DependencyAccessResult)
RESULT_FIELDS = {f.name for result in RESULTS for f in dataclasses.fields(result)}
OUTPUTS_SOURCE = (PROJECT_DIR / "infra" / "outputs.py").read_text(encoding="utf-8")


def attributes_beyond_the_results(source: str) -> set[str]:
    """Every attribute the source reads that no result declares."""
    read = {node.attr for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Attribute)}
    return read - RESULT_FIELDS


def imports(source: str) -> dict[str, set[str]]:
    """module -> names imported from it."""
    found: dict[str, set[str]] = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.setdefault(node.module, set()).update(alias.name for alias in node.names)
    return found


def api_result(**changes) -> ServiceResult:
    """A ServiceResult written by hand: plain values where the program has Outputs."""
    arn = "arn:aws:ecs:us-east-1:123456789012"
    values: dict[str, Any] = dict(
        key="api",
        service_name="hokusai-api-development",
        service_arn=f"{arn}:service/hokusai-development/hokusai-api-development",
        task_definition_arn=f"{arn}:task-definition/hokusai-api-development:7",
        task_family="hokusai-api-development",
        container_name="api",
        container_port=8001,
        target_group_arn="arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/api/0123",
        health_check_path="/health",
        security_group_id="sg-0123456789abcdef0",
        execution_role_arn="arn:aws:iam::123456789012:role/hokusai-api-development-execution",
        task_role_arn="arn:aws:iam::123456789012:role/hokusai-api-development-task",
        log_group_name="/ecs/hokusai-api-development",
        metric_filters=(
            # Plain text where the program has Outputs: estate_output passes either on as it is.
            MetricFilterResult(
                name="hokusai-api-development-HuggingFaceTokenError",  # type: ignore[arg-type]
                pattern='"HuggingFace token not configured"',  # type: ignore[arg-type]
                metric_name="HuggingFaceTokenError",
                metric_namespace="Hokusai/API",
            ),
        ),
        alarm_names=("hokusai-api-development-huggingface-token",),
        deployment_alarm_names=["hokusai-api-development-huggingface-token"],
        secret_arns={"HUGGINGFACE_API_KEY": "arn:aws:secretsmanager:us-east-1:123456789012:secret:hf-AbCdEf"},
        secret_value_froms={
            "HUGGINGFACE_API_KEY": "arn:aws:secretsmanager:us-east-1:123456789012:secret:hf-AbCdEf:token::"
        },
        environment_names=("ENVIRONMENT",),
        discovery_name="api.hokusai-development.local",
        dependencies=("redis", "auth"),
        dashboard_url="https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#dashboards/dashboard/hokusai-api-development",
    )
    values.update(changes)
    return ServiceResult(**values)


def test_the_estate_is_built_from_the_results_alone():
    # GIVEN results written by hand: no program, no components, no settings
    api = api_result()
    redis = DependencyAccessResult(
        dependency="redis",
        security_group_id="sg-0a1b2c3d4e5f60718",
        port=6379,
        consumer_security_group_ids={"api": api.security_group_id},
        service_rules={},
    )
    auth = DependencyAccessResult(
        dependency="auth", security_group_id=None, port=443, consumer_security_group_ids={}, service_rules={}
    )
    # WHEN the estate output is built from them
    built = outputs.estate_output(
        stack="development",
        region="us-east-1",
        account_id="123456789012",
        cluster=ClusterResult(name="hokusai-development", arn="arn:aws:ecs:us-east-1:123456789012:cluster/x"),
        alarm_topic=AlarmTopicResult(arn="arn:aws:sns:us-east-1:123456789012:hokusai-development-alarms"),
        services=[api],
        dependencies=[redis, auth],
    )
    # THEN the live tools read back exactly what the results said
    estate = Estate.from_outputs(built)
    read = estate.service("api")
    assert read.task_definition_arn == api.task_definition_arn
    assert read.execution_role_arn == api.execution_role_arn
    assert read.metric_filters[0].metric_name == "HuggingFaceTokenError"
    assert read.deployment_alarm_names == ("hokusai-api-development-huggingface-token",)
    assert read.secret_value_froms == api.secret_value_froms
    assert read.dependencies == ("redis", "auth")
    assert read.dashboard_url == api.dashboard_url
    assert estate.dependency("redis").consumer_security_group_ids == {"api": "sg-0123456789abcdef0"}
    assert (estate.dependency("auth").security_group_id, estate.dependency("auth").port) == (None, 443)


def test_a_stack_whose_services_reach_nothing_has_no_dependencies_in_its_estate():
    built = outputs.estate_output(
        stack="development",
        region="us-east-1",
        account_id="123456789012",
        cluster=ClusterResult(name="c", arn="arn:c"),
        alarm_topic=AlarmTopicResult(arn="arn:t"),
        services=[api_result(dependencies=())],
        dependencies=[],
    )
    assert Estate.from_outputs(built).dependencies == ()


def test_estate_output_takes_only_results_and_the_stacks_identity():
    hints = typing.get_type_hints(outputs.estate_output)
    hints.pop("return")
    scalars = {name for name, hint in hints.items() if hint is str}
    assert scalars == {"stack", "region", "account_id"}
    for name, hint in hints.items():
        if name in scalars:
            continue
        # ClusterResult, Sequence[ServiceResult], Sequence[DependencyAccessResult], ...
        named = {t for t in (hint, *typing.get_args(hint)) if isinstance(t, type)} - {type(None)}
        assert named and all(t.__name__.endswith("Result") for t in named), (name, hint)


def test_outputs_reads_nothing_but_the_fields_of_the_results():
    """No `component.roles...`, `.observability...`, `.spec`: every attribute
    infra/outputs.py reads is a field of a result it is given."""
    assert attributes_beyond_the_results(OUTPUTS_SOURCE) == set()
    from_infra = {
        name for module, names in imports(OUTPUTS_SOURCE).items() if module.startswith("infra.") for name in names
    }
    assert from_infra and all(name.endswith("Result") for name in from_infra), from_infra
    assert "core.settings" not in imports(OUTPUTS_SOURCE)


def test_the_check_would_notice_a_reach_into_a_component():
    reach = "def f(component):\n    return component.roles.execution_role.arn, component.spec.key\n"
    assert attributes_beyond_the_results(reach) == {"roles", "execution_role", "spec"}
