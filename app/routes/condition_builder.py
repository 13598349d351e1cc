"""A condition (DESIGN §4) as the visual builder shows it (canvas panels, segment page):
groups of rows.

The builder knows three kinds of group — match all / any / none of these (``none`` is
``{"not": {"any": [...]}}``) — and four kinds of row: a contact detail, an activity (event
count within N days), a list membership and a consent. ``condition-builder.js`` turns the rows
back into condition JSON; the graph validates it.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from app.i18n import N_, _
from app.services.contacts import segments

ATTRIBUTE_OPS: tuple[tuple[str, str], ...] = (
    ("eq", N_("is")),
    ("ne", N_("is not")),
    ("gt", N_("is more than")),
    ("gte", N_("is at least")),
    ("lt", N_("is less than")),
    ("lte", N_("is at most")),
    ("contains", N_("contains")),
    ("starts_with", N_("starts with")),
    ("in", N_("is one of")),
    ("exists", N_("is set")),
    ("not_exists", N_("is not set")),
    ("before", N_("is before")),
    ("after", N_("is after")),
    ("within_last_days", N_("was in the last … days")),
    ("older_than_days", N_("was more than … days ago")),
)
EVENT_OPS: tuple[tuple[str, str], ...] = (
    ("count_gte", N_("at least")),
    ("count_lt", N_("fewer than")),
    ("none", N_("never")),
)
ROW_KINDS: tuple[tuple[str, str], ...] = (
    ("attribute", N_("A detail of the contact")),
    ("event", N_("Something they did")),
    ("list", N_("Being on a list")),
    ("consent", N_("Their consent")),
)


# Offered as suggestions even before a shop has sent them.
COMMON_EVENTS = (
    "purchase",
    "signup",
    "cart_updated",
    "page_viewed",
    "email_opened",
    "email_clicked",
    "form_submitted",
)


def builder_context(session: Session) -> dict[str, Any]:
    """What ``_condition_builder.html`` needs: its choices, the lists, and suggestions of the
    contact details and events seen lately."""
    seen = segments.condition_options(session)
    return {
        "lists": [(lst["key"], lst["name"]) for lst in seen["lists"]],
        "attributes": seen["attributes"],
        "events": sorted(set(COMMON_EVENTS) | set(seen["events"])),
        "row_kinds": _shown(ROW_KINDS),
        "attribute_ops": _shown(ATTRIBUTE_OPS),
        "event_ops": _shown(EVENT_OPS),
    }


def _shown(choices: tuple[tuple[str, str], ...]) -> list[tuple[str, str]]:
    """The choices in the reader's words (the tables hold the English)."""
    return [(key, _(label)) for key, label in choices]


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(_text(item) for item in value)
    return str(value)


def _group(join: str, items: list[Any]) -> dict[str, Any]:
    return {"kind": "group", "join": join, "items": [_node(item) for item in items]}


def _node(condition: object) -> dict[str, Any]:
    if not isinstance(condition, dict):
        return {"kind": "row", "row": "attribute", "op": "eq"}
    if isinstance(condition.get("all"), list):
        return _group("all", condition["all"])
    if isinstance(condition.get("any"), list):
        return _group("any", condition["any"])
    if "not" in condition:
        inner = condition["not"]
        if isinstance(inner, dict) and isinstance(inner.get("any"), list):
            return _group("none", inner["any"])
        return _group("none", [inner])
    if "event" in condition:
        extra = {"where": condition["where"]} if condition.get("where") is not None else {}
        return {
            "kind": "row",
            "row": "event",
            "event": _text(condition.get("event")),
            "op": condition.get("op") or "count_gte",
            "value": _text(condition.get("value")),
            "within_days": _text(condition.get("within_days")),
            "extra": extra,
        }
    if "list" in condition:
        return {
            "kind": "row",
            "row": "list",
            "list": _text(condition.get("list")),
            "op": condition.get("op") or "member",
        }
    if "consent" in condition:
        return {
            "kind": "row",
            "row": "consent",
            "consent": _text(condition.get("consent")),
            "op": condition.get("op") or "granted",
        }
    return {
        "kind": "row",
        "row": "attribute",
        "attribute": _text(condition.get("attribute")),
        "op": condition.get("op") or "eq",
        "value": _text(condition.get("value")),
    }


def builder_tree(condition: object) -> dict[str, Any]:
    """The root group for a condition (a lone test is a group of one)."""
    if condition is None or condition == {}:
        return {"kind": "group", "join": "all", "items": []}
    node = _node(condition)
    return node if node["kind"] == "group" else {"kind": "group", "join": "all", "items": [node]}
