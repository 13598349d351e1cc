"""Segments: dynamic lists defined by a condition of the shared language (DESIGN §4).

Counts and members come from ``app.services.condition_sql`` — one SQL query over the whole
base, following the same value rules as the in-memory evaluator — so a segment is always up
to date and nothing is stored per member.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlmodel import Session, col

from app.graph import BUILTIN_ATTRIBUTES, Condition, describe_condition, parse_condition
from app.graph.conditions import CONDITION_TAGS, lists_referenced
from app.models import ContactList, Segment
from app.services.condition_sql import CONTACTS, EVENTS, ConditionSql
from app.services.errors import Conflict, Invalid, NotFound
from app.services.lists import check_key
from app.services.unique_rows import add_unique


def read_condition(raw: object) -> Condition:
    """The condition, or Invalid saying in plain words what is wrong with it."""
    try:
        return parse_condition(raw)
    except ValidationError as error:
        raise Invalid(f"The condition is not complete: {condition_problem(error)}.") from None


def condition_problem(error: ValidationError) -> str:
    """The most telling problem of a condition, e.g. "all.0.value: 'contains' needs some text"."""
    order = ["value_error", "unknown_condition", "missing", "literal_error", "extra_forbidden"]
    details = sorted(
        error.errors(include_url=False),
        key=lambda d: order.index(d["type"]) if d["type"] in order else len(order),
    )
    detail = details[0]
    where = ", ".join(_place(p) for p in detail["loc"] if not _is_tag(p) and _place(p))
    message = str(detail["msg"]).removeprefix("Value error, ")
    if detail["type"] == "missing":
        message = "this part is missing"
    elif detail["type"] == "extra_forbidden":
        message = "this is not part of the condition language"
    elif detail["type"] == "literal_error":
        message = f"choose one of {(detail.get('ctx') or {}).get('expected')}"
    return f"{where}: {message}" if where else message


def _place(part: object) -> str:
    if isinstance(part, int):
        return f"rule {part + 1}"
    return {"op": "operator", "value": "value", "within_days": "days"}.get(str(part), "")


def _is_tag(part: object) -> bool:
    return isinstance(part, str) and (part in CONDITION_TAGS or "[" in part)


def check_lists_exist(session: Session, condition: Condition) -> None:
    keys = sorted(set(lists_referenced(condition)))
    if not keys:
        return
    known = set(session.scalars(select(col(ContactList.key)).where(col(ContactList.key).in_(keys))))
    missing = [k for k in keys if k not in known]
    if missing:
        raise Invalid(f"The condition uses a list that does not exist: {', '.join(missing)}.")


def count_members(session: Session, condition: Condition, now: datetime) -> int:
    compiler = ConditionSql(session.get_bind().dialect.name, now)
    query = select(func.count()).select_from(CONTACTS).where(compiler.contact_filter(condition))
    return int(session.execute(query).scalar_one())


def member_ids_page(
    session: Session, condition: Condition, now: datetime, *, before: int | None, limit: int
) -> list[int]:
    """Matching contact ids, newest first, keyset-paginated on the id."""
    compiler = ConditionSql(session.get_bind().dialect.name, now)
    query = select(CONTACTS.c.id).where(compiler.contact_filter(condition))
    if before is not None:
        query = query.where(CONTACTS.c.id < before)
    return list(session.execute(query.order_by(CONTACTS.c.id.desc()).limit(limit)).scalars())


def all_segments(session: Session) -> Sequence[Segment]:
    return session.scalars(select(Segment).order_by(col(Segment.name))).all()


def get_segment(session: Session, key: str) -> Segment:
    found = session.scalars(select(Segment).where(col(Segment.key) == key)).first()
    if found is None:
        raise NotFound(f"There is no segment with the key {key!r}.")
    return found


def segment_condition(segment: Segment) -> Condition:
    return parse_condition(segment.condition)


def save_segment(
    session: Session,
    *,
    key: str,
    name: str,
    description: str,
    condition: object,
    now: datetime,
    existing: Segment | None = None,
) -> Segment:
    """Creates a segment (``existing`` None) or updates one; its key never changes."""
    name = name.strip()
    if not name:
        raise Invalid("Give the segment a name, e.g. Loyal customers in Lyon.")
    if len(name) > 200:
        raise Invalid("The segment name is longer than 200 characters.")
    parsed = read_condition(condition)
    check_lists_exist(session, parsed)
    document: dict[str, Any] = parsed.model_dump(by_alias=True, exclude_none=True)
    if existing is None:
        key = check_key(key)
        if session.scalars(select(Segment).where(col(Segment.key) == key)).first():
            raise Conflict(f"A segment with the key {key!r} already exists.")
        existing = Segment(key=key, name=name, created_at=now)
    existing.name = name
    existing.description = description.strip()
    existing.condition = document
    existing.updated_at = now
    if existing.id is None and not add_unique(session, existing):
        raise Conflict(f"A segment with the key {key!r} already exists.")
    session.add(existing)
    session.flush()
    return existing


def delete_segment(session: Session, key: str) -> None:
    session.delete(get_segment(session, key))
    session.flush()


def describe(segment: Segment) -> str:
    try:
        return describe_condition(segment_condition(segment))
    except ValidationError:
        return "(condition no longer valid)"


def condition_options(session: Session) -> dict[str, Any]:
    """What the condition builder offers: lists, attributes seen on recent contacts, and event
    names seen recently (samples, so the page stays fast on a large base)."""
    recent = select(CONTACTS.c.attributes).order_by(CONTACTS.c.id.desc()).limit(500)
    custom: set[str] = set()
    for (attributes,) in session.execute(recent):
        custom.update((attributes or {}).keys())
    recent_events = select(EVENTS.c.name).order_by(EVENTS.c.id.desc()).limit(5000).subquery()
    names = session.execute(select(recent_events.c.name).distinct()).scalars()
    reserved = {"contact_created", "attribute_changed", "score_changed", "list_added"}
    return {
        "lists": [{"key": lst.key, "name": lst.name} for lst in _lists(session)],
        "attributes": sorted(BUILTIN_ATTRIBUTES) + sorted(custom - set(BUILTIN_ATTRIBUTES)),
        "events": sorted(set(names) - reserved - {"list_removed"}),
    }


def _lists(session: Session) -> Sequence[ContactList]:
    return session.scalars(select(ContactList).order_by(col(ContactList.name))).all()
