"""The PR's picture: the head's estate with what the change adds, removes and changes marked.

A reviewer sees the shape of a change (a service, a route, a dependency, a secret, a
rollback alarm) before reading the resource diff: added in green, removed in red
(dashed, drawn where it was), changed in amber, with a legend. Nodes and edges are
matched by their ids (core/architecture.py keeps them stable across commits); a node
whose label or detail differs (a task size, a port, the secret it reads) is changed.

Pure: no Pulumi, no boto3.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.architecture import LAYERS, Architecture, Edge, Node, NodeKind
from core.architecture_mermaid import Mark, mermaid

_MARK_WORDS = {Mark.ADDED: "added", Mark.REMOVED: "removed", Mark.CHANGED: "changed"}


@dataclass(frozen=True)
class ShapeChange:
    # Both pictures in one: the head's nodes and edges, and the base's that the head lost.
    picture: Architecture
    node_marks: dict[str, Mark]
    edge_marks: dict[tuple[str, str, str], Mark]

    @property
    def changed(self) -> bool:
        """Whether the change alters the picture at all."""
        return bool(self.node_marks or self.edge_marks)

    def changes(self) -> list[str]:
        """One line per marked node, as a reviewer reads it: "added service worker"."""
        lines = []
        for node in self.picture.nodes:
            mark = self.node_marks.get(node.id)
            if mark is not None:
                lines.append(f"{_MARK_WORDS[mark]} {self._named(node)}")
        for edge in self.picture.edges:
            mark = self.edge_marks.get(edge.key)
            if (
                mark is not None
                and self.node_marks.get(edge.source) is None
                and self.node_marks.get(edge.target) is None
            ):
                source, target = self.picture.node(edge.source), self.picture.node(edge.target)
                how = f" ({edge.label})" if edge.label else ""
                lines.append(
                    f"{_MARK_WORDS[mark]} {source.label} {edge.kind.value.replace('_', ' ')} {target.label}{how}"
                )
        return lines

    def _named(self, node: Node) -> str:
        """ "rule 200 (/mlflow/*)", "secret DB_PASSWORD of billing", "service api"."""
        kind = node.kind.value.replace("_", " ")
        named = node.label if node.label.startswith(kind) else f"{kind} {node.label}"
        if node.kind is NodeKind.RULE and node.detail:
            named += f" ({node.detail})"
        owner = next((n.label for n in self.picture.nodes if n.id == node.group), None)
        return f"{named} of {owner}" if owner else named


def compare(base: Architecture, head: Architecture) -> ShapeChange:
    """What `head` adds, removes and changes against `base`."""
    base_nodes = {node.id: node for node in base.nodes}
    head_nodes = {node.id: node for node in head.nodes}
    node_marks: dict[str, Mark] = {}
    for node_id, node in head_nodes.items():
        before = base_nodes.get(node_id)
        if before is None:
            node_marks[node_id] = Mark.ADDED
        elif before != node:
            node_marks[node_id] = Mark.CHANGED
    node_marks.update({node_id: Mark.REMOVED for node_id in base_nodes.keys() - head_nodes.keys()})

    base_edges = {edge.key: edge for edge in base.edges}
    head_edges = {edge.key: edge for edge in head.edges}
    edge_marks: dict[tuple[str, str, str], Mark] = {}
    for key, edge in head_edges.items():
        edge_before = base_edges.get(key)
        if edge_before is None:
            edge_marks[key] = Mark.ADDED
        elif edge_before != edge:
            edge_marks[key] = Mark.CHANGED
    edge_marks.update({key: Mark.REMOVED for key in base_edges.keys() - head_edges.keys()})

    nodes: list[Node] = [*head.nodes, *(base_nodes[i] for i in base_nodes.keys() - head_nodes.keys())]
    edges: list[Edge] = [*head.edges, *(base_edges[k] for k in base_edges.keys() - head_edges.keys())]
    order = {kind: index for index, kind in enumerate(LAYERS)}
    picture = Architecture(
        head.stack,
        tuple(sorted(nodes, key=lambda n: (order[n.kind], n.group, n.id))),
        tuple(sorted(edges, key=lambda e: e.key)),
    )
    return ShapeChange(picture, node_marks, edge_marks)


@dataclass(frozen=True)
class MarkedPicture:
    changed: bool
    # The Mermaid flowchart (no fence) with the marks and a legend; the plain picture when unchanged.
    mermaid: str
    changes: tuple[str, ...]


def marked_mermaid(base: Architecture, head: Architecture) -> MarkedPicture:
    """The head's picture with the change against the base marked, and whether there is one."""
    change = compare(base, head)
    text = mermaid(change.picture, node_marks=change.node_marks, edge_marks=change.edge_marks)
    return MarkedPicture(change.changed, text, tuple(change.changes()))


def marked_markdown(base: Architecture, head: Architecture, *, base_name: str = "the base") -> str:
    """A PR comment's section: the marked picture and the list of changes; "" when the shape
    did not change (a comment about nothing would only be noise)."""
    marked = marked_mermaid(base, head)
    if not marked.changed:
        return ""
    lines = [
        f"### The estate's shape changes: {head.stack}",
        "",
        f"Against {base_name}: green added, red removed (dashed), amber changed.",
        "",
        "```mermaid",
        marked.mermaid.rstrip("\n"),
        "```",
        "",
        *(f"- {change}" for change in marked.changes),
    ]
    return "\n".join(lines) + "\n"
