"""IAM policy statements and documents, built the same way for every policy here. Pure.

Every statement has a Sid that says why it exists (the tests hold each `*` resource to
one); actions and resources are sorted, so a generated file changes only when what it
grants does.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

Statement = dict[str, Any]
Document = dict[str, Any]

VERSION = "2012-10-17"
# IAM does not count whitespace towards a policy's size
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html#reference_iam-quotas-entity-length).
MANAGED_POLICY_LIMIT = 6_144
ROLE_INLINE_POLICIES_LIMIT = 10_240
# Customer-managed policies one role may have attached, unless the account's quota is raised (to 20).
MANAGED_POLICIES_PER_ROLE = 10


def _listed(values: str | Iterable[str]) -> str | list[str]:
    items = sorted({values} if isinstance(values, str) else set(values))
    if not items:
        raise ValueError("a statement needs at least one action and one resource")
    return items[0] if len(items) == 1 else items


def _statement(
    effect: str,
    sid: str,
    actions: str | Iterable[str],
    resources: str | Iterable[str],
    condition: Mapping[str, Mapping[str, Any]] | None,
) -> Statement:
    statement: Statement = {"Sid": sid, "Effect": effect, "Action": _listed(actions), "Resource": _listed(resources)}
    if condition:
        statement["Condition"] = {operator: dict(keys) for operator, keys in condition.items()}
    return statement


def allow(
    sid: str,
    actions: str | Iterable[str],
    resources: str | Iterable[str],
    condition: Mapping[str, Mapping[str, Any]] | None = None,
) -> Statement:
    return _statement("Allow", sid, actions, resources, condition)


def deny(
    sid: str,
    actions: str | Iterable[str],
    resources: str | Iterable[str],
    condition: Mapping[str, Mapping[str, Any]] | None = None,
) -> Statement:
    return _statement("Deny", sid, actions, resources, condition)


def document(statements: Iterable[Statement]) -> Document:
    return {"Version": VERSION, "Statement": list(statements)}


def size(document_or_statement: Mapping[str, Any]) -> int:
    """Characters IAM counts against its limits: the JSON without whitespace."""
    return len(json.dumps(document_or_statement, separators=(",", ":")))
