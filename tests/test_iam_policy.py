"""core/iam_policy.py: the project's one IAM policy evaluator.

GIVEN a policy and a request (action, resource, condition keys) WHEN evaluated
THEN the decision IAM would reach for the principal's identity-based policies,
with the statement that decided; CANNOT_TELL only where the evaluator cannot
read something that could change the answer.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.iam_policy import Decision, decide, decide_within_boundary, evaluate, resources_granted

ALLOWED, DENIED, NOT_ALLOWED, CANNOT_TELL = (
    Decision.ALLOWED,
    Decision.DENIED,
    Decision.NOT_ALLOWED,
    Decision.CANNOT_TELL,
)
SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:hokusai/development/huggingface/api-key-AbCdEf"
OTHER_SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf"
ROLE = "arn:aws:iam::123456789012:role/hokusai-api-development-task"


def allow(action="secretsmanager:GetSecretValue", resource="*", sid="Grant", **extra):
    return {"Sid": sid, "Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action="secretsmanager:GetSecretValue", resource="*", sid="Refuse", **extra):
    return {"Sid": sid, "Effect": "Deny", "Action": action, "Resource": resource, **extra}


def policy(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def when(condition, context=None, *, complete=True, effect=allow):
    """The decision on reading SECRET under one statement carrying `condition`."""
    return decide(
        policy(effect(Condition=condition)),
        "secretsmanager:GetSecretValue",
        SECRET,
        context,
        context_is_complete=complete,
    )


# --------------------------------------------------------------------------- #
# Effects and precedence
# --------------------------------------------------------------------------- #


def test_an_allow_that_applies_allows_and_names_its_statement():
    verdict = evaluate(
        [policy(allow(resource=SECRET, sid="ReadDeclaredSecrets"))], "secretsmanager:GetSecretValue", SECRET
    )
    assert verdict.decision is ALLOWED and verdict.sid == "ReadDeclaredSecrets"
    assert "ReadDeclaredSecrets" in verdict.reason


def test_nothing_that_applies_is_an_implicit_deny_without_a_statement():
    verdict = evaluate([policy(allow(resource=SECRET))], "secretsmanager:GetSecretValue", OTHER_SECRET)
    assert verdict.decision is NOT_ALLOWED and verdict.sid is None
    assert decide([], "secretsmanager:GetSecretValue", SECRET) is NOT_ALLOWED


def test_an_explicit_deny_wins_over_any_allow_in_any_document():
    documents = [policy(allow(action="*")), policy(allow(resource=SECRET)), policy(deny(sid="NeverReadSecretValues"))]
    verdict = evaluate(documents, "secretsmanager:GetSecretValue", SECRET)
    assert verdict.decision is DENIED and verdict.sid == "NeverReadSecretValues"
    # ... also when the Deny comes first, and only for what it covers
    assert decide([policy(deny(), allow(action="*"))], "secretsmanager:GetSecretValue", SECRET) is DENIED
    assert decide([policy(deny(), allow(action="*"))], "secretsmanager:DescribeSecret", SECRET) is ALLOWED


def test_a_deny_alone_is_denied_not_merely_not_allowed():
    assert decide(policy(deny()), "secretsmanager:GetSecretValue", SECRET) is DENIED


def test_one_document_may_be_given_without_a_list_and_a_lone_statement_without_a_list():
    assert decide(policy(allow()), "secretsmanager:GetSecretValue", SECRET) is ALLOWED
    assert decide([{"Statement": allow()}], "secretsmanager:GetSecretValue", SECRET) is ALLOWED


def test_a_statement_without_a_sid_is_named_by_its_place():
    statement = allow()
    del statement["Sid"]
    verdict = evaluate([policy(deny(action="s3:*")), policy(statement)], "secretsmanager:GetSecretValue", SECRET)
    assert (
        verdict.decision is ALLOWED and verdict.sid is None and verdict.reason == "statement 1 of document 2 allows it"
    )


# --------------------------------------------------------------------------- #
# Action / NotAction, Resource / NotResource, wildcards
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    "pattern, action, expected",
    [
        ("secretsmanager:GetSecretValue", "secretsmanager:GetSecretValue", True),
        ("SecretsManager:getsecretvalue", "secretsmanager:GetSecretValue", True),  # actions ignore case
        ("secretsmanager:*", "secretsmanager:GetSecretValue", True),
        ("secretsmanager:Get*", "secretsmanager:GetSecretValue", True),
        ("secretsmanager:Get*", "secretsmanager:PutSecretValue", False),
        ("secretsmanager:?etSecretValue", "secretsmanager:GetSecretValue", True),
        ("secretsmanager:?etSecretValue", "secretsmanager:BatchGetSecretValue", False),  # ? is one character
        ("*", "ec2:RunInstances", True),
        ("secretsmanager:GetSecret", "secretsmanager:GetSecretValue", False),  # whole names only
        ("ecs:Describe.*", "ecs:DescribeServices", False),  # . is not a regex
    ],
)
def test_action_wildcards_and_case(pattern, action, expected):
    assert (decide(policy(allow(action=pattern)), action, "*") is ALLOWED) is expected


@pytest.mark.parametrize(
    "pattern, resource, expected",
    [
        (SECRET, SECRET, True),
        ("arn:aws:secretsmanager:*:*:secret:hokusai/*", SECRET, True),
        ("arn:aws:secretsmanager:*:*:secret:hokusai/*", OTHER_SECRET, False),
        ("arn:aws:secretsmanager:*:*:secret:Hokusai/*", SECRET, False),  # resources are case-sensitive
        (
            "arn:aws:logs:*:*:log-group:/ecs/hokusai-api-development:*",
            "arn:aws:logs:us-east-1:123456789012:log-group:/ecs/hokusai-api-development:*",
            True,
        ),
        ("arn:aws:iam::*:role/hokusai-???-development-task", ROLE, True),
        ("arn:aws:iam::*:role/hokusai-??-development-task", ROLE, False),
        ("*", "*", True),
        ("arn:aws:ecs:*:*:cluster/hokusai-*", "*", False),  # a scoped grant does not cover an unscoped call
    ],
)
def test_resource_wildcards_and_case(pattern, resource, expected):
    assert (decide(policy(allow(action="x:Y", resource=pattern)), "x:Y", resource) is ALLOWED) is expected


def test_a_list_of_actions_or_resources_is_any_of_them():
    statement = allow(action=["ecs:DescribeServices", "ecs:ListTasks"], resource=[SECRET, ROLE])
    assert decide(policy(statement), "ecs:ListTasks", ROLE) is ALLOWED
    assert decide(policy(statement), "ecs:RunTask", ROLE) is NOT_ALLOWED
    assert decide(policy(statement), "ecs:ListTasks", OTHER_SECRET) is NOT_ALLOWED


def test_not_action_covers_every_other_action():
    statement = {"Sid": "AllButIam", "Effect": "Allow", "NotAction": ["iam:*", "sts:AssumeRole"], "Resource": "*"}
    assert decide(policy(statement), "ecs:UpdateService", "*") is ALLOWED
    assert decide(policy(statement), "iam:PassRole", ROLE) is NOT_ALLOWED
    assert decide(policy(statement), "STS:assumerole", ROLE) is NOT_ALLOWED


def test_not_resource_covers_every_other_resource():
    statement = {
        "Effect": "Deny",
        "Action": "secretsmanager:*",
        "NotResource": "arn:aws:secretsmanager:*:*:secret:hokusai/*",
    }
    documents = [policy(allow(action="secretsmanager:*"), statement)]
    assert decide(documents, "secretsmanager:GetSecretValue", SECRET) is ALLOWED
    assert decide(documents, "secretsmanager:GetSecretValue", OTHER_SECRET) is DENIED


def test_a_deny_with_not_action_and_not_resource_reads_as_iam_does():
    """Deny everything but reading hokusai's secrets: a guard the old evaluator could only shrug at."""
    guard = {
        "Sid": "OnlyHokusaiSecrets",
        "Effect": "Deny",
        "NotAction": "secretsmanager:GetSecretValue",
        "NotResource": "arn:aws:secretsmanager:*:*:secret:hokusai/*",
    }
    documents = [policy(allow(action="*"), guard)]
    assert decide(documents, "secretsmanager:GetSecretValue", SECRET) is ALLOWED
    assert decide(documents, "secretsmanager:GetSecretValue", OTHER_SECRET) is ALLOWED  # NotAction: not covered
    assert decide(documents, "secretsmanager:DeleteSecret", SECRET) is ALLOWED  # NotResource: not covered
    assert decide(documents, "secretsmanager:DeleteSecret", OTHER_SECRET) is DENIED


# --------------------------------------------------------------------------- #
# Conditions, operator by operator
# --------------------------------------------------------------------------- #

VIA = "kms:ViaService"


@pytest.mark.parametrize(
    "operator, wanted, value, expected",
    [
        ("StringEquals", "ecs-tasks.amazonaws.com", "ecs-tasks.amazonaws.com", True),
        ("StringEquals", "ecs-tasks.amazonaws.com", "ECS-tasks.amazonaws.com", False),
        ("StringEquals", "ecs-tasks.*", "ecs-tasks.amazonaws.com", False),  # no wildcards in Equals
        ("StringEquals", ["lambda.amazonaws.com", "ecs-tasks.amazonaws.com"], "ecs-tasks.amazonaws.com", True),
        ("StringNotEquals", "lambda.amazonaws.com", "ecs-tasks.amazonaws.com", True),
        ("StringNotEquals", ["lambda.amazonaws.com", "ecs-tasks.amazonaws.com"], "ecs-tasks.amazonaws.com", False),
        ("StringEqualsIgnoreCase", "ECS-Tasks.amazonaws.com", "ecs-tasks.amazonaws.com", True),
        ("StringNotEqualsIgnoreCase", "ECS-Tasks.amazonaws.com", "ecs-tasks.amazonaws.com", False),
        ("StringLike", "secretsmanager.*.amazonaws.com", "secretsmanager.us-east-1.amazonaws.com", True),
        ("StringLike", "secretsmanager.*.amazonaws.com", "s3.us-east-1.amazonaws.com", False),
        ("StringLike", "secretsmanager.us-east-?.amazonaws.com", "secretsmanager.us-east-1.amazonaws.com", True),
        ("StringLike", "Secretsmanager.*", "secretsmanager.us-east-1.amazonaws.com", False),  # case-sensitive
        ("StringNotLike", "s3.*", "secretsmanager.us-east-1.amazonaws.com", True),
        ("StringNotLike", ["s3.*", "secretsmanager.*"], "secretsmanager.us-east-1.amazonaws.com", False),
        ("Bool", "true", "true", True),
        ("Bool", "true", "false", False),
        ("Bool", True, "TRUE", True),  # a JSON boolean in the policy, any case in the request
    ],
)
def test_string_and_bool_operators(operator, wanted, value, expected):
    assert (when({operator: {VIA: wanted}}, {VIA: value}) is ALLOWED) is expected


ECS_ARN = "arn:aws:ecs:us-east-1:123456789012:service/hokusai-development/hokusai-api-development"


@pytest.mark.parametrize(
    "operator, wanted, value, expected",
    [
        ("ArnLike", "arn:aws:ecs:us-east-1:123456789012:*", ECS_ARN, True),
        ("ArnLike", "arn:aws:ecs:*:123456789012:service/hokusai-*", ECS_ARN, True),
        ("ArnLike", "arn:aws:ecs:*:210987654321:*", ECS_ARN, False),
        ("ArnLike", "arn:aws:*:us-east-1:123456789012:service/*", ECS_ARN, True),
        ("ArnLike", "*", ECS_ARN, True),
        ("ArnLike", "arn:aws:ecs:*:*:*", "not-an-arn", False),
        ("ArnEquals", ECS_ARN, ECS_ARN, True),
        ("ArnEquals", "arn:aws:ecs:us-east-1:123456789012:service/*", ECS_ARN, True),  # ArnEquals takes wildcards too
        ("ArnNotLike", "arn:aws:ecs:*:210987654321:*", ECS_ARN, True),
        ("ArnNotLike", "arn:aws:ecs:*:123456789012:*", ECS_ARN, False),
        ("ArnNotEquals", ECS_ARN, ECS_ARN, False),
    ],
)
def test_arn_operators(operator, wanted, value, expected):
    assert (when({operator: {"aws:SourceArn": wanted}}, {"aws:SourceArn": value}) is ALLOWED) is expected


def test_an_arn_pattern_of_fewer_than_six_parts_is_not_guessed():
    """Each of the six parts is matched on its own: `arn:aws:ecs:us-east-1:*` is not a prefix match."""
    assert when({"ArnLike": {"aws:SourceArn": "arn:aws:ecs:us-east-1:*"}}, {"aws:SourceArn": ECS_ARN}) is CANNOT_TELL


@pytest.mark.parametrize(
    "operator, expected",
    [
        # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html:
        # a key absent from the request fails a positive operator and satisfies a negated one.
        ("StringEquals", NOT_ALLOWED),
        ("StringLike", NOT_ALLOWED),
        ("ArnLike", NOT_ALLOWED),
        ("ArnEquals", NOT_ALLOWED),
        ("Bool", NOT_ALLOWED),
        ("StringNotEquals", ALLOWED),
        ("StringNotLike", ALLOWED),
        ("ArnNotLike", ALLOWED),
        # ...IfExists: no key, no test
        ("StringEqualsIfExists", ALLOWED),
        ("StringLikeIfExists", ALLOWED),
        ("ArnLikeIfExists", ALLOWED),
        ("BoolIfExists", ALLOWED),
        ("StringNotEqualsIfExists", ALLOWED),
    ],
)
def test_a_key_the_request_lacks(operator, expected):
    assert when({operator: {"aws:SourceVpce": "vpce-0a1b2c3d"}}, {"aws:SourceAccount": "123456789012"}) is expected


def test_if_exists_tests_the_key_when_it_is_there():
    assert when({"StringEqualsIfExists": {"aws:SourceVpce": "vpce-1"}}, {"aws:SourceVpce": "vpce-1"}) is ALLOWED
    assert when({"StringEqualsIfExists": {"aws:SourceVpce": "vpce-1"}}, {"aws:SourceVpce": "vpce-2"}) is NOT_ALLOWED
    assert when({"StringNotLikeIfExists": {"aws:SourceVpce": "vpce-*"}}, {"aws:SourceVpce": "vpce-2"}) is NOT_ALLOWED


def test_a_negated_deny_on_a_missing_key_denies():
    """The classic guard: deny unless the call comes through the endpoint. No endpoint, no access."""
    documents = [policy(allow(), deny(Condition={"StringNotEquals": {"aws:SourceVpce": "vpce-1"}}))]
    assert decide(documents, "secretsmanager:GetSecretValue", SECRET) is DENIED
    assert decide(documents, "secretsmanager:GetSecretValue", SECRET, {"aws:SourceVpce": "vpce-1"}) is ALLOWED


def test_null_tests_whether_the_key_is_there():
    assert when({"Null": {"aws:TokenIssueTime": "true"}}, {}) is ALLOWED
    assert when({"Null": {"aws:TokenIssueTime": "true"}}, {"aws:TokenIssueTime": "2026-01-01T00:00:00Z"}) is NOT_ALLOWED
    assert when({"Null": {"aws:TokenIssueTime": "false"}}, {"aws:TokenIssueTime": "2026-01-01T00:00:00Z"}) is ALLOWED
    assert when({"Null": {"aws:TokenIssueTime": False}}, {}) is NOT_ALLOWED
    assert when({"Null": {"aws:TagKeys": "true"}}, {"aws:TagKeys": []}) is ALLOWED  # no values: not there


TAGS = "aws:TagKeys"


@pytest.mark.parametrize(
    "operator, wanted, values, expected",
    [
        # ForAnyValue: at least one of the request's values matches; none at all fails.
        ("ForAnyValue:StringEquals", ["Service", "Stack"], ["Stack", "Owner"], True),
        ("ForAnyValue:StringEquals", ["Service", "Stack"], ["Owner"], False),
        ("ForAnyValue:StringEquals", ["Service"], [], False),
        ("ForAnyValue:StringEquals", ["Service"], None, False),
        ("ForAnyValue:StringLike", ["Serv*"], ["Owner", "Service"], True),
        ("ForAnyValue:StringNotEquals", ["Service", "Stack"], ["Stack", "Owner"], True),  # Owner is neither
        ("ForAnyValue:StringNotEquals", ["Service", "Stack"], ["Stack"], False),
        # ForAllValues: every value matches; no values holds (vacuously).
        ("ForAllValues:StringEquals", ["Service", "Stack"], ["Stack", "Service"], True),
        ("ForAllValues:StringEquals", ["Service", "Stack"], ["Stack", "Owner"], False),
        ("ForAllValues:StringEquals", ["Service"], [], True),
        ("ForAllValues:StringEquals", ["Service"], None, True),
        ("ForAllValues:StringLike", ["S*"], ["Stack", "Service"], True),
        ("ForAllValues:StringNotLike", ["aws:*"], ["Stack", "Service"], True),
        ("ForAllValues:StringNotLike", ["aws:*"], ["Stack", "aws:cloudformation:stack-name"], False),
        ("ForAnyValue:StringEqualsIfExists", ["Service"], None, True),
        ("ForAnyValue:ArnLike", ["arn:aws:iam::*:role/hokusai-*"], [ROLE, "arn:aws:iam::1:role/x"], True),
    ],
)
def test_set_operators_on_multivalued_keys(operator, wanted, values, expected):
    context = {} if values is None else {TAGS: values}
    assert (when({operator: {TAGS: wanted}}, context) is ALLOWED) is expected


def test_several_operators_and_keys_must_all_hold():
    condition = {
        "StringEquals": {"aws:SourceAccount": "123456789012", "iam:PassedToService": "ecs-tasks.amazonaws.com"},
        "ArnLike": {"aws:SourceArn": "arn:aws:ecs:us-east-1:123456789012:*"},
    }
    context = {
        "aws:SourceAccount": "123456789012",
        "iam:PassedToService": "ecs-tasks.amazonaws.com",
        "aws:SourceArn": ECS_ARN,
    }
    assert when(condition, context) is ALLOWED
    for key in context:
        assert when(condition, {k: v for k, v in context.items() if k != key}) is NOT_ALLOWED, key
    assert when(condition, {**context, "aws:SourceArn": ECS_ARN.replace("123456789012", "210987654321")}) is NOT_ALLOWED


def test_condition_key_names_ignore_case_values_do_not():
    assert (
        when(
            {"StringEquals": {"IAM:passedToService": "ecs-tasks.amazonaws.com"}},
            {"iam:PassedToService": "ecs-tasks.amazonaws.com"},
        )
        is ALLOWED
    )
    assert (
        when(
            {"StringEquals": {"iam:PassedToService": "ECS-tasks.amazonaws.com"}},
            {"iam:PassedToService": "ecs-tasks.amazonaws.com"},
        )
        is NOT_ALLOWED
    )


def test_a_conditional_deny_denies_only_when_its_condition_holds():
    documents = [policy(allow(), deny(Condition={"Bool": {"aws:SecureTransport": "false"}}))]
    assert decide(documents, "secretsmanager:GetSecretValue", SECRET, {"aws:SecureTransport": "false"}) is DENIED
    assert decide(documents, "secretsmanager:GetSecretValue", SECRET, {"aws:SecureTransport": "true"}) is ALLOWED


# --------------------------------------------------------------------------- #
# What it cannot evaluate, it says
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    "condition",
    [
        {"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}},
        {"DateGreaterThan": {"aws:CurrentTime": "2026-01-01T00:00:00Z"}},
        {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
        {"ForSomeValues:StringEquals": {TAGS: "x"}},
        {"StringEquals": {"aws:PrincipalTag/team": "${aws:username}"}},
        {"StringEquals": {"aws:SourceVpce": {"not": "a string"}}},
        {"Null": {"aws:SourceVpce": "maybe"}},
        "not an object",
    ],
)
def test_what_it_cannot_evaluate_is_cannot_tell_never_a_guess(condition):
    verdict = evaluate(policy(allow(Condition=condition)), "secretsmanager:GetSecretValue", SECRET, {})
    assert verdict.decision is CANNOT_TELL and verdict.sid == "Grant" and verdict.reason.startswith("Grant: ")


def test_an_unreadable_deny_that_might_apply_leaves_an_allow_uncertain():
    documents = [policy(allow(), deny(Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}))]
    verdict = evaluate(documents, "secretsmanager:GetSecretValue", SECRET)
    assert verdict.decision is CANNOT_TELL and verdict.sid == "Refuse" and "IpAddress" in verdict.reason


def test_an_unreadable_statement_that_cannot_apply_changes_nothing():
    unreadable = {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}
    documents = [policy(allow(), deny(action="s3:*", Condition=unreadable))]
    assert decide(documents, "secretsmanager:GetSecretValue", SECRET) is ALLOWED
    # ... nor one whose other condition already fails
    both = {**unreadable, "StringEquals": {"aws:SourceAccount": "210987654321"}}
    documents = [policy(allow(), deny(Condition=both))]
    assert decide(documents, "secretsmanager:GetSecretValue", SECRET, {"aws:SourceAccount": "1"}) is ALLOWED


def test_an_unreadable_deny_cannot_make_an_unallowed_request_allowed():
    documents = [policy(deny(Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}))]
    assert decide(documents, "secretsmanager:GetSecretValue", SECRET) is NOT_ALLOWED


def test_several_values_for_a_key_need_a_set_operator():
    verdict = evaluate(
        policy(allow(Condition={"StringEquals": {TAGS: "a"}})),
        "secretsmanager:GetSecretValue",
        SECRET,
        {TAGS: ["a", "b"]},
    )
    assert verdict.decision is CANNOT_TELL and "ForAnyValue" in verdict.reason
    assert when({"StringEquals": {TAGS: "a"}}, {TAGS: ["a"]}) is ALLOWED  # one value is one value


@pytest.mark.parametrize(
    "statement",
    [
        {"Effect": "Allow", "Resource": "*"},  # no Action
        {"Effect": "Allow", "Action": "*", "NotAction": "iam:*", "Resource": "*"},  # both
        {"Effect": "Allow", "Action": "*"},  # no Resource
        {"Effect": "Permit", "Action": "*", "Resource": "*"},
        {"Effect": "Allow", "Action": 42, "Resource": "*"},
        {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "*", "Resource": "*"},
        {"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::${aws:username}/*"},
        "not a statement",
    ],
)
def test_a_malformed_statement_is_cannot_tell(statement):
    assert decide([{"Statement": [statement]}], "secretsmanager:GetSecretValue", SECRET) is CANNOT_TELL


def test_a_document_without_statements_is_cannot_tell():
    assert decide([{"Version": "2012-10-17"}], "secretsmanager:GetSecretValue", SECRET) is CANNOT_TELL


def test_a_partial_context_makes_unknown_keys_unknown_not_absent():
    """verify knows only part of the request ECS makes: a condition on anything else is not guessed."""
    condition = {"StringEquals": {"aws:SourceVpce": "vpce-1"}}
    assert when(condition, {}, complete=True) is NOT_ALLOWED
    assert when(condition, {}, complete=False) is CANNOT_TELL
    assert when(condition, {"aws:SourceVpce": "vpce-1"}, complete=False) is ALLOWED
    # A Deny on an unknown key could deny: an Allow is no longer certain.
    guard = {"StringNotEquals": {"aws:SourceVpce": "vpce-1"}}
    documents = [policy(allow(), deny(Condition=guard))]
    assert decide(documents, "secretsmanager:GetSecretValue", SECRET, {}, context_is_complete=False) is CANNOT_TELL
    # Known keys still decide: a failed known condition needs no unknown one.
    both = {"StringEquals": {"aws:PrincipalAccount": "1", "aws:SourceVpce": "vpce-1"}}
    assert when(both, {"aws:PrincipalAccount": "2"}, complete=False) is NOT_ALLOWED


# --------------------------------------------------------------------------- #
# How far a grant reaches
# --------------------------------------------------------------------------- #


def test_resources_granted_lists_what_the_allows_for_an_action_name():
    documents = [
        policy(
            allow(resource=[SECRET]),
            allow(
                action="secretsmanager:*",
                resource="arn:aws:secretsmanager:*:*:secret:hokusai/*",
                Condition={"Bool": {"aws:SecureTransport": "true"}},
            ),
            allow(action="ecs:*", resource="arn:aws:ecs:*:*:cluster/x"),
            deny(resource=OTHER_SECRET),
        )
    ]
    assert resources_granted(documents, "secretsmanager:GetSecretValue") == {
        SECRET,
        "arn:aws:secretsmanager:*:*:secret:hokusai/*",
    }
    everything_but = {"Effect": "Allow", "Action": "secretsmanager:*", "NotResource": SECRET}
    assert resources_granted([policy(everything_but)], "secretsmanager:GetSecretValue") == {"*"}


# --------------------------------------------------------------------------- #
# Properties
# --------------------------------------------------------------------------- #

ACTIONS = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret", "iam:PassRole", "ecs:UpdateService"]
RESOURCES = [SECRET, OTHER_SECRET, ROLE, "*"]
KEYS = ["iam:PassedToService", "aws:SourceVpce", "aws:TagKeys"]
WORDS = ["ecs-tasks.amazonaws.com", "vpce-1", "Stack", "true"]

patterns = st.one_of(
    st.sampled_from(ACTIONS + RESOURCES + ["*", "secretsmanager:*", "*Secret*", "iam:?assRole"]),
    st.text(alphabet="abcs:*?/-", max_size=8),
)
conditions = st.dictionaries(
    st.sampled_from(
        [
            "StringEquals",
            "StringNotEquals",
            "StringLike",
            "StringNotLikeIfExists",
            "ArnLike",
            "ArnNotLike",
            "Bool",
            "Null",
            "ForAnyValue:StringEquals",
            "ForAllValues:StringNotLike",
            "NumericLessThan",  # unknown to the evaluator
        ]
    ),
    st.dictionaries(
        st.sampled_from(KEYS),
        st.one_of(st.sampled_from(WORDS), st.lists(st.sampled_from(WORDS), max_size=2)),
        min_size=1,
        max_size=2,
    ),
    max_size=2,
)


@st.composite
def statements(draw, effect=None):
    statement = {"Effect": effect or draw(st.sampled_from(["Allow", "Deny"]))}
    statement[draw(st.sampled_from(["Action", "NotAction"]))] = draw(st.lists(patterns, min_size=1, max_size=3))
    statement[draw(st.sampled_from(["Resource", "NotResource"]))] = draw(st.lists(patterns, min_size=1, max_size=3))
    condition = draw(conditions)
    if condition:
        statement["Condition"] = condition
    return statement


contexts = st.dictionaries(
    st.sampled_from(KEYS), st.one_of(st.sampled_from(WORDS), st.lists(st.sampled_from(WORDS), max_size=2)), max_size=3
)
requests = st.tuples(st.sampled_from(ACTIONS), st.sampled_from(RESOURCES), contexts, st.booleans())


@settings(deadline=None)
@given(st.lists(statements(), max_size=5), statements(effect="Deny"), requests)
def test_adding_a_deny_never_allows_what_was_not_allowed(existing, added, request):
    action, resource, context, complete = request
    before = decide([policy(*existing)], action, resource, context, context_is_complete=complete)
    after = decide([policy(*existing), policy(added)], action, resource, context, context_is_complete=complete)
    if before is not ALLOWED:
        assert after is not ALLOWED
    if before is DENIED:
        assert after is DENIED


@settings(deadline=None)
@given(st.lists(statements(effect="Allow"), max_size=5), requests)
def test_allow_statements_alone_never_deny(existing, request):
    action, resource, context, complete = request
    assert decide([policy(*existing)], action, resource, context, context_is_complete=complete) is not DENIED


@settings(deadline=None)
@given(st.lists(statements(), max_size=5), requests)
def test_the_order_of_statements_and_documents_does_not_change_the_decision(existing, request):
    action, resource, context, complete = request
    forward = decide([policy(*existing)], action, resource, context, context_is_complete=complete)
    backward = decide([policy(s) for s in reversed(existing)], action, resource, context, context_is_complete=complete)
    assert forward is backward


@settings(deadline=None)
@given(st.lists(statements(), max_size=5), requests)
def test_a_complete_context_never_leaves_a_known_operator_in_doubt(existing, request):
    """With the whole request known, only what cannot be read makes it CANNOT_TELL: an
    unknown operator (NumericLessThan here), several values without a set operator,
    a Null that is not true/false, an ArnLike pattern that is not an ARN."""
    action, resource, context, _complete = request
    verdict = evaluate([policy(*existing)], action, resource, context)
    if verdict.decision is CANNOT_TELL:
        expected = ("NumericLessThan", "several values", "takes true or false", "is not an ARN pattern")
        assert any(why in verdict.reason for why in expected), verdict.reason


# --------------------------------------------------------------------------- #
# A permissions boundary: both must allow, either may deny
# --------------------------------------------------------------------------- #

ADMIN = policy(allow(action="*", resource="*", sid="Everything"))
READ_ONE_SECRET = policy(allow(resource=SECRET, sid="OneSecret"))


@pytest.mark.parametrize(
    "identity, boundary, resource, expected",
    [
        # The boundary caps an identity policy that allows everything ...
        (ADMIN, READ_ONE_SECRET, SECRET, ALLOWED),
        (ADMIN, READ_ONE_SECRET, OTHER_SECRET, NOT_ALLOWED),
        # ... and grants nothing by itself.
        (policy(allow(action="s3:GetObject")), READ_ONE_SECRET, SECRET, NOT_ALLOWED),
        # A Deny in either wins.
        (policy(allow(), deny(resource=OTHER_SECRET)), ADMIN, OTHER_SECRET, DENIED),
        (ADMIN, policy(allow(action="*"), deny()), SECRET, DENIED),
        # What the evaluator cannot read stays unknown only when nothing else refuses.
        (policy(allow(Condition={"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}})), ADMIN, SECRET, CANNOT_TELL),
        (
            policy(allow(Condition={"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}})),
            READ_ONE_SECRET,
            OTHER_SECRET,
            NOT_ALLOWED,
        ),
    ],
)
def test_a_boundary_allows_only_what_both_allow_and_either_may_deny(identity, boundary, resource, expected):
    assert decide_within_boundary(identity, boundary, "secretsmanager:GetSecretValue", resource) is expected
