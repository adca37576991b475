"""The program run under other mocks than the project's.

Every other graph test uses synth/mocks.py; if those mocks hid a mistake (an
ARN shape the program leans on, an answer that is too kind), the tests would
not see it. This file runs __main__.py under deliberately plain mocks written
here, sharing no code with synth/, and finds each property the program issue
lists (items 1-9) again, for every service of every stack file.
"""

from __future__ import annotations

import functools
import json
import runpy

import pulumi

from core import naming
from core.naming import PROJECT
from core.settings import SecretMode
from core.stack_file import PROJECT_DIR
from core.value_from import SecretValueFrom
from tests import tiers
from tests.helpers import each_stack, stack_secret_keys, stack_settings, stack_values

SECRET_SUFFIX = "Zz9Zz9"


class PlainMocks(pulumi.runtime.Mocks):
    """Opaque ids, one ARN shape for everything, lookups that find whatever is asked."""

    def __init__(self, account: str, region: str) -> None:
        self.account, self.region = account, region
        self.created: list[tuple[str, str, dict]] = []

    def new_resource(self, args):
        self.created.append((args.typ, args.name, dict(args.inputs)))
        arn = f"arn:aws:plain:{self.region}:{self.account}:{args.name}"
        return f"id-{args.name}", {
            **args.inputs,
            "arn": arn,
            "arnSuffix": f"suffix/{args.name}",
            "name": args.inputs.get("name", args.name),
        }

    def call(self, args):
        account, region = self.account, self.region
        if args.token.endswith("getCallerIdentity"):
            return {"accountId": account, "arn": f"arn:aws:iam::{account}:user/x", "userId": "x", "id": account}
        if args.token.endswith("getSecret"):
            name = args.args.get("name") or args.args["arn"]
            return {"arn": f"arn:aws:secretsmanager:{region}:{account}:secret:{name}-{SECRET_SUFFIX}", "name": name}
        if args.token.endswith("getListener"):
            # An HTTPS listener with a TLS 1.2+ policy: infra/existing.py refuses any other.
            return {
                "arn": args.args["arn"],
                "loadBalancerArn": "arn:aws:elasticloadbalancing:lb",
                "protocol": "HTTPS",
                "sslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
            }
        if args.token.endswith("getListenerRule"):
            # No rule at any priority: every route's priority is free (the provider's "empty result").
            return {}, [("priority", "reading ELBV2 Listener Rule Data Source: empty result")]
        if args.token.endswith("getLoadBalancer"):
            return {
                "arn": args.args["arn"],
                "arnSuffix": "app/lb/1",
                "securityGroups": ["sg-alb"],
                "loadBalancerType": "application",
                "dnsName": "lb.example",
            }
        raise AssertionError(f"unexpected call {args.token}")


@functools.cache
def created(stack: str) -> tuple[tuple[str, str, dict], ...]:
    """What the program registers for `stack` under the plain mocks (once per stack)."""
    return _program(stack)[0]


@tiers.shared
def _program(stack: str) -> tuple[tuple[tuple[str, str, dict], ...], frozenset[str]]:
    """(every registered resource, the names of the stack outputs) of one run under the plain mocks."""
    settings = stack_settings(stack)
    values = stack_values(stack)
    config = {k: json.dumps(v) if isinstance(v, (dict, list)) else str(v) for k, v in values.items()}
    mocks = PlainMocks(settings.account_id, settings.region)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=False)
    pulumi.runtime.set_all_config(config, list(stack_secret_keys(stack)))

    @pulumi.runtime.test
    def program():
        runpy.run_path(str(PROJECT_DIR / "__main__.py"), run_name="__main__")

    program()
    # The root resource is the program's Stack; its outputs are what `pulumi.export` exported.
    exported = frozenset(getattr(pulumi.runtime.settings.get_root_resource(), "outputs", {}))
    return tuple(mocks.created), exported


def find(stack, type_suffix, **where):
    found = [
        inputs
        for typ, _name, inputs in created(stack)
        if typ.endswith(type_suffix) and all(inputs.get(k) == v for k, v in where.items())
    ]
    assert found, f"no {type_suffix} with {where}"
    return found


@each_stack
def test_1_cluster_with_container_insights(stack):
    (cluster,) = find(stack, "ecs/cluster:Cluster", name=naming.cluster_name(stack))
    assert {"name": "containerInsights", "value": "enabled"} in cluster["settings"]


@each_stack
def test_2_3_task_definition_takes_every_secret_by_arn_and_settings_as_environment(stack):
    settings = stack_settings(stack)
    for spec in settings.services:
        (task,) = find(stack, "TaskDefinition", family=naming.service_name(spec.key, stack))
        (container,) = json.loads(task["containerDefinitions"])
        secrets = {s["name"]: s["valueFrom"] for s in container["secrets"]}
        assert set(secrets) == set(spec.contract.secret_names)
        for source in spec.secrets:
            if source.mode is SecretMode.EXISTING and not source.name_or_arn.startswith("arn:"):
                # the ARN the mock gives the secret, then its JSON key and version if the stack names them
                assert secrets[source.env_var] == source.container_value_from(
                    f"arn:aws:secretsmanager:{settings.region}:{settings.account_id}:secret:"
                    f"{source.name_or_arn}-{SECRET_SUFFIX}"
                )
        environment = {e["name"] for e in container["environment"]}
        # its own settings and those derived from its dependencies; never what the contract deliberately
        # does not provide (REDIS_URL), never a secret
        assert set(spec.contract.setting_names) <= environment
        assert not environment & {entry.env_var for entry in spec.contract.not_provided}
        assert not environment & set(secrets)
        assert (container["name"], container["portMappings"][0]["containerPort"]) == (
            spec.container_name,
            spec.container_port,
        )
        assert container["logConfiguration"]["options"]["awslogs-group"] == naming.log_group_name(spec.key, stack)
        assert spec.health_check_path in " ".join(container["healthCheck"]["command"])
        assert (task["cpu"], task["memory"], task["requiresCompatibilities"]) == (
            str(spec.cpu),
            str(spec.memory),
            ["FARGATE"],
        )


@each_stack
def test_4_execution_role_reads_exactly_the_referenced_secrets_and_task_role_ecs_exec_only_when_on(stack):
    settings = stack_settings(stack)
    role_ids = {
        f"id-{logical}": inputs["name"] for typ, logical, inputs in created(stack) if typ.endswith("iam/role:Role")
    }
    # A role may have several inline policies (the task role: ECS Exec, and S3 when the contract grants it).
    policies: dict[str, list[dict]] = {}
    for p in find(stack, "iam/rolePolicy:RolePolicy"):
        policies.setdefault(role_ids[p["role"]], []).append(json.loads(p["policy"]))
    for spec in settings.services:
        (task,) = find(stack, "TaskDefinition", family=spec.name)
        # The secrets' ARNs, without the JSON key and version a valueFrom may add.
        value_froms = [s["valueFrom"] for s in json.loads(task["containerDefinitions"])[0]["secrets"]]
        referenced = sorted((p.secret_arn if (p := SecretValueFrom.parse(v)) else v) for v in value_froms)
        (execution,) = policies[f"{spec.name}-execution"]
        reads = [s for s in execution["Statement"] if s["Action"] == "secretsmanager:GetSecretValue"]
        assert [s["Resource"] for s in reads] == [referenced]
        assert ("Decrypt" in json.dumps(execution)) is bool(settings.secrets_kms_key_arn)
        task_policies = json.dumps(policies.get(f"{spec.name}-task", []))
        # ECS Exec's channels only for a service that has ECS Exec on (exceptions.ecs_exec)
        assert ("ssmmessages:OpenDataChannel" in task_policies) is spec.ecs_exec
        assert ("s3:PutObject" in task_policies) is bool(spec.s3_locations)


@each_stack
def test_5_service_private_safe_deploys_exec_discovery_and_scaling(stack):
    assert find(stack, "privateDnsNamespace:PrivateDnsNamespace", name=naming.namespace_name(stack))
    for spec in stack_settings(stack).services:
        (service,) = find(stack, "ecs/service:Service", name=spec.name)
        assert service["networkConfiguration"]["assignPublicIp"] is False
        assert service["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
        signature_alarms = [
            naming.alarm_name(spec.key, stack, s.key) for s in spec.contract.error_signatures if s.deployment_alarm
        ]
        assert service["alarms"]["rollback"] is True and service["alarms"]["alarmNames"] == signature_alarms
        assert (service["deploymentMinimumHealthyPercent"], service["deploymentMaximumPercent"]) == (100, 200)
        assert service["healthCheckGracePeriodSeconds"] == spec.health_check_grace_seconds
        assert service["enableExecuteCommand"] is spec.ecs_exec
        assert find(stack, "servicediscovery/service:Service", name=spec.key)
        (target,) = find(stack, "appautoscaling/target:Target", resourceId=naming.ecs_resource_id(spec.key, stack))
        assert (target["minCapacity"], target["maxCapacity"]) == (
            spec.autoscaling.min_count,
            spec.autoscaling.max_count,
        )
        (policy,) = find(stack, "appautoscaling/policy:Policy", name=f"{spec.name}-cpu")
        assert policy["policyType"] == "TargetTrackingScaling"


@each_stack
def test_6_target_group_and_listener_rules(stack):
    settings = stack_settings(stack)
    for spec in settings.services:
        (group,) = find(stack, "lb/targetGroup:TargetGroup", name=spec.target_group_name)
        assert (group["port"], group["targetType"], group["healthCheck"]["path"]) == (
            spec.container_port,
            "ip",
            spec.health_check_path,
        )
        assert group["deregistrationDelay"] <= 60
    hosts = {
        v
        for rule in find(stack, "lb/listenerRule:ListenerRule")
        for c in rule["conditions"]
        for v in (c.get("hostHeader") or {}).get("values", [])
    }
    assert hosts == {host for spec in settings.services for route in spec.routes for host in route.hosts}


@each_stack
def test_7_security_groups_admit_by_reference_and_each_dependency_admits_its_consumers(stack):
    settings = stack_settings(stack)
    rules = find(stack, "SecurityGroupIngressRule")
    if not settings.load_balancer.creates_load_balancer:
        assert not [r for r in rules if r.get("cidrIpv4") or r.get("cidrIpv6")]  # no world-open ingress
    service_groups = {f"id-{spec.key}-sg" for spec in settings.services}
    from_alb = {}
    for spec in settings.services:
        # The rule admitting the load balancer (another service of the stack may also be admitted, as a consumer).
        (from_alb[spec.key],) = [
            r
            for r in rules
            if r["securityGroupId"] == f"id-{spec.key}-sg" and r.get("referencedSecurityGroupId") not in service_groups
        ]
        assert from_alb[spec.key]["fromPort"] == spec.container_port
        assert from_alb[spec.key]["referencedSecurityGroupId"]
    for dependency in settings.dependencies:
        if not dependency.has_security_group:
            continue
        # A declared group, or the group of the stack's own service the dependency is.
        group = dependency.security_group_id or f"id-{dependency.service}-sg"
        admitted = {
            r["referencedSecurityGroupId"]
            for r in rules
            if r["securityGroupId"] == group
            and (r["fromPort"], r["toPort"]) == (dependency.port,) * 2
            and all(r is not alb for alb in from_alb.values())
        }
        consumers = {f"id-{key}-sg" for key in dependency.consumers}
        assert admitted == consumers | {group for _, group in dependency.extra_consumers}, dependency.name


@each_stack
def test_8_logs_filters_alarms_and_their_topic(stack):
    settings = stack_settings(stack)
    alarms = find(stack, "MetricAlarm")
    watched = {(a.get("namespace"), a.get("metricName")) for a in alarms}
    for spec in settings.services:
        (group,) = find(stack, "logGroup:LogGroup", name=spec.log_group_name)
        assert group["retentionInDays"] == settings.log_retention_days
        for signature in spec.contract.error_signatures:
            (found,) = find(
                stack, "LogMetricFilter", logGroupName=spec.log_group_name, pattern=signature.filter_pattern
            )
            metric = (found["metricTransformation"]["namespace"], found["metricTransformation"]["name"])
            assert metric == (spec.contract.metric_namespace, signature.metric_name)
            assert metric in watched
    assert {
        ("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count"),
        ("AWS/ApplicationELB", "UnHealthyHostCount"),
    } <= watched
    assert any(a.get("metricQueries") for a in alarms)  # running < desired
    topic = f"arn:aws:plain:{settings.region}:{settings.account_id}:alarms-topic"
    assert all(a["alarmActions"] == [topic] for a in alarms)


@each_stack
def test_9_the_outputs_name_the_estate(stack):
    assert _program(stack)[1] == {"estate"}
