"""Do a principal's IAM policies allow a request? The project's one evaluator. Pure.

verify asks it whether the execution role may read each secret the running task
references; the synth checks whether the rendered roles grant what their tasks
need; the pipeline-policy tests whether each stack's generated policies
(docs/policies/) allow every call the provider makes, and nothing outside the stack. IAM's policy simulator
would also do, but not every endpoint the tools run against offers it (moto),
and the documents the program writes are what it controls.

It follows IAM's evaluation logic for the identity-based policies of one
principal (no SCPs, session or resource-based policies; a permissions boundary
with `decide_within_boundary`):

- a Deny statement that applies wins; otherwise an Allow that applies allows;
  otherwise the request is implicitly denied;
- a statement applies when its Action (or NotAction), its Resource (or
  NotResource) and every condition hold;
- `*` matches any run of characters and `?` one character, in actions
  (case-insensitively) and resources (case-sensitively);
- conditions: operators and keys are AND-ed; the values a key is given are OR-ed,
  and for a negated operator (StringNotEquals, ArnNotLike, ...) none may match;
  condition key names are case-insensitive. A key the request lacks fails a
  positive operator and satisfies a negated one; `...IfExists` holds when the key
  is absent; `Null` tests presence; ForAnyValue / ForAllValues compare each of a
  multivalued key's values (no values: ForAnyValue fails, ForAllValues holds).
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-logic-multiple-context-keys-or-values.html

What it cannot evaluate it never guesses: an operator it does not know (numeric,
date, IP address, binary), a policy variable (`${aws:username}`), a malformed
statement, several values for a key without ForAnyValue/ForAllValues, or - when
the caller says its context is partial - a key the caller does not know. Such a
statement makes the answer CANNOT_TELL when it could change it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

# A request's condition keys and their values: one string, or several (multivalued keys).
Context = Mapping[str, str | bool | Sequence[str]]


class Decision(StrEnum):
    ALLOWED = "allowed"
    DENIED = "denied"  # an explicit Deny applies
    NOT_ALLOWED = "not allowed"  # no Allow applies (implicit deny)
    CANNOT_TELL = "cannot tell"  # a statement this evaluator cannot read could change the answer


@dataclass(frozen=True)
class Verdict:
    decision: Decision
    # The Sid of the statement that decided (for CANNOT_TELL: the one that could not be read);
    # None for an implicit deny, or a statement without a Sid.
    sid: str | None
    # Which statement decided and why, for messages.
    reason: str


@dataclass(frozen=True)
class _Unknown:
    """A truth value this evaluator cannot establish, and why."""

    reason: str


Truth = bool | _Unknown


def evaluate(
    documents: Iterable[Any],
    action: str,
    resource: str,
    context: Context | None = None,
    *,
    context_is_complete: bool = True,
) -> Verdict:
    """Whether `documents` (policy documents as parsed JSON, or one) allow `action` on `resource`.

    `context` holds the request's condition keys. By default it is the whole
    request: a key missing from it is absent, as IAM would see it. With
    `context_is_complete=False` it is only what the caller knows, and a condition
    on any other key cannot be evaluated.
    """
    if isinstance(documents, Mapping):
        documents = [documents]  # one document
    known = _normalised(context or {})
    maybe_denied: tuple[str | None, str] | None = None
    allowed: tuple[str | None, str] | None = None
    maybe_allowed: tuple[str | None, str] | None = None
    for label, sid, statement in _statements(documents):
        applies = _applies(statement, action, resource, known, context_is_complete)
        if applies is False:
            continue
        effect = statement.get("Effect")
        if effect not in ("Allow", "Deny") and applies is True:
            applies = _Unknown(f"its Effect is {effect!r}, not Allow or Deny")
        if isinstance(applies, _Unknown):
            why = (sid, f"{label}: {applies.reason}")
            if effect != "Allow":
                maybe_denied = maybe_denied or why
            if effect != "Deny":
                maybe_allowed = maybe_allowed or why
        elif effect == "Deny":
            return Verdict(Decision.DENIED, sid, f"{label} denies it")
        else:
            allowed = allowed or (sid, f"{label} allows it")
    if maybe_denied and (allowed or maybe_allowed):
        return Verdict(Decision.CANNOT_TELL, *maybe_denied)
    if allowed:
        return Verdict(Decision.ALLOWED, *allowed)
    if maybe_allowed:
        return Verdict(Decision.CANNOT_TELL, *maybe_allowed)
    # Nothing allows it; a Deny that might apply could only make the denial explicit.
    return Verdict(Decision.NOT_ALLOWED, None, "no statement allows it")


def decide(
    documents: Iterable[Any],
    action: str,
    resource: str,
    context: Context | None = None,
    *,
    context_is_complete: bool = True,
) -> Decision:
    """`evaluate(...).decision`, for callers that only need the answer."""
    return evaluate(documents, action, resource, context, context_is_complete=context_is_complete).decision


def decide_within_boundary(
    documents: Iterable[Any],
    boundary: Any,
    action: str,
    resource: str,
    context: Context | None = None,
    *,
    context_is_complete: bool = True,
) -> Decision:
    """The decision for a principal whose identity policies are `documents` and whose permissions
    boundary is `boundary` (one document): allowed only when both allow it, and an explicit Deny in
    either denies it. https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html

    Where one cannot tell and the other does not allow, the answer is the other's: the request is
    refused either way (explicitly or not is then what the other says).
    """
    answers = [
        decide(documents, action, resource, context, context_is_complete=context_is_complete),
        decide(boundary, action, resource, context, context_is_complete=context_is_complete),
    ]
    for refusal in (Decision.DENIED, Decision.NOT_ALLOWED, Decision.CANNOT_TELL):
        if refusal in answers:
            return refusal
    return Decision.ALLOWED


def resources_granted(documents: Iterable[Any], action: str) -> set[str]:
    """The Resource patterns of the Allow statements whose actions include `action`,
    whatever their conditions; a NotResource statement grants `*` (all but its list).

    `evaluate` answers one request at a time; this says how far a grant reaches,
    so a check can see a role allowed more than its task needs.
    """
    granted: set[str] = set()
    if isinstance(documents, Mapping):
        documents = [documents]
    for _label, _sid, statement in _statements(documents):
        if statement.get("Effect") != "Allow" or _action_in(statement, action) is not True:
            continue
        if "NotResource" in statement:
            granted.add("*")
        else:
            listed = _strings(statement.get("Resource"))
            granted.update(listed if isinstance(listed, list) else [])
    return granted


# --------------------------------------------------------------------------- #
# Statements
# --------------------------------------------------------------------------- #


def _statements(documents: Iterable[Any]) -> Iterator[tuple[str, str | None, dict[str, Any]]]:
    """(label, Sid, statement) of every statement; an unreadable one as a statement that cannot be read."""
    for d, document in enumerate(documents, 1):
        statements = document.get("Statement") if isinstance(document, dict) else None
        if isinstance(statements, dict):
            statements = [statements]
        if not isinstance(statements, list):
            yield f"document {d}", None, {"Effect": None, "_unreadable": "it has no Statement list"}
            continue
        for s, statement in enumerate(statements, 1):
            if not isinstance(statement, dict):
                yield f"statement {s} of document {d}", None, {"Effect": None, "_unreadable": "it is not an object"}
                continue
            sid = statement.get("Sid") if isinstance(statement.get("Sid"), str) else None
            yield (sid or f"statement {s} of document {d}"), sid, statement


def _applies(
    statement: dict[str, Any], action: str, resource: str, context: dict[str, list[str]], complete: bool
) -> Truth:
    if "_unreadable" in statement:
        return _Unknown(statement["_unreadable"])
    if "Principal" in statement or "NotPrincipal" in statement:
        return _Unknown("it names a principal: a resource-based policy, which this does not evaluate")
    # In this order and lazily: a statement for other actions never has its conditions read.
    # (Written out rather than as _all over a generator: this is the evaluator's inner loop.)
    action_in = _action_in(statement, action)
    if action_in is False:
        return False
    resource_in = _listed_match(statement, "Resource", resource, _resource_matches)
    if resource_in is False:
        return False
    conditions = _conditions_hold(statement.get("Condition"), context, complete) if "Condition" in statement else True
    return _all((action_in, resource_in, conditions))


def _action_in(statement: dict[str, Any], action: str) -> Truth:
    return _listed_match(statement, "Action", action, _action_matches)


def _listed_match(statement: dict[str, Any], element: str, value: str, matches: Callable[[str, str], Truth]) -> Truth:
    """Whether `value` is covered by the statement's `element` (or excluded by its `Not<element>`)."""
    negated = f"Not{element}"
    if (element in statement) == (negated in statement):
        return _Unknown(f"it needs exactly one of {element} and {negated}")
    patterns = _strings(statement.get(element, statement.get(negated)))
    if isinstance(patterns, _Unknown):
        return patterns
    found = _any(matches(pattern, value) for pattern in patterns)
    return found if element in statement else _not(found)


@functools.lru_cache(maxsize=65536)
def _action_matches(pattern: str, action: str) -> Truth:
    # Cached: a policy's few dozen action patterns are matched against the same actions over and over.
    return _glob(pattern.lower()).fullmatch(action.lower()) is not None


def _resource_matches(pattern: str, resource: str) -> Truth:
    if "${" in pattern:
        return _Unknown(f"the resource {pattern} uses a policy variable")
    return _glob(pattern).fullmatch(resource) is not None


@functools.lru_cache(maxsize=4096)
def _glob(pattern: str) -> re.Pattern[str]:
    """IAM wildcards: `*` any run of characters, `?` one character; nothing else is special."""
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern), re.DOTALL)


# --------------------------------------------------------------------------- #
# Conditions
# --------------------------------------------------------------------------- #


def _equals(wanted: str, value: str) -> bool:
    return wanted == value


def _equals_ignoring_case(wanted: str, value: str) -> bool:
    return wanted.casefold() == value.casefold()


def _like(wanted: str, value: str) -> bool:
    return _glob(wanted).fullmatch(value) is not None


def _arn_like(wanted: str, value: str) -> Truth:
    """Each of the six colon-separated parts of the ARN is matched on its own (the
    resource part may hold colons); `*` alone matches any ARN."""
    if wanted == "*":
        return True
    patterns, parts = wanted.split(":", 5), value.split(":", 5)
    if len(patterns) != 6:
        return _Unknown(f"{wanted} is not an ARN pattern (six parts)")
    return len(parts) == 6 and all(_like(p, v) for p, v in zip(patterns, parts, strict=True))


def _bool(wanted: str, value: str) -> bool:
    return wanted.lower() == value.lower()


# operator (without qualifier or IfExists) -> (how one policy value matches one request value, negated)
_OPERATORS: dict[str, tuple[Callable[[str, str], Truth], bool]] = {
    "StringEquals": (_equals, False),
    "StringNotEquals": (_equals, True),
    "StringEqualsIgnoreCase": (_equals_ignoring_case, False),
    "StringNotEqualsIgnoreCase": (_equals_ignoring_case, True),
    "StringLike": (_like, False),
    "StringNotLike": (_like, True),
    # ArnEquals matches like ArnLike: both take wildcards in each part.
    "ArnEquals": (_arn_like, False),
    "ArnLike": (_arn_like, False),
    "ArnNotEquals": (_arn_like, True),
    "ArnNotLike": (_arn_like, True),
    "Bool": (_bool, False),
}
_QUALIFIERS = ("ForAnyValue", "ForAllValues")


def _conditions_hold(condition: Any, context: dict[str, list[str]], complete: bool) -> Truth:
    if not isinstance(condition, dict):
        return _Unknown("its Condition is not an object")
    results: list[Truth] = []
    for operator, block in condition.items():
        if not isinstance(block, dict):
            results.append(_Unknown(f"its {operator} condition is not an object"))
            continue
        for key, wanted in block.items():
            values = context.get(key.lower())
            if values is None and not complete:
                results.append(_Unknown(f"the request's {key} is not known here"))
            else:
                results.append(_operator_holds(operator, key, wanted, values))
    return _all(results)


def _operator_holds(operator: str, key: str, wanted_values: Any, values: list[str] | None) -> Truth:
    """One operator on one key. `values`: the request's values, None when the key is absent."""
    qualifier, _, name = operator.rpartition(":")
    if_exists = name.endswith("IfExists")
    base = name.removesuffix("IfExists")
    wanted = _strings(wanted_values, scalars=True)
    if isinstance(wanted, _Unknown):
        return _Unknown(f"{operator} on {key}: {wanted.reason}")
    if any("${" in w for w in wanted):
        return _Unknown(f"{operator} on {key} uses a policy variable")
    present = bool(values)
    if base == "Null" and not qualifier and not if_exists:
        if any(w.lower() not in ("true", "false") for w in wanted):
            return _Unknown(f"Null on {key} takes true or false, not {wanted}")
        return any((w.lower() == "true") != present for w in wanted)
    if (qualifier and qualifier not in _QUALIFIERS) or base not in _OPERATORS:
        return _Unknown(f"the condition operator {operator} is not one this evaluator knows")
    matches, negated = _OPERATORS[base]

    def holds_for(value: str) -> Truth:
        matched = _any(matches(w, value) for w in wanted)
        return _not(matched) if negated else matched

    if not present:
        if if_exists:
            return True
        if qualifier == "ForAllValues":
            return True  # every one of no values matches
        if qualifier == "ForAnyValue":
            return False  # no value to match
        return negated  # absent: a positive operator fails, a negated one holds
    assert values is not None
    if qualifier == "ForAllValues":
        return _all(holds_for(v) for v in values)
    if qualifier == "ForAnyValue":
        return _any(holds_for(v) for v in values)
    if len(values) > 1:
        return _Unknown(f"{key} has several values: {operator} needs ForAnyValue: or ForAllValues:")
    return holds_for(values[0])


def _normalised(context: Context) -> dict[str, list[str]]:
    """Key names lower-cased (IAM compares them case-insensitively), values as lists of strings."""
    normalised = {}
    for key, value in context.items():
        if value is None:
            continue  # absent
        listed = _strings(value, scalars=True)
        normalised[key.lower()] = listed if isinstance(listed, list) else [str(value)]
    return normalised


# --------------------------------------------------------------------------- #
# Small helpers
# --------------------------------------------------------------------------- #


def _text(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _strings(value: Any, *, scalars: bool = False) -> list[str] | _Unknown:
    """A policy element's string or list of strings; with `scalars`, JSON numbers and booleans too."""
    items = value if isinstance(value, list | tuple) else [value]
    ok = (str, bool, int, float) if scalars else (str,)
    if value is None or not all(isinstance(v, ok) for v in items):
        return _Unknown(f"{value!r} is not a string or a list of strings")
    return [_text(v) for v in items]


def _not(truth: Truth) -> Truth:
    return truth if isinstance(truth, _Unknown) else not truth


def _any(truths: Iterable[Truth]) -> Truth:
    unknown: _Unknown | None = None
    for truth in truths:
        if truth is True:
            return True
        if isinstance(truth, _Unknown):
            unknown = unknown or truth
    return unknown or False


def _all(truths: Iterable[Truth]) -> Truth:
    unknown: _Unknown | None = None
    for truth in truths:
        if truth is False:
            return False
        if isinstance(truth, _Unknown):
            unknown = unknown or truth
    return unknown or True
