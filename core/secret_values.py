"""Whether a plain value looks like a credential, whatever the variable is called. Pure.

A plain `environment` value is readable by anyone who may describe the task definition,
so settings validation refuses one that looks like a credential: a URL with a password in
it, a token with a provider's known prefix, a JWT, a PEM private key, or a long random
string. A false alarm is as bad as a miss (someone learns to ignore the check), so each rule
is narrow and the tests hold it to tables of known-good values too: host names, URLs
without credentials, ARNs, UUIDs, git SHAs, numbers, booleans, paths.
"""

from __future__ import annotations

import math
import re
from collections import Counter

# (what it is, pattern): each anchored on something a plain value does not have.
_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("a URL with a password in it", re.compile(r"://[^/@\s:]*:[^/@\s]+@")),
    ("a Hokusai API key", re.compile(r"\bhk_(live|test)_[A-Za-z0-9]{8,}")),
    ("a Hugging Face token", re.compile(r"\bhf_[A-Za-z0-9]{30,}")),
    ("an AWS access key id", re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("a GitHub token", re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{22,})")),
    ("a Stripe key", re.compile(r"\b(sk|rk)_(live|test)_[A-Za-z0-9]{16,}")),
    ("a Slack token", re.compile(r"\bxox[baprs]-[A-Za-z0-9-]{10,}")),
    ("a JWT", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")),
    ("a PEM private key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")),
)
# A random secret: long, one "word" of base64/url-safe characters, mixing cases and digits.
_TOKEN_LIKE = re.compile(r"^[A-Za-z0-9+/=_-]{32,}$")
# Bits of entropy per character above which such a word is taken for random (a hex SHA stays
# below: 16 symbols give at most 4 bits, and it has no upper case anyway).
_RANDOM_BITS_PER_CHARACTER = 4.0


def _bits_per_character(text: str) -> float:
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def credential_in(value: str) -> str | None:
    """What credential `value` looks like (for the message), or None for a plain value."""
    for what, shape in _SHAPES:
        if shape.search(value):
            return what
    word = value.strip()
    if (
        _TOKEN_LIKE.match(word)
        and any(c.islower() for c in word)
        and any(c.isupper() for c in word)
        and any(c.isdigit() for c in word)
        and _bits_per_character(word) >= _RANDOM_BITS_PER_CHARACTER
    ):
        return "a long random string (a token or key)"
    return None
