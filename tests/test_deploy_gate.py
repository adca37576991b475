"""The deploy gate: in the graph, and its logic against moto (a rolled-back
deployment must fail `pulumi up`, naming why the tasks stopped)."""

from __future__ import annotations

import base64
import json
import subprocess
import sys

import pytest

from core import naming
from infra.deploy_gate import DeployGateProvider
from synth.fake_estate import FAILURES
from synth.program import PROJECT_DIR
from tests.helpers import by_type, each_service, of_service, rendered, run, stack_settings, task_definition

DYNAMIC = "pulumi-python:dynamic:Resource"


def gate_props(fake, **overrides):
    props = {
        "region": "us-east-1",
        "cluster": fake.estate["cluster_name"],
        "service_name": fake.api["service_name"],
        "task_definition_arn": fake.api["task_definition_arn"],
        "timeout_seconds": 30,
        "poll_seconds": 0,
    }
    props.update(overrides)
    return props


# --------------------------------------------------------------------------- #
# In the graph
# --------------------------------------------------------------------------- #


@each_service
def test_each_service_has_a_gate_on_its_declared_revision(stack, service):
    result, settings = rendered(stack), stack_settings(stack)
    gates = of_service(result, service, DYNAMIC)
    if not settings.deploy_gate.enabled:
        assert gates == []
        return
    (gate,) = gates
    assert gate.name == f"{service}-deploy-gate"
    assert gate.inputs["task_definition_arn"] == task_definition(result, service).outputs["arn"]
    assert (gate.inputs["cluster"], gate.inputs["service_name"]) == (
        naming.cluster_name(stack),
        naming.service_name(service, stack),
    )
    assert gate.inputs["timeout_seconds"] == settings.deploy_gate.timeout_seconds


def test_the_gate_can_be_switched_off(dev_values):
    dev_values["hokusai:deploy_gate"] = {"enabled": False}
    assert by_type(run(dev_values), DYNAMIC) == []


def test_the_provider_is_stored_by_reference_so_the_checked_out_code_runs(dev_run):
    gate = by_type(dev_run, DYNAMIC)[0]
    pickled = base64.b64decode(next(v for k, v in gate.inputs["__provider"].items() if k == "value"))
    assert b"infra.deploy_gate" in pickled and b"DeployGateProvider" in pickled
    # ... and a fresh process started from the project directory can load and use it, as Pulumi's does.
    script = (
        "import base64, dill, sys; provider = dill.loads(base64.b64decode(sys.argv[1])); "
        "print(type(provider).__name__, provider.diff('x', {'task_definition_arn': 'a:1'}, "
        "{'task_definition_arn': 'a:2'}).changes)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, base64.b64encode(pickled).decode()],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stdout.strip() == "DeployGateProvider True", done.stderr


# --------------------------------------------------------------------------- #
# Its logic, against a copy of the estate in moto
# --------------------------------------------------------------------------- #


def test_a_completed_rollout_passes_the_gate(fake):
    result = DeployGateProvider().create(gate_props(fake))
    assert result.id == fake.api["service_name"]
    assert result.outs["rollout"] == "completed"
    assert result.outs["running_revision"] == f"{fake.api['task_family']}:1"


def test_a_rolled_back_deployment_fails_the_gate_naming_why(fake):
    FAILURES["rolled-back"](fake)
    with pytest.raises(Exception) as caught:
        DeployGateProvider().create(gate_props(fake))
    message, name, family = str(caught.value), fake.api["service_name"], fake.api["task_family"]
    assert message.startswith(
        f"deploy gate: {name}: the deployment of {family}:2 was rolled back; the service runs {family}:1"
    )
    assert "AccessDeniedException" in message
    assert "fix: the execution role may not read a secret the task references" in message
    assert "RUNBOOK.md" in message


def test_a_stale_service_fails_the_gate(fake):
    FAILURES["stale-revision"](fake)
    family = fake.api["task_family"]
    with pytest.raises(Exception, match=f"runs {family}:1, not the declared {family}:2"):
        DeployGateProvider().update(fake.api["service_name"], {}, gate_props(fake))


def test_a_deployment_that_does_not_settle_in_time_fails_the_gate(fake):
    FAILURES["running-below-desired"](fake)
    with pytest.raises(Exception, match=r"timed out after 0 s: .*still rolling out \(2/3 running\)"):
        DeployGateProvider().create(gate_props(fake, timeout_seconds=0))


def test_a_gate_that_cannot_look_fails_the_update_with_the_reason(fake, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    with pytest.raises(Exception, match=f"deploy gate: could not read the deployment of {fake.api['service_name']}"):
        DeployGateProvider().create(gate_props(fake))


@pytest.mark.parametrize(
    "key,changes",
    [
        ("task_definition_arn", True),
        ("service_name", True),
        ("cluster", True),
        ("timeout_seconds", False),
        ("poll_seconds", False),
        ("__provider", False),
    ],
)
def test_only_a_new_deployment_reruns_the_gate(key, changes):
    olds = {
        "task_definition_arn": "t:1",
        "service_name": "s",
        "cluster": "c",
        "timeout_seconds": 900,
        "poll_seconds": 15,
        "__provider": "x",
    }
    news = {**olds, key: json.dumps([olds[key]])}
    assert DeployGateProvider().diff("s", olds, news).changes is changes
