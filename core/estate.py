"""The stack outputs: how the live tools find the estate again.

The program writes one stack output, `estate`, shaped by these dataclasses;
`verify`, the deploy gate and the runbook commands read it back with
`Estate.from_outputs` (from `pulumi stack output --json`, or a file of it).
Field names are written here once, for both sides.

Pure: no Pulumi, no boto3.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from core import dataclass_reader

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

OUTPUT_NAME = "estate"


class EstateError(Exception):
    """The outputs do not describe an estate (missing or malformed keys)."""


@dataclass(frozen=True)
class MetricFilterEstate:
    name: str
    pattern: str
    metric_name: str
    metric_namespace: str


@dataclass(frozen=True)
class ServiceEstate:
    key: str
    service_name: str
    service_arn: str
    task_definition_arn: str
    task_family: str
    container_name: str
    container_port: int
    target_group_arn: str
    health_check_path: str
    security_group_id: str
    execution_role_arn: str
    task_role_arn: str
    log_group_name: str
    metric_filters: tuple[MetricFilterEstate, ...]
    alarm_names: tuple[str, ...]
    deployment_alarm_names: tuple[str, ...]
    # env var -> ARN of the Secrets Manager secret the container reads it from: what the
    # execution role must be allowed to read, and what verify describes
    secret_arns: Mapping[str, str]
    # env var -> the container's exact valueFrom (core/value_from.py): the ARN, then the JSON
    # key and version when the stack names them; verify holds the task definition to it
    secret_value_froms: Mapping[str, str]
    # plain settings the task definition sets (names only: values are in the task definition)
    environment_names: tuple[str, ...]
    discovery_name: str
    # what the service reaches (its contract's dependencies), by name: see Estate.dependencies
    dependencies: tuple[str, ...]
    # the console page of the service's CloudWatch dashboard (core/dashboard.py)
    dashboard_url: str
    # secure defaults the stack relaxed on purpose, exception -> reason (core/settings/exception_names.py);
    # the invariants read them here, so a relaxed default is a finding unless its reason is on record
    exceptions: Mapping[str, str]


@dataclass(frozen=True)
class DependencyEstate:
    """Something the services reach, and the rules that admit them."""

    name: str
    # The group the rules are on; None for a dependency reached over HTTPS without a rule.
    security_group_id: str | None
    port: int
    # label -> security group admitted on the port (the stack's services by key, extra consumers by label)
    consumer_security_group_ids: Mapping[str, str]


@dataclass(frozen=True)
class Estate:
    stack: str
    region: str
    account_id: str
    cluster_name: str
    cluster_arn: str
    alarm_topic_arn: str
    services: tuple[ServiceEstate, ...]
    dependencies: tuple[DependencyEstate, ...]
    # load-balancer defaults the stack relaxed on purpose, exception -> reason (tls_policy_not_allowed)
    load_balancer_exceptions: Mapping[str, str]
    # The key the log groups and the alarm topic are encrypted with (settings' observability_kms_key_arn).
    # Written only when the stack sets one (output_of): a stack without one renders as before. The
    # invariants read it: when it is declared, every log group and the topic must use it.
    observability_kms_key_arn: str | None = None

    def service(self, key: str) -> ServiceEstate:
        for service in self.services:
            if service.key == key:
                return service
        raise KeyError(key)

    def dependency(self, name: str) -> DependencyEstate:
        for dependency in self.dependencies:
            if dependency.name == name:
                return dependency
        raise KeyError(name)

    @classmethod
    def from_outputs(cls, outputs: Any) -> Estate:
        """Read `pulumi stack output --json` (the whole object, or its `estate` value).

        Every field is checked against its declared type (core/dataclass_reader.py), so the
        live tools never meet a null, a number or a list where they expect text."""
        if isinstance(outputs, Mapping) and OUTPUT_NAME in outputs:
            outputs = outputs[OUTPUT_NAME]
        if not isinstance(outputs, Mapping):
            raise EstateError(
                f"the stack outputs have no '{OUTPUT_NAME}' object; was the stack deployed by this program (pulumi up)?"
            )
        try:
            estate = dataclass_reader.read(cls, outputs, OUTPUT_NAME)
        except dataclass_reader.ShapeError as error:
            raise EstateError(f"{error}; redeploy with this program's version (pulumi up)") from None
        # The settings refuse a stack without services, so no deployed stack has none: these
        # outputs are not (or no longer) this program's, and there would be nothing to check.
        if not estate.services:
            raise EstateError(
                f"{OUTPUT_NAME}.services is empty: the outputs describe no service to check; "
                "pass the outputs of a stack this program deployed (pulumi stack output --json)"
            )
        repeated = sorted(key for key, count in Counter(s.key for s in estate.services).items() if count > 1)
        if repeated:
            raise EstateError(
                f"{OUTPUT_NAME}.services names {', '.join(repeated)} more than once; "
                "pass the outputs as `pulumi stack output --json` wrote them"
            )
        return estate


def output_of(shape: type[DataclassInstance], **values: object) -> dict[str, object]:
    """The stack output the program writes for `shape` (one of the dataclasses above): its
    fields, in its order, with `values`. A dict, not the dataclass: the dataclasses type what
    the live tools read back (text), while the program's values are mostly Pulumi Outputs,
    text only once deployed. Tuples become lists, as JSON has them. A field `values` lacks,
    or a name `shape` does not have, is a bug in the program: TypeError, naming them.
    A field whose default is None and whose value is None is left out: an optional fact is
    written only when the stack has it, so adding one does not change the outputs of a stack
    without it (and the live tools read the missing field as its default)."""
    names = [f.name for f in fields(shape)]
    optional = {f.name for f in fields(shape) if f.default is None}
    missing = [name for name in names if name not in values]
    unknown = sorted(set(values) - set(names))
    if missing or unknown:
        wrong = ([f"lacks {', '.join(missing)}"] if missing else []) + (
            [f"has {', '.join(unknown)}, which it does not declare"] if unknown else []
        )
        raise TypeError(f"the {shape.__name__} output {' and '.join(wrong)}")
    return {name: _plain(values[name]) for name in names if not (name in optional and values[name] is None)}


def _plain(value: object) -> object:
    """Mappings -> dicts and tuples -> lists, per level; anything else (a Pulumi Output, a
    number) as it is: an Output must not be deep-copied or looked into."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
