"""The switch: its cases tested in order for the whole group, each on those no earlier case
took, so a chunk costs one facts load and a handful of evaluations per case."""

from __future__ import annotations

from typing import Any

from app.graph import explain_many
from app.graph.evaluate import ContactFacts, Explanation
from app.graph.switch_blocks import SwitchConfig, switch_detail
from app.models import StepOutcome
from app.services.contacts.facts import load_facts
from worker.engine.steps.group import Group
from worker.engine.steps.registry import executes


@executes("condition", "switch")
def switch(group: Group) -> None:
    config: SwitchConfig = group.config
    rules = [case.condition for case in config.cases if case.condition is not None]
    facts = load_facts(
        group.session,
        [v.contact_id for v in group.visits],
        rules,
        group.now,
        contacts=group.chunk.rows,
    )
    undecided: dict[int, ContactFacts] = group.book.with_pending(facts)
    tested: dict[int, list[tuple[int, Explanation]]] = {key: [] for key in undecided}
    for index, case in enumerate(config.cases):
        if case.condition is None or not undecided:
            continue  # a case without a condition never passes activation
        for contact_id, explanation in explain_many(case.condition, undecided, group.now).items():
            tested[contact_id].append((index, explanation))
            if explanation.result:
                del undecided[contact_id]
    # Contacts who saw the same verdicts share one detail (explanations are shared likewise).
    details: dict[tuple[int, ...], tuple[str, dict[str, Any]]] = {}
    for visit in group.visits:
        verdicts = tested.get(visit.contact_id)
        if verdicts is None:
            continue  # the contact was erased meanwhile; its enrollment is gone with it
        key = tuple(id(explanation) for _index, explanation in verdicts)
        chosen = details.get(key)
        if chosen is None:
            chosen = details[key] = switch_detail(config, verdicts)
        group.leave(visit, chosen[0], StepOutcome.completed, chosen[1])
