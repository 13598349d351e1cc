"""Wait for a condition: YES as soon as it holds, NO when it still does not at the deadline.

A contact arriving is evaluated at once (with the group, as ``flow.condition`` is) and, when
the condition does not hold, parks until the deadline. Nobody polls: when a change the
condition may depend on is matched for the contact (``wake_condition_waits``, called by the
matcher), its wait is made due now and evaluated again. Still false before the deadline, it
parks again without a step row, and without a new seq, so a wake-up landing meanwhile is not
refused by the seq guard; the deadline itself is kept in ``wait_key`` (ISO time), since
``wake_at`` is brought forward by a wake-up and must never push the deadline back.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlmodel import Session, SQLModel

from app.bulk import among
from app.graph import Explanation, Plan, describe_condition, explain_many
from app.graph.verdict_phrases import condition_phrase
from app.graph.wait_condition_blocks import WaitForConditionConfig, wakes, wakes_on
from app.graph.wording import format_duration
from app.i18n import Moment, say
from app.models import EnrollmentState, StepOutcome
from app.services.contacts.facts import load_facts
from worker.engine.steps.delays import duration_words
from worker.engine.steps.group import Group
from worker.engine.steps.registry import executes
from worker.engine.visit import Visit

ENROLLMENTS = SQLModel.metadata.tables["enrollments"]
WAITING = EnrollmentState.waiting.value


@executes("delay", "wait_for_condition")
def wait_for_condition(group: Group) -> None:
    config: WaitForConditionConfig = group.config
    rule, timeout = config.condition, config.timeout_seconds
    assert rule is not None, "a published wait has its condition"
    assert timeout is not None, "and its time limit"
    facts = load_facts(
        group.session,
        [v.contact_id for v in group.visits],
        [rule],
        group.now,
        contacts=group.chunk.rows,
    )
    explanations = explain_many(rule, group.book.with_pending(facts), group.now)
    for visit in group.visits:
        explanation = explanations.get(visit.contact_id)
        if explanation is None:
            continue  # the contact was erased meanwhile; its enrollment is gone with it
        if explanation.result:
            when = _became_true(group.now) if visit.waking else _true_on_arrival()
            group.leave(visit, "yes", StepOutcome.yes, _detail(when, explanation))
        elif not visit.waking:
            deadline = group.later(timeout)
            waits = _waits_until(config)
            group.park(visit, deadline, wait_key=deadline.isoformat(), detail=_detail(waits, None))
        elif group.now >= (deadline := _deadline(visit)):
            group.leave(visit, "no", StepOutcome.no, _detail(_still_false(config), explanation))
        else:
            visit.wake_at = deadline  # parked again, no step: its timeout is unchanged


def _deadline(visit: Visit) -> datetime:
    try:
        deadline = datetime.fromisoformat(visit.wait_key or "")
    except ValueError:
        return visit.wake_at or datetime.min
    if visit.wake_at is not None and visit.wake_at.tzinfo is None:
        deadline = deadline.replace(tzinfo=None)
    return deadline


def _detail(words: tuple[str, Any], explanation: Explanation | None) -> dict[str, Any]:
    text, phrase = words
    detail: dict[str, Any] = {"text": text, "say": phrase.dump()}
    if explanation is not None:
        detail["result"] = explanation.result
        detail["children"] = [explanation.model_dump(mode="json")]
    return detail


def _true_on_arrival() -> tuple[str, Any]:
    return "true on arrival → yes", say("true on arrival → yes")


def _became_true(now: datetime) -> tuple[str, Any]:
    return (
        f"became true on {now:%d %b %H:%M} → yes",
        say("became true on %(when)s → yes", when=Moment(now, "day")),
    )


def _waits_until(config: WaitForConditionConfig) -> tuple[str, Any]:
    assert config.condition is not None
    assert config.timeout_seconds is not None
    return (
        f"waits until {describe_condition(config.condition)}, "
        f"at most {format_duration(config.timeout_seconds)}",
        say(
            "waits until %(condition)s, at most %(duration)s",
            condition=condition_phrase(config.condition),
            duration=duration_words(config.timeout_seconds),
        ),
    )


def _still_false(config: WaitForConditionConfig) -> tuple[str, Any]:
    assert config.timeout_seconds is not None
    return (
        f"still false after {format_duration(config.timeout_seconds)} → no",
        say(
            "still false after %(duration)s → no",
            duration=duration_words(config.timeout_seconds),
        ),
    )


def wake_condition_waits(
    session: Session, published: dict[int, Plan], events: list[Any], now: datetime
) -> int:
    """Waits for a condition whose contact has just had a change that condition may depend on
    become due now, to be evaluated again. One query for the batch, one bulk update; the
    others waiting, for this contact on other conditions or for other contacts, stay put."""
    listening = {v: plan for v, plan in published.items() if plan.waits_for_changes}
    names = {name for plan in listening.values() for name in plan.waits_for_changes}
    changes = [e for e in events if e.name in names]
    if not changes:
        return 0
    by_contact: dict[int, list[Any]] = defaultdict(list)
    for event in changes:
        by_contact[event.contact_id].append(event)
    waiting = session.execute(
        select(
            ENROLLMENTS.c.id, ENROLLMENTS.c.version_id, ENROLLMENTS.c.node_id,
            ENROLLMENTS.c.contact_id,
        ).where(
            among(session, ENROLLMENTS.c.contact_id, by_contact),
            among(session, ENROLLMENTS.c.version_id, listening),
            ENROLLMENTS.c.state == WAITING,
        )
    ).all()  # fmt: skip
    keys: dict[tuple[int, str], set[tuple[str, str | None]]] = {}
    woken = []
    for row in waiting:
        block = listening[row.version_id].blocks.get(row.node_id)
        condition = getattr(block.config, "condition", None) if block is not None else None
        if block is None or block.kind != "wait_for_condition" or condition is None:
            continue
        wanted = keys.get((row.version_id, row.node_id))
        if wanted is None:
            wanted = keys[(row.version_id, row.node_id)] = wakes_on(condition)
        if any(wakes(wanted, e.name, e.properties) for e in by_contact[row.contact_id]):
            woken.append({"b_id": row.id, "b_version": row.version_id, "b_node": row.node_id})
    if woken:
        # Guarded by where it waits, not by seq: a wait parked again by a run that read the
        # contact before this change must still wake (a re-park keeps its seq anyway).
        session.execute(
            update(ENROLLMENTS)
            .where(
                ENROLLMENTS.c.id == bindparam("b_id"),
                ENROLLMENTS.c.version_id == bindparam("b_version"),
                ENROLLMENTS.c.node_id == bindparam("b_node"),
                ENROLLMENTS.c.state == WAITING,
            )
            .values(wake_at=now),
            woken,
        )
    return len(woken)
