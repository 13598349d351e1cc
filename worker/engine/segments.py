""" "Entered a segment" triggers: segments are checked on a schedule, in SQL.

Each check compares the segment's condition with the members recorded at the previous check,
with two statements whatever the size of the base: one INSERT … SELECT of the newcomers (they
fire the triggers) and one DELETE of those who left (so they can enter again later). A segment's
first check only records its members.

Each segment is checked in its own savepoint: one whose condition cannot be evaluated (stored
before the condition limits, or planted by hand) is marked broken with the reason, and the
others are still checked and enroll. The mark goes when a later check succeeds.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import and_, delete, exists, insert, literal, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, SQLModel

from app.graph import parse_condition
from app.services.contacts.condition_sql import ConditionSql
from app.services.contacts.segments import EVALUATION_ERRORS, broken_reason
from app.services.scenarios.enrollments import Candidate, enroll
from worker.engine.plans import LiveScenario, Plans

CONTACTS = SQLModel.metadata.tables["contacts"]
MEMBERS = SQLModel.metadata.tables["segment_members"]
CHECKS = SQLModel.metadata.tables["segment_checks"]
SEGMENTS = SQLModel.metadata.tables["segments"]
# Worth another try as they are, so never a reason to call a segment broken: the whole check
# fails and runs again next minute (deadlock, serialization failure).
TRANSIENT_SQLSTATES = {"40P01", "40001"}


def check_segments(session: Session, plans: Plans, now: datetime) -> int:
    """Enrolls the newcomers of every segment a live scenario listens to; returns how many."""
    watchers: dict[str, list[tuple[LiveScenario, str]]] = defaultdict(list)
    live = plans.live(session)
    for scenario in live:
        for key, node_ids in scenario.plan.triggers.segment_entered.items():
            watchers[key] += [(scenario, node_id) for node_id in node_ids]
    if not watchers:
        return 0
    segments = session.execute(
        select(SEGMENTS.c.key, SEGMENTS.c.condition, SEGMENTS.c.broken_reason)
        .where(SEGMENTS.c.key.in_(watchers))
        .order_by(SEGMENTS.c.key)
    ).all()
    compiler = ConditionSql(session.get_bind().dialect.name, now)
    candidates: list[Candidate] = []
    for key, raw, was_broken in segments:
        try:
            with session.begin_nested():
                matches = compiler.contact_filter(parse_condition(raw))
                newcomers = _refresh(session, key, matches, now)
        except EVALUATION_ERRORS as error:
            if _transient(error):
                raise
            reason = broken_reason(raw, error)
            if reason != was_broken:  # the same reason again: broken_at keeps its first time
                _mark(session, key, reason, now)
            continue
        if was_broken is not None:
            _mark(session, key, None, None)
        for contact_id in newcomers:
            for scenario, node_id in watchers[key]:
                candidates.append(
                    Candidate(scenario.scenario_id, scenario.version_id, node_id, contact_id,
                              {"segment": key})
                )  # fmt: skip
    return len(enroll(session, candidates, {s.version_id: s.plan for s in live}, now))


def _transient(error: BaseException) -> bool:
    if not isinstance(error, DBAPIError):
        return False
    sqlstate = getattr(error.orig, "sqlstate", None)
    return error.connection_invalidated or sqlstate in TRANSIENT_SQLSTATES


def _mark(session: Session, key: str, reason: str | None, at: datetime | None) -> None:
    session.execute(
        update(SEGMENTS).where(SEGMENTS.c.key == key).values(broken_reason=reason, broken_at=at)
    )


def _refresh(session: Session, key: str, matches: object, now: datetime) -> list[int]:
    first_check = (
        session.execute(select(CHECKS.c.checked_at).where(CHECKS.c.segment_key == key)).first()
        is None
    )
    session.execute(
        delete(MEMBERS).where(
            MEMBERS.c.segment_key == key,
            ~MEMBERS.c.contact_id.in_(select(CONTACTS.c.id).where(matches)),  # type: ignore[arg-type]
        )
    )
    already = exists().where(
        and_(MEMBERS.c.segment_key == key, MEMBERS.c.contact_id == CONTACTS.c.id)
    )
    newcomers = (
        session.execute(
            insert(MEMBERS)
            .from_select(
                ["segment_key", "contact_id", "since"],
                select(literal(key), CONTACTS.c.id, literal(now, MEMBERS.c.since.type)).where(
                    matches,  # type: ignore[arg-type]
                    ~already,
                ),
            )
            .returning(MEMBERS.c.contact_id)
        )
        .scalars()
        .all()
    )
    upsert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        upsert(CHECKS)
        .values(segment_key=key, checked_at=now)
        .on_conflict_do_update(index_elements=["segment_key"], set_={"checked_at": now})
    )
    return [] if first_check else list(newcomers)
