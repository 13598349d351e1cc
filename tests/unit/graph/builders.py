"""Small helpers to write scenario JSON in tests the way the canvas sends it."""

from __future__ import annotations

import copy
import itertools
import json
from typing import Any

from app.graph import KnownRefs

JsonDict = dict[str, Any]

# DESIGN.md §3, as printed there (line breaks aside).
DESIGN_EXAMPLE: JsonDict = json.loads(
    """
{
  "schema": 1,
  "nodes": [
    {"id": "start", "type": "trigger",   "kind": "event",       "config": {"event": "purchase"},
     "x": 80,  "y": 120},
    {"id": "first", "type": "condition", "kind": "if",
     "config": {"if": {"attribute": "orders_count", "op": "eq", "value": 1}}, "x": 320, "y": 120},
    {"id": "promo", "type": "action",    "kind": "send_email",  "config": {"message": "coupon-20"},
     "x": 560, "y": 40},
    {"id": "loyal", "type": "action",    "kind": "add_to_list",
     "config": {"list": "loyal-customers"}, "x": 560, "y": 200}
  ],
  "edges": [
    {"from": "start", "to": "first"},
    {"from": "first", "port": "yes", "to": "promo"},
    {"from": "first", "port": "no",  "to": "loyal"}
  ],
  "settings": {"reentry": "once", "exit_when": null}
}
"""
)

DESIGN_KNOWN = KnownRefs(messages={"coupon-20": "email"}, lists=frozenset({"loyal-customers"}))


def design_example() -> JsonDict:
    return copy.deepcopy(DESIGN_EXAMPLE)


def node(node_id: str, block_type: str, kind: str, **config: Any) -> JsonDict:
    return {"id": node_id, "type": block_type, "kind": kind, "config": config}


def trigger(node_id: str = "start", event: str = "signup") -> JsonDict:
    return node(node_id, "trigger", "event", event=event)


def link(source: str, target: str, port: str | None = None) -> JsonDict:
    edge: JsonDict = {"from": source, "to": target}
    if port is not None:
        edge["port"] = port
    return edge


def scenario(nodes: list[JsonDict], edges: list[JsonDict], **settings: Any) -> JsonDict:
    return {"schema": 1, "nodes": nodes, "edges": edges, "settings": settings}


def after_trigger(*blocks: JsonDict, **settings: Any) -> JsonDict:
    """A trigger followed by ``blocks`` in a chain, linked through their ``out`` ports."""
    nodes = [trigger(), *blocks]
    edges = [link(a["id"], b["id"]) for a, b in itertools.pairwise(nodes)]
    return scenario(nodes, edges, **settings)
