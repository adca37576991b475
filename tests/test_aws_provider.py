"""core/aws_provider.py: the stack's `aws:` config read the way pulumi-aws reads it,
so the deploy gate looks with the same credentials, region and role."""

from __future__ import annotations

import pytest

from core.aws_provider import UNSUPPORTED_KEYS, AssumeRole, AwsProvider, AwsProviderError, read_aws_provider

ROLE = "arn:aws:iam::123456789012:role/hokusai-deployer"


def test_no_provider_config_means_the_default_credentials():
    provider = read_aws_provider({"aws:region": "us-east-1"})
    assert provider == AwsProvider(region="us-east-1")
    assert provider.gate_inputs() == {"aws_profile": None, "aws_assume_roles": []}


def test_profile_and_a_chain_of_roles_are_read_in_order():
    provider = read_aws_provider(
        {
            "aws:profile": "hokusai-dev",
            "aws:assumeRoles": [
                {"roleArn": ROLE, "sessionName": "deploy-42", "externalId": "hokusai-ci"},
                {"roleArn": "arn:aws:iam::210987654321:role/gate", "duration": "1h"},
            ],
        }
    )
    assert provider.profile == "hokusai-dev"
    assert provider.assume_roles == (
        AssumeRole(ROLE, "deploy-42", "hokusai-ci"),
        AssumeRole("arn:aws:iam::210987654321:role/gate"),
    )
    assert provider.gate_inputs()["aws_assume_roles"][0] == {
        "role_arn": ROLE,
        "session_name": "deploy-42",
        "external_id": "hokusai-ci",
    }


def test_the_older_single_assume_role_key_is_read_too():
    assert read_aws_provider({"aws:assumeRole": {"roleArn": ROLE}}).assume_roles == (AssumeRole(ROLE),)


@pytest.mark.parametrize(
    ("config", "words"),
    [
        ({"aws:assumeRoles": [{"roleArn": "hokusai-deployer"}]}, "aws:assumeRoles[0].roleArn: 'hokusai-deployer'"),
        ({"aws:assumeRoles": [{"sessionName": "x1"}]}, "aws:assumeRoles[0].roleArn: None is not an IAM role ARN"),
        ({"aws:assumeRoles": {"roleArn": ROLE}}, "aws:assumeRoles: expected a list"),
        ({"aws:assumeRoles": ["arn"]}, "aws:assumeRoles[0]: expected an object with roleArn"),
        ({"aws:assumeRole": {"roleArn": ROLE, "sessionName": "x"}}, "aws:assumeRole.sessionName: 'x' is not 2-64"),
        ({"aws:assumeRole": {"roleArn": ROLE, "externalId": "a b"}}, "aws:assumeRole.externalId: 'a b'"),
        ({"aws:assumeRole": {"roleArn": ROLE}, "aws:assumeRoles": [{"roleArn": ROLE}]}, "both set: keep one"),
        ({"aws:profile": ""}, "aws:profile: '' is not a profile name"),
    ],
)
def test_malformed_config_is_refused_naming_the_key(config, words):
    with pytest.raises(AwsProviderError) as caught:
        read_aws_provider(config)
    assert words in str(caught.value)


def test_every_problem_is_listed_at_once():
    with pytest.raises(AwsProviderError) as caught:
        read_aws_provider({"aws:profile": " ", "aws:assumeRoles": [{"roleArn": "x"}, {"roleArn": "y"}]})
    assert str(caught.value).startswith("the stack's AWS provider config has 3 problem(s):")


def test_config_set_as_a_secret_stays_a_secret_for_the_gate():
    config = {"aws:assumeRoles": [{"roleArn": ROLE}]}
    assert read_aws_provider(config, secret_keys={"aws:assumeRoles"}).from_secret_config
    assert not read_aws_provider(config, secret_keys={"hokusai:apiSecretKey"}).from_secret_config


@pytest.mark.parametrize("key", UNSUPPORTED_KEYS)
def test_credential_sources_the_gate_cannot_copy_are_named(key):
    provider = read_aws_provider({key: "value"})
    assert provider.unsupported == (key,)
    assert f"cannot use the AWS provider's {key}" in (provider.refusal() or "")


def test_nothing_to_refuse_without_them():
    assert read_aws_provider({"aws:profile": "p", "aws:skipCredentialsValidation": True}).refusal() is None
