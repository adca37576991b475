"""Logs, metric filters, alarms and the alarm topic, wired to each other and to deployments,
for every service of every stack file, as its contract and its stack's settings say."""

from __future__ import annotations

from core import naming
from core.contract import CONTRACTS
from tests import tiers
from tests.helpers import by_type, each_service, ecs_service, of_service, rendered, run, service_output, stack_settings

FILTER = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


def alarms(result, service):
    """The service's alarms by name."""
    names = set(service_output(result, service)["alarm_names"])
    return {a.inputs["name"]: a.inputs for a in by_type(result, ALARM) if a.inputs["name"] in names}


@each_service
def test_the_log_group_keeps_logs_for_the_configured_days(stack, service):
    (group,) = of_service(rendered(stack), service, "aws:cloudwatch/logGroup:LogGroup")
    assert (group.inputs["name"], group.inputs["retentionInDays"]) == (
        naming.log_group_name(service, stack),
        stack_settings(stack).log_retention_days,
    )


@each_service
def test_each_failure_signature_is_counted_in_the_services_namespace(stack, service):
    result, contract = rendered(stack), CONTRACTS[service]
    filters = {f.inputs["metricTransformation"]["name"]: f.inputs for f in of_service(result, service, FILTER)}
    assert set(filters) == {signature.metric_name for signature in contract.error_signatures}
    for signature in contract.error_signatures:
        found = filters[signature.metric_name]
        assert found["logGroupName"] == naming.log_group_name(service, stack)
        assert found["name"] == naming.metric_filter_name(service, stack, signature.metric_name)
        assert found["pattern"] == signature.filter_pattern
        assert found["metricTransformation"] == {
            "name": signature.metric_name,
            "namespace": contract.metric_namespace,
            "value": "1",
            "defaultValue": "0",
        }


@each_service
def test_each_signature_alarm_watches_its_filters_metric_and_notifies_the_topic(stack, service):
    result, contract = rendered(stack), CONTRACTS[service]
    (topic,) = by_type(result, "aws:sns/topic:Topic")
    found = alarms(result, service)
    for signature in contract.error_signatures:
        alarm = found[naming.alarm_name(service, stack, signature.key)]
        assert (alarm["namespace"], alarm["metricName"]) == (contract.metric_namespace, signature.metric_name)
        assert alarm["period"] == 60 and alarm["threshold"] == signature.threshold
    for alarm in found.values():
        assert alarm["alarmActions"] == [topic.outputs["arn"]] and alarm["okActions"] == [topic.outputs["arn"]]


@each_service
def test_the_signature_alarms_are_the_services_deployment_alarms(stack, service):
    result, contract = rendered(stack), CONTRACTS[service]
    deployment_alarms = ecs_service(result, service).inputs["alarms"]["alarmNames"]
    assert set(deployment_alarms) == {
        name
        for name, alarm in alarms(result, service).items()
        if alarm.get("namespace") == contract.metric_namespace
        and any(s.metric_name == alarm["metricName"] and s.deployment_alarm for s in contract.error_signatures)
    }


@each_service
def test_load_balancer_alarms_use_the_target_group_and_load_balancer_dimensions(stack, service):
    result = rendered(stack)
    found = alarms(result, service)
    (group,) = of_service(result, service, "aws:lb/targetGroup:TargetGroup")
    listener = stack_settings(stack).load_balancer.listener_arn
    for what, metric in (("alb_5xx", "HTTPCode_Target_5XX_Count"), ("unhealthy_targets", "UnHealthyHostCount")):
        alarm = found[naming.alarm_name(service, stack, what)]
        assert (alarm["namespace"], alarm["metricName"]) == ("AWS/ApplicationELB", metric)
        assert alarm["dimensions"]["TargetGroup"] == group.outputs["arnSuffix"]
        if listener:  # adopted: the listener's load balancer (listener/app/<name>/<lb id>/<listener id>)
            load_balancer = listener.split(":listener/app/", 1)[1].split("/", 1)[0]
            assert alarm["dimensions"]["LoadBalancer"].startswith(f"app/{load_balancer}/")


@each_service
def test_running_below_desired_compares_container_insights_counts(stack, service):
    alarm = alarms(rendered(stack), service)[naming.alarm_name(service, stack, "running_below_desired")]
    queries = {q["id"]: q for q in alarm["metricQueries"]}
    assert queries["missing"]["expression"] == "desired - running"
    assert queries["running"]["metric"]["metricName"] == "RunningTaskCount"
    assert queries["running"]["metric"]["dimensions"] == {
        "ClusterName": naming.cluster_name(stack),
        "ServiceName": naming.service_name(service, stack),
    }
    assert alarm["comparisonOperator"] == "GreaterThanThreshold" and alarm["threshold"] == 0


@tiers.renders
def test_alarm_emails_subscribe_to_the_topic(dev_values):
    dev_values["hokusai:alarm_emails"] = ["oncall@hokus.ai"]
    result = run(dev_values)
    (subscription,) = by_type(result, "aws:sns/topicSubscription:TopicSubscription")
    (topic,) = by_type(result, "aws:sns/topic:Topic")
    assert (subscription.inputs["protocol"], subscription.inputs["endpoint"]) == ("email", "oncall@hokus.ai")
    assert subscription.inputs["topic"] == topic.outputs["arn"]
    assert topic.inputs["name"] == naming.alarm_topic_name("development")
