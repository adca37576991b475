"""A service's CloudWatch dashboard: the body PutDashboard takes, and the console URL of it.

On-call opens one page per service and sees what the alarms see: response time,
requests, HTTP errors as the load balancer counts them and as the logs do, every
failure signature's metric, running against desired tasks, CPU and memory. Each
alarm's threshold is drawn as a horizontal line, named, on the graph of the metric
it watches, so "how close are we" needs no second tab.

The body follows the dashboard body structure:
https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html
(tests/test_dashboard.py holds it to the fields and types used here).

Pure: no Pulumi, no boto3. The program resolves the values AWS computes (ARN
suffixes, alarm ARNs) before calling `dashboard_body`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# The dashboard grid is 24 columns wide; two graphs side by side, six rows tall each.
GRID_COLUMNS = 24
GRAPH_WIDTH = 12
GRAPH_HEIGHT = 6
HEADER_HEIGHT = 2
# The alarms' period (infra/observability.py): the graphs show the points they judge.
PERIOD_SECONDS = 60
# A threshold line is drawn in the console's "alarm" red.
THRESHOLD_COLOUR = "#d62728"

ALB = "AWS/ApplicationELB"
ECS = "AWS/ECS"
CONTAINER_INSIGHTS = "ECS/ContainerInsights"


def dashboard_url(region: str, name: str) -> str:
    """Where the console shows the dashboard (dashboards are global; the console opens in `region`)."""
    return f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#dashboards/dashboard/{name}"


@dataclass(frozen=True)
class LogMetric:
    """A failure signature's metric, published by its metric filter (core/contract.py)."""

    namespace: str
    name: str
    # What a rise means, as the contract says it: the graph's title.
    meaning: str


@dataclass(frozen=True)
class WatchingAlarm:
    """An alarm of the service and the metrics it watches: its threshold is drawn on
    every graph that shows one of them."""

    name: str
    arn: str
    threshold: float
    # (namespace, metric name) of each metric the alarm reads, dimensioned by this service
    watches: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class DashboardSpec:
    region: str
    # The ECS service and its cluster: the AWS/ECS and Container Insights dimensions.
    service_name: str
    cluster_name: str
    # The ARN suffixes the AWS/ApplicationELB metrics are dimensioned by.
    load_balancer: str
    target_group: str
    log_metrics: tuple[LogMetric, ...]
    alarms: tuple[WatchingAlarm, ...]


@dataclass(frozen=True)
class _Graph:
    title: str
    # Each: [namespace, metric, dimension name, value, ..., {rendering}] or [{expression ...}]
    metrics: tuple[tuple[Any, ...], ...]
    stat: str
    y_label: str = ""
    y_max: float | None = None


def dashboard_body(spec: DashboardSpec) -> dict[str, Any]:
    """The dashboard as PutDashboard's DashboardBody (before json.dumps)."""
    graphs = [*_load_balancer_graphs(spec), *_task_graphs(spec), *_log_graphs(spec)]
    widgets: list[dict[str, Any]] = [_header(spec)]
    for index, graph in enumerate(graphs):
        column, row = index % 2, index // 2
        widgets.append(_metric_widget(spec, graph, x=column * GRAPH_WIDTH, y=HEADER_HEIGHT + row * GRAPH_HEIGHT))
    if spec.alarms:
        rows = (len(graphs) + 1) // 2
        widgets.append(
            {
                "type": "alarm",
                "x": 0,
                "y": HEADER_HEIGHT + rows * GRAPH_HEIGHT,
                "width": GRID_COLUMNS,
                "height": GRAPH_HEIGHT // 2 + 1,
                "properties": {
                    "title": "Alarms (the deployment alarms among them roll a deployment back)",
                    "alarms": [alarm.arn for alarm in spec.alarms],
                },
            }
        )
    return {"periodOverride": "inherit", "widgets": widgets}


def _header(spec: DashboardSpec) -> dict[str, Any]:
    return {
        "type": "text",
        "x": 0,
        "y": 0,
        "width": GRID_COLUMNS,
        "height": HEADER_HEIGHT,
        "properties": {
            "markdown": (
                f"## {spec.service_name}\n"
                f"ECS service `{spec.service_name}` in cluster `{spec.cluster_name}`. "
                "A red line on a graph is an alarm's threshold, named after the alarm."
            )
        },
    }


def _load_balancer_graphs(spec: DashboardSpec) -> list[_Graph]:
    def alb(metric: str, **rendering: Any) -> tuple[Any, ...]:
        return (ALB, metric, "LoadBalancer", spec.load_balancer, "TargetGroup", spec.target_group, rendering)

    return [
        _Graph(
            "Response time at the targets (p50, p95, p99)",
            tuple(alb("TargetResponseTime", stat=p, label=p) for p in ("p50", "p95", "p99")),
            stat="p50",
            y_label="seconds",
        ),
        _Graph("Requests", (alb("RequestCount", label="requests"),), stat="Sum", y_label="count"),
        _Graph(
            "HTTP 4xx and 5xx answered by the targets (load balancer)",
            (alb("HTTPCode_Target_4XX_Count", label="4xx"), alb("HTTPCode_Target_5XX_Count", label="5xx")),
            stat="Sum",
            y_label="count",
        ),
        _Graph(
            "Healthy and unhealthy targets",
            (
                alb("HealthyHostCount", label="healthy", stat="Minimum"),
                alb("UnHealthyHostCount", label="unhealthy", stat="Maximum"),
            ),
            stat="Maximum",
            y_label="targets",
        ),
    ]


def _task_graphs(spec: DashboardSpec) -> list[_Graph]:
    def service(namespace: str, metric: str, **rendering: Any) -> tuple[Any, ...]:
        return (namespace, metric, "ClusterName", spec.cluster_name, "ServiceName", spec.service_name, rendering)

    return [
        _Graph(
            "Running and desired tasks",
            (
                service(CONTAINER_INSIGHTS, "RunningTaskCount", id="running", label="running"),
                service(CONTAINER_INSIGHTS, "DesiredTaskCount", id="desired", label="desired"),
                # What the running-below-desired alarm judges (its threshold line is on this one).
                ({"expression": "desired - running", "id": "missing", "label": "missing (desired - running)"},),
            ),
            stat="Average",
            y_label="tasks",
        ),
        _Graph(
            "CPU and memory (% of the task size)",
            (service(ECS, "CPUUtilization", label="CPU"), service(ECS, "MemoryUtilization", label="memory")),
            stat="Average",
            y_label="percent",
            y_max=100,
        ),
    ]


def _log_graphs(spec: DashboardSpec) -> list[_Graph]:
    return [
        _Graph(
            f"{metric.name} (logs): {metric.meaning}", ((metric.namespace, metric.name, {"label": metric.name}),), "Sum"
        )
        for metric in spec.log_metrics
    ]


def _metric_widget(spec: DashboardSpec, graph: _Graph, *, x: int, y: int) -> dict[str, Any]:
    shown = set(metrics_of(graph.metrics))
    thresholds = [
        {"label": alarm.name, "value": alarm.threshold, "color": THRESHOLD_COLOUR}
        for alarm in spec.alarms
        if shown & set(alarm.watches)
    ]
    y_axis: dict[str, Any] = {"min": 0, "showUnits": False}
    if graph.y_label:
        y_axis["label"] = graph.y_label
    if graph.y_max is not None:
        y_axis["max"] = graph.y_max
    properties: dict[str, Any] = {
        "title": graph.title,
        "view": "timeSeries",
        "stacked": False,
        "region": spec.region,
        "period": PERIOD_SECONDS,
        "stat": graph.stat,
        "metrics": [_plain(metric) for metric in graph.metrics],
        "yAxis": {"left": y_axis},
    }
    if thresholds:
        properties["annotations"] = {"horizontal": thresholds}
    return {"type": "metric", "x": x, "y": y, "width": GRAPH_WIDTH, "height": GRAPH_HEIGHT, "properties": properties}


def _plain(metric: tuple[Any, ...]) -> list[Any]:
    """A metric row as JSON has it; an empty rendering object is left out."""
    return [dict(part) if isinstance(part, Mapping) else part for part in metric if part != {}]


def metrics_of(rows: Iterable[Sequence[Any]]) -> list[tuple[str, str]]:
    """(namespace, metric name) of each metric row; expressions name none."""
    return [(row[0], row[1]) for row in rows if len(row) >= 2 and isinstance(row[0], str) and isinstance(row[1], str)]
