"""Triggers (the contact has just entered) and the yes/no condition."""

from __future__ import annotations

from typing import Any

from app.graph import KINDS_BY_TYPE, explain_many
from app.models import StepOutcome
from app.services.contacts.facts import load_facts
from worker.engine.steps.group import Group
from worker.engine.steps.registry import executes

TRIGGER_KINDS = tuple(KINDS_BY_TYPE["trigger"])


@executes("trigger", *TRIGGER_KINDS)
def trigger(group: Group) -> None:
    for visit in group.visits:
        group.leave(visit, "out")


@executes("condition", "if")
def condition(group: Group) -> None:
    """Evaluated for the whole group at once, on the contacts as this chunk's earlier steps
    left them; each answer keeps its explanation in the trace ("orders count was 0, needs = 1
    → no")."""
    rule = group.config.condition
    facts = load_facts(
        group.session,
        [v.contact_id for v in group.visits],
        [rule],
        group.now,
        contacts=group.chunk.rows,
    )
    explanations = explain_many(rule, group.book.with_pending(facts), group.now)
    details: dict[int, dict[str, Any]] = {}  # contacts with the same explanation share its row
    for visit in group.visits:
        explanation = explanations.get(visit.contact_id)
        if explanation is None:
            continue  # the contact was erased meanwhile; its enrollment is gone with it
        answer, port = (StepOutcome.yes, "yes") if explanation.result else (StepOutcome.no, "no")
        detail = details.get(id(explanation))
        if detail is None:
            detail = details[id(explanation)] = explanation.model_dump(mode="json")
        group.leave(visit, port, answer, detail)
