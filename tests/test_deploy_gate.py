"""The deploy gate: in the graph, and its logic against moto (a rolled-back
deployment must fail `pulumi up`, naming why the tasks stopped), and against a
stub ECS where moto cannot produce the shape (COMPLETED with tasks missing)."""

from __future__ import annotations

import base64
import json
import subprocess
import sys

import pulumi
import pytest
from moto.sts.models import sts_backends

from core import naming
from core.deployment_key import DEPLOYMENT_INPUTS, deployment_key
from infra import deploy_gate
from infra.deploy_gate import DeployGateProvider
from synth.fake_estate import FAILURES
from synth.program import PROJECT_DIR
from tests import tiers
from tests.ecs_stubs import T1, T2, ScriptedEcs, completed
from tests.helpers import (
    by_type,
    changes_config,
    each_service,
    each_stack,
    ecs_service,
    of_service,
    rendered,
    run,
    run_as,
    service_keys,
    stack_settings,
    stack_values,
    task_definition,
)

DYNAMIC = "pulumi-python:dynamic:Resource"


def gate_props(fake, **overrides):
    props = {
        "region": "us-east-1",
        "cluster": fake.estate["cluster_name"],
        "service_name": fake.api["service_name"],
        "task_definition_arn": fake.api["task_definition_arn"],
        "deployment_key": "k1",
        "timeout_seconds": 30,
        "poll_seconds": 0,
        "aws_profile": None,
        "aws_assume_roles": [],
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


@tiers.renders
def test_the_gate_can_be_switched_off(dev_values):
    dev_values["hokusai:deploy_gate"] = {"enabled": False}
    assert by_type(run(dev_values), DYNAMIC) == []


@tiers.process
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


def test_a_stale_service_fails_the_gate_once_the_timeout_passes(fake):
    """Stale may be a deployment not started yet, so the gate waits; at its deadline it fails."""
    FAILURES["stale-revision"](fake)
    family = fake.api["task_family"]
    with pytest.raises(
        Exception, match=f"timed out after 0 s: the service runs {family}:1, not the declared {family}:2"
    ):
        DeployGateProvider().update(fake.api["service_name"], {}, gate_props(fake, timeout_seconds=0))


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
        ("deployment_key", True),
        ("task_definition_arn", True),
        ("service_name", True),
        ("cluster", True),
        ("timeout_seconds", False),
        ("poll_seconds", False),
        ("aws_profile", False),
        ("aws_assume_roles", False),
        ("deployment_id", False),
        ("__provider", False),
    ],
)
def test_only_a_new_deployment_reruns_the_gate(key, changes):
    olds = {
        "deployment_key": "k1",
        "task_definition_arn": "t:1",
        "service_name": "s",
        "cluster": "c",
        "timeout_seconds": 900,
        "poll_seconds": 15,
        "aws_profile": "deploy",
        "aws_assume_roles": [],
        "deployment_id": "ecs-svc/1",
        "__provider": "x",
    }
    news = {**olds, key: json.dumps([olds[key]])}
    assert DeployGateProvider().diff("s", olds, news).changes is changes


# --------------------------------------------------------------------------- #
# What reruns it: every input of the service that starts a deployment
# --------------------------------------------------------------------------- #


def gate_and_service(run_, service):
    """One service's deploy gate and its ECS service in a rendered stack."""
    (gate,) = of_service(run_, service, DYNAMIC)
    return gate, ecs_service(run_, service)


def gates(run_) -> list:
    return by_type(run_, DYNAMIC)


def requires_gates(stack) -> None:
    if not stack_settings(stack).deploy_gate.enabled:
        pytest.skip(f"{stack} has the deploy gate off")


@each_service
def test_the_gate_key_is_the_digest_of_every_deployment_input_the_service_gets(stack, service):
    """Recomputed from what the service itself was given: an input that starts a deployment
    but is set on the service outside infra/service.py's deployment_inputs fails this."""
    requires_gates(stack)
    gate, ecs = gate_and_service(rendered(stack), service)
    given = {name: ecs.inputs[name] for name in DEPLOYMENT_INPUTS if name in ecs.inputs}
    assert {"taskDefinition", "networkConfiguration", "loadBalancers", "serviceRegistries"} <= set(given)
    assert gate.inputs["deployment_key"] == deployment_key(given)
    # ... and the digest sees each of them: leaving one out gives another key.
    for name in given:
        assert deployment_key({k: v for k, v in given.items() if k != name}) != gate.inputs["deployment_key"], name


def rerun_with(stack, change) -> list[tuple[str, dict, dict]]:
    """(service, its gate's inputs before, after) with `change` made to a copy of the stack's config."""
    requires_gates(stack)
    values = stack_values(stack)
    change(values)
    before, after = rendered(stack), run_as(stack, values)
    return [
        (service, dict(gate_and_service(before, service)[0].inputs), dict(gate_and_service(after, service)[0].inputs))
        for service in service_keys(stack)
    ]


@each_stack
@changes_config
@tiers.renders
def test_a_network_only_change_reruns_every_gate(stack):
    def another_subnet(values):
        subnets = values["hokusai:network"]["private_subnet_ids"]
        subnets[-1] = "subnet-0a1b2c3d4e5f6fff9"

    for service, before, after in rerun_with(stack, another_subnet):
        assert after["task_definition_arn"] == before["task_definition_arn"], service
        assert after["deployment_key"] != before["deployment_key"], service
        assert DeployGateProvider().diff("s", before, after).changes is True, service


def _another_desired_count(config: dict) -> int:
    """A desired count other than the service's that its autoscaling range (if declared) admits
    (the range widened by one when it admits only the current count)."""
    desired = int(config.get("desired_count", 1))
    scaling = config.get("autoscaling")
    if scaling and "min" in scaling and "max" in scaling:
        others = [n for n in range(int(scaling["min"]), int(scaling["max"]) + 1) if n != desired]
        if not others:  # a fixed count (min = max): widen the range, which starts no deployment either
            scaling["max"] = int(scaling["max"]) + 1
            return int(scaling["max"])
        return others[0]
    return desired + 1


@each_stack
@changes_config
@tiers.renders
def test_a_change_that_starts_no_deployment_does_not_rerun_the_gate(stack):
    def scale_and_keep_logs_longer(values):
        for config in values["hokusai:services"].values():
            config["desired_count"] = _another_desired_count(config)  # autoscaling owns it; no deployment
        values["hokusai:log_retention_days"] = 90 if values.get("hokusai:log_retention_days") != 90 else 60

    for service, before, after in rerun_with(stack, scale_and_keep_logs_longer):
        assert DeployGateProvider().diff("s", before, after).changes is False, service


@each_stack
@changes_config
@tiers.renders
def test_subnets_listed_in_another_order_are_no_change(stack):
    for service, before, after in rerun_with(stack, lambda v: v["hokusai:network"]["private_subnet_ids"].reverse()):
        assert after["deployment_key"] == before["deployment_key"], service


# --------------------------------------------------------------------------- #
# How it reaches AWS: as the stack's provider does
# --------------------------------------------------------------------------- #

DEPLOYER = "arn:aws:iam::123456789012:role/hokusai-deployer"


@pytest.mark.parametrize(
    "config",
    [
        {"aws:assumeRoles": [{"roleArn": DEPLOYER, "sessionName": "deploy-42", "externalId": "hokusai-ci"}]},
        {"aws:assumeRole": {"roleArn": DEPLOYER, "sessionName": "deploy-42", "externalId": "hokusai-ci"}},
    ],
)
@tiers.renders
def test_the_gate_gets_the_providers_role_and_profile(dev_values, config):
    dev_values.update(config, **{"aws:profile": "hokusai-dev"})
    found = gates(run(dev_values))
    assert found
    for gate in found:
        assert gate.inputs["aws_profile"] == "hokusai-dev"
        assert gate.inputs["aws_assume_roles"] == [
            {"role_arn": DEPLOYER, "session_name": "deploy-42", "external_id": "hokusai-ci"}
        ]


@each_service
def test_without_provider_config_the_gate_uses_the_default_credentials(stack, service):
    requires_gates(stack)
    values = stack_values(stack)
    if any(name in values for name in ("aws:profile", "aws:assumeRole", "aws:assumeRoles")):
        pytest.skip(f"{stack} configures the provider's credentials")
    gate, _ = gate_and_service(rendered(stack), service)
    assert gate.inputs.get("aws_profile") is None and gate.inputs["aws_assume_roles"] == []


@pytest.mark.parametrize("key", ["aws:accessKey", "aws:assumeRoleWithWebIdentity", "aws:sharedCredentialsFiles"])
@tiers.renders
def test_credentials_the_gate_cannot_copy_stop_the_program_while_the_gate_is_on(dev_values, key):
    dev_values[key] = "something"
    with pytest.raises(pulumi.RunError, match=f"the deploy gate cannot use the AWS provider's {key}"):
        run(dev_values)
    dev_values["hokusai:deploy_gate"] = {"enabled": False}
    assert by_type(run(dev_values), DYNAMIC) == []


@tiers.renders
def test_a_malformed_role_stops_the_program_naming_it(dev_values):
    dev_values["aws:assumeRoles"] = [{"roleArn": "hokusai-deployer"}]
    with pytest.raises(
        pulumi.RunError, match=r"aws:assumeRoles\[0\]\.roleArn: 'hokusai-deployer' is not an IAM role ARN"
    ):
        run(dev_values)


def assumed_roles():
    return [(r.role_arn, r.session_name, r.external_id) for r in sts_backends["123456789012"]["aws"].assumed_roles]


def test_a_configured_role_is_assumed_with_sts_before_the_gate_looks(fake):
    roles = [
        {"role_arn": DEPLOYER, "session_name": "deploy-42", "external_id": "hokusai-ci"},
        {"role_arn": "arn:aws:iam::123456789012:role/hokusai-gate", "session_name": None, "external_id": None},
    ]
    result = DeployGateProvider().create(gate_props(fake, aws_assume_roles=roles))
    assert result.outs["rollout"] == "completed"
    assert assumed_roles() == [
        (DEPLOYER, "deploy-42", "hokusai-ci"),
        ("arn:aws:iam::123456789012:role/hokusai-gate", deploy_gate.DEFAULT_SESSION_NAME, None),
    ]


def test_without_a_role_nothing_is_assumed(fake):
    DeployGateProvider().create(gate_props(fake))
    assert assumed_roles() == []


def test_a_profile_missing_where_pulumi_runs_is_named(fake):
    with pytest.raises(Exception, match="the AWS profile 'hokusai-dev' \\(aws:profile\\) is not configured"):
        DeployGateProvider().create(gate_props(fake, aws_profile="hokusai-dev"))


# --------------------------------------------------------------------------- #
# Throttling, a deployment not started yet, tasks missing after COMPLETED
# --------------------------------------------------------------------------- #


class _Response:
    status_code = 400


def throttle(monkeypatch, times):
    """The gate's DescribeServices calls answer ThrottlingException `times` times (None: always)."""
    calls = []
    original = deploy_gate.aws_session

    def answer(**_):
        calls.append(1)
        if times is None or len(calls) <= times:
            return _Response(), {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}
        return None

    def session(props):
        built = original(props)
        built.events.register("before-call.ecs.DescribeServices", answer)
        return built

    monkeypatch.setattr(deploy_gate, "aws_session", session)
    return calls


def test_throttling_then_an_answer_within_the_deadline_passes_the_gate(fake, monkeypatch):
    calls = throttle(monkeypatch, times=3)
    assert DeployGateProvider().create(gate_props(fake)).outs["rollout"] == "completed"
    assert len(calls) == 4


def test_throttling_until_the_deadline_fails_the_gate_saying_so(fake, monkeypatch):
    throttle(monkeypatch, times=None)
    with pytest.raises(Exception) as caught:
        DeployGateProvider().create(gate_props(fake, timeout_seconds=0))
    message = str(caught.value)
    assert message.startswith(f"deploy gate: could not read the deployment of {fake.api['service_name']}: AWS answered")
    assert "ThrottlingException: Rate exceeded" in message and "make verify" in message


class StubSession:
    """Stands in for the gate's boto3 session: its ECS client answers a script."""

    def __init__(self, ecs):
        self.ecs = ecs

    def client(self, name, **_):
        assert name == "ecs"
        return self.ecs


# Props of a gate on the scripted service (no AWS behind it).
STUB_PROPS = {
    "region": "us-east-1",
    "cluster": "hokusai-development",
    "service_name": "hokusai-api-development",
    "task_definition_arn": T2,
    "deployment_key": "k1",
    "timeout_seconds": 30,
    "poll_seconds": 0,
    "aws_profile": None,
    "aws_assume_roles": [],
}


def stub_gate(monkeypatch, *script):
    ecs = ScriptedEcs(*script)
    monkeypatch.setattr(deploy_gate, "aws_session", lambda props: StubSession(ecs))
    return ecs


def test_completed_with_fewer_tasks_than_desired_fails_the_gate_naming_the_counts(monkeypatch):
    ecs = stub_gate(monkeypatch, completed(1, 2))
    with pytest.raises(
        Exception, match=r"timed out after 0 s: hokusai-api-development:152 rolled out, but only 1 of 2"
    ):
        DeployGateProvider().create({**STUB_PROPS, "timeout_seconds": 0})
    assert ecs.looks == 1


def test_the_gate_waits_for_a_deployment_that_has_not_started(monkeypatch):
    ecs = stub_gate(monkeypatch, completed(2, 2, td=T1, deployment_id="ecs-svc/1"), completed(2, 2))
    result = DeployGateProvider().create(STUB_PROPS)
    assert result.outs["deployment_id"] == "ecs-svc/2" and ecs.looks == 2


def test_an_update_waits_for_a_new_deployment_not_the_one_accepted_last_time(fake):
    """A network-only change keeps the revision; moto starts a new deployment on --force-new-deployment."""
    gate = DeployGateProvider()
    first = gate.create(gate_props(fake)).outs
    changed = gate_props(fake, deployment_key="k2", timeout_seconds=0)
    with pytest.raises(
        Exception, match=f"the new deployment has not started: the PRIMARY deployment is still {first['deployment_id']}"
    ):
        gate.update(fake.api["service_name"], first, changed)
    fake.client("ecs").update_service(
        cluster=fake.estate["cluster_name"], service=fake.api["service_name"], forceNewDeployment=True
    )
    second = gate.update(fake.api["service_name"], first, changed).outs
    assert second["rollout"] == "completed" and second["deployment_id"] != first["deployment_id"]
