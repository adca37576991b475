"""core/security_changes.py: the security-relevant rows of a diff, one table per category.

For each category, the protection taken away (removed) and loosened (weakened) must each show
as a row, and a change that touches no security property must show none. Then the program's
own graph: a stack given its own internet-facing load balancer shows the exposure and the TLS.
"""

from __future__ import annotations

import json

import pytest

from core.graph_diff import diff_graphs
from core.resource_graph import Record
from core.security_changes import Category, security_changes
from synth.render import document
from tests import tiers
from tests.helpers import STACKS, each_stack, run_as, stack_values, with_new_load_balancer

TASK = "aws:ecs/taskDefinition:TaskDefinition"
POLICY = "aws:iam/rolePolicy:RolePolicy"
ROLE = "aws:iam/role:Role"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
SERVICE = "aws:ecs/service:Service"
LOAD_BALANCER = "aws:lb/loadBalancer:LoadBalancer"
LISTENER = "aws:lb/listener:Listener"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:hokusai/development/huggingface/api-key-ZxBsLZ"


def rows(before: list[Record], after: list[Record]) -> list[tuple[Category, str, tuple[str, ...]]]:
    return [(c.category, c.sign, c.cells) for c in security_changes(diff_graphs(before, after))]


# --------------------------------------------------------------------------- #
# IAM
# --------------------------------------------------------------------------- #


def policy(*statements: dict, name: str = "api-roles-execution-policy") -> Record:
    return Record(
        POLICY, name, {"role": "exec", "policy": json.dumps({"Version": "2012-10-17", "Statement": list(statements)})}
    )


READ = {"Sid": "ReadDeclaredSecrets", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": [ARN]}
LOGS = {"Sid": "WriteLogs", "Effect": "Allow", "Action": ["logs:PutLogEvents"], "Resource": ["arn:aws:logs:*"]}


def test_a_statement_removed_or_added_is_a_row():
    assert rows([policy(READ, LOGS)], [policy(LOGS)]) == [
        (
            Category.IAM,
            "-",
            (
                "api-roles-execution-policy",
                "policy",
                "ReadDeclaredSecrets",
                "Allow",
                "secretsmanager:GetSecretValue",
                ARN,
                "",
            ),
        )
    ]
    ((_, sign, cells),) = rows([policy(LOGS)], [policy(READ, LOGS)])
    assert sign == "+" and cells[2] == "ReadDeclaredSecrets"


def test_a_widened_statement_shows_what_it_gained_and_lost():
    wider = READ | {"Action": ["secretsmanager:GetSecretValue", "secretsmanager:*"], "Resource": "*"}
    ((category, sign, cells),) = rows([policy(READ)], [policy(wider)])
    assert (category, sign) == (Category.IAM, "~")
    assert cells[4] == "+ secretsmanager:*" and cells[5] == f"+ *, − {ARN}"


def test_a_trust_policy_given_another_principal_is_a_row():
    def role(principal: str) -> Record:
        trust = {"Statement": [{"Effect": "Allow", "Principal": {"Service": principal}, "Action": "sts:AssumeRole"}]}
        return Record(ROLE, "api-roles-task", {"assumeRolePolicy": json.dumps(trust), "name": "t"})

    found = rows([role("ecs-tasks.amazonaws.com")], [role("ec2.amazonaws.com")])
    # Statements without a Sid are known by their content: the old one goes, the new one comes.
    assert [(s, c[1], c[6]) for _, s, c in found] == [
        ("-", "assumeRolePolicy", '{"Service": "ecs-tasks.amazonaws.com"}'),
        ("+", "assumeRolePolicy", '{"Service": "ec2.amazonaws.com"}'),
    ]


def test_a_managed_policy_attached_is_a_row():
    attachment = Record(
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        "api-roles-task-policy-0",
        {"role": "task", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
    )
    ((category, sign, cells),) = rows([], [attachment])
    assert (category, sign) == (Category.IAM, "+") and "AdministratorAccess" in cells[5]


# --------------------------------------------------------------------------- #
# Security-group rules, and the world
# --------------------------------------------------------------------------- #


def rule(name: str = "redis-from-api", type_: str = INGRESS, **inputs) -> Record:
    base = {
        "securityGroupId": "sg-0a1b2c3d4e5f60718",
        "referencedSecurityGroupId": "sg-be1d3a1fff63962b9",
        "ipProtocol": "tcp",
        "fromPort": 6379,
        "toPort": 6379,
    }
    return Record(type_, name, base | inputs)


def test_a_rule_removed_or_added_is_a_row_in_its_own_table():
    expected = ("redis-from-api", "ingress", "sg-0a1b2c3d4e5f60718", "tcp 6379", "sg-be1d3a1fff63962b9")
    assert rows([rule()], []) == [(Category.SECURITY_GROUPS, "-", expected)]
    assert rows([], [rule()]) == [(Category.SECURITY_GROUPS, "+", expected)]
    ((_, _, cells),) = rows([], [rule("api-egress", EGRESS, fromPort=443, toPort=443)])
    assert cells[1] == "egress" and cells[3] == "tcp 443"


def test_a_rule_widened_to_a_port_range_is_a_change():
    ((category, sign, cells),) = rows([rule()], [rule(fromPort=0, toPort=65535)])
    assert (category, sign) == (Category.SECURITY_GROUPS, "~") and cells[3] == "tcp 6379 → tcp 0-65535"


def test_a_rule_opened_to_the_world_is_a_change_and_an_exposure():
    opened = rule(referencedSecurityGroupId=None, cidrIpv4="0.0.0.0/0")
    found = rows([rule()], [opened])
    assert (Category.SECURITY_GROUPS, "~") in {(c, s) for c, s, _ in found}
    assert (Category.PUBLIC, "+", ("redis-from-api", "ingress tcp 6379 open to 0.0.0.0/0")) in found
    # ... and closed again: the exposure goes
    assert (Category.PUBLIC, "-", ("redis-from-api", "ingress tcp 6379 open to 0.0.0.0/0")) in rows([opened], [rule()])


def test_inline_rules_on_a_group_are_rows_too():
    def group(*ingress: dict) -> Record:
        return Record("aws:ec2/securityGroup:SecurityGroup", "lb-sg", {"name": "alb", "ingress": list(ingress)})

    https = {"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"]}
    everything = {"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}
    found = rows([group(https)], [group(https, everything)])
    assert (Category.SECURITY_GROUPS, "+", ("lb-sg", "ingress", "lb-sg (inline)", "all traffic", "0.0.0.0/0")) in found
    assert (Category.PUBLIC, "+", ("lb-sg", "ingress all traffic open to 0.0.0.0/0")) in found


def test_public_ips_and_internet_facing_load_balancers_are_exposures():
    def service(public: bool) -> Record:
        return Record(SERVICE, "api-service", {"networkConfiguration": {"assignPublicIp": public, "subnets": ["s"]}})

    assert rows([service(False)], [service(True)]) == [
        (Category.PUBLIC, "+", ("api-service", "tasks get a public IP (assignPublicIp)"))
    ]
    internal = Record(LOAD_BALANCER, "lb-alb", {"internal": True, "name": "x"})
    facing = Record(LOAD_BALANCER, "lb-alb", {"internal": False, "name": "x"})
    assert rows([internal], [facing]) == [
        (Category.PUBLIC, "+", ("lb-alb", "internet-facing load balancer (internal: false)"))
    ]


# --------------------------------------------------------------------------- #
# Secrets
# --------------------------------------------------------------------------- #


def task(secrets: list[dict], environment: list[dict] | None = None) -> Record:
    container = {"name": "api", "image": "i", "secrets": secrets, "environment": environment or []}
    return Record(TASK, "api-task", {"containerDefinitions": json.dumps([container])})


HF = {"name": "HUGGINGFACE_API_KEY", "valueFrom": ARN}


def test_a_secret_removed_from_or_added_to_a_container_is_a_row():
    assert rows([task([HF])], [task([])]) == [
        (
            Category.SECRETS,
            "-",
            ("api-task", "api", "HUGGINGFACE_API_KEY", f"secret removed from the container: valueFrom {ARN}"),
        )
    ]
    ((_, sign, _),) = rows([task([])], [task([HF])])
    assert sign == "+"


def test_a_secret_pointed_elsewhere_is_a_row():
    other = HF | {"valueFrom": ARN.replace("api-key-ZxBsLZ", "other-QwErTy") + ":token::"}
    ((category, sign, cells),) = rows([task([HF])], [task([other])])
    assert (category, sign) == (Category.SECRETS, "~") and cells[3] == f"valueFrom {ARN} → {other['valueFrom']}"


def test_a_secret_moved_to_plain_environment_is_two_rows_and_never_shows_the_value():
    plain = {"name": "HUGGINGFACE_API_KEY", "value": "hf_not_a_real_token_0000"}
    found = rows([task([HF])], [task([], [plain])])
    assert [(c, s, cells[2]) for c, s, cells in found] == [
        (Category.SECRETS, "-", "HUGGINGFACE_API_KEY"),
        (Category.SECRETS, "+", "HUGGINGFACE_API_KEY"),
    ]
    assert "named like a credential" in found[1][2][3]
    assert "hf_not_a_real_token" not in repr(found)


def test_a_declared_secret_and_a_new_value_are_rows_without_the_value():
    secret = Record("aws:secretsmanager/secret:Secret", "secrets-hf", {"name": "hokusai/development/hf"})
    version = "aws:secretsmanager/secretVersion:SecretVersion"
    assert rows([], [secret]) == [
        (Category.SECRETS, "+", ("secrets-hf", "", "hokusai/development/hf", "secret declared"))
    ]
    found = rows([Record(version, "v", {"secretString": "one"})], [Record(version, "v", {"secretString": "two"})])
    ((category, sign, cells),) = found
    assert (category, sign) == (Category.SECRETS, "~") and "one" not in repr(found) and "two" not in repr(found)


# --------------------------------------------------------------------------- #
# TLS
# --------------------------------------------------------------------------- #


def listener(**inputs) -> Record:
    base = {"protocol": "HTTPS", "port": 443, "sslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06", "certificateArn": "c"}
    return Record(LISTENER, "lb-https", base | inputs)


def test_a_listener_weakened_or_stripped_of_tls_is_a_row():
    old_policy = "ELBSecurityPolicy-2016-08"
    ((category, sign, cells),) = rows([listener()], [listener(sslPolicy=old_policy)])
    assert (category, sign) == (Category.TLS, "~") and cells[
        1
    ] == f"sslPolicy ELBSecurityPolicy-TLS13-1-2-2021-06 → {old_policy}"
    ((_, _, cells),) = rows([listener()], [listener(protocol="HTTP", sslPolicy=None, certificateArn=None)])
    assert cells[1].startswith("protocol HTTPS → HTTP")
    ((_, sign, cells),) = rows([], [Record(LISTENER, "lb-http", {"protocol": "HTTP", "port": 80})])
    assert sign == "+" and cells[1] == "listener protocol HTTP, port 80 (not TLS)"


def test_a_change_that_touches_no_security_property_has_no_row():
    def alarm(threshold: int) -> Record:
        return Record(ALARM, "api-observability-alarm-error-lines", {"threshold": threshold})

    assert rows([alarm(10)], [alarm(20)]) == []
    assert (
        rows(
            [task([HF], [{"name": "LOG_LEVEL", "value": "info"}])],
            [task([HF], [{"name": "LOG_LEVEL", "value": "debug"}])],
        )
        == []
    )


# --------------------------------------------------------------------------- #
# The program's own graph
# --------------------------------------------------------------------------- #


def _records(stack: str, values: dict) -> list[Record]:
    return [Record(r["type"], r["name"], r["inputs"]) for r in document(stack, run_as(stack, values))["resources"]]


@each_stack
@tiers.renders
def test_a_stack_given_its_own_load_balancer_shows_the_exposure_and_the_tls(stack):
    before = _records(stack, stack_values(stack))
    after = _records(stack, with_new_load_balancer(stack_values(stack)))
    found = rows(before, after)
    public = {cells[1] for category, sign, cells in found if category is Category.PUBLIC and sign == "+"}
    assert "internet-facing load balancer (internal: false)" in public
    assert {"ingress tcp 443 open to 0.0.0.0/0", "ingress tcp 443 open to ::/0"} <= public
    tls = [cells[1] for category, sign, cells in found if category is Category.TLS and sign == "+"]
    assert any(t.startswith("listener protocol HTTPS, port 443, sslPolicy ") for t in tls), tls
    assert any(t.startswith("listener protocol HTTP, port 80") and t.endswith("(not TLS)") for t in tls), tls


@pytest.mark.parametrize("stack", STACKS[:1])
@tiers.renders
def test_nothing_changed_has_no_row(stack):
    records = _records(stack, stack_values(stack))
    assert rows(records, records) == []
