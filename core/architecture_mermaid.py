"""The stack's picture (core/architecture.py) as a Mermaid flowchart, which GitHub draws in Markdown.

Left to right, one box per layer (routes per load balancer, target groups, services, what
they reach, secrets, rollback alarms), so five services still read as five rows, not as a
ball of string. With marks (core/architecture_diff.py), added, removed and changed nodes
and edges are coloured, with a legend.

Pure: no Pulumi, no boto3.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum

from core.architecture import Architecture, Edge, EdgeKind, Node, NodeKind


class Mark(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"


# Node shapes: (opening, closing) around the quoted label.
_SHAPES: Mapping[NodeKind, tuple[str, str]] = {
    NodeKind.HOST: ("([", "])"),
    NodeKind.RULE: ("[", "]"),
    NodeKind.TARGET_GROUP: ("[[", "]]"),
    NodeKind.SERVICE: ("[", "]"),
    NodeKind.DEPENDENCY: ("[(", ")]"),
    NodeKind.SECRET: ("[/", "/]"),
    NodeKind.ALARM: ("{{", "}}"),
}

_KIND_STYLES: Mapping[NodeKind, str] = {
    NodeKind.HOST: "fill:#eef4ff,stroke:#4f6fad",
    NodeKind.RULE: "fill:#eef4ff,stroke:#4f6fad",
    NodeKind.TARGET_GROUP: "fill:#f3efff,stroke:#7a5cc2",
    NodeKind.SERVICE: "fill:#e8f2fc,stroke:#1f5fa8,stroke-width:2px",
    NodeKind.DEPENDENCY: "fill:#f2f2f2,stroke:#666666",
    NodeKind.SECRET: "fill:#fdf6e3,stroke:#9a7b1c",
    NodeKind.ALARM: "fill:#fbeaea,stroke:#a33a3a",
}

MARK_STYLES: Mapping[Mark, str] = {
    Mark.ADDED: "fill:#dafbe1,stroke:#1a7f37,stroke-width:3px,color:#0b3d1a",
    Mark.REMOVED: "fill:#ffebe9,stroke:#cf222e,stroke-width:3px,stroke-dasharray:6 4,color:#6e0f15",
    Mark.CHANGED: "fill:#fff8c5,stroke:#bf8700,stroke-width:3px,color:#4d3800",
}
_MARK_LINKS: Mapping[Mark, str] = {
    Mark.ADDED: "stroke:#1a7f37,stroke-width:3px",
    Mark.REMOVED: "stroke:#cf222e,stroke-width:3px,stroke-dasharray:6 4",
    Mark.CHANGED: "stroke:#bf8700,stroke-width:3px",
}
_LEGEND_TEXT: Mapping[Mark, str] = {
    Mark.ADDED: "added",
    Mark.REMOVED: "removed",
    Mark.CHANGED: "changed",
}

# Solid arrows for traffic, dotted for what a service reads or is judged by.
_ARROWS: Mapping[EdgeKind, str] = {
    EdgeKind.ROUTES: "-->",
    EdgeKind.FORWARDS: "-->",
    EdgeKind.SERVES: "-->",
    EdgeKind.REACHES: "==>",
    EdgeKind.READS: "-.->",
    EdgeKind.ROLLS_BACK: "-.->",
}


def mermaid(
    picture: Architecture,
    *,
    node_marks: Mapping[str, Mark] | None = None,
    edge_marks: Mapping[tuple[str, str, str], Mark] | None = None,
) -> str:
    """The flowchart's text (without the ```mermaid fence)."""
    node_marks = node_marks or {}
    edge_marks = edge_marks or {}
    ids = _mermaid_ids(picture.nodes)
    lines = ["flowchart LR"]
    boxes = picture.boxes()
    for box in boxes:
        lines.append(f'  subgraph {_box_id(box.key)}["{_text(box.title)}"]')
        lines += [f"    {_node(ids[node.id], node)}" for node in box.nodes]
        lines.append("  end")
    drawn = [edge for edge in picture.edges if not edge.kind.to_owned]
    links: list[str] = []
    for index, edge in enumerate(drawn):
        lines.append(f"  {_edge(ids, edge)}")
        mark = edge_marks.get(edge.key)
        if mark is not None:
            links.append(f"  linkStyle {index} {_MARK_LINKS[mark]}")
    # One dotted arrow from each service to the box of its secrets and alarms.
    lines += [f"  {ids[box.service]} -.- {_box_id(box.key)}" for box in boxes if box.service]
    if node_marks or edge_marks:
        lines.append('  subgraph legend["Legend"]')
        lines += [f'    legend_{mark.value}["{_LEGEND_TEXT[mark]}"]' for mark in Mark]
        lines.append("  end")
    for kind, style in _KIND_STYLES.items():
        lines.append(f"  classDef {kind.value} {style}")
    for mark, style in MARK_STYLES.items():
        lines.append(f"  classDef {mark.value} {style}")
    for kind in NodeKind:
        plain = [ids[n.id] for n in picture.nodes if n.kind is kind and n.id not in node_marks]
        if plain:
            lines.append(f"  class {','.join(plain)} {kind.value}")
    for mark in Mark:
        marked = [ids[n.id] for n in picture.nodes if node_marks.get(n.id) is mark]
        if node_marks or edge_marks:
            marked.append(f"legend_{mark.value}")
        if marked:
            lines.append(f"  class {','.join(marked)} {mark.value}")
    return "\n".join(lines + links) + "\n"


def _node(mermaid_id: str, node: Node) -> str:
    opening, closing = _SHAPES[node.kind]
    label = f"<b>{_text(node.label)}</b>" if node.kind is NodeKind.SERVICE else _text(node.label)
    if node.detail:
        label += f"<br/><small>{_text(node.detail)}</small>"
    return f'{mermaid_id}{opening}"{label}"{closing}'


def _edge(ids: Mapping[str, str], edge: Edge) -> str:
    arrow = _ARROWS[edge.kind]
    label = f'|"{_text(edge.label)}"|' if edge.label else ""
    return f"{ids[edge.source]} {arrow}{label} {ids[edge.target]}"


def _text(text: str) -> str:
    """Label text Mermaid shows as written: its own entity codes for what it would parse."""
    for raw, code in (("&", "#amp;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;"), ("|", "#124;")):
        text = text.replace(raw, code)
    return text


_UNSAFE = re.compile(r"[^A-Za-z0-9_]")


def _mermaid_ids(nodes: tuple[Node, ...]) -> dict[str, str]:
    """A Mermaid id per node: readable, made of letters, digits and _, unique."""
    ids: dict[str, str] = {}
    taken: set[str] = {"legend", "end", "graph", "subgraph", "flowchart"}
    for node in nodes:
        base = _UNSAFE.sub("_", node.id)
        candidate, suffix = base, 2
        while candidate in taken or candidate.startswith("legend_"):
            candidate, suffix = f"{base}_{suffix}", suffix + 1
        taken.add(candidate)
        ids[node.id] = candidate
    return ids


def _box_id(title: str) -> str:
    return "box_" + _UNSAFE.sub("_", title.lower())
