"""The whole development stack, run through __main__.py under the recording mocks."""

from __future__ import annotations

from synth.checks import check_graph
from tests.helpers import by_type, run, with_mlflow, with_new_load_balancer

TAGGABLE_WITHOUT_TAGS = {
    # These AWS resources take no tags.
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:cloudwatch/logMetricFilter:LogMetricFilter",
    "aws:sns/topicSubscription:TopicSubscription",
    "aws:appautoscaling/policy:Policy",
    "aws:secretsmanager/secretVersion:SecretVersion",
}


def test_the_development_stack_holds_every_invariant(dev_run):
    assert check_graph(dev_run.resources, dev_run.outputs) == []


def test_a_two_service_stack_with_its_own_load_balancer_holds_every_invariant(dev_values):
    result = run(with_new_load_balancer(with_mlflow(dev_values)))
    assert check_graph(result.resources, result.outputs) == []
    assert {s["key"] for s in result.outputs["services"]} == {"api", "mlflow"}


def test_the_estate_keeps_its_names(dev_run):
    names = {(r.type, r.inputs.get("name") or r.inputs.get("family")) for r in dev_run.resources}
    assert ("aws:ecs/cluster:Cluster", "hokusai-development") in names
    assert ("aws:ecs/service:Service", "hokusai-api-development") in names
    assert ("aws:ecs/taskDefinition:TaskDefinition", "hokusai-api-development") in names
    assert ("aws:cloudwatch/logGroup:LogGroup", "/ecs/hokusai-api-development") in names
    assert ("aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace", "hokusai-development.local") in names
    assert ("aws:servicediscovery/service:Service", "api") in names


def test_the_cluster_has_container_insights(dev_run):
    (cluster,) = by_type(dev_run, "aws:ecs/cluster:Cluster")
    assert {"name": "containerInsights", "value": "enabled"} in cluster.inputs["settings"]


def test_every_taggable_resource_says_who_owns_it(dev_run):
    for resource in dev_run.resources:
        if resource.type.startswith("aws:") and resource.type not in TAGGABLE_WITHOUT_TAGS:
            assert resource.inputs.get("tags", {}).get("managed-by") == "pulumi", resource.name
            assert resource.inputs["tags"]["environment"] == "development"
            assert resource.inputs["tags"]["team"] == "platform"


def test_the_estate_output_lets_live_checks_find_everything(dev_run):
    estate = dev_run.outputs
    (api,) = estate["services"]
    assert estate["cluster_name"] == "hokusai-development"
    assert api["task_definition_arn"].endswith(":task-definition/hokusai-api-development:1")
    assert api["service_arn"].endswith(":service/hokusai-development/hokusai-api-development")
    assert set(api["secret_arns"]) == {"HUGGINGFACE_API_KEY", "DB_PASSWORD", "REDIS_AUTH_TOKEN", "API_SECRET_KEY"}
    assert api["discovery_name"] == "api.hokusai-development.local"
    assert api["target_group_arn"].startswith("arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/")
    assert {f["metric_name"] for f in api["metric_filters"]} == {
        "HuggingFaceTokenError",
        "ErrorLogLines",
        "Http5xxResponses",
    }
    dependencies = {d["name"]: d for d in estate["dependencies"]}
    assert set(api["dependencies"]) <= set(dependencies)
    for name in api["dependencies"]:
        if dependencies[name]["security_group_id"] is not None:
            assert dependencies[name]["consumer_security_group_ids"]["api"] == api["security_group_id"]
    assert set(api["secret_value_froms"]) == set(api["secret_arns"])


def test_every_aws_resource_belongs_to_a_component(dev_run):
    # Children are named f"{component}-<role>", which is also how `pulumi preview` groups them.
    components = {r.name for r in dev_run.resources if r.type.startswith("hokusai:")}
    for resource in dev_run.resources:
        if resource.type.startswith("aws:"):
            assert any(resource.name.startswith(f"{c}-") for c in components), resource.name
