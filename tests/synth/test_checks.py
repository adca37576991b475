"""Each invariant can fail: break the rendered graph (or the program) on purpose
and watch the check name the problem. Every stack file's graph holds them all
(tests/test_main.py); here each service of each stack is broken in turn, and
what is broken (a secret, a setting, a signature) is read from its contract."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from core import naming
from core.contract import CONTRACTS, ServiceContract
from synth.checks import check_graph
from synth.mocks import Registered
from tests import tiers
from tests.filter_patterns import matches
from tests.helpers import (
    STACK_SERVICES,
    changes_config,
    each_service,
    rendered,
    run_as,
    stack_settings,
    stack_values,
    with_exception,
)

# Reads the stack files or the contract: run in every variant copy (tests/test_variants.py).
pytestmark = pytest.mark.reads_config

TASK = "aws:ecs/taskDefinition:TaskDefinition"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
FILTER = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


@dataclass
class Graph:
    """A mutable copy of one stack's graph, and the service a test breaks in it."""

    stack: str
    service: str
    resources: list[Registered]
    estate: dict

    @property
    def contract(self) -> ServiceContract:
        return CONTRACTS[self.service]

    @property
    def output(self) -> dict:
        """The service's entry of the estate output."""
        (found,) = [s for s in self.estate["services"] if s["key"] == self.service]
        return found

    def one(self, type_: str, where: Callable[[Registered], bool]) -> Registered:
        (found,) = [r for r in self.resources if r.type == type_ and where(r)]
        return found

    def named(self, type_: str, name: str) -> Registered:
        """One of the service's resources by its logical name's role (`roles-execution-policy`)."""
        return self.one(type_, lambda r: r.name == f"{self.service}-{name}")

    def findings(self) -> list[str]:
        return [str(f) for f in check_graph(self.resources, self.estate)]


@pytest.fixture(params=STACK_SERVICES, ids=[f"{stack}-{service}" for stack, service in STACK_SERVICES])
def graph(request) -> Graph:
    stack, service = request.param
    result = rendered(stack)
    return Graph(stack, service, copy.deepcopy(result.resources), copy.deepcopy(result.outputs))


def edit_container(graph: Graph, change: Callable[[dict], None]) -> None:
    task = graph.one(TASK, lambda r: r.inputs["family"] == graph.output["task_family"])
    definitions = json.loads(task.inputs["containerDefinitions"])
    change(definitions[0])
    task.inputs["containerDefinitions"] = json.dumps(definitions)


def edit_policy(graph: Graph, role: str, change: Callable[[dict], None]) -> None:
    policy = graph.named(ROLE_POLICY, role)
    document = json.loads(policy.inputs["policy"])
    change(document)
    policy.inputs["policy"] = json.dumps(document)


def read_secrets(document: dict) -> dict:
    return next(s for s in document["Statement"] if s["Sid"] == "ReadDeclaredSecrets")


def only(found: list[str], *fragments: str) -> None:
    assert found, "the check did not notice"
    for fragment in fragments:
        assert any(fragment in f for f in found), (fragment, found)


def requires_secrets(graph: Graph) -> None:
    if not graph.contract.secrets:
        pytest.skip(f"the {graph.service} contract requires no secret")


# --------------------------------------------------------------------------- #
# Secrets and settings in the task definition
# --------------------------------------------------------------------------- #


def test_each_secret_missing_from_the_task_definition_is_found_with_what_breaks(graph):
    requires_secrets(graph)
    for requirement in graph.contract.secrets:
        broken = copy.deepcopy(graph)
        edit_container(
            broken, lambda c, v=requirement.env_var: c.update(secrets=[s for s in c["secrets"] if s["name"] != v])
        )
        only(broken.findings(), f"{requirement.env_var} is not in the container's secrets", requirement.breaks)


def test_a_secret_in_plain_environment_is_found(graph):
    requires_secrets(graph)
    for variable in graph.contract.secret_names:
        broken = copy.deepcopy(graph)
        edit_container(broken, lambda c, v=variable: c["environment"].append({"name": v, "value": "x"}))
        only(broken.findings(), f"{variable} is in plain environment")


def test_a_value_from_that_is_not_a_secret_arn_is_found(graph):
    requires_secrets(graph)
    secret = graph.contract.secrets[0]
    edit_container(graph, lambda c: c["secrets"][0].update(valueFrom=secret.secret_name_for(graph.stack)))
    only(graph.findings(), "is not a Secrets Manager ARN")


def test_each_missing_required_setting_is_found(graph):
    for variable in graph.contract.setting_names:
        broken = copy.deepcopy(graph)
        edit_container(
            broken, lambda c, v=variable: c.update(environment=[e for e in c["environment"] if e["name"] != v])
        )
        only(broken.findings(), f"required setting {variable} is not set")


def test_a_container_definition_the_ecs_api_would_reject_is_found(graph):
    edit_container(graph, lambda c: c["logConfiguration"].update(logDriver="awslog"))
    edit_container(graph, lambda c: c.update(portMapping=c.pop("portMappings")))
    only(graph.findings(), "'awslog' is not one of", "portMapping")


# --------------------------------------------------------------------------- #
# IAM
# --------------------------------------------------------------------------- #


def test_a_secret_the_execution_role_may_not_read_is_found(graph):
    requires_secrets(graph)
    edit_policy(
        graph, "roles-execution-policy", lambda d: read_secrets(d).update(Resource=read_secrets(d)["Resource"][1:])
    )
    only(graph.findings(), "may not read arn:aws:secretsmanager", "ResourceInitializationError")


def test_a_wildcard_secret_grant_is_found(graph):
    requires_secrets(graph)
    account = graph.estate["account_id"]
    wildcard = f"arn:aws:secretsmanager:{graph.estate['region']}:{account}:secret:*"
    edit_policy(graph, "roles-execution-policy", lambda d: read_secrets(d)["Resource"].append(wildcard))
    only(graph.findings(), "wildcard")


def test_a_deny_on_the_execution_role_is_found(graph):
    """The grant is read with core/iam_policy.py: a Deny beside it takes the secret away."""
    requires_secrets(graph)
    name = graph.contract.secrets[0].secret_name_for(graph.stack)
    deny = {"Sid": "NoFirstSecret", "Effect": "Deny", "Action": "secretsmanager:Get*", "Resource": f"*{name}*"}
    edit_policy(graph, "roles-execution-policy", lambda d: d["Statement"].append(deny))
    only(graph.findings(), "may not read arn:aws:secretsmanager", name, "(denied)")


def test_a_grant_under_a_condition_the_check_cannot_evaluate_is_found(graph):
    requires_secrets(graph)
    condition = {"StringEquals": {"aws:SourceVpce": "vpce-0a1b2c3d"}}
    edit_policy(graph, "roles-execution-policy", lambda d: read_secrets(d).update(Condition=condition))
    only(graph.findings(), "cannot tell whether it may read", "aws:SourceVpce")


def exec_graph(graph: Graph) -> Graph:
    """The graph's stack rendered with ECS Exec on for the service, with its reason."""
    result = run_as(graph.stack, with_exception(stack_values(graph.stack), graph.service, "ecs_exec"))
    return Graph(graph.stack, graph.service, result.resources, result.outputs)


@tiers.renders
def test_ecs_exec_on_with_its_reason_holds_and_without_its_grant_is_found(graph):
    with_exec = exec_graph(graph)
    assert with_exec.findings() == []
    with_exec.resources.remove(with_exec.named(ROLE_POLICY, "roles-ecs-exec"))
    only(with_exec.findings(), "does not allow ECS Exec")


@tiers.renders
def test_ecs_exec_on_without_a_reason_is_found(graph):
    with_exec = exec_graph(graph)
    with_exec.output["exceptions"].pop("ecs_exec")
    only(with_exec.findings(), "ECS Exec is on but the stack gives no reason")


@tiers.renders
def test_an_ecs_exec_grant_without_ecs_exec_is_found(graph):
    with_exec = exec_graph(graph)
    service = with_exec.one("aws:ecs/service:Service", lambda r: r.inputs["name"] == with_exec.output["service_name"])
    service.inputs["enableExecuteCommand"] = False
    only(with_exec.findings(), "may open ECS Exec channels, but its service has ECS Exec off")


# --------------------------------------------------------------------------- #
# Containers: read-only root filesystem, writable paths mounted, not root
# --------------------------------------------------------------------------- #


def test_a_writable_root_filesystem_without_a_reason_is_found(graph):
    if "writable_root_filesystem" in graph.output["exceptions"]:
        graph.output["exceptions"].pop("writable_root_filesystem")
    edit_container(graph, lambda c: c.pop("readonlyRootFilesystem"))
    only(graph.findings(), "root filesystem is writable (readonlyRootFilesystem is None)")


def test_a_writable_root_filesystem_with_its_reason_is_not_a_finding(graph):
    graph.output["exceptions"]["writable_root_filesystem"] = "a test's reason"
    edit_container(graph, lambda c: c.update(readonlyRootFilesystem=False))
    assert not [f for f in graph.findings() if "root filesystem" in f]


@pytest.mark.parametrize(
    "change, expected",
    [
        (lambda c: c.update(mountPoints=[]), "is not mounted"),
        (lambda c: [m.update(readOnly=True) for m in c["mountPoints"]], "is mounted read-only"),
        (
            lambda c: [m.update(sourceVolume="elsewhere") for m in c["mountPoints"]],
            "is mounted from a volume the task does not declare",
        ),
    ],
    ids=["not mounted", "read-only", "undeclared volume"],
)
def test_each_writable_path_not_mounted_read_write_is_found(graph, change, expected):
    if not graph.contract.writable_paths:
        pytest.skip(f"the {graph.service} contract writes nowhere")
    edit_container(graph, change)
    only(graph.findings(), *(f"{path} {expected}" for path in graph.contract.writable_paths))


@pytest.mark.parametrize("user", ["0", "0:0", "root", "0:1000", "000", None])
def test_root_without_a_reason_is_found(graph, user):
    graph.output["exceptions"].pop("run_as_root", None)
    edit_container(graph, lambda c: c.update(user=user) if user else c.pop("user", None))
    only(graph.findings(), "sets no user" if user is None else f"runs as root (user {user!r})")


def test_root_with_its_reason_and_a_non_root_user_are_not_findings(graph):
    graph.output["exceptions"]["run_as_root"] = "a test's reason"
    edit_container(graph, lambda c: c.pop("user", None))
    assert not [f for f in graph.findings() if "root" in f]
    graph.output["exceptions"].pop("run_as_root")
    edit_container(graph, lambda c: c.update(user="1000:0"))
    assert not [f for f in graph.findings() if "root" in f]


# --------------------------------------------------------------------------- #
# Network
# --------------------------------------------------------------------------- #


def from_the_load_balancer(graph: Graph) -> Registered:
    group = graph.output["security_group_id"]
    return next(r for r in graph.resources if r.type == INGRESS and r.inputs["securityGroupId"] == group)


def test_a_world_open_rule_outside_the_alb_is_found(graph):
    rule = copy.deepcopy(from_the_load_balancer(graph))
    rule.name = "hand-made"
    rule.inputs.pop("referencedSecurityGroupId")
    rule.inputs["cidrIpv4"] = "0.0.0.0/0"
    graph.resources.append(rule)
    only(graph.findings(), "hand-made: is open to the world")


def test_a_service_nobody_can_reach_is_found(graph):
    group = graph.output["security_group_id"]
    graph.resources = [r for r in graph.resources if not (r.type == INGRESS and r.inputs["securityGroupId"] == group)]
    only(graph.findings(), "nothing may reach the service's port")


def reached_dependencies(graph: Graph) -> list[dict]:
    """The estate's entry of each dependency with a security group the service reaches."""
    found = [
        d
        for d in graph.estate["dependencies"]
        if d["security_group_id"] and graph.service in d["consumer_security_group_ids"]
    ]
    if not found:
        pytest.skip(f"{graph.service} reaches no dependency with a security group in {graph.stack}")
    return found


def dependency_rule(graph: Graph, dependency: dict) -> Registered:
    """The rule on the dependency's group that admits the service's group."""
    return graph.one(
        INGRESS,
        lambda r: (
            r.inputs.get("referencedSecurityGroupId") == graph.output["security_group_id"]
            and r.inputs["securityGroupId"] == dependency["security_group_id"]
        ),
    )


def each_dependency_broken(graph: Graph, change: Callable[[Graph, Registered, dict], None]):
    """(dependency name, findings) with `change` applied to that dependency's rule in a copy of the graph."""
    for dependency in reached_dependencies(graph):
        broken = copy.deepcopy(graph)
        change(broken, dependency_rule(broken, dependency), dependency)
        yield dependency["name"], broken.findings()


def test_a_cidr_dependency_rule_is_found(graph):
    for _, found in each_dependency_broken(graph, lambda g, rule, d: rule.inputs.update(cidrIpv4="10.0.0.0/16")):
        only(found, "admits CIDR 10.0.0.0/16")


def test_a_missing_dependency_rule_is_found(graph):
    for name, found in each_dependency_broken(graph, lambda g, rule, d: g.resources.remove(rule)):
        only(found, f"reaches {name} but no rule admits its security group", "redis_from_data_pipeline_ecs")


def test_a_dependency_rule_on_the_wrong_port_is_found(graph):
    def other_port(g: Graph, rule: Registered, dependency: dict) -> None:
        rule.inputs["fromPort"] = rule.inputs["toPort"] = dependency["port"] + 1

    for name, found in each_dependency_broken(graph, other_port):
        only(found, f"reaches {name} but no rule admits")


def test_a_dependency_rule_open_on_a_range_is_found(graph):
    # Weakened, not removed: the rule still starts at the dependency's port.
    def wider(g: Graph, rule: Registered, dependency: dict) -> None:
        rule.inputs["toPort"] = dependency["port"] + 100

    for name, found in each_dependency_broken(graph, wider):
        only(found, f"reaches {name} but no rule admits")


# --------------------------------------------------------------------------- #
# Deploy safety and load balancing
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    "change,expected",
    [
        (lambda s: s.update(deploymentCircuitBreaker={"enable": True, "rollback": False}), "does not roll back"),
        (lambda s: s["alarms"].update(rollback=False), "deployment alarms do not roll back"),
        (lambda s: s["alarms"].update(alarmNames=[]), "has no deployment alarms"),
        (lambda s: s["alarms"]["alarmNames"].append(s["name"] + "-typo"), "is not declared"),
        (lambda s: s.update(deploymentMinimumHealthyPercent=50), "100 / 200"),
        (lambda s: s.update(deploymentMaximumPercent=100), "100 / 200"),
        (lambda s: s["networkConfiguration"].update(assignPublicIp=True), "public IPs"),
    ],
)
def test_unsafe_deployment_settings_are_found(graph, change, expected):
    change(graph.one("aws:ecs/service:Service", lambda r: r.inputs["name"] == graph.output["service_name"]).inputs)
    only(graph.findings(), expected)


def test_removing_a_signature_alarm_from_the_deployment_alarms_is_found(graph):
    service = graph.one("aws:ecs/service:Service", lambda r: r.inputs["name"] == graph.output["service_name"])
    for signature in (s for s in graph.contract.error_signatures if s.deployment_alarm):
        broken = copy.deepcopy(graph)
        alarms = next(r for r in broken.resources if r.name == service.name).inputs["alarms"]
        alarms["alarmNames"].remove(naming.alarm_name(graph.service, graph.stack, signature.key))
        only(broken.findings(), "is not a deployment alarm of its service")


@pytest.mark.parametrize(
    "change,expected",
    [
        (lambda g: g["healthCheck"].update(path="/"), "health check path is '/'"),
        (lambda g: g.update(deregistrationDelay=300), "deregistration delay"),
        (lambda g: g.update(deregistrationDelay=61), "deregistration delay"),
        (lambda g: g.update(targetType="instance"), "task IPs"),
        (lambda g: g.update(port=g["port"] + 1), "task IPs"),
    ],
)
def test_a_mistuned_target_group_is_found(graph, change, expected):
    arn = graph.output["target_group_arn"]
    change(graph.one("aws:lb/targetGroup:TargetGroup", lambda r: r.outputs["arn"] == arn).inputs)
    only(graph.findings(), expected)


# --------------------------------------------------------------------------- #
# Observability
# --------------------------------------------------------------------------- #


def signature_filter(graph: Graph, signature) -> Registered:
    return graph.one(
        FILTER,
        lambda r: (
            r.inputs["logGroupName"] == graph.output["log_group_name"]
            and r.inputs["metricTransformation"]["name"] == signature.metric_name
        ),
    )


def test_each_missing_metric_filter_is_found(graph):
    for signature in graph.contract.error_signatures:
        broken = copy.deepcopy(graph)
        broken.resources.remove(signature_filter(broken, signature))
        only(broken.findings(), f"no metric filter counts {signature.filter_pattern}")


def filters_that_miss_their_sample(graph: Graph) -> list[str]:
    """Rendered filters of the service whose pattern no longer matches its signature's sample line."""
    by_metric = {s.metric_name: s for s in graph.contract.error_signatures}
    return [
        f.name
        for f in graph.resources
        if f.type == FILTER
        and f.inputs["logGroupName"] == graph.output["log_group_name"]
        and not matches(f.inputs["pattern"], by_metric[f.inputs["metricTransformation"]["name"]].sample)
    ]


def test_every_rendered_filter_still_matches_its_contract_sample(graph):
    assert filters_that_miss_their_sample(graph) == []


@pytest.mark.parametrize(
    "drift",
    [
        # CloudWatch patterns are case-sensitive: this one never matches the real line.
        lambda p: p.swapcase(),
        # An extra word the application does not write.
        lambda p: f'"{p.strip(chr(34))} at startup"' if p.startswith('"') else f"{p} STARTUP",
    ],
    ids=["case", "extra-word"],
)
def test_a_filter_whose_pattern_drifted_from_its_contract_is_found(graph, drift):
    for signature in graph.contract.error_signatures:
        broken = copy.deepcopy(graph)
        flt = signature_filter(broken, signature)
        flt.inputs["pattern"] = drift(flt.inputs["pattern"])
        assert flt.inputs["pattern"] != signature.filter_pattern
        only(broken.findings(), f"no metric filter counts {signature.filter_pattern}")
        assert filters_that_miss_their_sample(broken) == [flt.name]


def test_each_missing_alarm_is_found(graph):
    namespace = graph.contract.metric_namespace
    for signature in graph.contract.error_signatures:
        broken = copy.deepcopy(graph)
        name = naming.alarm_name(graph.service, graph.stack, signature.key)
        broken.resources.remove(broken.one(ALARM, lambda r, n=name: r.inputs["name"] == n))
        only(broken.findings(), f"nothing alarms on {namespace}/{signature.metric_name}")


def test_an_alarm_that_notifies_no_one_is_found(graph):
    signature = graph.contract.error_signatures[-1]
    name = naming.alarm_name(graph.service, graph.stack, signature.key)
    graph.one(ALARM, lambda r: r.inputs["name"] == name).inputs["alarmActions"] = []
    only(graph.findings(), "notifies no one")


def test_a_log_group_without_retention_is_found(graph):
    name = graph.output["log_group_name"]
    graph.one("aws:cloudwatch/logGroup:LogGroup", lambda r: r.inputs["name"] == name).inputs.pop("retentionInDays")
    only(graph.findings(), "keeps logs forever")


# --------------------------------------------------------------------------- #
# Breaking the program itself, not the recorded graph: the guards catch a regression in the code.
# --------------------------------------------------------------------------- #


@each_service
@changes_config
@tiers.renders
def test_a_program_that_forgets_a_dependency_consumer_is_caught(monkeypatch, stack, service):
    import dataclasses

    from infra.dependency_access import DependencyAccess

    reached = [d.name for d in stack_settings(stack).dependencies if d.has_security_group and service in d.consumers]
    if not reached:
        pytest.skip(f"{service} reaches no dependency with a security group in {stack}")
    original = DependencyAccess.__init__

    def forgetful(self, name, args, opts=None):
        services = {key: group for key, group in args.services.items() if key != service}
        original(self, name, dataclasses.replace(args, services=services), opts)

    monkeypatch.setattr(DependencyAccess, "__init__", forgetful)
    result = run_as(stack, stack_values(stack))
    found = [str(f) for f in check_graph(result.resources, result.outputs)]
    for dependency in reached:
        only(found, f"{service}-service: reaches {dependency} but no rule admits")


@each_service
@changes_config
@tiers.renders
def test_a_program_whose_grant_drifts_from_the_secrets_list_is_caught(monkeypatch, stack, service):
    from core import documents

    if not CONTRACTS[service].secrets:
        pytest.skip(f"the {service} contract requires no secret")
    forgotten = CONTRACTS[service].secrets[0].secret_name_for(stack)
    original = documents.execution_role_policy

    def forgetful(*, secret_arns, **kwargs):
        return original(secret_arns=[a for a in secret_arns if forgotten not in a], **kwargs)

    monkeypatch.setattr(documents, "execution_role_policy", forgetful)
    result = run_as(stack, stack_values(stack))
    only([str(f) for f in check_graph(result.resources, result.outputs)], "may not read", forgotten)


# --------------------------------------------------------------------------- #
# Images
# --------------------------------------------------------------------------- #


def retag(image: str, suffix: str) -> str:
    return image.split("@", 1)[0].rsplit(":", 1)[0] + suffix


@pytest.mark.parametrize("excuse", [None, "mutable_image_tag", "immutable_tags"])
def test_an_image_pinned_by_tag_is_found_unless_the_stack_says_why(graph, excuse):
    for name in ("mutable_image_tag", "immutable_tags"):
        graph.output["exceptions"].pop(name, None)
    if excuse:
        graph.output["exceptions"][excuse] = "a test's reason"
    edit_container(graph, lambda c: c.update(image=retag(c["image"], ":2025-10-07")))
    found = [f for f in graph.findings() if "pinned by a tag" in f]
    assert bool(found) is (excuse is None), found


def test_latest_is_found_whatever_the_exceptions(graph):
    graph.output["exceptions"]["mutable_image_tag"] = "a test's reason"
    edit_container(graph, lambda c: c.update(image=retag(c["image"], ":latest")))
    only(graph.findings(), "uses the mutable tag 'latest'")


def test_an_image_pinned_by_digest_is_not_a_finding(graph):
    for name in ("mutable_image_tag", "immutable_tags"):
        graph.output["exceptions"].pop(name, None)
    edit_container(graph, lambda c: c.update(image=retag(c["image"], "@sha256:" + "ab" * 32)))
    assert not [f for f in graph.findings() if "[image]" in f]
