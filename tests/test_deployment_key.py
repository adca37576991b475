"""core/deployment_key.py: one digest of the inputs that start an ECS deployment,
the same whether read from the program's arguments or from what the engine recorded."""

from __future__ import annotations

import copy

import pytest

from core.deployment_key import DEPLOYMENT_INPUTS, deployment_key

PYTHON_NAMES = {
    "task_definition": "arn:aws:ecs:us-east-1:123456789012:task-definition/hokusai-api-development:1",
    "network_configuration": {
        "subnets": ["subnet-a", "subnet-b"],
        "security_groups": ["sg-1"],
        "assign_public_ip": False,
    },
    "load_balancers": [{"target_group_arn": "arn:tg", "container_name": "api", "container_port": 8001}],
}
ENGINE_NAMES = {
    "taskDefinition": "arn:aws:ecs:us-east-1:123456789012:task-definition/hokusai-api-development:1",
    "networkConfiguration": {"subnets": ["subnet-b", "subnet-a"], "securityGroups": ["sg-1"], "assignPublicIp": False},
    "loadBalancers": [{"targetGroupArn": "arn:tg", "containerName": "api", "containerPort": 8001.0}],
}


def test_program_arguments_and_recorded_inputs_give_the_same_key():
    """Python names or engine names, a port as 8001 or 8001.0, subnets in any order: one deployment."""
    assert deployment_key(PYTHON_NAMES) == deployment_key(ENGINE_NAMES)


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d["network_configuration"]["subnets"].append("subnet-c"),
        lambda d: d["network_configuration"].update(security_groups=["sg-2"]),
        lambda d: d["load_balancers"][0].update(container_port=8002),
        lambda d: d.update(task_definition=d["task_definition"][:-1] + "2"),
        lambda d: d.update(platform_version="1.4.0"),
        lambda d: d.update(force_new_deployment=True),
    ],
)
def test_any_change_that_starts_a_deployment_changes_the_key(change):
    changed = copy.deepcopy(PYTHON_NAMES)
    change(changed)
    assert deployment_key(changed) != deployment_key(PYTHON_NAMES)


def test_an_input_that_starts_no_deployment_is_refused_rather_than_hashed():
    with pytest.raises(ValueError, match="not inputs that start an ECS deployment: desired_count"):
        deployment_key({**PYTHON_NAMES, "desired_count": 2})


def test_the_list_names_the_ecs_inputs_by_their_engine_names():
    assert "taskDefinition" in DEPLOYMENT_INPUTS and "desiredCount" not in DEPLOYMENT_INPUTS
    assert len(set(DEPLOYMENT_INPUTS)) == len(DEPLOYMENT_INPUTS)
