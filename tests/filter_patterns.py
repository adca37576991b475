"""A test-only evaluator for the CloudWatch filter patterns the contract uses:
a quoted phrase, a bare term, or a %regex%. CloudWatch's regex dialect is a
subset of Python's, so a %regex% is evaluated with `re.search`."""

from __future__ import annotations

import re


def matches(pattern: str, line: str) -> bool:
    if pattern.startswith("%") and pattern.endswith("%"):
        return re.search(pattern[1:-1], line) is not None
    if pattern.startswith('"') and pattern.endswith('"'):
        return pattern[1:-1] in line
    # Unquoted terms must all appear as words.
    return all(re.search(rf"(?<![A-Za-z0-9]){re.escape(term)}(?![A-Za-z0-9])", line) for term in pattern.split())
