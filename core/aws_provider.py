"""How the stack's AWS provider authenticates, read from its `aws:` config, for the deploy gate.

The deploy gate runs in Pulumi's dynamic-provider process with boto3, not
through the pulumi-aws provider: left alone it would look with boto3's default
credentials, in whatever account and region they belong to, while the stack
deploys with `aws:profile` or an assumed role. So the program reads the same
keys the provider reads and hands them to the gate:

    aws:region                  the region
    aws:profile                 a named profile of the shared config files
    aws:assumeRoles             roles to assume in turn, each {roleArn, sessionName?, externalId?}
                                (pulumi-aws 6.x and later)
    aws:assumeRole              one role, the same object (pulumi-aws 5.x)

None of these is a secret (an ARN, a profile name, a session name, an external
id that guards against the confused deputy), so they go into the gate's inputs
as they are; one set with `pulumi config set --secret` stays encrypted there too.
Credentials themselves never do: keys the gate cannot reproduce without putting
them in its state are listed in `unsupported`, and the program refuses them
while the gate is on (`refusal`).

Pure: the program passes in its config as a mapping (infra/stack_config.py).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

# Credential sources of the provider that the gate cannot copy into its inputs:
# static keys are secrets, web identity needs a token file, and custom shared-file
# paths (a list in pulumi-aws) have no boto3 Session equivalent.
UNSUPPORTED_KEYS = (
    "aws:accessKey",
    "aws:secretKey",
    "aws:token",
    "aws:assumeRoleWithWebIdentity",
    "aws:sharedConfigFiles",
    "aws:sharedCredentialsFiles",
)
# What STS accepts (AssumeRole's RoleSessionName and ExternalId).
_SESSION_NAME = re.compile(r"^[\w+=,.@-]{2,64}$")
_EXTERNAL_ID = re.compile(r"^[\w+=,.@:/-]{2,1224}$")
_ROLE_ARN = re.compile(r"^arn:aws[\w-]*:iam::\d{12}:role/[\w+=,.@/-]+$")


class AwsProviderError(ValueError):
    """The stack's `aws:` config cannot be read; the message names every problem and its fix."""


@dataclass(frozen=True)
class AssumeRole:
    role_arn: str
    session_name: str | None = None
    external_id: str | None = None


@dataclass(frozen=True)
class AwsProvider:
    region: str | None = None
    profile: str | None = None
    # Assumed in order, each with the credentials of the one before (pulumi-aws chains them the same way).
    assume_roles: tuple[AssumeRole, ...] = ()
    # Some of the keys above were set with --secret: keep the gate's copy encrypted in its state.
    from_secret_config: bool = False
    # Keys of UNSUPPORTED_KEYS the stack sets.
    unsupported: tuple[str, ...] = ()

    def gate_inputs(self) -> dict[str, Any]:
        """The deploy gate's inputs that say how to reach AWS (infra/deploy_gate.py reads them back)."""
        return {
            "aws_profile": self.profile,
            "aws_assume_roles": [
                {"role_arn": r.role_arn, "session_name": r.session_name, "external_id": r.external_id}
                for r in self.assume_roles
            ],
        }

    def refusal(self) -> str | None:
        """Why the deploy gate cannot look the way the provider does, or None."""
        if not self.unsupported:
            return None
        return (
            f"the deploy gate cannot use the AWS provider's {', '.join(self.unsupported)}: it would have to keep "
            "credentials in its state, or look with other credentials than the stack deploys with. Give pulumi "
            "its credentials through the environment (AWS_PROFILE, AWS_ACCESS_KEY_ID, ...) or aws:profile / "
            "aws:assumeRoles, or switch the gate off (hokusai:deploy_gate.enabled: false)"
        )


def _role(value: Any, where: str, problems: list[str]) -> AssumeRole | None:
    if not isinstance(value, Mapping):
        problems.append(f"{where}: expected an object with roleArn (and optionally sessionName, externalId)")
        return None
    role_arn, session_name, external_id = value.get("roleArn"), value.get("sessionName"), value.get("externalId")
    if not isinstance(role_arn, str) or not _ROLE_ARN.match(role_arn):
        problems.append(
            f"{where}.roleArn: {role_arn!r} is not an IAM role ARN (arn:aws:iam::<account>:role/<name>); "
            f"fix: pulumi config set --path '{where}.roleArn' arn:aws:iam::<account>:role/<name>"
        )
        return None
    if session_name is not None and (not isinstance(session_name, str) or not _SESSION_NAME.match(session_name)):
        problems.append(f"{where}.sessionName: {session_name!r} is not 2-64 characters of letters, digits and +=,.@_-")
        return None
    if external_id is not None and (not isinstance(external_id, str) or not _EXTERNAL_ID.match(external_id)):
        problems.append(
            f"{where}.externalId: {external_id!r} is not 2-1224 characters of letters, digits and +=,.@:/_-"
        )
        return None
    return AssumeRole(role_arn, session_name, external_id)


def read_aws_provider(config: Mapping[str, Any], secret_keys: Collection[str] = ()) -> AwsProvider:
    """The provider's authentication from the stack's config (`aws:<key>` -> decoded value)."""
    problems: list[str] = []
    region, profile = config.get("aws:region"), config.get("aws:profile")
    if region is not None and (not isinstance(region, str) or not region):
        problems.append(f"aws:region: {region!r} is not a region name (e.g. us-east-1)")
    if profile is not None and (not isinstance(profile, str) or not profile.strip()):
        problems.append(f"aws:profile: {profile!r} is not a profile name; fix: pulumi config rm aws:profile")

    roles: list[AssumeRole] = []
    single, chain = config.get("aws:assumeRole"), config.get("aws:assumeRoles")
    if single is not None and chain is not None:
        problems.append(
            "aws:assumeRole and aws:assumeRoles are both set: keep one (pulumi config rm aws:assumeRole; "
            "aws:assumeRoles is the current provider's key)"
        )
    elif single is not None:
        role = _role(single, "aws:assumeRole", problems)
        roles += [role] if role else []
    elif chain is not None:
        if not isinstance(chain, list):
            problems.append("aws:assumeRoles: expected a list of {roleArn, sessionName?, externalId?}")
        else:
            for index, item in enumerate(chain):
                role = _role(item, f"aws:assumeRoles[{index}]", problems)
                roles += [role] if role else []

    if problems:
        raise AwsProviderError(
            f"the stack's AWS provider config has {len(problems)} problem(s):\n"
            + "\n".join(f"  - {p}" for p in problems)
        )
    used = ("aws:profile", "aws:assumeRole", "aws:assumeRoles")
    return AwsProvider(
        region=region,
        profile=profile,
        assume_roles=tuple(roles),
        from_secret_config=any(key in secret_keys for key in used),
        unsupported=tuple(key for key in UNSUPPORTED_KEYS if config.get(key) not in (None, "", [])),
    )
