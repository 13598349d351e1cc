"""A scenario's statistics over a period: entries and conversions per day, messages per block
(sent, opened, clicked), failures with their reasons.

Days are UTC days. A conversion is a contact pulled out by the scenario's goal (a step row
``exited`` whose text says the goal was reached); removals by hand are not conversions.
Opens and clicks are the tracking events, which carry the scenario and block they came from.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, SQLModel, col, select

from app.i18n import gettext, spoken
from app.models import Enrollment, OutboxMessage, OutboxStatus, ScenarioVersion, StepLog
from app.services.errors import Invalid
from app.services.messaging import not_sent

EVENTS = SQLModel.metadata.tables["events"]
MAX_DAYS = 366


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    @property
    def since(self) -> datetime:
        return datetime.combine(self.start, time(0), tzinfo=UTC)

    @property
    def until(self) -> datetime:
        return datetime.combine(self.end + timedelta(days=1), time(0), tzinfo=UTC)

    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]


def period(start: str, end: str, today: date, default_days: int = 30) -> Period:
    """The period asked for in the filter form; the last 30 days when left empty."""
    try:
        last = date.fromisoformat(end) if end else today
        first = date.fromisoformat(start) if start else last - timedelta(days=default_days - 1)
    except ValueError as exc:
        raise Invalid("Dates look like 2026-01-31.") from exc
    if first > last:
        raise Invalid("The start date is after the end date.")
    if (last - first).days >= MAX_DAYS:
        raise Invalid("Choose a period of one year at most.")
    return Period(first, last)


@dataclass
class BlockMessages:
    node_id: str
    sent: int = 0
    pending: int = 0
    skipped: int = 0  # not sent, as ``messaging.not_sent`` counts it
    failed: int = 0
    opened: int = 0
    clicked: int = 0

    @property
    def open_rate(self) -> float | None:
        return self.opened / self.sent if self.sent else None

    @property
    def click_rate(self) -> float | None:
        return self.clicked / self.sent if self.sent else None


@dataclass
class Failure:
    node_id: str
    reason: str
    count: int


@dataclass
class ScenarioReport:
    period: Period
    entries: dict[date, int] = field(default_factory=dict)
    conversions: dict[date, int] = field(default_factory=dict)
    messages: list[BlockMessages] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    not_sent: list[not_sent.NotSent] = field(default_factory=list)  # per block and reason
    # A conversion rate means something only when the scenario has a goal.
    has_goal: bool = True

    @property
    def total_entries(self) -> int:
        return sum(self.entries.values())

    @property
    def total_conversions(self) -> int:
        return sum(self.conversions.values())

    @property
    def conversion_rate(self) -> float | None:
        if not self.has_goal or not self.total_entries:
            return None
        return self.total_conversions / self.total_entries


def _day(value: Any) -> date:
    if isinstance(value, datetime):
        return value.astimezone(UTC).date()
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def is_goal(detail: Mapping[str, Any] | None) -> bool:
    text = str((detail or {}).get("text") or "")
    return "goal" in text and not text.startswith("removed by")


def has_goal(graph: Mapping[str, Any] | None) -> bool:
    """Whether the scenario takes contacts out on a goal (``settings.exit_when``)."""
    settings = (graph or {}).get("settings")
    return isinstance(settings, Mapping) and bool(settings.get("exit_when"))


def scenario_report(
    session: Session,
    scenario_id: int,
    version: ScenarioVersion | None,
    when: Period,
    *,
    goal: bool = True,
) -> ScenarioReport:
    """The report over ``when``; ``goal``: whether the scenario shown has a goal."""
    report = ScenarioReport(period=when, has_goal=goal)
    days = when.days()

    entered_day = func.date(col(Enrollment.entered_at))
    entries = select(entered_day, func.count()).where(
        Enrollment.scenario_id == scenario_id,
        col(Enrollment.entered_at) >= when.since,
        col(Enrollment.entered_at) < when.until,
    )
    if version is not None:
        entries = entries.where(Enrollment.version_id == version.id)
    counted = {_day(d): n for d, n in session.exec(entries.group_by(entered_day)).all()}
    report.entries = {d: counted.get(d, 0) for d in days}

    exits = select(StepLog.at, StepLog.detail).where(
        StepLog.scenario_id == scenario_id,
        StepLog.outcome == "exited",
        col(StepLog.at) >= when.since,
        col(StepLog.at) < when.until,
    )
    failed = select(StepLog.node_id, StepLog.detail).where(
        StepLog.scenario_id == scenario_id,
        StepLog.outcome == "failed",
        col(StepLog.at) >= when.since,
        col(StepLog.at) < when.until,
    )
    if version is not None:
        exits = exits.where(StepLog.version_id == version.id)
        failed = failed.where(StepLog.version_id == version.id)
    goals: Counter[date] = Counter(
        _day(at) for at, detail in session.exec(exits) if is_goal(detail)
    )
    report.conversions = {d: goals.get(d, 0) for d in days}

    stored: Counter[tuple[str, str]] = Counter()
    for node_id, detail in session.exec(failed):
        stored[(node_id, _reason_key(detail))] += 1
    reasons: Counter[tuple[str, str]] = Counter()
    for (node_id, key), count in stored.items():  # in the reader's words, once per phrase
        reasons[(node_id, _reason_words(key))] += count
    reasons.update(_send_failures(session, scenario_id, version, when))
    report.failures = [Failure(n, r, c) for (n, r), c in reasons.most_common()]
    report.not_sent = not_sent.by_block(
        session,
        scenario_id,
        version_id=version.id if version is not None else None,
        since=when.since,
        until=when.until,
    )
    report.messages = _messages(session, scenario_id, version, when, report.not_sent)
    return report


def _reason_key(detail: Mapping[str, Any] | None) -> str:
    """What a failure is grouped by: its stored phrase (read later in the reader's language),
    or the English text of older rows."""
    phrase = (detail or {}).get("say")
    if isinstance(phrase, Mapping) and "say" in phrase:
        return json.dumps(phrase, sort_keys=True, ensure_ascii=False)
    return "text:" + str((detail or {}).get("text") or "")


def _reason_words(key: str) -> str:
    if key.startswith("text:"):
        return key.removeprefix("text:") or gettext("no reason recorded")
    return spoken({"say": json.loads(key)}) or gettext("no reason recorded")


def _send_failures(
    session: Session, scenario_id: int, version: ScenarioVersion | None, when: Period
) -> Counter[tuple[str, str]]:
    """Sends that failed for good (a broken template, a refused address…), by block and
    reason: the journey moved on, so only the outbox knows why nothing went out."""
    query = select(OutboxMessage.node_id, OutboxMessage.last_error, func.count()).where(
        OutboxMessage.scenario_id == scenario_id,
        OutboxMessage.status == OutboxStatus.failed,
        col(OutboxMessage.created_at) >= when.since,
        col(OutboxMessage.created_at) < when.until,
    )
    if version is not None:
        query = query.join(
            Enrollment, col(Enrollment.id) == col(OutboxMessage.enrollment_id)
        ).where(Enrollment.version_id == version.id)
    found: Counter[tuple[str, str]] = Counter()
    grouped = query.group_by(col(OutboxMessage.node_id), col(OutboxMessage.last_error))
    for node_id, reason, count in session.exec(grouped).all():
        found[(node_id or "?", reason or gettext("no reason recorded"))] += count
    return found


def _messages(
    session: Session,
    scenario_id: int,
    version: ScenarioVersion | None,
    when: Period,
    unsent: list[not_sent.NotSent],
) -> list[BlockMessages]:
    blocks: dict[str, BlockMessages] = {}

    def block(node_id: str) -> BlockMessages:
        return blocks.setdefault(node_id, BlockMessages(node_id))

    sends = select(OutboxMessage.node_id, OutboxMessage.status, func.count()).where(
        OutboxMessage.scenario_id == scenario_id,
        col(OutboxMessage.channel).in_(("email", "sms")),
        col(OutboxMessage.created_at) >= when.since,
        col(OutboxMessage.created_at) < when.until,
    )
    if version is not None:
        sends = sends.join(
            Enrollment, col(Enrollment.id) == col(OutboxMessage.enrollment_id)
        ).where(Enrollment.version_id == version.id)
    for node_id, status, count in session.exec(
        sends.group_by(col(OutboxMessage.node_id), col(OutboxMessage.status))
    ).all():
        entry = block(node_id or "?")
        name = str(status)
        if name in ("sent", "pending", "failed"):
            setattr(entry, name, getattr(entry, name) + count)
    for item in unsent:  # the engine's skips never reached the outbox
        block(item.node_id).skipped += item.count

    node = EVENTS.c.properties["node_id"].as_string()
    tracked = (
        select(EVENTS.c.name, node, func.count())
        .where(
            EVENTS.c.name.in_(("email_opened", "email_clicked")),
            EVENTS.c.properties["scenario_id"].as_integer() == scenario_id,
            EVENTS.c.occurred_at >= when.since,
            EVENTS.c.occurred_at < when.until,
        )
        .group_by(EVENTS.c.name, node)
    )
    # Opens and clicks are counted per block across versions: the event names no version.
    per_node: dict[str, Counter[str]] = defaultdict(Counter)
    for name, node_id, count in session.execute(tracked).all():
        per_node[str(node_id)][name] += count
    for node_id, counts in per_node.items():
        entry = block(node_id)
        entry.opened, entry.clicked = counts["email_opened"], counts["email_clicked"]
    return sorted(blocks.values(), key=lambda b: b.node_id)
