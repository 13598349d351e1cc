"""The keys a scenario document points at: lists, segments and messages, by kind."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from app.graph.conditions import lists_referenced
from app.graph.document import ExitOnEvent
from app.graph.parsing import parse_document

Kind = Literal["list", "segment", "message"]


@dataclass
class References:
    lists: set[str] = field(default_factory=set)
    segments: set[str] = field(default_factory=set)
    messages: set[str] = field(default_factory=set)

    def of(self, kind: Kind) -> set[str]:
        return {"list": self.lists, "segment": self.segments, "message": self.messages}[kind]


def graph_references(graph: dict[str, Any]) -> References:
    """What a (possibly invalid) graph refers to: its blocks' keys and its goal's lists. A
    document that cannot be read refers to nothing."""
    document, _problems = parse_document(graph)
    found = References()
    if document is None:
        return found
    for block in document.nodes:
        for reference in block.config.references():
            found.of(reference.kind).add(reference.key)
    exit_when = document.settings.exit_when
    if exit_when is not None and not isinstance(exit_when, ExitOnEvent):
        found.lists.update(lists_referenced(exit_when))
    return found
