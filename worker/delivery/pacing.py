"""The sending rules at the moment of sending: quiet hours, frequency caps, priorities.

Applied inside the transaction that claims a chunk (``store.claim_due``), so what it decides
is written with the claim or not at all:

- a marketing send in the contact's quiet hours is **held** until they end;
- one that would go over a cap (marketing sends of the channel let through to the contact in
  the last ``per_days`` days, every scenario together) is held until the window frees —
  when several of a contact's sends compete, lifecycle ones go before promotional ones — and
  is **skipped** (``Not sent: over the frequency cap.``) once it has waited 3 days;
- transactional messages, and the messages of a scenario whose priority is
  ``transactional``, pass; a scenario whose settings say ``quiet_hours: "ignore"`` passes the
  quiet hours only.

A held row stays ``pending`` with its new due time and the reason (``held``, a phrase) on the
row itself: nothing is written twice, nothing is lost in a crash, and the row's first hold
(``held_since``) is what the block's ``deferred`` counter counts.

Counting is atomic across workers: a send let through is marked ``counted_at`` in the claim's
transaction, and counts from then on unless it ends failed or skipped. On PostgreSQL the
claim first takes a transaction-scoped advisory lock per contact of the chunk (in contact
order, one statement), so two claims never count the same contact at once; on SQLite
writers take turns anyway. Each chunk costs a fixed handful of queries, whatever its size.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, func, select, text, update
from sqlmodel import Session, SQLModel

from app.i18n import Moment, Phrase, say, say_n, speaking
from app.i18n.speaker import zone_or_utc
from app.models import MessagePurpose, OutboxStatus
from app.services.messaging.sending_rules import PRIORITIES, Cap, Rules

OUTBOX = SQLModel.metadata.tables["outbox"]
CONTACTS = SQLModel.metadata.tables["contacts"]
TEMPLATES = SQLModel.metadata.tables["message_templates"]
ENROLLMENTS = SQLModel.metadata.tables["enrollments"]
VERSIONS = SQLModel.metadata.tables["scenario_versions"]
PACED_CHANNELS = ("email", "sms")
GIVE_UP_AFTER = timedelta(days=3)
CAPPED = "Not sent: over the frequency cap."
# The advisory lock class of "counting a contact's sends" (two-key locks: a space of their own).
LOCK_CLASS = 0x5041


@dataclass(frozen=True)
class Candidate:
    """What pacing needs of a claimed row."""

    id: int
    channel: str
    contact_id: int
    scenario_id: int | None
    node_id: str | None
    enrollment_id: int | None
    message: str
    counted: bool  # let through under the caps before (a retry): it keeps its place
    held_since: datetime | None


@dataclass
class Paced:
    """The ids that may go now, and the blocks whose sends were held for the first time."""

    go: set[int] = field(default_factory=set)
    held: dict[int, datetime] = field(default_factory=dict)
    capped: set[int] = field(default_factory=set)
    first_held: Counter[tuple[int, int, str, str]] = field(default_factory=Counter)


@dataclass
class _Hold:
    due: datetime
    phrase: Phrase


def pace(session: Session, rows: Iterable[Candidate], now: datetime, rules: Rules) -> Paced:
    rows = list(rows)
    result = Paced(go={r.id for r in rows})
    if rules.empty or not rows:
        return result
    marketing = _marketing(session, rows)
    paced = [
        r for r in rows if r.id in marketing and rules.priority_of(r.scenario_id) != "transactional"
    ]
    if not paced:
        return result
    versions = _versions(session, paced)
    holds: dict[int, _Hold] = {}
    if rules.quiet_hours is not None:
        zones = _zones(session, paced)
        for row in paced:
            if versions.get(row.enrollment_id or 0, (0, "follow"))[1] == "ignore":
                continue
            ends = rules.quiet_hours.end_of(now, zones.get(row.contact_id) or zone_or_utc(None))
            if ends is not None:
                holds[row.id] = _Hold(
                    ends, say("held until %(when)s: quiet hours", when=Moment(ends))
                )
    capped_rows = [r for r in paced if r.id not in holds and rules.caps_of(r.channel)]
    counted: list[int] = []
    if capped_rows:
        _lock_contacts(session, {r.contact_id for r in capped_rows})
        sent = _counted_times(session, capped_rows, now, rules)
        counted = _apply_caps(capped_rows, sent, now, rules, holds, result)
    _write(session, rows, holds, counted, versions, now, result)
    return result


def _marketing(session: Session, rows: list[Candidate]) -> set[int]:
    """The rows whose template is a marketing message (a missing one is composer's to fail)."""
    keys = {r.message for r in rows}
    purposes = dict(
        session.execute(
            select(TEMPLATES.c.key, TEMPLATES.c.purpose).where(TEMPLATES.c.key.in_(keys))
        ).all()
    )
    return {r.id for r in rows if purposes.get(r.message) == MessagePurpose.marketing.value}


def _versions(session: Session, rows: list[Candidate]) -> dict[int, tuple[int, str]]:
    """Each enrollment's version and that version's ``settings.quiet_hours``."""
    ids = {r.enrollment_id for r in rows if r.enrollment_id is not None}
    if not ids:
        return {}
    override = VERSIONS.c.graph["settings"]["quiet_hours"].as_string()
    found = session.execute(
        select(ENROLLMENTS.c.id, ENROLLMENTS.c.version_id, override)
        .join(VERSIONS, VERSIONS.c.id == ENROLLMENTS.c.version_id)
        .where(ENROLLMENTS.c.id.in_(ids))
    ).all()
    return {eid: (vid, str(quiet or "follow")) for eid, vid, quiet in found}


def _zones(session: Session, rows: list[Candidate]) -> dict[int, ZoneInfo]:
    ids = {r.contact_id for r in rows}
    found = session.execute(
        select(CONTACTS.c.id, CONTACTS.c.timezone).where(CONTACTS.c.id.in_(ids))
    ).all()
    return {cid: zone_or_utc(name) for cid, name in found}


def _lock_contacts(session: Session, contact_ids: set[int]) -> None:
    if session.get_bind().dialect.name != "postgresql":
        return  # SQLite: the claim's BEGIN IMMEDIATE already lets one writer at a time
    # In contact order, so two claims sharing contacts wait for each other, never deadlock.
    session.execute(
        text(
            "SELECT pg_advisory_xact_lock(:lock_class, c) "
            "FROM (SELECT unnest(CAST(:ids AS integer[])) AS c ORDER BY 1) AS contacts"
        ),
        {"lock_class": LOCK_CLASS, "ids": sorted(contact_ids)},
    )


def _counted_times(
    session: Session, rows: list[Candidate], now: datetime, rules: Rules
) -> dict[tuple[int, str], list[datetime]]:
    """When each contact's sends that count were let through, per channel, oldest first."""
    longest = max(cap.window for cap in rules.caps)
    channels = {r.channel for r in rows}
    found = session.execute(
        select(OUTBOX.c.contact_id, OUTBOX.c.channel, OUTBOX.c.counted_at)
        .where(
            OUTBOX.c.contact_id.in_({r.contact_id for r in rows}),
            OUTBOX.c.channel.in_(channels),
            OUTBOX.c.counted_at > now - longest,
            OUTBOX.c.status.in_((OutboxStatus.pending.value, OutboxStatus.sent.value)),
        )
        .order_by(OUTBOX.c.counted_at)
    ).all()
    times: dict[tuple[int, str], list[datetime]] = defaultdict(list)
    for contact_id, channel, at in found:
        times[(contact_id, channel)].append(at)
    return times


def _apply_caps(
    rows: list[Candidate],
    sent: dict[tuple[int, str], list[datetime]],
    now: datetime,
    rules: Rules,
    holds: dict[int, _Hold],
    result: Paced,
) -> list[int]:
    """Lets sends through while every cap has room, the highest priority first; returns the
    ids let through now (to be marked counted)."""
    rank: dict[str, int] = {name: i for i, name in enumerate(PRIORITIES)}
    order = sorted(
        rows, key=lambda r: (not r.counted, rank[rules.priority_of(r.scenario_id)], r.id)
    )
    counted: list[int] = []
    for row in order:
        if row.counted:
            continue  # its place was taken when it was first let through
        times = sent[(row.contact_id, row.channel)]
        full = [cap for cap in rules.caps_of(row.channel) if _in_window(times, cap, now) >= cap.max]
        if not full:
            times.append(now)
            counted.append(row.id)
            continue
        waited_from = row.held_since or now
        if now - waited_from >= GIVE_UP_AFTER:
            result.capped.add(row.id)
            continue
        frees, cap = max(((_frees_at(times, c, now), c) for c in full), key=lambda pair: pair[0])
        # Checked again at the latest when it has waited 3 days, to be given up on then.
        holds[row.id] = _Hold(min(frees, waited_from + GIVE_UP_AFTER), _cap_phrase(cap))
    return counted


def _in_window(times: list[datetime], cap: Cap, now: datetime) -> int:
    return sum(1 for at in times if at > now - cap.window)


def _frees_at(times: list[datetime], cap: Cap, now: datetime) -> datetime:
    """When the cap has room again: once enough of the sends in its window have left it."""
    inside = sorted(at for at in times if at > now - cap.window)
    return inside[len(inside) - cap.max] + cap.window


def _cap_phrase(cap: Cap) -> Phrase:
    if cap.channel == "sms":
        if cap.per_days == 1:
            return say_n(
                "held: at most %(count)s marketing SMS a day",
                "held: at most %(count)s marketing SMS a day",
                cap.max,
            )
        return say_n(
            "held: at most %(count)s marketing SMS per %(days)s days",
            "held: at most %(count)s marketing SMS per %(days)s days",
            cap.max,
            days=cap.per_days,
        )
    if cap.per_days == 1:
        return say_n(
            "held: at most %(count)s marketing email a day",
            "held: at most %(count)s marketing emails a day",
            cap.max,
        )
    return say_n(
        "held: at most %(count)s marketing email per %(days)s days",
        "held: at most %(count)s marketing emails per %(days)s days",
        cap.max,
        days=cap.per_days,
    )


def detail(phrase: Phrase, now: datetime, until: datetime | None) -> dict[str, Any]:
    """A hold as stored on its row: English text, the phrase, when and until when."""
    with speaking("en"):
        words = phrase.render()
    return {
        "text": words,
        "say": phrase.dump(),
        "at": now.isoformat(),
        "until": until.isoformat() if until is not None else None,
    }


def _write(
    session: Session,
    rows: list[Candidate],
    holds: dict[int, _Hold],
    counted: list[int],
    versions: dict[int, tuple[int, str]],
    now: datetime,
    result: Paced,
) -> None:
    by_id = {r.id: r for r in rows}
    if counted:
        session.execute(update(OUTBOX).where(OUTBOX.c.id.in_(counted)).values(counted_at=now))
    if holds:
        # The claim counted an attempt and leased the row: a hold is neither.
        session.execute(
            update(OUTBOX)
            .where(OUTBOX.c.id == bindparam("b_id"))
            .values(
                next_attempt_at=bindparam("b_due"),
                attempts=OUTBOX.c.attempts - 1,
                held_since=func.coalesce(OUTBOX.c.held_since, bindparam("b_now")),
                held=bindparam("b_held"),
            ),
            [
                {
                    "b_id": row_id,
                    "b_due": hold.due,
                    "b_now": now,
                    "b_held": detail(hold.phrase, now, hold.due),
                }
                for row_id, hold in holds.items()
            ],
        )
    if result.capped:
        session.execute(
            update(OUTBOX)
            .where(and_(OUTBOX.c.id.in_(result.capped), OUTBOX.c.status == "pending"))
            .values(
                status=OutboxStatus.skipped.value,
                next_attempt_at=None,
                last_error=CAPPED,
                held=detail(say("not sent: over the frequency cap"), now, None),
            )
        )
    for row_id, hold in holds.items():
        row = by_id[row_id]
        result.held[row_id] = hold.due
        version = versions.get(row.enrollment_id or 0)
        if row.held_since is None and row.scenario_id is not None and version and row.node_id:
            result.first_held[(row.scenario_id, version[0], row.node_id, "deferred")] += 1
    result.go -= set(holds) | result.capped
