"""Triggers (the contact has just entered) and the yes/no condition."""

from __future__ import annotations

from app.graph import KINDS_BY_TYPE
from app.models import StepOutcome
from app.services.contact_facts import explain_chunk
from worker.engine.steps.group import Group

TRIGGER_KINDS = tuple(KINDS_BY_TYPE["trigger"])


def trigger(group: Group) -> None:
    for visit in group.visits:
        group.leave(visit, "out")


def condition(group: Group) -> None:
    """Evaluated for the whole group from facts loaded in three queries; each answer keeps its
    explanation in the trace ("orders count was 0, needs = 1 → no")."""
    explanations = explain_chunk(
        group.session, group.config.condition, [v.contact_id for v in group.visits], group.now
    )
    for visit in group.visits:
        explanation = explanations.get(visit.contact_id)
        if explanation is None:
            continue  # the contact was erased meanwhile; its enrollment is gone with it
        answer = StepOutcome.yes if explanation.result else StepOutcome.no
        group.leave(visit, answer.value, answer, explanation.model_dump(mode="json"))
