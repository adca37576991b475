"""The stack's picture (core/architecture.py) as Graphviz DOT, for `dot -Tsvg` / `-Tpng`.

The same layers as the Mermaid picture, each a cluster, ranked left to right; edges
within a layer (a service reaching another service) do not pull the layers out of order.

Pure: no Pulumi, no boto3.
"""

from __future__ import annotations

from collections.abc import Mapping

from core.architecture import Architecture, Box, Edge, EdgeKind, Node, NodeKind

_SHAPES: Mapping[NodeKind, str] = {
    NodeKind.HOST: 'shape=box, style="rounded,filled", fillcolor="#eef4ff", color="#4f6fad"',
    NodeKind.RULE: 'shape=box, style=filled, fillcolor="#eef4ff", color="#4f6fad"',
    NodeKind.TARGET_GROUP: 'shape=box, style=filled, fillcolor="#f3efff", color="#7a5cc2"',
    NodeKind.SERVICE: 'shape=box, style="filled,bold", fillcolor="#e8f2fc", color="#1f5fa8", penwidth=2',
    NodeKind.DEPENDENCY: 'shape=cylinder, style=filled, fillcolor="#f2f2f2", color="#666666"',
    NodeKind.SECRET: 'shape=note, style=filled, fillcolor="#fdf6e3", color="#9a7b1c"',
    NodeKind.ALARM: 'shape=box, style="rounded,filled", fillcolor="#fbeaea", color="#a33a3a"',
}
_EDGES: Mapping[EdgeKind, str] = {
    EdgeKind.ROUTES: 'color="#4f6fad"',
    EdgeKind.FORWARDS: 'color="#4f6fad"',
    EdgeKind.SERVES: 'color="#7a5cc2"',
    EdgeKind.REACHES: 'color="#1f5fa8", penwidth=1.6',
    EdgeKind.READS: 'color="#9a7b1c", style=dashed, arrowhead=open',
    EdgeKind.ROLLS_BACK: 'color="#a33a3a", style=dashed, arrowhead=open',
}


def dot(picture: Architecture) -> str:
    """The DOT text of the picture."""
    ids = {node.id: f"n{index}" for index, node in enumerate(picture.nodes)}
    lines = [
        f"digraph {_quote(picture.stack)} {{",
        "  rankdir=LR; splines=true;",
        "  nodesep=0.25; ranksep=0.9;",
        f"  label={_quote(f'hokusai {picture.stack}: routes -> services -> what they reach, read and roll back on')};",
        "  labelloc=t; fontname=Helvetica; fontsize=16;",
        '  node [fontname=Helvetica, fontsize=11, margin="0.15,0.06"];',
        "  edge [fontname=Helvetica, fontsize=9, arrowsize=0.7];",
    ]
    for index, box in enumerate(picture.boxes()):
        if box.service:
            # A service's secrets and alarms: one table beside it, secrets left and alarms right,
            # with one arrow to it (one node and arrow per item makes five services unreadable).
            lines.append(f"  owned_{index} [shape=plain, label={_owned_table(box)}];")
            lines.append(f'  {ids[box.service]} -> owned_{index} [color="#9a7b1c", style=dashed, arrowhead=open];')
            continue
        lines.append(f"  subgraph cluster_{index} {{")
        lines.append(f'    label={_quote(box.title)}; style="rounded,dashed"; color="#bbbbbb"; fontsize=12;')
        lines += [f"    {ids[node.id]} [{_SHAPES[node.kind]}, label={_label(node)}];" for node in box.nodes]
        lines.append("  }")
    lines += [f"  {_edge(ids, picture, edge)}" for edge in picture.edges if not edge.kind.to_owned]
    lines.append("}")
    return "\n".join(lines) + "\n"


def _label(node: Node) -> str:
    """An HTML-like label: the name, bold for a service, and the detail smaller beneath."""
    name = _html(node.label)
    if node.kind is NodeKind.SERVICE:
        name = f"<B>{name}</B>"
    if not node.detail:
        return f"<{name}>"
    return f'<{name}<BR/><FONT POINT-SIZE="9" COLOR="#555555">{_html(node.detail)}</FONT>>'


_CELL_COLOURS = {NodeKind.SECRET: "#fdf6e3", NodeKind.ALARM: "#fbeaea"}


def _owned_table(box: Box) -> str:
    columns = [[n for n in box.nodes if n.kind is kind] for kind in (NodeKind.SECRET, NodeKind.ALARM)]
    rows = [
        '<TR><TD COLSPAN="2" BGCOLOR="#eeeeee"><B>'
        + _html(box.title.split(":", 1)[0])
        + "</B>: secrets read | alarms that roll it back</TD></TR>"
    ]
    for row in range(max(len(column) for column in columns)):
        cells = []
        for column in columns:
            node = column[row] if row < len(column) else None
            if node is None:
                cells.append("<TD></TD>")
                continue
            detail = f'<BR/><FONT POINT-SIZE="9" COLOR="#555555">{_html(node.detail)}</FONT>' if node.detail else ""
            cells.append(f'<TD BGCOLOR="{_CELL_COLOURS[node.kind]}">{_html(node.label)}{detail}</TD>')
        rows.append("<TR>" + "".join(cells) + "</TR>")
    table = '<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="5" COLOR="#999999">'
    return f"<{table}{''.join(rows)}</TABLE>>"


def _edge(ids: Mapping[str, str], picture: Architecture, edge: Edge) -> str:
    attributes = [_EDGES[edge.kind]]
    if edge.label:
        attributes.append(f"label={_quote(edge.label)}")
    same_layer = picture.node(edge.source).kind is picture.node(edge.target).kind
    if same_layer:
        # A service reaching another service: drawn, but it must not rank one after the other.
        attributes.append("constraint=false")
    return f"{ids[edge.source]} -> {ids[edge.target]} [{', '.join(attributes)}];"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
