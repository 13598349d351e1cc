"""The account's sending rules (CONTRACTS-2 §D): what they are, how they are checked and
stored, and the questions delivery asks of them (``worker/delivery/pacing.py`` applies them).

- **Quiet hours** ``{"start": "21:00", "end": "08:00", "weekdays": [0..6] | null}``: no
  marketing message leaves while it is between ``start`` and ``end`` in the contact's time
  zone. A window that ends before it starts runs past midnight; ``weekdays`` (0 is Monday)
  names the days on which a window *begins*, so Friday's night runs into Saturday morning;
  null is every day.
- **Caps** ``[{"channel": "email" | "sms", "max": n, "per_days": d}]``: at most ``n``
  marketing messages of that channel to one contact in any ``d`` days, across all scenarios.
- **Priority** ``{scenario id: "transactional" | "lifecycle" | "promotional"}``: a
  ``transactional`` scenario's messages ignore both rules; when sends compete for a cap,
  promotional ones wait before lifecycle ones. A scenario not named is ``lifecycle``.

Messages whose template is transactional (receipts) ignore the rules whatever the scenario.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator, model_validator
from sqlmodel import Session, col, select

from app.clock import utcnow
from app.inputs import plain_digits
from app.models import Scenario, SendingRules
from app.services.errors import Invalid

Priority = Literal["transactional", "lifecycle", "promotional"]
PRIORITIES: tuple[Priority, ...] = ("transactional", "lifecycle", "promotional")
DEFAULT_PRIORITY: Priority = "lifecycle"
CapChannel = Literal["email", "sms"]
MAX_CAPS = 10
ROW_ID = 1
_CLOCK = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")


def is_clock(text: str) -> bool:
    """``HH:MM`` on a 24-hour clock."""
    return bool(_CLOCK.fullmatch(text))


class QuietHoursIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: str = Field(examples=["21:00"], description="From this time (HH:MM, 24-hour)")
    end: str = Field(examples=["08:00"], description="Until this time; before start: overnight")
    weekdays: list[StrictInt] | None = Field(
        default=None,
        examples=[[0, 1, 2, 3, 4]],
        description="Days on which quiet hours begin, 0 = Monday … 6 = Sunday; null: every day",
    )

    @field_validator("start", "end")
    @classmethod
    def _clock(cls, value: str) -> str:
        if not _CLOCK.fullmatch(value):
            raise ValueError(f"“{value}” is not a time of day: write it as HH:MM, e.g. 21:00")
        return value

    @field_validator("weekdays")
    @classmethod
    def _days(cls, value: list[int] | None) -> list[int] | None:
        if value is None:
            return None
        if not value:
            raise ValueError("name at least one day, or null for every day")
        if any(day < 0 or day > 6 for day in value):
            raise ValueError("days are numbers from 0 (Monday) to 6 (Sunday)")
        if len(set(value)) != len(value):
            raise ValueError("a day is named twice")
        return sorted(value)

    @model_validator(mode="after")
    def _not_empty(self) -> QuietHoursIn:
        if self.start == self.end:
            raise ValueError("quiet hours must end at another time than they start")
        return self


class CapIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: CapChannel
    max: StrictInt = Field(ge=1, le=1000, examples=[3], description="At most this many…")
    per_days: StrictInt = Field(ge=1, le=90, examples=[7], description="…in any this many days")


class SendingRulesIn(BaseModel):
    """The whole set of rules; a PUT replaces every part."""

    model_config = ConfigDict(extra="forbid")

    quiet_hours: QuietHoursIn | None = None
    caps: list[CapIn] = Field(default_factory=list, max_length=MAX_CAPS)
    priority: dict[str, Priority] = Field(default_factory=dict)

    @field_validator("caps")
    @classmethod
    def _one_cap_per_window(cls, caps: list[CapIn]) -> list[CapIn]:
        seen: set[tuple[str, int]] = set()
        for cap in caps:
            if (cap.channel, cap.per_days) in seen:
                raise ValueError(f"two caps count {cap.channel} over {cap.per_days} days: keep one")
            seen.add((cap.channel, cap.per_days))
        return caps

    @field_validator("priority")
    @classmethod
    def _scenario_ids(cls, priority: dict[str, str]) -> dict[str, str]:
        for key in priority:
            if not plain_digits(key) or not 0 < int(key) < 2**31:
                raise ValueError(f"“{key}” is not a scenario id")
        return {str(int(key)): value for key, value in priority.items()}


class SendingRulesOut(SendingRulesIn):
    updated_at: datetime | None = None


# ---- what delivery reads ----------------------------------------------------------------


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time
    weekdays: frozenset[int] | None

    def end_of(self, moment: datetime, zone: ZoneInfo) -> datetime | None:
        """When the quiet hours ``moment`` falls in end (UTC), or None outside them."""
        local = moment.astimezone(zone)
        for back in (1, 0):
            day = local.date() - timedelta(days=back)
            begins, ends = self._window(day, zone)
            if begins <= local < ends and (self.weekdays is None or day.weekday() in self.weekdays):
                return ends.astimezone(UTC)
        return None

    def _window(self, day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
        begins = datetime.combine(day, self.start, tzinfo=zone)
        last = day + timedelta(days=1) if self.end <= self.start else day
        return begins, datetime.combine(last, self.end, tzinfo=zone)


@dataclass(frozen=True)
class Cap:
    channel: str
    max: int
    per_days: int

    @property
    def window(self) -> timedelta:
        return timedelta(days=self.per_days)


@dataclass(frozen=True)
class Rules:
    quiet_hours: QuietHours | None = None
    caps: tuple[Cap, ...] = ()
    priority: dict[int, str] | None = None

    @property
    def empty(self) -> bool:
        return self.quiet_hours is None and not self.caps

    def priority_of(self, scenario_id: int | None) -> str:
        if scenario_id is None:
            return DEFAULT_PRIORITY
        return (self.priority or {}).get(scenario_id, DEFAULT_PRIORITY)

    def caps_of(self, channel: str) -> tuple[Cap, ...]:
        return tuple(cap for cap in self.caps if cap.channel == channel)


def _clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def rules_of(data: SendingRulesIn) -> Rules:
    quiet = data.quiet_hours
    return Rules(
        quiet_hours=QuietHours(
            _clock(quiet.start),
            _clock(quiet.end),
            frozenset(quiet.weekdays) if quiet.weekdays is not None else None,
        )
        if quiet is not None
        else None,
        caps=tuple(Cap(c.channel, c.max, c.per_days) for c in data.caps),
        priority={int(k): v for k, v in data.priority.items()},
    )


# ---- stored -------------------------------------------------------------------------------


def read(session: Session) -> SendingRulesOut:
    row = session.get(SendingRules, ROW_ID)
    if row is None:
        return SendingRulesOut()
    return SendingRulesOut.model_validate(
        {
            "quiet_hours": row.quiet_hours,
            "caps": row.caps,
            "priority": row.priority,
            "updated_at": row.updated_at,
        }
    )


def load(session: Session) -> Rules:
    """The rules as delivery applies them (no rules when none were ever written)."""
    return rules_of(read(session))


def write(session: Session, data: SendingRulesIn, now: datetime | None = None) -> SendingRulesOut:
    """Replaces the rules; a priority for a scenario that does not exist is refused."""
    wanted = {int(key) for key in data.priority}
    if wanted:
        known = set(session.exec(select(Scenario.id).where(col(Scenario.id).in_(wanted))).all())
        missing = sorted(wanted - known)
        if missing:
            names = ", ".join(str(m) for m in missing)
            raise Invalid(f"There is no scenario {names}: a priority names an existing scenario.")
    row = session.get(SendingRules, ROW_ID) or SendingRules(id=ROW_ID)
    row.quiet_hours = data.quiet_hours.model_dump() if data.quiet_hours else None
    row.caps = [cap.model_dump() for cap in data.caps]
    row.priority = dict(data.priority)
    row.updated_at = now or utcnow()
    session.add(row)
    session.flush()
    return read(session)


def as_json(out: SendingRulesOut) -> dict[str, Any]:
    return out.model_dump(mode="json", exclude={"updated_at"})
