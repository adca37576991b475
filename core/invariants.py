"""Invariants of the stack's resource graph: the incidents, as checks. One implementation.

Each invariant is a pure function from the graph's records (core/resource_graph.py)
to findings, empty when the graph holds it. Two places run every one of them:

- synth/checks.py, over the graph the recording mocks keep (`make synth`, the tests),
  which also checks container definitions against botocore's ECS model;
- the CrossGuard pack (policy/), over the engine's resources in a real
  `pulumi preview` and `pulumi up`, with each invariant's enforcement level.

They check what `pulumi preview` alone cannot: JSON documents (container definitions,
IAM policies) and relations between resources (a secret referenced but not granted,
a dependency's consumer without its rule, an alarm wired to nothing). A value not known yet
(in a preview, what AWS will compute) is never a finding: where one could change the
answer, the check says nothing about it (core/resource_graph.py).

Enforcement: an invariant whose breach ships an incident or a hole - a missing secret,
a wider grant, open ingress, a deploy that cannot roll back, a failure nobody is told
about - is MANDATORY: the pack stops `pulumi preview` / `pulumi up`. One that tunes
speed or convenience - deregistration delay, deployment percentages, ECS Exec, log
retention - is ADVISORY: a breach is slower or costlier, never silent or unsafe, so
it warns and lets a deliberate change through.

Pure: no Pulumi, no boto3.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from core.contract import HTTPS_PORT, ErrorSignature
from core.documents import READ_SECRET_ACTION
from core.iam_policy import Decision, decide, evaluate, resources_granted
from core.resource_graph import (
    ECS_SERVICE,
    EGRESS_RULE,
    INGRESS_RULE,
    LISTENER,
    LOG_GROUP,
    METRIC_ALARM,
    METRIC_FILTER,
    SECRET,
    SECURITY_GROUP,
    SNS_TOPIC,
    TARGET_GROUP,
    Graph,
    Record,
    field_of,
    has_unknown,
    is_off,
    is_on,
    is_unknown,
    may_equal,
)
from core.settings.exception_names import LoadBalancerException, ServiceException
from core.tls_policies import is_allowed
from core.value_from import SecretValueFrom

WORLD = ("0.0.0.0/0", "::/0")
# The ports the load balancer may take from anyone.
ALB_PUBLIC_PORTS = ((80, 80), (443, 443))
# One of the calls ECS Exec's agent makes with the task role.
ECS_EXEC = "ssmmessages:OpenDataChannel"
# The longest deregistration delay a deploy should wait per task (the target group
# drains each old task this long; the program uses 30 s: core/target_group.py says why).
MAX_DEREGISTRATION_DELAY_SECONDS = 60
# The load balancer's default when a target group does not say.
DEFAULT_DEREGISTRATION_DELAY_SECONDS = 300


@dataclass(frozen=True)
class Finding:
    check: str
    # The logical name of the resource at fault (the name `pulumi preview` shows).
    resource: str
    what: str

    def __str__(self) -> str:
        return f"[{self.check}] {self.resource}: {self.what}"


class Enforcement(StrEnum):
    """What a breach does in the pack (CrossGuard's levels of the same names)."""

    MANDATORY = "mandatory"  # stops the preview / update
    ADVISORY = "advisory"  # a warning


Check = Callable[[Graph], list[Finding]]


@dataclass(frozen=True)
class Invariant:
    # The policy's name in the pack (kebab-case, unique).
    name: str
    # One line: what holds when there is no finding.
    description: str
    enforcement: Enforcement
    # Why this enforcement level.
    why: str
    check: Check


# --------------------------------------------------------------------------- #
# Task definitions
# --------------------------------------------------------------------------- #


def secrets_only_through_secrets_list(graph: Graph) -> list[Finding]:
    """Every contract secret is in `secrets` with a Secrets Manager ARN; nothing secret is
    in `environment`; every required plain setting is set."""
    findings = []
    for task, contract, container in graph.task_containers():
        secrets = {s.get("name"): s.get("valueFrom") for s in container.get("secrets") or []}
        environment = {e.get("name") for e in container.get("environment") or []}
        for requirement in contract.secrets:
            value_from = secrets.get(requirement.env_var)
            if value_from is None:
                findings.append(
                    Finding(
                        "secrets",
                        task.name,
                        f"{requirement.env_var} is not in the container's secrets: {requirement.breaks}",
                    )
                )
            elif not is_unknown(value_from) and SecretValueFrom.parse(value_from) is None:
                findings.append(
                    Finding(
                        "secrets",
                        task.name,
                        f"{requirement.env_var} valueFrom {value_from!r} is not a Secrets Manager ARN "
                        "(optionally followed by :<json-key>:<version-stage>:<version-id>)",
                    )
                )
        for name in sorted(environment):
            if name in secrets or contract.must_be_secret(name):
                findings.append(Finding("secrets", task.name, f"{name} is in plain environment"))
        for env_var in contract.setting_names:
            if env_var not in environment:
                findings.append(Finding("settings", task.name, f"required setting {env_var} is not set"))
    return findings


def _secret_arn(value_from: Any) -> Any:
    """The secret a `valueFrom` reads (what the grant must cover), whatever JSON key or version
    of it; the value itself when it is no Secrets Manager reference (or unknown)."""
    parsed = SecretValueFrom.parse(value_from)
    return parsed.secret_arn if parsed else value_from


# --------------------------------------------------------------------------- #
# IAM
# --------------------------------------------------------------------------- #


def execution_role_reads_exactly_its_secrets(graph: Graph) -> list[Finding]:
    """The execution role may read every secret the task references, and nothing else."""
    findings = []
    for task, _contract, container in graph.task_containers():
        # The grant is on the secret, whatever JSON key or version of it the task reads.
        referenced = {_secret_arn(s.get("valueFrom")) for s in container.get("secrets") or []}
        roles = graph.roles_for_arn(task.inputs.get("executionRoleArn"))
        if roles is None:
            continue
        if len(roles) != 1:
            findings.append(Finding("iam", task.name, "its execution role is not declared by the stack"))
            continue
        role = roles[0]
        documents = graph.policies_of(role)
        if documents is None:
            continue
        for arn in sorted(referenced):
            # Nothing is known of the request: a condition on the grant cannot be evaluated, and is a finding.
            verdict = evaluate(documents, READ_SECRET_ACTION, arn, context_is_complete=False)
            if verdict.decision is Decision.CANNOT_TELL:
                findings.append(Finding("iam", role.name, f"cannot tell whether it may read {arn}: {verdict.reason}"))
            elif verdict.decision is not Decision.ALLOWED:
                findings.append(
                    Finding(
                        "iam",
                        role.name,
                        f"may not read {arn}, which the task references ({verdict.decision.value}): "
                        "the task will fail with ResourceInitializationError",
                    )
                )
        granted = resources_granted(documents, READ_SECRET_ACTION)
        for arn in sorted(granted - referenced):
            findings.append(Finding("iam", role.name, f"may read {arn}, which the task does not reference"))
        if any("*" in arn or "?" in arn for arn in granted):
            findings.append(Finding("iam", role.name, f"grants {READ_SECRET_ACTION} on a wildcard"))
        if graph.has_managed_policies(role):
            findings.append(Finding("iam", role.name, "has managed policies attached; its grants must be derived"))
    return findings


def task_role_allows_ecs_exec(graph: Graph) -> list[Finding]:
    """Where a service allows ECS Exec, its task role may open the channels (or exec fails)."""
    findings = []
    for task, contract, _container in graph.task_containers():
        if not any(is_on(s.record.inputs.get("enableExecuteCommand")) for s in _services_of(graph, contract.key)):
            continue
        roles = graph.roles_for_arn(task.inputs.get("taskRoleArn"))
        if roles is None:
            continue
        documents = graph.policies_of(roles[0]) if roles else []
        if documents is None:
            continue
        # ssmmessages has no resource-level permissions: granted on "*" or not at all.
        if not roles or decide(documents, ECS_EXEC, "*") is not Decision.ALLOWED:
            findings.append(Finding("ecs-exec", task.name, "the task role does not allow ECS Exec (ssmmessages)"))
    return findings


def ecs_exec_only_where_declared(graph: Graph) -> list[Finding]:
    """ECS Exec is on only for a service whose stack says why (exceptions.ecs_exec), and a task
    role may open its channels only when its service has it on."""
    findings = []
    for service in graph.services():
        exceptions = graph.exceptions_of(service.contract.key)
        if (
            exceptions is not None
            and ServiceException.ECS_EXEC not in exceptions
            and is_on(service.record.inputs.get("enableExecuteCommand"))
        ):
            findings.append(
                Finding(
                    "ecs-exec",
                    service.record.name,
                    "ECS Exec is on but the stack gives no reason: a shell into every task for whoever may call "
                    f"ecs:ExecuteCommand; turn it off, or declare exceptions.{ServiceException.ECS_EXEC} with the reason",
                )
            )
    for task, contract, _container in graph.task_containers():
        switches = [s.record.inputs.get("enableExecuteCommand") for s in _services_of(graph, contract.key)]
        if any(not is_off(switch) for switch in switches):
            continue  # on, or not known to be off
        roles = graph.roles_for_arn(task.inputs.get("taskRoleArn"))
        if not roles:
            continue
        documents = graph.policies_of(roles[0])
        if documents is not None and decide(documents, ECS_EXEC, "*") is Decision.ALLOWED:
            findings.append(
                Finding("ecs-exec", roles[0].name, "may open ECS Exec channels, but its service has ECS Exec off")
            )
    return findings


def _services_of(graph: Graph, key: str) -> list[Any]:
    return [s for s in graph.services() if s.contract.key == key]


# --------------------------------------------------------------------------- #
# Containers
# --------------------------------------------------------------------------- #


def containers_have_read_only_root_filesystem(graph: Graph) -> list[Finding]:
    """Each contract container's root filesystem is read-only, unless the stack says why
    (exceptions.writable_root_filesystem); each path its contract writes to is a task volume
    mounted read-write there."""
    findings = []
    for task, contract, container in graph.task_containers():
        exceptions = graph.exceptions_of(contract.key)
        read_only = container.get("readonlyRootFilesystem")
        if (
            exceptions is not None
            and ServiceException.WRITABLE_ROOT_FILESYSTEM not in exceptions
            and not is_unknown(read_only)
            and read_only is not True
        ):
            findings.append(
                Finding(
                    "container",
                    task.name,
                    f"container {contract.container_name}'s root filesystem is writable (readonlyRootFilesystem "
                    f"is {read_only!r}); set it, or declare exceptions.{ServiceException.WRITABLE_ROOT_FILESYSTEM} "
                    "with the reason",
                )
            )
        volumes = task.inputs.get("volumes")
        mounts = container.get("mountPoints")
        if has_unknown((volumes, mounts)):
            continue
        declared = {field_of(v, "name") for v in volumes or []}
        for path in contract.writable_paths:
            at_path = [m for m in mounts or [] if isinstance(m, Mapping) and m.get("containerPath") == path]
            if not at_path:
                findings.append(
                    Finding(
                        "container",
                        task.name,
                        f"{path} is not mounted: the {contract.key} service writes there and the root filesystem "
                        "is read-only",
                    )
                )
            elif any(m.get("readOnly") for m in at_path):
                findings.append(Finding("container", task.name, f"{path} is mounted read-only"))
            elif any(m.get("sourceVolume") not in declared for m in at_path):
                findings.append(
                    Finding("container", task.name, f"{path} is mounted from a volume the task does not declare")
                )
    return findings


# A tag stands in for a digest only with one of these (core/settings/container.py says why).
_TAG_EXCUSES = (ServiceException.MUTABLE_IMAGE_TAG, ServiceException.IMMUTABLE_TAGS)


def images_are_pinned(graph: Graph) -> list[Finding]:
    """Each contract container's image is pinned by digest, unless the stack says why a tag will do
    (exceptions.immutable_tags or exceptions.mutable_image_tag); `latest` never."""
    findings = []
    for task, contract, container in graph.task_containers():
        image = container.get("image")
        if is_unknown(image) or not isinstance(image, str):
            continue
        if image.rsplit("/", 1)[-1].endswith(":latest"):
            findings.append(Finding("image", task.name, f"{image} uses the mutable tag 'latest'"))
            continue
        exceptions = graph.exceptions_of(contract.key)
        if "@sha256:" in image or exceptions is None or any(e in exceptions for e in _TAG_EXCUSES):
            continue
        findings.append(
            Finding(
                "image",
                task.name,
                f"{image} is pinned by a tag, which can be pushed again; pin its digest, or declare "
                f"exceptions.{ServiceException.IMMUTABLE_TAGS} / exceptions.{ServiceException.MUTABLE_IMAGE_TAG} "
                "with the reason",
            )
        )
    return findings


# uid 0 by number or by name: root, whatever the group.
_ROOT_USER = re.compile(r"^(0+|root)(:.*)?\Z")


def containers_run_as_non_root(graph: Graph) -> list[Finding]:
    """Each contract container runs as a user that is not root, unless the stack says why
    (exceptions.run_as_root)."""
    findings = []
    for task, contract, container in graph.task_containers():
        exceptions = graph.exceptions_of(contract.key)
        user = container.get("user")
        if exceptions is None or ServiceException.RUN_AS_ROOT in exceptions or is_unknown(user):
            continue
        if not user:
            what = "sets no user, so it runs as the image's (root, for an image without USER)"
        elif _ROOT_USER.match(str(user)):
            what = f"runs as root (user {user!r})"
        else:
            continue
        findings.append(
            Finding(
                "container",
                task.name,
                f"container {contract.container_name} {what}; set a numeric non-root user, or declare "
                f"exceptions.{ServiceException.RUN_AS_ROOT} with the reason",
            )
        )
    return findings


# --------------------------------------------------------------------------- #
# Network
# --------------------------------------------------------------------------- #


def no_world_open_ingress_except_alb(graph: Graph) -> list[Finding]:
    findings = []
    rules = graph.of_type(INGRESS_RULE)
    for group in graph.of_type(SECURITY_GROUP):
        for entry in _undeclared_ingress(group, rules):
            findings.append(
                Finding(
                    "network",
                    group.name,
                    f"has inline ingress rules; use separate rule resources ({_describe_entry(entry)})",
                )
            )
    alb_groups = [g.outputs.get("id") for g in graph.of_type(SECURITY_GROUP) if _is_alb_group(g)]
    for rule in rules:
        cidr = rule.inputs.get("cidrIpv4") or rule.inputs.get("cidrIpv6")
        if cidr is None or is_unknown(cidr):
            continue
        if cidr not in WORLD:
            findings.append(Finding("network", rule.name, f"admits CIDR {cidr}; reference a security group instead"))
            continue
        ports = (rule.inputs.get("fromPort"), rule.inputs.get("toPort"))
        if has_unknown(ports):
            continue
        target = rule.inputs.get("securityGroupId")
        is_albs = ports in ALB_PUBLIC_PORTS and target in alb_groups
        if not is_albs and ports in ALB_PUBLIC_PORTS and (is_unknown(target) or has_unknown(alb_groups)):
            continue  # 80/443 from the world on a group not known yet: the ALB's, or not
        if not is_albs:
            findings.append(Finding("network", rule.name, f"is open to the world ({cidr}) and is not the ALB's 80/443"))
    return findings


def _is_alb_group(group: Record) -> bool:
    name = group.inputs.get("name")
    return isinstance(name, str) and name.endswith("-alb")


_PROTOCOL_NUMBERS = {"6": "tcp", "17": "udp", "1": "icmp", "all": "-1"}


def _protocol(value: object) -> str:
    text = str(value).lower()
    return _PROTOCOL_NUMBERS.get(text, text)


def _undeclared_ingress(group: Record, rules: Sequence[Record]) -> list[Any]:
    """The group's inline ingress entries no separate rule resource accounts for.

    The program declares none inline. Once AWS has the group, its `ingress` output lists
    every rule it holds, the separate rule resources' included, so an entry is only at
    fault when no declared rule of the same group, ports, protocol and source explains it.
    """
    entries = group.inputs.get("ingress") or group.outputs.get("ingress")
    group_id = group.outputs.get("id")
    if not entries or has_unknown(entries):
        return []
    if not isinstance(entries, list):
        return [entries]
    if is_unknown(group_id) or any(has_unknown(r.inputs.get("securityGroupId")) for r in rules):
        return []
    own = [r for r in rules if r.inputs.get("securityGroupId") == group_id]
    return [entry for entry in entries if not _entry_declared(entry, own)]


def _entry_declared(entry: Any, rules: Sequence[Record]) -> bool:
    if not isinstance(entry, Mapping):
        return False
    protocol = _protocol(entry.get("protocol"))
    ports = (entry.get("fromPort"), entry.get("toPort"))
    sources = (
        [("cidrIpv4", c) for c in entry.get("cidrBlocks") or []]
        + [("cidrIpv6", c) for c in entry.get("ipv6CidrBlocks") or []]
        + [("referencedSecurityGroupId", g) for g in entry.get("securityGroups") or []]
        + [("prefixListId", p) for p in entry.get("prefixListIds") or []]
    )
    if entry.get("self"):
        return False  # the program never admits a group into itself
    if not sources:
        return False

    def declares(rule: Record, key: str, value: Any) -> bool:
        inputs = rule.inputs
        if _protocol(inputs.get("ipProtocol")) != protocol or inputs.get(key) != value:
            return False
        return protocol == "-1" or (inputs.get("fromPort"), inputs.get("toPort")) == ports

    return all(any(declares(rule, key, value) for rule in rules) for key, value in sources)


def _describe_entry(entry: Any) -> str:
    if not isinstance(entry, Mapping):
        return repr(entry)
    sources = [*(entry.get("cidrBlocks") or []), *(entry.get("ipv6CidrBlocks") or [])]
    sources += [*(entry.get("securityGroups") or []), *(entry.get("prefixListIds") or [])]
    return f"{entry.get('protocol')} {entry.get('fromPort')}-{entry.get('toPort')} from {', '.join(map(str, sources))}"


def services_admit_only_the_load_balancer(graph: Graph) -> list[Finding]:
    findings = []
    rules = graph.of_type(INGRESS_RULE)
    for service in graph.services():
        groups = service.security_groups
        if is_unknown(groups):
            continue
        assert isinstance(groups, tuple)
        own = [
            r
            for r in rules
            if not is_unknown(r.inputs.get("securityGroupId")) and r.inputs.get("securityGroupId") in groups
        ]
        undecided = any(is_unknown(r.inputs.get("securityGroupId")) for r in rules)
        if not own and not undecided:
            findings.append(Finding("network", service.record.name, "nothing may reach the service's port"))
        port = service.contract.container_port
        for rule in own:
            ports = (rule.inputs.get("fromPort"), rule.inputs.get("toPort"))
            if not has_unknown(ports) and ports != (port, port):
                findings.append(Finding("network", rule.name, "opens a port other than the container port"))
            if not rule.inputs.get("referencedSecurityGroupId"):
                findings.append(Finding("network", rule.name, "does not reference a security group"))
    return findings


def tasks_get_no_public_ip(graph: Graph) -> list[Finding]:
    findings = []
    for service in graph.of_type(ECS_SERVICE):
        network = service.inputs.get("networkConfiguration")
        if isinstance(network, Mapping) and is_on(network.get("assignPublicIp")):
            findings.append(Finding("network", service.name, "tasks get public IPs"))
    return findings


def dependencies_admit_every_consumer(graph: Graph) -> list[Finding]:
    """Every service is admitted into the group of each dependency its contract names, on the
    dependency's port, by reference, and may leave its own group for it; so is every extra consumer.

    Where each dependency is (its group and port) is the stack's setting, which the program
    writes into the `estate` stack output; the graph carries it on the stack's own resource.
    A consumer without its rule is the incident's second failure (`redis_from_data_pipeline_ecs`).
    """
    listed = _dependencies(graph)
    if listed is None:
        return []  # no stack output, or not known yet: where the dependencies are is not known
    known = {d.get("name"): d for d in listed if isinstance(d, Mapping) and not is_unknown(d.get("name"))}
    complete = len(known) == len(listed)
    ingress, egress = graph.of_type(INGRESS_RULE), graph.of_type(EGRESS_RULE)
    findings = []
    for service in graph.services():
        groups = service.security_groups
        for name in service.contract.dependency_names:
            dependency = known.get(name)
            if dependency is None:
                if complete:
                    findings.append(
                        Finding(
                            "dependencies", service.record.name, f"reaches {name}, which the stack does not describe"
                        )
                    )
                continue
            into, port = dependency.get("security_group_id"), dependency.get("port")
            if into is None or has_unknown((into, port)) or is_unknown(groups):
                continue  # reached over HTTPS without a rule; or not known yet
            assert isinstance(groups, tuple)
            if not _any_admits(ingress, into, port, groups):
                findings.append(
                    Finding(
                        "dependencies",
                        service.record.name,
                        f"reaches {name} but no rule admits its security group into {into} on {port} "
                        "(the missing redis_from_data_pipeline_ecs of the incident)",
                    )
                )
            if not _any_lets_out(egress, groups, into, port):
                findings.append(
                    Finding(
                        "dependencies",
                        service.record.name,
                        f"reaches {name} but its security group lets nothing out to {into} on {port}",
                    )
                )
    # The extra consumers (outside the stack): the services' own rules are judged above, by contract.
    services = {service.contract.key for service in graph.services()}
    for dependency in known.values():
        into, port, consumers = (
            dependency.get("security_group_id"),
            dependency.get("port"),
            dependency.get("consumer_security_group_ids"),
        )
        if into is None or has_unknown((into, port)) or not isinstance(consumers, Mapping):
            continue
        for label, group in sorted(consumers.items()):
            if label in services or is_unknown(group):
                continue
            if not _any_admits(ingress, into, port, (group,)):
                findings.append(
                    Finding(
                        "dependencies",
                        # The dependency's component (infra/dependency_access.py): the rule is not there to name.
                        str(dependency.get("name")),
                        f"{label} is a consumer of {dependency.get('name')}, but no rule admits {group} into "
                        f"{into} on {port}",
                    )
                )
    return findings


def _dependencies(graph: Graph) -> list[Any] | None:
    """The `estate` output's dependencies; None when they are not known (no output, or unknown)."""
    estate = graph.estate
    if not isinstance(estate, Mapping):
        return None
    listed = estate.get("dependencies")
    return listed if isinstance(listed, list) else None


def _any_admits(rules: Sequence[Record], into: object, port: object, sources: tuple[Any, ...]) -> bool:
    """Whether some rule admits (or, with what it would need unknown, may admit) a source."""
    return any(_admits(r, into, port, sources, exactly=True) for r in rules) or any(
        _admits(r, into, port, sources, exactly=False) for r in rules
    )


def _any_lets_out(rules: Sequence[Record], groups: tuple[Any, ...], to: object, port: object) -> bool:
    """Whether some egress rule on one of `groups` lets them out to the group `to` on `port` (TCP),
    or may (what it would need is unknown)."""

    def lets_out(rule: Record, exactly: bool) -> bool:
        inputs = rule.inputs
        same: Callable[[object, object], bool] = operator.eq if exactly else may_equal
        group = inputs.get("securityGroupId")
        return (
            (group in groups or (not exactly and is_unknown(group)))
            and same(inputs.get("referencedSecurityGroupId"), to)
            and same(inputs.get("fromPort"), port)
            and same(inputs.get("toPort"), port)
            and same(inputs.get("ipProtocol"), "tcp")
        )

    return any(lets_out(r, True) for r in rules) or any(lets_out(r, False) for r in rules)


def service_egress_is_narrow(graph: Graph) -> list[Finding]:
    """A service's tasks may leave for HTTPS (443) anywhere and for their dependencies' groups on
    their ports, nothing else: not every port of every address, as the old estate's groups allowed."""
    listed = _dependencies(graph)
    rules = graph.of_type(EGRESS_RULE)
    findings = []
    for service in graph.services():
        groups = service.security_groups
        if is_unknown(groups):
            continue
        assert isinstance(groups, tuple)
        reached: set[tuple[Any, Any]] | None = None
        if listed is not None and not has_unknown(listed):
            names = set(service.contract.dependency_names)
            reached = {
                (d.get("security_group_id"), d.get("port"))
                for d in listed
                if isinstance(d, Mapping) and d.get("name") in names and d.get("security_group_id") is not None
            }
        https, undecided = False, False
        for rule in rules:
            inputs = rule.inputs
            group = inputs.get("securityGroupId")
            if is_unknown(group):
                undecided = True
                continue
            if group not in groups:
                continue
            cidr = inputs.get("cidrIpv4") or inputs.get("cidrIpv6")
            peer = inputs.get("referencedSecurityGroupId")
            ports, protocol = (inputs.get("fromPort"), inputs.get("toPort")), inputs.get("ipProtocol")
            if has_unknown((cidr, peer, ports, protocol)):
                undecided = True
                continue
            tcp = protocol == "tcp"
            if cidr is not None and tcp and ports == (HTTPS_PORT, HTTPS_PORT):
                https = https or cidr in WORLD
                continue
            if peer is not None and tcp and ports[0] == ports[1] and (reached is None or (peer, ports[0]) in reached):
                continue  # a dependency's group (or, not known yet, may be one)
            where = cidr or peer or "a prefix list"
            # Whole numbers as such: the mocks record 6379.0 where the engine says 6379.
            low, high = (int(p) if isinstance(p, float) and p.is_integer() else p for p in ports)
            what = "every port" if not tcp else f"ports {low}-{high}"
            findings.append(
                Finding(
                    "network",
                    rule.name,
                    f"lets {service.record.name} out to {where} on {what}: only HTTPS ({HTTPS_PORT}) to any "
                    "address, and each dependency's group on its port, may leave",
                )
            )
        if not https and not undecided:
            findings.append(
                Finding(
                    "network",
                    service.record.name,
                    f"its tasks may not reach HTTPS ({HTTPS_PORT}) at any address: image pulls, secrets, logs and "
                    "Hugging Face all fail",
                )
            )
    return findings


def _admits(rule: Record, into: object, port: object, sources: tuple[Any, ...], *, exactly: bool) -> bool:
    """Whether the rule admits one of `sources` into the group `into` on `port` (TCP);
    with `exactly=False`, whether it may (what it would need to is unknown)."""
    inputs = rule.inputs
    same: Callable[[object, object], bool] = operator.eq if exactly else may_equal
    source = inputs.get("referencedSecurityGroupId")
    return (
        same(inputs.get("securityGroupId"), into)
        and (source in sources or (not exactly and is_unknown(source)))
        and same(inputs.get("fromPort"), port)
        and same(inputs.get("toPort"), port)
        and same(inputs.get("ipProtocol"), "tcp")
    )


# --------------------------------------------------------------------------- #
# Deploy safety and load balancing
# --------------------------------------------------------------------------- #


def https_listeners_use_an_allowed_tls_policy(graph: Graph) -> list[Finding]:
    """Each HTTPS listener the stack creates uses a TLS 1.2+ policy of core/tls_policies.py, unless the
    stack says why not (load_balancer.exceptions.tls_policy_not_allowed). (An adopted listener is not
    the stack's resource: infra/existing.py refuses it at preview when it is HTTP or off the list.)"""
    exceptions = graph.load_balancer_exceptions()
    if exceptions is None or LoadBalancerException.TLS_POLICY_NOT_ALLOWED in exceptions:
        return []
    findings = []
    for listener in graph.of_type(LISTENER):
        protocol, policy = listener.inputs.get("protocol"), listener.inputs.get("sslPolicy")
        if has_unknown((protocol, policy)) or str(protocol).upper() != "HTTPS" or is_allowed(policy):
            continue
        findings.append(
            Finding(
                "lb",
                listener.name,
                f"TLS policy {policy or '(none: the API default, ELBSecurityPolicy-2016-08)'} is not on the "
                "allow-list of TLS 1.2+ policies; clients could negotiate TLS 1.0 or 1.1",
            )
        )
    return findings


def deployments_roll_back(graph: Graph) -> list[Finding]:
    """A failing deployment rolls back (circuit breaker, and the declared deployment alarms)."""
    findings = []
    alarms = [a.inputs.get("name") for a in graph.of_type(METRIC_ALARM)]
    for service in graph.of_type(ECS_SERVICE):
        breaker = service.inputs.get("deploymentCircuitBreaker")
        if not is_unknown(breaker):
            breaker = breaker or {}
            if is_off(breaker.get("enable")) or is_off(breaker.get("rollback")):
                findings.append(Finding("deploy", service.name, "the deployment circuit breaker does not roll back"))
        deployment_alarms = service.inputs.get("alarms")
        if is_unknown(deployment_alarms):
            continue
        deployment_alarms = deployment_alarms or {}
        if is_off(deployment_alarms.get("enable")) or is_off(deployment_alarms.get("rollback")):
            findings.append(Finding("deploy", service.name, "deployment alarms do not roll back"))
        names = deployment_alarms.get("alarmNames")
        if is_unknown(names):
            continue
        if not names:
            findings.append(Finding("deploy", service.name, "has no deployment alarms"))
        for name in names or []:
            if not is_unknown(name) and name not in alarms and not has_unknown(alarms):
                findings.append(Finding("deploy", service.name, f"deployment alarm {name} is not declared"))
    return findings


def deployments_are_tuned(graph: Graph) -> list[Finding]:
    """Deploys replace tasks without losing capacity."""
    findings = []
    for service in graph.of_type(ECS_SERVICE):
        inputs = service.inputs
        percents = (inputs.get("deploymentMinimumHealthyPercent"), inputs.get("deploymentMaximumPercent"))
        if not has_unknown(percents) and percents != (100, 200):
            findings.append(Finding("deploy", service.name, "min healthy / max percent are not 100 / 200"))
    return findings


def target_groups_are_tuned(graph: Graph) -> list[Finding]:
    findings = []
    for group in graph.of_type(TARGET_GROUP):
        delay = group.inputs.get("deregistrationDelay")
        if is_unknown(delay):
            continue
        seconds = int(delay) if delay not in (None, "") else DEFAULT_DEREGISTRATION_DELAY_SECONDS
        if seconds > MAX_DEREGISTRATION_DELAY_SECONDS:
            findings.append(
                Finding("lb", group.name, f"deregistration delay {seconds} s above 60 s slows every deploy")
            )
    for service in graph.services():
        for arn in service.target_group_arns:
            groups = graph.by_output(TARGET_GROUP, "arn", arn)
            if groups is None:
                continue
            if len(groups) != 1:
                findings.append(Finding("lb", service.record.name, "its target group is not declared"))
                continue
            tuning = groups[0].inputs
            path = field_of(tuning.get("healthCheck"), "path")
            if not is_unknown(path) and path != service.contract.health_check_path:
                findings.append(Finding("lb", groups[0].name, f"health check path is {path!r}"))
            target = (tuning.get("targetType"), tuning.get("port"))
            if not has_unknown(target) and target != ("ip", service.contract.container_port):
                findings.append(Finding("lb", groups[0].name, "must target task IPs on the container port"))
    return findings


# --------------------------------------------------------------------------- #
# Observability
# --------------------------------------------------------------------------- #


def failure_signatures_are_watched(graph: Graph) -> list[Finding]:
    """For every contract signature: a filter on the service's log group, an alarm on
    its metric notifying the alarm topic; deployment-alarm signatures are deployment alarms."""
    findings = []
    topics = [t.outputs.get("arn") for t in graph.of_type(SNS_TOPIC)]
    filters = graph.of_type(METRIC_FILTER)
    alarms = graph.of_type(METRIC_ALARM)
    for service in graph.services():
        contract = service.contract
        names = {_log_group_of(c) for c in graph.containers_of(contract)}
        if not names or has_unknown(list(names)):
            continue  # no known task definition says where the service logs
        for log_group_name in sorted(n for n in names if n is not None):
            log_groups = graph.by_output(LOG_GROUP, "name", log_group_name)
            if log_groups is not None and len(log_groups) != 1:
                findings.append(Finding("observability", service.record.name, "its log group is not declared"))
        if None in names:
            findings.append(Finding("observability", service.record.name, "its container does not log to CloudWatch"))
        deployment_names = field_of(service.record.inputs.get("alarms"), "alarmNames")
        for signature in contract.error_signatures:
            if not any(_counts(f, signature, names, contract.metric_namespace, exactly=True) for f in filters):
                if not any(_counts(f, signature, names, contract.metric_namespace, exactly=False) for f in filters):
                    findings.append(
                        Finding(
                            "observability",
                            service.record.name,
                            f"no metric filter counts {signature.filter_pattern} as {signature.metric_name}",
                        )
                    )
                continue
            watching = [a for a in alarms if _watches(a, signature, contract.metric_namespace, exactly=True)]
            if not watching:
                if not any(_watches(a, signature, contract.metric_namespace, exactly=False) for a in alarms):
                    findings.append(
                        Finding(
                            "observability",
                            service.record.name,
                            f"nothing alarms on {contract.metric_namespace}/{signature.metric_name}",
                        )
                    )
                continue
            for alarm in watching:
                actions = alarm.inputs.get("alarmActions") or []
                if not has_unknown(actions) and not has_unknown(topics) and not set(actions) & set(topics):
                    findings.append(Finding("observability", alarm.name, "notifies no one (no alarm topic action)"))
                name = alarm.inputs.get("name")
                if (
                    signature.deployment_alarm
                    and not has_unknown((name, deployment_names))
                    and name not in (deployment_names or [])
                ):
                    findings.append(Finding("deploy", alarm.name, "is not a deployment alarm of its service"))
    return findings


def _counts(
    metric_filter: Record, signature: ErrorSignature, log_groups: set[Any], namespace: str, *, exactly: bool
) -> bool:
    """Whether the filter counts the signature's lines of those log groups as its metric;
    with `exactly=False`, whether it may (what it would need to is unknown)."""
    inputs = metric_filter.inputs
    same: Callable[[object, object], bool] = operator.eq if exactly else may_equal
    transformation = inputs.get("metricTransformation")
    group = inputs.get("logGroupName")
    return (
        (group in log_groups or (not exactly and is_unknown(group)))
        and same(inputs.get("pattern"), signature.filter_pattern)
        and same(field_of(transformation, "name"), signature.metric_name)
        and same(field_of(transformation, "namespace"), namespace)
    )


def _watches(alarm: Record, signature: ErrorSignature, namespace: str, *, exactly: bool) -> bool:
    """Whether the alarm is on the signature's metric; with `exactly=False`, whether it may be."""
    same: Callable[[object, object], bool] = operator.eq if exactly else may_equal
    return same(alarm.inputs.get("metricName"), signature.metric_name) and same(
        alarm.inputs.get("namespace"), namespace
    )


def _log_group_of(container: Mapping[str, Any]) -> Any:
    logging = container.get("logConfiguration") or {}
    if logging.get("logDriver") != "awslogs":
        return None
    return (logging.get("options") or {}).get("awslogs-group")


def logs_have_retention(graph: Graph) -> list[Finding]:
    return [
        Finding("observability", group.name, "keeps logs forever (no retention)")
        for group in graph.of_type(LOG_GROUP)
        if is_off(group.inputs.get("retentionInDays"))
    ]


def logs_and_secrets_are_protected(graph: Graph) -> list[Finding]:
    """Every log group and every declared secret carries the `protect` resource option (where the
    runner says; infra/ also sets retain_on_delete, which only the engine sees)."""
    return [
        Finding(
            "protect",
            record.name,
            "is not protected: `pulumi destroy` or a replacement would delete it "
            + ("(an incident's logs)" if record.type == LOG_GROUP else "(every task reading it stops)"),
        )
        for record in graph.of_type(LOG_GROUP) + graph.of_type(SECRET)
        if record.protect is False
    ]


def logs_and_alarm_topic_use_the_declared_key(graph: Graph) -> list[Finding]:
    """When the stack declares observability_kms_key_arn, every log group (kmsKeyId) and every SNS
    topic (kmsMasterKeyId) is encrypted with exactly that key. Without one, nothing is asked."""
    key = graph.observability_key()
    if key is None or is_unknown(key):
        return []
    findings = []
    for record, attribute in [(r, "kmsKeyId") for r in graph.of_type(LOG_GROUP)] + [
        (r, "kmsMasterKeyId") for r in graph.of_type(SNS_TOPIC)
    ]:
        used = record.inputs.get(attribute)
        if is_unknown(used) or used == key:
            continue
        what = "its logs" if record.type == LOG_GROUP else "its alarm notifications"
        findings.append(
            Finding(
                "kms",
                record.name,
                f"is not encrypted with the stack's observability key ({attribute} is "
                f"{used or '(none: AWS-owned encryption)'}, the stack declares {key}): {what} escape the key "
                "policy the stack chose",
            )
        )
    return findings


# --------------------------------------------------------------------------- #
# The registry: what synth/checks.py and the pack both run
# --------------------------------------------------------------------------- #

INVARIANTS: tuple[Invariant, ...] = (
    Invariant(
        "secrets-only-through-secrets-list",
        "Every required secret reaches its container through `secrets` (a Secrets Manager ARN), none through "
        "plain `environment`, and every required plain setting is set.",
        Enforcement.MANDATORY,
        "the incident itself: a secret missing from the task definition is HTTP 500 on every prediction, "
        "one in plain environment is readable by anyone who may describe the task",
        secrets_only_through_secrets_list,
    ),
    Invariant(
        "execution-role-reads-exactly-its-secrets",
        "Each execution role may read exactly the secrets its task references: none missing, none more, no wildcard.",
        Enforcement.MANDATORY,
        "a missing grant stops every task at start (ResourceInitializationError); a wider one is a hole",
        execution_role_reads_exactly_its_secrets,
    ),
    Invariant(
        "no-world-open-ingress-except-alb",
        "No ingress from a CIDR but the load balancer's 80/443 from the world; no inline ingress.",
        Enforcement.MANDATORY,
        "open ingress is a hole from the moment it is applied",
        no_world_open_ingress_except_alb,
    ),
    Invariant(
        "services-admit-only-the-load-balancer",
        "Each service's group admits its container port, from referenced groups only.",
        Enforcement.MANDATORY,
        "another port or a non-group source is a hole; no rule at all is an outage",
        services_admit_only_the_load_balancer,
    ),
    Invariant(
        "tasks-get-no-public-ip",
        "Tasks run without public IPs.",
        Enforcement.MANDATORY,
        "a public IP puts the task on the internet, around the load balancer",
        tasks_get_no_public_ip,
    ),
    Invariant(
        "dependencies-admit-every-consumer",
        "Each dependency's security group admits every service that reaches it (and every extra consumer) on its "
        "port, by reference, and each such service may leave its own group for it.",
        Enforcement.MANDATORY,
        "the incident's missing redis_from_data_pipeline_ecs rule: a consumer without its rule times out",
        dependencies_admit_every_consumer,
    ),
    Invariant(
        "service-egress-is-narrow",
        "A service's tasks may leave for HTTPS (443) anywhere and for their dependencies' groups on their ports, "
        "and nothing else.",
        Enforcement.MANDATORY,
        "open egress lets a compromised task reach anything; no HTTPS out stops every task at start",
        service_egress_is_narrow,
    ),
    Invariant(
        "https-listeners-use-an-allowed-tls-policy",
        "Each HTTPS listener the stack creates uses a TLS 1.2+ policy of core/tls_policies.py (unless "
        "load_balancer.exceptions.tls_policy_not_allowed says why).",
        Enforcement.MANDATORY,
        "TLS 1.0/1.1 lets a client be downgraded to ciphers with known attacks, on the internet-facing listener",
        https_listeners_use_an_allowed_tls_policy,
    ),
    Invariant(
        "deployments-roll-back",
        "Each service's circuit breaker and deployment alarms roll a failing deployment back.",
        Enforcement.MANDATORY,
        "without rollback a broken revision replaces a working one and the deploy reports success",
        deployments_roll_back,
    ),
    Invariant(
        "failure-signatures-are-watched",
        "Each failure signature of the contract has its metric filter, an alarm that notifies the alarm topic, "
        "and is a deployment alarm where the contract says so.",
        Enforcement.MANDATORY,
        "the incident went unnoticed until a customer did: a signature nobody watches is that again",
        failure_signatures_are_watched,
    ),
    Invariant(
        "target-groups-are-tuned",
        "Target groups deregister within 60 s, health-check the contract's path and target task IPs on the "
        "container port.",
        Enforcement.ADVISORY,
        "a slow or mis-aimed target group makes deploys slow or fail visibly (and roll back); nothing is exposed",
        target_groups_are_tuned,
    ),
    Invariant(
        "deployments-are-tuned",
        "Deployments keep full capacity (100 % / 200 %).",
        Enforcement.ADVISORY,
        "capacity during a deploy is operator comfort, not safety",
        deployments_are_tuned,
    ),
    Invariant(
        "task-role-allows-ecs-exec",
        "Where a service has ECS Exec on, its task role allows ECS Exec's channels.",
        Enforcement.ADVISORY,
        "without it `aws ecs execute-command` fails; the service itself is unaffected",
        task_role_allows_ecs_exec,
    ),
    Invariant(
        "ecs-exec-only-where-declared",
        "ECS Exec is on only where the stack gives the reason (exceptions.ecs_exec), and a task role may open its "
        "channels only when its service has it on.",
        Enforcement.MANDATORY,
        "ECS Exec is a shell in every task, with its secrets, for whoever may call ecs:ExecuteCommand",
        ecs_exec_only_where_declared,
    ),
    Invariant(
        "containers-have-read-only-root-filesystem",
        "Each container's root filesystem is read-only (unless exceptions.writable_root_filesystem says why), and "
        "each path its contract writes to is a task volume mounted read-write.",
        Enforcement.MANDATORY,
        "a writable image lets a compromised process rewrite the application; a writable path not mounted "
        "stops the application at its first write",
        containers_have_read_only_root_filesystem,
    ),
    Invariant(
        "images-are-pinned",
        "Each container's image is pinned by digest (a tag only where exceptions.immutable_tags or "
        "exceptions.mutable_image_tag says why), never `latest`.",
        Enforcement.MANDATORY,
        "a tag pushed again changes what runs at the next task start, with no deploy and no review",
        images_are_pinned,
    ),
    Invariant(
        "containers-run-as-non-root",
        "Each container runs as a non-root user (unless exceptions.run_as_root says why).",
        Enforcement.MANDATORY,
        "root in the container is root over everything the task can touch, and one step from the host",
        containers_run_as_non_root,
    ),
    Invariant(
        "logs-and-secrets-are-protected",
        "Every log group and declared secret is protected from deletion by the engine.",
        Enforcement.MANDATORY,
        "a deleted log group loses an incident's evidence; a deleted secret stops every task that reads it",
        logs_and_secrets_are_protected,
    ),
    Invariant(
        "logs-and-alarm-topic-use-the-declared-key",
        "When the stack declares a KMS key for observability, every log group and the alarm topic use it.",
        Enforcement.MANDATORY,
        "a log group or topic left on AWS-owned encryption escapes the key policy, its audit trail and revocation",
        logs_and_alarm_topic_use_the_declared_key,
    ),
    Invariant(
        "logs-have-retention",
        "Every log group expires its logs.",
        Enforcement.ADVISORY,
        "logs kept forever cost money, and nothing breaks",
        logs_have_retention,
    ),
)


def check_records(records: Sequence[Record]) -> list[Finding]:
    """Every invariant's findings over `records`."""
    graph = Graph(records)
    return [finding for invariant in INVARIANTS for finding in invariant.check(graph)]
