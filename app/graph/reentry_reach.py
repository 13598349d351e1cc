"""When "Only once" leaves one side of a condition empty in practice.

A contact who may enter only once enters on the first trigger event the scenario sees for
them — for a new customer, their first purchase — and never comes back for the next one. A
condition right after that trigger (no wait in between) which counts the trigger's own event
then sees it happen once: "purchase happened at least 2 times" is false for everyone but the
contacts who bought before the scenario started, so the YES output is never taken in
practice ("fewer than 2 times": the NO output). The linter says which output, and what to
change. Pure: it reads the document only.
"""

from __future__ import annotations

from collections.abc import Callable

from app.graph.block_base import BlockBase
from app.graph.conditions import AllCondition, Condition, EventCondition, describe_condition
from app.graph.document import Document
from app.graph.issues import Issue, IssueCode, about_block
from app.graph.wording import quote
from app.i18n.text import _

# Blocks that let time pass: after one of them, more events may have come in.
DELAYS = frozenset({"wait", "wait_until", "wait_for_event", "wait_for_condition"})


def only_once_issues(
    document: Document,
    successors: dict[str, list[str]],
    title_of: Callable[[str], str | None],
) -> list[Issue]:
    """A warning on each condition whose YES (or NO) output "Only once" leaves unused."""
    if document.settings.reentry != "once":
        return []
    blocks = document.blocks_by_id()
    # For each condition, the events of the triggers that reach it without a delay; None
    # when another kind of trigger, or a delay, reaches it too (then anything may be true).
    events_at: dict[str, set[str] | None] = {}
    for trigger in document.triggers():
        event = getattr(trigger.config, "event", None) if trigger.kind == "event" else None
        for block_id, delayed in _reached(trigger.id, successors, blocks):
            if blocks[block_id].kind != "if":
                continue
            if event is None or delayed:
                events_at[block_id] = None
            elif (found := events_at.setdefault(block_id, set())) is not None:
                found.add(event)
    issues = []
    for block_id, events in events_at.items():
        if not events or len(events) != 1:
            continue
        (event,) = events
        condition = getattr(blocks[block_id].config, "condition", None)
        port = _port_never_taken(condition, event)
        if port is None or condition is None:
            continue
        message = about_block(block_id, _explain(port, event, condition), title_of(block_id))
        issues.append(
            Issue(
                node=block_id,
                code=IssueCode.branch_never_taken,
                message=message,
                severity="warning",
                field="settings.reentry",
            )
        )
    return issues


def _reached(
    start: str, successors: dict[str, list[str]], blocks: dict[str, BlockBase]
) -> list[tuple[str, bool]]:
    """Every block after ``start``, with whether a delay lies on the way (either way, if
    both: the delayed visit is kept, which is the one that may see more events)."""
    seen: dict[str, bool] = {}
    todo = [(target, False) for target in successors.get(start, [])]
    while todo:
        block_id, delayed = todo.pop()
        if block_id not in blocks or seen.get(block_id) in (delayed, True):
            continue
        seen[block_id] = delayed or seen.get(block_id, False)
        after = delayed or blocks[block_id].kind in DELAYS
        todo += [(target, after) for target in successors.get(block_id, [])]
    return list(seen.items())


def _port_never_taken(condition: Condition | None, event: str) -> str | None:
    """ "yes" or "no" when counting ``event`` (seen once on entry) decides it, else None."""
    tests = condition.conditions if isinstance(condition, AllCondition) else [condition]
    for test in tests:
        if not isinstance(test, EventCondition) or test.event != event or test.where is not None:
            continue
        if test.op == "count_gte" and (test.value or 0) >= 2:
            return "yes"
        if test.op == "count_lt" and (test.value or 0) >= 2 and len(tests) == 1:
            return "no"
    return None


def _explain(port: str, event: str, condition: Condition) -> str:
    words = {
        "event": quote(event),
        "condition": quote(describe_condition(condition)),
        "setting": quote(_("Every time it is triggered")),
        "reentry": quote(_("Only once")),
    }
    if port == "yes":
        text = _(
            "with %(reentry)s, contacts enter at one %(event)s and never come back for the "
            "next, so here %(event)s has happened once for a new contact: %(condition)s is "
            "false and they all take NO. The YES output is only reached by contacts who did "
            "%(event)s before the scenario started. To count repeat %(event)s events, choose "
            "%(setting)s in the scenario settings."
        )
    else:
        text = _(
            "with %(reentry)s, contacts enter at one %(event)s and never come back for the "
            "next, so here %(event)s has happened once for a new contact: %(condition)s is "
            "true and they all take YES. The NO output is only reached by contacts who did "
            "%(event)s before the scenario started. To count repeat %(event)s events, choose "
            "%(setting)s in the scenario settings."
        )
    return text % words
