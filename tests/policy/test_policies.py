"""The pack's policies (policy/policies.py) over the stack as the engine shows it.

GIVEN the development stack rendered under the mocks, handed to every policy the way
the engine hands it (outputs with inputs, ids, the stack's own resource with `estate`,
props behind the SDK's unknown-checking proxy)
THEN no policy reports anything;
WHEN one invariant is broken in the graph (removed, or weakened)
THEN its policy reports it, naming the resource's URN, and the pack reports exactly
     what synth's checks report (one implementation, two runners);
WHEN it is a first preview (what AWS computes is not known yet)
THEN nothing is reported for what cannot be judged, and what can be judged still is.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable
from typing import Any

import pytest
from pulumi_policy import EnforcementLevel, Policy, StackValidationPolicy

from core.contract import API
from core.documents import ecs_exec_policy
from core.invariants import INVARIANTS
from core.resource_graph import Graph
from policy.policies import POLICIES, policy_for
from synth.checks import CHECKS, SYNTH_ONLY_CHECKS, check_graph, records_of
from synth.mocks import Registered
from tests import tiers
from tests.helpers import run, with_mlflow, with_new_load_balancer
from tests.policy.engine_view import drop, engine_resources, first_preview, first_preview_estate, urn, violations

TASK = "aws:ecs/taskDefinition:TaskDefinition"
RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
SERVICE = "aws:ecs/service:Service"
Rendered = tuple[list[Registered], dict[str, Any]]


@pytest.fixture
def graph(dev_run) -> Rendered:
    """A mutable copy of the development graph: (resources, estate)."""
    return copy.deepcopy(dev_run.resources), copy.deepcopy(dev_run.outputs)


def first(resources: list[Registered], type_: str, name: str | None = None) -> Registered:
    return next(r for r in resources if r.type == type_ and (name is None or r.name == name))


def api_task(resources: list[Registered]) -> Registered:
    """The API's task definition (by its container), whatever order the engine registered them in."""
    return next(
        r
        for r in resources
        if r.type == TASK and json.loads(r.inputs["containerDefinitions"])[0]["name"] == API.container_name
    )


def edit_container(resources: list[Registered], change: Callable[[dict], Any]) -> None:
    task = api_task(resources)
    definitions = json.loads(task.inputs["containerDefinitions"])
    change(definitions[0])
    task.inputs["containerDefinitions"] = json.dumps(definitions)


def edit_statement(resources: list[Registered], change: Callable[[dict], Any]) -> None:
    policy = first(resources, ROLE_POLICY, "api-roles-execution-policy")
    document = json.loads(policy.inputs["policy"])
    change(next(s for s in document["Statement"] if s["Sid"] == "ReadDeclaredSecrets"))
    policy.inputs["policy"] = json.dumps(document)


def remove(resources: list[Registered], type_: str, name: str) -> None:
    resources.remove(first(resources, type_, name))


def world_rule(resources: list[Registered], port: int) -> None:
    rule = copy.deepcopy(first(resources, RULE, "api-from-alb-0"))
    rule.name = "hand-made"
    drop(rule, "referencedSecurityGroupId")
    rule.inputs.update(cidrIpv4="0.0.0.0/0", fromPort=port, toPort=port)
    resources.append(rule)


def attach_managed_policy(resources: list[Registered]) -> None:
    role = first(resources, "aws:iam/role:Role", "api-roles-execution")
    resources.append(
        Registered(
            "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
            "api-roles-execution-admin",
            {"role": role.id, "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
            {},
            "attachment",
            True,
        )
    )


def grant_ecs_exec(resources: list[Registered]) -> None:
    """The task role given ECS Exec's channels while its service keeps ECS Exec off."""
    role = first(resources, "aws:iam/role:Role", "api-roles-task")
    document = ecs_exec_policy("arn:aws:logs:us-east-1:123456789012:log-group:/ecs/hokusai-api-development")
    resources.append(
        Registered(ROLE_POLICY, "api-roles-ecs-exec", {"role": role.id, "policy": json.dumps(document)}, {}, "x", True)
    )


def unexcused(estate: dict[str, Any], exception: str, resources: list[Registered], change: Callable[[dict], Any]):
    """The estate output without the API's reason for `exception`, and its container changed."""
    next(s for s in estate["services"] if s["key"] == "api")["exceptions"].pop(exception, None)
    edit_container(resources, change)


OBSERVABILITY_KEY = "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9"


def encrypted_but_one(resources: list[Registered], estate: dict[str, Any], other_key: str) -> None:
    """The stack declares the observability key and its resources carry it, but one log group
    carries `other_key` instead (a hand edit, or a component that took the wrong setting)."""
    estate["observability_kms_key_arn"] = OBSERVABILITY_KEY
    for resource in resources:
        if resource.type == "aws:cloudwatch/logGroup:LogGroup":
            resource.inputs["kmsKeyId"] = OBSERVABILITY_KEY
        elif resource.type == "aws:sns/topic:Topic":
            resource.inputs["kmsMasterKeyId"] = OBSERVABILITY_KEY
    first(resources, "aws:cloudwatch/logGroup:LogGroup").inputs["kmsKeyId"] = other_key


# (policy, what breaks it, words its violation must contain). Each invariant is removed and
# weakened at least once; tests/synth/test_checks.py breaks the same ones through synth.
BREAKAGES: list[tuple[str, Callable[[list[Registered], dict[str, Any]], Any], str]] = [
    (
        "secrets-only-through-secrets-list",
        lambda r, e: edit_container(
            r, lambda c: c.update(secrets=[s for s in c["secrets"] if s["name"] != "HUGGINGFACE_API_KEY"])
        ),
        "HUGGINGFACE_API_KEY is not in the container's secrets",
    ),
    (
        "secrets-only-through-secrets-list",
        lambda r, e: edit_container(
            r, lambda c: c["environment"].append({"name": "HUGGINGFACE_API_KEY", "value": "x"})
        ),
        "HUGGINGFACE_API_KEY is in plain environment",
    ),
    (
        "secrets-only-through-secrets-list",
        lambda r, e: edit_container(
            r, lambda c: c["secrets"][0].update(valueFrom="hokusai/development/api/secret-key")
        ),
        "is not a Secrets Manager ARN",
    ),
    (
        "execution-role-reads-exactly-its-secrets",
        lambda r, e: edit_statement(r, lambda s: s.update(Resource=s["Resource"][1:])),
        "which the task references",
    ),
    (
        "execution-role-reads-exactly-its-secrets",
        lambda r, e: edit_statement(
            r, lambda s: s["Resource"].append("arn:aws:secretsmanager:us-east-1:123456789012:secret:*")
        ),
        "on a wildcard",
    ),
    ("execution-role-reads-exactly-its-secrets", lambda r, e: attach_managed_policy(r), "managed policies attached"),
    ("no-world-open-ingress-except-alb", lambda r, e: world_rule(r, 8001), "is open to the world (0.0.0.0/0)"),
    ("no-world-open-ingress-except-alb", lambda r, e: world_rule(r, 443), "is not the ALB's 80/443"),
    (
        "no-world-open-ingress-except-alb",
        lambda r, e: first(r, RULE, "redis-from-api").inputs.update(cidrIpv4="10.0.0.0/16"),
        "admits CIDR 10.0.0.0/16",
    ),
    (
        "no-world-open-ingress-except-alb",
        lambda r, e: first(r, "aws:ec2/securityGroup:SecurityGroup").inputs.update(
            ingress=[{"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["0.0.0.0/0"]}]
        ),
        "has inline ingress rules",
    ),
    ("services-admit-only-the-load-balancer", lambda r, e: remove(r, RULE, "api-from-alb-0"), "nothing may reach"),
    (
        "services-admit-only-the-load-balancer",
        lambda r, e: first(r, RULE, "api-from-alb-0").inputs.update(fromPort=0, toPort=65535),
        "opens a port other than the container port",
    ),
    (
        "tasks-get-no-public-ip",
        lambda r, e: first(r, SERVICE).inputs["networkConfiguration"].update(assignPublicIp=True),
        "tasks get public IPs",
    ),
    (
        "dependencies-admit-every-consumer",
        lambda r, e: remove(r, RULE, "redis-from-api"),
        "redis_from_data_pipeline_ecs",
    ),
    (
        "dependencies-admit-every-consumer",
        lambda r, e: first(r, RULE, "postgres-from-api").inputs.update(fromPort=5433, toPort=5433),
        "reaches postgres but no rule admits its security group",
    ),
    (
        "dependencies-admit-every-consumer",
        lambda r, e: remove(r, EGRESS, "redis-from-api-egress"),
        "reaches redis but its security group lets nothing out",
    ),
    (
        "dependencies-admit-every-consumer",
        lambda r, e: e.update(dependencies=[d for d in e["dependencies"] if d["name"] != "redis"]),
        "reaches redis, which the stack does not describe",
    ),
    (
        "service-egress-is-narrow",
        lambda r, e: first(r, EGRESS, "api-egress").inputs.update(ipProtocol="-1", fromPort=None, toPort=None),
        "out to 0.0.0.0/0 on every port",
    ),
    (
        "service-egress-is-narrow",
        lambda r, e: remove(r, EGRESS, "api-egress"),
        "its tasks may not reach HTTPS (443)",
    ),
    (
        "deployments-roll-back",
        lambda r, e: first(r, SERVICE).inputs.update(deploymentCircuitBreaker={"enable": True, "rollback": False}),
        "circuit breaker does not roll back",
    ),
    (
        "deployments-roll-back",
        lambda r, e: first(r, SERVICE).inputs["alarms"].update(rollback=False),
        "deployment alarms do not roll back",
    ),
    (
        "deployments-roll-back",
        lambda r, e: first(r, SERVICE).inputs["alarms"].update(alarmNames=[]),
        "has no deployment alarms",
    ),
    (
        "failure-signatures-are-watched",
        lambda r, e: remove(
            r, "aws:cloudwatch/logMetricFilter:LogMetricFilter", "api-observability-filter-huggingface-token"
        ),
        'no metric filter counts "HuggingFace token not configured"',
    ),
    (
        "failure-signatures-are-watched",
        lambda r, e: remove(r, "aws:cloudwatch/metricAlarm:MetricAlarm", "api-observability-alarm-huggingface-token"),
        "nothing alarms on Hokusai/API/HuggingFaceTokenError",
    ),
    (
        "failure-signatures-are-watched",
        lambda r, e: first(
            r, "aws:cloudwatch/metricAlarm:MetricAlarm", "api-observability-alarm-http-5xx"
        ).inputs.update(alarmActions=[]),
        "notifies no one",
    ),
    (
        "failure-signatures-are-watched",
        lambda r, e: (
            first(r, SERVICE, "api-service")
            .inputs["alarms"]["alarmNames"]
            .remove("hokusai-api-development-huggingface-token")
        ),
        "is not a deployment alarm of its service",
    ),
    (
        "target-groups-are-tuned",
        lambda r, e: first(r, "aws:lb/targetGroup:TargetGroup").inputs.update(deregistrationDelay=300),
        "deregistration delay 300 s",
    ),
    (
        "target-groups-are-tuned",
        lambda r, e: first(r, "aws:lb/targetGroup:TargetGroup").inputs["healthCheck"].update(path="/"),
        "health check path is '/'",
    ),
    (
        "deployments-are-tuned",
        lambda r, e: first(r, SERVICE).inputs.update(deploymentMinimumHealthyPercent=50),
        "min healthy / max percent are not 100 / 200",
    ),
    (
        "task-role-allows-ecs-exec",
        lambda r, e: first(r, SERVICE).inputs.update(enableExecuteCommand=True),
        "does not allow ECS Exec",
    ),
    (
        "ecs-exec-only-where-declared",
        lambda r, e: first(r, SERVICE).inputs.update(enableExecuteCommand=True),
        "ECS Exec is on but the stack gives no reason",
    ),
    ("ecs-exec-only-where-declared", lambda r, e: grant_ecs_exec(r), "its service has ECS Exec off"),
    (
        "containers-have-read-only-root-filesystem",
        lambda r, e: edit_container(r, lambda c: c.update(readonlyRootFilesystem=False)),
        "root filesystem is writable",
    ),
    (
        "containers-have-read-only-root-filesystem",
        lambda r, e: edit_container(r, lambda c: c.update(mountPoints=[])),
        "/tmp is not mounted",
    ),
    (
        "containers-have-read-only-root-filesystem",
        lambda r, e: api_task(r).inputs.update(volumes=[]),
        "/tmp is mounted from a volume the task does not declare",
    ),
    (
        "https-listeners-use-an-allowed-tls-policy",
        lambda r, e: r.append(
            Registered(
                "aws:lb/listener:Listener",
                "lb-https",
                {"protocol": "HTTPS", "port": 443, "sslPolicy": "ELBSecurityPolicy-2016-08"},
                {},
                "listener",
                True,
            )
        ),
        "TLS policy ELBSecurityPolicy-2016-08 is not on the allow-list",
    ),
    (
        "images-are-pinned",
        lambda r, e: unexcused(e, "mutable_image_tag", r, lambda c: None),
        "is pinned by a tag, which can be pushed again",
    ),
    (
        "images-are-pinned",
        lambda r, e: edit_container(r, lambda c: c.update(image=c["image"].rsplit(":", 1)[0] + ":latest")),
        "uses the mutable tag 'latest'",
    ),
    (
        "containers-run-as-non-root",
        lambda r, e: unexcused(e, "run_as_root", r, lambda c: c.pop("user", None)),
        "sets no user",
    ),
    (
        "containers-run-as-non-root",
        lambda r, e: unexcused(e, "run_as_root", r, lambda c: c.update(user="0:1000")),
        "runs as root (user '0:1000')",
    ),
    (
        "logs-and-secrets-are-protected",
        lambda r, e: setattr(first(r, "aws:cloudwatch/logGroup:LogGroup"), "protect", False),
        "is not protected",
    ),
    (
        # Removed: the stack declares a key, and neither the log groups nor the topic carry it.
        "logs-and-alarm-topic-use-the-declared-key",
        lambda r, e: e.update(observability_kms_key_arn=OBSERVABILITY_KEY),
        "is not encrypted with the stack's observability key (kmsKeyId is (none",
    ),
    (
        # Weakened: every resource carries the key but one log group, which uses another.
        "logs-and-alarm-topic-use-the-declared-key",
        lambda r, e: encrypted_but_one(r, e, "arn:aws:kms:us-east-1:123456789012:key/another"),
        "kmsKeyId is arn:aws:kms:us-east-1:123456789012:key/another",
    ),
    (
        "logs-have-retention",
        lambda r, e: drop(first(r, "aws:cloudwatch/logGroup:LogGroup"), "retentionInDays"),
        "keeps logs forever",
    ),
]
BREAKAGE_IDS = [f"{policy}:{words[:40]}" for policy, _, words in BREAKAGES]


# --------------------------------------------------------------------------- #
# The pack is the core's registry
# --------------------------------------------------------------------------- #


def test_every_core_invariant_is_a_stack_policy_at_its_level():
    assert [p.name for p in POLICIES] == [i.name for i in INVARIANTS]
    for policy, invariant in zip(POLICIES, INVARIANTS, strict=True):
        assert isinstance(policy, StackValidationPolicy)
        assert policy.enforcement_level == EnforcementLevel(invariant.enforcement.value)
        assert invariant.description in policy.description and invariant.why in policy.description


def test_synth_runs_the_core_invariants_and_only_botocore_checks_besides():
    """A check added to synth alone would not reach the pack: it must be a core invariant."""
    extra = set(CHECKS) - {i.check for i in INVARIANTS}
    assert extra == set(SYNTH_ONLY_CHECKS)
    assert {i.check for i in INVARIANTS} <= set(CHECKS)


def test_every_policy_has_a_breakage_that_it_reports():
    assert {policy for policy, _, _ in BREAKAGES} == {i.name for i in INVARIANTS}


# --------------------------------------------------------------------------- #
# The development stack, whole and broken
# --------------------------------------------------------------------------- #


def test_the_development_stack_breaks_no_policy(graph):
    assert violations(engine_resources(*graph)) == []


@tiers.renders
def test_a_two_service_stack_with_its_own_load_balancer_breaks_no_policy_nor_in_its_first_preview(dev_values):
    """Every service, and a load balancer the stack creates (its world-open 80/443 rules)."""
    two = run(with_new_load_balancer(with_mlflow(dev_values)))
    assert {s["key"] for s in two.outputs["services"]} == {"api", "mlflow"}
    assert violations(engine_resources(two.resources, two.outputs)) == []
    assert violations(preview_of((two.resources, two.outputs))) == []


def its_policy(name: str) -> Policy:
    (policy,) = [p for p in POLICIES if p.name == name]
    return policy


@pytest.mark.parametrize("policy, breaks, words", BREAKAGES, ids=BREAKAGE_IDS)
def test_a_broken_invariant_is_reported_by_its_policy_on_the_resource_at_fault(graph, policy, breaks, words):
    breaks(*graph)
    # Its policy alone: what the other policies say of the same breakage is the next test's.
    found = violations(engine_resources(*graph), policies=[its_policy(policy)])
    mine = [(message, where) for name, message, where in found if name == policy]
    assert any(words in message for message, _ in mine), (policy, words, found)
    names = {r.name: r.type for r in graph[0]}
    for message, where in mine:
        at_fault = message.split(":", 1)[0]
        assert where == urn(names[at_fault], at_fault), (message, where)


@pytest.mark.parametrize("policy, breaks, words", BREAKAGES, ids=BREAKAGE_IDS)
@tiers.exhaustive  # the whole pack once per breakage
def test_the_pack_reports_exactly_what_synth_reports(graph, policy, breaks, words):
    breaks(*graph)
    synth_only = Graph(records_of(*graph))
    not_in_pack = {f for check in SYNTH_ONLY_CHECKS for f in check(synth_only)}
    from_synth = {f"{f.resource}: {f.what}" for f in check_graph(*graph) if f not in not_in_pack}
    from_pack = {message for _, message, _ in violations(engine_resources(*graph))}
    assert from_pack == from_synth


def test_a_finding_on_a_name_two_resources_share_has_no_urn(graph):
    resources, estate = graph
    remove(resources, RULE, "redis-from-api")
    twin = copy.deepcopy(first(resources, "aws:sns/topic:Topic"))
    twin.name = "api-service"  # the same logical name as the ECS service, under another type
    resources.append(twin)
    found = [
        (m, u)
        for name, m, u in violations(engine_resources(resources, estate))
        if name == "dependencies-admit-every-consumer"
    ]
    assert found and all(where is None for _, where in found), found


def test_a_policy_whose_check_breaks_reports_that_instead_of_crashing_the_preview(graph):
    def broken(_graph):
        raise KeyError("loadBalancers")

    invariant = next(i for i in INVARIANTS if i.name == "dependencies-admit-every-consumer")
    twin = dataclasses.replace(invariant, check=broken)
    ((name, message, where),) = violations(engine_resources(*graph), policies=[policy_for(twin)])
    assert name == invariant.name and where is None
    assert "could not run (KeyError: 'loadBalancers')" in message and "make synth" in message


# --------------------------------------------------------------------------- #
# A first preview: what AWS computes is unknown
# --------------------------------------------------------------------------- #


def preview_of(graph: Rendered):
    resources, estate = graph
    return engine_resources(resources, first_preview_estate(resources, estate), first_preview(resources))


def test_a_first_preview_breaks_no_policy(graph):
    assert violations(preview_of(graph)) == []


@pytest.mark.parametrize(
    "policy, breaks, words",
    [b for b in BREAKAGES if b[0] in ("secrets-only-through-secrets-list", "deployments-roll-back")]
    + [b for b in BREAKAGES if "no metric filter counts" in b[2] or "open to the world" in b[2]],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_a_first_preview_still_reports_what_it_can_judge(graph, policy, breaks, words):
    """The container definitions, the circuit breaker, a filter's log group, a world-open
    rule's ports: all known before anything exists, so judged in the first preview."""
    breaks(*graph)
    found = violations(preview_of(graph), policies=[its_policy(policy)])
    assert any(name == policy and words in message for name, message, _ in found), found


def test_a_first_preview_cannot_tell_a_missing_redis_rule(graph):
    """The service's group does not exist yet, so no rule can be matched to it: nothing is
    reported (the next preview, or `make synth` in CI, judges it)."""
    remove(graph[0], RULE, "redis-from-api")
    assert [v for v in violations(preview_of(graph)) if v[0] == "dependencies-admit-every-consumer"] == []
