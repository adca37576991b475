"""policy/records.py: the engine's resources, as the SDK hands them over, become the core's records.

GIVEN props the way the SDK builds them for a stack policy (a protobuf Struct from the
engine, deserialized, behind the unknown-checking proxy)
THEN every value reads as sent, numbers as the whole numbers they were, and each of the
engine's unknown markers - at any depth - is the core's UNKNOWN, without the proxy
raising on the first one.
"""

from __future__ import annotations

import pytest
from google.protobuf import json_format, struct_pb2
from pulumi_policy import PolicyCustomTimeouts, PolicyResource, PolicyResourceOptions
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

from core.resource_graph import UNKNOWN
from policy.records import UNKNOWN_MARKERS, plain, record_of


def as_the_engine_sends(props: dict) -> PolicyResource:
    """A PolicyResource built the way the SDK's AnalyzeStack builds it."""
    struct = struct_pb2.Struct()
    struct.update(props)
    deserialized = deserialize_properties(json_format.MessageToDict(struct))
    options = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])
    return PolicyResource(
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        unknown_checking_proxy(deserialized),
        "urn:pulumi:development::hokusai::aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule::redis-from-api",
        "redis-from-api",
        options,
        None,
        None,
        [],
        {},
    )


def test_values_read_as_sent_and_whole_numbers_stay_whole():
    resource = as_the_engine_sends(
        {"fromPort": 6379, "toPort": 6379, "ipProtocol": "tcp", "ratio": 0.5, "tags": {"team": "platform"}}
    )
    record = record_of(resource)
    assert record.type == resource.resource_type and record.name == "redis-from-api"
    assert record.inputs == {
        "fromPort": 6379,
        "toPort": 6379,
        "ipProtocol": "tcp",
        "ratio": 0.5,
        "tags": {"team": "platform"},
    }
    assert isinstance(record.inputs["fromPort"], int)
    assert record.outputs == record.inputs, "a stack policy sees one set of props: the outputs"


@pytest.mark.parametrize("marker", sorted(UNKNOWN_MARKERS))
def test_each_unknown_marker_at_any_depth_is_unknown(marker):
    resource = as_the_engine_sends(
        {"securityGroupId": marker, "alarms": {"alarmNames": ["known", marker]}, "list": [{"deep": marker}]}
    )
    with pytest.raises(UnknownValueError):
        resource.props["securityGroupId"]  # what the SDK's proxy does, and records avoid
    record = record_of(resource)
    assert record.inputs["securityGroupId"] is UNKNOWN
    assert record.inputs["alarms"]["alarmNames"] == ["known", UNKNOWN]
    assert record.inputs["list"][0]["deep"] is UNKNOWN


def test_plain_leaves_other_strings_and_values_alone():
    assert plain({"a": "04da6b54", "b": None, "c": True, "d": [1.0, 2.5]}) == {
        "a": "04da6b54",
        "b": None,
        "c": True,
        "d": [1, 2.5],
    }
