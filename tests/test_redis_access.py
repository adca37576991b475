"""Redis rules: every consumer's security group is admitted on the Redis port, by reference."""

from __future__ import annotations

import pytest

from tests.helpers import by_type, run, with_mlflow

INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"


def redis_rules(result):
    redis_group = result.outputs["redis"]["security_group_id"]
    return {r.name: r.inputs for r in by_type(result, INGRESS) if r.inputs["securityGroupId"] == redis_group}


def test_the_api_security_group_is_admitted_into_redis_on_6379(dev_run):
    rules = redis_rules(dev_run)
    assert set(rules) == {"redis-from-api"}
    rule = rules["redis-from-api"]
    assert rule["referencedSecurityGroupId"] == dev_run.outputs["services"][0]["security_group_id"]
    assert (rule["fromPort"], rule["toPort"], rule["ipProtocol"]) == (6379, 6379, "tcp")
    assert "cidrIpv4" not in rule


def test_extra_consumers_get_their_own_rule(dev_values):
    dev_values["hokusai:redis"]["extra_consumers"] = {"data-pipeline-ecs": "sg-0f1e2d3c4b5a69788"}
    rules = redis_rules(run(dev_values))
    assert rules["redis-from-data-pipeline-ecs"]["referencedSecurityGroupId"] == "sg-0f1e2d3c4b5a69788"
    assert rules["redis-from-data-pipeline-ecs"]["description"] == "redis_from_data_pipeline_ecs"


def test_an_extra_consumer_cannot_shadow_a_services_own_rule(dev_values):
    from core.settings import SettingsError
    from tests.helpers import load

    dev_values["hokusai:redis"]["extra_consumers"] = {"api": "sg-0f1e2d3c4b5a69788"}
    with pytest.raises(SettingsError, match="named like the service api, whose own rule it would replace"):
        load(dev_values)


def test_a_service_that_does_not_use_redis_is_not_admitted(dev_values):
    result = run(with_mlflow(dev_values))
    assert set(redis_rules(result)) == {"redis-from-api"}


def test_a_custom_redis_port_is_used(dev_values):
    dev_values["hokusai:redis"]["port"] = 6380
    (rule,) = redis_rules(run(dev_values)).values()
    assert (rule["fromPort"], rule["toPort"]) == (6380, 6380)
