"""Is a scenario document shaped like one at all? Checked before a draft is saved.

A draft is saved even while it is invalid (half-set blocks, missing links: the canvas
autosaves), and ``parse_document`` reads such drafts leniently. But a document whose skeleton
is wrong — ``"nodes": 3``, a block without an id, a link without an end, a number where text
belongs — is not a draft anyone drew: saving it would only keep something no canvas can show.
Such a document is refused with the reasons, and nothing is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.graph.document import SCHEMA_VERSION
from app.graph.wording import quote
from app.i18n.text import _

MAX_PROBLEMS = 20


def structure_problems(raw: object) -> list[str]:
    """What makes ``raw`` not a scenario document, in plain words; empty when it is one."""
    if not isinstance(raw, Mapping):
        return [_("the scenario must be a JSON object with nodes, edges and settings")]
    problems: list[str] = []
    schema = raw.get("schema", SCHEMA_VERSION)
    if isinstance(schema, bool) or schema != SCHEMA_VERSION:
        problems.append(_("'schema' must be 1, the only format version there is"))
    nodes = raw.get("nodes", [])
    if isinstance(nodes, list):
        problems += _node_problems(nodes)
    else:
        problems.append(_("'nodes' must be a list of blocks"))
    edges = raw.get("edges", [])
    if isinstance(edges, list):
        problems += _edge_problems(edges)
    else:
        problems.append(_("'edges' must be a list of links"))
    settings = raw.get("settings")
    if settings is not None and not isinstance(settings, Mapping):
        problems.append(_("'settings' must be an object"))
    return problems[:MAX_PROBLEMS]


def _node_problems(nodes: list[Any]) -> list[str]:
    problems: list[str] = []
    seen: set[str] = set()
    for position, node in enumerate(nodes, start=1):
        where = {"position": position}
        if not isinstance(node, Mapping):
            problems.append(_("the block at position %(position)s must be an object") % where)
            continue
        node_id = node.get("id")
        if not isinstance(node_id, str) or not node_id:
            problems.append(_("the block at position %(position)s needs an id (text)") % where)
        elif node_id in seen:
            problems.append(_("two blocks have the id %(id)s") % {"id": quote(node_id)})
        else:
            seen.add(node_id)
        for key in ("type", "kind"):
            if not _text(node.get(key)):
                problem = _("the block at position %(position)s needs a %(key)s (text)")
                problems.append(problem % {**where, "key": quote(key)})
        config = node.get("config")
        if config is not None and not isinstance(config, Mapping):
            problem = _(
                "the settings ('config') of the block at position %(position)s must be an object"
            )
            problems.append(problem % where)
        for key in ("x", "y"):
            if key in node and not _number(node[key]):
                problem = _("%(key)s of the block at position %(position)s must be a number")
                problems.append(problem % {**where, "key": quote(key)})
    return problems


def _edge_problems(edges: list[Any]) -> list[str]:
    problems: list[str] = []
    for position, edge in enumerate(edges, start=1):
        where = {"position": position}
        if not isinstance(edge, Mapping):
            problems.append(_("the link at position %(position)s must be an object") % where)
            continue
        for key in ("from", "to"):
            if not _text(edge.get(key)):
                problem = _("the link at position %(position)s needs %(key)s: the id of a block")
                problems.append(problem % {**where, "key": quote(key)})
        if "port" in edge and not _text(edge["port"]):
            problem = _(
                "'port' of the link at position %(position)s must be the name of an output, like"
                " yes or no"
            )
            problems.append(problem % where)
    return problems


def _text(value: object) -> bool:
    return isinstance(value, str) and bool(value)


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
