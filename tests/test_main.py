"""Every stack file, run through __main__.py under the recording mocks."""

from __future__ import annotations

from core import naming
from core.contract import CONTRACTS
from synth.checks import check_graph
from tests import tiers
from tests.helpers import (
    by_type,
    each_service,
    each_stack,
    rendered,
    run,
    service_output,
    stack_settings,
    with_every_contract,
    with_new_load_balancer,
)

TAGGABLE_WITHOUT_TAGS = {
    # These AWS resources take no tags.
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:cloudwatch/logMetricFilter:LogMetricFilter",
    "aws:sns/topicSubscription:TopicSubscription",
    "aws:appautoscaling/policy:Policy",
    "aws:secretsmanager/secretVersion:SecretVersion",
    "aws:cloudwatch/dashboard:Dashboard",
}


@each_stack
def test_every_stack_holds_every_invariant(stack):
    result = rendered(stack)
    assert check_graph(result.resources, result.outputs) == []


@tiers.renders
def test_every_contract_deployed_together_with_its_own_load_balancer_holds_every_invariant(dev_values):
    result = run(with_new_load_balancer(with_every_contract(dev_values)))
    assert check_graph(result.resources, result.outputs) == []
    assert {s["key"] for s in result.outputs["services"]} == set(CONTRACTS)


@each_stack
def test_the_estate_keeps_its_names(stack):
    names = {(r.type, r.inputs.get("name") or r.inputs.get("family")) for r in rendered(stack).resources}
    assert ("aws:ecs/cluster:Cluster", naming.cluster_name(stack)) in names
    assert ("aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace", naming.namespace_name(stack)) in names
    for service in stack_settings(stack).services:
        assert ("aws:ecs/service:Service", naming.service_name(service.key, stack)) in names
        assert ("aws:ecs/taskDefinition:TaskDefinition", naming.service_name(service.key, stack)) in names
        assert ("aws:cloudwatch/logGroup:LogGroup", naming.log_group_name(service.key, stack)) in names
        assert ("aws:servicediscovery/service:Service", service.key) in names


@each_stack
def test_the_cluster_has_container_insights(stack):
    (cluster,) = by_type(rendered(stack), "aws:ecs/cluster:Cluster")
    assert {"name": "containerInsights", "value": "enabled"} in cluster.inputs["settings"]


@each_stack
def test_every_taggable_resource_says_who_owns_it(stack):
    expected = stack_settings(stack).resource_tags
    assert expected["managed-by"] == "pulumi" and expected["environment"] == stack
    for resource in rendered(stack).resources:
        if resource.type.startswith("aws:") and resource.type not in TAGGABLE_WITHOUT_TAGS:
            assert resource.inputs.get("tags") == expected, resource.name


@each_service
def test_the_estate_output_lets_live_checks_find_everything(stack, service):
    settings = stack_settings(stack)
    estate = rendered(stack).outputs
    assert (estate["stack"], estate["cluster_name"]) == (stack, naming.cluster_name(stack))
    assert [s["key"] for s in estate["services"]] == [s.key for s in settings.services]
    found, contract = service_output(rendered(stack), service), CONTRACTS[service]
    name = naming.service_name(service, stack)
    assert found["task_definition_arn"].endswith(f":task-definition/{name}:1")
    assert found["service_arn"].endswith(f":service/{naming.cluster_name(stack)}/{name}")
    assert set(found["secret_arns"]) == set(contract.secret_names)
    assert found["discovery_name"] == naming.discovery_hostname(service, stack)
    assert found["target_group_arn"].startswith(
        f"arn:aws:elasticloadbalancing:{settings.region}:{settings.account_id}:targetgroup/"
    )
    assert [f["metric_name"] for f in found["metric_filters"]] == [s.metric_name for s in contract.error_signatures]
    assert found["dependencies"] == list(contract.dependency_names)
    # The exact valueFrom of each secret: its ARN, then the JSON key and version the stack names.
    assert set(found["secret_value_froms"]) == set(found["secret_arns"])
    for source in settings.service(service).secrets:
        assert found["secret_value_froms"][source.env_var] == source.container_value_from(
            found["secret_arns"][source.env_var]
        )


@each_stack
def test_each_dependency_admits_every_service_that_reaches_it_and_the_extra_consumers(stack):
    estate, settings = rendered(stack).outputs, stack_settings(stack)
    written = {d["name"]: d for d in estate["dependencies"]}
    assert set(written) == {d.name for d in settings.dependencies}
    groups = {s["key"]: s["security_group_id"] for s in estate["services"]}
    for dependency in settings.dependencies:
        found = written[dependency.name]
        assert found["port"] == dependency.port
        if not dependency.has_security_group:
            # reached over HTTPS: no group, so no rule and no consumer to admit
            assert (found["security_group_id"], found["consumer_security_group_ids"]) == (None, {})
            continue
        # a declared group, or the group of the stack's own service the dependency is
        group = groups[dependency.service] if dependency.service else dependency.security_group_id
        assert found["security_group_id"] == group
        expected = {key: groups[key] for key in dependency.consumers}
        expected.update(dict(dependency.extra_consumers))
        assert found["consumer_security_group_ids"] == expected


@each_stack
def test_every_aws_resource_belongs_to_a_component(stack):
    # Children are named f"{component}-<role>", which is also how `pulumi preview` groups them.
    resources = rendered(stack).resources
    components = {r.name for r in resources if r.type.startswith("hokusai:")}
    for resource in resources:
        if resource.type.startswith("aws:"):
            assert any(resource.name.startswith(f"{c}-") for c in components), resource.name
