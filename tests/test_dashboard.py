"""Each service's CloudWatch dashboard (core/dashboard.py, infra/dashboard.py): a body CloudWatch
accepts, every graph about something the stack declares, every alarm's threshold drawn.

Checked over the rendered graph of every stack file and of a five-service variant, walking the
resources themselves: the metric filters' metrics, the alarms (names, metrics, thresholds), the
target groups' and load balancer's ARN suffixes, the ECS services and cluster.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest

from core.dashboard import DashboardSpec, LogMetric, WatchingAlarm, dashboard_body, dashboard_url, metrics_of
from core.naming import dashboard_name
from synth.mocks import Registered, of_type
from synth.program import Run
from tests.five_services import five_services_run
from tests.helpers import STACKS, reads_config, rendered

# Every stack file, and the development stack grown to five services.
FIVE_SERVICES = "five services"
DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"

# PutDashboard: "a DashboardBody ... can include an array of between 0 and 500 widget objects";
# and a body of at most 1 MB (what PutDashboard accepts).
MAX_WIDGETS = 500
MAX_BODY_BYTES = 1_000_000

# The dashboard body structure, as far as the program relies on it:
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html
_RENDERING = {
    "type": "object",
    "properties": {
        "label": {"type": "string"},
        "stat": {"type": "string"},
        "id": {"type": "string", "pattern": "^[a-z][A-Za-z0-9_]*$"},
        "color": {"type": "string"},
        "period": {"type": "integer"},
    },
    "additionalProperties": False,
}
_METRIC_ROW = {
    "type": "array",
    "minItems": 1,
    "oneOf": [
        # [Namespace, MetricName, DimensionName, DimensionValue, ..., {rendering}]
        {
            "prefixItems": [{"type": "string", "minLength": 1}, {"type": "string", "minLength": 1}],
            "items": {"anyOf": [{"type": "string", "minLength": 1}, _RENDERING]},
            "minItems": 2,
        },
        # [{expression, id, label}]
        {
            "prefixItems": [
                {
                    "type": "object",
                    "required": ["expression", "id"],
                    "properties": {
                        "expression": {"type": "string", "minLength": 1},
                        "id": {"type": "string", "pattern": "^[a-z][A-Za-z0-9_]*$"},
                        "label": {"type": "string"},
                    },
                    "additionalProperties": False,
                }
            ],
            "maxItems": 1,
        },
    ],
}
_METRIC_PROPERTIES = {
    "type": "object",
    "required": ["metrics", "region"],
    "properties": {
        "metrics": {"type": "array", "minItems": 1, "maxItems": 500, "items": _METRIC_ROW},
        "region": {"type": "string", "pattern": "^[a-z]{2}(-[a-z]+)+-[0-9]$"},
        "title": {"type": "string"},
        "view": {"enum": ["timeSeries", "singleValue", "gauge", "bar", "pie"]},
        "stacked": {"type": "boolean"},
        "stat": {"type": "string"},
        # 1, 5, 10, 30 or a multiple of 60 seconds
        "period": {"type": "integer", "anyOf": [{"enum": [1, 5, 10, 30]}, {"multipleOf": 60}]},
        "yAxis": {
            "type": "object",
            "properties": {
                "left": {
                    "type": "object",
                    "properties": {
                        "min": {"type": "number"},
                        "max": {"type": "number"},
                        "label": {"type": "string"},
                        "showUnits": {"type": "boolean"},
                    },
                    "additionalProperties": False,
                }
            },
            "additionalProperties": False,
        },
        "annotations": {
            "type": "object",
            "properties": {
                "horizontal": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["value"],
                        "properties": {
                            "value": {"type": "number"},
                            "label": {"type": "string"},
                            "color": {"type": "string", "pattern": "^#[0-9a-fA-F]{6}$"},
                        },
                        "additionalProperties": False,
                    },
                }
            },
            "additionalProperties": False,
        },
    },
    "additionalProperties": False,
}
BODY_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["widgets"],
    "properties": {
        "periodOverride": {"enum": ["auto", "inherit"]},
        "widgets": {
            "type": "array",
            "maxItems": MAX_WIDGETS,
            "items": {
                "type": "object",
                "required": ["type", "properties"],
                "properties": {
                    "type": {"enum": ["metric", "text", "alarm"]},
                    "x": {"type": "integer", "minimum": 0, "maximum": 23},
                    "y": {"type": "integer", "minimum": 0},
                    "width": {"type": "integer", "minimum": 1, "maximum": 24},
                    "height": {"type": "integer", "minimum": 1, "maximum": 1000},
                    "properties": {"type": "object"},
                },
                "additionalProperties": False,
                "allOf": [
                    {
                        "if": {"properties": {"type": {"const": "metric"}}},
                        "then": {"properties": {"properties": _METRIC_PROPERTIES}},
                    },
                    {
                        "if": {"properties": {"type": {"const": "text"}}},
                        "then": {
                            "properties": {
                                "properties": {
                                    "type": "object",
                                    "required": ["markdown"],
                                    "properties": {"markdown": {"type": "string", "minLength": 1}},
                                    "additionalProperties": False,
                                }
                            }
                        },
                    },
                    {
                        "if": {"properties": {"type": {"const": "alarm"}}},
                        "then": {
                            "properties": {
                                "properties": {
                                    "type": "object",
                                    "required": ["alarms"],
                                    "properties": {
                                        "alarms": {
                                            "type": "array",
                                            "minItems": 1,
                                            "maxItems": 100,
                                            "items": {"type": "string", "pattern": "^arn:aws[a-z-]*:cloudwatch:"},
                                        },
                                        "title": {"type": "string"},
                                    },
                                    "additionalProperties": False,
                                }
                            }
                        },
                    },
                ],
            },
        },
    },
    "additionalProperties": False,
}
VALIDATOR = jsonschema.Draft202012Validator(BODY_SCHEMA)


# --------------------------------------------------------------------------- #
# What the stack declares, walked from the rendered graph
# --------------------------------------------------------------------------- #


def declared(resources: list[Registered]) -> dict[str, Any]:
    """Everything a dashboard may refer to, from the resources themselves."""
    filters = {
        (f.inputs["metricTransformation"]["namespace"], f.inputs["metricTransformation"]["name"])
        for f in of_type_list(resources, "aws:cloudwatch/logMetricFilter:LogMetricFilter")
    }
    alarms = {}
    for alarm in of_type_list(resources, "aws:cloudwatch/metricAlarm:MetricAlarm"):
        watched = {(alarm.inputs["namespace"], alarm.inputs["metricName"])} if alarm.inputs.get("metricName") else set()
        watched |= {
            (q["metric"]["namespace"], q["metric"]["metricName"])
            for q in alarm.inputs.get("metricQueries") or []
            if q.get("metric")
        }
        alarms[alarm.inputs["name"]] = {
            "arn": alarm.outputs["arn"],
            "threshold": alarm.inputs["threshold"],
            "watches": watched,
        }
    load_balancers = {
        alarm.inputs["dimensions"]["LoadBalancer"]
        for alarm in of_type_list(resources, "aws:cloudwatch/metricAlarm:MetricAlarm")
        if (alarm.inputs.get("dimensions") or {}).get("LoadBalancer")
    } | {lb.outputs["arnSuffix"] for lb in of_type_list(resources, "aws:lb/loadBalancer:LoadBalancer")}
    return {
        "log_metrics": filters,
        "alarms": alarms,
        "LoadBalancer": load_balancers,
        "TargetGroup": {tg.outputs["arnSuffix"] for tg in of_type_list(resources, "aws:lb/targetGroup:TargetGroup")},
        "ClusterName": {c.inputs["name"] for c in of_type_list(resources, "aws:ecs/cluster:Cluster")},
        "ServiceName": {s.inputs["name"] for s in of_type_list(resources, "aws:ecs/service:Service")},
    }


def of_type_list(resources: list[Registered], type_: str) -> list[Registered]:
    return [r for r in resources if r.type == type_]


# The AWS metrics a graph may show, by namespace: the dimensions each is published with, which must
# be the stack's own resources, and the metric names AWS publishes there (a misspelt one draws nothing).
# https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/available-metrics.html
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Container-Insights-metrics-ECS.html
AWS_METRICS = {
    "AWS/ApplicationELB": {"LoadBalancer", "TargetGroup"},
    "AWS/ECS": {"ClusterName", "ServiceName"},
    "ECS/ContainerInsights": {"ClusterName", "ServiceName"},
}
AWS_METRIC_NAMES = {
    "AWS/ApplicationELB": {
        "TargetResponseTime",
        "RequestCount",
        "HTTPCode_Target_4XX_Count",
        "HTTPCode_Target_5XX_Count",
        "HealthyHostCount",
        "UnHealthyHostCount",
    },
    "AWS/ECS": {"CPUUtilization", "MemoryUtilization"},
    "ECS/ContainerInsights": {"RunningTaskCount", "DesiredTaskCount"},
}


def foreign_references(body: dict[str, Any], stack: dict[str, Any]) -> list[str]:
    """Every graph, line and alarm of `body` that refers to something the stack does not declare."""
    problems = []
    for widget in body["widgets"]:
        properties = widget["properties"]
        if widget["type"] == "alarm":
            arns = {a["arn"] for a in stack["alarms"].values()}
            problems += [
                f"alarm widget shows {arn}, not an alarm of the stack"
                for arn in properties["alarms"]
                if arn not in arns
            ]
        if widget["type"] != "metric":
            continue
        shown = set()
        for row in properties["metrics"]:
            if isinstance(row[0], dict):
                continue
            namespace, metric = row[0], row[1]
            shown.add((namespace, metric))
            dimensions = (
                dict(zip(row[2:-1:2], row[3::2], strict=False))
                if isinstance(row[-1], dict)
                else dict(zip(row[2::2], row[3::2], strict=False))
            )
            if namespace in AWS_METRICS:
                if metric not in AWS_METRIC_NAMES[namespace]:
                    problems.append(f"{namespace}/{metric} is not a metric AWS publishes there")
                if set(dimensions) != AWS_METRICS[namespace]:
                    problems.append(f"{namespace}/{metric} is dimensioned by {sorted(dimensions)}")
                problems += [
                    f"{namespace}/{metric} {name}={value} is not the stack's"
                    for name, value in dimensions.items()
                    if value not in stack.get(name, set())
                ]
            elif (namespace, metric) not in stack["log_metrics"]:
                problems.append(f"{namespace}/{metric}: no metric filter of the stack publishes it")
        for line in properties.get("annotations", {}).get("horizontal", []):
            alarm = stack["alarms"].get(line.get("label"))
            if alarm is None:
                problems.append(f"threshold line {line.get('label')!r} names no alarm of the stack")
            elif line["value"] != alarm["threshold"]:
                problems.append(
                    f"threshold line {line['label']} at {line['value']}, the alarm's is {alarm['threshold']}"
                )
            elif not alarm["watches"] & shown:
                problems.append(f"threshold line {line['label']} on a graph of nothing it watches")
    return problems


def dashboards(run_: Run) -> Iterator[tuple[Registered, dict[str, Any]]]:
    for dashboard in of_type(run_, DASHBOARD):
        yield dashboard, json.loads(dashboard.inputs["dashboardBody"])


# --------------------------------------------------------------------------- #
# Renders: every stack file, and five services
# --------------------------------------------------------------------------- #


@pytest.fixture(scope="module")
def five_run() -> Run:
    return five_services_run()


@pytest.fixture(params=[*STACKS, FIVE_SERVICES])
def rendered_run(request) -> Run:
    if request.param == FIVE_SERVICES:
        return request.getfixturevalue("five_run")
    return rendered(request.param)


@reads_config
def test_every_service_has_one_dashboard_named_after_it(rendered_run):
    boards = {d.inputs["dashboardName"] for d in of_type(rendered_run, DASHBOARD)}
    services = rendered_run.outputs["services"]
    stack = rendered_run.outputs["stack"]
    assert boards == {dashboard_name(s["key"], stack) for s in services}
    assert len(of_type(rendered_run, DASHBOARD)) == len(services)


@reads_config
def test_each_body_has_the_shape_cloudwatch_accepts(rendered_run):
    for dashboard, body in dashboards(rendered_run):
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in VALIDATOR.iter_errors(body)]
        assert errors == [], dashboard.inputs["dashboardName"]
        assert len(dashboard.inputs["dashboardBody"].encode()) <= MAX_BODY_BYTES
        assert len(body["widgets"]) <= MAX_WIDGETS
        # No two widgets overlap on the 24-column grid.
        cells = [
            (w["x"] + dx, w["y"] + dy) for w in body["widgets"] for dx in range(w["width"]) for dy in range(w["height"])
        ]
        assert len(cells) == len(set(cells)) and all(x < 24 for x, _ in cells)


@reads_config
def test_every_graph_line_and_alarm_is_one_the_stack_declares(rendered_run):
    stack = declared(rendered_run.resources)
    for dashboard, body in dashboards(rendered_run):
        assert foreign_references(body, stack) == [], dashboard.inputs["dashboardName"]


@reads_config
def test_each_service_dashboard_shows_its_own_service_only(rendered_run):
    """api's dashboard graphs api's target group and ECS service, not another's."""
    by_name = {s["service_name"]: s for s in rendered_run.outputs["services"]}
    for dashboard, body in dashboards(rendered_run):
        service = by_name[dashboard.inputs["dashboardName"]]
        target_group = service["target_group_arn"].split(":", 5)[5]
        for widget in body["widgets"]:
            for row in widget["properties"].get("metrics", []):
                if "TargetGroup" in row:
                    assert row[row.index("TargetGroup") + 1] == target_group
                if "ServiceName" in row:
                    assert row[row.index("ServiceName") + 1] == service["service_name"]


@reads_config
def test_every_alarm_of_a_service_is_on_its_dashboard_and_every_signature_has_a_graph(rendered_run):
    stack = declared(rendered_run.resources)
    by_name = {s["service_name"]: s for s in rendered_run.outputs["services"]}
    for dashboard, body in dashboards(rendered_run):
        service = by_name[dashboard.inputs["dashboardName"]]
        graphs = [w["properties"] for w in body["widgets"] if w["type"] == "metric"]
        lines = {line["label"] for g in graphs for line in g.get("annotations", {}).get("horizontal", [])}
        (states,) = [w["properties"]["alarms"] for w in body["widgets"] if w["type"] == "alarm"]
        assert lines == set(service["alarm_names"])
        assert set(states) == {stack["alarms"][name]["arn"] for name in service["alarm_names"]}
        shown = {metric for g in graphs for metric in metrics_of(g["metrics"])}
        published = {(f["metric_namespace"], f["metric_name"]) for f in service["metric_filters"]}
        assert published <= shown
        for wanted in [
            ("AWS/ApplicationELB", "TargetResponseTime"),
            ("AWS/ApplicationELB", "RequestCount"),
            ("AWS/ApplicationELB", "HTTPCode_Target_4XX_Count"),
            ("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count"),
            ("ECS/ContainerInsights", "RunningTaskCount"),
            ("ECS/ContainerInsights", "DesiredTaskCount"),
            ("AWS/ECS", "CPUUtilization"),
            ("AWS/ECS", "MemoryUtilization"),
        ]:
            assert wanted in shown, wanted
        percentiles = {row[-1]["stat"] for g in graphs for row in g["metrics"] if row[1:2] == ["TargetResponseTime"]}
        assert percentiles == {"p50", "p95", "p99"}


@reads_config
def test_the_dashboard_url_is_in_the_estate_output(rendered_run):
    region = rendered_run.outputs["region"]
    for service in rendered_run.outputs["services"]:
        name = dashboard_name(service["key"], rendered_run.outputs["stack"])
        assert service["dashboard_url"] == (
            f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#dashboards/dashboard/{name}"
        )


# --------------------------------------------------------------------------- #
# The checks can fail
# --------------------------------------------------------------------------- #


@pytest.fixture(scope="module")
def dev_board() -> tuple[dict[str, Any], dict[str, Any]]:
    (_dashboard, body), *_ = dashboards(rendered(STACKS[0]))
    return body, declared(rendered(STACKS[0]).resources)


@pytest.mark.parametrize(
    "breaks, said",
    [
        (lambda b: b["widgets"][1]["properties"]["metrics"][0].__setitem__(1, "Latency"), None),
        (
            lambda b: next(
                w
                for w in b["widgets"]
                if w["type"] == "metric" and w["properties"]["metrics"][0][0].startswith("Hokusai")
            )["properties"]["metrics"][0].__setitem__(1, "NoSuchFilter"),
            "no metric filter of the stack publishes it",
        ),
        (
            lambda b: b["widgets"][1]["properties"]["metrics"][0].__setitem__(3, "app/someone-elses/0123456789abcdef"),
            "LoadBalancer=app/someone-elses/0123456789abcdef is not the stack's",
        ),
        (
            lambda b: next(w for w in b["widgets"] if "annotations" in w["properties"])["properties"]["annotations"][
                "horizontal"
            ][0].__setitem__("value", 999),
            "the alarm's is",
        ),
        (
            lambda b: next(w for w in b["widgets"] if "annotations" in w["properties"])["properties"]["annotations"][
                "horizontal"
            ][0].__setitem__("label", "prod-database-cpu"),
            "names no alarm of the stack",
        ),
        (
            lambda b: next(w for w in b["widgets"] if w["type"] == "alarm")["properties"]["alarms"].append(
                "arn:aws:cloudwatch:us-east-1:123456789012:alarm:prod-database-cpu"
            ),
            "not an alarm of the stack",
        ),
    ],
    ids=[
        "a metric the namespace has but nothing here",
        "a log metric no filter publishes",
        "another load balancer",
        "a threshold that is not the alarm's",
        "a line for an alarm that does not exist",
        "another stack's alarm",
    ],
)
def test_the_reference_check_notices_what_the_stack_does_not_declare(dev_board, breaks, said):
    body, stack = copy.deepcopy(dev_board[0]), dev_board[1]
    assert foreign_references(body, stack) == []
    breaks(body)
    problems = foreign_references(body, stack)
    assert problems, "the check passed a body referring to something the stack does not declare"
    if said:
        assert any(said in p for p in problems), problems


def test_the_schema_refuses_what_cloudwatch_would(dev_board):
    body = dev_board[0]
    for breaks in (
        lambda b: b.pop("widgets"),
        lambda b: b["widgets"][1]["properties"].pop("region"),
        lambda b: b["widgets"][1].__setitem__("width", 25),
        lambda b: b["widgets"][1]["properties"].__setitem__("period", 90),
        lambda b: b["widgets"][0]["properties"].pop("markdown"),
        lambda b: b["widgets"][1]["properties"].__setitem__("annotations", {"horizontal": [{"label": "no value"}]}),
    ):
        broken = copy.deepcopy(body)
        breaks(broken)
        assert list(VALIDATOR.iter_errors(broken)), "the schema accepted a body CloudWatch would refuse"


# --------------------------------------------------------------------------- #
# The pure builder
# --------------------------------------------------------------------------- #

SPEC = DashboardSpec(
    region="eu-west-1",
    service_name="hokusai-api-staging",
    cluster_name="hokusai-staging",
    load_balancer="app/lb/1",
    target_group="targetgroup/tg/2",
    log_metrics=(LogMetric("Hokusai/API", "HuggingFaceTokenError", "no token"),),
    alarms=(
        WatchingAlarm(
            "a-token", "arn:aws:cloudwatch:eu-west-1:1:alarm:a-token", 1, (("Hokusai/API", "HuggingFaceTokenError"),)
        ),
        WatchingAlarm(
            "a-missing",
            "arn:aws:cloudwatch:eu-west-1:1:alarm:a-missing",
            0,
            (("ECS/ContainerInsights", "RunningTaskCount"), ("ECS/ContainerInsights", "DesiredTaskCount")),
        ),
    ),
)


def test_a_threshold_is_drawn_on_every_graph_of_what_its_alarm_watches_and_nowhere_else():
    body = dashboard_body(SPEC)
    for widget in body["widgets"]:
        if widget["type"] != "metric":
            continue
        shown = set(metrics_of(widget["properties"]["metrics"]))
        drawn = {line["label"] for line in widget["properties"].get("annotations", {}).get("horizontal", [])}
        assert drawn == {alarm.name for alarm in SPEC.alarms if shown & set(alarm.watches)}
    assert all(w["properties"]["region"] == "eu-west-1" for w in body["widgets"] if w["type"] == "metric")


def test_a_service_without_alarms_gets_no_empty_alarm_widget():
    body = dashboard_body(DashboardSpec(**{**SPEC.__dict__, "alarms": ()}))
    assert [w for w in body["widgets"] if w["type"] == "alarm"] == []
    assert VALIDATOR.is_valid(body)


def test_the_url_opens_the_dashboard_in_its_region():
    assert dashboard_url("eu-west-1", "hokusai-api-staging") == (
        "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#dashboards/dashboard/hokusai-api-staging"
    )
