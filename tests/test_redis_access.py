"""Redis rules: every consumer's security group is admitted on the Redis port, by reference."""

from __future__ import annotations

import pytest

from core.contract import CONTRACTS
from tests.helpers import by_type, each_stack, rendered, run, stack_settings, with_every_contract

INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"


def redis_rules(result):
    redis_group = result.outputs["redis"]["security_group_id"]
    return {r.name: r.inputs for r in by_type(result, INGRESS) if r.inputs["securityGroupId"] == redis_group}


@each_stack
def test_each_consumer_is_admitted_into_redis_on_its_port_by_reference(stack):
    redis = stack_settings(stack).redis
    if redis is None:
        pytest.skip(f"{stack} has no Redis")
    result = rendered(stack)
    rules = redis_rules(result)
    consumers = {s["key"]: s["security_group_id"] for s in result.outputs["services"] if s["uses_redis"]}
    consumers.update(dict(redis.extra_consumers))
    assert set(rules) == {f"redis-from-{label}" for label in consumers}
    for label, group in consumers.items():
        rule = rules[f"redis-from-{label}"]
        assert rule["referencedSecurityGroupId"] == group
        assert (rule["fromPort"], rule["toPort"], rule["ipProtocol"]) == (redis.port, redis.port, "tcp")
        assert "cidrIpv4" not in rule


def test_extra_consumers_get_their_own_rule(dev_values):
    dev_values["hokusai:redis"]["extra_consumers"] = {"data-pipeline-ecs": "sg-0f1e2d3c4b5a69788"}
    rules = redis_rules(run(dev_values))
    assert rules["redis-from-data-pipeline-ecs"]["referencedSecurityGroupId"] == "sg-0f1e2d3c4b5a69788"
    assert rules["redis-from-data-pipeline-ecs"]["description"] == "redis_from_data_pipeline_ecs"


@pytest.mark.parametrize("service", [key for key, contract in CONTRACTS.items() if contract.uses_redis])
def test_an_extra_consumer_cannot_shadow_a_services_own_rule(dev_values, service):
    from core.settings import SettingsError
    from tests.helpers import load

    with_every_contract(dev_values)
    dev_values["hokusai:redis"]["extra_consumers"] = {service: "sg-0f1e2d3c4b5a69788"}
    with pytest.raises(SettingsError, match=f"named like the service {service}, whose own rule it would replace"):
        load(dev_values)


def test_only_the_services_whose_contract_uses_redis_are_admitted(dev_values):
    result = run(with_every_contract(dev_values))
    assert set(redis_rules(result)) == {f"redis-from-{key}" for key, c in CONTRACTS.items() if c.uses_redis}


def test_a_custom_redis_port_is_used(dev_values):
    dev_values["hokusai:redis"]["port"] = 6380
    (rule,) = redis_rules(run(dev_values)).values()
    assert (rule["fromPort"], rule["toPort"]) == (6380, 6380)
