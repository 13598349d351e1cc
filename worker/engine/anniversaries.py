"""Date anniversary triggers: "a week before their birthday, at 9:00 their time".

Checked every minute. A contact enters when, in their own time zone, today is the anniversary
shifted by ``offset_days`` and the clock has passed ``at``; the occurrence's year is the
instance key, so each yearly occurrence enters once even if the check runs all day. People
born on 29 February celebrate on the 28th in other years.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, SQLModel

from app.services.scenarios.enrollments import Candidate, enroll
from worker.engine.plans import LiveScenario, Plans
from worker.engine.steps.delays import contact_zone

CONTACTS = SQLModel.metadata.tables["contacts"]


def schedule_anniversaries(session: Session, plans: Plans, now: datetime) -> int:
    """Enrolls every contact whose anniversary moment has come; returns how many entered."""
    candidates: list[Candidate] = []
    live = [s for s in plans.live(session) if s.plan.triggers.date_anniversary]
    for scenario in live:
        for attribute, node_ids in scenario.plan.triggers.date_anniversary.items():
            for node_id in node_ids:
                candidates += _due(session, scenario, node_id, attribute, now)
    entered = enroll(session, candidates, {s.version_id: s.plan for s in live}, now)
    return len(entered)


def _due(
    session: Session, scenario: LiveScenario, node_id: str, attribute: str, now: datetime
) -> list[Candidate]:
    config: Any = scenario.plan.block(node_id).config
    offset = timedelta(days=config.offset_days)
    # Somewhere on Earth it is yesterday, today or tomorrow (UTC): those are the local days.
    days = [(now + timedelta(days=d)).date() for d in (-1, 0, 1)]
    wanted = {_month_day(day - offset) for day in days} | {
        _month_day(day - offset, leap=True) for day in days
    }
    column = _month_day_column(session, attribute)
    rows = session.execute(
        select(CONTACTS.c.id, CONTACTS.c.timezone, _date_column(session, attribute)).where(
            column.in_(wanted)
        )
    )
    hour, minute = (int(part) for part in (config.at or "00:00").split(":"))
    found = []
    for contact_id, zone_name, raw in rows:
        anniversary = _as_date(raw)
        if anniversary is None:
            continue
        local_now = now.astimezone(contact_zone(zone_name))
        occurrence = local_now.date() - offset  # the anniversary this local day belongs to
        if not _same_day_of_year(anniversary, occurrence):
            continue
        if local_now.time() < time(hour, minute):
            continue
        found.append(
            Candidate(
                scenario_id=scenario.scenario_id,
                version_id=scenario.version_id,
                trigger_node=node_id,
                contact_id=contact_id,
                context={"attribute": attribute, "date": anniversary.isoformat()},
                instance_key=str(occurrence.year),
                unique_instance=True,
            )
        )
    return found


def _month_day(day: date, leap: bool = False) -> str:
    if leap and day.month == 2 and day.day == 28 and not calendar.isleap(day.year):
        return "02-29"
    return f"{day.month:02d}-{day.day:02d}"


def _same_day_of_year(anniversary: date, occurrence: date) -> bool:
    if (anniversary.month, anniversary.day) == (occurrence.month, occurrence.day):
        return True
    return (
        (anniversary.month, anniversary.day) == (2, 29)
        and (occurrence.month, occurrence.day) == (2, 28)
        and not calendar.isleap(occurrence.year)
    )


def _date_column(session: Session, attribute: str) -> Any:
    if attribute == "birthday":
        return CONTACTS.c.birthday
    if session.get_bind().dialect.name == "postgresql":
        return CONTACTS.c.attributes.op("->>")(attribute)
    return func.json_extract(CONTACTS.c.attributes, '$."' + attribute.replace('"', "") + '"')


def _month_day_column(session: Session, attribute: str) -> Any:
    column = _date_column(session, attribute)
    if attribute == "birthday" and session.get_bind().dialect.name == "postgresql":
        return func.to_char(column, "MM-DD")
    return func.substr(column, 6, 5)


def _as_date(raw: object) -> date | None:
    if isinstance(raw, date):
        return raw
    if isinstance(raw, str) and len(raw) >= 10:
        try:
            return date.fromisoformat(raw[:10])
        except ValueError:
            return None
    return None
