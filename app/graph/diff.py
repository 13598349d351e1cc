"""What changed between two versions of a scenario graph (CONTRACTS-2 §B), block by block.

Works on the raw graph documents (the stored JSON), so an old version that no longer
validates can still be compared. A block is *changed* when what it does changes for a contact
standing in it: its type, kind or settings, or where its ports lead. Moving a block on the
canvas changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

LAYOUT_KEYS = frozenset({"x", "y"})


@dataclass(frozen=True)
class GraphDiff:
    added: list[str]
    removed: list[str]
    changed: list[str]
    kept: list[str]  # in both, unchanged
    settings_changed: bool  # re-entry, cooldown or goal

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.settings_changed)


def _nodes(graph: dict[str, Any]) -> dict[str, dict[str, Any]]:
    nodes = graph.get("nodes") if isinstance(graph, dict) else None
    return {
        str(node["id"]): node
        for node in nodes or ()
        if isinstance(node, dict) and isinstance(node.get("id"), str)
    }


def _wiring(graph: dict[str, Any]) -> dict[str, frozenset[tuple[str, str]]]:
    """Each block's outgoing links as (port, target)."""
    wiring: dict[str, set[tuple[str, str]]] = {}
    edges = graph.get("edges") if isinstance(graph, dict) else None
    for edge in edges or ():
        if isinstance(edge, dict) and isinstance(edge.get("from"), str):
            port = str(edge.get("port") or "out")
            wiring.setdefault(edge["from"], set()).add((port, str(edge.get("to"))))
    return {source: frozenset(links) for source, links in wiring.items()}


def _behaviour(node: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in node.items() if key not in LAYOUT_KEYS}


def diff_graphs(old: dict[str, Any], new: dict[str, Any]) -> GraphDiff:
    """Blocks added, removed, changed and kept from ``old`` to ``new``, each list in the
    order the blocks appear in their graph."""
    before, after = _nodes(old), _nodes(new)
    wiring_before, wiring_after = _wiring(old), _wiring(new)
    changed: list[str] = []
    kept: list[str] = []
    for node_id, node in after.items():
        if node_id not in before:
            continue
        same = _behaviour(before[node_id]) == _behaviour(node) and wiring_before.get(
            node_id, frozenset()
        ) == wiring_after.get(node_id, frozenset())
        (kept if same else changed).append(node_id)
    return GraphDiff(
        added=[node_id for node_id in after if node_id not in before],
        removed=[node_id for node_id in before if node_id not in after],
        changed=changed,
        kept=kept,
        settings_changed=_settings(old) != _settings(new),
    )


def _settings(graph: dict[str, Any]) -> Any:
    return graph.get("settings") or {} if isinstance(graph, dict) else {}
