"""The Secrets Manager secrets the services read: adopted or declared.

Adopted ("existing") secrets were looked up in infra/existing.py before anything
was created. Declared ("create") secrets are resources here; their value is put
out of band or comes from an encrypted stack config value. Either way the
result is one ARN per secret, which is all the task definition and the
execution-role grant are allowed to use.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from core import naming
from core.settings import SecretMode, SecretSource, Settings


@dataclass
class SecretsArgs:
    settings: Settings
    # SecretSource.identity -> ARN, for the adopted secrets (infra/existing.py)
    existing_arns: Mapping[str, str]
    # encrypted config key -> secret Output, for declared secrets with value_from
    values: Mapping[str, pulumi.Output[str]] = field(default_factory=dict)


class Secrets(pulumi.ComponentResource):
    def __init__(self, name: str, args: SecretsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("hokusai:secrets:Secrets", name, None, opts)
        settings = args.settings
        child = pulumi.ResourceOptions(parent=self)
        self.declared: dict[str, aws.secretsmanager.Secret] = {}
        arns: dict[str, pulumi.Output[str]] = {}
        for source in settings.secret_sources:
            if source.mode is SecretMode.EXISTING:
                arns[source.identity] = pulumi.Output.from_input(args.existing_arns[source.identity])
                continue
            secret = aws.secretsmanager.Secret(
                f"{name}-{_slug(source.name_or_arn)}",
                name=source.name_or_arn,
                description=_description(settings, source),
                kms_key_id=settings.secrets_kms_key_arn,
                # A deleted secret can be restored for a week; the default 30 days
                # would block re-creating the stack under the same name for a month.
                recovery_window_in_days=7,
                tags=settings.resource_tags,
                opts=child,
            )
            if not source.value_from:
                # The incident's other face: a secret that exists without a value
                # fails every task at start. Say so at preview, not at 3 a.m.
                pulumi.log.warn(
                    f"secret {source.name_or_arn} ({source.env_var}) is declared without a value: put one "
                    f"(aws secretsmanager put-secret-value --secret-id {source.name_or_arn} --secret-string "
                    "file://<file>) before tasks start, or give it value_from; `make verify` checks it",
                    resource=self,
                )
            if source.value_from:
                aws.secretsmanager.SecretVersion(
                    f"{name}-{_slug(source.name_or_arn)}-value",
                    secret_id=secret.id,
                    secret_string=args.values[source.value_from],
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[secret]),
                )
            self.declared[source.identity] = secret
            arns[source.identity] = secret.arn
        self._arns = arns
        self.register_outputs({"arns": arns})

    def arns_for(self, sources: tuple[SecretSource, ...]) -> dict[str, pulumi.Output[str]]:
        """env var -> secret ARN for one service's secrets."""
        return {source.env_var: self._arns[source.identity] for source in sources}


def _slug(secret_name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", secret_name).strip("-").lower()


def _description(settings: Settings, source: SecretSource) -> str:
    users = sorted(
        f"{s.env_var} of {naming.service_name(service.key, settings.environment)}"
        for service in settings.services
        for s in service.secrets
        if s.identity == source.identity
    )
    origin = "value from encrypted stack config" if source.value_from else "value set out of band"
    return f"{', '.join(users)} ({origin}; managed by Pulumi)"
