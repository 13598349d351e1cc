"""Delays: a contact arriving parks with a wake-up time; waking, it moves on.

Times of day are in the contact's time zone (UTC when theirs is unknown).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlmodel import SQLModel

from app.bulk import among
from app.graph.wording import format_duration
from app.models import StepOutcome
from worker.engine.steps.group import Group
from worker.engine.visit import Visit

EVENTS = SQLModel.metadata.tables["events"]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def wait(group: Group) -> None:
    for visit in group.visits:
        if visit.waking:
            group.leave(visit, "out")
        else:
            group.park(visit, group.later(group.config.seconds))


def wait_until(group: Group) -> None:
    for visit in group.visits:
        if visit.waking:
            group.leave(visit, "out")
            continue
        contact = group.chunk.contacts.get(visit.contact_id)
        zone = contact_zone(contact.timezone if contact is not None else None)
        until = next_time_of_day(group.now, group.config.at, group.config.weekdays, zone)
        group.park(
            visit,
            until,
            detail={"text": f"waits until {until.astimezone(zone):%a %d %b %H:%M} ({zone.key})"},
        )


def wait_for_event(group: Group) -> None:
    config = group.config
    late = _came_unseen(group, [v for v in group.visits if v.waking and v.wake_port != "yes"])
    for visit in group.visits:
        if visit.waking:
            came = visit.wake_port == "yes" or visit.id in late
            outcome = StepOutcome.yes if came else StepOutcome.no
            text = (
                f"{config.event} came in time → yes"
                if came
                else f"no {config.event} within {format_duration(config.timeout_seconds)} → no"
            )
            group.leave(visit, outcome.value, outcome, {"text": text, "event_came": came})
            continue
        group.park(
            visit,
            group.later(config.timeout_seconds),
            wait_event=config.event,
            wait_key=_instance_value(visit, config.match_key),
            wake_port="no",
        )


def _came_unseen(group: Group, timing_out: list[Visit]) -> set[int]:
    """Enrollments whose awaited event did come, but while they were being parked (the
    trigger matcher looked before the wait was committed): one query for the group."""
    if not timing_out:
        return set()
    config = group.config
    timeout = timedelta(seconds=config.timeout_seconds)
    started = {v.id: (v.wake_at or group.now) - timeout for v in timing_out}
    rows = group.session.execute(
        select(EVENTS.c.contact_id, EVENTS.c.occurred_at, EVENTS.c.properties).where(
            among(group.session, EVENTS.c.contact_id, {v.contact_id for v in timing_out}),
            EVENTS.c.name == config.event,
            EVENTS.c.occurred_at >= min(started.values()),
            EVENTS.c.occurred_at <= group.now,
        )
    ).all()
    came: set[int] = set()
    for visit in timing_out:
        for contact_id, occurred_at, properties in rows:
            if contact_id != visit.contact_id or occurred_at < started[visit.id]:
                continue
            value = (properties or {}).get(config.match_key) if config.match_key else None
            if visit.wait_key is None or (value is not None and str(value) == visit.wait_key):
                came.add(visit.id)
                break
    return came


def _instance_value(visit: Visit, match_key: str | None) -> str | None:
    if not match_key:
        return None
    value = visit.context.get(match_key)
    return None if value is None else str(value)


def contact_zone(name: str | None) -> ZoneInfo:
    """The contact's time zone; UTC when it is missing or unknown."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def next_time_of_day(
    now: datetime, at: str, weekdays: list[str] | None, zone: ZoneInfo
) -> datetime:
    """The first moment at or after ``now`` that is ``at`` o'clock on an allowed day, in
    ``zone`` (a time skipped by a daylight-saving jump is taken as the instant after it)."""
    hour, minute = (int(part) for part in at.split(":"))
    local_now = now.astimezone(zone)
    allowed = {WEEKDAYS.index(day) for day in weekdays} if weekdays else set(range(7))
    for days_ahead in range(8):
        day = (local_now + timedelta(days=days_ahead)).date()
        if day.weekday() not in allowed:
            continue
        candidate = datetime.combine(day, time(hour, minute), tzinfo=zone)
        if candidate >= local_now:
            return candidate.astimezone(now.tzinfo)
    raise AssertionError("a week always has an allowed day")
