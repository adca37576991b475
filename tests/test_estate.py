"""The `estate` stack output: written by the program, read back by the live tools."""

from __future__ import annotations

import copy

import pytest

from core.estate import Estate, EstateError


def test_the_rendered_outputs_read_back_as_an_estate(dev_run):
    estate = Estate.from_outputs({"estate": dev_run.outputs})  # `pulumi stack output --json` shape
    api = estate.service("api")
    assert (estate.cluster_name, api.service_name, api.container_port) == (
        "hokusai-development",
        "hokusai-api-development",
        8001,
    )
    assert api.metric_filters[0].metric_name == "HuggingFaceTokenError"
    assert estate.redis.consumer_security_group_ids == {"api": api.security_group_id}
    assert Estate.from_outputs(dev_run.outputs) == estate  # the bare `estate` value too


def test_outputs_of_another_program_are_refused_with_the_fix():
    with pytest.raises(EstateError, match="pulumi up"):
        Estate.from_outputs({"something": 1})


def test_a_missing_field_is_named(dev_run):
    outputs = copy.deepcopy(dev_run.outputs)
    del outputs["services"][0]["task_definition_arn"]
    with pytest.raises(EstateError, match=r"estate.services\[0\] lacks task_definition_arn"):
        Estate.from_outputs(outputs)


def test_a_malformed_service_list_is_refused(dev_run):
    outputs = copy.deepcopy(dev_run.outputs)
    outputs["services"] = ["api"]
    with pytest.raises(EstateError, match="malformed"):
        Estate.from_outputs(outputs)
