"""Logs, metric filters, alarms and the alarm topic, wired to each other and to deployments."""

from __future__ import annotations

from tests.helpers import by_type, run


def alarms(result):
    return {a.inputs["name"]: a.inputs for a in by_type(result, "aws:cloudwatch/metricAlarm:MetricAlarm")}


def test_the_log_group_keeps_logs_for_the_configured_days(dev_run):
    (group,) = by_type(dev_run, "aws:cloudwatch/logGroup:LogGroup")
    assert (group.inputs["name"], group.inputs["retentionInDays"]) == ("/ecs/hokusai-api-development", 30)


def test_the_huggingface_token_error_is_counted_in_the_estate_namespace(dev_run):
    (flt,) = [
        f.inputs
        for f in by_type(dev_run, "aws:cloudwatch/logMetricFilter:LogMetricFilter")
        if f.inputs["metricTransformation"]["name"] == "HuggingFaceTokenError"
    ]
    assert flt["logGroupName"] == "/ecs/hokusai-api-development"
    assert flt["pattern"] == '"HuggingFace token not configured"'
    assert flt["metricTransformation"] == {
        "name": "HuggingFaceTokenError",
        "namespace": "Hokusai/API",
        "value": "1",
        "defaultValue": "0",
    }


def test_each_signature_alarm_watches_its_filters_metric_and_notifies_the_topic(dev_run):
    topic = by_type(dev_run, "aws:sns/topic:Topic")[0].outputs["arn"]
    found = alarms(dev_run)
    for flt in by_type(dev_run, "aws:cloudwatch/logMetricFilter:LogMetricFilter"):
        metric = flt.inputs["metricTransformation"]
        (alarm,) = [a for a in found.values() if a.get("metricName") == metric["name"]]
        assert alarm["namespace"] == metric["namespace"] and alarm["period"] == 60
        assert alarm["alarmActions"] == [topic] and alarm["okActions"] == [topic]
    assert found["hokusai-api-development-huggingface-token"]["threshold"] == 1


def test_the_signature_alarms_are_the_services_deployment_alarms(dev_run):
    (service,) = by_type(dev_run, "aws:ecs/service:Service")
    assert set(service.inputs["alarms"]["alarmNames"]) == {
        n for n, a in alarms(dev_run).items() if a.get("namespace") == "Hokusai/API"
    }


def test_load_balancer_alarms_use_the_target_group_and_load_balancer_dimensions(dev_run):
    found = alarms(dev_run)
    (group,) = by_type(dev_run, "aws:lb/targetGroup:TargetGroup")
    for name, metric in (("alb-5xx", "HTTPCode_Target_5XX_Count"), ("unhealthy-targets", "UnHealthyHostCount")):
        alarm = found[f"hokusai-api-development-{name}"]
        assert (alarm["namespace"], alarm["metricName"]) == ("AWS/ApplicationELB", metric)
        assert alarm["dimensions"]["TargetGroup"] == group.outputs["arnSuffix"]
        assert alarm["dimensions"]["LoadBalancer"].startswith("app/hokusai-main-development/")


def test_running_below_desired_compares_container_insights_counts(dev_run):
    alarm = alarms(dev_run)["hokusai-api-development-running-below-desired"]
    queries = {q["id"]: q for q in alarm["metricQueries"]}
    assert queries["missing"]["expression"] == "desired - running"
    assert queries["running"]["metric"]["metricName"] == "RunningTaskCount"
    assert queries["running"]["metric"]["dimensions"] == {
        "ClusterName": "hokusai-development",
        "ServiceName": "hokusai-api-development",
    }
    assert alarm["comparisonOperator"] == "GreaterThanThreshold" and alarm["threshold"] == 0


def test_alarm_emails_subscribe_to_the_topic(dev_values):
    dev_values["hokusai:alarm_emails"] = ["oncall@hokus.ai"]
    (subscription,) = by_type(run(dev_values), "aws:sns/topicSubscription:TopicSubscription")
    assert (subscription.inputs["protocol"], subscription.inputs["endpoint"]) == ("email", "oncall@hokus.ai")
    assert subscription.inputs["topic"] == "arn:aws:sns:us-east-1:123456789012:hokusai-development-alarms"
