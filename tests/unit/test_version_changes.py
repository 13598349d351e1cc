"""The one-line summary of what a version changed from the one before (the History, issue 16):
blocks named as the canvas names them, several counted, moves not counted as changes."""

from __future__ import annotations

import copy
from itertools import pairwise
from typing import Any

from app.services.scenarios.versions import changes_between


def graph(*nodes: dict[str, Any], reentry: str = "once") -> dict[str, Any]:
    edges = [{"from": a["id"], "to": b["id"]} for a, b in pairwise(nodes)]
    return {"schema": 1, "nodes": list(nodes), "edges": edges, "settings": {"reentry": reentry}}


TRIGGER = {"id": "t", "type": "trigger", "kind": "event", "config": {"event": "signup"}}


def wait(node_id: str, days: int) -> dict[str, Any]:
    return {"id": node_id, "type": "delay", "kind": "wait", "config": {"seconds": days * 86400}}


def score(node_id: str, points: int) -> dict[str, Any]:
    return {"id": node_id, "type": "action", "kind": "add_score", "config": {"points": points}}


def test_the_first_version_has_nothing_to_compare_with() -> None:
    assert changes_between(None, graph(TRIGGER)).summary() == "First version"


def test_one_block_is_named_several_are_counted() -> None:
    before = graph(TRIGGER, wait("w", 3), score("a", 1))
    after = graph(TRIGGER, wait("w", 1), score("b", 2), score("c", 3))

    changes = changes_between(before, after)

    assert changes.summary() == (
        "2 blocks added, “Add 1 point to the score” removed, “Wait 3 days” changed"
    )


def test_a_changed_block_is_named_as_it_was() -> None:
    changes = changes_between(graph(TRIGGER, wait("w", 3)), graph(TRIGGER, wait("w", 5)))

    assert [block.name for block in changes.changed] == ["Wait 3 days"]


def test_moving_blocks_is_not_a_change() -> None:
    before = graph(TRIGGER, wait("w", 3))
    after = copy.deepcopy(before)
    after["nodes"][1]["x"] = 400

    assert changes_between(before, after).summary() == "Blocks moved on the canvas, nothing else"
    assert changes_between(before, before).summary() == "No change"


def test_settings_alone_start_the_line_with_a_capital() -> None:
    before = graph(TRIGGER, reentry="once")
    after = graph(TRIGGER, reentry="always")

    assert changes_between(before, after).summary() == "Scenario settings changed"


def test_a_long_name_is_cut_to_keep_one_line() -> None:
    long_event = {"id": "t", "type": "trigger", "kind": "event", "config": {"event": "e" * 90}}

    (added,) = changes_between(graph(wait("w", 1)), graph(wait("w", 1), long_event)).added

    assert len(added.name) == 60
    assert added.name.endswith("…")
