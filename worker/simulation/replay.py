"""One chunk of contacts through a scenario, by the engine itself, in a throw-away database.

The simulation is not a second engine: the contacts of the chunk, their list memberships and
events, the lists and messages, and the scenario (as an active scenario whose live version is
the plan being tried) are copied into a throw-away database — the overlay (``overlay.py``) — and the
engine's own matcher and advancer (``match_events``, ``advance_chunk``) run there, on a
virtual clock. Every write the engine makes (enrollments, step log, outbox, list, score and
attribute changes, system events) lands in the overlay and is thrown away with it; the real
database is only read. The counts are read from the overlay with the functions that count
the real thing (``version_stats``).

Virtual time: events that reached us before the replay window are history (already matched);
those of the window are let in one by one when they reached us, as a live engine would have
matched them, and the engine runs at each of those moments and at each moment a journey is
due (a delay ending, a wait timing out, a retry), until the horizon.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, SQLModel

from app.graph import Plan, parse_condition
from app.models import ScenarioVersion
from app.services.contacts.condition_sql import matching_contact_ids
from app.services.messaging import topic_reasons
from app.services.scenarios.stats import version_stats
from worker.engine.advance import advance_chunk
from worker.engine.anniversaries import schedule_anniversaries
from worker.engine.plans import Plans
from worker.engine.steps.delays import contact_zone
from worker.engine.triggers import BATCH_SIZE, match_events
from worker.simulation.overlay import (
    SIMULATED_VERSION_ID,
    arrive,
    copy_chunk,
    copy_past_journeys,
    heard_moments,
    let_existing_in,
    overlay,
)

T = SQLModel.metadata.tables
CONTACTS, EVENTS = T["contacts"], T["events"]
ENROLLMENTS, STEP_LOG, OUTBOX = T["enrollments"], T["step_log"], T["outbox"]
SAMPLES = 20
BURST_MINUTES = 5
# What a skipped step's explanation says, as a reason code.
SKIP_REASONS = (("no consent", "no_consent"), ("no email address", "no_address"),
                ("no phone number", "no_address"), ("address bounced", "bounced"),
                ("marked as spam", "complained"),
                (topic_reasons.STEP_PREFIX, topic_reasons.CATEGORY))  # fmt: skip


@dataclass(frozen=True)
class Window:
    start: datetime  # replay from here (the virtual activation)
    as_of: datetime  # the real now: no event after it
    end: datetime  # the horizon

    @classmethod
    def of(cls, as_of: datetime, replay_days: int, horizon_days: int) -> Window:
        return cls(as_of - timedelta(days=replay_days), as_of, as_of + timedelta(days=horizon_days))


@dataclass
class ChunkResult:
    """What one chunk of contacts did in the overlay; chunks add up (``merge``)."""

    entered: int = 0
    nodes: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    messages: Counter[str] = field(default_factory=Counter)
    per_day: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    skipped_reasons: Counter[str] = field(default_factory=Counter)
    samples: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    # The simulated steps of the sampled contacts (contact id -> steps, explanations kept),
    # for their journey page marked "simulated".
    journeys: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # Their simulated enrollments, oldest first: entered_at, and state and wake_at at the
    # horizon, with the places of their steps in ``journeys`` (re-entries are told apart
    # without changing ``journeys``, which the API answers as it is).
    enrollments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    burst: Counter[str] = field(default_factory=Counter)  # send block -> messages at once
    steps: int = 0

    def merge(self, other: ChunkResult) -> None:
        self.entered += other.entered
        for node, counts in other.nodes.items():
            self.nodes[node].update(counts)
        self.messages.update(other.messages)
        for day, counts in other.per_day.items():
            self.per_day[day].update(counts)
        self.skipped_reasons.update(other.skipped_reasons)
        for node, ids in other.samples.items():
            room = SAMPLES - len(self.samples[node])
            self.samples[node].extend(ids[:room])
        sampled = {str(i) for ids in self.samples.values() for i in ids}
        self.journeys.update({c: s for c, s in other.journeys.items() if c in sampled})
        self.enrollments.update({c: e for c, e in other.enrollments.items() if c in sampled})
        self.burst.update(other.burst)
        self.steps += other.steps

    def dump(self) -> dict[str, Any]:
        return {
            "entered": self.entered,
            "nodes": {node: dict(counts) for node, counts in self.nodes.items()},
            "messages": {"email": self.messages["email"], "sms": self.messages["sms"]},
            "messages_per_day": [
                {"day": day, "email": c["email"], "sms": c["sms"]}
                for day, c in sorted(self.per_day.items())
            ],
            "skipped_reasons": dict(self.skipped_reasons),
            "samples": {node: ids for node, ids in self.samples.items() if ids},
            "journeys": self.journeys,
            "enrollments": self.enrollments,
            "burst": dict(self.burst),
            "steps": self.steps,
        }

    @classmethod
    def load(cls, raw: dict[str, Any]) -> ChunkResult:
        result = cls(entered=raw.get("entered", 0), steps=raw.get("steps", 0))
        for node, counts in raw.get("nodes", {}).items():
            result.nodes[node].update(counts)
        result.messages.update({k: v for k, v in raw.get("messages", {}).items() if v})
        for row in raw.get("messages_per_day", []):
            result.per_day[row["day"]].update({"email": row["email"], "sms": row["sms"]})
        result.skipped_reasons.update(raw.get("skipped_reasons", {}))
        for node, ids in raw.get("samples", {}).items():
            result.samples[node].extend(ids)
        result.journeys.update(raw.get("journeys", {}))
        result.enrollments.update(raw.get("enrollments", {}))  # rows stored before: none
        result.burst.update(raw.get("burst", {}))
        return result


def candidate_contacts(
    session: Session, plan: Plan, window: Window, existing: set[int] | None = None
) -> list[int]:
    """The contacts who could enter: an event in the window that some trigger of the plan
    listens to (the engine itself decides whether it fires), a date an anniversary trigger
    watches, or a match now when existing contacts are let in. Everyone else cannot be
    touched by the scenario."""
    names = trigger_event_names(plan)
    ids: set[int] = set(existing or ())
    if names:
        ids |= set(
            session.execute(
                select(EVENTS.c.contact_id)
                .where(
                    EVENTS.c.name.in_(sorted(names)),
                    EVENTS.c.received_at > window.start,
                    EVENTS.c.received_at <= window.as_of,
                )
                .distinct()
            ).scalars()
        )
    for attribute in plan.triggers.date_anniversary:  # whoever has the date may have the day
        rule = parse_condition({"attribute": attribute, "op": "exists"})
        ids |= matching_contact_ids(session, rule, window.as_of)
    return sorted(ids)


def first_candidates(session: Session, plan: Plan, window: Window, limit: int) -> list[int]:
    """A few contacts who could enter, from the first rows that match rather than the whole
    window: the first chunk runs on them while the full list (``candidate_contacts``, which
    reads every event of the window) is still unknown, so the first counts come within a
    second or two whatever the size of the base."""
    names = trigger_event_names(plan)
    if not names:
        return []
    rows = session.execute(
        # No DISTINCT: it would make a database read every row before the first answer.
        select(EVENTS.c.contact_id)
        .where(
            EVENTS.c.name.in_(sorted(names)),
            EVENTS.c.received_at > window.start,
            EVENTS.c.received_at <= window.as_of,
        )
        .limit(limit * 4)
    ).scalars()
    return sorted(dict.fromkeys(rows))[:limit]


def trigger_event_names(plan: Plan) -> set[str]:
    index = plan.triggers
    names = set(index.events)
    if index.contact_created:
        names.add("contact_created")
    if index.list_added:
        names.add("list_added")
    if index.list_removed:
        names.add("list_removed")
    if index.attribute_changed:
        names.add("attribute_changed")
    if index.score_reached:
        names.add("score_changed")
    return names


class Stopped(Exception):
    """The run was told to stop (cancelled) in the middle of a chunk."""


def _carry_on() -> bool:
    return True


def simulate_chunk(
    real: Session,
    plan: Plan,
    contact_ids: list[int],
    window: Window,
    existing: dict[int, str] | None = None,
    scenario_id: int | None = None,
    pulse: Callable[[], bool] = _carry_on,
) -> ChunkResult:
    """Runs ``contact_ids`` through ``plan`` in a fresh overlay. ``existing``: contact id ->
    trigger block, for contacts let in at the start as an activation with its existing
    contacts would; ``scenario_id``: the scenario simulated, whose journeys from before the
    window count for its re-entry rules; ``pulse``: called at each moment of virtual time
    (it says the run is alive), False to stop (raises ``Stopped``)."""
    with overlay() as scratch, Session(scratch, expire_on_commit=False) as session:
        copy_chunk(real, session, plan, contact_ids, window.start, window.as_of)
        if scenario_id is not None:
            copy_past_journeys(real, session, scenario_id, contact_ids, window.start)
        if existing:
            let_existing_in(session, plan, existing, window.start)
        steps = _run(session, window, plan, pulse)
        result = _collect(session, window)
        result.steps = steps
        return result


def _run(session: Session, window: Window, plan: Plan, pulse: Callable[[], bool]) -> int:
    """The engine at every moment something happens, from the window's start to its end."""
    plans, steps, now = Plans(), 0, window.start
    ticks = anniversary_moments(session, plan, window)
    # The moments an event the plan hears reaches us; the others come along with them.
    heard = heard_moments(session)
    next_heard = 0
    while True:
        if not pulse():
            raise Stopped
        to_match = arrive(session, now)
        while next_heard < len(heard) and heard[next_heard] <= now:
            next_heard += 1
        if ticks:
            schedule_anniversaries(session, plans, now)  # as the minute's check does
        steps += _until_quiet(session, plans, now, to_match)
        next_event = heard[next_heard] if next_heard < len(heard) else None
        next_due = _next_due(session)
        next_tick = next((t for t in ticks if t > now), None)
        moments = [t for t in (next_event, next_due, next_tick) if t is not None and t > now]
        if not moments or min(moments) > window.end:
            return steps
        now = min(moments)


def anniversary_moments(session: Session, plan: Plan, window: Window) -> list[datetime]:
    """When the anniversary check must look: each day of the window at each anniversary
    trigger's hour in each time zone of the chunk's contacts (the live check looks every
    minute; whom it lets in is its own business: ``schedule_anniversaries``)."""
    hours = {
        getattr(plan.block(node_id).config, "at", None) or "00:00"
        for nodes in plan.triggers.date_anniversary.values()
        for node_id in nodes
    }
    if not hours:
        return []
    zones = {
        contact_zone(z) for z in session.execute(select(CONTACTS.c.timezone).distinct()).scalars()
    }
    moments: set[datetime] = set()
    day, last = window.start.date() - timedelta(days=1), window.end.date() + timedelta(days=1)
    while day <= last:
        for hour in hours:
            hh, mm = (int(part) for part in hour.split(":"))
            for zone in zones:
                moment = datetime.combine(day, time(hh, mm), tzinfo=zone).astimezone(UTC)
                if window.start <= moment <= window.end:
                    moments.add(moment)
        day += timedelta(days=1)
    return sorted(moments)


def _until_quiet(session: Session, plans: Plans, now: datetime, to_match: bool) -> int:
    """The engine's matcher and advancer at ``now`` until neither has anything left, as the
    live sweep kicks them; each is skipped when the overlay says it has nothing to do (no
    event waiting to be matched, no journey due), which is all a sweep looks at too."""
    steps = 0
    while True:
        matched = match_events(session, plans, now, BATCH_SIZE) if to_match else None
        due = _next_due(session)
        advanced = advance_chunk(session, plans, now) if due is not None and due <= now else None
        if matched is None and advanced is None:
            return steps
        steps += sum(r.steps for r in (matched, advanced) if r is not None)
        to_match = (matched is not None and matched.events >= BATCH_SIZE) or any(
            r.events_to_match for r in (matched, advanced) if r is not None
        )


def _next_due(session: Session) -> datetime | None:
    # Read from the due index (partial: wake_at set), as ``min()`` over the table cannot.
    wake = ENROLLMENTS.c.wake_at
    due: datetime | None = session.execute(
        select(wake).where(wake.is_not(None)).order_by(wake).limit(1)
    ).scalar()
    return due


def _collect(session: Session, window: Window) -> ChunkResult:
    result = ChunkResult()
    version = session.get(ScenarioVersion, SIMULATED_VERSION_ID)
    stats = version_stats(session, version)
    for node_id, counters in stats.nodes.items():
        result.nodes[node_id].update(counters.model_dump())
    simulated = select(func.count()).where(ENROLLMENTS.c.version_id == SIMULATED_VERSION_ID)
    result.entered = int(session.execute(simulated).scalar_one())
    burst_until = window.start + timedelta(minutes=BURST_MINUTES)
    for channel, node_id, created in session.execute(
        select(OUTBOX.c.channel, OUTBOX.c.node_id, OUTBOX.c.created_at)
    ):
        if channel not in ("email", "sms"):
            continue
        result.messages[channel] += 1
        result.per_day[created.date().isoformat()][channel] += 1
        if created <= burst_until:
            result.burst[node_id] += 1
    for (detail,) in session.execute(
        select(STEP_LOG.c.detail).where(STEP_LOG.c.outcome == "skipped")
    ):
        text = str((detail or {}).get("text", ""))
        reason = next((code for words, code in SKIP_REASONS if text.startswith(words)), "other")
        result.skipped_reasons[reason] += 1
    seen: set[tuple[str, int]] = set()
    for node_id, contact_id in session.execute(
        select(STEP_LOG.c.node_id, STEP_LOG.c.contact_id)
        .where(STEP_LOG.c.outcome != "exited")
        .order_by(STEP_LOG.c.id)
    ):
        if (node_id, contact_id) in seen or len(result.samples[node_id]) >= SAMPLES:
            continue
        seen.add((node_id, contact_id))
        result.samples[node_id].append(contact_id)
    sampled = {contact_id for ids in result.samples.values() for contact_id in ids}
    place: dict[int, dict[str, Any]] = {}  # enrollment id -> its entry in ``enrollments``
    for enrollment_id, contact_id, entered_at, state, wake_at in session.execute(
        select(ENROLLMENTS.c.id, ENROLLMENTS.c.contact_id, ENROLLMENTS.c.entered_at,
               ENROLLMENTS.c.state, ENROLLMENTS.c.wake_at)
        .where(ENROLLMENTS.c.version_id == SIMULATED_VERSION_ID,
               ENROLLMENTS.c.contact_id.in_(sampled))
        .order_by(ENROLLMENTS.c.id)
    ):  # fmt: skip
        place[enrollment_id] = {
            "entered_at": entered_at.isoformat(),
            "state": str(state),
            "wake_at": wake_at.isoformat() if wake_at is not None else None,
            "steps": [],
        }
        result.enrollments.setdefault(str(contact_id), []).append(place[enrollment_id])
    for enrollment_id, contact_id, node_id, outcome, detail, at in session.execute(
        select(STEP_LOG.c.enrollment_id, STEP_LOG.c.contact_id, STEP_LOG.c.node_id,
               STEP_LOG.c.outcome, STEP_LOG.c.detail, STEP_LOG.c.at)
        .where(STEP_LOG.c.contact_id.in_(sampled))
        .order_by(STEP_LOG.c.id)
    ):  # fmt: skip
        steps = result.journeys.setdefault(str(contact_id), [])
        if enrollment_id in place:
            place[enrollment_id]["steps"].append(len(steps))
        steps.append(
            {"node_id": node_id, "outcome": outcome, "detail": detail, "at": at.isoformat()}
        )
    return result


__all__ = [
    "ChunkResult",
    "Stopped",
    "Window",
    "candidate_contacts",
    "first_candidates",
    "simulate_chunk",
]
