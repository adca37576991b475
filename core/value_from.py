"""The `valueFrom` of a container secret kept in Secrets Manager, built and read back.

ECS reads a secret from
`arn:aws:secretsmanager:<region>:<account>:secret:<name>-AbCdEf:<json-key>:<version-stage>:<version-id>`:
after the secret's ARN, optionally the key of a JSON secret, and the version by its
staging label or by its id (at most one of the two; empty fields are kept, so
`...:database_password::` is the key `database_password` of the AWSCURRENT version).
The plain ARN is the whole SecretString of AWSCURRENT.
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html

The execution role's grant is on the secret's ARN alone: GetSecretValue is authorised
against the secret, whatever part of it ECS takes. So the task definition, the grant,
the graph checks and verify all go through this one parser to split the two.

Pure: no Pulumi, no boto3.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.arns import parse_arn

# The fields after the secret's name, in ECS's order.
_SELECTOR_FIELDS = 3


@dataclass(frozen=True)
class SecretValueFrom:
    """A secret's ARN and what ECS takes from it; `str()` is the container's `valueFrom`."""

    secret_arn: str
    json_key: str = ""
    version_stage: str = ""
    version_id: str = ""

    def __post_init__(self) -> None:
        if self.version_stage and self.version_id:
            raise ValueError("ECS reads a secret version by its stage or by its id, not both")
        if ":" in self.json_key + self.version_stage + self.version_id:
            raise ValueError("a JSON key, version stage or version id cannot contain ':' (it separates them)")

    @property
    def selects(self) -> bool:
        """Whether it reads less than the whole current SecretString (a key, or another version)."""
        return bool(self.json_key or self.version_stage or self.version_id)

    @property
    def secret_name(self) -> str:
        """The secret's name with Secrets Manager's 6-character suffix, as its ARN ends."""
        return self.secret_arn.split(":secret:", 1)[-1]

    def __str__(self) -> str:
        if not self.selects:
            return self.secret_arn
        return f"{self.secret_arn}:{self.json_key}:{self.version_stage}:{self.version_id}"

    @classmethod
    def parse(cls, text: object) -> SecretValueFrom | None:
        """The parts of a Secrets Manager `valueFrom`; None when `text` is not one (an SSM
        parameter, a name, or a suffix ECS would not accept: too few fields, stage and id both)."""
        arn = parse_arn(text) if isinstance(text, str) else None
        if arn is None or arn.service != "secretsmanager" or not arn.resource.startswith("secret:"):
            return None
        name, *selectors = arn.resource.removeprefix("secret:").split(":")
        if not name or len(selectors) not in (0, _SELECTOR_FIELDS):
            return None
        secret_arn = f"arn:{arn.partition}:{arn.service}:{arn.region}:{arn.account}:secret:{name}"
        try:
            return cls(secret_arn, *selectors)
        except ValueError:
            return None
