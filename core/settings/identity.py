"""Which stack, region and account: what every name and ARN of the stack is checked against."""

from __future__ import annotations

import re
from typing import Any

from core.settings.declarations import declared
from core.settings.problems import Problem
from core.settings.reader import Reader, Section

# The stack name goes into every physical name (hokusai-api-<stack>, ...), and
# those have AWS's length limits: a target group name has 32 characters.
STACK_NAME = re.compile(r"^[a-z][a-z0-9-]{0,23}\Z")
# When the stack name is refused, the other checks go on under this one.
INVALID_STACK = "invalid"


def read_stack_name(reader: Reader, stack: Any) -> str:
    if isinstance(stack, str) and STACK_NAME.match(stack):
        return stack
    reader.problems.append(
        Problem(
            "stack",
            f"stack name {stack!r} cannot be used in AWS names",
            "name the stack with lower-case letters, digits and dashes (at most 24), e.g. development",
        )
    )
    return INVALID_STACK


def read_region(reader: Reader, region: Any) -> str | None:
    """`aws:region`: the AWS provider's key, outside the namespace, so its problems are recorded by hand."""
    setting = declared("region", namespace="aws")
    if region is None or region == "":
        reader.problems.append(Problem(setting.config_key, "is required but not set", setting.fix))
        return None
    if not isinstance(region, str) or not setting.matches(region):
        reader.problems.append(Problem(setting.config_key, setting.refused.format(value=region), setting.refused_fix))
        return None
    return region


def read_account(top: Section) -> str | None:
    account: str | None = top.read("account_id")  # TEXT with a pattern: text or None
    return account
