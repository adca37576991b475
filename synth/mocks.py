"""Pulumi mocks that record the whole resource graph and answer like AWS would.

Used by the tests (tests/conftest.py) and by the offline render (synth/render.py).
Every registered resource is kept (type, logical name, inputs, its parent and
the options the mock interface leaves out: see RecordingMonitor), and each gets
the identifiers AWS would give it: real-shaped ARNs, `sg-...` ids, ARN suffixes. IAM documents built from them are therefore real documents.
Identifiers are derived from the resource's name, so renders are reproducible.

Data-source calls (the lookups of adopted things) are answered from an
`AdoptedWorld`: what exists in the pretend account. Tests remove things from
it to watch the program refuse to start.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import pulumi
from pulumi.runtime.mocks import MockMonitor

from core.naming import PROJECT


def _hex(seed: str, length: int) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:length]


def _suffix6(seed: str) -> str:
    """The random 6 characters Secrets Manager appends to a secret's ARN."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    digest = hashlib.sha256(seed.encode()).digest()
    return "".join(alphabet[b % len(alphabet)] for b in digest[:6])


@dataclass(frozen=True)
class LiveRule:
    """A listener rule that exists already: made by hand (no tags), or by some stack (its tags)."""

    arn: str
    paths: tuple[str, ...] = ()
    hosts: tuple[str, ...] = ()
    # What it forwards to; a rule without a target group answers with a fixed response.
    target_group_arn: str = ""
    tags: tuple[tuple[str, str], ...] = ()


@dataclass
class AdoptedWorld:
    """What already exists in the account the program adopts things from."""

    account_id: str = "123456789012"
    region: str = "us-east-1"
    # secret name -> its full ARN, for the secrets that exist
    secrets: dict[str, str] = field(default_factory=dict)
    # listener ARN -> (load balancer name, its security groups)
    listeners: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)
    # the account the caller's credentials belong to (None: same as account_id)
    caller_account_id: str | None = None
    # (listener ARN, priority) -> the rule already there; a priority not here is free
    rules: dict[tuple[str, int], LiveRule] = field(default_factory=dict)
    # When set, every listener-rule lookup fails with this message (access denied, throttling, ...).
    rule_lookup_error: str | None = None

    def rule_arn(self, listener_arn: str, priority: int) -> str:
        return listener_arn.replace(":listener/", ":listener-rule/") + f"/{_hex(f'{listener_arn}/{priority}', 16)}"

    def target_group_arn(self, name: str) -> str:
        return f"arn:aws:elasticloadbalancing:{self.region}:{self.account_id}:targetgroup/{name}/{_hex(name, 16)}"

    def add_rule(
        self,
        listener_arn: str,
        priority: int,
        *,
        paths: tuple[str, ...] = (),
        hosts: tuple[str, ...] = (),
        target_group_arn: str = "",
        tags: tuple[tuple[str, str], ...] = (),
    ) -> LiveRule:
        """Make a rule exist at a priority; returns it."""
        live = LiveRule(self.rule_arn(listener_arn, priority), paths, hosts, target_group_arn, tags)
        self.rules[(listener_arn, priority)] = live
        return live

    def secret_arn(self, name: str) -> str:
        return f"arn:aws:secretsmanager:{self.region}:{self.account_id}:secret:{name}-{_suffix6(name)}"

    def add_secret(self, name_or_arn: str) -> str:
        """Make a secret exist; returns its full ARN."""
        if name_or_arn.startswith("arn:"):
            resource = name_or_arn.split(":secret:", 1)[1]
            has_suffix = len(resource) > 7 and resource[-7] == "-"
            name = resource[:-7] if has_suffix else resource
            arn = name_or_arn if has_suffix else f"{name_or_arn}-{_suffix6(name)}"
        else:
            name, arn = name_or_arn, self.secret_arn(name_or_arn)
        self.secrets[name] = arn
        return arn

    def find_secret(self, name_or_arn: str) -> tuple[str, str] | None:
        """(name, full ARN) of a secret given its name, ARN, or ARN without the random suffix."""
        for name, arn in self.secrets.items():
            if name_or_arn in (name, arn, arn[: -len("-XXXXXX")]):
                return name, arn
        return None


@dataclass
class Registered:
    type: str
    name: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    id: str
    custom: bool
    # What the engine would be told besides the inputs (RecordingMonitor): the URN the mock
    # monitor gave the resource, its parent's (the stack's for a top-level resource), and the
    # properties the program asked the engine to ignore changes to (`ignore_changes`).
    urn: str = ""
    parent_urn: str = ""
    ignore_changes: tuple[str, ...] = ()


class Recorded(Protocol):
    """Anything holding a recorded graph: the mocks, a program run (synth/program.py), the checks' Graph."""

    @property
    def resources(self) -> Sequence[Registered]: ...


def of_type(recorded: Recorded, type_: str) -> list[Registered]:
    """The recorded resources of one type, in the order they were registered.

    The one lookup by type: the mocks, the checks, the fake estate and the tests all use it.
    """
    return [r for r in recorded.resources if r.type == type_]


def _not_found(what: str, prop: str) -> tuple[dict, list[tuple[str, str]]]:
    """How the engine reports a failed data-source call: a check failure the
    program can catch (a plain exception here would be an RPC crash instead)."""
    return {}, [(prop, f"reading {what}: couldn't find resource")]


class RecordingMocks(pulumi.runtime.Mocks):
    def __init__(self, world: AdoptedWorld | None = None):
        self.world = world or AdoptedWorld()
        self.resources: list[Registered] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        # The registration RecordingMonitor is handing over on this thread (see there).
        self.registering = threading.local()

    # -- queries for tests ---------------------------------------------------

    def one(self, type_: str, name: str | None = None) -> Registered:
        found = [r for r in of_type(self, type_) if name is None or r.name == name]
        if len(found) != 1:
            names = [r.name for r in of_type(self, type_)]
            raise AssertionError(f"expected one {type_} named {name!r}, found {len(found)} among {names}")
        return found[0]

    def parent(self, resource: Registered) -> Registered | None:
        """The resource `resource` was registered under; None for a top-level one (or unrecorded)."""
        return next((r for r in self.resources if r.urn and r.urn == resource.parent_urn), None)

    def named(self, name: str) -> Registered:
        found = [r for r in self.resources if r.name == name]
        if len(found) != 1:
            raise AssertionError(f"expected one resource named {name!r}, found {len(found)}")
        return found[0]

    # -- the Mocks interface ----------------------------------------------------

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        resource_id, computed = self._computed(args.typ, args.name, dict(args.inputs))
        outputs = {**args.inputs, **computed}
        urn, parent_urn, ignore_changes = getattr(self.registering, "options", None) or ("", "", ())
        self.resources.append(
            Registered(
                args.typ,
                args.name,
                dict(args.inputs),
                outputs,
                resource_id or "",
                bool(args.custom),
                urn=urn,
                parent_urn=parent_urn,
                ignore_changes=ignore_changes,
            )
        )
        return resource_id, outputs

    # An answer is (outputs, check failures); the engine iterates the failures, so "none" is [].
    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list[tuple[str, str]]]:
        self.calls.append((args.token, dict(args.args)))
        world = self.world
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            account = world.caller_account_id or world.account_id
            return {
                "accountId": account,
                "arn": f"arn:aws:iam::{account}:user/ci",
                "userId": "AIDAEXAMPLE",
                "id": account,
            }, []
        if args.token == "aws:secretsmanager/getSecret:getSecret":
            wanted = args.args.get("name") or args.args.get("arn", "")
            found = world.find_secret(wanted)
            if found is None:
                return _not_found(f"Secrets Manager Secret ({wanted})", "name" if "name" in args.args else "arn")
            name, arn = found
            return {"arn": arn, "id": arn, "name": name}, []
        if args.token == "aws:lb/getListener:getListener":
            listener_arn = args.args.get("arn")
            if listener_arn not in world.listeners:
                return _not_found(f"ELBv2 Listener ({listener_arn})", "arn")
            lb_name = world.listeners[listener_arn][0]
            return {
                "arn": listener_arn,
                "id": listener_arn,
                "loadBalancerArn": self._lb_arn(lb_name),
                "port": 443,
                "protocol": "HTTPS",
            }, []
        if args.token == "aws:lb/getListenerRule:getListenerRule":
            return self._listener_rule(str(args.args.get("listenerArn", "")), args.args.get("priority"))
        if args.token == "aws:lb/getLoadBalancer:getLoadBalancer":
            lb_arn = args.args.get("arn")
            for lb_name, groups in world.listeners.values():
                if self._lb_arn(lb_name) == lb_arn:
                    return {
                        "arn": lb_arn,
                        "id": lb_arn,
                        "arnSuffix": lb_arn.split(":loadbalancer/", 1)[1],
                        "name": lb_name,
                        "loadBalancerType": "application",
                        "securityGroups": list(groups),
                        "dnsName": f"{lb_name}-{_hex(lb_name, 9)}.{world.region}.elb.amazonaws.com",
                    }, []
            return _not_found(f"ELBv2 Load Balancer ({lb_arn})", "arn")
        raise NotImplementedError(f"the mocks do not answer {args.token}; add it to synth/mocks.py")

    def _listener_rule(self, listener_arn: str, priority: object) -> tuple[dict, list[tuple[str, str]]]:
        """As the provider answers aws_lb_listener_rule by listener and priority: the rule, or
        "empty result" when no rule has that priority (terraform-provider-aws,
        internal/service/elbv2/listener_rule_data_source.go)."""
        world = self.world
        where = f"{listener_arn}/{priority}"
        if world.rule_lookup_error is not None:
            return {}, [
                ("listenerArn", f"reading ELBV2 Listener Rule Data Source ({where}): {world.rule_lookup_error}")
            ]
        number = int(priority) if isinstance(priority, (int, float, str)) else None
        rule = world.rules.get((listener_arn, number)) if number is not None else None
        if rule is None or number is None:
            return {}, [("priority", f"reading ELBV2 Listener Rule Data Source ({where}): empty result")]
        conditions = []
        if rule.hosts:
            conditions.append({"hostHeaders": [{"values": list(rule.hosts), "regexValues": []}]})
        if rule.paths:
            conditions.append({"pathPatterns": [{"values": list(rule.paths), "regexValues": []}]})
        if rule.target_group_arn:
            action = {"type": "forward", "order": 1, "forwards": [{"targetGroups": [{"arn": rule.target_group_arn}]}]}
        else:
            fixed = {"contentType": "text/plain", "messageBody": "Not Found", "statusCode": "404"}
            action = {"type": "fixed-response", "order": 1, "fixedResponses": [fixed]}
        return {
            "arn": rule.arn,
            "id": rule.arn,
            "listenerArn": listener_arn,
            "priority": number,
            "tags": dict(rule.tags),
            "conditions": conditions,
            "actions": [action],
        }, []

    # -- realistic identifiers ----------------------------------------------------

    def _lb_arn(self, lb_name: str) -> str:
        w = self.world
        return f"arn:aws:elasticloadbalancing:{w.region}:{w.account_id}:loadbalancer/app/{lb_name}/{_hex(lb_name, 16)}"

    def _computed(self, type_: str, name: str, inputs: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
        w = self.world
        region, account = w.region, w.account_id
        physical = inputs.get("name") or f"{name}-{_hex(name, 7)}"
        seed = f"{type_}/{name}"

        if type_ == "aws:ecs/cluster:Cluster":
            arn = f"arn:aws:ecs:{region}:{account}:cluster/{physical}"
            return arn, {"arn": arn, "name": physical}
        if type_ == "aws:ecs/taskDefinition:TaskDefinition":
            family = inputs["family"]
            base = f"arn:aws:ecs:{region}:{account}:task-definition/{family}"
            return f"{family}", {"arn": f"{base}:1", "arnWithoutRevision": base, "revision": 1}
        if type_ == "aws:ecs/service:Service":
            cluster = str(inputs.get("cluster", "")).rsplit("/", 1)[-1]
            arn = f"arn:aws:ecs:{region}:{account}:service/{cluster}/{physical}"
            return arn, {"name": physical}
        if type_ == "aws:iam/role:Role":
            return physical, {
                "arn": f"arn:aws:iam::{account}:role/{physical}",
                "name": physical,
                "uniqueId": f"AROA{_hex(seed, 17).upper()}",
            }
        if type_ == "aws:iam/rolePolicy:RolePolicy":
            return f"{inputs.get('role')}:{physical}", {"name": physical}
        if type_ == "aws:secretsmanager/secret:Secret":
            arn = w.secret_arn(physical)
            return arn, {"arn": arn, "name": physical}
        if type_ == "aws:secretsmanager/secretVersion:SecretVersion":
            return f"{inputs.get('secretId')}|{_hex(seed, 8)}", {"versionId": _hex(seed, 32)}
        if type_ == "aws:lb/targetGroup:TargetGroup":
            suffix = f"targetgroup/{physical}/{_hex(seed, 16)}"
            arn = f"arn:aws:elasticloadbalancing:{region}:{account}:{suffix}"
            return arn, {"arn": arn, "arnSuffix": suffix, "name": physical}
        if type_ == "aws:lb/loadBalancer:LoadBalancer":
            arn = self._lb_arn(physical)
            return arn, {
                "arn": arn,
                "arnSuffix": arn.split(":loadbalancer/", 1)[1],
                "name": physical,
                "dnsName": f"{physical}-{_hex(seed, 9)}.{region}.elb.amazonaws.com",
                "zoneId": "Z35SXDOTRQ7X7K",
            }
        if type_ == "aws:lb/listener:Listener":
            lb = str(inputs.get("loadBalancerArn", ""))
            arn = lb.replace(":loadbalancer/", ":listener/") + f"/{_hex(seed, 16)}"
            return arn, {"arn": arn}
        if type_ == "aws:lb/listenerRule:ListenerRule":
            listener = str(inputs.get("listenerArn", ""))
            arn = listener.replace(":listener/", ":listener-rule/") + f"/{_hex(seed, 16)}"
            return arn, {"arn": arn}
        if type_ == "aws:ec2/securityGroup:SecurityGroup":
            group = f"sg-{_hex(seed, 17)}"
            return group, {
                "arn": f"arn:aws:ec2:{region}:{account}:security-group/{group}",
                "name": physical,
                "ownerId": account,
            }
        if type_ in (
            "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
            "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
        ):
            rule = f"sgr-{_hex(seed, 17)}"
            return rule, {
                "arn": f"arn:aws:ec2:{region}:{account}:security-group-rule/{rule}",
                "securityGroupRuleId": rule,
            }
        if type_ == "aws:cloudwatch/logGroup:LogGroup":
            # The provider's log-group ARN has no trailing ":*".
            return physical, {"arn": f"arn:aws:logs:{region}:{account}:log-group:{physical}", "name": physical}
        if type_ == "aws:cloudwatch/logMetricFilter:LogMetricFilter":
            return physical, {"name": physical}
        if type_ == "aws:cloudwatch/metricAlarm:MetricAlarm":
            return physical, {"arn": f"arn:aws:cloudwatch:{region}:{account}:alarm:{physical}", "name": physical}
        if type_ == "aws:cloudwatch/dashboard:Dashboard":
            # Dashboards are global: their ARN has no region.
            dashboard = inputs["dashboardName"]
            return dashboard, {"dashboardArn": f"arn:aws:cloudwatch::{account}:dashboard/{dashboard}"}
        if type_ == "aws:sns/topic:Topic":
            arn = f"arn:aws:sns:{region}:{account}:{physical}"
            return arn, {"arn": arn, "name": physical}
        if type_ == "aws:sns/topicSubscription:TopicSubscription":
            arn = f"{inputs.get('topic')}:{_hex(seed, 8)}-{_hex(seed + '1', 4)}"
            return arn, {"arn": arn}
        if type_ == "aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace":
            ns = f"ns-{_hex(seed, 16)}"
            return ns, {
                "arn": f"arn:aws:servicediscovery:{region}:{account}:namespace/{ns}",
                "hostedZone": f"Z{_hex(seed, 13).upper()}",
            }
        if type_ == "aws:servicediscovery/service:Service":
            srv = f"srv-{_hex(seed, 16)}"
            return srv, {"arn": f"arn:aws:servicediscovery:{region}:{account}:service/{srv}"}
        if type_ == "aws:appautoscaling/target:Target":
            return inputs.get("resourceId"), {
                "arn": f"arn:aws:application-autoscaling:{region}:{account}:scalable-target/{_hex(seed, 28)}"
            }
        if type_ == "aws:appautoscaling/policy:Policy":
            return physical, {
                "arn": f"arn:aws:autoscaling:{region}:{account}:scalingPolicy:{_hex(seed, 8)}"
                f":resource/ecs/{inputs.get('resourceId')}:policyName/{physical}"
            }
        if type_.startswith("aws:"):
            return physical, {"arn": f"arn:aws:{type_.split(':')[1].split('/')[0]}:{region}:{account}:{physical}"}
        # Component resources and dynamic resources: no physical identity.
        return f"{name}-id", {}


class RecordingMonitor(MockMonitor):
    """The mock monitor, telling the mocks what `MockResourceArgs` leaves out.

    The mocks learn a resource's type, name and inputs; the engine also learns its parent
    and its options. The import plan (synth/import_plan.py) needs the parent chain (the
    URN `pulumi import` must reproduce) and the diff needs `ignore_changes`. The monitor
    calls `new_resource` synchronously on the registering thread, so a thread-local hands
    them over without mixing up resources registered concurrently.
    """

    def __init__(self, mocks: RecordingMocks):
        super().__init__(mocks)
        self.recording = mocks

    def RegisterResource(self, request):  # noqa: N802 (the gRPC method's name)
        urn = self.make_urn(request.parent, request.type, request.name)
        self.recording.registering.options = (urn, request.parent, tuple(request.ignoreChanges))
        try:
            return super().RegisterResource(request)
        finally:
            self.recording.registering.options = None


def world_for(config: dict[str, Any]) -> AdoptedWorld:
    """A pretend account in which everything the stack config adopts exists.

    Used by the offline render, which has no AWS to look things up in. It reads
    the raw config leniently: validating it is the program's job.
    """
    default = AdoptedWorld()
    account = str(config.get(f"{PROJECT}:account_id") or default.account_id)
    region = str(config.get("aws:region") or default.region)
    world = AdoptedWorld(account_id=account, region=region)
    services = config.get(f"{PROJECT}:services")
    for service in (services or {}).values() if isinstance(services, dict) else ():
        secrets = service.get("secrets") if isinstance(service, dict) else None
        for source in (secrets or {}).values() if isinstance(secrets, dict) else ():
            existing = source.get("existing") if isinstance(source, dict) else None
            if isinstance(existing, str) and (not existing.startswith("arn:") or ":secret:" in existing):
                world.add_secret(existing)
    lb = config.get(f"{PROJECT}:load_balancer")
    listener = lb.get("listener_arn") if isinstance(lb, dict) else None
    if isinstance(listener, str) and "listener/app/" in listener:
        lb_name = listener.split("listener/app/", 1)[1].split("/", 1)[0]
        world.listeners[listener] = (lb_name, (f"sg-{_hex(lb_name, 17)}",))
        _add_adopted_rules(world, listener, services)
    return world


def _add_adopted_rules(world: AdoptedWorld, listener: str, services: object) -> None:
    """The live rules the stack says it imports (`routes[].adopt_existing`): made by hand, so untagged,
    each forwarding to the service's live target group."""
    for key, service in services.items() if isinstance(services, dict) else ():
        routes = service.get("routes") if isinstance(service, dict) else None
        group = service.get("target_group_name") if isinstance(service, dict) else None
        for route in routes if isinstance(routes, list) else ():
            if not (isinstance(route, dict) and route.get("adopt_existing") is True):
                continue
            priority = route.get("priority")
            if isinstance(priority, int) and not isinstance(priority, bool):
                world.add_rule(
                    listener,
                    priority,
                    paths=tuple(p for p in route.get("paths") or () if isinstance(p, str)),
                    hosts=tuple(h for h in route.get("hosts") or () if isinstance(h, str)),
                    target_group_arn=world.target_group_arn(group if isinstance(group, str) else f"{key}-live"),
                )
