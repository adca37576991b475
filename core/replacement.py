"""Which input changes replace a resource (delete + create) rather than update it in place.

One entry per Pulumi type token hokusai-infra uses. The development render
registers 19 of them (the per-service dashboard among them); others appear with
other settings (a new load balancer and its listener, created secrets,
alarm-topic subscriptions, managed-policy attachments) or are kept for what the
team expects to add (IAM managed policy, KMS key and alias). Entries are keyed by the Pulumi input names (camelCase, as in the resource's inputs) with nested paths
dotted: `dnsConfig.namespaceId`. List and set elements carry no index in a path
(`dnsConfig.dnsRecords.type`); `forces_replacement` ignores `[0]` / `.0` in the
paths it is asked about. A change anywhere under a listed path counts
(`volumes` covers `volumes.efsVolumeConfiguration.fileSystemId`).

Where it comes from
-------------------
pulumi-aws 7.x bridges the Terraform AWS provider 6.x: a property replaces when
the Terraform schema says `ForceNew: true` (SDKv2 resources), or has a
`RequiresReplace()` plan modifier / sets `RequiresReplace` in `ModifyPlan`
(Plugin Framework resources), or a `CustomizeDiff` calls `ForceNew`. The Pulumi
registry marks the schema ones "Changes to this property will trigger
replacement." (not the CustomizeDiff / ModifyPlan cases, which depend on the
values). Each entry cites its file in hashicorp/terraform-provider-aws
(`internal/service/...`). The version read is the newest one stored (file
headers "Copyright IBM Corp. 2014, 2026"): the installed SDK, pulumi-aws 7.51.1,
already has inputs that only that version has (ecs `sigintRollback`, task
definition `volumes.s3filesVolumeConfiguration`, `region` everywhere), so it
bridges that generation of the provider. Pulumi input names were checked
against the installed `pulumi_aws` package (tests/test_replacement.py does it
again, for every path here): note the renames `alarm_name` -> `name`
(MetricAlarm), `topic_arn` -> `topic` (TopicSubscription), and the plurals
(`loadBalancers`, `volumes`, `capacityProviderStrategies`).

`region`: since provider 6.0 every regional resource has a top-level `region`,
and "Changing the value of `region` will force resource replacement"
(website/docs/guides/enhanced-region-support.html.markdown). IAM is global: its
resources have no `region`.

Checked 2026-12-02 (provider source as stored; pulumi-aws 7.51.1 installed).

Three tables:

- FORCES_REPLACEMENT: always replaces when the value changes.
- CONDITIONALLY_FORCES_REPLACEMENT: replaces only in the stated case (a
  `CustomizeDiff` / `ModifyPlan` decides); otherwise in place.
- UNVERIFIED: inputs of pulumi-aws 7.51.1 that the stored provider source does
  not have yet; the note says why they probably replace. Treat as "ask before
  applying", not as fact.

Pure: no Pulumi, no boto3.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType

# Terraform resource each type token bridges.
TERRAFORM_RESOURCE: Mapping[str, str] = MappingProxyType(
    {
        "aws:appautoscaling/policy:Policy": "aws_appautoscaling_policy",
        "aws:appautoscaling/target:Target": "aws_appautoscaling_target",
        "aws:cloudwatch/logGroup:LogGroup": "aws_cloudwatch_log_group",
        "aws:cloudwatch/logMetricFilter:LogMetricFilter": "aws_cloudwatch_log_metric_filter",
        "aws:cloudwatch/metricAlarm:MetricAlarm": "aws_cloudwatch_metric_alarm",
        "aws:cloudwatch/dashboard:Dashboard": "aws_cloudwatch_dashboard",
        "aws:ec2/securityGroup:SecurityGroup": "aws_security_group",
        "aws:ecs/cluster:Cluster": "aws_ecs_cluster",
        "aws:ecs/service:Service": "aws_ecs_service",
        "aws:ecs/taskDefinition:TaskDefinition": "aws_ecs_task_definition",
        "aws:iam/role:Role": "aws_iam_role",
        "aws:iam/rolePolicy:RolePolicy": "aws_iam_role_policy",
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "aws_iam_role_policy_attachment",
        "aws:iam/policy:Policy": "aws_iam_policy",
        "aws:lb/listener:Listener": "aws_lb_listener",
        "aws:lb/listenerRule:ListenerRule": "aws_lb_listener_rule",
        "aws:lb/loadBalancer:LoadBalancer": "aws_lb",
        "aws:lb/targetGroup:TargetGroup": "aws_lb_target_group",
        "aws:secretsmanager/secret:Secret": "aws_secretsmanager_secret",
        "aws:secretsmanager/secretVersion:SecretVersion": "aws_secretsmanager_secret_version",
        "aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace": "aws_service_discovery_private_dns_namespace",
        "aws:servicediscovery/service:Service": "aws_service_discovery_service",
        "aws:sns/topic:Topic": "aws_sns_topic",
        "aws:sns/topicSubscription:TopicSubscription": "aws_sns_topic_subscription",
        "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "aws_vpc_security_group_egress_rule",
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "aws_vpc_security_group_ingress_rule",
        "aws:kms/key:Key": "aws_kms_key",
        "aws:kms/alias:Alias": "aws_kms_alias",
    }
)

FORCES_REPLACEMENT: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        # internal/service/appautoscaling/policy.go (newest stored, with predictive scaling).
        # In place: policyType (no ForceNew since the enum validation was added),
        # predictive/step/targetTracking configurations (PutScalingPolicy again).
        "aws:appautoscaling/policy:Policy": frozenset(
            {"name", "resourceId", "scalableDimension", "serviceNamespace", "region"}
        ),
        # internal/service/appautoscaling/target.go (read at 0105d219).
        # In place: min/maxCapacity, roleArn (RegisterScalableTarget again), tags.
        # suspendedState is newer than that read: not ForceNew as far as known (RegisterScalableTarget takes it).
        "aws:appautoscaling/target:Target": frozenset(
            {"resourceId", "scalableDimension", "serviceNamespace", "region"}
        ),
        # internal/service/logs/group.go (read at 0073593e).
        # In place: retentionInDays, kmsKeyId (Associate/DisassociateKmsKey), skipDestroy, tags.
        # deletionProtectionEnabled is newer than that read; assumed in place (its own API).
        "aws:cloudwatch/logGroup:LogGroup": frozenset({"name", "namePrefix", "logGroupClass", "region"}),
        # internal/service/logs/metric_filter.go (newest stored, read at 0f14e6f6).
        # In place: pattern, metricTransformation, applyOnTransformedLogs (PutMetricFilter again).
        "aws:cloudwatch/logMetricFilter:LogMetricFilter": frozenset({"name", "logGroupName", "region"}),
        # internal/service/cloudwatch/metric_alarm.go (read at 055611a6): Terraform's
        # `alarm_name` (ForceNew) is Pulumi's `name`. Everything else goes through PutMetricAlarm
        # in place. evaluationCriteria/evaluationInterval/evaluationWindow/warmUpConfiguration are
        # newer than that read; assumed in place (PutMetricAlarm takes them).
        "aws:cloudwatch/metricAlarm:MetricAlarm": frozenset({"name", "region"}),
        # internal/service/cloudwatch/dashboard.go (read at 0620f2a6). In place: dashboardBody.
        "aws:cloudwatch/dashboard:Dashboard": frozenset({"dashboardName", "region"}),
        # internal/service/ec2/vpc_security_group.go (read at 01606926).
        # In place: ingress, egress (inline rules), revokeRulesOnDelete, tags.
        # Pulumi defaults `description` to "Managed by Pulumi": setting it later replaces the group.
        "aws:ec2/securityGroup:SecurityGroup": frozenset({"name", "namePrefix", "description", "vpcId", "region"}),
        # internal/service/ecs/cluster.go (read at a5509eea, and the newer schema with
        # managed_storage_configuration: still only name is ForceNew). In place: configuration,
        # settings, serviceConnectDefaults, tags.
        "aws:ecs/cluster:Cluster": frozenset({"name", "region"}),
        # internal/service/ecs/service.go (newest stored: has sigint_rollback, force_delete,
        # deployment_configuration, vpc_lattice_configurations).
        # In place (UpdateService): loadBalancers and serviceRegistries (hashicorp/terraform-provider-aws
        # #23600 on the SDK bump #23597, 2022), networkConfiguration, taskDefinition, desiredCount,
        # platformVersion, propagateTags, enableEcsManagedTags, placement, serviceConnectConfiguration,
        # volumeConfiguration, vpcLatticeConfigurations, alarms, deployment settings.
        # capacityProviderStrategies: in place since #43533 (2025) but the plan fails unless
        # forceNewDeployment is true (CustomizeDiff capacityProviderStrategyCustomizeDiff); before
        # that provider change it replaced the service.
        # deploymentController.type: ForceNew in older versions; the newest stored schema has no
        # ForceNew and resourceServiceUpdate sends DeploymentController (AWS may still refuse some
        # controller transitions at apply time).
        "aws:ecs/service:Service": frozenset(
            {"name", "cluster", "iamRole", "launchType", "schedulingStrategy", "region"}
        ),
        # internal/service/ecs/task_definition.go (newest stored, with enable_fault_injection and
        # track_latest): every argument but skip_destroy, track_latest and tags is ForceNew (a change is
        # a new revision, and the old one is deregistered unless skipDestroy). Nested blocks are ForceNew
        # as a whole, so the top-level names cover them.
        "aws:ecs/taskDefinition:TaskDefinition": frozenset(
            {
                "containerDefinitions",
                "cpu",
                "enableFaultInjection",
                "ephemeralStorage",
                "executionRoleArn",
                "family",
                "ipcMode",
                "memory",
                "networkMode",
                "pidMode",
                "placementConstraints",
                "proxyConfiguration",
                "requiresCompatibilities",
                "runtimePlatform",
                "taskRoleArn",
                "volumes",
                "region",
            }
        ),
        # internal/service/iam/role.go (newest stored, @V60SDKv2Fix). Global: no region.
        # In place: assumeRolePolicy, description, maxSessionDuration, permissionsBoundary,
        # inlinePolicies, managedPolicyArns, forceDetachPolicies, tags.
        "aws:iam/role:Role": frozenset({"name", "namePrefix", "path"}),
        # internal/service/iam/role_policy.go (read at 02f97af8). In place: policy.
        "aws:iam/rolePolicy:RolePolicy": frozenset({"name", "namePrefix", "role"}),
        # internal/service/iam/role_policy_attachment.go: no Update at all, both arguments ForceNew.
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment": frozenset({"role", "policyArn"}),
        # internal/service/iam/policy.go (read at 01ccd9a2): `description` is ForceNew too
        # (IAM cannot change a policy's description). In place: policy (a new default version), tags.
        "aws:iam/policy:Policy": frozenset({"name", "namePrefix", "path", "description"}),
        # internal/service/elbv2/listener.go (newest stored, with tcp_idle_timeout_seconds and the
        # routing_http_* attributes). In place: port, protocol, sslPolicy, certificateArn, alpnPolicy,
        # defaultActions, mutualAuthentication, the routing* and tcpIdleTimeoutSeconds attributes.
        "aws:lb/listener:Listener": frozenset({"loadBalancerArn", "region"}),
        # internal/service/elbv2/listener_rule.go (read at 032c4f07): priority is explicitly
        # `ForceNew: false`. In place: priority, actions, conditions, transforms, tags.
        "aws:lb/listenerRule:ListenerRule": frozenset({"listenerArn", "region"}),
        # internal/service/elbv2/load_balancer.go (read at 00edc94b). In place: ipAddressType,
        # securityGroups/subnets/subnetMappings except the cases in CONDITIONALLY_FORCES_REPLACEMENT,
        # the attributes (idleTimeout, accessLogs, ...), enableDeletionProtection, tags.
        "aws:lb/loadBalancer:LoadBalancer": frozenset(
            {"name", "namePrefix", "internal", "loadBalancerType", "customerOwnedIpv4Pool", "region"}
        ),
        # internal/service/elbv2/target_group.go (read at 013cfb4c). In place: healthCheck,
        # stickiness, deregistrationDelay, slowStart, the load-balancing and failover attributes, tags.
        # core/naming.py target_group_name puts port/protocol/targetType/vpcId in the name for this reason.
        "aws:lb/targetGroup:TargetGroup": frozenset(
            {
                "name",
                "namePrefix",
                "port",
                "protocol",
                "protocolVersion",
                "targetType",
                "vpcId",
                "ipAddressType",
                "region",
            }
        ),
        # internal/service/secretsmanager/secret.go (read at 00c21ced). In place: description,
        # kmsKeyId (UpdateSecret), policy, replicas, recoveryWindowInDays, tags. `type` is in UNVERIFIED.
        "aws:secretsmanager/secret:Secret": frozenset({"name", "namePrefix", "region"}),
        # internal/service/secretsmanager/secret_version.go (read at 0042e8ea): the value is
        # immutable, a new value is a new version. In place: versionStages only. secretStringWo is
        # write-only and not ForceNew: bump secretStringWoVersion (ForceNew) to write a new value.
        "aws:secretsmanager/secretVersion:SecretVersion": frozenset(
            {"secretId", "secretString", "secretBinary", "secretStringWoVersion", "region"}
        ),
        # internal/service/servicediscovery/private_dns_namespace.go (newest stored, read at 00a35305).
        # In place: description (UpdatePrivateDnsNamespace), tags.
        "aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace": frozenset({"name", "vpc", "region"}),
        # internal/service/servicediscovery/service.go (read at 034cebb6). In place: description,
        # dnsConfig.dnsRecords.ttl, healthCheckConfig.failureThreshold/resourcePath, forceDestroy, tags.
        # Adding or removing a DNS record changes a `dnsRecords.type` (ForceNew): that replaces.
        # healthCheckCustomConfig is ForceNew as a whole block (its failureThreshold is deprecated).
        "aws:servicediscovery/service:Service": frozenset(
            {
                "name",
                "namespaceId",
                "type",
                "dnsConfig.namespaceId",
                "dnsConfig.routingPolicy",
                "dnsConfig.dnsRecords.type",
                "healthCheckConfig.type",
                "healthCheckCustomConfig",
                "region",
            }
        ),
        # internal/service/sns/topic.go (newest stored, read at 00a35305). In place: every topic
        # attribute (SetTopicAttributes): displayName, policy, deliveryPolicy, kmsMasterKeyId,
        # the feedback roles, archivePolicy, fifoThroughputScope, tracingConfig, signatureVersion.
        # maximumMessageSize is newer than that read; assumed in place (a topic attribute too).
        "aws:sns/topic:Topic": frozenset({"name", "namePrefix", "fifoTopic", "region"}),
        # internal/service/sns/topic_subscription.go (read at 04a2e6e5): Terraform's `topic_arn` is
        # Pulumi's `topic`. In place: the subscription attributes (filterPolicy, redrivePolicy, ...).
        "aws:sns/topicSubscription:TopicSubscription": frozenset({"topic", "protocol", "endpoint", "region"}),
        # internal/service/ec2/vpc_security_group_ingress_rule.go: the egress resource embeds the same
        # securityGroupRuleResource (schema, Update, ModifyPlan); see the ingress entry.
        "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": frozenset({"securityGroupId", "region"}),
        # internal/service/ec2/vpc_security_group_ingress_rule.go (Plugin Framework):
        # security_group_id has stringplanmodifier.RequiresReplace(). In place (ModifySecurityGroupRules):
        # cidrIpv4, cidrIpv6, prefixListId, referencedSecurityGroupId (same source kind), description,
        # fromPort, toPort, ipProtocol, tags. Switching the source kind replaces: see
        # CONDITIONALLY_FORCES_REPLACEMENT.
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": frozenset({"securityGroupId", "region"}),
        # internal/service/kms/key.go (newest stored, read at 00a35305). In place: description, policy,
        # isEnabled, enableKeyRotation, rotationPeriodInDays, deletionWindowInDays,
        # bypassPolicyLockoutSafetyCheck, tags.
        "aws:kms/key:Key": frozenset(
            {"customerMasterKeySpec", "keyUsage", "multiRegion", "customKeyStoreId", "xksKeyId", "region"}
        ),
        # internal/service/kms/alias.go. In place: targetKeyId (UpdateAlias).
        "aws:kms/alias:Alias": frozenset({"name", "namePrefix", "region"}),
    }
)

KNOWN_TYPES: frozenset[str] = frozenset(FORCES_REPLACEMENT)

_SG_RULE_SOURCE = (
    "when the rule's source kind changes (one of cidrIpv4 / cidrIpv6 / prefixListId / "
    "referencedSecurityGroupId is swapped for another): ModifyPlan sets RequiresReplace; "
    "a new value of the same kind is in place"
)

CONDITIONALLY_FORCES_REPLACEMENT: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        # internal/service/elbv2/load_balancer.go customizeDiffLoadBalancerALB / ...NLB; the
        # secondaryIpsAutoAssignedPerSubnet case is from the pulumi-aws 7.51.1 docs (not in the
        # stored source version).
        "aws:lb/loadBalancer:LoadBalancer": MappingProxyType(
            {
                "subnets": "network LB: any change that does not only add subnets",
                "subnetMappings": (
                    "network LB: a mapping changed or removed; application LB: an existing mapping changed"
                ),
                "securityGroups": "network LB: adding groups where there were none, or removing them all",
                "secondaryIpsAutoAssignedPerSubnet": "network LB: when decreased (provider docs)",
            }
        ),
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": MappingProxyType(
            {path: _SG_RULE_SOURCE for path in ("cidrIpv4", "cidrIpv6", "prefixListId", "referencedSecurityGroupId")}
        ),
        "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": MappingProxyType(
            {path: _SG_RULE_SOURCE for path in ("cidrIpv4", "cidrIpv6", "prefixListId", "referencedSecurityGroupId")}
        ),
    }
)

UNVERIFIED: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "aws:lb/targetGroup:TargetGroup": MappingProxyType(
            {
                "targetControlPort": (
                    "newer than the stored target_group.go; only CreateTargetGroup takes "
                    "TargetControlPort (ModifyTargetGroup does not), so probably ForceNew"
                ),
            }
        ),
        "aws:secretsmanager/secret:Secret": MappingProxyType(
            {
                "type": (
                    "newer than the stored secret.go; the pulumi-aws 7.51.1 docs say "
                    '"This attribute cannot be changed after creation"'
                ),
            }
        ),
    }
)

_INDEX = re.compile(r"\[[^\]]*\]")


def _components(path: str) -> tuple[str, ...]:
    """`dnsConfig.dnsRecords[0].type` and `dnsConfig.dnsRecords.0.type` -> (dnsConfig, dnsRecords, type)."""
    return tuple(part for part in _INDEX.sub("", path).split(".") if part and not part.isdigit())


def _under(path: tuple[str, ...], listed: Iterable[str]) -> bool:
    return any(path[: len(p)] == p for p in map(_components, listed))


def forces_replacement(resource_type: str, property_path: str) -> bool:
    """True if changing `property_path` (or anything under it) always replaces the resource.

    A path counts when it equals a listed path or lies under one. A parent of a
    listed path does not count by itself (`dnsConfig` may change in place); ask
    `replacement_paths_touched` for that. Unknown types give False: check
    `KNOWN_TYPES` to tell "not in the table" from "updates in place".
    """
    path = _components(property_path)
    return bool(path) and _under(path, FORCES_REPLACEMENT.get(resource_type, ()))


def may_force_replacement(resource_type: str, property_path: str) -> bool:
    """`forces_replacement`, or replaces in some cases, or probably replaces (unverified)."""
    path = _components(property_path)
    if not path:
        return False
    listed = (
        FORCES_REPLACEMENT.get(resource_type, frozenset())
        | frozenset(CONDITIONALLY_FORCES_REPLACEMENT.get(resource_type, {}))
        | frozenset(UNVERIFIED.get(resource_type, {}))
    )
    return _under(path, listed)


def replacement_paths_touched(resource_type: str, property_path: str) -> frozenset[str]:
    """The listed paths a change at `property_path` may reach: above it, at it, or below it.

    For a whole-object change: `dnsConfig` on a Cloud Map service gives
    {dnsConfig.namespaceId, dnsConfig.routingPolicy, dnsConfig.dnsRecords.type}.
    """
    path = _components(property_path)
    touched = set()
    for listed in FORCES_REPLACEMENT.get(resource_type, ()):
        parts = _components(listed)
        n = min(len(parts), len(path))
        if path and parts[:n] == path[:n]:
            touched.add(listed)
    return frozenset(touched)
