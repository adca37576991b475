"""The Secrets Manager secrets the services read: adopted or declared.

Adopted ("existing") secrets were looked up in infra/existing.py before anything
was created. Declared ("create") secrets are resources here; their value is put
out of band or comes from an encrypted stack config value. Either way the
result is one ARN per secret, which is all the task definition and the
execution-role grant are allowed to use.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from core.settings import SecretMode, SecretSource


@dataclass(frozen=True)
class SecretsArgs:
    # service name -> the secrets its container reads. A secret several services
    # read is one lookup or one resource, whose description names every reader.
    secrets_by_service: Mapping[str, Sequence[SecretSource]]
    # SecretSource.identity -> ARN, for the adopted secrets (infra/existing.py)
    existing_arns: Mapping[str, str]
    # The customer-managed KMS key declared secrets are encrypted with (None: the AWS-managed key).
    kms_key_arn: str | None
    tags: Mapping[str, str]
    # encrypted config key -> secret Output, for declared secrets with value_from
    values: Mapping[str, pulumi.Output[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class SecretsResult:
    # SecretSource.identity -> ARN, adopted and declared alike
    arns: Mapping[str, pulumi.Output[str]]

    def arns_for(self, sources: Sequence[SecretSource]) -> dict[str, pulumi.Output[str]]:
        """env var -> secret ARN for one service's secrets."""
        return {source.env_var: self.arns[source.identity] for source in sources}


class Secrets(pulumi.ComponentResource):
    result: SecretsResult

    def __init__(self, name: str, args: SecretsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("hokusai:secrets:Secrets", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        arns: dict[str, pulumi.Output[str]] = {}
        for source in _distinct(args.secrets_by_service):
            if source.mode is SecretMode.EXISTING:
                arns[source.identity] = pulumi.Output.from_input(args.existing_arns[source.identity])
                continue
            secret = aws.secretsmanager.Secret(
                f"{name}-{_slug(source.name_or_arn)}",
                name=source.name_or_arn,
                description=_description(args.secrets_by_service, source),
                kms_key_id=args.kms_key_arn,
                # A deleted secret can be restored for a week; the default 30 days
                # would block re-creating the stack under the same name for a month.
                recovery_window_in_days=7,
                tags=args.tags,
                # A deleted secret stops every task that reads it: `pulumi destroy` or a replacement must
                # not delete it (protect refuses the delete; retain_on_delete keeps it if it is forced).
                opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(protect=True, retain_on_delete=True)),
            )
            if not source.value_from:
                # The incident's other face: a secret that exists without a value
                # fails every task at start. Say so at preview, not at 3 a.m.
                pulumi.log.warn(
                    f"secret {source.name_or_arn} ({source.env_var}) is declared without a value: put one "
                    f"(aws secretsmanager put-secret-value --secret-id {source.name_or_arn} --secret-string "
                    "file://<file>) before tasks start (the pipeline's roles cannot deploy a value_from: README, "
                    "2. Configure); `make verify` checks it",
                    resource=self,
                )
            if source.value_from:
                aws.secretsmanager.SecretVersion(
                    f"{name}-{_slug(source.name_or_arn)}-value",
                    secret_id=secret.id,
                    secret_string=args.values[source.value_from],
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[secret]),
                )
            arns[source.identity] = secret.arn
        self.result = SecretsResult(arns=arns)
        self.register_outputs({"arns": arns})


def _distinct(secrets_by_service: Mapping[str, Sequence[SecretSource]]) -> list[SecretSource]:
    """Every secret once (by identity, as Settings.secret_sources), in first-seen order."""
    seen: dict[str, SecretSource] = {}
    for sources in secrets_by_service.values():
        for source in sources:
            seen.setdefault(source.identity, source)
    return list(seen.values())


def _slug(secret_name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", secret_name).strip("-").lower()


def _description(secrets_by_service: Mapping[str, Sequence[SecretSource]], source: SecretSource) -> str:
    users = sorted(
        f"{s.env_var} of {service_name}"
        for service_name, sources in secrets_by_service.items()
        for s in sources
        if s.identity == source.identity
    )
    origin = "value from encrypted stack config" if source.value_from else "value set out of band"
    return f"{', '.join(users)} ({origin}; managed by Pulumi)"
