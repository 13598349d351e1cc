"""Where to draw a scenario graph outside the canvas: the gallery preview and the read-only
live view. Positions come from the document (the canvas's x, y); sizes and curves from here,
so the server renders the whole picture (SVG for edges, boxes for blocks) with no script."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.graph import RefNames, check_draft
from app.i18n import N_
from app.services.scenarios.block_catalog import block_info, shown_as
from app.services.scenarios.block_catalog import ports_of as outputs

CARD_W, CARD_H = 210, 78
MARGIN = 24
# English, marked for the catalog: shown through `_()` where a picture labels its links.
PORT_LABELS = {"yes": N_("Yes"), "no": N_("No"), "out": ""}


@dataclass(frozen=True)
class BoxLayout:
    id: str
    type: str
    kind: str
    name: str
    icon: str
    summary: str
    x: float
    y: float
    w: int = CARD_W
    h: int = CARD_H


@dataclass(frozen=True)
class EdgeLayout:
    key: str  # "from|port|to", as the canvas names its links
    source: str
    port: str
    target: str
    path: str
    label_x: float
    label_y: float
    port_name: str = ""  # a split's branch label ("Promo"); other ports are named by the page


@dataclass
class GraphLayout:
    width: float
    height: float
    boxes: list[BoxLayout] = field(default_factory=list)
    edges: list[EdgeLayout] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.boxes


def _number(value: object) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _port_y(box: BoxLayout, port: str, ports: tuple[str, ...]) -> float:
    if len(ports) <= 1:
        return box.y + box.h / 2
    index = ports.index(port) if port in ports else 0
    return box.y + box.h * (index + 1) / (len(ports) + 1)


def layout(graph: dict[str, Any], names: RefNames | None = None) -> GraphLayout:
    """Boxes and curves for ``graph``, shifted so the picture starts at the margin; summaries
    name templates, lists and segments by ``names`` (their keys without it)."""
    nodes = [n for n in graph.get("nodes") or [] if isinstance(n, dict) and n.get("id")]
    if not nodes:
        return GraphLayout(width=0, height=0)
    document, _ = check_draft(graph)
    summaries = {} if document is None else {n.id: n.summary(names) for n in document.nodes}
    left = min(_number(n.get("x")) for n in nodes)
    top = min(_number(n.get("y")) for n in nodes)
    boxes: dict[str, BoxLayout] = {}
    ports_of: dict[str, tuple[tuple[str, str], ...]] = {}
    for node in nodes:
        node_type, kind = str(node.get("type")), str(node.get("kind"))
        config = node.get("config") if isinstance(node.get("config"), dict) else {}
        # Names in the current speaker's words (block_catalog translates them).
        info = shown_as(node_type, kind, config or {}) or block_info(node_type, kind)
        node_id = str(node["id"])
        boxes[node_id] = BoxLayout(
            id=node_id,
            type=node_type,
            kind=kind,
            name=info.name if info else kind.replace("_", " ").capitalize(),
            icon=info.icon if info else "bolt",
            summary=summaries.get(node_id, ""),
            x=_number(node.get("x")) - left + MARGIN,
            y=_number(node.get("y")) - top + MARGIN,
        )
        ports_of[node_id] = outputs(node_type, kind, config or {})
    edges = []
    for edge in graph.get("edges") or []:
        source, target = boxes.get(str(edge.get("from"))), boxes.get(str(edge.get("to")))
        if source is None or target is None:
            continue
        port = str(edge.get("port") or "out")
        ports = ports_of[source.id]
        x1, y1 = source.x + source.w, _port_y(source, port, tuple(p for p, _name in ports))
        x2, y2 = target.x, target.y + target.h / 2
        bend = max(40.0, abs(x2 - x1) / 2)
        path = (
            f"M{x1:.0f},{y1:.0f} C{x1 + bend:.0f},{y1:.0f} "
            f"{x2 - bend:.0f},{y2:.0f} {x2:.0f},{y2:.0f}"
        )
        edges.append(
            EdgeLayout(
                key=f"{source.id}|{port}|{target.id}",
                source=source.id,
                port=port,
                target=target.id,
                path=path,
                label_x=(x1 + x2) / 2,
                label_y=(y1 + y2) / 2 - 6,
                port_name=dict(ports).get(port, ""),
            )
        )
    width = max(b.x + b.w for b in boxes.values()) + MARGIN
    height = max(b.y + b.h for b in boxes.values()) + MARGIN
    return GraphLayout(width=width, height=height, boxes=list(boxes.values()), edges=edges)
