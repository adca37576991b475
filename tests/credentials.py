"""What a credential looks like, for tests that check a text holds none.

The estate's own write-ups contain live-looking keys and a database password;
nothing this project writes may. The patterns are shapes, not known values.
"""

from __future__ import annotations

import re

CREDENTIALS: dict[str, re.Pattern[str]] = {
    "Hokusai API key": re.compile(r"hk_(live|test)_[A-Za-z0-9]"),
    "Hugging Face token": re.compile(r"(?<![A-Za-z0-9])hf_[A-Za-z0-9]{8,}"),
    "AWS access key id": re.compile(r"(?<![A-Z0-9])(AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])"),
    # A run of exactly 40 characters of the secret-key alphabet holding an upper-case letter, a
    # lower-case letter and a digit (a 40-hex commit has no upper case, so it is not one).
    "AWS secret access key": re.compile(
        r"(?<![A-Za-z0-9/+])"
        r"(?=[A-Za-z0-9/+]{0,39}[A-Z])(?=[A-Za-z0-9/+]{0,39}[a-z])(?=[A-Za-z0-9/+]{0,39}[0-9])"
        r"[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+])"
    ),
    # A password in a URL (user:password@): only a <marker> may stand there (&lt; in Markdown).
    "password in a URL": re.compile(r"://[^/\s:@]*:(?!<|&lt;)[^@\s/]+@"),
}


def credential_kinds(text: str) -> list[str]:
    """The kinds of credential `text` seems to hold (empty when none)."""
    return [kind for kind, pattern in CREDENTIALS.items() if pattern.search(text)]
