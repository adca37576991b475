"""The stack outputs: how the live tools find the estate again.

The program writes one stack output, `estate`, shaped by these dataclasses;
`verify`, the deploy gate and the runbook commands read it back with
`Estate.from_outputs` (from `pulumi stack output --json`, or a file of it).
Field names are written here once, for both sides.

Pure: no Pulumi, no boto3.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

# Any of the dataclasses below, as `_build` makes them (DataclassInstance is typeshed's
# name for "a dataclass", known to the type checker only).
Shape = TypeVar("Shape", bound="DataclassInstance")

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
    # env var -> ARN of the Secrets Manager secret the container reads it from
    secret_arns: Mapping[str, str]
    # plain settings the task definition sets (names only: values are in the task definition)
    environment_names: tuple[str, ...]
    discovery_name: str
    uses_redis: bool


@dataclass(frozen=True)
class RedisEstate:
    security_group_id: str
    port: int
    # label -> security group admitted on the Redis port
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
    redis: RedisEstate | None

    def service(self, key: str) -> ServiceEstate:
        for service in self.services:
            if service.key == key:
                return service
        raise KeyError(key)

    @classmethod
    def from_outputs(cls, outputs: Any) -> Estate:
        """Read `pulumi stack output --json` (the whole object, or its `estate` value)."""
        if isinstance(outputs, Mapping) and OUTPUT_NAME in outputs:
            outputs = outputs[OUTPUT_NAME]
        if not isinstance(outputs, Mapping):
            raise EstateError(
                f"the stack outputs have no '{OUTPUT_NAME}' object; was the stack deployed by this program (pulumi up)?"
            )
        estate = _build(cls, outputs, OUTPUT_NAME)
        return estate


def output_of(shape: type[DataclassInstance], **values: object) -> dict[str, object]:
    """The stack output the program writes for `shape` (one of the dataclasses above): its
    fields, in its order, with `values`. A dict, not the dataclass: the dataclasses type what
    the live tools read back (text), while the program's values are mostly Pulumi Outputs,
    text only once deployed. Tuples become lists, as JSON has them. A field `values` lacks,
    or a name `shape` does not have, is a bug in the program: TypeError, naming them."""
    names = [f.name for f in fields(shape)]
    missing = [name for name in names if name not in values]
    unknown = sorted(set(values) - set(names))
    if missing or unknown:
        wrong = ([f"lacks {', '.join(missing)}"] if missing else []) + (
            [f"has {', '.join(unknown)}, which it does not declare"] if unknown else []
        )
        raise TypeError(f"the {shape.__name__} output {' and '.join(wrong)}")
    return {name: _plain(values[name]) for name in names}


def _plain(value: object) -> object:
    """Mappings -> dicts and tuples -> lists, per level; anything else (a Pulumi Output, a
    number) as it is: an Output must not be deep-copied or looked into."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


_NESTED: dict[str, type[DataclassInstance]] = {
    "services": ServiceEstate,
    "metric_filters": MetricFilterEstate,
    "redis": RedisEstate,
}


def _build(cls: type[Shape], data: Mapping[str, Any], where: str) -> Shape:
    missing = [f.name for f in fields(cls) if f.name not in data]
    if missing:
        raise EstateError(f"{where} lacks {', '.join(missing)}; redeploy with this program's version (pulumi up)")
    values: dict[str, Any] = {}
    for f in fields(cls):
        raw = data[f.name]
        nested = _NESTED.get(f.name)
        if nested is not None and raw is None and f.name == "redis":
            values[f.name] = None
        elif nested is not None and isinstance(raw, list):
            values[f.name] = tuple(
                _build(nested, item, f"{where}.{f.name}[{i}]")
                for i, item in enumerate(raw)
                if _is_mapping(item, f"{where}.{f.name}[{i}]")
            )
        elif nested is not None and isinstance(raw, Mapping):
            values[f.name] = _build(nested, raw, f"{where}.{f.name}")
        elif nested is not None:
            raise EstateError(f"{where}.{f.name} is malformed")
        elif isinstance(raw, list):
            values[f.name] = tuple(raw)
        else:
            values[f.name] = raw
    return cls(**values)


def _is_mapping(item: Any, where: str) -> bool:
    if not isinstance(item, Mapping):
        raise EstateError(f"{where} is malformed")
    return True
