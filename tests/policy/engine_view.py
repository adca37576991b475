"""The stack as the engine shows it to a stack policy, built from a run under the mocks.

For each resource the engine sends its type, URN, logical name and outputs - an AWS
resource's inputs with what AWS computed (`id`, `arn`, ...) - and for the stack's own
resource the stack outputs. The SDK wraps each resource's props in its unknown-checking
proxy; so does this. `first_preview` replaces what a preview of a new stack cannot know
with the engine's unknown markers.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import (
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_STRING_VALUE,
    unknown_checking_proxy,
)

from core.naming import PROJECT
from core.resource_graph import STACK
from policy.policies import POLICIES
from synth.mocks import Registered

STACK_NAME = "development"


def urn(type_: str, name: str) -> str:
    return f"urn:pulumi:{STACK_NAME}::{PROJECT}::{type_}::{name}"


def props_of(resource: Registered) -> dict[str, Any]:
    """What the engine hands a stack policy: the outputs, inputs included, and the id.

    The mocks' outputs hold the inputs as they were registered; a test that breaks an input
    changes `inputs`, so the inputs win here (and a test that deletes one deletes it from
    both: `drop`)."""
    return copy.deepcopy({**resource.outputs, **resource.inputs, "id": resource.id})


def drop(resource: Registered, key: str) -> None:
    """Delete an input, and its echo in the outputs."""
    resource.inputs.pop(key, None)
    resource.outputs.pop(key, None)


def policy_resource(type_: str, name: str, props: Mapping[str, Any]) -> PolicyResource:
    options = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])
    return PolicyResource(
        type_, unknown_checking_proxy(dict(props)), urn(type_, name), name, options, None, None, [], {}
    )


def engine_resources(
    resources: Iterable[Registered], estate: Mapping[str, Any], props: Callable[[Registered], dict[str, Any]] = props_of
) -> list[PolicyResource]:
    stack = policy_resource(STACK, f"{PROJECT}-{STACK_NAME}", {"estate": copy.deepcopy(dict(estate))})
    return [stack, *(policy_resource(r.type, r.name, props(r)) for r in resources)]


def violations(resources: Sequence[PolicyResource], policies=POLICIES) -> list[tuple[str, str, str | None]]:
    """(policy, message, urn) for every violation every policy reports."""
    found: list[tuple[str, str, str | None]] = []
    for policy in policies:
        assert isinstance(policy, StackValidationPolicy)

        def report(message: str, urn: str | None = None, name: str = policy.name) -> None:
            found.append((name, message, urn))

        policy.validate(StackValidationArgs(list(resources)), report)
    return found


# --------------------------------------------------------------------------- #
# A preview of a new stack: what AWS computes is not known yet
# --------------------------------------------------------------------------- #


def marker_for(value: Any) -> str:
    if isinstance(value, bool):
        return UNKNOWN_BOOLEAN_VALUE
    if isinstance(value, (int, float)):
        return UNKNOWN_NUMBER_VALUE
    return UNKNOWN_STRING_VALUE


def computed_values(resources: Iterable[Registered]) -> set[str]:
    """Every value AWS computes for a resource of the stack: each output the program did
    not give it as an input (ARNs, ids, ARN suffixes, DNS names), and its id unless the id
    is one of its inputs (a role's or log group's id is the name the program chose)."""
    found: set[str] = set()
    for r in resources:
        computed = [v for k, v in r.outputs.items() if k not in r.inputs]
        if r.id not in r.inputs.values():
            computed.append(r.id)
        # (not the account id some outputs repeat: the program knows it before anything exists)
        found.update(v for v in computed if isinstance(v, str) and len(v) >= 6 and not v.isdigit())
    return found


def first_preview(resources: Sequence[Registered]) -> Callable[[Registered], dict[str, Any]]:
    """The props of a first `pulumi preview` of the stack: every computed output unknown,
    and every input built from one (a string holding a computed value) unknown too."""
    computed = computed_values(resources)

    def unknown_if_derived(value: Any) -> Any:
        if isinstance(value, str) and any(c in value for c in computed):
            return UNKNOWN_STRING_VALUE
        if isinstance(value, Mapping):
            return {k: unknown_if_derived(v) for k, v in value.items()}
        if isinstance(value, list):
            return [unknown_if_derived(v) for v in value]
        return value

    def props(resource: Registered) -> dict[str, Any]:
        known = {k: unknown_if_derived(v) for k, v in copy.deepcopy(resource.inputs).items()}
        outputs = {k: marker_for(v) for k, v in resource.outputs.items() if k not in resource.inputs}
        return {**known, **outputs, "id": UNKNOWN_STRING_VALUE}

    return props


def first_preview_estate(resources: Sequence[Registered], estate: Mapping[str, Any]) -> dict[str, Any]:
    """The `estate` output in that preview: each value built from a computed one unknown."""
    computed = computed_values(resources)

    def walk(value: Any) -> Any:
        if isinstance(value, str) and any(c in value for c in computed):
            return UNKNOWN_STRING_VALUE
        if isinstance(value, Mapping):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    return walk(estate)
