"""What a migration says: blocks as people name them, and the step-log detail of a contact
moved or taken out by a publish — stored in English with its phrase, spoken again on the
journey page with the block names in the reader's language."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.graph import RefNames
from app.i18n import say, speaking
from app.services.scenarios.graph_layout import layout

# A block's name in the detail's stored phrase: the publisher's words are not the reader's.
SOURCE_LANGUAGE = "en"


def block_labels(graph: dict[str, Any], names: RefNames | None = None) -> dict[str, str]:
    """Each block as the canvas sums it up ("Wait 3 days", "Send email “Reminder”"), in the
    current speaker's words; its kind's name when it has no summary."""
    return {box.id: box.summary or box.name for box in layout(graph, names).boxes}


def english_labels(graph: dict[str, Any], names: RefNames | None = None) -> dict[str, str]:
    with speaking(SOURCE_LANGUAGE):
        return block_labels(graph, names)


def moved(
    *,
    from_label: str,
    from_version: int,
    from_version_id: int,
    from_node: str,
    to_label: str,
    to_version_id: int,
    to_node: str,
) -> dict[str, Any]:
    """The detail of a contact's move (the facts let the journey page name both blocks)."""
    return {
        "text": f"moved from “{from_label}” (version {from_version}) to “{to_label}”",
        "say": _moved_phrase(from_label, from_version, to_label),
        "migration": {
            "action": "move",
            "from_version": from_version,
            "from_version_id": from_version_id,
            "from_node": from_node,
            "to_version_id": to_version_id,
            "to_node": to_node,
        },
    }


def left() -> dict[str, Any]:
    """The detail of the step at the block a contact was taken out of the scenario from."""
    return {
        "text": "left: the scenario changed",
        "say": say("left: the scenario changed").dump(),
        "migration": {"action": "exit"},
    }


def in_reader_words(
    detail: dict[str, Any] | None, labels_of: Mapping[int | None, Mapping[str, str]]
) -> dict[str, Any] | None:
    """A move's detail with both blocks named in the reader's language (``labels_of``: each
    version's labels by version id, as :func:`block_labels` gives them)."""
    facts = detail.get("migration") if isinstance(detail, dict) else None
    if detail is None or not isinstance(facts, Mapping) or facts.get("action") != "move":
        return detail
    try:
        number = int(facts["from_version"])
        from_label = labels_of.get(int(facts["from_version_id"]), {}).get(str(facts["from_node"]))
        to_label = labels_of.get(int(facts["to_version_id"]), {}).get(str(facts["to_node"]))
    except (KeyError, TypeError, ValueError):
        return detail
    if from_label is None or to_label is None:
        return detail
    return {**detail, "say": _moved_phrase(from_label, number, to_label)}


def _moved_phrase(from_label: str, from_version: int, to_label: str) -> dict[str, Any]:
    return say(
        "moved from “%(from)s” (version %(version)s) to “%(to)s”",
        version=str(from_version),  # a version number, not a quantity: never "1,000"
        to=to_label,
        **{"from": from_label},
    ).dump()
