"""“Send everyone to B from now on”: the draft's split gives its winner 100 % and the other
branches 0 %, and the marketer publishes that through the publish plan as any change.

Only the draft changes here: the running version keeps splitting until the new one is
published, and a branch at 0 % keeps its port and links, so journeys already on the other
branches carry on and the version's statistics still read the same way.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from sqlmodel import Session

from app.i18n import _
from app.models import Scenario
from app.services.errors import Conflict, Invalid
from app.services.scenarios.scenarios import editable_scenario, save_draft


def send_everyone_to(
    session: Session, scenario_id: int, node_id: str, port: str, *, now: datetime
) -> Scenario:
    """Saves the draft with ``port`` taking every journey at split ``node_id``."""
    scenario = editable_scenario(session, scenario_id)
    graph: dict[str, Any] = copy.deepcopy(scenario.draft or {})
    found = graph.get("nodes")
    nodes: list[Any] = found if isinstance(found, list) else []
    split = next(
        (
            node
            for node in nodes
            if isinstance(node, dict)
            and node.get("id") == node_id
            and (node.get("type"), node.get("kind")) == ("condition", "random_split")
        ),
        None,
    )
    if split is None:
        raise Conflict(
            _("The draft has no random split “%(block)s” any more: nothing was changed.")
            % {"block": node_id}
        )
    saved = split.get("config")
    config: dict[str, Any] = saved if isinstance(saved, dict) else {}
    branches = [b for b in config.get("branches") or [] if isinstance(b, dict)]
    if port not in {b.get("port") for b in branches}:
        raise Invalid(
            _("The split has no branch “%(branch)s”: nothing was changed.") % {"branch": port}
        )
    for branch in branches:
        branch["percent"] = 100 if branch.get("port") == port else 0
    split["config"] = {**config, "branches": branches}
    return save_draft(session, scenario_id, graph, revision=scenario.draft_revision, now=now)
