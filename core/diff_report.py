"""The diff of each stack as a reviewer reads it: Markdown for the PR comment, plain text for a terminal. Pure.

Both say the same, in the same order: per stack, the count of resources to add / update /
replace / remove; the security-relevant changes, one table per category
(core/security_changes.py); then every changed resource with each changed property as
old → new, marked when it forces a replacement (core/graph_diff.py); last, when the estate's
shape changes, what it adds, removes and changes: drawn in the Markdown, listed in both.

The Markdown goes into a PR comment, so it is built to be safe and bounded: every value is
escaped for a table cell (no `|`, no raw HTML, no line breaks), long values are shortened,
and a report longer than MARKDOWN_LIMIT drops the property tables, then the pictures, then
lines, and says how to see everything (`make diff` locally). The pictures go before any line
is cut, so a cut never leaves a Mermaid block open.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.graph_diff import ABSENT, HIDDEN, Action, GraphDiff, PropertyChange, Replacement, ResourceChange
from core.security_changes import COLUMNS, Category, SecurityChange, by_category, security_changes

# GitHub refuses a comment over 65,536 characters; leave room for the poster's header. Counted
# in UTF-8 bytes, as pr-diff-comment.yml checks it (MAX_BYTES): an arrow is one character but
# three bytes, and a comment the poster refuses is no comment at all.
MARKDOWN_LIMIT = 60_000
# The longest value shown in a cell (the terminal shows them whole).
CELL_LIMIT = 300

ACTION_ORDER = (Action.REPLACE, Action.UPDATE, Action.ADD, Action.REMOVE)
SIGN = {Action.ADD: "+", Action.REMOVE: "-", Action.UPDATE: "~", Action.REPLACE: "+-"}
HEADING = {
    Action.REPLACE: "to replace",
    Action.UPDATE: "to update",
    Action.ADD: "to add",
    Action.REMOVE: "to remove",
}


@dataclass(frozen=True)
class StackDiff:
    stack: str
    diff: GraphDiff
    # What the reader should know about this stack's sides (a side without the stack file, ...).
    notes: tuple[str, ...] = ()
    # One line about each added or removed resource, by its `type::name` (synth/key_properties.py).
    descriptions: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Report:
    # How each side is named in the heading: `main@1a2b3c4`, `working tree`.
    base: str
    head: str
    stacks: tuple[StackDiff, ...]
    # Markdown closing a stack's section, by stack: the marked picture when the estate's shape
    # changes (synth/diff.py puts it there only then).
    pictures: Mapping[str, str] = field(default_factory=dict)
    # The same change for a terminal, by stack: one line a box or arrow added, removed, changed.
    shape_changes: Mapping[str, Sequence[str]] = field(default_factory=dict)
    # What an identifier in the security tables is (`sg-0a1b...` -> `redis`), shown beside it.
    labels: Mapping[str, str] = field(default_factory=dict)


def counts(diff: GraphDiff) -> str:
    parts = [f"{len(diff.of(action))} {HEADING[action]}" for action in ACTION_ORDER]
    return ", ".join(parts) + f" ({diff.unchanged} unchanged)"


# --------------------------------------------------------------------------- #
# Values
# --------------------------------------------------------------------------- #


def value_text(value: Any) -> str:
    if value is ABSENT:
        return "(absent)"
    if value == HIDDEN:
        return HIDDEN
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def change_text(change: PropertyChange) -> str:
    """`path: old → new`, `path: + value` or `path: − value`, with its replacement mark."""
    if change.old is ABSENT:
        text = f"{change.path}: + {value_text(change.new)}"
    elif change.new is ABSENT:
        text = f"{change.path}: − {value_text(change.old)}"
    else:
        text = f"{change.path}: {value_text(change.old)} → {value_text(change.new)}"
    return f"{text}  [{change.replacement.value}]" if change.replacement is not Replacement.NONE else text


# --------------------------------------------------------------------------- #
# Security rows, with what each identifier is
# --------------------------------------------------------------------------- #


def labelled(value: str, labels: Mapping[str, str]) -> str:
    """`sg-0a1b...` -> `redis sg-0a1b...` for every identifier `labels` knows in `value`."""
    for identifier, label in labels.items():
        if identifier in value:
            value = value.replace(identifier, f"{label} {identifier}")
    return value


def _security_rows(changes: Sequence[SecurityChange], labels: Mapping[str, str]) -> list[tuple[str, ...]]:
    return [(c.sign, *(labelled(v, labels) for v in c.cells)) for c in changes]


def _what(stack: StackDiff, resource: ResourceChange) -> str:
    if resource.action in (Action.ADD, Action.REMOVE):
        return stack.descriptions.get(resource.urn_name, "")
    count = len(resource.changes)
    return f"{count} changed propert{'y' if count == 1 else 'ies'}"


# --------------------------------------------------------------------------- #
# Plain text
# --------------------------------------------------------------------------- #


def _aligned(rows: Sequence[Sequence[str]], indent: str) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [indent + "  ".join(value.ljust(widths[i]) for i, value in enumerate(row)).rstrip() for row in rows]


def _security_text(changes: Sequence[SecurityChange], labels: Mapping[str, str]) -> list[str]:
    if not changes:
        return ["  security-relevant changes: none"]
    lines = ["  security-relevant changes:"]
    for category, rows in by_category(changes).items():
        lines.append(f"    {category.value}")
        lines += _aligned([("", *COLUMNS[category]), *_security_rows(rows, labels)], "      ")
    return lines


def text(report: Report) -> str:
    """The terminal form: everything, values whole."""
    lines = [f"make diff: {report.base} -> {report.head}"]
    for stack in report.stacks:
        diff = stack.diff
        lines += ["", f"stack {stack.stack}: " + ("no changes" if diff.empty else counts(diff))]
        lines += [f"  note: {note}" for note in stack.notes]
        if diff.empty:
            continue
        lines += _security_text(security_changes(diff), report.labels)
        lines.append("  resources:")
        for action in ACTION_ORDER:
            for resource in diff.of(action):
                lines.append(f"    {SIGN[action]:<2} {resource.urn_name}: {_what(stack, resource)}".rstrip(": "))
                lines += [f"         {change_text(change)}" for change in resource.changes]
        shape = report.shape_changes.get(stack.stack)
        if shape:
            lines.append("  the estate's shape (the PR comment draws it; python -m synth.diagram --base <ref> too):")
            lines += [f"    {change}" for change in shape]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- #
# Markdown
# --------------------------------------------------------------------------- #


def cell(value: str, limit: int = CELL_LIMIT) -> str:
    """Text safe inside a Markdown table cell: one line, no table breaks, no HTML, bounded."""
    flat = " ".join(value.split())
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    return flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")


def code(value: str, limit: int = CELL_LIMIT) -> str:
    """`value` as inline code in a cell (an empty value stays empty)."""
    if not value:
        return ""
    return "`" + cell(value, limit).replace("`", "'") + "`"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    return [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


def _security_markdown(changes: Sequence[SecurityChange], labels: Mapping[str, str]) -> list[str]:
    if not changes:
        return ["**Security-relevant changes:** none."]
    lines = ["**Security-relevant changes**"]
    for category, rows in by_category(changes).items():
        lines += ["", f"*{category.value}*", ""]
        lines += _table(["", *COLUMNS[category]], [[cell(v) for v in row] for row in _security_rows(rows, labels)])
    return lines


def _property_rows(resource: ResourceChange) -> list[list[str]]:
    return [
        [
            code(change.path),
            code(value_text(change.old)) if change.old is not ABSENT else "",
            code(value_text(change.new)) if change.new is not ABSENT else "",
            f"**{change.replacement.value}**" if change.replacement is not Replacement.NONE else "",
        ]
        for change in resource.changes
    ]


def _resources_markdown(stack: StackDiff, with_properties: bool) -> list[str]:
    diff = stack.diff
    lines = ["**Resources**", ""]
    lines += _table(
        ["", "resource", "type", "what"],
        [
            [SIGN[resource.action], code(resource.name), code(resource.type), cell(_what(stack, resource))]
            for action in ACTION_ORDER
            for resource in diff.of(action)
        ],
    )
    if not with_properties:
        return lines
    for action in (Action.REPLACE, Action.UPDATE):
        for resource in diff.of(action):
            lines += ["", f"**{SIGN[action]}** {code(resource.name)} ({action.value})", ""]
            lines += _table(["property", "before", "after", ""], _property_rows(resource))
    return lines


def _stack_markdown(stack: StackDiff, report: Report, with_properties: bool, with_picture: bool) -> list[str]:
    diff = stack.diff
    lines = [f"### Stack {code(stack.stack)}: " + ("no changes" if diff.empty else counts(diff)), ""]
    lines += [f"> {cell(note, 1000)}" for note in stack.notes]
    if diff.empty:
        return lines
    lines += _security_markdown(security_changes(diff), report.labels)
    lines += ["", *_resources_markdown(stack, with_properties)]
    picture = report.pictures.get(stack.stack)
    if picture and with_picture:
        lines += ["", picture.rstrip("\n")]
    return lines


# What a comment too long for GitHub leaves out, in this order, before cutting lines:
# (with the property tables, with the pictures).
_SHORTER = ((True, True), (False, True), (False, False))


def markdown(report: Report, limit: int = MARKDOWN_LIMIT) -> str:
    """The PR comment's body; never longer than `limit` bytes of UTF-8 (so nor characters)."""
    heading = [
        "## Infrastructure diff (`make diff`)",
        "",
        f"Rendered offline under Pulumi mocks: base {code(report.base)} → head {code(report.head)}. "
        "`make diff` shows the same in a terminal.",
        "",
    ]
    rendered = ""
    pictured = any(report.pictures.get(stack.stack) for stack in report.stacks if not stack.diff.empty)
    for with_properties, with_picture in _SHORTER:
        if not with_picture and not pictured:
            continue
        body = list(heading)
        for stack in report.stacks:
            body += [*_stack_markdown(stack, report, with_properties, with_picture), ""]
        if not with_properties:
            body.append("*Property tables left out: the comment would be too long. `make diff` shows them all.*")
        if not with_picture:
            body.append(
                "*Pictures of the estate's shape left out: the comment would be too long. "
                "`python -m synth.diagram --base <ref>` draws them.*"
            )
        rendered = "\n".join(body).rstrip() + "\n"
        if _size(rendered) <= limit:
            return rendered
    note = "*Cut here: the diff is too long for a comment. `make diff` shows all of it.*\n"
    # Cut on a line, and never inside a character (`ignore` drops a split one's bytes).
    cut = rendered.encode()[: max(0, limit - _size(note))].decode("utf-8", "ignore")
    return cut[: cut.rfind("\n") + 1] + note


def _size(text: str) -> int:
    return len(text.encode())


def categories_shown(report: Report) -> list[Category]:
    """The security categories that have a table in the report, in order."""
    shown: list[Category] = []
    for stack in report.stacks:
        shown += [c for c in by_category(security_changes(stack.diff)) if c not in shown]
    return shown
