"""What the AWS provider calls for each resource type the program registers, as data:
the table the pipeline-policy tests check the generated policies against
(tests/test_deployer_policy.py, tests/test_readonly_policy.py, tests/test_escalation_paths.py).

For every resource type: the IAM actions the AWS provider (pulumi-aws bridges the
Terraform AWS provider) calls to create it, read it back (after create and on every
refresh: what the read-only role needs), update it and delete it, each with the ARN IAM
authorises that action against, and the request context its conditions see (the tags
of the request and of the resource, the boundary a role carries, ...). A representative
ARN of every resource is built from the rendered stack's own inputs and ids, so a policy
scoped to the wrong names, or a program that forgets a tag or the boundary, fails.

Written independently of core/pipeline_policies (which generates the policies): that
is the point of checking one against the other. Action names and resource types follow
the Service Authorization Reference
(https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html);
the calls per resource follow the Terraform AWS provider's resource code.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from core.iam_policy import Decision, decide
from core.settings import Settings
from tests import tiers

# --------------------------------------------------------------------------- #
# A need: one call, the ARN it is authorised against, the context it carries
# --------------------------------------------------------------------------- #

# Facts of the resource a need may add to its request context (resolved per resource below).
BOUNDARY = "boundary"  # iam:PermissionsBoundary: the boundary the role carries (or is given)
POLICY_ARN = "policy_arn"  # iam:PolicyARN: the managed policy being attached
VIA_SECRETS_MANAGER = "via_secrets_manager"  # kms:ViaService: Secrets Manager uses the key on the caller's behalf


class Need(NamedTuple):
    action: str
    # Which ARN of the resource IAM authorises the action against (a key of its ARNs), or "*":
    # the action has no resource-level permissions, so a policy can only grant it on "*".
    on: str = "*"
    # Condition keys the call always carries (iam:PassedToService, kms:ViaService, ...).
    context: Mapping[str, Any] | None = None
    # Facts of the resource to add to the context (BOUNDARY, POLICY_ARN).
    facts: tuple[str, ...] = ()
    # The call is made right after the resource is created, so it carries its tags already.
    after_create: bool = False
    # The ARN may be absent for a resource (a KMS key only when the stack names one): skipped then.
    optional: bool = False


N = Need
PHASES = ("create", "read", "update", "delete")
ECS_TASKS = {"iam:PassedToService": "ecs-tasks.amazonaws.com"}
ECS_SCALING = {"application-autoscaling:service-namespace": "ecs"}
# Tagging calls carry the tags they set (aws:RequestTag/*); the others do not.
TAGGING = ("TagResource", "AddTags", "CreateTags", "TagRole", "TagLogGroup")


def slr_for(service: str) -> dict[str, str]:
    return {"iam:AWSServiceName": service}


def created_by(service: str, action: str) -> dict[str, str]:
    """Tags given to a Create* call are authorised as the service's tagging action, with this key."""
    return {f"{service}:CreateAction": action}


# --------------------------------------------------------------------------- #
# Where: the account and region ARNs are built in
# --------------------------------------------------------------------------- #

HEX = "0123456789abcdef"
SECRET_SUFFIX = "-AbCdEf"  # Secrets Manager appends 6 random characters to a secret's name
NEW_SG = "sg-0123456789abcdef0"
KMS_KEY_ID = "0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9"
SLR_PATHS = {
    "ecs.amazonaws.com": "aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS",
    "ecs.application-autoscaling.amazonaws.com": (
        "aws-service-role/ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService"
    ),
    "elasticloadbalancing.amazonaws.com": (
        "aws-service-role/elasticloadbalancing.amazonaws.com/AWSServiceRoleForElasticLoadBalancing"
    ),
}


@dataclass(frozen=True)
class Where:
    region: str
    account: str

    def arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.region}:{self.account}:{resource}"

    def iam(self, resource: str) -> str:
        return f"arn:aws:iam::{self.account}:{resource}"

    def slr(self, service: str) -> str:
        return self.iam(f"role/{SLR_PATHS[service]}")

    @property
    def kms_key(self) -> str:
        return self.arn("kms", f"key/{KMS_KEY_ID}")


def where(settings: Settings) -> Where:
    return Where(settings.region, settings.account_id)


# --------------------------------------------------------------------------- #
# The rendered graph, as rows with their ids, and lookups across it
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class Row:
    type: str
    name: str
    inputs: Mapping[str, Any]
    id: str = ""

    @property
    def tags(self) -> dict[str, str]:
        return dict(self.inputs.get("tags") or {})


@dataclass(frozen=True)
class Graph:
    rows: tuple[Row, ...]
    at: Where
    by_id: dict[str, Row] = field(default_factory=dict)

    @classmethod
    def of(cls, run_: Any, settings: Settings) -> Graph:
        rows = tuple(Row(r.type, r.name, r.inputs, r.id) for r in run_.resources)
        return cls(rows, where(settings), {r.id: r for r in rows if r.id})

    def role(self, name: str) -> Row | None:
        return next((r for r in self.rows if r.type == "aws:iam/role:Role" and r.inputs.get("name") == name), None)

    def scalable_target(self, resource_id: str) -> Row | None:
        return next(
            (
                r
                for r in self.rows
                if r.type == "aws:appautoscaling/target:Target" and r.inputs.get("resourceId") == resource_id
            ),
            None,
        )

    def tags_of_id(self, resource_id: str) -> dict[str, str]:
        """The tags of the resource with this id in the graph; {} for one outside the stack."""
        found = self.by_id.get(resource_id)
        return found.tags if found else {}


# --------------------------------------------------------------------------- #
# Representative ARNs of each resource (its own first), and the tags each carries
# --------------------------------------------------------------------------- #


def _tail(value: str) -> str:
    return str(value).rsplit("/", 1)[-1]


def _ecs_service(at: Where, cluster: str, service: str) -> dict[str, str]:
    return {
        "service": at.arn("ecs", f"service/{cluster}/{service}"),
        "deployment": at.arn("ecs", f"service-deployment/{cluster}/{service}/{HEX}"),
        "task": at.arn("ecs", f"task/{cluster}/{HEX}{HEX}"),
    }


def _scaling(i: Mapping[str, Any], at: Where) -> dict[str, str]:
    cluster, service = i["resourceId"].split("/")[1:3]
    return {
        "scalable_target": at.arn("application-autoscaling", f"scalable-target/{HEX}{HEX[:12]}"),
        "ecs_service": at.arn("ecs", f"service/{cluster}/{service}"),
        "slr": at.slr("ecs.application-autoscaling.amazonaws.com"),
        # Target tracking creates and deletes its own alarms, named after the resource id.
        "target_tracking_alarm": at.arn("cloudwatch", f"alarm:TargetTracking-{i['resourceId']}-AlarmHigh-{HEX}"),
    }


def _sg_rule(i: Mapping[str, Any], at: Where) -> dict[str, str]:
    return {
        "rule": at.arn("ec2", f"security-group-rule/sgr-{HEX}0"),
        "security_group": at.arn("ec2", f"security-group/{i['securityGroupId']}"),
    }


def _log_group(at: Where, name: str) -> dict[str, str]:
    return {
        "log_group": at.arn("logs", f"log-group:{name}"),
        # The older Logs APIs authorise against the log group's ARN with ":*".
        "log_group_streams": at.arn("logs", f"log-group:{name}:*"),
    }


def _listener_rule(listener: str) -> dict[str, str]:
    return {"rule": listener.replace(":listener/", ":listener-rule/") + f"/{HEX}", "listener": listener}


ArnsOf = Callable[[Mapping[str, Any], Where], dict[str, str]]
ARNS: dict[str, ArnsOf] = {
    "aws:ecs/cluster:Cluster": lambda i, at: {
        "cluster": at.arn("ecs", f"cluster/{i['name']}"),
        "ecs_slr": at.slr("ecs.amazonaws.com"),
    },
    "aws:ecs/taskDefinition:TaskDefinition": lambda i, at: {
        "task_definition": at.arn("ecs", f"task-definition/{i['family']}:1"),
        "execution_role": i["executionRoleArn"],
        "task_role": i["taskRoleArn"],
    },
    "aws:ecs/service:Service": lambda i, at: _ecs_service(at, _tail(i["cluster"]), i["name"]),
    "aws:iam/role:Role": lambda i, at: {"role": at.iam(f"role/{i['name']}")},
    "aws:iam/rolePolicy:RolePolicy": lambda i, at: {"role": at.iam(f"role/{i['role']}")},
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": lambda i, at: {"role": at.iam(f"role/{i['role']}")},
    "aws:secretsmanager/secret:Secret": lambda i, at: {
        "secret": at.arn("secretsmanager", f"secret:{i['name']}{SECRET_SUFFIX}"),
        **({"key": i["kmsKeyId"]} if i.get("kmsKeyId") else {}),
    },
    "aws:secretsmanager/secretVersion:SecretVersion": lambda i, at: {"secret": i["secretId"], "key": at.kms_key},
    "aws:lb/targetGroup:TargetGroup": lambda i, at: {
        "target_group": at.arn("elasticloadbalancing", f"targetgroup/{i['name']}/{HEX}")
    },
    "aws:lb/listenerRule:ListenerRule": lambda i, at: _listener_rule(i["listenerArn"]),
    "aws:lb/loadBalancer:LoadBalancer": lambda i, at: {
        "load_balancer": at.arn("elasticloadbalancing", f"loadbalancer/app/{i['name']}/{HEX}"),
        "elb_slr": at.slr("elasticloadbalancing.amazonaws.com"),
    },
    "aws:lb/listener:Listener": lambda i, at: {
        "listener": i["loadBalancerArn"].replace(":loadbalancer/", ":listener/") + f"/{HEX}",
        "load_balancer": i["loadBalancerArn"],
    },
    "aws:ec2/securityGroup:SecurityGroup": lambda i, at: {
        "security_group": at.arn("ec2", f"security-group/{NEW_SG}"),
        "vpc": at.arn("ec2", f"vpc/{i['vpcId']}"),
    },
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": _sg_rule,
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": _sg_rule,
    "aws:cloudwatch/logGroup:LogGroup": lambda i, at: _log_group(at, i["name"]),
    "aws:cloudwatch/logMetricFilter:LogMetricFilter": lambda i, at: _log_group(at, i["logGroupName"]),
    "aws:cloudwatch/metricAlarm:MetricAlarm": lambda i, at: {"alarm": at.arn("cloudwatch", f"alarm:{i['name']}")},
    # Dashboards are global: their ARN has no region.
    "aws:cloudwatch/dashboard:Dashboard": lambda i, at: {
        "dashboard": f"arn:aws:cloudwatch::{at.account}:dashboard/{i['dashboardName']}"
    },
    "aws:sns/topic:Topic": lambda i, at: {"topic": at.arn("sns", i["name"])},
    "aws:sns/topicSubscription:TopicSubscription": lambda i, at: {"topic": i["topic"]},
    "aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace": lambda i, at: {
        "namespace": at.arn("servicediscovery", f"namespace/ns-{HEX}"),
        "hosted_zone": f"arn:aws:route53:::hostedzone/Z{HEX.upper()}",
    },
    "aws:servicediscovery/service:Service": lambda i, at: {
        "service": at.arn("servicediscovery", f"service/srv-{HEX}"),
        "namespace": at.arn("servicediscovery", f"namespace/{i['dnsConfig']['namespaceId']}"),
    },
    "aws:appautoscaling/target:Target": _scaling,
    "aws:appautoscaling/policy:Policy": _scaling,
    # The deploy gate (infra/deploy_gate.py), the program's only dynamic resource.
    "pulumi-python:dynamic:Resource": lambda i, at: _ecs_service(at, i["cluster"], i["service_name"]),
}

# Which of a resource's ARNs is the resource itself (it does not exist before its create; its
# tags are its own). None: the resource has no ARN of its own here (a policy, a version, ...).
OWN: dict[str, str | None] = {
    "aws:iam/rolePolicy:RolePolicy": None,
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": None,
    "aws:secretsmanager/secretVersion:SecretVersion": None,
    "aws:cloudwatch/logMetricFilter:LogMetricFilter": None,
    "aws:sns/topicSubscription:TopicSubscription": None,
    "aws:appautoscaling/policy:Policy": None,
    "pulumi-python:dynamic:Resource": None,
}


def own_key(row: Row, arns: Mapping[str, str]) -> str | None:
    return OWN[row.type] if row.type in OWN else next(iter(arns), None)


def tags_by_key(row: Row, graph: Graph, arns: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """The tags of the resources behind some of the row's ARNs, as IAM sees them (aws:ResourceTag)."""
    tags: dict[str, dict[str, str]] = {}
    own = own_key(row, arns)
    if own:
        tags[own] = row.tags
    if row.type in (
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    ):
        tags["security_group"] = graph.tags_of_id(row.inputs["securityGroupId"])  # {}: a dependency's group
    elif row.type == "aws:servicediscovery/service:Service":
        tags["namespace"] = graph.tags_of_id(row.inputs["dnsConfig"]["namespaceId"])
    elif row.type == "aws:appautoscaling/policy:Policy":
        target = graph.scalable_target(row.inputs["resourceId"])
        tags["scalable_target"] = target.tags if target else {}
    return tags


def facts_of(row: Row, graph: Graph) -> dict[str, dict[str, str]]:
    facts: dict[str, dict[str, str]] = {}
    if row.type == "aws:iam/role:Role":
        boundary = row.inputs.get("permissionsBoundary")
    elif row.type in ("aws:iam/rolePolicy:RolePolicy", "aws:iam/rolePolicyAttachment:RolePolicyAttachment"):
        role = graph.role(row.inputs["role"])
        boundary = role.inputs.get("permissionsBoundary") if role else None
    else:
        boundary = None
    facts[BOUNDARY] = {"iam:PermissionsBoundary": boundary} if boundary else {}
    policy_arn = row.inputs.get("policyArn")
    facts[POLICY_ARN] = {"iam:PolicyARN": policy_arn} if policy_arn else {}
    facts[VIA_SECRETS_MANAGER] = {"kms:ViaService": f"secretsmanager.{graph.at.region}.amazonaws.com"}
    return facts


def request_tags(tags: Mapping[str, str]) -> dict[str, Any]:
    if not tags:
        return {}
    return {**{f"aws:RequestTag/{k}": v for k, v in tags.items()}, "aws:TagKeys": sorted(tags)}


def resource_tags(tags: Mapping[str, str]) -> dict[str, str]:
    return {f"aws:ResourceTag/{k}": v for k, v in tags.items()}


# --------------------------------------------------------------------------- #
# What each resource type needs
# --------------------------------------------------------------------------- #

NOTHING: dict[str, list[Need]] = {phase: [] for phase in PHASES}


def security_group_rule_needs(direction: str) -> dict[str, list[Need]]:
    """An ingress or an egress rule (`direction`): the same calls but for the verb's direction."""
    return {
        "create": [
            N(f"ec2:AuthorizeSecurityGroup{direction}", "security_group"),
            N(f"ec2:AuthorizeSecurityGroup{direction}", "rule"),
            N("ec2:CreateTags", "rule", created_by("ec2", f"AuthorizeSecurityGroup{direction}")),
        ],
        "read": [N("ec2:DescribeSecurityGroupRules")],
        "update": [
            N("ec2:ModifySecurityGroupRules", "security_group"),
            N("ec2:ModifySecurityGroupRules", "rule"),
            N("ec2:CreateTags", "rule"),
            N("ec2:DeleteTags", "rule"),
        ],
        "delete": [N(f"ec2:RevokeSecurityGroup{direction}", "security_group")],
    }


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
            N("ecs:TagResource", "cluster", created_by("ecs", "CreateCluster")),
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
            N("ecs:TagResource", "task_definition", created_by("ecs", "RegisterTaskDefinition")),
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
            N("ecs:TagResource", "service", created_by("ecs", "CreateService")),
            N("ecs:DescribeServices", "service", after_create=True),
            N("ecs:ListServiceDeployments", "service", after_create=True),
            N("ecs:DescribeServiceDeployments", "service", after_create=True),
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
        # The boundary is given to CreateRole (iam:PermissionsBoundary); tags as iam:TagRole.
        "create": [N("iam:CreateRole", "role", facts=(BOUNDARY,)), N("iam:TagRole", "role")],
        # The provider also reads the role's inline and attached policies (drift of the deprecated
        # inline_policy / managed_policy_arns attributes).
        "read": [
            N("iam:GetRole", "role"),
            N("iam:ListRolePolicies", "role"),
            N("iam:GetRolePolicy", "role"),
            N("iam:ListAttachedRolePolicies", "role"),
        ],
        # A role created before it carried the boundary gets it with PutRolePermissionsBoundary.
        # The trust policy never changes (BLOCKED): iam:UpdateAssumeRolePolicy is not among these.
        "update": [
            N("iam:PutRolePermissionsBoundary", "role", facts=(BOUNDARY,)),
            N("iam:UpdateRoleDescription", "role"),
            N("iam:UpdateRole", "role"),
            N("iam:TagRole", "role"),
            N("iam:UntagRole", "role"),
        ],
        # The provider removes the role from instance profiles before deleting it (there are none).
        "delete": [N("iam:ListInstanceProfilesForRole", "role"), N("iam:DeleteRole", "role")],
    },
    # iam:PermissionsBoundary on these is the boundary the role carries.
    "aws:iam/rolePolicy:RolePolicy": {
        "create": [N("iam:PutRolePolicy", "role", facts=(BOUNDARY,))],
        "read": [N("iam:GetRolePolicy", "role")],
        "update": [N("iam:PutRolePolicy", "role", facts=(BOUNDARY,))],
        "delete": [N("iam:DeleteRolePolicy", "role", facts=(BOUNDARY,))],
    },
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": {
        "create": [N("iam:AttachRolePolicy", "role", facts=(BOUNDARY, POLICY_ARN))],
        "read": [N("iam:ListAttachedRolePolicies", "role")],
        "update": [],  # every change replaces the attachment
        "delete": [N("iam:DetachRolePolicy", "role", facts=(BOUNDARY, POLICY_ARN))],
    },
    # -- Secrets Manager ----------------------------------------------------------
    "aws:secretsmanager/secret:Secret": {
        # With secrets_kms_key_arn, Secrets Manager uses the key on the deployer's behalf.
        "create": [
            N("secretsmanager:CreateSecret", "secret"),
            N("secretsmanager:TagResource", "secret"),
            N("kms:GenerateDataKey", "key", facts=(VIA_SECRETS_MANAGER,), optional=True),
            N("kms:Decrypt", "key", facts=(VIA_SECRETS_MANAGER,), optional=True),
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
            N("kms:GenerateDataKey", "key", facts=(VIA_SECRETS_MANAGER,)),
            N("kms:Decrypt", "key", facts=(VIA_SECRETS_MANAGER,)),
        ],
        # Reading the version back needs GetSecretValue, which both policies deny: see BLOCKED.
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
            N("elasticloadbalancing:AddTags", "target_group", created_by("elasticloadbalancing", "CreateTargetGroup")),
            N("elasticloadbalancing:ModifyTargetGroupAttributes", "target_group", after_create=True),
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
        # CreateRule is authorised against the listener (adopted: one the estate shares); the tags
        # it carries as AddTags on the new rule.
        "create": [
            N("elasticloadbalancing:CreateRule", "listener"),
            N("elasticloadbalancing:AddTags", "rule", created_by("elasticloadbalancing", "CreateRule")),
        ],
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
            N(
                "elasticloadbalancing:AddTags",
                "load_balancer",
                created_by("elasticloadbalancing", "CreateLoadBalancer"),
            ),
            N("elasticloadbalancing:ModifyLoadBalancerAttributes", "load_balancer", after_create=True),
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
            N("elasticloadbalancing:AddTags", "listener", created_by("elasticloadbalancing", "CreateListener")),
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
        # Created with its tags (ec2:CreateTags as part of CreateSecurityGroup); then the provider
        # revokes the allow-all egress rule AWS adds to every new group.
        "create": [
            N("ec2:CreateSecurityGroup", "security_group"),
            N("ec2:CreateSecurityGroup", "vpc"),
            N("ec2:CreateTags", "security_group", created_by("ec2", "CreateSecurityGroup")),
            N("ec2:RevokeSecurityGroupEgress", "security_group", after_create=True),
            N("ec2:DescribeSecurityGroups"),
        ],
        "read": [N("ec2:DescribeSecurityGroups")],
        "update": [N("ec2:CreateTags", "security_group"), N("ec2:DeleteTags", "security_group")],
        # Before deleting, the provider looks for network interfaces still using the group.
        "delete": [N("ec2:DescribeNetworkInterfaces"), N("ec2:DeleteSecurityGroup", "security_group")],
    },
    # On the service's own group, and on each dependency's group (not this stack's: by id only).
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": security_group_rule_needs("Ingress"),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": security_group_rule_needs("Egress"),
    # -- CloudWatch Logs, alarms, SNS --------------------------------------------
    "aws:cloudwatch/logGroup:LogGroup": {
        "create": [
            N("logs:CreateLogGroup", "log_group"),
            N("logs:CreateLogGroup", "log_group_streams"),
            N("logs:TagResource", "log_group"),
            N("logs:PutRetentionPolicy", "log_group_streams", after_create=True),
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
            # observability_kms_key_arn set or unset on an existing group (log_group.go). CreateLogGroup
            # takes the key itself; neither call needs a KMS permission of the caller: CloudWatch Logs
            # uses the key as logs.<region>.amazonaws.com, under the key policy.
            N("logs:AssociateKmsKey", "log_group_streams"),
            N("logs:DisassociateKmsKey", "log_group_streams"),
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
        "create": [
            N("sns:CreateTopic", "topic"),
            N("sns:TagResource", "topic"),
            N("sns:SetTopicAttributes", "topic", after_create=True),
        ],
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
        # (AWS Cloud Map API permissions reference); the provider waits on the operation,
        # which is no resource of its own.
        "create": [
            N("servicediscovery:CreatePrivateDnsNamespace"),
            N("servicediscovery:TagResource"),
            N("servicediscovery:GetOperation"),
            N("route53:CreateHostedZone"),
            N("route53:GetHostedZone", "hosted_zone"),
            N("route53:ListHostedZonesByName"),
            N("ec2:DescribeVpcs"),
            N("ec2:DescribeRegions"),
        ],
        "read": [N("servicediscovery:GetNamespace", "namespace"), N("servicediscovery:ListTagsForResource")],
        "update": [
            N("servicediscovery:UpdatePrivateDnsNamespace", "namespace"),
            N("servicediscovery:GetOperation"),
            N("servicediscovery:TagResource"),
            N("servicediscovery:UntagResource"),
        ],
        "delete": [N("servicediscovery:DeleteNamespace", "namespace"), N("servicediscovery:GetOperation")],
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
            N("servicediscovery:GetOperation"),
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


@dataclass(frozen=True)
class Blocked:
    """What a resource type would need in one phase but the policies refuse on purpose, and why."""

    phase: str
    need: Need
    why: str


BLOCKED: dict[str, list[Blocked]] = {
    # The provider reads a SecretVersion back with GetSecretValue (after PutSecretValue and on
    # every refresh; terraform-provider-aws#22436, fixed only for the write-only secret_string_wo in
    # #44876). Neither pipeline role ever reads a secret value, so a stack that takes a secret's value
    # from encrypted config (`value_from`) cannot be deployed or refreshed with them.
    "aws:secretsmanager/secretVersion:SecretVersion": [
        Blocked("read", N("secretsmanager:GetSecretValue", "secret"), "the pipeline roles never read a secret value")
    ],
    # The provider changes a role's trust policy only when the document differs; the program writes
    # it from the stack's account and region alone (test_trust_policies_never_change). IAM has no
    # condition key on a trust policy's content, so allowing it would allow trusting anyone.
    "aws:iam/role:Role": [
        Blocked(
            "update",
            N("iam:UpdateAssumeRolePolicy", "role"),
            "IAM cannot limit what a trust policy says: an administrator changes one",
        )
    ],
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
    # A rule already at a route's priority on the adopted listener (whose it is: its tags).
    "aws:lb/getListenerRule:getListenerRule": [
        N("elasticloadbalancing:DescribeRules"),
        N("elasticloadbalancing:DescribeTags"),
    ],
    "aws:lb/getLoadBalancer:getLoadBalancer": [
        N("elasticloadbalancing:DescribeLoadBalancers"),
        N("elasticloadbalancing:DescribeLoadBalancerAttributes"),
        N("elasticloadbalancing:DescribeTags"),
        N("elasticloadbalancing:DescribeCapacityReservation"),
    ],
}

# `make verify` runs with the deploy role right after `pulumi up` (.github/workflows/deploy.yml)
# and with the read-only role plus docs/verify-policy.json in the drift workflow, never with LOGS=1.
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
]
# `make verify LOGS=1` also searches the log groups: a person's call, with docs/verify-policy.json alone.
VERIFY_LOGS: list[Need] = [N("logs:FilterLogEvents", "log_group_streams")]


# --------------------------------------------------------------------------- #
# The Pulumi state (an S3 backend) and the secrets provider's key
# --------------------------------------------------------------------------- #

STATE_BUCKET, SECRETS_KEY_ALIAS, PULUMI_PROJECT = "hokusai-pulumi-state", "alias/hokusai-pulumi", "hokusai"
STATE_KEY_ID = "1b2c3d4e-5f60-7182-93a4-b5c6d7e8f901"


def state_arns(stack: str, at: Where) -> dict[str, str]:
    """Keys the DIY backend reads and writes for a stack (pkg/backend/diy: project-scoped layout)."""
    bucket = f"arn:aws:s3:::{STATE_BUCKET}"
    return {
        "bucket": bucket,
        "meta": f"{bucket}/.pulumi/meta.yaml",
        "checkpoint": f"{bucket}/.pulumi/stacks/{PULUMI_PROJECT}/{stack}.json",
        "checkpoint_backup": f"{bucket}/.pulumi/stacks/{PULUMI_PROJECT}/{stack}.json.bak",
        "history": f"{bucket}/.pulumi/history/{PULUMI_PROJECT}/{stack}/{stack}-1700000000000000000.history.json",
        "backup": f"{bucket}/.pulumi/backups/{PULUMI_PROJECT}/{stack}/{stack}.1700000000000000000.json",
        "lock": f"{bucket}/.pulumi/locks/organization/{PULUMI_PROJECT}/{stack}/{HEX}-{HEX[:4]}.json",
        "state_key": at.arn("kms", f"key/{STATE_KEY_ID}"),
    }


STATE_KEY = {"kms:ResourceAliases": [SECRETS_KEY_ALIAS]}
# Every command reads the checkpoint and decrypts the stack's data key with the secrets provider's key.
STATE_READ: list[Need] = [
    N("s3:ListBucket", "bucket"),
    N("s3:GetObject", "meta"),
    N("s3:GetObject", "checkpoint"),
    N("kms:Decrypt", "state_key", STATE_KEY),
]
# `pulumi up` and `pulumi refresh` (also --preview-only) hold a lock file; `pulumi preview` does not.
STATE_LOCK: list[Need] = [N("s3:PutObject", "lock"), N("s3:DeleteObject", "lock")]
# `pulumi up` writes the checkpoint (keeping a backup of the last), its history and a backup.
STATE_WRITE: list[Need] = [
    N("s3:PutObject", "checkpoint"),
    N("s3:GetObject", "checkpoint_backup"),
    N("s3:PutObject", "checkpoint_backup"),
    N("s3:PutObject", "history"),
    N("s3:PutObject", "backup"),
]


# --------------------------------------------------------------------------- #
# Actions granted on Resource "*", each with why (the Service Authorization Reference gives it no
# resource type the stack's names could scope), and actions that are permissions, not API calls.
# --------------------------------------------------------------------------- #

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
    "servicediscovery:CreatePrivateDnsNamespace": "no resource types (the namespace id does not exist yet); "
    "the request must carry the stack's environment tag",
    "servicediscovery:GetOperation": "no resource types (an operation is not a resource)",
    "servicediscovery:ListTagsForResource": "no resource types",
    "servicediscovery:TagResource": "authorised against `*` when tags come with a create; the tags of the "
    "request and of an existing resource must both be the stack's",
    "servicediscovery:UntagResource": "as TagResource; the resource's environment tag must be the stack's",
    "route53:CreateHostedZone": "no resource types (Cloud Map creates the namespace's zone)",
    "route53:ListHostedZonesByName": "no resource types",
    "application-autoscaling:DescribeScalableTargets": "no resource types",
    "application-autoscaling:DescribeScalingPolicies": "no resource types",
}
# The Service Authorization Reference, where each of UNSCOPED's reasons can be checked.
UNSCOPED_REFERENCE = "https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html"
# IAM actions that authorise something other than an API operation of the same name.
PERMISSION_ONLY = {
    "iam:PassRole": "checked when a role ARN is handed to a service",
    "s3:ListBucket": "authorises ListObjects / ListObjectsV2",
}


# --------------------------------------------------------------------------- #
# The checker
# --------------------------------------------------------------------------- #


@functools.cache
def _decide_once(policies_json: str, action: str, resource: str, context_json: str) -> Decision:
    """The same question comes up for every alarm, rule, filter ...: answer it once per policy."""
    return decide(_policies_of(policies_json), action, resource, json.loads(context_json) or None)


@functools.lru_cache(maxsize=64)
def _policies_of(policies_json: str) -> Any:
    # Decoded once per policy set, not once per question (the evaluator never changes them).
    return json.loads(policies_json)


def decider(policies: Sequence[Mapping[str, Any]]) -> Callable[[str, str, Mapping[str, Any]], Decision]:
    """decision() for many questions to the same policies: their JSON, the cache's key, is made
    once (making it for every question took more time than answering them)."""
    key = json.dumps(list(policies), sort_keys=True)

    def decide_for(action: str, resource: str, context: Mapping[str, Any]) -> Decision:
        return _decide_once(key, action, resource, json.dumps(context, sort_keys=True))

    return decide_for


def decision(policies: Sequence[Mapping[str, Any]], action: str, resource: str, context: Mapping[str, Any]) -> Decision:
    return decider(policies)(action, resource, context)


def context_of(need: Need, phase: str, row: Row, graph: Graph, arns: Mapping[str, str]) -> dict[str, Any]:
    """What IAM sees for the call: its fixed keys, the request's and resource's tags, the facts it names."""
    context: dict[str, Any] = dict(need.context or {})
    own = own_key(row, arns)
    tags = tags_by_key(row, graph, arns)
    # A resource carries its tags once it exists: not yet while it is being created.
    if need.on in tags and not (phase == "create" and need.on == own and not need.after_create):
        context.update(resource_tags(tags[need.on]))
    # The request's tags are the request's, whichever resource of it is authorised: a create
    # sends the resource's tags, and so does a tagging call.
    tagging = need.action.split(":")[1] in TAGGING
    if tagging or (phase == "create" and not need.after_create):
        context.update(request_tags(row.tags))
    facts = facts_of(row, graph)
    for fact in need.facts:
        context.update(facts[fact])
    return context


def shortfalls(
    policies: Sequence[Mapping[str, Any]],
    subject: str,
    needs: Iterable[Need],
    arns: Mapping[str, str],
    context: Callable[[Need], Mapping[str, Any]] = lambda need: dict(need.context or {}),
) -> list[str]:
    return _shortfalls(decider(policies), subject, needs, arns, context)


def _shortfalls(
    decide_for: Callable[[str, str, Mapping[str, Any]], Decision],
    subject: str,
    needs: Iterable[Need],
    arns: Mapping[str, str],
    context: Callable[[Need], Mapping[str, Any]],
) -> list[str]:
    problems = []
    for need in needs:
        if need.on != "*" and need.on not in arns:
            assert need.optional, f"{subject}: no ARN {need.on!r} for {need.action}"
            continue
        resource = "*" if need.on == "*" else arns[need.on]
        decided = decide_for(need.action, resource, context(need))
        if decided is not Decision.ALLOWED:
            problems.append(f"{subject}: {need.action} on {resource} is {decided.value}")
    return problems


def missing(policies: Sequence[Mapping[str, Any]], graph: Graph, phases: Iterable[str] = PHASES) -> list[str]:
    """Every call some resource of the graph needs in `phases` that the policies do not allow."""
    problems = []
    decide_for = decider(policies)
    for row in graph.rows:
        arns = ARNS[row.type](row.inputs, graph.at) if row.type in ARNS else {}
        for phase in phases:
            problems += _shortfalls(
                decide_for,
                f"{row.type} {row.name} ({phase})",
                REQUIREMENTS[row.type][phase],
                arns,
                functools.partial(context_of, phase=phase, row=row, graph=graph, arns=arns),
            )
    return problems


def estate_arns(estate: Mapping[str, Any], service: Mapping[str, Any], at: Where) -> dict[str, str]:
    """ARNs of one service of the estate output, for the lookups, the deploy gate and verify."""
    return {
        **_ecs_service(at, estate["cluster_name"], service["service_name"]),
        "execution_role": service["execution_role_arn"],
        "secret": next(iter(service["secret_arns"].values())),
        "managed_policy": "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
        "alarm": at.arn("cloudwatch", f"alarm:{service['alarm_names'][0]}"),
        **_log_group(at, service["log_group_name"]),
    }


def lookup_problems(
    policies: Sequence[Mapping[str, Any]], graph: Graph, run_: Any, creates_load_balancer: bool
) -> list[str]:
    """What `pulumi preview` looks up before it registers anything (infra/existing.py), for every
    secret and listener the stack adopts."""
    listeners = (
        set()
        if creates_load_balancer
        else {r.inputs["listenerArn"] for r in graph.rows if r.type == "aws:lb/listenerRule:ListenerRule"}
    )
    secrets = {a for service in run_.outputs["services"] for a in service["secret_arns"].values()}
    problems = shortfalls(
        policies, "getCallerIdentity", DATA_SOURCES["aws:index/getCallerIdentity:getCallerIdentity"], {}
    )
    for secret in sorted(secrets):
        problems += shortfalls(
            policies, "getSecret", DATA_SOURCES["aws:secretsmanager/getSecret:getSecret"], {"secret": secret}
        )
    for listener in sorted(listeners):
        problems += shortfalls(
            policies, "getListener", DATA_SOURCES["aws:lb/getListener:getListener"], {"listener": listener}
        )
        problems += shortfalls(policies, "getLoadBalancer", DATA_SOURCES["aws:lb/getLoadBalancer:getLoadBalancer"], {})
        problems += shortfalls(policies, "getListenerRule", DATA_SOURCES["aws:lb/getListenerRule:getListenerRule"], {})
    return problems


# --------------------------------------------------------------------------- #
# Reading policies
# --------------------------------------------------------------------------- #


def listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def statements(policies: Iterable[Mapping[str, Any]], effect: str | None = None) -> list[dict[str, Any]]:
    return [s for p in policies for s in p["Statement"] if effect is None or s["Effect"] == effect]


def allowed_actions(policies: Iterable[Mapping[str, Any]]) -> set[str]:
    return {a for s in statements(policies, "Allow") for a in listed(s["Action"])}


def unscoped_actions(policies: Iterable[Mapping[str, Any]]) -> set[str]:
    return {a for s in statements(policies, "Allow") if "*" in listed(s["Resource"]) for a in listed(s["Action"])}


def changed(
    policies: Sequence[Mapping[str, Any]], sid: str, change: Callable[[dict[str, Any]], None] | None
) -> list[dict[str, Any]]:
    """A copy of `policies` with statement `sid` changed in place by `change`, or removed (None)."""
    copies: list[dict[str, Any]] = [copy.deepcopy(dict(policy)) for policy in policies]
    found = 0
    for policy in copies:
        for statement in list(policy["Statement"]):
            if statement["Sid"] == sid:
                found += 1
                if change is None:
                    policy["Statement"].remove(statement)
                else:
                    change(statement)
    assert found == 1, f"expected one statement {sid}, found {found}"
    return copies


# --------------------------------------------------------------------------- #
# The graphs the tests check: every stack file, and the program with every feature on
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class Rendered:
    run: Any
    settings: Settings
    graph: Graph


@functools.cache
def stack_rendered(stack: str) -> Rendered:
    from tests.helpers import rendered, stack_settings

    settings = stack_settings(stack)
    return Rendered(rendered(stack), settings, Graph.of(rendered(stack), settings))


def every_feature_values(*, new_load_balancer: bool = True) -> tuple[dict[str, Any], list[str]]:
    """The development stack's config with every optional feature on: a service for every contract,
    a new ALB with HTTPS (unless `new_load_balancer` is False: the adopted listener stays), alarm
    e-mails, KMS keys (secrets, observability), an extra consumer of each dependency, a managed policy on the task roles,
    and a declared secret whose value comes from encrypted config. With its secret config keys."""
    from core.contract import CONTRACTS
    from tests.helpers import DEV_VALUES, with_every_contract, with_new_load_balancer

    values = with_every_contract(copy.deepcopy(DEV_VALUES))
    if new_load_balancer:
        values = with_new_load_balancer(values)
    at = Where(values["aws:region"], values["hokusai:account_id"])
    values["hokusai:alarm_emails"] = ["oncall@hokus.ai"]
    values["hokusai:secrets_kms_key_arn"] = at.kms_key
    values["hokusai:observability_kms_key_arn"] = at.kms_key
    # An extra consumer outside the stack on every dependency the stack declares with a security group.
    for dependency in values["hokusai:dependencies"].values():
        if dependency.get("security_group_id"):
            dependency["extra_consumers"] = {"data-pipeline-ecs": "sg-0f1e2d3c4b5a69788"}
    services = values["hokusai:services"]
    for service in services.values():
        service["task_role_policy_arns"] = [at.iam("policy/hokusai-datasets-read")]
    key, first = next(iter(services.items()))
    variable = next(iter(first["secrets"]))
    name = CONTRACTS[key].secret(variable).secret_name_for("development")
    for service in services.values():
        if variable in service["secrets"]:
            service["secrets"][variable] = {"create": name, "value_from": "declaredValue"}
    values["hokusai:declaredValue"] = "[secret]"
    return values, ["hokusai:declaredValue"]


@tiers.shared
def every_feature() -> Rendered:
    """The program rendered with every optional feature on (every_feature_values)."""
    from tests.helpers import load, run

    values, secret_keys = every_feature_values()
    run_ = run(values, secret_keys=secret_keys)
    settings = load(values, secret_keys=secret_keys)
    return Rendered(run_, settings, Graph.of(run_, settings))


@functools.cache
def every_feature_adopting_settings() -> Settings:
    """Every optional feature on, but the load balancer adopted (its listener looked up)."""
    from tests.helpers import load

    values, secret_keys = every_feature_values(new_load_balancer=False)
    return load(values, secret_keys=secret_keys)
