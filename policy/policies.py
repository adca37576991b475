"""One stack policy per core invariant (core/invariants.py), at the invariant's enforcement level.

The invariants are relations between resources (a task's secret and its role's grant,
a consumer and the rule on its dependency), so each runs as a StackValidationPolicy, over every
resource of the stack at once. The list is built from the core's registry: an invariant
added there is enforced here without a line changing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyResource,
    ReportViolation,
    StackValidation,
    StackValidationArgs,
    StackValidationPolicy,
)

from core.invariants import INVARIANTS, Invariant
from core.resource_graph import Graph
from policy.records import records_of

PACK_NAME = "hokusai-invariants"


def _urns_by_name(resources: Sequence[PolicyResource]) -> dict[str, str]:
    """Logical name -> URN, for the names only one resource has (a finding names the resource)."""
    counts = Counter(r.name for r in resources)
    return {r.name: r.urn for r in resources if counts[r.name] == 1}


def validate_with(invariant: Invariant) -> StackValidation:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        try:
            findings = invariant.check(Graph(records_of(args.resources)))
        except Exception as error:  # a bug in a check is a violation to read, not a crashed preview
            report_violation(
                f"the check could not run ({type(error).__name__}: {error}); run `make synth` to see the invariant "
                "on the rendered stack, and fix the check",
                None,
            )
            return
        urns = _urns_by_name(args.resources)
        for finding in findings:
            report_violation(f"{finding.resource}: {finding.what}", urns.get(finding.resource))

    return validate


def policy_for(invariant: Invariant) -> StackValidationPolicy:
    return StackValidationPolicy(
        name=invariant.name,
        description=f"{invariant.description} ({invariant.enforcement.value}: {invariant.why})",
        validate=validate_with(invariant),
        enforcement_level=EnforcementLevel(invariant.enforcement.value),
    )


# PolicyPack takes a list of Policy (its base class).
POLICIES: list[Policy] = [policy_for(invariant) for invariant in INVARIANTS]
