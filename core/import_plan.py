"""The file for `pulumi import --file`: every live resource the stack takes over, under its program name.

Built from the rendered stack (synth/import_plan.py runs the program under the
mocks), so it cannot disagree with the program: each entry's name is the logical
name the program gives the resource, and its parent chain is the program's, so the
URN `pulumi import` computes is the URN the next `pulumi preview` looks for. Had
they differed, the preview would plan to create the resource the program declares
and to delete the imported one.

The file follows the bulk-import schema
(https://www.pulumi.com/docs/iac/guides/migration/import/#bulk-import-operations):
`resources`, each with `type`, `name` and `id`, or `component: true` (no id) for a
component resource the imported ones are parented to. Since Pulumi v3.94.0 an
import creates such empty components (pulumi/pulumi#14467) and a parent named in
the same file needs no URN in `nameTable` (pulumi/pulumi#14524), so the file has
no `nameTable`. `parent` names another entry by its `name`, which must therefore
be unique in the file; where two entries share a logical name (the `api` service
component and the `api` security-group component), `name` is made unique and
`logicalName` carries the program's name (pkg/cmd/pulumi/operations/import.go,
parseImportFile, resolves parents the same way: `resolve_urns` below mirrors it).

Pure: no Pulumi, no boto3.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from core.importable import Counterpart, Node, Unfilled, counterpart, live_estate_context
from core.live_estate import LIVE, LiveEstate

ROOT_STACK_TYPE = "pulumi:pulumi:Stack"


@dataclass(frozen=True)
class ImportEntry:
    node: Node
    # None: a component entry, created empty so that the imported resources have their parents.
    counterpart: Counterpart | None
    # The entry's `name` in the file, and its parent entry's (None: a top-level resource).
    name: str
    parent: str | None

    @property
    def component(self) -> bool:
        return self.counterpart is None


@dataclass(frozen=True)
class ImportPlan:
    stack: str
    project: str
    entries: tuple[ImportEntry, ...]
    # Whether the stack's cluster is the record's: otherwise nothing exists to take over.
    is_live_estate: bool
    # The pulumi-aws version the program runs, so the import uses the same provider.
    provider_version: str | None = None

    @property
    def imported(self) -> tuple[ImportEntry, ...]:
        return tuple(e for e in self.entries if not e.component)

    @property
    def unfilled(self) -> tuple[tuple[ImportEntry, Unfilled], ...]:
        """Every id part still to be filled in, with its entry, in file order."""
        return tuple((e, part) for e in self.imported if e.counterpart for part in e.counterpart.import_id.unfilled)

    def document(self) -> dict[str, Any]:
        """The import file."""
        resources = []
        for entry in self.entries:
            item: dict[str, Any] = {"type": entry.node.type, "name": entry.name}
            if entry.name != entry.node.name:
                item["logicalName"] = entry.node.name
            if entry.parent is not None:
                item["parent"] = entry.parent
            if entry.counterpart is None:
                item["component"] = True
            else:
                item["id"] = entry.counterpart.import_id.text
                if self.provider_version and entry.node.type.startswith("aws:"):
                    item["version"] = self.provider_version
            resources.append(item)
        return {"resources": resources}


def qualified_type(node: Node) -> str:
    """The URN's type part: the ancestors' types, then the resource's own, joined by `$`."""
    return "$".join([a.type for a in node.ancestors()] + [node.type])


def urn(node: Node, *, stack: str, project: str) -> str:
    """The URN the engine gives `node` (a top-level resource is the stack's child; its type is left out)."""
    return f"urn:pulumi:{stack}::{project}::{qualified_type(node)}::{node.name}"


def build_plan(
    nodes: Sequence[Node],
    *,
    stack: str,
    project: str,
    estate: LiveEstate = LIVE,
    provider_version: str | None = None,
) -> ImportPlan:
    """Every rendered resource that has a live counterpart, with the components above it."""
    context = live_estate_context(list(nodes), estate)
    taken = [(n, c) for n in nodes if (c := counterpart(n, context)) is not None]
    # Sorted by URN: the engine registers resources concurrently, in no fixed order.
    taken.sort(key=lambda pair: urn(pair[0], stack=stack, project=project))
    ordered: list[tuple[Node, Counterpart | None]] = []
    placed: set[int] = set()
    for node, found in taken:
        for ancestor in node.ancestors():
            if id(ancestor) not in placed:
                placed.add(id(ancestor))
                ordered.append((ancestor, None))
        placed.add(id(node))
        ordered.append((node, found))
    names = _entry_names([node for node, _ in ordered])
    entries = tuple(
        ImportEntry(
            node=node,
            counterpart=found,
            name=names[id(node)],
            parent=names[id(node.parent)] if node.parent is not None else None,
        )
        for node, found in ordered
    )
    return ImportPlan(
        stack=stack,
        project=project,
        entries=entries,
        is_live_estate=context.is_live_estate,
        provider_version=provider_version,
    )


def _entry_names(nodes: Iterable[Node]) -> dict[int, str]:
    """Each node's `name` in the file: its logical name, made unique where two entries share one."""
    nodes = list(nodes)
    shared = Counter(n.name for n in nodes)
    names: dict[int, str] = {}
    taken: set[str] = set()
    for node in nodes:
        name = node.name if shared[node.name] == 1 else f"{node.name}-{node.type.rsplit(':', 1)[-1]}"
        candidate, counter = name, 2
        while candidate in taken:
            candidate, counter = f"{name}-{counter}", counter + 1
        taken.add(candidate)
        names[id(node)] = candidate
    return names


class ImportFileError(ValueError):
    """What `pulumi import --file` would refuse the file for."""


def resolve_urns(document: Mapping[str, Any], *, stack: str, project: str) -> list[str]:
    """The URN `pulumi import` gives each entry of `document`, in order, as parseImportFile computes it.

    Names default to logical names and back; a parent is another entry's `name` (or the
    `nameTable`'s URN); the parent's URN gives the qualified type; a name that is not unique
    cannot be a parent, and two entries with one URN are refused.
    """
    resources = list(document.get("resources") or [])
    table: Mapping[str, str] = document.get("nameTable") or {}
    specs = []
    for index, spec in enumerate(resources):
        name = spec.get("name") or spec.get("logicalName")
        logical = spec.get("logicalName") or spec.get("name")
        if not spec.get("type") or not name:
            raise ImportFileError(f"resource {index} has no type or no name")
        if bool(spec.get("component")) == bool(spec.get("id")):
            raise ImportFileError(f"resource {name!r} needs an id, or component: true without one")
        specs.append((name, logical, spec["type"], spec.get("parent")))
    counts = Counter(name for name, _, _, _ in specs)
    by_name: dict[str, str] = {}
    resolved: list[str | None] = [None] * len(specs)
    while None in resolved:
        progressed = False
        for index, (name, logical, type_, parent) in enumerate(specs):
            if resolved[index] is not None:
                continue
            parent_type = ""
            if parent:
                if counts.get(parent, 0) > 1:
                    raise ImportFileError(f"resource {name!r} has an ambiguous parent {parent!r}")
                if parent in table:
                    parent_urn = table[parent]
                elif parent in by_name:
                    parent_urn = by_name[parent]
                elif parent in counts:
                    continue  # its parent is not resolved yet
                else:
                    raise ImportFileError(f"the parent {parent!r} of {name!r} has no entry in 'nameTable'")
                parent_type = parent_urn.split("::")[2]
                if parent_type == ROOT_STACK_TYPE:
                    parent_type = ""
            qualified = f"{parent_type}${type_}" if parent_type else type_
            found = f"urn:pulumi:{stack}::{project}::{qualified}::{logical}"
            if found in resolved:
                raise ImportFileError(f"resource {name!r} has an ambiguous URN {found}")
            resolved[index] = found
            by_name[name] = found
            progressed = True
        if not progressed:
            raise ImportFileError("the parents form a cycle")
    return [u for u in resolved if u is not None]
