"""ARN parsing for settings validation and the live tools. Pure.

An ARN is `arn:partition:service:region:account:resource`; the resource part
may itself contain colons (`secret:name-AbCdEf`, `listener/app/x/y/z`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ARN = re.compile(
    r"^arn:(?P<partition>aws|aws-cn|aws-us-gov):(?P<service>[a-z0-9-]+):"
    r"(?P<region>[a-z0-9-]*):(?P<account>\d{12}|):(?P<resource>.+)$"
)


@dataclass(frozen=True)
class Arn:
    partition: str
    service: str
    region: str
    account: str
    resource: str


def parse_arn(text: str) -> Arn | None:
    """The parts of `text`, or None when it is not an ARN."""
    match = _ARN.match(text) if isinstance(text, str) else None
    if not match:
        return None
    return Arn(**match.groupdict())


def is_arn(text: object, service: str | None = None, resource_prefix: str = "") -> bool:
    arn = parse_arn(text) if isinstance(text, str) else None
    if arn is None:
        return False
    if service is not None and arn.service != service:
        return False
    return arn.resource.startswith(resource_prefix)
