"""docs/deployer-policy.json: what the deploy role needs to run `pulumi preview`,
`pulumi up` and `pulumi refresh` for this stack (and, in the deploy workflow, the
deploy gate and `make verify`), and nothing it does not.

The mapping below is the reasoning, written as data: for every resource type the
program registers, the IAM actions the AWS provider (pulumi-aws bridges the
Terraform AWS provider) calls to create it, read it back (after create and on
every refresh), update it and delete it, each with the ARN IAM authorises that
action against. The tests build a representative ARN of every resource from the
rendered stack's own names (tests/snapshots/development.json, and a render with
every optional feature switched on) and ask `core.iam_policy.decide` (the
project's one evaluator, conditions included) whether the policy allows it, in
the request context the call carries. A new resource type fails the tests until the mapping (and
so the policy) says what it needs; a permission nothing in the mapping needs
fails them too.

Action names and resource types follow the Service Authorization Reference; the
calls per resource follow the Terraform AWS provider's resource code.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from core import naming
from core.iam_policy import Decision, decide
from synth.render import document
from tests.helpers import INCIDENT_SERVICE, STACKS, each_service, each_stack, rendered, stack_settings

ROOT = Path(__file__).resolve().parents[1]
POLICY = json.loads((ROOT / "docs" / "deployer-policy.json").read_text())
VERIFY_POLICY = json.loads((ROOT / "docs" / "verify-policy.json").read_text())
# The stack the examples below are written in (its region and account); the checks run on every stack.
EXAMPLE = "development" if "development" in STACKS else STACKS[0]
REGION, ACCOUNT = stack_settings(EXAMPLE).region, stack_settings(EXAMPLE).account_id


def resources_of(stack: str) -> list[dict[str, Any]]:
    """The stack's rendered resources, as build/<stack>.json and the snapshot hold them."""
    return document(stack, rendered(stack))["resources"]


# IAM's limit for all inline policies of one role together (whitespace not counted).
# A managed policy may hold only 6,144: attach this one inline, or split it in two.
ROLE_INLINE_POLICY_LIMIT = 10_240


# --------------------------------------------------------------------------- #
# Deciding, with the request context a condition looks at
# --------------------------------------------------------------------------- #


class Need(NamedTuple):
    action: str
    # Which ARN of the resource IAM authorises the action against (a key of the
    # resource's ARNs below), or "*": the action has no resource-level permissions,
    # so a policy can only grant it on Resource "*".
    on: str = "*"
    # The request context the policy's conditions are evaluated against.
    context: dict[str, str] | None = None


N = Need
ECS_TASKS = {"iam:PassedToService": "ecs-tasks.amazonaws.com"}
VIA_SECRETS_MANAGER = {"kms:ViaService": f"secretsmanager.{REGION}.amazonaws.com"}
ECS_SCALING = {"application-autoscaling:service-namespace": "ecs"}


def slr_for(service: str) -> dict[str, str]:
    return {"iam:AWSServiceName": service}


# --------------------------------------------------------------------------- #
# Representative ARNs of each resource, from its own inputs
# --------------------------------------------------------------------------- #


def arn(service: str, resource: str) -> str:
    return f"arn:aws:{service}:{REGION}:{ACCOUNT}:{resource}"


def iam_arn(resource: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:{resource}"


# Parts of an ARN that AWS generates: stand-ins, the policy never depends on them.
HEX = "0123456789abcdef"
SECRET_SUFFIX = "-AbCdEf"  # Secrets Manager appends 6 random characters to a secret's name
NEW_SG = "sg-0123456789abcdef0"
KMS_KEY = arn("kms", "key/0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9")
SLR = {
    "ecs.amazonaws.com": iam_arn("role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS"),
    "ecs.application-autoscaling.amazonaws.com": iam_arn(
        "role/aws-service-role/ecs.application-autoscaling.amazonaws.com/"
        "AWSServiceRoleForApplicationAutoScaling_ECSService"
    ),
    "elasticloadbalancing.amazonaws.com": iam_arn(
        "role/aws-service-role/elasticloadbalancing.amazonaws.com/AWSServiceRoleForElasticLoadBalancing"
    ),
}


def _tail(value: str) -> str:
    return str(value).rsplit("/", 1)[-1]


def _ecs_service(cluster: str, service: str) -> dict[str, str]:
    return {
        "service": arn("ecs", f"service/{cluster}/{service}"),
        "deployment": arn("ecs", f"service-deployment/{cluster}/{service}/{HEX}"),
        "task": arn("ecs", f"task/{cluster}/{HEX}{HEX}"),
    }


def _scaling(i: dict[str, Any]) -> dict[str, str]:
    cluster, service = i["resourceId"].split("/")[1:3]
    return {
        "scalable_target": arn("application-autoscaling", f"scalable-target/{HEX}{HEX[:12]}"),
        "ecs_service": arn("ecs", f"service/{cluster}/{service}"),
        "slr": SLR["ecs.application-autoscaling.amazonaws.com"],
        # Target tracking creates and deletes its own alarms, named after the resource id.
        "target_tracking_alarm": arn("cloudwatch", f"alarm:TargetTracking-{i['resourceId']}-AlarmHigh-{HEX}"),
    }


def _sg_rule(i: dict[str, Any]) -> dict[str, str]:
    return {
        "security_group": arn("ec2", f"security-group/{i['securityGroupId']}"),
        "rule": arn("ec2", f"security-group-rule/sgr-{HEX}0"),
    }


def _log_group(name: str) -> dict[str, str]:
    return {
        "log_group": arn("logs", f"log-group:{name}"),
        # The older Logs APIs authorise against the log group's ARN with ":*".
        "log_group_streams": arn("logs", f"log-group:{name}:*"),
    }


def _listener_arns(listener: str) -> dict[str, str]:
    return {"listener": listener, "rule": listener.replace(":listener/", ":listener-rule/") + f"/{HEX}"}


ARNS = {
    "aws:ecs/cluster:Cluster": lambda i: {
        "cluster": arn("ecs", f"cluster/{i['name']}"),
        "ecs_slr": SLR["ecs.amazonaws.com"],
    },
    "aws:ecs/taskDefinition:TaskDefinition": lambda i: {
        "task_definition": arn("ecs", f"task-definition/{i['family']}:1"),
        "execution_role": i["executionRoleArn"],
        "task_role": i["taskRoleArn"],
    },
    "aws:ecs/service:Service": lambda i: _ecs_service(_tail(i["cluster"]), i["name"]),
    "aws:iam/role:Role": lambda i: {"role": iam_arn(f"role/{i['name']}")},
    "aws:iam/rolePolicy:RolePolicy": lambda i: {"role": iam_arn(f"role/{i['role']}")},
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": lambda i: {"role": iam_arn(f"role/{i['role']}")},
    "aws:secretsmanager/secret:Secret": lambda i: {
        "secret": arn("secretsmanager", f"secret:{i['name']}{SECRET_SUFFIX}"),
        "key": i.get("kmsKeyId") or KMS_KEY,
    },
    "aws:secretsmanager/secretVersion:SecretVersion": lambda i: {"secret": i["secretId"], "key": KMS_KEY},
    "aws:lb/targetGroup:TargetGroup": lambda i: {
        "target_group": arn("elasticloadbalancing", f"targetgroup/{i['name']}/{HEX}")
    },
    "aws:lb/listenerRule:ListenerRule": lambda i: _listener_arns(i["listenerArn"]),
    "aws:lb/loadBalancer:LoadBalancer": lambda i: {
        "load_balancer": arn("elasticloadbalancing", f"loadbalancer/app/{i['name']}/{HEX}"),
        "elb_slr": SLR["elasticloadbalancing.amazonaws.com"],
    },
    "aws:lb/listener:Listener": lambda i: {
        "load_balancer": i["loadBalancerArn"],
        "listener": i["loadBalancerArn"].replace(":loadbalancer/", ":listener/") + f"/{HEX}",
    },
    "aws:ec2/securityGroup:SecurityGroup": lambda i: {
        "security_group": arn("ec2", f"security-group/{NEW_SG}"),
        "vpc": arn("ec2", f"vpc/{i['vpcId']}"),
    },
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": _sg_rule,
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": _sg_rule,
    "aws:cloudwatch/logGroup:LogGroup": lambda i: _log_group(i["name"]),
    "aws:cloudwatch/logMetricFilter:LogMetricFilter": lambda i: _log_group(i["logGroupName"]),
    "aws:cloudwatch/metricAlarm:MetricAlarm": lambda i: {"alarm": arn("cloudwatch", f"alarm:{i['name']}")},
    # Dashboards are global: their ARN has no region.
    "aws:cloudwatch/dashboard:Dashboard": lambda i: {
        "dashboard": f"arn:aws:cloudwatch::{ACCOUNT}:dashboard/{i['dashboardName']}"
    },
    "aws:sns/topic:Topic": lambda i: {"topic": arn("sns", i["name"])},
    "aws:sns/topicSubscription:TopicSubscription": lambda i: {"topic": i["topic"]},
    "aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace": lambda i: {
        "namespace": arn("servicediscovery", f"namespace/ns-{HEX}"),
        "hosted_zone": f"arn:aws:route53:::hostedzone/Z{HEX.upper()}",
    },
    "aws:servicediscovery/service:Service": lambda i: {
        "namespace": arn("servicediscovery", f"namespace/{i['dnsConfig']['namespaceId']}"),
        "service": arn("servicediscovery", f"service/srv-{HEX}"),
    },
    "aws:appautoscaling/target:Target": _scaling,
    "aws:appautoscaling/policy:Policy": _scaling,
    # The deploy gate (infra/deploy_gate.py), the program's only dynamic resource.
    "pulumi-python:dynamic:Resource": lambda i: _ecs_service(i["cluster"], i["service_name"]),
}


# --------------------------------------------------------------------------- #
# What each resource type needs
# --------------------------------------------------------------------------- #

NOTHING: dict[str, list[Need]] = {"create": [], "read": [], "update": [], "delete": []}

REQUIREMENTS: dict[str, dict[str, list[Need]]] = {
    # Component resources group children; they do not exist in AWS.
    **{
        component: NOTHING
        for component in (
            "hokusai:discovery:Namespace",
            "hokusai:ecs:Cluster",
            "hokusai:ecs:Service",
            "hokusai:iam:TaskRoles",
            "hokusai:lb:LoadBalancer",
            "hokusai:network:DependencyAccess",
            "hokusai:network:ServiceSecurityGroup",
            "hokusai:observability:AlarmTopic",
            "hokusai:observability:ServiceDashboard",
            "hokusai:observability:ServiceObservability",
            "hokusai:secrets:Secrets",
        )
    },
    # -- ECS ------------------------------------------------------------------
    "aws:ecs/cluster:Cluster": {
        # Tags passed to a Create* call are authorised as ecs:TagResource too.
        # ECS creates its service-linked role the first time an account uses it.
        "create": [
            N("ecs:CreateCluster", "cluster"),
            N("ecs:TagResource", "cluster"),
            N("iam:CreateServiceLinkedRole", "ecs_slr", slr_for("ecs.amazonaws.com")),
        ],
        # One call returns settings (Container Insights), configuration (ECS Exec logging) and tags.
        "read": [N("ecs:DescribeClusters", "cluster")],
        "update": [
            N("ecs:UpdateCluster", "cluster"),
            N("ecs:UpdateClusterSettings", "cluster"),
            N("ecs:TagResource", "cluster"),
            N("ecs:UntagResource", "cluster"),
        ],
        "delete": [N("ecs:DeleteCluster", "cluster"), N("ecs:DescribeClusters", "cluster")],
    },
    "aws:ecs/taskDefinition:TaskDefinition": {
        # Registering hands both roles to ECS tasks: iam:PassRole, to ecs-tasks only.
        "create": [
            N("ecs:RegisterTaskDefinition", "task_definition"),
            N("ecs:TagResource", "task_definition"),
            N("iam:PassRole", "execution_role", ECS_TASKS),
            N("iam:PassRole", "task_role", ECS_TASKS),
        ],
        "read": [N("ecs:DescribeTaskDefinition")],
        # Every other change registers a new revision (create); only tags change in place.
        "update": [N("ecs:TagResource", "task_definition"), N("ecs:UntagResource", "task_definition")],
        # skip_destroy=True (infra/service.py): replaced revisions stay ACTIVE for rollbacks, so the
        # provider never calls ecs:DeregisterTaskDefinition (test_task_definitions_are_never_deregistered).
        "delete": [],
    },
    "aws:ecs/service:Service": {
        # wait_for_steady_state: the provider follows the new deployment through
        # ListServiceDeployments / DescribeServiceDeployments until it completes.
        "create": [
            N("ecs:CreateService", "service"),
            N("ecs:TagResource", "service"),
            N("ecs:DescribeServices", "service"),
            N("ecs:ListServiceDeployments", "service"),
            N("ecs:DescribeServiceDeployments", "service"),
            N("ecs:DescribeServiceDeployments", "deployment"),
        ],
        "read": [N("ecs:DescribeServices", "service")],
        "update": [
            N("ecs:UpdateService", "service"),
            N("ecs:TagResource", "service"),
            N("ecs:UntagResource", "service"),
            N("ecs:DescribeServices", "service"),
            N("ecs:ListServiceDeployments", "service"),
            N("ecs:DescribeServiceDeployments", "deployment"),
        ],
        # The provider scales the service to 0 before deleting it, then waits for INACTIVE.
        "delete": [
            N("ecs:UpdateService", "service"),
            N("ecs:DeleteService", "service"),
            N("ecs:DescribeServices", "service"),
        ],
    },
    # The deploy gate runs in `pulumi up` with the deployer's credentials (core/rollout.py), or
    # the role the stack's AWS provider assumes (aws:assumeRoles); it has no read or delete of
    # its own. DescribeTaskDefinition: who registered a revision that runs without the stack.
    "pulumi-python:dynamic:Resource": {
        "create": [
            N("ecs:DescribeServices", "service"),
            N("ecs:ListTasks"),
            N("ecs:DescribeTasks", "task"),
            N("ecs:DescribeTaskDefinition"),
        ],
        "read": [],
        "update": [
            N("ecs:DescribeServices", "service"),
            N("ecs:ListTasks"),
            N("ecs:DescribeTasks", "task"),
            N("ecs:DescribeTaskDefinition"),
        ],
        "delete": [],
    },
    # -- IAM --------------------------------------------------------------------
    "aws:iam/role:Role": {
        "create": [N("iam:CreateRole", "role"), N("iam:TagRole", "role")],
        # The provider also reads the role's inline and attached policies (drift of the deprecated
        # inline_policy / managed_policy_arns attributes).
        "read": [
            N("iam:GetRole", "role"),
            N("iam:ListRolePolicies", "role"),
            N("iam:GetRolePolicy", "role"),
            N("iam:ListAttachedRolePolicies", "role"),
        ],
        "update": [
            N("iam:UpdateRoleDescription", "role"),
            N("iam:UpdateRole", "role"),
            N("iam:UpdateAssumeRolePolicy", "role"),
            N("iam:TagRole", "role"),
            N("iam:UntagRole", "role"),
        ],
        # The provider removes the role from instance profiles before deleting it (there are none).
        "delete": [N("iam:ListInstanceProfilesForRole", "role"), N("iam:DeleteRole", "role")],
    },
    "aws:iam/rolePolicy:RolePolicy": {
        "create": [N("iam:PutRolePolicy", "role")],
        "read": [N("iam:GetRolePolicy", "role")],
        "update": [N("iam:PutRolePolicy", "role")],
        "delete": [N("iam:DeleteRolePolicy", "role")],
    },
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": {
        "create": [N("iam:AttachRolePolicy", "role")],
        "read": [N("iam:ListAttachedRolePolicies", "role")],
        "update": [],  # every change replaces the attachment
        "delete": [N("iam:DetachRolePolicy", "role")],
    },
    # -- Secrets Manager ----------------------------------------------------------
    "aws:secretsmanager/secret:Secret": {
        # With secrets_kms_key_arn, Secrets Manager uses the key on the deployer's behalf.
        "create": [
            N("secretsmanager:CreateSecret", "secret"),
            N("secretsmanager:TagResource", "secret"),
            N("kms:GenerateDataKey", "key", VIA_SECRETS_MANAGER),
            N("kms:Decrypt", "key", VIA_SECRETS_MANAGER),
        ],
        "read": [N("secretsmanager:DescribeSecret", "secret"), N("secretsmanager:GetResourcePolicy", "secret")],
        "update": [
            N("secretsmanager:UpdateSecret", "secret"),
            N("secretsmanager:TagResource", "secret"),
            N("secretsmanager:UntagResource", "secret"),
        ],
        "delete": [N("secretsmanager:DeleteSecret", "secret")],
    },
    "aws:secretsmanager/secretVersion:SecretVersion": {
        # A secret whose value comes from encrypted stack config: the one place the deployer writes a value.
        "create": [
            N("secretsmanager:PutSecretValue", "secret"),
            N("kms:GenerateDataKey", "key", VIA_SECRETS_MANAGER),
            N("kms:Decrypt", "key", VIA_SECRETS_MANAGER),
        ],
        # Reading the version back needs GetSecretValue, which the policy denies: see BLOCKED.
        # (The write-only form, secret_string_wo, reads ListSecretVersionIds instead.)
        "read": [N("secretsmanager:ListSecretVersionIds", "secret")],
        "update": [N("secretsmanager:UpdateSecretVersionStage", "secret")],
        "delete": [N("secretsmanager:UpdateSecretVersionStage", "secret")],
    },
    # -- Elastic Load Balancing (Describe* have no resource-level permissions) -----
    "aws:lb/targetGroup:TargetGroup": {
        # Deregistration delay and the like are attributes, set right after the create.
        "create": [
            N("elasticloadbalancing:CreateTargetGroup", "target_group"),
            N("elasticloadbalancing:AddTags", "target_group"),
            N("elasticloadbalancing:ModifyTargetGroupAttributes", "target_group"),
        ],
        "read": [
            N("elasticloadbalancing:DescribeTargetGroups"),
            N("elasticloadbalancing:DescribeTargetGroupAttributes"),
            N("elasticloadbalancing:DescribeTags"),
        ],
        "update": [
            N("elasticloadbalancing:ModifyTargetGroup", "target_group"),
            N("elasticloadbalancing:ModifyTargetGroupAttributes", "target_group"),
            N("elasticloadbalancing:AddTags", "target_group"),
            N("elasticloadbalancing:RemoveTags", "target_group"),
        ],
        "delete": [N("elasticloadbalancing:DeleteTargetGroup", "target_group")],
    },
    "aws:lb/listenerRule:ListenerRule": {
        # CreateRule is authorised against the listener (adopted: hokusai-main-development's).
        "create": [N("elasticloadbalancing:CreateRule", "listener"), N("elasticloadbalancing:AddTags", "rule")],
        "read": [N("elasticloadbalancing:DescribeRules"), N("elasticloadbalancing:DescribeTags")],
        "update": [
            N("elasticloadbalancing:ModifyRule", "rule"),
            N("elasticloadbalancing:SetRulePriorities", "rule"),
            N("elasticloadbalancing:AddTags", "rule"),
            N("elasticloadbalancing:RemoveTags", "rule"),
        ],
        "delete": [N("elasticloadbalancing:DeleteRule", "rule")],
    },
    "aws:lb/loadBalancer:LoadBalancer": {  # load_balancer.create: true
        "create": [
            N("elasticloadbalancing:CreateLoadBalancer", "load_balancer"),
            N("elasticloadbalancing:AddTags", "load_balancer"),
            N("elasticloadbalancing:ModifyLoadBalancerAttributes", "load_balancer"),
            N("iam:CreateServiceLinkedRole", "elb_slr", slr_for("elasticloadbalancing.amazonaws.com")),
        ],
        "read": [
            N("elasticloadbalancing:DescribeLoadBalancers"),
            N("elasticloadbalancing:DescribeLoadBalancerAttributes"),
            N("elasticloadbalancing:DescribeTags"),
            N("elasticloadbalancing:DescribeCapacityReservation"),
        ],
        "update": [
            N("elasticloadbalancing:ModifyLoadBalancerAttributes", "load_balancer"),
            N("elasticloadbalancing:SetSecurityGroups", "load_balancer"),
            N("elasticloadbalancing:SetSubnets", "load_balancer"),
            N("elasticloadbalancing:AddTags", "load_balancer"),
            N("elasticloadbalancing:RemoveTags", "load_balancer"),
        ],
        # The provider waits for the ALB's network interfaces to go before it returns.
        "delete": [N("elasticloadbalancing:DeleteLoadBalancer", "load_balancer"), N("ec2:DescribeNetworkInterfaces")],
    },
    "aws:lb/listener:Listener": {  # load_balancer.create: true
        # CreateListener is authorised against the load balancer.
        "create": [
            N("elasticloadbalancing:CreateListener", "load_balancer"),
            N("elasticloadbalancing:AddTags", "listener"),
        ],
        "read": [
            N("elasticloadbalancing:DescribeListeners"),
            N("elasticloadbalancing:DescribeListenerAttributes"),
            N("elasticloadbalancing:DescribeTags"),
        ],
        "update": [
            N("elasticloadbalancing:ModifyListener", "listener"),
            N("elasticloadbalancing:AddTags", "listener"),
            N("elasticloadbalancing:RemoveTags", "listener"),
        ],
        "delete": [N("elasticloadbalancing:DeleteListener", "listener")],
    },
    # -- EC2 security groups and rules (ARNs carry ids, not names) ----------------
    "aws:ec2/securityGroup:SecurityGroup": {
        # The provider revokes the allow-all egress rule AWS adds to every new group.
        "create": [
            N("ec2:CreateSecurityGroup", "security_group"),
            N("ec2:CreateSecurityGroup", "vpc"),
            N("ec2:CreateTags", "security_group"),
            N("ec2:RevokeSecurityGroupEgress", "security_group"),
            N("ec2:DescribeSecurityGroups"),
        ],
        "read": [N("ec2:DescribeSecurityGroups")],
        "update": [N("ec2:CreateTags", "security_group"), N("ec2:DeleteTags", "security_group")],
        # Before deleting, the provider looks for network interfaces still using the group.
        "delete": [N("ec2:DescribeNetworkInterfaces"), N("ec2:DeleteSecurityGroup", "security_group")],
    },
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": {
        # On the service's own group, and on each dependency's group (not this stack's: by id only).
        "create": [
            N("ec2:AuthorizeSecurityGroupIngress", "security_group"),
            N("ec2:AuthorizeSecurityGroupIngress", "rule"),
            N("ec2:CreateTags", "rule"),
        ],
        "read": [N("ec2:DescribeSecurityGroupRules")],
        "update": [
            N("ec2:ModifySecurityGroupRules", "security_group"),
            N("ec2:ModifySecurityGroupRules", "rule"),
            N("ec2:CreateTags", "rule"),
            N("ec2:DeleteTags", "rule"),
        ],
        "delete": [N("ec2:RevokeSecurityGroupIngress", "security_group")],
    },
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": {
        "create": [
            N("ec2:AuthorizeSecurityGroupEgress", "security_group"),
            N("ec2:AuthorizeSecurityGroupEgress", "rule"),
            N("ec2:CreateTags", "rule"),
        ],
        "read": [N("ec2:DescribeSecurityGroupRules")],
        "update": [
            N("ec2:ModifySecurityGroupRules", "security_group"),
            N("ec2:ModifySecurityGroupRules", "rule"),
            N("ec2:CreateTags", "rule"),
            N("ec2:DeleteTags", "rule"),
        ],
        "delete": [N("ec2:RevokeSecurityGroupEgress", "security_group")],
    },
    # -- CloudWatch Logs, alarms, SNS --------------------------------------------
    "aws:cloudwatch/logGroup:LogGroup": {
        "create": [
            N("logs:CreateLogGroup", "log_group"),
            N("logs:CreateLogGroup", "log_group_streams"),
            N("logs:TagResource", "log_group"),
            N("logs:PutRetentionPolicy", "log_group_streams"),
        ],
        # Provider versions have used both tag APIs (ARN-based and the older name-based ones).
        "read": [
            N("logs:DescribeLogGroups"),
            N("logs:ListTagsForResource", "log_group"),
            N("logs:ListTagsLogGroup", "log_group_streams"),
        ],
        "update": [
            N("logs:PutRetentionPolicy", "log_group_streams"),
            N("logs:DeleteRetentionPolicy", "log_group_streams"),
            N("logs:TagResource", "log_group"),
            N("logs:UntagResource", "log_group"),
            N("logs:TagLogGroup", "log_group_streams"),
            N("logs:UntagLogGroup", "log_group_streams"),
        ],
        "delete": [N("logs:DeleteLogGroup", "log_group_streams")],
    },
    "aws:cloudwatch/logMetricFilter:LogMetricFilter": {
        "create": [N("logs:PutMetricFilter", "log_group_streams")],
        "read": [N("logs:DescribeMetricFilters", "log_group_streams")],
        "update": [N("logs:PutMetricFilter", "log_group_streams")],
        "delete": [N("logs:DeleteMetricFilter", "log_group_streams")],
    },
    "aws:cloudwatch/metricAlarm:MetricAlarm": {
        "create": [N("cloudwatch:PutMetricAlarm", "alarm"), N("cloudwatch:TagResource", "alarm")],
        "read": [N("cloudwatch:DescribeAlarms", "alarm"), N("cloudwatch:ListTagsForResource", "alarm")],
        "update": [
            N("cloudwatch:PutMetricAlarm", "alarm"),
            N("cloudwatch:TagResource", "alarm"),
            N("cloudwatch:UntagResource", "alarm"),
        ],
        "delete": [N("cloudwatch:DeleteAlarms", "alarm")],
    },
    # internal/service/cloudwatch/dashboard.go: PutDashboard creates and updates, each read back
    # with GetDashboard; no tags (dashboards take none).
    "aws:cloudwatch/dashboard:Dashboard": {
        "create": [N("cloudwatch:PutDashboard", "dashboard"), N("cloudwatch:GetDashboard", "dashboard")],
        "read": [N("cloudwatch:GetDashboard", "dashboard")],
        "update": [N("cloudwatch:PutDashboard", "dashboard"), N("cloudwatch:GetDashboard", "dashboard")],
        "delete": [N("cloudwatch:DeleteDashboards", "dashboard")],
    },
    "aws:sns/topic:Topic": {
        "create": [N("sns:CreateTopic", "topic"), N("sns:TagResource", "topic"), N("sns:SetTopicAttributes", "topic")],
        "read": [N("sns:GetTopicAttributes", "topic"), N("sns:ListTagsForResource", "topic")],
        "update": [
            N("sns:SetTopicAttributes", "topic"),
            N("sns:TagResource", "topic"),
            N("sns:UntagResource", "topic"),
        ],
        "delete": [N("sns:DeleteTopic", "topic")],
    },
    "aws:sns/topicSubscription:TopicSubscription": {  # alarm_emails
        # Only Subscribe is authorised against the topic; the subscription calls have no resource types.
        "create": [N("sns:Subscribe", "topic")],
        "read": [N("sns:GetSubscriptionAttributes")],
        "update": [N("sns:SetSubscriptionAttributes")],
        "delete": [N("sns:Unsubscribe")],
    },
    # -- Cloud Map (ids, not names, in its ARNs) ------------------------------------
    "aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace": {
        # Cloud Map creates the private hosted zone with the caller's Route 53 permissions
        # (AWS Cloud Map API permissions reference); the provider waits on the operation.
        "create": [
            N("servicediscovery:CreatePrivateDnsNamespace"),
            N("servicediscovery:TagResource"),
            N("servicediscovery:GetOperation", "namespace"),
            N("route53:CreateHostedZone"),
            N("route53:GetHostedZone", "hosted_zone"),
            N("route53:ListHostedZonesByName"),
            N("ec2:DescribeVpcs"),
            N("ec2:DescribeRegions"),
        ],
        "read": [N("servicediscovery:GetNamespace", "namespace"), N("servicediscovery:ListTagsForResource")],
        "update": [
            N("servicediscovery:UpdatePrivateDnsNamespace", "namespace"),
            N("servicediscovery:GetOperation", "namespace"),
            N("servicediscovery:TagResource"),
            N("servicediscovery:UntagResource"),
        ],
        "delete": [N("servicediscovery:DeleteNamespace", "namespace"), N("servicediscovery:GetOperation", "namespace")],
    },
    "aws:servicediscovery/service:Service": {
        "create": [
            N("servicediscovery:CreateService", "namespace"),
            N("servicediscovery:CreateService", "service"),
            N("servicediscovery:TagResource"),
        ],
        "read": [N("servicediscovery:GetService", "service"), N("servicediscovery:ListTagsForResource")],
        "update": [
            N("servicediscovery:UpdateService", "service"),
            N("servicediscovery:GetOperation", "namespace"),
            N("servicediscovery:TagResource"),
            N("servicediscovery:UntagResource"),
        ],
        "delete": [N("servicediscovery:DeleteService", "service")],
    },
    # -- Application Auto Scaling ---------------------------------------------------
    "aws:appautoscaling/target:Target": {
        # Registering an ECS service creates AWSServiceRoleForApplicationAutoScaling_ECSService the
        # first time, and Application Auto Scaling checks the service with the caller's ECS rights.
        "create": [
            N("application-autoscaling:RegisterScalableTarget", "scalable_target", ECS_SCALING),
            N("application-autoscaling:TagResource", "scalable_target"),
            N("iam:CreateServiceLinkedRole", "slr", slr_for("ecs.application-autoscaling.amazonaws.com")),
            N("ecs:DescribeServices", "ecs_service"),
            N("ecs:UpdateService", "ecs_service"),
        ],
        "read": [
            N("application-autoscaling:DescribeScalableTargets"),
            N("application-autoscaling:ListTagsForResource", "scalable_target"),
        ],
        "update": [
            N("application-autoscaling:RegisterScalableTarget", "scalable_target", ECS_SCALING),
            N("application-autoscaling:TagResource", "scalable_target"),
            N("application-autoscaling:UntagResource", "scalable_target"),
        ],
        "delete": [N("application-autoscaling:DeregisterScalableTarget", "scalable_target", ECS_SCALING)],
    },
    "aws:appautoscaling/policy:Policy": {
        # Target tracking creates (and deletes) its CloudWatch alarms, TargetTracking-service/<cluster>/<service>-*.
        "create": [
            N("application-autoscaling:PutScalingPolicy", "scalable_target", ECS_SCALING),
            N("cloudwatch:PutMetricAlarm", "target_tracking_alarm"),
            N("cloudwatch:DescribeAlarms", "target_tracking_alarm"),
        ],
        "read": [N("application-autoscaling:DescribeScalingPolicies")],
        "update": [
            N("application-autoscaling:PutScalingPolicy", "scalable_target", ECS_SCALING),
            N("cloudwatch:PutMetricAlarm", "target_tracking_alarm"),
        ],
        "delete": [
            N("application-autoscaling:DeleteScalingPolicy", "scalable_target", ECS_SCALING),
            N("cloudwatch:DeleteAlarms", "target_tracking_alarm"),
        ],
    },
}

# What a resource type would need but the policy refuses on purpose.
BLOCKED: dict[str, list[Need]] = {
    # The provider reads a SecretVersion back with GetSecretValue (after PutSecretValue and on
    # every refresh; terraform-provider-aws#22436, fixed only for the write-only secret_string_wo in
    # #44876). The deploy role never reads a secret value, so a stack that takes a secret's value
    # from encrypted config (`value_from`) cannot be deployed or refreshed with this policy.
    # The development stack has none (test_no_stack_deployed_with_this_policy_declares_a_secret_version).
    "aws:secretsmanager/secretVersion:SecretVersion": [N("secretsmanager:GetSecretValue", "secret")],
}

# Lookups in infra/existing.py, before anything is registered (`pulumi preview` too).
DATA_SOURCES: dict[str, list[Need]] = {
    # The provider calls it anyway; it needs no permission, but naming it documents the check.
    "aws:index/getCallerIdentity:getCallerIdentity": [N("sts:GetCallerIdentity")],
    # The data source also reads the secret's resource policy; never its value.
    "aws:secretsmanager/getSecret:getSecret": [
        N("secretsmanager:DescribeSecret", "secret"),
        N("secretsmanager:GetResourcePolicy", "secret"),
    ],
    "aws:lb/getListener:getListener": [
        N("elasticloadbalancing:DescribeListeners"),
        N("elasticloadbalancing:DescribeListenerAttributes"),
        N("elasticloadbalancing:DescribeTags"),
    ],
    "aws:lb/getLoadBalancer:getLoadBalancer": [
        N("elasticloadbalancing:DescribeLoadBalancers"),
        N("elasticloadbalancing:DescribeLoadBalancerAttributes"),
        N("elasticloadbalancing:DescribeTags"),
        N("elasticloadbalancing:DescribeCapacityReservation"),
    ],
}

# `make verify` runs with the deploy role right after `pulumi up` (.github/workflows/deploy.yml):
# the deploy policy must allow everything docs/verify-policy.json does.
VERIFY: list[Need] = [
    N("ecs:DescribeServices", "service"),
    N("ecs:DescribeTaskDefinition"),
    N("ecs:DescribeTasks", "task"),
    N("ecs:ListTasks"),
    N("secretsmanager:DescribeSecret", "secret"),
    N("iam:GetRolePolicy", "execution_role"),
    N("iam:ListRolePolicies", "execution_role"),
    N("iam:ListAttachedRolePolicies", "execution_role"),
    N("iam:GetPolicy", "managed_policy"),
    N("iam:GetPolicyVersion", "managed_policy"),
    N("cloudwatch:DescribeAlarms", "alarm"),
    N("ec2:DescribeSecurityGroupRules"),
    N("elasticloadbalancing:DescribeTargetGroups"),
    N("elasticloadbalancing:DescribeTargetHealth"),
    N("logs:DescribeLogGroups"),
    N("logs:DescribeMetricFilters", "log_group_streams"),
    N("logs:FilterLogEvents", "log_group_streams"),
]

# Actions granted on Resource "*", each because the Service Authorization Reference gives it no
# resource type this stack's names could scope (or because it is a read verify-policy.json grants on "*").
UNSCOPED = {
    "sts:GetCallerIdentity": "no resource types; needs no permission at all",
    "ecs:DescribeTaskDefinition": "no resource types",
    "ecs:ListTasks": "authorised against container instances, which Fargate services have none of",
    "elasticloadbalancing:DescribeCapacityReservation": "Describe*: no resource types",
    "elasticloadbalancing:DescribeListenerAttributes": "Describe*: no resource types",
    "elasticloadbalancing:DescribeListeners": "Describe*: no resource types",
    "elasticloadbalancing:DescribeLoadBalancerAttributes": "Describe*: no resource types",
    "elasticloadbalancing:DescribeLoadBalancers": "Describe*: no resource types",
    "elasticloadbalancing:DescribeRules": "Describe*: no resource types",
    "elasticloadbalancing:DescribeTags": "Describe*: no resource types",
    "elasticloadbalancing:DescribeTargetGroupAttributes": "Describe*: no resource types",
    "elasticloadbalancing:DescribeTargetGroups": "Describe*: no resource types",
    "elasticloadbalancing:DescribeTargetHealth": "Describe*: no resource types",
    "logs:DescribeLogGroups": "no resource types",
    "cloudwatch:DescribeAlarms": "read-only; verify-policy.json grants it on * as well",
    "sns:GetSubscriptionAttributes": "no resource types",
    "sns:SetSubscriptionAttributes": "no resource types",
    "sns:Unsubscribe": "no resource types",
    "ec2:DescribeNetworkInterfaces": "Describe*: no resource types",
    "ec2:DescribeRegions": "Describe*: no resource types",
    "ec2:DescribeSecurityGroupRules": "Describe*: no resource types",
    "ec2:DescribeSecurityGroups": "Describe*: no resource types",
    "ec2:DescribeVpcs": "Describe*: no resource types",
    "servicediscovery:CreatePrivateDnsNamespace": "no resource types (the namespace id does not exist yet)",
    "servicediscovery:ListTagsForResource": "no resource types",
    "servicediscovery:TagResource": "no resource types",
    "servicediscovery:UntagResource": "no resource types",
    "route53:CreateHostedZone": "no resource types (Cloud Map creates the namespace's zone)",
    "route53:ListHostedZonesByName": "no resource types",
    "application-autoscaling:DescribeScalableTargets": "no resource types",
    "application-autoscaling:DescribeScalingPolicies": "no resource types",
}

# Allow statements with Action "*" or "<service>:*", and why. None: every action is named.
WILDCARD_ACTIONS_ALLOWED: dict[str, str] = {}


# --------------------------------------------------------------------------- #
# The checker
# --------------------------------------------------------------------------- #


def estate_arns(estate: dict[str, Any], service: dict[str, Any]) -> dict[str, str]:
    """ARNs of one service of the estate output, for the lookups, the deploy gate and verify."""
    return {
        **_ecs_service(estate["cluster_name"], service["service_name"]),
        "execution_role": service["execution_role_arn"],
        "secret": next(iter(service["secret_arns"].values())),
        "managed_policy": "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
        "alarm": arn("cloudwatch", f"alarm:{service['alarm_names'][0]}"),
        **_log_group(service["log_group_name"]),
    }


@functools.cache
def _decide_once(policy_json: str, action: str, resource: str, context: tuple[tuple[str, str], ...]) -> Decision:
    """The same question comes up for every alarm, rule, filter ...: answer it once per policy."""
    return decide(json.loads(policy_json), action, resource, dict(context) or None)


def shortfalls(policy: dict[str, Any], subject: str, needs: Iterable[Need], arns: dict[str, str]) -> list[str]:
    problems = []
    policy_json = json.dumps(policy, sort_keys=True)
    for need in needs:
        resource = "*" if need.on == "*" else arns[need.on]
        decision = _decide_once(policy_json, need.action, resource, tuple(sorted((need.context or {}).items())))
        if decision is not Decision.ALLOWED:
            problems.append(f"{subject}: {need.action} on {resource} is {decision.value}")
    return problems


def missing(policy: dict[str, Any], resources: Iterable[dict[str, Any]]) -> list[str]:
    """Every action some resource needs that the policy does not allow, with the ARN it was asked for."""
    problems = []
    for resource in resources:
        type_, inputs = resource["type"], resource["inputs"]
        arns = ARNS[type_](inputs) if type_ in ARNS else {}
        for phase, needs in REQUIREMENTS[type_].items():
            problems += shortfalls(policy, f"{type_} {resource['name']} ({phase})", needs, arns)
    return problems


def allow_statements(policy: dict[str, Any] = POLICY) -> list[dict[str, Any]]:
    return [s for s in policy["Statement"] if s["Effect"] == "Allow"]


def listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def allowed_actions(policy: dict[str, Any] = POLICY) -> set[str]:
    return {a for s in allow_statements(policy) for a in listed(s["Action"])}


def without(sid: str) -> dict[str, Any]:
    policy = copy.deepcopy(POLICY)
    policy["Statement"] = [s for s in policy["Statement"] if s["Sid"] != sid]
    assert len(policy["Statement"]) == len(POLICY["Statement"]) - 1, f"no statement {sid}"
    return policy


@pytest.fixture(scope="module")
def every_feature():
    """The program with every optional feature on: a second service, a new ALB with HTTPS,
    alarm e-mails, a KMS key, an extra consumer of each dependency, a managed policy on the task role,
    and a declared secret whose value comes from encrypted config."""
    from core.contract import CONTRACTS
    from tests.helpers import DEV_VALUES, run, with_every_contract, with_new_load_balancer

    values = with_new_load_balancer(with_every_contract(copy.deepcopy(DEV_VALUES)))
    values["hokusai:alarm_emails"] = ["oncall@hokus.ai"]
    values["hokusai:secrets_kms_key_arn"] = KMS_KEY
    # An extra consumer outside the stack on every dependency the stack declares with a security group.
    for dependency in values["hokusai:dependencies"].values():
        if dependency.get("security_group_id"):
            dependency["extra_consumers"] = {"data-pipeline-ecs": "sg-0f1e2d3c4b5a69788"}
    services = values["hokusai:services"]
    for service in services.values():
        service["task_role_policy_arns"] = [iam_arn("policy/hokusai-datasets-read")]
    key, first = next(iter(services.items()))
    variable = next(iter(first["secrets"]))
    name = CONTRACTS[key].secret(variable).secret_name_for("development")
    for service in services.values():
        if variable in service["secrets"]:
            service["secrets"][variable] = {"create": name, "value_from": "declaredValue"}
    values["hokusai:declaredValue"] = "[secret]"
    return run(values, secret_keys=["hokusai:declaredValue"])


def as_rows(run_) -> list[dict[str, Any]]:
    return [{"type": r.type, "name": r.name, "inputs": r.inputs} for r in run_.resources]


# --------------------------------------------------------------------------- #
# Tests
# --------------------------------------------------------------------------- #


def test_the_policy_is_a_plain_well_formed_document():
    assert POLICY["Version"] == "2012-10-17"
    sids = [s.get("Sid") for s in POLICY["Statement"]]
    assert all(sids) and len(set(sids)) == len(sids), "every statement needs its own Sid saying why"
    for statement in POLICY["Statement"]:
        assert statement["Effect"] in ("Allow", "Deny")
        assert {"Action", "Resource"} <= set(statement), statement["Sid"]
        assert not {"NotAction", "NotResource", "NotPrincipal", "Principal"} & set(statement), statement["Sid"]
    size = len(json.dumps(POLICY, separators=(",", ":")))
    assert size <= ROLE_INLINE_POLICY_LIMIT, f"{size} characters: too big for the role's inline policy"


@each_stack
def test_every_resource_type_in_the_rendered_stack_says_what_it_needs(stack):
    types = {r["type"] for r in resources_of(stack)}
    unmapped = types - set(REQUIREMENTS)
    assert not unmapped, f"add these types to REQUIREMENTS (and the policy): {sorted(unmapped)}"
    assert types - set(ARNS) <= {t for t, phases in REQUIREMENTS.items() if phases is NOTHING}


def test_every_resource_type_and_lookup_the_program_can_make_says_what_it_needs(every_feature):
    types = {r.type for r in every_feature.resources}
    assert {
        "aws:lb/loadBalancer:LoadBalancer",
        "aws:secretsmanager/secretVersion:SecretVersion",
        "aws:sns/topicSubscription:TopicSubscription",
    } <= types, "the render lost an optional feature"
    assert types - set(REQUIREMENTS) == set()
    lookups = {token for run_ in (every_feature, *map(rendered, STACKS)) for token, _ in run_.mocks.calls}
    assert lookups - set(DATA_SOURCES) == set(), "add the data source to DATA_SOURCES (and the policy)"


@each_stack
def test_the_policy_allows_what_every_resource_of_every_stack_needs(stack):
    assert missing(POLICY, resources_of(stack)) == []


def test_the_policy_allows_what_every_resource_the_program_can_create_needs(every_feature):
    assert missing(POLICY, as_rows(every_feature)) == []


@each_stack
def test_the_policy_allows_the_lookups_at_preview(stack):
    listeners = {
        r["inputs"]["listenerArn"] for r in resources_of(stack) if r["type"] == "aws:lb/listenerRule:ListenerRule"
    }
    if stack_settings(stack).load_balancer.creates_load_balancer:
        listeners = set()  # not looked up: the program creates it
    secrets = {a for service in rendered(stack).outputs["services"] for a in service["secret_arns"].values()}
    assert listeners or secrets
    caller = DATA_SOURCES["aws:index/getCallerIdentity:getCallerIdentity"]
    problems = shortfalls(POLICY, "getCallerIdentity", caller, {})
    for secret in secrets:
        problems += shortfalls(
            POLICY, "getSecret", DATA_SOURCES["aws:secretsmanager/getSecret:getSecret"], {"secret": secret}
        )
    for listener in listeners:
        problems += shortfalls(
            POLICY, "getListener", DATA_SOURCES["aws:lb/getListener:getListener"], {"listener": listener}
        )
        problems += shortfalls(POLICY, "getLoadBalancer", DATA_SOURCES["aws:lb/getLoadBalancer:getLoadBalancer"], {})
    assert problems == []


@each_stack
def test_the_policy_allows_the_deploy_gate_and_verify_on_every_service(stack):
    estate = rendered(stack).outputs
    assert {a for s in VERIFY_POLICY["Statement"] if s["Effect"] == "Allow" for a in listed(s["Action"])} <= {
        n.action for n in VERIFY
    }, "verify makes a call VERIFY does not list"
    gate = REQUIREMENTS["pulumi-python:dynamic:Resource"]["update"]
    problems = []
    for service in estate["services"]:
        arns = estate_arns(estate, service)
        problems += shortfalls(POLICY, f"verify {service['service_name']}", VERIFY, arns)
        problems += shortfalls(POLICY, f"deploy gate {service['service_name']}", gate, arns)
        for secret in service["secret_arns"].values():
            problems += shortfalls(POLICY, "verify", [N("secretsmanager:DescribeSecret", "secret")], {"secret": secret})
    assert problems == []


def test_the_policy_never_allows_reading_a_secret_value():
    secrets = [
        a
        for stack in STACKS
        for service in rendered(stack).outputs["services"]
        for a in service["secret_arns"].values()
    ]
    for secret in [*secrets, arn("secretsmanager", "secret:prod/anything-AbCdEf"), "*"]:
        assert decide(POLICY, "secretsmanager:GetSecretValue", secret) is Decision.DENIED
        assert decide(POLICY, "secretsmanager:BatchGetSecretValue", secret) is Decision.DENIED
    # ... while it may describe them, and write a new value only under hokusai/.
    assert decide(POLICY, "secretsmanager:DescribeSecret", secrets[0]) is Decision.ALLOWED
    assert decide(POLICY, "secretsmanager:PutSecretValue", secrets[0]) is Decision.ALLOWED
    assert (
        decide(POLICY, "secretsmanager:PutSecretValue", arn("secretsmanager", "secret:prod/db-AbCdEf"))
        is Decision.NOT_ALLOWED
    )


def test_no_stack_deployed_with_this_policy_declares_a_secret_version(every_feature):
    """The Deny wins over what a SecretVersion needs (BLOCKED): it stays a deliberate choice."""
    version = next(r for r in as_rows(every_feature) if r["type"] in BLOCKED)
    arns = ARNS[version["type"]](version["inputs"])
    assert all(decide(POLICY, n.action, arns[n.on]) is Decision.DENIED for n in BLOCKED[version["type"]])
    declared = [(stack, r["name"]) for stack in STACKS for r in resources_of(stack) if r["type"] in BLOCKED]
    assert declared == [], (
        f"a stack declares {declared} (a secret with value_from): the provider reads it back with "
        "secretsmanager:GetSecretValue, which docs/deployer-policy.json denies. Put the value out of band "
        "(aws secretsmanager put-secret-value) or decide to grant GetSecretValue on that one secret."
    )


def test_task_definitions_are_never_deregistered(every_feature):
    """REQUIREMENTS gives task definitions no delete action because of skip_destroy."""
    for resources in (*map(resources_of, STACKS), as_rows(every_feature)):
        definitions = [r for r in resources if r["type"] == "aws:ecs/taskDefinition:TaskDefinition"]
        assert definitions and all(r["inputs"].get("skipDestroy") is True for r in definitions)


@each_service
def test_roles_are_passed_only_to_ecs_tasks_and_only_the_stacks_task_roles(stack, service):
    task_role = iam_arn(f"role/{naming.service_name(service, stack)}-task")
    assert decide(POLICY, "iam:PassRole", task_role, ECS_TASKS) is Decision.ALLOWED
    assert (
        decide(POLICY, "iam:PassRole", task_role, {"iam:PassedToService": "lambda.amazonaws.com"})
        is Decision.NOT_ALLOWED
    )
    assert decide(POLICY, "iam:PassRole", task_role) is Decision.NOT_ALLOWED  # no context: the condition fails
    assert decide(POLICY, "iam:PassRole", iam_arn("role/admin"), ECS_TASKS) is Decision.NOT_ALLOWED
    (statement,) = [s for s in allow_statements() if "iam:PassRole" in listed(s["Action"])]
    assert statement["Condition"] == {"StringEquals": ECS_TASKS}


def test_only_the_three_service_linked_roles_can_be_created():
    for service, role in SLR.items():
        assert decide(POLICY, "iam:CreateServiceLinkedRole", role, slr_for(service)) is Decision.ALLOWED
    rds = iam_arn("role/aws-service-role/rds.amazonaws.com/AWSServiceRoleForRDS")
    assert decide(POLICY, "iam:CreateServiceLinkedRole", rds, slr_for("rds.amazonaws.com")) is Decision.NOT_ALLOWED


@pytest.mark.parametrize(
    "action, resource, context",
    [
        # The deploy role itself, were it named hokusai-...: it must not be able to grant itself more.
        ("iam:PutRolePolicy", iam_arn("role/hokusai-infra-deploy"), None),
        ("iam:AttachRolePolicy", iam_arn("role/hokusai-infra-deploy"), None),
        ("iam:PutRolePolicy", iam_arn("role/admin"), None),
        ("iam:CreateRole", iam_arn("role/anything"), None),
        ("iam:CreateUser", iam_arn("user/someone"), None),
        ("iam:CreatePolicyVersion", iam_arn("policy/hokusai-datasets-read"), None),
        ("ecs:UpdateService", arn("ecs", "service/other-cluster/other-service"), None),
        ("ecs:RegisterTaskDefinition", arn("ecs", "task-definition/other:1"), None),
        ("ecs:ExecuteCommand", arn("ecs", "task/hokusai-development/" + HEX), None),
        ("ecs:RunTask", arn("ecs", "task-definition/hokusai-api-development:1"), None),
        ("secretsmanager:DeleteSecret", arn("secretsmanager", "secret:prod/db-AbCdEf"), None),
        ("logs:DeleteLogGroup", arn("logs", "log-group:/aws/lambda/other:*"), None),
        ("cloudwatch:DeleteAlarms", arn("cloudwatch", "alarm:prod-database-cpu"), None),
        ("cloudwatch:PutDashboard", f"arn:aws:cloudwatch::{ACCOUNT}:dashboard/prod-overview", None),
        ("cloudwatch:DeleteDashboards", f"arn:aws:cloudwatch::{ACCOUNT}:dashboard/prod-overview", None),
        ("sns:DeleteTopic", arn("sns", "prod-pager"), None),
        ("elasticloadbalancing:DeleteLoadBalancer", arn("elasticloadbalancing", "loadbalancer/app/prod/" + HEX), None),
        (
            "elasticloadbalancing:DeleteRule",
            arn("elasticloadbalancing", f"listener-rule/app/prod/{HEX}/{HEX}/{HEX}"),
            None,
        ),
        ("kms:Decrypt", KMS_KEY, None),  # directly, not through Secrets Manager
        (
            "application-autoscaling:RegisterScalableTarget",
            arn("application-autoscaling", "scalable-target/x"),
            {"application-autoscaling:service-namespace": "dynamodb"},
        ),
        ("route53:ChangeResourceRecordSets", "arn:aws:route53:::hostedzone/Z123", None),
        ("ec2:RunInstances", arn("ec2", "instance/*"), None),
    ],
)
def test_nothing_outside_the_stack_is_writable(action, resource, context):
    assert decide(POLICY, action, resource, context) in (Decision.NOT_ALLOWED, Decision.DENIED)


@each_service
def test_the_deployer_cannot_assume_the_roles_it_writes(stack, service):
    """A trust policy it wrote must not become a way to run as a role whose policy it wrote."""
    for role in ("task", "execution"):
        role_arn = iam_arn(f"role/{naming.service_name(service, stack)}-{role}")
        assert decide(POLICY, "sts:AssumeRole", role_arn) is Decision.DENIED


def test_no_allow_statement_grants_a_whole_service_or_everything():
    for statement in allow_statements():
        for action in listed(statement["Action"]):
            if action == "*" or action.endswith(":*"):
                assert action in WILDCARD_ACTIONS_ALLOWED, f"{statement['Sid']}: {action} on {statement['Resource']}"
            assert "*" not in action and "?" not in action, f"{statement['Sid']}: name the actions, not {action}"


def test_every_action_granted_on_any_resource_is_one_that_cannot_be_scoped():
    unscoped = {a for s in allow_statements() if "*" in listed(s["Resource"]) for a in listed(s["Action"])}
    assert unscoped - set(UNSCOPED) == set(), "scope these by name, or justify them in UNSCOPED"
    assert set(UNSCOPED) - unscoped == set(), "UNSCOPED lists actions the policy no longer grants on *"


def test_every_allowed_action_is_needed_by_something():
    needed = {n.action for phases in REQUIREMENTS.values() for needs in phases.values() for n in needs}
    needed |= {n.action for needs in DATA_SOURCES.values() for n in needs} | {n.action for n in VERIFY}
    assert allowed_actions() - needed == set(), "a permission nothing needs: remove it, or map what needs it"


def test_every_allowed_action_names_a_real_operation():
    """Catches a misspelt action, which IAM accepts silently and never matches."""
    import botocore.session

    session = botocore.session.get_session()
    botocore_name = {"elasticloadbalancing": "elbv2"}
    permission_only = {"iam:PassRole"}  # checked when a role ARN is handed to a service; not an API
    unknown = []
    for action in sorted(allowed_actions() - permission_only):
        prefix, operation = action.split(":")
        if operation not in session.get_service_model(botocore_name.get(prefix, prefix)).operation_names:
            unknown.append(action)
    assert unknown == []


# In the example stack, the incident's service: what each statement's absence takes away from it.
_SVC, _NAME = INCIDENT_SERVICE, naming.service_name(INCIDENT_SERVICE, EXAMPLE)


@pytest.mark.parametrize(
    "sid, expected",
    [
        (
            "EcsServicesOfTheStackAndTheirDeployments",
            f"aws:ecs/service:Service {_SVC}-service (create): ecs:CreateService on "
            f"{arn('ecs', f'service/{naming.cluster_name(EXAMPLE)}/{_NAME}')} is not allowed",
        ),
        (
            "PassOnlyTheTaskRolesAndOnlyToEcsTasks",
            f"aws:ecs/taskDefinition:TaskDefinition {_SVC}-task (create): iam:PassRole on "
            f"{iam_arn(f'role/{_NAME}-execution')} is not allowed",
        ),
        (
            "DashboardsOfTheStack",
            "aws:cloudwatch/dashboard:Dashboard api-dashboard-page (create): cloudwatch:PutDashboard on "
            "arn:aws:cloudwatch::123456789012:dashboard/hokusai-api-development is not allowed",
        ),
        (
            "LogGroupLookupWithoutResourceLevelPermissions",
            f"aws:cloudwatch/logGroup:LogGroup {_SVC}-observability-logs (read): "
            "logs:DescribeLogGroups on * is not allowed",
        ),
    ],
)
def test_the_checker_reports_what_a_missing_statement_took_away(sid, expected):
    reported = missing(without(sid), resources_of(EXAMPLE))
    assert expected in reported


def test_the_checker_notices_a_resource_scoped_to_the_wrong_names():
    policy = copy.deepcopy(POLICY)
    (cluster,) = [s for s in policy["Statement"] if s["Sid"] == "EcsClusterOfTheStack"]
    cluster["Resource"] = "arn:aws:ecs:*:*:cluster/other-*"
    reported = missing(policy, resources_of(EXAMPLE))
    cluster_arn = arn("ecs", f"cluster/{naming.cluster_name(EXAMPLE)}")
    assert any(f"ecs:CreateCluster on {cluster_arn}" in p for p in reported)
