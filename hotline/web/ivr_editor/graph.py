"""A menu drawn as a graph: nodes, their options, transfers to queues and hours branches,
laid out on the server in layers (from `start` and the entry points) and rendered as SVG.

It works on the parsed YAML data, not on a checked Menu, so a draft with errors (an unknown
target, a node missing its queue) is still drawn: unknown targets become dashed "missing"
nodes and nodes with an error are marked (`error_nodes`, from the checker's issue paths).

    graph = menu_graph(data, error_nodes={"main"})   # None unless `data` has a nodes mapping
    svg = render_svg(graph, title="skyrail-main")
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from html import escape
from typing import Any

NODE_W, NODE_H, GAP_X, GAP_Y, MARGIN = 168, 46, 22, 64, 16


@dataclass
class GraphNode:
    id: str
    kind: str  # a node kind, "queue" or "missing"
    detail: str = ""
    error: bool = False
    layer: int = 0
    x: float = 0.0
    y: float = 0.0


@dataclass(frozen=True)
class GraphEdge:
    source: str
    target: str
    label: str
    kind: str  # next | option | open | closed | failure | emergency | goto | transfer | callback


@dataclass
class Graph:
    nodes: dict[str, GraphNode] = field(default_factory=dict)
    edges: list[GraphEdge] = field(default_factory=list)
    width: float = 0.0
    height: float = 0.0


def _text(value: Any, limit: int = 24) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _first_keyword(raw: Any) -> str:
    if isinstance(raw, Mapping):
        for words in raw.values():
            if isinstance(words, list) and words:
                return str(words[0])
    return ""


def _edges(node_id: str, raw: Mapping[str, Any]) -> Iterator[GraphEdge]:
    kind = raw.get("kind")
    found = raw.get("options")
    options: list[Any] = found if isinstance(found, list) else []
    if kind == "menu":
        for option in options:
            if isinstance(option, Mapping) and isinstance(option.get("next"), str):
                key = option.get("dtmf")
                label = " ".join(p for p in (str(key) if key is not None else "", _first_keyword(option.get("keywords"))) if p)
                yield GraphEdge(node_id, option["next"], _text(label or "option", 16), "option")
    if kind == "callback":
        decline = raw.get("decline")
        if isinstance(decline, Mapping) and isinstance(decline.get("next"), str):
            yield GraphEdge(node_id, decline["next"], _text(f"{decline.get('dtmf', '')} decline".strip(), 16), "option")
        if isinstance(raw.get("queue"), str):
            accept = raw.get("accept")
            key = accept.get("dtmf", "") if isinstance(accept, Mapping) else ""
            yield GraphEdge(node_id, f"queue:{raw['queue']}", _text(f"{key} call back".strip(), 16), "callback")
    if kind == "transfer" and isinstance(raw.get("queue"), str):
        yield GraphEdge(node_id, f"queue:{raw['queue']}", "", "transfer")
    named = {"next": ("", "next"), "open": ("open", "open"), "closed": ("closed", "closed"),
             "on_failure": ("failure", "failure")}
    if kind == "emergency":
        named = {**named, "next": ("normal", "next"), "target": ("emergency on", "emergency")}
    elif kind == "goto":
        named = {**named, "target": ("goto", "goto")}
    for key, (label, edge_kind) in named.items():
        value = raw.get(key)
        if isinstance(value, str):
            yield GraphEdge(node_id, value, label, edge_kind)


def _detail(raw: Mapping[str, Any]) -> str:
    kind = raw.get("kind")
    if kind == "transfer":
        skills = raw.get("skills")
        names = ", ".join(map(str, skills)) if isinstance(skills, Mapping) else ""
        return _text(f"transfer {names}".strip())
    if kind == "hours":
        return _text(f"hours {raw.get('timezone', '')}")
    if kind == "collect":
        return _text(f"collect {raw.get('store', '')}")
    if kind == "language":
        langs = [str(o.get("language")) for o in raw.get("options") or [] if isinstance(o, Mapping)]
        return _text("language " + " ".join(langs))
    if kind == "emergency":
        return _text(f"emergency {raw.get('name', '')}")
    return _text(str(kind or "?"))


def menu_graph(data: Any, error_nodes: set[str] | frozenset[str] = frozenset()) -> Graph | None:
    """The graph of parsed menu data (None when it has no `nodes` mapping), laid out."""
    if not isinstance(data, Mapping) or not isinstance(data.get("nodes"), Mapping):
        return None
    graph = Graph()
    raw_nodes = {str(k): v for k, v in data["nodes"].items() if isinstance(v, Mapping)}
    for node_id, raw in raw_nodes.items():
        graph.nodes[node_id] = GraphNode(node_id, str(raw.get("kind", "?")), _detail(raw), node_id in error_nodes)
        graph.edges.extend(_edges(node_id, raw))
    for edge in graph.edges:
        if edge.target not in graph.nodes:
            if edge.target.startswith("queue:"):
                graph.nodes[edge.target] = GraphNode(edge.target, "queue", edge.target.removeprefix("queue:"))
            else:
                graph.nodes[edge.target] = GraphNode(edge.target, "missing", "unknown node", True)
    roots = [r for r in [data.get("start"), *(data.get("entries") or [])] if isinstance(r, str)]
    _layout(graph, [r for r in roots if r in graph.nodes])
    return graph


def _layout(graph: Graph, roots: list[str]) -> None:
    """Layers by breadth-first distance from the roots (unreached nodes below them, queues
    one layer under their deepest caller); within a layer, the order of discovery, then the
    mean position of the callers (one pass, against crossings)."""
    out: dict[str, list[str]] = {}
    for edge in graph.edges:
        out.setdefault(edge.source, []).append(edge.target)
    order: list[str] = []
    depth: dict[str, int] = {}
    frontier = list(dict.fromkeys(roots))
    for r in frontier:
        depth[r] = 0
    while frontier:
        order.extend(frontier)
        following: list[str] = []
        for node_id in frontier:
            for target in out.get(node_id, []):
                if target not in depth and not target.startswith("queue:"):
                    depth[target] = depth[node_id] + 1
                    following.append(target)
        frontier = list(dict.fromkeys(following))
    bottom = max(depth.values(), default=-1) + 1
    for node_id, node in graph.nodes.items():
        if node.kind != "queue" and node_id not in depth:
            depth[node_id] = bottom
            order.append(node_id)
    for node_id, node in graph.nodes.items():
        if node.kind == "queue":
            callers = [depth[e.source] for e in graph.edges if e.target == node_id and e.source in depth]
            depth[node_id] = max(callers, default=bottom) + 1
            order.append(node_id)
    layers: dict[int, list[str]] = {}
    for node_id in order:
        layers.setdefault(depth[node_id], []).append(node_id)
    position: dict[str, float] = {}
    for level in sorted(layers):
        members = layers[level]
        found = {node_id: float(i) for i, node_id in enumerate(members)}

        def mean_caller(node_id: str, found: dict[str, float] = found) -> float:
            xs = [position[e.source] for e in graph.edges if e.target == node_id and e.source in position]
            return sum(xs) / len(xs) if xs else found[node_id]

        if level > 0:
            members.sort(key=mean_caller)
        for i, node_id in enumerate(members):
            position[node_id] = float(i)
    widest = max((len(m) for m in layers.values()), default=1)
    graph.width = MARGIN * 2 + widest * NODE_W + (widest - 1) * GAP_X + 60
    graph.height = MARGIN * 2 + len(layers) * NODE_H + max(len(layers) - 1, 0) * GAP_Y
    for row, level in enumerate(sorted(layers)):
        members = layers[level]
        span = len(members) * NODE_W + (len(members) - 1) * GAP_X
        left = (graph.width - 60 - span) / 2
        for i, node_id in enumerate(members):
            node = graph.nodes[node_id]
            node.layer = row
            node.x = left + i * (NODE_W + GAP_X)
            node.y = MARGIN + row * (NODE_H + GAP_Y)


def _edge_path(graph: Graph, edge: GraphEdge) -> tuple[str, float, float]:
    a, b = graph.nodes[edge.source], graph.nodes[edge.target]
    if b.layer > a.layer:
        x1, y1 = a.x + NODE_W / 2, a.y + NODE_H
        x2, y2 = b.x + NODE_W / 2, b.y
        mid = (y1 + y2) / 2
        return f"M{x1:.0f},{y1:.0f} C{x1:.0f},{mid:.0f} {x2:.0f},{mid:.0f} {x2:.0f},{y2:.0f}", (x1 + x2) / 2, mid
    # back or sideways edge: out of the right side, round, into the right side
    x1, y1 = a.x + NODE_W, a.y + NODE_H / 2
    x2, y2 = b.x + NODE_W, b.y + NODE_H / 2
    bulge = max(x1, x2) + 40 + 8 * abs(a.layer - b.layer)
    return (f"M{x1:.0f},{y1:.0f} C{bulge:.0f},{y1:.0f} {bulge:.0f},{y2:.0f} {x2:.0f},{y2:.0f}",
            bulge - 10, (y1 + y2) / 2)


def render_svg(graph: Graph, title: str = "", lines: Mapping[str, int] | None = None) -> str:
    """The graph as an SVG element (classes for the stylesheet, `data-node` on each node and
    `data-line`, its line in the text, when `lines` has it)."""
    parts = [
        f'<svg class="menu-graph" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {graph.width:.0f} '
        f'{graph.height:.0f}" width="{graph.width:.0f}" height="{graph.height:.0f}" role="img" '
        f'aria-label="{escape(title)}" data-testid="menu-graph" data-nodes="{len(graph.nodes)}">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrowhead"/></marker></defs>',
    ]
    for edge in graph.edges:
        d, lx, ly = _edge_path(graph, edge)
        parts.append(f'<path class="edge edge-{edge.kind}" d="{d}" marker-end="url(#arrow)" '
                     f'data-from="{escape(edge.source)}" data-to="{escape(edge.target)}"/>')
        if edge.label:
            parts.append(f'<text class="edge-label" x="{lx:.0f}" y="{ly:.0f}">{escape(edge.label)}</text>')
    for node in graph.nodes.values():
        classes = f"node kind-{escape(node.kind)}" + (" error" if node.error else "")
        testid = "graph-" + node.id.replace(":", "-")
        line = (lines or {}).get(node.id)
        at = f' data-line="{line}"' if line else ""
        parts.append(f'<g class="{classes}" data-node="{escape(node.id)}" data-testid="{escape(testid)}"{at}>')
        rx = 22 if node.kind == "queue" else 6
        parts.append(f'<rect x="{node.x:.0f}" y="{node.y:.0f}" width="{NODE_W}" height="{NODE_H}" rx="{rx}"/>')
        name = node.detail if node.kind == "queue" else node.id
        sub = "queue" if node.kind == "queue" else node.detail
        parts.append(f'<text class="name" x="{node.x + NODE_W / 2:.0f}" y="{node.y + 19:.0f}">'
                     f'{escape(_text(name, 22))}</text>')
        parts.append(f'<text class="sub" x="{node.x + NODE_W / 2:.0f}" y="{node.y + 36:.0f}">'
                     f'{escape(sub)}</text>')
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)
