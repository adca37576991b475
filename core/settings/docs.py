"""docs/SETTINGS.md, generated from the declarations (core/settings/declarations.py).

A table per section of the stack config: each key with its type, default,
what it accepts and what it is for, taken from the very declarations the
loader reads each value through, so the document cannot drift from the
checks. A test (tests/test_settings_docs.py) and `--check` fail when the
committed file is stale.

    python -m core.settings.docs            print the Markdown
    python -m core.settings.docs --write    write docs/SETTINGS.md
    python -m core.settings.docs --check    exit 1 if docs/SETTINGS.md is stale (for CI)

Exit codes, as for the other tools: 0 up to date (or written), 1 stale or
missing, 2 could not check (the file cannot be read or written).

Pure generation (`render`) apart from the command line (`main`).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from core.generated_doc import GeneratedDoc
from core.settings import declarations
from core.settings.fields import EMPTY_MAPPING, NAMESPACE, DerivedDefault, Kind, Marker, Setting

PROJECT_DIR = Path(__file__).resolve().parents[2]
DOC_PATH = PROJECT_DIR / "docs" / "SETTINGS.md"
DOC_NAME = "docs/SETTINGS.md"
SOURCE_NAME = "core/settings/declarations.py"
REGENERATE = "python -m core.settings.docs --write"


# --------------------------------------------------------------------------- #
# One row
# --------------------------------------------------------------------------- #


def _code(text: str) -> str:
    return f"`{text}`"


def _cell(text: str) -> str:
    """Text safe inside a table cell: no pipes or newlines, and no `<name>` outside
    code spans (GitHub would take it for an HTML tag and hide it)."""
    text = text.replace("|", "\\|").replace("\n", " ")
    parts = text.split("`")
    # Even parts are outside code spans.
    for index in range(0, len(parts), 2):
        parts[index] = parts[index].replace("<", "&lt;").replace(">", "&gt;")
    return "`".join(parts)


def default_text(setting: Setting) -> str:
    default = setting.default
    if isinstance(default, Marker):
        return default.value
    if isinstance(default, DerivedDefault):
        return f"{default.says} (derived)"
    if isinstance(default, bool):
        return _code("true" if default else "false")
    if default == ():
        return _code("[]")
    if default == EMPTY_MAPPING:
        return _code("{}")
    return _code(str(default))


def _arn_text(setting: Setting) -> str:
    arn = setting.arn_shape
    scope = ", in the stack's region and account" if arn.in_stack_account else ""
    return f"the ARN of {arn.what}: {_code(arn.example)}{scope}"


def _shape_text(setting: Setting) -> str:
    """The shape in words, then the pattern the reader matches (the exact rule)."""
    if setting.pattern is None:
        return setting.shape
    return f"{setting.shape}, matching {_code(setting.pattern.pattern)}"


def allowed_text(setting: Setting) -> str:
    """What the setting accepts, from the same fields the reader checks."""
    kind = setting.kind
    if kind is Kind.WHOLE_NUMBER:
        if setting.allowed:
            return "one of " + ", ".join(map(str, setting.allowed))
        low, high = setting.number_range
        return f"{low}..{high}"
    if kind is Kind.BOOLEAN:
        return "true, false"
    if kind is Kind.ARN:
        return _arn_text(setting)
    if kind is Kind.TEXT and setting.arn is not None:
        return f"{_shape_text(setting)}; or {_arn_text(setting)}"
    if kind is Kind.TEXT:
        return _shape_text(setting)
    if kind is Kind.TEXT_LIST:
        return f"each: {_shape_text(setting)}"
    if kind is Kind.ARN_LIST:
        return f"each: {_arn_text(setting)}"
    if kind is Kind.TEXT_MAPPING:
        names = (
            f"{setting.names_shape}, matching {_code(setting.names.pattern)}" if setting.names else setting.names_shape
        )
        parts = [f"names: {names}" if names else "", f"values: {_shape_text(setting)}"]
        return "; ".join(p for p in parts if p)
    if kind is Kind.SECTION:
        return f"the keys of {_code(setting.config_key)} below"
    if kind is Kind.SECTION_LIST:
        return f"mappings with the keys of {_code(setting.config_key + '[]')} below"
    # A mapping of sections: the names the stack chooses, each a section declared below.
    names = f"{setting.names_shape}, matching {_code(setting.names.pattern)}" if setting.names else setting.names_shape
    return f"names: {names}; each a mapping with the keys below"


def row(setting: Setting) -> str:
    cells = (
        _code(setting.config_key),
        setting.kind.value,
        default_text(setting),
        allowed_text(setting),
        setting.description,
    )
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


# --------------------------------------------------------------------------- #
# The document
# --------------------------------------------------------------------------- #

_TABLE_HEAD = ["| key | type | default | allowed | description |", "| --- | --- | --- | --- | --- |"]


def tables(settings: Sequence[Setting]) -> list[tuple[Setting | None, list[Setting]]]:
    """(section, its settings) in declaration order; None is the top level.

    The entry of a mapping of sections (`services.<service>`) is not a row of its
    own: it heads the table of its keys.
    """
    in_namespace = [s for s in settings if s.namespace == NAMESPACE]
    result: list[tuple[Setting | None, list[Setting]]] = [
        (None, [s for s in settings if s.namespace != NAMESPACE] + [s for s in in_namespace if s.parent == ""])
    ]
    for section in in_namespace:
        if section.kind is Kind.SECTION:
            result.append((section, [s for s in in_namespace if s.parent == section.key]))
        elif section.kind is Kind.SECTION_LIST:
            result.append((section, [s for s in in_namespace if s.parent == f"{section.key}[]"]))
    return result


def _heading(section: Setting) -> str:
    if section.kind is Kind.SECTION_LIST:
        return f"## {_code(section.config_key + '[]')} (each item)"
    return f"## {_code(section.config_key)}"


def render(settings: Iterable[Setting] | None = None) -> str:
    """The whole of docs/SETTINGS.md. Deterministic: declaration order, no timestamps."""
    settings = declarations.all_declared() if settings is None else tuple(settings)
    lines = [
        "# Stack settings",
        "",
        f"<!-- Generated from {SOURCE_NAME} by `{REGENERATE}`. Do not edit by hand. -->",
        "",
        f"Every key a stack may set in `Pulumi.<stack>.yaml`, generated from `{SOURCE_NAME}`: the",
        "declarations the settings loader reads each value through, so the defaults, ranges and patterns",
        "below are the ones it enforces. Do not edit this file by hand: change a declaration, then run `make docs`",
        f"(or `{REGENERATE}`). `make docs-check` and `tests/test_settings_docs.py` fail when it is stale.",
        "",
        '- The loader refuses any key not listed here (with a "did you mean") and reports every problem at',
        "  once, each with its key, what is wrong and the fix, before `pulumi preview` creates anything.",
        "- `<service>`, `<VAR>`: names the stack chooses; `[]`: each item of a list. Set nested keys with",
        f"  `pulumi config set --path '{NAMESPACE}:services.api.cpu' 1024`.",
        "- **required**: the stack must set it; **–**: optional, absent means the feature is not used.",
        "- Beyond each key: the cpu/memory pair must be one Fargate runs, route priorities are unique across",
        "  services, and each service's contract (core/contract.py, [ENVIRONMENT.md](ENVIRONMENT.md)) says which",
        "  secrets and plain settings it requires and which dependencies it reaches: each of those must be",
        f"  declared under `{NAMESPACE}:dependencies` (or be a service of the stack), and the settings derived",
        "  from it (REDIS_HOST is derived from dependency redis: host) cannot be set by hand.",
        "- Secret *values* never appear in the stack's settings: a secret names where its value lives.",
    ]
    for section, members in tables(settings):
        lines.append("")
        if section is None:
            lines += ["## The stack", "", f"Keys under `{NAMESPACE}:`, and the AWS provider's region."]
        else:
            lines += [_heading(section), "", _cell(section.description[:1].upper() + section.description[1:]) + "."]
        lines += ["", *_TABLE_HEAD, *(row(s) for s in members)]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- #
# Command line
# --------------------------------------------------------------------------- #


DOC = GeneratedDoc(name=DOC_NAME, path=DOC_PATH, source=SOURCE_NAME, regenerate=REGENERATE, render=render)


def main(argv: Sequence[str] | None = None) -> int:
    return DOC.main(argv, prog="python -m core.settings.docs", description=(__doc__ or "").split("\n\n")[0])


if __name__ == "__main__":
    sys.exit(main())
