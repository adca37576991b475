"""Statements into managed policies that each fit IAM's size limit. Pure.

A managed policy holds at most MANAGED_POLICY_LIMIT characters (whitespace not
counted); the deployer's statements for a stack are about twice that. They are
packed in order, each policy as full as it goes, so the Denies (listed first) land
in the first policy and a small change to the stack moves few statements.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.pipeline_policies.statements import MANAGED_POLICY_LIMIT, Document, Statement, document, size


class PolicyTooLarge(ValueError):
    pass


def pack(statements: Sequence[Statement], *, limit: int = MANAGED_POLICY_LIMIT) -> list[Document]:
    """The fewest documents, in order, each within `limit`; one statement that cannot fit alone is an error."""
    documents: list[list[Statement]] = []
    for statement in statements:
        if size(document([statement])) > limit:
            raise PolicyTooLarge(
                f"statement {statement.get('Sid')} alone is {size(document([statement]))} characters, over the "
                f"{limit} a managed policy may hold: split its resources over two statements"
            )
        if documents and size(document([*documents[-1], statement])) <= limit:
            documents[-1].append(statement)
        else:
            documents.append([statement])
    return [document(part) for part in documents]
