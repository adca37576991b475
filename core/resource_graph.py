"""The stack's resources as plain records, and the lookups the invariants make over them.

Two places judge the same graph with the same invariants (core/invariants.py):

- the offline render and the tests (synth/checks.py), from the recording mocks:
  each resource's type, logical name, inputs and outputs;
- the CrossGuard pack in a real `pulumi preview` / `pulumi up` (policy/), from the
  engine: each resource's type, logical name and outputs (for a provider resource,
  its inputs and what AWS computed), and the stack's own resource, whose outputs
  are the stack outputs.

In a preview, what AWS computes (the ARN or id of a resource not created yet, and
every value built from one) is not known. The pack hands such a value over as
UNKNOWN, and every lookup here answers None - "cannot tell" - where an unknown
value could change its answer, so an invariant reports only what it could judge.

Pure: no Pulumi, no boto3.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from core.contract import CONTRACTS, ServiceContract

STACK = "pulumi:pulumi:Stack"
TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
ECS_SERVICE = "aws:ecs/service:Service"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ROLE_POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS_RULE = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
METRIC_FILTER = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
SNS_TOPIC = "aws:sns/topic:Topic"
LISTENER = "aws:lb/listener:Listener"
SECRET = "aws:secretsmanager/secret:Secret"

# The stack output the program writes (core/estate.py: OUTPUT_NAME); repeated here
# as a literal so this module does not depend on the live tools' reader.
ESTATE_OUTPUT = "estate"


class Unknown:
    """A value the engine does not know yet: computed by AWS when the resource is created."""

    _instance: Unknown | None = None

    def __new__(cls) -> Unknown:
        # One instance, so `value is UNKNOWN` and isinstance agree everywhere.
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<unknown until applied>"


UNKNOWN: Final = Unknown()


def is_unknown(value: object) -> bool:
    return isinstance(value, Unknown)


def has_unknown(value: object) -> bool:
    """Whether `value`, or anything inside it, is unknown."""
    if isinstance(value, Unknown):
        return True
    if isinstance(value, Mapping):
        return any(has_unknown(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(has_unknown(v) for v in value)
    return False


def may_equal(value: object, wanted: object) -> bool:
    """Whether `value` is `wanted`, or may turn out to be (it is unknown)."""
    return is_unknown(value) or value == wanted


def field_of(value: object, key: str) -> Any:
    """`value[key]` of a mapping; UNKNOWN of an unknown; None of anything else."""
    if is_unknown(value):
        return UNKNOWN
    return value.get(key) if isinstance(value, Mapping) else None


def is_off(value: object) -> bool:
    """A setting known to be off (false, absent); an unknown one is not known to be off."""
    return not is_unknown(value) and not value


def is_on(value: object) -> bool:
    """A setting known to be on; an unknown one is not known to be on."""
    return not is_unknown(value) and bool(value)


@dataclass(frozen=True)
class Record:
    """One resource: its type (`aws:ecs/service:Service`), logical name (`api-service`),
    the inputs the program gave it, and its outputs (inputs included, plus what AWS
    computed: `arn`, `id`, ...). Values may be UNKNOWN."""

    type: str
    name: str
    inputs: Mapping[str, Any]
    outputs: Mapping[str, Any] = field(default_factory=dict)
    # The `protect` resource option (the engine keeps the resource when the stack is destroyed);
    # None when the runner does not say.
    protect: bool | None = None


def stack_record(name: str, stack_outputs: Mapping[str, Any]) -> Record:
    """The stack's own resource, whose outputs are the stack outputs (as the engine has it)."""
    return Record(STACK, name, {}, stack_outputs)


def parse_json(value: object) -> Any:
    """A JSON document given as text (container definitions, a policy), parsed;
    UNKNOWN when the text is unknown; None when it is absent."""
    if is_unknown(value):
        return UNKNOWN
    if not value:
        return None
    return json.loads(str(value))


@dataclass(frozen=True)
class ServiceView:
    """An ECS service the contract describes, and what the invariants need of it."""

    record: Record
    contract: ServiceContract
    # The service's network: the groups its tasks are in (UNKNOWN while any is).
    security_groups: tuple[Any, ...] | Unknown
    # The target groups it registers its container with (items may be UNKNOWN).
    target_group_arns: tuple[Any, ...]


class Graph:
    """Lookups over the records; each that an unknown value could mislead answers None."""

    def __init__(self, records: Iterable[Record]):
        self.records = list(records)

    def of_type(self, type_: str) -> list[Record]:
        return [r for r in self.records if r.type == type_]

    @property
    def stack_outputs(self) -> Mapping[str, Any] | Unknown | None:
        """The stack outputs; None when the graph has no stack resource."""
        stacks = self.of_type(STACK)
        if not stacks:
            return None
        outputs = stacks[0].outputs
        return outputs if isinstance(outputs, Mapping) else UNKNOWN

    @property
    def estate(self) -> Mapping[str, Any] | Unknown | None:
        """The `estate` stack output (core/estate.py); None when there is none."""
        outputs = self.stack_outputs
        if outputs is None or is_unknown(outputs):
            return outputs
        assert isinstance(outputs, Mapping)
        estate = outputs.get(ESTATE_OUTPUT)
        if estate is None or is_unknown(estate) or isinstance(estate, Mapping):
            return estate
        return UNKNOWN

    def load_balancer_exceptions(self) -> Mapping[str, Any] | None:
        """The load-balancer defaults the stack relaxed (exception -> reason), as the `estate` output
        carries them; {} without an estate output; None when they are not known."""
        estate = self.estate
        if estate is None:
            return {}
        if not isinstance(estate, Mapping):
            return None
        exceptions = estate.get("load_balancer_exceptions")
        if exceptions is None:
            return {}
        return exceptions if isinstance(exceptions, Mapping) and not has_unknown(exceptions) else None

    def observability_key(self) -> str | Unknown | None:
        """The KMS key the stack declares for its log groups and alarm topic, as the `estate` output
        carries it; None when it declares none (or there is no estate output); UNKNOWN when it
        cannot be told."""
        estate = self.estate
        if estate is None:
            return None
        if not isinstance(estate, Mapping):
            return UNKNOWN
        key = estate.get("observability_kms_key_arn")
        if key is None or isinstance(key, str):
            return key
        return UNKNOWN

    def exceptions_of(self, service_key: str) -> Mapping[str, Any] | None:
        """The secure defaults the stack relaxed for `service_key` (exception -> reason), as the
        `estate` output carries them; {} without an estate output (nothing is excused); None when
        they are not known (a finding could be excused by them)."""
        estate = self.estate
        if estate is None:
            return {}
        if not isinstance(estate, Mapping):
            return None
        services = estate.get("services")
        if not isinstance(services, (list, tuple)):
            return None
        for service in services:
            if isinstance(service, Mapping) and service.get("key") == service_key:
                exceptions = service.get("exceptions")
                if exceptions is None:
                    return {}
                return exceptions if isinstance(exceptions, Mapping) and not has_unknown(exceptions) else None
        return None if any(not isinstance(s, Mapping) or is_unknown(s.get("key")) for s in services) else {}

    def by_output(self, type_: str, key: str, value: object) -> list[Record] | None:
        """The resources of `type_` whose output `key` is `value`; None (cannot tell)
        when `value` is unknown, or when none matches and some have it unknown."""
        if is_unknown(value):
            return None
        candidates = self.of_type(type_)
        found = [r for r in candidates if not is_unknown(r.outputs.get(key)) and r.outputs.get(key) == value]
        if not found and any(is_unknown(r.outputs.get(key)) for r in candidates):
            return None
        return found

    # -- IAM ----------------------------------------------------------------------

    def roles_for_arn(self, arn: object) -> list[Record] | None:
        """The declared roles `arn` names: by their ARN, else by the name at its end
        (`role/<path>/<name>`), which the program knows before AWS does."""
        found = self.by_output(ROLE, "arn", arn)
        if found:
            return found
        if is_unknown(arn) or not isinstance(arn, str) or ":role/" not in arn:
            return found
        name = arn.rsplit("/", 1)[-1]
        by_name = [r for r in self.of_type(ROLE) if name in (r.inputs.get("name"), r.outputs.get("name"))]
        if by_name:
            return by_name
        return found

    def _names_role(self, role: Record, value: object) -> bool:
        keys = {role.outputs.get("id"), role.outputs.get("name"), role.inputs.get("name")}
        return value in {k for k in keys if k is not None and not is_unknown(k)}

    def policies_of(self, role: Record) -> list[Any] | None:
        """The inline policy documents of `role`; None when one that may be its own is unknown."""
        documents = []
        for policy in self.of_type(ROLE_POLICY):
            owner = policy.inputs.get("role")
            if is_unknown(owner):
                return None
            if self._names_role(role, owner):
                document = parse_json(policy.inputs.get("policy") or "{}")
                if is_unknown(document):
                    return None
                documents.append(document)
        return documents

    def has_managed_policies(self, role: Record) -> bool:
        return any(
            self._names_role(role, attachment.inputs.get("role")) for attachment in self.of_type(ROLE_POLICY_ATTACHMENT)
        )

    # -- services --------------------------------------------------------------------

    def task_containers(self) -> Iterator[tuple[Record, ServiceContract, dict[str, Any]]]:
        """(task definition, its service's contract, its container) for every contract
        container of every task definition whose definitions are known."""
        by_container = {c.container_name: c for c in CONTRACTS.values()}
        for task in self.of_type(TASK_DEFINITION):
            definitions = parse_json(task.inputs.get("containerDefinitions"))
            if not isinstance(definitions, list):
                continue
            for container in definitions:
                name = container.get("name") if isinstance(container, dict) else None
                contract = by_container.get(name) if isinstance(name, str) else None
                if contract is not None:
                    yield task, contract, container

    def services(self) -> list[ServiceView]:
        """Every ECS service whose container a contract names (by its load balancer
        registration, else by its task definition's family)."""
        by_container = {c.container_name: c for c in CONTRACTS.values()}
        by_family = {
            task.inputs.get("family"): contract
            for task, contract, _container in self.task_containers()
            if not is_unknown(task.inputs.get("family"))
        }
        views = []
        for service in self.of_type(ECS_SERVICE):
            balancers = service.inputs.get("loadBalancers")
            balancers = [] if is_unknown(balancers) else [b for b in balancers or [] if isinstance(b, Mapping)]
            contract = next(
                (by_container[b.get("containerName")] for b in balancers if b.get("containerName") in by_container),
                None,
            )
            if contract is None:
                contract = by_family.get(_family_of(service.inputs.get("taskDefinition")))
            if contract is None:
                continue
            network = service.inputs.get("networkConfiguration")
            groups: tuple[Any, ...] | Unknown = UNKNOWN
            if isinstance(network, Mapping) and not has_unknown(network.get("securityGroups")):
                groups = tuple(network.get("securityGroups") or ())
            target_groups = tuple(
                b.get("targetGroupArn") for b in balancers if b.get("containerName") == contract.container_name
            )
            views.append(ServiceView(service, contract, groups, target_groups))
        return views

    def containers_of(self, contract: ServiceContract) -> list[dict[str, Any]]:
        return [container for _task, c, container in self.task_containers() if c is contract]


def _family_of(task_definition: object) -> str | None:
    """`hokusai-api-development` of `arn:...:task-definition/hokusai-api-development:7` (or `family:7`)."""
    if not isinstance(task_definition, str):
        return None
    return task_definition.rsplit("/", 1)[-1].rsplit(":", 1)[0]
