"""What each kind of block does, for a whole group of contacts at once.

``EXECUTORS[(type, kind)]`` is the one place to look up a block's execution; its schema is
``app.graph.blocks.BLOCK_CLASSES[(type, kind)]``. A step function receives a :class:`Group`
(the contacts that reached the block in this round) and, for each visit, calls ``leave``,
``park`` or ``end``. Raising fails the whole group's step, which is retried with backoff.
"""

from __future__ import annotations

from collections.abc import Callable

from worker.engine.steps import actions, delays, flow
from worker.engine.steps.group import Group, StepError

Executor = Callable[[Group], None]

EXECUTORS: dict[tuple[str, str], Executor] = {
    **{("trigger", kind): flow.trigger for kind in flow.TRIGGER_KINDS},
    ("condition", "if"): flow.condition,
    ("delay", "wait"): delays.wait,
    ("delay", "wait_until"): delays.wait_until,
    ("delay", "wait_for_event"): delays.wait_for_event,
    ("action", "send_email"): actions.send_message,
    ("action", "send_sms"): actions.send_message,
    ("action", "add_to_list"): actions.add_to_list,
    ("action", "remove_from_list"): actions.remove_from_list,
    ("action", "update_attribute"): actions.update_attribute,
    ("action", "add_score"): actions.add_score,
    ("action", "notify_team"): actions.notify_team,
    ("action", "webhook"): actions.webhook,
    ("action", "exit"): actions.exit_journey,
}

__all__ = ["EXECUTORS", "Executor", "Group", "StepError"]
