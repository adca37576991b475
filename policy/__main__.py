"""The CrossGuard pack's entry point: `pulumi preview --policy-pack policy` runs this.

The CLI runs `policy/venv/bin/python policy` (PulumiPolicy.yaml), which puts only this
directory on the import path; the pack's code and the core it reuses are imported from
the checkout, so the checkout's root goes first. PolicyPack then serves the policies to
the engine until the engine is done: it never returns, so nothing else belongs here.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import EnforcementLevel, PolicyPack  # noqa: E402 (after the path is set)

from policy.policies import PACK_NAME, POLICIES  # noqa: E402

PolicyPack(
    name=PACK_NAME,
    # Each policy says its own level (core/invariants.py); this is only the fallback.
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=POLICIES,
)
