"""Delays: a contact arriving parks with a wake-up time; waking, it moves on.

Times of day are in the contact's time zone (UTC when theirs is unknown).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import case, select
from sqlmodel import SQLModel

from app.bulk import among
from app.graph.wording import format_duration
from app.i18n import Moment, Phrase, say, say_n
from app.models import StepOutcome
from worker.engine.steps.group import Group
from worker.engine.steps.registry import executes
from worker.engine.visit import Visit

EVENTS = SQLModel.metadata.tables["events"]
# When an event happened: its own time, but never later than when it reached us — a browser
# whose clock runs ahead must not move a cart into the future, past the purchase that
# followed it (waits and goals compare these times).
HAPPENED_AT = case(
    (EVENTS.c.received_at < EVENTS.c.occurred_at, EVENTS.c.received_at),
    else_=EVENTS.c.occurred_at,
)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_UNITS = (("day", 86_400), ("hour", 3_600), ("minute", 60), ("second", 1))
_WEEK = 604_800


def duration_words(seconds: int) -> Phrase:
    """``format_duration`` as a phrase read later: ``2 days`` / ``2 jours``."""
    if seconds > 0 and seconds % _WEEK == 0:
        return say_n("%(count)s week", "%(count)s weeks", seconds // _WEEK)
    if seconds <= 0:
        return say_n("%(count)s second", "%(count)s seconds", seconds)
    parts: list[Phrase] = []
    remaining = seconds
    for unit, size in _UNITS:
        amount, remaining = divmod(remaining, size)
        if not amount:
            continue
        if unit == "day":
            parts.append(say_n("%(count)s day", "%(count)s days", amount))
        elif unit == "hour":
            parts.append(say_n("%(count)s hour", "%(count)s hours", amount))
        elif unit == "minute":
            parts.append(say_n("%(count)s minute", "%(count)s minutes", amount))
        else:
            parts.append(say_n("%(count)s second", "%(count)s seconds", amount))
    joined = parts[0]
    for part in parts[1:]:
        joined = say("%(first)s %(then)s", first=joined, then=part)
    return joined


@executes("delay", "wait")
def wait(group: Group) -> None:
    for visit in group.visits:
        if visit.waking:
            group.leave(visit, "out")
        else:
            group.park(visit, group.later(group.config.seconds))


@executes("delay", "wait_until")
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
            detail={
                "text": f"waits until {until.astimezone(zone):%a %d %b %H:%M} ({zone.key})",
                "say": say("waits until %(when)s", when=Moment(until)).dump(),
            },
        )


@executes("delay", "wait_for_event")
def wait_for_event(group: Group) -> None:
    config = group.config
    waking = [v for v in group.visits if v.waking]
    came = {v.id for v in waking if v.wake_port == "yes"}
    came |= awaited_came(group, [v for v in waking if v.id not in came])
    parking = [v for v in group.visits if not v.waking]
    for visit in waking:
        outcome = StepOutcome.yes if visit.id in came else StepOutcome.no
        text = (
            f"{config.event} came in time → yes"
            if visit.id in came
            else f"no {config.event} within {format_duration(config.timeout_seconds)} → no"
        )
        phrase = (
            say("%(event)s came in time → yes", event=config.event)
            if visit.id in came
            else say(
                "no %(event)s within %(duration)s → no",
                event=config.event,
                duration=duration_words(config.timeout_seconds),
            )
        )
        detail = {"text": text, "say": phrase.dump(), "event_came": visit.id in came}
        group.leave(visit, outcome.value, outcome, detail)
    for visit in parking:
        visit.wait_began = None if visit.fresh else group.now
        group.park(
            visit,
            group.later(config.timeout_seconds),
            wait_event=config.event,
            wait_key=_instance_value(visit, config.match_key),
            wake_port="no",
        )
    # The awaited event may have happened already (the matcher was behind, or it is later in
    # this batch): the contact leaves by YES at once.
    already = awaited_came(group, parking)
    for visit in parking:
        if visit.id in already:
            visit.wake_port, visit.wake_at = "yes", group.now


def awaited_came(group: Group, visits: list[Visit]) -> set[int]:
    """The visits whose awaited event happened after they reached the wait (see
    ``in_wait``) and by its deadline, read from the events table whether matched yet or
    not: the outcome depends on when things happened, never on when the matcher reached
    them. One query."""
    if not visits:
        return set()
    config = group.config
    since = {v.id: v.wait_began or v.trigger_at or group.now for v in visits}
    until = {v.id: v.wake_at or group.now for v in visits}
    rows = group.session.execute(
        select(
            EVENTS.c.contact_id,
            EVENTS.c.id,
            HAPPENED_AT.label("occurred_at"),
            EVENTS.c.properties,
        ).where(
            among(group.session, EVENTS.c.contact_id, {v.contact_id for v in visits}),
            EVENTS.c.name == config.event,
            min(since.values()) <= HAPPENED_AT,
            max(until.values()) >= HAPPENED_AT,
        )
    ).all()
    by_contact: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        by_contact[row.contact_id].append(row)
    return {
        visit.id
        for visit in visits
        if any(
            in_wait(visit, row.id, row.occurred_at)
            and row.occurred_at <= until[visit.id]
            and awaited(row.properties or {}, config.match_key, visit.wait_key)
            for row in by_contact[visit.contact_id]
        )
    }


def after_trigger(visit: Visit, event_id: int, occurred_at: datetime) -> bool:
    """Whether an event happened after the one that let the contact in, by event time (in a
    tie, the one that arrived later is after): never by when either was matched (DESIGN §5)."""
    since = visit.trigger_at
    if since is None:
        return True
    if visit.trigger_event_id is None:
        return occurred_at >= since
    return (occurred_at, event_id) > (since, visit.trigger_event_id)


def in_wait(visit: Visit, event_id: int, occurred_at: datetime) -> bool:
    """Whether an event happened after the contact reached its wait. A wait reached as the
    journey began counts from the triggering event, whenever either was matched (the cart,
    then its purchase); a wait reached later, after a delay, from when the contact got there
    (a second "wait for an open" is not answered by the first email's open)."""
    if visit.wait_began is None:
        return after_trigger(visit, event_id, occurred_at)
    return occurred_at >= visit.wait_began


def awaited(properties: dict[str, Any], match_key: str | None, wait_key: str | None) -> bool:
    """Whether an event of the awaited name is the one a wait expects (same cart id …)."""
    value = properties.get(match_key) if match_key else None
    return wait_key is None or (value is not None and str(value) == wait_key)


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
