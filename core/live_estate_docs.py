"""docs/ESTATE.md, generated from the record of the live estate (core/live_estate.py).

What ran at the incident, one row per fact with its citation; where the sources
disagree and which one reflects the incident; the placeholders to fill in
before cutover, each with the command that finds it; the stack's deliberate
differences from the estate, with their reasons; and where the development stack
follows the estate, value by value (core/fidelity.py). The record is the only source,
so the document cannot say something the record does not; a test
(tests/test_live_estate_docs.py) and `--check` fail when the committed file is stale.

    python -m core.live_estate_docs            print the Markdown
    python -m core.live_estate_docs --write    write docs/ESTATE.md
    python -m core.live_estate_docs --check    exit 1 if docs/ESTATE.md is stale (for CI)

Exit codes, as for the other tools: 0 up to date (or written), 1 stale or
missing, 2 could not check (the file cannot be read or written).

Pure generation (`render`) apart from the command line (`main`).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

from core.fidelity import BINDINGS, Binding, Relation, record_entry
from core.fidelity import STACK as BOUND_STACK
from core.generated_doc import GeneratedDoc
from core.live_estate import (
    INCIDENT,
    LIVE,
    REFERENCE_COMMIT,
    REPOSITORY,
    Citation,
    Fact,
    LiveEstate,
    PackageSource,
    Placeholder,
    SecretReference,
    entries,
    lookup,
)

PROJECT_DIR = Path(__file__).resolve().parents[1]
DOC_NAME = "docs/ESTATE.md"
DOC_PATH = PROJECT_DIR / DOC_NAME
SOURCE_NAME = "core/live_estate.py"
REGENERATE = "python -m core.live_estate_docs --write"


_REPOSITORY_URL = f"https://github.com/{REPOSITORY}"

# The record's sections that are not "what ran": they have sections of their own.
_NOT_A_SUBJECT = ("disagreements", "differences", "carried_over")

# Headings of the subjects, by the record's top-level field.
_TITLES = {
    "incident": "The incident",
    "network": "Account, region, VPC and subnets",
    "security_groups": "Security groups",
    "redis_rule": "The Redis rule `redis_from_data_pipeline_ecs`",
    "cluster": "ECS cluster",
    "services": "Service `{key}`",
    "target_groups": "Target groups",
    "load_balancers": "Load balancer and listener",
    "cloud_map": "Cloud Map",
    "redis": "Redis",
    "database": "PostgreSQL (RDS)",
    "artifacts": "MLflow artifact store (S3)",
    "auth_service": "Auth service",
    "mlflow_server": "MLflow server (the image's command)",
    "application": "What the application does with its settings",
    "deploy": "The deploy workflow",
}

# --------------------------------------------------------------------------- #
# Text
# --------------------------------------------------------------------------- #


def _code(text: str) -> str:
    """A code span; doubled backticks when the text holds one."""
    if "`" in text:
        return f"`` {text} ``"
    return f"`{text}`"


def _text(text: str) -> str:
    """Prose safe in Markdown: no `<name>` outside code spans (GitHub would hide it as a tag)."""
    parts = text.split("`")
    for index in range(0, len(parts), 2):
        parts[index] = parts[index].replace("<", "&lt;").replace(">", "&gt;")
    return "`".join(parts)


def _cell(text: str) -> str:
    """Prose safe inside a table cell: also no pipes or newlines."""
    return _text(text.replace("|", "\\|").replace("\n", " "))


def value_text(value: object) -> str:
    """A fact's value as it reads in a cell: identifiers as code, statements as prose."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, tuple):
        return ", ".join(value_text(v) for v in value) if value else "none"
    text = str(value)
    return _cell(text) if " " in text else _code(text)


def citation_text(citation: Citation) -> str:
    """A citation as a link to the cited lines (text files) or as plain code."""
    if isinstance(citation, PackageSource):
        return _code(str(citation))
    url = f"{_REPOSITORY_URL}/blob/{citation.commit}/{citation.path}"
    if citation.lines:
        first = citation.lines.split(",")[0]
        start, _, end = first.partition("-")
        url += f"#L{start}-L{end}" if end else f"#L{start}"
    return f"[{_code(str(citation))}]({url})"


def _sources(fact: Fact[Any]) -> str:
    return "<br>".join(citation_text(c) for c in fact.sources)


def _note(fact: Fact[Any], parent: object) -> str:
    parts = []
    if isinstance(parent, SecretReference):
        parts.append(secret_parts(parent))
    if fact.note:
        parts.append(fact.note)
    if fact.inferred:
        parts.append("(inferred from the sources)")
    return _cell("; ".join(parts))


def secret_parts(reference: SecretReference) -> str:
    if reference.store == "ssm":
        return f"SSM parameter `{reference.parameter_name}`"
    key = f"JSON key `{reference.json_key}`" if reference.json_key else "the whole SecretString (no JSON key)"
    suffix = f", ARN suffix `-{reference.arn_suffix}`" if reference.arn_suffix else ""
    return f"Secrets Manager `{reference.secret_name}`{suffix}, {key}"


def anchor(path: str) -> str:
    # GitHub's anchor for a heading that is one code span: lower case, punctuation dropped.
    return "".join(ch for ch in path.lower() if ch.isalnum() or ch in "-_")


# --------------------------------------------------------------------------- #
# Sections
# --------------------------------------------------------------------------- #


def subjects(estate: LiveEstate) -> list[tuple[str, str, object]]:
    """(heading, record path, node) of each subject of "what ran", in record order."""
    result = []
    for item in fields(estate):
        if item.name in _NOT_A_SUBJECT:
            continue
        node = getattr(estate, item.name)
        if item.name == "services":
            for key, service in node.items():
                result.append((_TITLES["services"].format(key=key), f"services.{key}", service))
        else:
            result.append((_TITLES.get(item.name, item.name), item.name, node))
    return result


def _parent(path: str, estate: LiveEstate) -> object:
    return lookup(path.rsplit(".", 1)[0], estate) if "." in path else estate


def what_ran(estate: LiveEstate) -> list[str]:
    lines = [
        "## What ran at the incident",
        "",
        "One row per fact, by its path in the record (`LIVE.<path>` in `core/live_estate.py`). A row marked",
        "*unknown* is a [placeholder](#placeholders-to-fill-in-before-cutover).",
    ]
    for heading, root, node in subjects(estate):
        lines += ["", f"### {heading}", "", "| fact | value | source | note |", "| --- | --- | --- | --- |"]
        for path, entry in entries(node, root):
            shown = path.removeprefix(root + ".")
            if isinstance(entry, Placeholder):
                link = f"[*unknown*](#{anchor(path)})"
                lines.append(f"| {_code(shown)} | {link} | – | {_cell(entry.what)} |")
                continue
            parent = _parent(path, estate)
            lines.append(f"| {_code(shown)} | {value_text(entry.value)} | {_sources(entry)} | {_note(entry, parent)} |")
    return lines


def disagreements(estate: LiveEstate) -> list[str]:
    lines = [
        "## Where the sources disagree",
        "",
        "Each subject on which two sources say different things, and which of them reflects the incident.",
    ]
    for item in estate.disagreements:
        lines += ["", f"### {_text(item.topic)}", "", "| says | source | note |", "| --- | --- | --- |"]
        lines += [f"| {value_text(c.value)} | {_sources(c)} | {_cell(c.note)} |" for c in item.claims]
        lines += ["", f"**At the incident:** {_text(item.verdict)}. {_text(item.why[:1].upper() + item.why[1:])}."]
    return lines


def placeholders_section(estate: LiveEstate) -> list[str]:
    lines = [
        "## Placeholders to fill in before cutover",
        "",
        "Values no source shows. Each says why it is unknown and how to read it from the account (read-only",
        "calls; run them with the estate's credentials and record the answer in `core/live_estate.py`).",
    ]
    for path, entry in entries(estate):
        if not isinstance(entry, Placeholder):
            continue
        lines += [
            "",
            f"### {_code(path)}",
            "",
            f"- **What:** {_text(entry.what)}",
            f"- **Why unknown:** {_text(entry.why_unknown)}",
            "- **How to find:**",
            "",
            "  ```sh",
            f"  {entry.how_to_find}",
            "  ```",
        ]
    return lines


def differences(estate: LiveEstate) -> list[str]:
    lines = [
        "## Deliberate differences",
        "",
        "Where the new stack departs from the live estate on purpose, and why.",
    ]
    for item in estate.differences:
        lines += [
            "",
            f"### {_text(item.subject)}",
            "",
            f"- **Live:** {_text(item.live)}",
            f"- **Ours:** {_text(item.ours)}",
            f"- **Why:** {_text(item.why)}",
        ]
        if item.live_facts:
            lines.append("- **Live facts:** " + ", ".join(_code(p) for p in item.live_facts))
    lines += [
        "",
        "### Carried over on purpose",
        "",
        "Live values the new stack keeps, where changing them was considered.",
        "",
        "| subject | record | why |",
        "| --- | --- | --- |",
    ]
    lines += [f"| {_cell(c.subject)} | {_code(c.record_path)} | {_cell(c.why)} |" for c in estate.carried_over]
    return lines


def heading_anchor(heading: str) -> str:
    """GitHub's anchor for a heading of prose: lower case, punctuation dropped, spaces as dashes."""
    kept = "".join(ch for ch in heading.lower() if ch.isalnum() or ch in " -_")
    return kept.replace(" ", "-")


def _binding_row(binding: Binding, estate: LiveEstate) -> str:
    entry = record_entry(binding.record, estate)
    record = _code(binding.record)
    if binding.relation is Relation.DIFFERS:
        relation = f"differs: [{_cell(binding.difference)}](#{heading_anchor(binding.difference)})"
    elif binding.relation is Relation.PLACEHOLDER:
        relation = f"[placeholder](#{anchor(binding.record)})"
    else:
        relation = binding.relation.value
    if isinstance(entry, Placeholder):
        live, sources = f"[*unknown*](#{anchor(binding.record)})", "–"
    else:
        live, sources = value_text(entry.value), _sources(entry)
    note = f"<br>{_cell(binding.note)}" if binding.note else ""
    return f"| {_cell(str(binding.where))}{note} | {relation} | {record} | {live} | {sources} |"


def where_the_stack_follows(estate: LiveEstate) -> list[str]:
    bindings = BINDINGS.get(BOUND_STACK, ())
    return [
        "## Where the stack follows the estate",
        "",
        f"Each value of the {BOUND_STACK} stack (its stack file, the contract, what the settings derive and the",
        "program's constants) that names something the estate has, bound to the record entry that shows it:",
        "*equals* the live value, *one of* the live values, *differs* as a [deliberate",
        "difference](#deliberate-differences) explains, or stands in for a [placeholder](#placeholders-to-fill-in-"
        "before-cutover).",
        "The table is `core/fidelity.py`; `tests/test_estate_fidelity.py` checks each row against the stack file",
        "and the record, and that nothing the record knows about the stack's services is left out.",
        "",
        "| where | relation | record | live value | source |",
        "| --- | --- | --- | --- | --- |",
        *(_binding_row(binding, estate) for binding in bindings),
    ]


def _package_sources(estate: LiveEstate) -> list[PackageSource]:
    found: dict[str, PackageSource] = {}
    for _, entry in entries(estate):
        if isinstance(entry, Fact):
            for citation in entry.sources:
                if isinstance(citation, PackageSource):
                    found.setdefault(str(citation), citation)
    for item in estate.disagreements:
        for claim in item.claims:
            for citation in claim.sources:
                if isinstance(citation, PackageSource):
                    found.setdefault(str(citation), citation)
    return [found[k] for k in sorted(found)]


def render(estate: LiveEstate | None = None) -> str:
    """The whole of docs/ESTATE.md. Deterministic: record order, no timestamps."""
    estate = LIVE if estate is None else estate
    all_entries = list(entries(estate))
    fact_count = sum(isinstance(e, Fact) for _, e in all_entries)
    placeholder_count = sum(isinstance(e, Placeholder) for _, e in all_entries)
    packages = _package_sources(estate)
    lines = [
        "# The live estate at the incident",
        "",
        f"<!-- Generated from {SOURCE_NAME} by `{REGENERATE}`. Do not edit by hand. -->",
        "",
        "What ran in AWS for the Hokusai prediction API when the incident of 2025-10-07 was fixed (API task",
        f"definition revision 150 to 151), as a reviewed record: {fact_count} facts, each with where it is shown,",
        f"and {placeholder_count} placeholders for what no source shows. Generated from `{SOURCE_NAME}`; change",
        f"the record, then run `make docs` (or `{REGENERATE}`). `make docs-check` and",
        "`tests/test_live_estate_docs.py` fail when this file is stale.",
        "",
        "How to read a citation:",
        "",
        f"- `path@commit:lines`: a file of the estate's repository, [{REPOSITORY}]({_REPOSITORY_URL}).",
        f"  Most are at `{INCIDENT}` (`{REFERENCE_COMMIT}`), the squash-merge of the incident's fix on",
        "  2025-10-07; a few name another commit (an incident write-up added on 2025-10-10, an earlier task",
        "  definition, a later workflow).",
        "- `path@commit (tfstate <address>)`: a resource of the Terraform state inside the repository's binary",
        "  plan (`infrastructure/terraform/tfplan`, a zip): this repository's own July 2025 stack. Only ids and",
        "  names are taken from it.",
    ]
    for package in packages:
        lines.append(
            f"- {_code(str(package))}: the published package the estate's image installs"
            + (f" (the file's {_code(package.record_hash)} in the wheel's RECORD)." if package.record_hash else ".")
        )
    lines += [
        "- *inferred*: the value is concluded from the cited lines rather than written in them; the note says how.",
        "",
        "No credential is recorded: a secret appears only as the `valueFrom` that names where its value lives.",
        "",
        "Contents: [what ran at the incident](#what-ran-at-the-incident) ·",
        "[where the sources disagree](#where-the-sources-disagree) ·",
        "[placeholders to fill in before cutover](#placeholders-to-fill-in-before-cutover) ·",
        "[deliberate differences](#deliberate-differences) ·",
        "[where the stack follows the estate](#where-the-stack-follows-the-estate).",
        "",
        *what_ran(estate),
        "",
        *disagreements(estate),
        "",
        *placeholders_section(estate),
        "",
        *differences(estate),
        "",
        *where_the_stack_follows(estate),
    ]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- #
# Command line
# --------------------------------------------------------------------------- #


DOC = GeneratedDoc(name=DOC_NAME, path=DOC_PATH, source=SOURCE_NAME, regenerate=REGENERATE, render=render)


def main(argv: Sequence[str] | None = None) -> int:
    return DOC.main(argv, prog="python -m core.live_estate_docs", description=(__doc__ or "").split("\n\n")[0])


if __name__ == "__main__":
    sys.exit(main())
