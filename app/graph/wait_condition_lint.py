"""The linter's warnings about a "Wait for a condition" (see ``lint.py``).

- Its condition can never be true: every contact waits out the time limit and takes NO.
- It is always true: every contact takes YES at once, so it waits for nothing.
- It is the scenario's goal (a condition goal): the goal is checked before the wait each time
  the contact is looked at again, so a contact whose condition comes true leaves by the goal
  and never takes YES — whatever follows YES, other than an exit, never runs.
"""

from __future__ import annotations

from collections.abc import Callable

from app.graph.condition_sense import sense_of, sense_warning
from app.graph.document import Document, ExitOnEvent
from app.graph.issues import Issue, IssueCode, about_block
from app.i18n.text import _

KIND = "wait_for_condition"


def wait_condition_issues(document: Document, title_of: Callable[[str], str | None]) -> list[Issue]:
    issues: list[Issue] = []
    goal = document.settings.exit_when
    blocks = document.blocks_by_id()
    for block in document.nodes:
        condition = getattr(block.config, "condition", None) if block.kind == KIND else None
        if condition is None:
            continue
        sense = sense_of(condition)
        if sense is not None:
            never = _(
                "this condition is never true (%(reason)s), so every contact waits until "
                "the time limit and takes NO; change it so that it can come true"
            )
            always = _(
                "this condition is always true (%(reason)s), so every contact takes YES "
                "at once and nobody waits; change it, or use another block"
            )
            issues.append(sense_warning(block.id, sense, never, always, title_of(block.id)))
        if goal is None or isinstance(goal, ExitOnEvent):
            continue
        if goal.model_dump(by_alias=True) != condition.model_dump(by_alias=True):
            continue
        after_yes = [
            blocks[edge.target]
            for edge in document.edges
            if edge.source == block.id and edge.port == "yes" and edge.target in blocks
        ]
        if not after_yes or all(target.kind == "exit" for target in after_yes):
            continue  # The goal ends the journey where YES would have: nothing is lost.
        problem = _(
            "no contact ever leaves this wait by YES: its condition is also the scenario's goal, "
            "which takes contacts out of the scenario as soon as it is true, so the blocks after "
            "YES never run; wait for another condition, or change the goal"
        )
        message = about_block(block.id, problem, title_of(block.id))
        issues.append(_warning(block.id, IssueCode.wait_never_left, message, "config.if"))
    return issues


def _warning(node: str, code: IssueCode, message: str, field: str) -> Issue:
    return Issue(node=node, code=code, message=message, severity="warning", field=field)
