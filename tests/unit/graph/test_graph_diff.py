"""What changed between two versions: blocks added, removed, changed (settings or wiring) and
kept; moving a block on the canvas is no change."""

from __future__ import annotations

import copy
from typing import Any

from app.graph.diff import diff_graphs

LIVE: dict[str, Any] = {
    "schema": 1,
    "nodes": [
        {"id": "t", "type": "trigger", "kind": "event", "config": {"event": "signup"}, "x": 0},
        {"id": "w", "type": "delay", "kind": "wait", "config": {"seconds": 259200}},
        {"id": "m", "type": "action", "kind": "send_email", "config": {"message": "welcome"}},
    ],
    "edges": [{"from": "t", "to": "w"}, {"from": "w", "to": "m"}],
    "settings": {"reentry": "once"},
}


def test_the_same_graph_moved_on_the_canvas_changes_nothing() -> None:
    moved = copy.deepcopy(LIVE)
    moved["nodes"][1]["x"], moved["nodes"][1]["y"] = 400, 120
    diff = diff_graphs(LIVE, moved)
    assert diff.is_empty
    assert diff.kept == ["t", "w", "m"]


def test_a_block_with_new_settings_is_changed_and_a_new_block_added() -> None:
    draft = copy.deepcopy(LIVE)
    draft["nodes"][1]["config"]["seconds"] = 86400
    draft["nodes"].append(
        {"id": "s", "type": "action", "kind": "send_sms", "config": {"message": "hi"}}
    )
    draft["edges"].append({"from": "m", "to": "s"})
    diff = diff_graphs(LIVE, draft)
    assert (diff.added, diff.removed) == (["s"], [])
    # m is changed too: its port now leads somewhere.
    assert diff.changed == ["w", "m"]
    assert diff.kept == ["t"]


def test_a_deleted_block_is_removed_and_whoever_led_to_it_changed() -> None:
    draft = copy.deepcopy(LIVE)
    draft["nodes"] = draft["nodes"][:2]
    draft["edges"] = draft["edges"][:1]
    diff = diff_graphs(LIVE, draft)
    assert (diff.added, diff.removed, diff.changed, diff.kept) == ([], ["m"], ["w"], ["t"])


def test_new_reentry_rules_are_a_change_of_settings() -> None:
    draft = copy.deepcopy(LIVE)
    draft["settings"] = {"reentry": "always"}
    diff = diff_graphs(LIVE, draft)
    assert diff.settings_changed
    assert not diff.is_empty
    assert diff.changed == []


def test_a_broken_stored_graph_compares_without_raising() -> None:
    diff = diff_graphs({"nodes": [{"no": "id"}, "junk"], "edges": None}, LIVE)
    assert diff.added == ["t", "w", "m"]
