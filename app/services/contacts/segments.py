"""Segments: dynamic lists defined by a condition of the shared language (DESIGN §4).

Counts and members come from ``app.services.contacts.condition_sql`` — one SQL query over the whole
base, following the same value rules as the in-memory evaluator — so a segment is always up
to date and nothing is stored per member.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, func, select
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlmodel import Session, col

from app.graph import BUILTIN_ATTRIBUTES, Condition, describe_condition, parse_condition
from app.graph.condition_limits import MAX_DEPTH, condition_limit_problems
from app.graph.conditions import CONDITION_TAGS, lists_referenced
from app.graph.names import has_control_characters
from app.i18n import _
from app.models import ContactList, Segment
from app.models.enrollments import SegmentCheck, SegmentMember
from app.services.contacts.condition_sql import CONTACTS, EVENTS, ConditionSql
from app.services.errors import Conflict, Invalid, NotFound
from app.services.keys import key_or_derived
from app.services.scenarios.usage import drafts_warning, refuse_if_live, scenarios_using
from app.services.unique_rows import add_unique

# What evaluating a stored condition can raise besides the database's own errors: it may no
# longer parse, or predate the limits (too deep to compile, numbers a driver cannot bind).
EVALUATION_ERRORS = (SQLAlchemyError, ValueError, ArithmeticError, RecursionError)


def read_condition(raw: object) -> Condition:
    """The condition, or Invalid saying in plain words what is wrong with it (the limits of
    ``app.graph.condition_limits`` included: what is accepted here can be evaluated)."""
    try:
        condition = parse_condition(raw)
    except ValidationError as error:
        problem = condition_problem(error)
        raise Invalid(
            _("The condition is not complete: %(problem)s.") % {"problem": problem}
        ) from None
    problems = condition_limit_problems(condition)
    if problems:
        raise Invalid(_("The condition cannot be used: %(problem)s.") % {"problem": problems[0]})
    return condition


def condition_problem(error: ValidationError) -> str:
    """The most telling problem of a condition, e.g. "all.0.value: 'contains' needs some text"."""
    order = ["value_error", "unknown_condition", "missing", "literal_error", "extra_forbidden"]
    details = sorted(
        error.errors(include_url=False),
        key=lambda d: order.index(d["type"]) if d["type"] in order else len(order),
    )
    detail = details[0]
    if detail["type"] == "recursion_depth_exceeded":
        return f"groups are nested more than {MAX_DEPTH} levels deep"
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
        words = {"keys": ", ".join(missing)}
        raise Invalid(_("The condition uses a list that does not exist: %(keys)s.") % words)


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
        raise NotFound(_("There is no segment with the key %(key)s.") % {"key": repr(key)})
    return found


def segment_condition(segment: Segment) -> Condition:
    return stored_condition(segment.condition)


def stored_condition(raw_condition: object) -> Condition:
    """A segment's stored condition; Invalid with the reason when it is beyond the limits
    (stored before them, or by hand). For the contacts page and the export, which do not
    evaluate in a savepoint: such a condition never reaches the database there."""
    problem = stored_condition_problem(raw_condition)
    if problem is not None:
        raise Invalid(_reason("segment", problem))
    return parse_condition(raw_condition)


def count_segment(session: Session, segment: Segment, now: datetime) -> int:
    """The members of a stored segment now; Invalid, with the reason, when it cannot be
    evaluated. Like the segment watcher, it tries: a condition stored before the limits may
    still run."""
    with evaluating(session, segment.condition):
        return count_members(session, parse_condition(segment.condition), now)


def segment_member_ids_page(
    session: Session, segment: Segment, now: datetime, *, before: int | None, limit: int
) -> list[int]:
    """``member_ids_page`` for a stored segment, refused like ``count_segment``."""
    with evaluating(session, segment.condition):
        condition = parse_condition(segment.condition)
        return member_ids_page(session, condition, now, before=before, limit=limit)


def count_condition(session: Session, condition: Condition, now: datetime) -> int:
    """``count_members`` for a condition being edited, refused like ``count_segment``."""
    raw = condition.model_dump(by_alias=True, exclude_none=True)
    with evaluating(session, raw, what="condition"):
        return count_members(session, condition, now)


@contextmanager
def evaluating(session: Session, raw_condition: object, what: str = "segment") -> Iterator[None]:
    """Evaluation of a condition inside a savepoint, so a failure leaves the request's
    transaction usable and becomes Invalid with the reason rather than a server error."""
    try:
        with session.begin_nested():
            yield
    except EVALUATION_ERRORS as error:
        raise Invalid(broken_reason(raw_condition, error, what)) from None


def broken_reason(raw_condition: object, error: BaseException, what: str = "segment") -> str:
    """Why a stored condition could not be evaluated, in words a marketer can act on: what
    reading it tells when it can (the condition's own problem), else the database's words."""
    return _reason(what, stored_condition_problem(raw_condition) or _database_words(error))


def _reason(what: str, problem: str) -> str:
    if what == "segment":
        words = _("This segment could not be evaluated: %(problem)s. Correct it and save it again.")
    else:
        words = _(
            "This condition could not be evaluated: %(problem)s. Correct it and save it again."
        )
    return words % {"problem": problem}


def stored_condition_problem(raw_condition: object) -> str | None:
    """What reading a stored condition tells about why it cannot be evaluated, or None."""
    try:
        condition = parse_condition(raw_condition)
    except ValidationError as error:
        return condition_problem(error)
    except RecursionError:
        return f"groups are nested more than {MAX_DEPTH} levels deep"
    problems = condition_limit_problems(condition)
    return str(problems[0]) if problems else None


def _database_words(error: BaseException) -> str:
    cause = error.orig if isinstance(error, DBAPIError) else error
    first_line = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
    # The reason is stored and shown: no control characters (PostgreSQL refuses NUL in text).
    shown = "".join(" " if has_control_characters(char) else char for char in first_line)
    return f"the database refused it ({shown[:200]})"


def mark_fixed(segment: Segment) -> None:
    segment.broken_reason = None
    segment.broken_at = None


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
    """Creates a segment (``existing`` None; without a ``key``, one is derived from the name)
    or updates one; its key never changes."""
    name = _segment_name(name)
    parsed = read_condition(condition)
    check_lists_exist(session, parsed)
    document: dict[str, Any] = parsed.model_dump(by_alias=True, exclude_none=True)
    if existing is None:
        key = key_or_derived(session, col(Segment.key), key, name)
        if session.scalars(select(Segment).where(col(Segment.key) == key)).first():
            raise Conflict(_("A segment with the key %(key)s already exists.") % {"key": repr(key)})
        existing = Segment(key=key, name=name, created_at=now)
    existing.name = name
    existing.description = description.strip()
    existing.condition = document
    existing.updated_at = now
    mark_fixed(existing)  # a saved condition passed the limits: the next check tells again
    if existing.id is None and not add_unique(session, existing):
        raise Conflict(_("A segment with the key %(key)s already exists.") % {"key": repr(key)})
    session.add(existing)
    session.flush()
    return existing


def _segment_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise Invalid(_("Give the segment a name, e.g. Loyal customers in Lyon."))
    if len(name) > 200:
        raise Invalid(_("The segment name is longer than 200 characters."))
    return name


def rename_segment(
    session: Session, segment: Segment, *, name: str, description: str | None, now: datetime
) -> Segment:
    """A new name (and description); the key and the condition stay."""
    segment.name = _segment_name(name)
    if description is not None:
        segment.description = description.strip()
    segment.updated_at = now
    session.add(segment)
    session.flush()
    return segment


def delete_segment(session: Session, key: str) -> str | None:
    """Deletes the segment and what the engine kept of it (who was in, when it last looked),
    so a new segment with this key starts afresh. Refused while a live scenario enters on it;
    returns what the drafts that used it must know, if any."""
    segment = get_segment(session, key)
    usage = scenarios_using(session, "segment", key)
    refuse_if_live(usage, segment.name)
    for kept in (SegmentMember, SegmentCheck):
        session.execute(delete(kept).where(col(kept.segment_key) == key))
    session.delete(segment)
    session.flush()
    return drafts_warning(usage)


def describe(segment: Segment, list_names: Mapping[str, str] | None = None) -> str:
    """The segment's rule in words, lists by name when given (key -> name)."""
    try:
        return describe_condition(parse_condition(segment.condition), list_names)
    except (ValidationError, RecursionError):
        return _("(condition no longer valid)")


def condition_options(session: Session) -> dict[str, Any]:
    """What the condition builder offers: lists, attributes seen on recent contacts, and event
    names seen recently (samples, so the page stays fast on a large base)."""
    recent = select(CONTACTS.c.attributes).order_by(CONTACTS.c.id.desc()).limit(500)
    custom: set[str] = set()
    for (attributes,) in session.execute(recent):
        custom.update((attributes or {}).keys())
    recent_events = select(EVENTS.c.name).order_by(EVENTS.c.id.desc()).limit(5000).subquery()
    names = session.execute(select(recent_events.c.name).distinct()).scalars()
    reserved = {
        "contact_created",
        "attribute_changed",
        "score_changed",
        "list_added",
        "consent_changed",
    }
    return {
        "lists": [{"key": lst.key, "name": lst.name} for lst in _lists(session)],
        "attributes": sorted(BUILTIN_ATTRIBUTES) + sorted(custom - set(BUILTIN_ATTRIBUTES)),
        "events": sorted(set(names) - reserved - {"list_removed"}),
    }


def _lists(session: Session) -> Sequence[ContactList]:
    return session.scalars(select(ContactList).order_by(col(ContactList.name))).all()
