"""The links out of a switch carry no count: its counters say how many left the block, not
down which case, and every link showing all of them would be wrong."""

from __future__ import annotations

from app.services.insights.live_counters import BlockCounters, edge_shares

GRAPH = {
    "nodes": [{"id": "route"}, {"id": "paris"}, {"id": "rest"}],
    "edges": [
        {"from": "route", "port": "c1", "to": "paris"},
        {"from": "route", "port": "else", "to": "rest"},
        {"from": "paris", "to": "rest"},
    ],
}


def test_a_case_link_has_no_number_and_a_plain_link_keeps_its_count() -> None:
    nodes = {
        "route": BlockCounters(entered=300, completed=300),
        "paris": BlockCounters(entered=120, completed=120),
    }

    shares = edge_shares(GRAPH, nodes)

    assert shares["route|c1|paris"].label == ""
    assert shares["route|else|rest"].label == ""
    assert shares["paris|out|rest"].label == "120"
