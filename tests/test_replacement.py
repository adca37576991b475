"""The replacement table (core/replacement.py): complete for the program, named like the SDK, and read right."""

from __future__ import annotations

import copy
import importlib
import re
from functools import cache

import pytest

from core.replacement import (
    CONDITIONALLY_FORCES_REPLACEMENT,
    FORCES_REPLACEMENT,
    KNOWN_TYPES,
    TERRAFORM_RESOURCE,
    UNVERIFIED,
    forces_replacement,
    may_force_replacement,
    replacement_paths_touched,
)
from tests import tiers
from tests.helpers import DEV_VALUES, by_type, each_stack, rendered, run, with_new_load_balancer

NOT_AWS = "pulumi-python:dynamic:Resource"

ECS_SERVICE = "aws:ecs/service:Service"
TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
LOAD_BALANCER = "aws:lb/loadBalancer:LoadBalancer"
DISCOVERY_SERVICE = "aws:servicediscovery/service:Service"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"


def aws_types(resources) -> set[str]:
    return {r.type for r in resources if not r.type.startswith("hokusai:") and r.type != NOT_AWS}


# --------------------------------------------------------------------------- #
# Complete: every type the program registers is in the table.
# --------------------------------------------------------------------------- #


@each_stack
def test_every_type_every_stack_registers_is_known(stack):
    registered = aws_types(rendered(stack).resources)
    assert registered, "the render registered no AWS resources"
    assert registered - KNOWN_TYPES == set()


@tiers.renders
def test_the_new_load_balancer_variant_is_known_too():
    registered = aws_types(run(with_new_load_balancer(copy.deepcopy(DEV_VALUES))).resources)
    assert {"aws:lb/loadBalancer:LoadBalancer", "aws:lb/listener:Listener"} <= registered
    assert registered - KNOWN_TYPES == set()


def test_the_tables_agree_on_the_types():
    assert KNOWN_TYPES == set(FORCES_REPLACEMENT) == set(TERRAFORM_RESOURCE)
    assert set(CONDITIONALLY_FORCES_REPLACEMENT) <= KNOWN_TYPES
    assert set(UNVERIFIED) <= KNOWN_TYPES
    for type_ in KNOWN_TYPES:
        always = FORCES_REPLACEMENT[type_]
        sometimes = set(CONDITIONALLY_FORCES_REPLACEMENT.get(type_, {}))
        unverified = set(UNVERIFIED.get(type_, {}))
        assert always and not (always & sometimes) and not (always & unverified) and not (sometimes & unverified)


# --------------------------------------------------------------------------- #
# Named like the SDK: every path resolves through pulumi_aws's input classes.
# --------------------------------------------------------------------------- #


def camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


@cache
def sdk_module_and_class(type_: str):
    _, module_path, class_name = type_.split(":")
    module = importlib.import_module(f"pulumi_aws.{module_path.split('/')[0]}")
    return module, getattr(module, class_name)


def properties(args_class) -> dict[str, property]:
    """camelCase name -> property of a pulumi_aws *Args class."""
    return {
        camel(name): value
        for klass in reversed(args_class.__mro__)
        for name, value in vars(klass).items()
        if isinstance(value, property)
    }


def resolves(type_: str, path: str) -> bool:
    module, resource = sdk_module_and_class(type_)
    args_class = getattr(module, f"{resource.__name__}Args")
    for i, part in enumerate(path.split(".")):
        prop = properties(args_class).get(part)
        if prop is None:
            return False
        if i < len(path.split(".")) - 1:
            nested = re.findall(r"ForwardRef\('(\w+Args)'\)", str(prop.fget.__annotations__.get("return")))
            if not nested:
                return False
            args_class = getattr(module, nested[0])
    return True


def all_paths():
    for type_ in sorted(KNOWN_TYPES):
        paths = (
            set(FORCES_REPLACEMENT[type_])
            | set(CONDITIONALLY_FORCES_REPLACEMENT.get(type_, {}))
            | set(UNVERIFIED.get(type_, {}))
        )
        for path in sorted(paths):
            yield type_, path


@pytest.mark.parametrize(("type_", "path"), list(all_paths()))
def test_every_path_is_a_pulumi_input(type_, path):
    assert resolves(type_, path), f"{type_}: {path} is not an input of pulumi_aws (camelCase, dotted)"


def test_the_resolver_rejects_what_is_not_an_input():
    assert resolves(DISCOVERY_SERVICE, "dnsConfig.dnsRecords.type")
    assert not resolves(DISCOVERY_SERVICE, "dns_config")
    assert not resolves(DISCOVERY_SERVICE, "dnsConfig.namespace")
    assert not resolves(ECS_SERVICE, "loadBalancer")  # Terraform's name; Pulumi's is loadBalancers
    assert not resolves("aws:sns/topicSubscription:TopicSubscription", "topicArn")  # Pulumi's is topic
    assert not resolves("aws:cloudwatch/metricAlarm:MetricAlarm", "alarmName")  # Pulumi's is name


@pytest.mark.parametrize("type_", sorted(KNOWN_TYPES))
def test_region_replaces_exactly_where_the_resource_has_one(type_):
    # Provider 6.x: changing `region` forces replacement; IAM is global and has none.
    module, resource = sdk_module_and_class(type_)
    has_region = "region" in properties(getattr(module, f"{resource.__name__}Args"))
    assert ("region" in FORCES_REPLACEMENT[type_]) is has_region
    assert has_region is not type_.startswith("aws:iam/")


# --------------------------------------------------------------------------- #
# The cases that matter, spelled out.
# --------------------------------------------------------------------------- #

REPLACES = True
IN_PLACE = False

CASES = [
    (ECS_SERVICE, "name", REPLACES),
    (ECS_SERVICE, "cluster", REPLACES),
    (ECS_SERVICE, "launchType", REPLACES),
    (ECS_SERVICE, "schedulingStrategy", REPLACES),
    (ECS_SERVICE, "iamRole", REPLACES),
    (ECS_SERVICE, "loadBalancers", IN_PLACE),
    (ECS_SERVICE, "loadBalancers.targetGroupArn", IN_PLACE),
    (ECS_SERVICE, "serviceRegistries", IN_PLACE),
    (ECS_SERVICE, "serviceRegistries.registryArn", IN_PLACE),
    (ECS_SERVICE, "networkConfiguration", IN_PLACE),
    (ECS_SERVICE, "networkConfiguration.subnets", IN_PLACE),
    (ECS_SERVICE, "networkConfiguration.securityGroups", IN_PLACE),
    (ECS_SERVICE, "capacityProviderStrategies", IN_PLACE),
    (ECS_SERVICE, "deploymentController.type", IN_PLACE),
    (ECS_SERVICE, "taskDefinition", IN_PLACE),
    (ECS_SERVICE, "desiredCount", IN_PLACE),
    (TASK_DEFINITION, "containerDefinitions", REPLACES),
    (TASK_DEFINITION, "cpu", REPLACES),
    (TASK_DEFINITION, "memory", REPLACES),
    (TASK_DEFINITION, "family", REPLACES),
    (TASK_DEFINITION, "executionRoleArn", REPLACES),
    (TASK_DEFINITION, "taskRoleArn", REPLACES),
    (TASK_DEFINITION, "runtimePlatform.cpuArchitecture", REPLACES),
    (TASK_DEFINITION, "skipDestroy", IN_PLACE),
    (TASK_DEFINITION, "trackLatest", IN_PLACE),
    (TASK_DEFINITION, "tags", IN_PLACE),
    (TARGET_GROUP, "name", REPLACES),
    (TARGET_GROUP, "namePrefix", REPLACES),
    (TARGET_GROUP, "port", REPLACES),
    (TARGET_GROUP, "protocol", REPLACES),
    (TARGET_GROUP, "protocolVersion", REPLACES),
    (TARGET_GROUP, "targetType", REPLACES),
    (TARGET_GROUP, "vpcId", REPLACES),
    (TARGET_GROUP, "ipAddressType", REPLACES),
    (TARGET_GROUP, "healthCheck.path", IN_PLACE),
    (TARGET_GROUP, "deregistrationDelay", IN_PLACE),
    (DISCOVERY_SERVICE, "name", REPLACES),
    (DISCOVERY_SERVICE, "namespaceId", REPLACES),
    (DISCOVERY_SERVICE, "type", REPLACES),
    (DISCOVERY_SERVICE, "dnsConfig.namespaceId", REPLACES),
    (DISCOVERY_SERVICE, "dnsConfig.routingPolicy", REPLACES),
    (DISCOVERY_SERVICE, "dnsConfig.dnsRecords.type", REPLACES),
    (DISCOVERY_SERVICE, "dnsConfig.dnsRecords.ttl", IN_PLACE),
    (DISCOVERY_SERVICE, "healthCheckCustomConfig", REPLACES),
    (DISCOVERY_SERVICE, "healthCheckCustomConfig.failureThreshold", REPLACES),
    (DISCOVERY_SERVICE, "healthCheckConfig.type", REPLACES),
    (DISCOVERY_SERVICE, "healthCheckConfig.resourcePath", IN_PLACE),
    (DISCOVERY_SERVICE, "description", IN_PLACE),
    ("aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace", "name", REPLACES),
    ("aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace", "vpc", REPLACES),
    ("aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace", "description", IN_PLACE),
    ("aws:lb/listenerRule:ListenerRule", "listenerArn", REPLACES),
    ("aws:lb/listenerRule:ListenerRule", "priority", IN_PLACE),
    ("aws:lb/listenerRule:ListenerRule", "conditions", IN_PLACE),
    ("aws:lb/listenerRule:ListenerRule", "actions", IN_PLACE),
    ("aws:lb/listener:Listener", "loadBalancerArn", REPLACES),
    ("aws:lb/listener:Listener", "port", IN_PLACE),
    ("aws:lb/listener:Listener", "certificateArn", IN_PLACE),
    (LOAD_BALANCER, "name", REPLACES),
    (LOAD_BALANCER, "internal", REPLACES),
    (LOAD_BALANCER, "loadBalancerType", REPLACES),
    (LOAD_BALANCER, "subnets", IN_PLACE),  # but see CONDITIONALLY_FORCES_REPLACEMENT
    (LOAD_BALANCER, "idleTimeout", IN_PLACE),
    ("aws:cloudwatch/logGroup:LogGroup", "name", REPLACES),
    ("aws:cloudwatch/logGroup:LogGroup", "namePrefix", REPLACES),
    ("aws:cloudwatch/logGroup:LogGroup", "logGroupClass", REPLACES),
    ("aws:cloudwatch/logGroup:LogGroup", "retentionInDays", IN_PLACE),
    ("aws:cloudwatch/logGroup:LogGroup", "kmsKeyId", IN_PLACE),
    ("aws:cloudwatch/logMetricFilter:LogMetricFilter", "name", REPLACES),
    ("aws:cloudwatch/logMetricFilter:LogMetricFilter", "logGroupName", REPLACES),
    ("aws:cloudwatch/logMetricFilter:LogMetricFilter", "pattern", IN_PLACE),
    ("aws:cloudwatch/logMetricFilter:LogMetricFilter", "metricTransformation", IN_PLACE),
    ("aws:cloudwatch/metricAlarm:MetricAlarm", "name", REPLACES),
    ("aws:cloudwatch/metricAlarm:MetricAlarm", "threshold", IN_PLACE),
    ("aws:cloudwatch/metricAlarm:MetricAlarm", "alarmActions", IN_PLACE),
    ("aws:cloudwatch/dashboard:Dashboard", "dashboardName", REPLACES),
    ("aws:cloudwatch/dashboard:Dashboard", "dashboardBody", IN_PLACE),
    ("aws:ec2/securityGroup:SecurityGroup", "name", REPLACES),
    ("aws:ec2/securityGroup:SecurityGroup", "namePrefix", REPLACES),
    ("aws:ec2/securityGroup:SecurityGroup", "description", REPLACES),
    ("aws:ec2/securityGroup:SecurityGroup", "vpcId", REPLACES),
    ("aws:ec2/securityGroup:SecurityGroup", "ingress", IN_PLACE),
    ("aws:ec2/securityGroup:SecurityGroup", "tags", IN_PLACE),
    (INGRESS_RULE, "securityGroupId", REPLACES),
    (INGRESS_RULE, "cidrIpv4", IN_PLACE),  # same source kind; switching kinds replaces
    (INGRESS_RULE, "fromPort", IN_PLACE),
    (INGRESS_RULE, "description", IN_PLACE),
    ("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "securityGroupId", REPLACES),
    ("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "toPort", IN_PLACE),
    ("aws:iam/role:Role", "name", REPLACES),
    ("aws:iam/role:Role", "namePrefix", REPLACES),
    ("aws:iam/role:Role", "path", REPLACES),
    ("aws:iam/role:Role", "assumeRolePolicy", IN_PLACE),
    ("aws:iam/role:Role", "description", IN_PLACE),
    ("aws:iam/rolePolicy:RolePolicy", "name", REPLACES),
    ("aws:iam/rolePolicy:RolePolicy", "role", REPLACES),
    ("aws:iam/rolePolicy:RolePolicy", "policy", IN_PLACE),
    ("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "role", REPLACES),
    ("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "policyArn", REPLACES),
    ("aws:iam/policy:Policy", "name", REPLACES),
    ("aws:iam/policy:Policy", "description", REPLACES),
    ("aws:iam/policy:Policy", "policy", IN_PLACE),
    ("aws:secretsmanager/secret:Secret", "name", REPLACES),
    ("aws:secretsmanager/secret:Secret", "namePrefix", REPLACES),
    ("aws:secretsmanager/secret:Secret", "description", IN_PLACE),
    ("aws:secretsmanager/secret:Secret", "kmsKeyId", IN_PLACE),
    ("aws:secretsmanager/secretVersion:SecretVersion", "secretId", REPLACES),
    ("aws:secretsmanager/secretVersion:SecretVersion", "secretString", REPLACES),
    ("aws:secretsmanager/secretVersion:SecretVersion", "versionStages", IN_PLACE),
    ("aws:sns/topic:Topic", "name", REPLACES),
    ("aws:sns/topic:Topic", "fifoTopic", REPLACES),
    ("aws:sns/topic:Topic", "displayName", IN_PLACE),
    ("aws:sns/topicSubscription:TopicSubscription", "topic", REPLACES),
    ("aws:sns/topicSubscription:TopicSubscription", "protocol", REPLACES),
    ("aws:sns/topicSubscription:TopicSubscription", "endpoint", REPLACES),
    ("aws:sns/topicSubscription:TopicSubscription", "filterPolicy", IN_PLACE),
    ("aws:appautoscaling/target:Target", "resourceId", REPLACES),
    ("aws:appautoscaling/target:Target", "scalableDimension", REPLACES),
    ("aws:appautoscaling/target:Target", "serviceNamespace", REPLACES),
    ("aws:appautoscaling/target:Target", "maxCapacity", IN_PLACE),
    ("aws:appautoscaling/policy:Policy", "name", REPLACES),
    ("aws:appautoscaling/policy:Policy", "resourceId", REPLACES),
    ("aws:appautoscaling/policy:Policy", "policyType", IN_PLACE),
    ("aws:appautoscaling/policy:Policy", "targetTrackingScalingPolicyConfiguration.targetValue", IN_PLACE),
    ("aws:ecs/cluster:Cluster", "name", REPLACES),
    ("aws:ecs/cluster:Cluster", "settings", IN_PLACE),
    ("aws:kms/key:Key", "keyUsage", REPLACES),
    ("aws:kms/key:Key", "customerMasterKeySpec", REPLACES),
    ("aws:kms/key:Key", "multiRegion", REPLACES),
    ("aws:kms/key:Key", "description", IN_PLACE),
    ("aws:kms/key:Key", "policy", IN_PLACE),
    ("aws:kms/alias:Alias", "name", REPLACES),
    ("aws:kms/alias:Alias", "targetKeyId", IN_PLACE),
]


@pytest.mark.parametrize(("type_", "path", "replaces"), CASES)
def test_notable_cases(type_, path, replaces):
    assert forces_replacement(type_, path) is replaces


def test_conditional_and_unverified_cases_only_may_replace():
    for type_, path in [
        (LOAD_BALANCER, "subnets"),
        (LOAD_BALANCER, "subnetMappings"),
        (LOAD_BALANCER, "securityGroups"),
        (INGRESS_RULE, "referencedSecurityGroupId"),
        (TARGET_GROUP, "targetControlPort"),
        ("aws:secretsmanager/secret:Secret", "type"),
    ]:
        assert not forces_replacement(type_, path)
        assert may_force_replacement(type_, path)
    assert may_force_replacement(TARGET_GROUP, "port")  # what always replaces may, too
    assert not may_force_replacement(LOAD_BALANCER, "idleTimeout")
    assert not may_force_replacement(ECS_SERVICE, "loadBalancers")


# --------------------------------------------------------------------------- #
# Nested paths, indices, unknown types.
# --------------------------------------------------------------------------- #


def test_a_change_under_a_listed_path_counts():
    assert forces_replacement(TASK_DEFINITION, "volumes.efsVolumeConfiguration.fileSystemId")
    assert forces_replacement(TASK_DEFINITION, "ephemeralStorage.sizeInGib")
    assert forces_replacement(DISCOVERY_SERVICE, "healthCheckCustomConfig.failureThreshold")


def test_list_indices_are_ignored():
    for path in ("dnsConfig.dnsRecords[0].type", "dnsConfig.dnsRecords.0.type", "dnsConfig.dnsRecords[12].type"):
        assert forces_replacement(DISCOVERY_SERVICE, path)
    assert not forces_replacement(DISCOVERY_SERVICE, "dnsConfig.dnsRecords[0].ttl")
    assert forces_replacement(TASK_DEFINITION, "volumes[2].name")


def test_a_parent_of_a_listed_path_does_not_count_but_says_what_it_touches():
    assert not forces_replacement(DISCOVERY_SERVICE, "dnsConfig")
    assert replacement_paths_touched(DISCOVERY_SERVICE, "dnsConfig") == {
        "dnsConfig.namespaceId",
        "dnsConfig.routingPolicy",
        "dnsConfig.dnsRecords.type",
    }
    assert replacement_paths_touched(DISCOVERY_SERVICE, "dnsConfig.dnsRecords[0]") == {"dnsConfig.dnsRecords.type"}
    assert replacement_paths_touched(TASK_DEFINITION, "volumes.name") == {"volumes"}
    assert replacement_paths_touched(ECS_SERVICE, "loadBalancers") == set()


def test_paths_match_whole_components_only():
    assert not forces_replacement(ECS_SERVICE, "names")
    assert not forces_replacement(ECS_SERVICE, "clusterArn")
    assert not forces_replacement(DISCOVERY_SERVICE, "namespace")
    assert not forces_replacement(ECS_SERVICE, "")
    assert not may_force_replacement(ECS_SERVICE, "")


def test_unknown_types_are_false_and_not_known():
    bucket = "aws:s3/bucket:Bucket"
    assert bucket not in KNOWN_TYPES
    assert not forces_replacement(bucket, "bucket")
    assert not may_force_replacement(bucket, "bucket")
    assert replacement_paths_touched(bucket, "bucket") == set()
    # A known type with an in-place property is also False: KNOWN_TYPES tells the two apart.
    assert ECS_SERVICE in KNOWN_TYPES and not forces_replacement(ECS_SERVICE, "desiredCount")


# --------------------------------------------------------------------------- #
# The program against the table.
# --------------------------------------------------------------------------- #


@each_stack
def test_the_target_group_name_digests_every_replace_only_input_the_program_sets(stack):
    # core/naming.py target_group_name gives a replacement a new name (create-before-delete would
    # otherwise collide) from port, vpc and the constants HTTP / ip. Any other replace-only input
    # the program starts setting must join that digest.
    target_groups = by_type(rendered(stack), TARGET_GROUP)
    assert target_groups
    for tg in target_groups:
        forcing = {key for key in tg.inputs if forces_replacement(TARGET_GROUP, key)}
        assert forcing - {"name"} <= {"port", "protocol", "targetType", "vpcId"}
        assert (tg.inputs["protocol"], tg.inputs["targetType"]) == ("HTTP", "ip")
