"""The random split: each journey of the group draws its branch, in one pass, no query."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from app.graph.split_blocks import RandomSplitConfig, draw
from app.i18n import say
from app.models import StepOutcome
from worker.engine.steps.group import Group
from worker.engine.steps.registry import executes
from worker.engine.visit import Visit

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def journey_key(visit: Visit) -> str:
    """What names a journey the same way in a chunk run again and in the simulation: its
    contact and the moment its journey began (when its triggering event happened). Row ids
    would not do: the simulation's overlay numbers its journeys, and may number the replayed
    events, on its own."""
    at = visit.trigger_at
    if at is None:  # never for a journey the engine let in; kept stable all the same
        return f"{visit.contact_id}:n{visit.id}"
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    return f"{visit.contact_id}:{(at - EPOCH) // _MICROSECOND}"


def split_detail(config: RandomSplitConfig, number: int) -> tuple[str, dict[str, Any]]:
    """The branch a draw leads to, and the step's explanation ("drew 37 of 100 → branch B
    (50-100)") stored as a phrase with its facts."""
    found = config.branch_for(number)
    if found is None:  # shares short of 100 never pass activation; the last branch takes it
        branch, low, high = config.ranges()[-1]
    else:
        branch, low, high = found
    phrase = say(
        "drew %(draw)s of 100 → branch %(branch)s (%(low)s–%(high)s)",  # noqa: RUF001
        draw=number,
        branch=branch.shown,
        low=low,
        high=high,
    )
    text = f"drew {number} of 100 → branch {branch.shown} ({low}–{high})"  # noqa: RUF001
    return branch.port, {
        "text": text,
        "say": phrase.dump(),
        "split": {"draw": number, "port": branch.port},
    }


@executes("condition", "random_split")
def random_split(group: Group) -> None:
    config: RandomSplitConfig = group.config
    block_id = group.block.id
    # At most 100 different draws: journeys with the same draw share one detail.
    details: dict[int, tuple[str, dict[str, Any]]] = {}
    for visit in group.visits:
        number = draw(journey_key(visit), block_id)
        chosen = details.get(number)
        if chosen is None:
            chosen = details[number] = split_detail(config, number)
        group.leave(visit, chosen[0], StepOutcome.completed, chosen[1])
