"""Every block kind of DESIGN §3: its settings, its ports and its one-line summary."""

from __future__ import annotations

from typing import Any

import pytest

from app.graph import BLOCK_CLASSES, check_draft, parse_document
from app.graph.blocks import BLOCK_ADAPTER
from tests.unit.graph.builders import DESIGN_KNOWN, design_example, node, scenario

# (type, kind, complete config, summary the canvas shows)
EVERY_KIND: list[tuple[str, str, dict[str, Any], str]] = [
    ("trigger", "event",
     {"event": "purchase", "where": {"attribute": "amount", "op": "gte", "value": 50},
      "key": "order_id"},
     "When purchase happens where amount ≥ 50"),
    ("trigger", "list_added", {"list": "newsletter"},
     "When a contact is added to list 'newsletter'"),
    ("trigger", "list_removed", {"list": "newsletter"}, "When a contact leaves list 'newsletter'"),
    ("trigger", "contact_created", {}, "When a contact is created"),
    ("trigger", "date_anniversary", {"attribute": "birthday", "offset_days": -7, "at": "09:00"},
     "Every year, 7 days before birthday at 09:00"),
    ("trigger", "attribute_changed", {"attribute": "plan", "to": "pro"},
     "When plan changes to 'pro'"),
    ("trigger", "score_reached", {"threshold": 50}, "When the score reaches 50"),
    ("trigger", "segment_entered", {"segment": "active"},
     "When a contact enters segment 'active'"),
    ("trigger", "manual", {}, "When enrolled by hand"),
    ("condition", "if", {"if": {"attribute": "orders_count", "op": "eq", "value": 1}},
     "If orders count = 1"),
    ("condition", "random_split",
     {"branches": [{"port": "a", "label": "A", "percent": 50},
                   {"port": "b", "label": "B", "percent": 50}]},
     "Split at random: A 50 % · B 50 %"),
    ("condition", "switch",
     {"cases": [{"port": "c1", "label": "Paris",
                 "if": {"attribute": "city", "op": "eq", "value": "Paris"}}]},
     "Route by: Paris · else"),
    ("delay", "wait", {"seconds": 172_800}, "Wait 2 days"),
    ("delay", "wait_until", {"at": "09:00", "weekdays": ["mon", "fri"]},
     "Wait until 09:00 on Mon, Fri"),
    ("delay", "wait_for_event",
     {"event": "purchase", "timeout_seconds": 259_200, "match_key": "cart_id"},
     "Wait up to 3 days for purchase with the same cart_id"),
    ("delay", "wait_for_condition",
     {"if": {"attribute": "plan", "op": "eq", "value": "paid"}, "timeout_seconds": 1_209_600},
     "Wait until plan = 'paid', at most 2 weeks"),
    ("action", "send_email", {"message": "welcome"}, "Send email 'welcome'"),
    ("action", "send_sms", {"message": "promo-sms"}, "Send SMS 'promo-sms'"),
    ("action", "add_to_list", {"list": "vip"}, "Add to list 'vip'"),
    ("action", "remove_from_list", {"list": "vip"}, "Remove from list 'vip'"),
    ("action", "update_attribute", {"attribute": "plan", "value": "pro"}, "Set plan to 'pro'"),
    ("action", "add_score", {"points": 10}, "Add 10 points to the score"),
    ("action", "notify_team", {"to": "sales@example.com", "message": "Hot lead!"},
     "Notify 'sales@example.com'"),
    ("action", "webhook", {"url": "https://example.com/hook", "method": "PUT", "body": "{}"},
     "Call PUT 'https://example.com/hook'"),
    ("action", "exit", {}, "Exit the scenario"),
]  # fmt: skip


def test_the_table_covers_every_block_kind() -> None:
    assert {(block_type, kind) for block_type, kind, _, _ in EVERY_KIND} == set(BLOCK_CLASSES)


@pytest.mark.parametrize(("block_type", "kind", "config", "summary"), EVERY_KIND)
def test_each_kind_parses_into_its_own_model_with_no_problem(
    block_type: str, kind: str, config: dict[str, Any], summary: str
) -> None:
    block = BLOCK_ADAPTER.validate_python(node("b", block_type, kind, **config))

    assert type(block) is BLOCK_CLASSES[(block_type, kind)]
    assert block.config.problems() == []
    assert block.summary() == summary


@pytest.mark.parametrize(("block_type", "kind", "config", "summary"), EVERY_KIND)
def test_each_kind_dumps_to_json_that_reads_back_the_same(
    block_type: str, kind: str, config: dict[str, Any], summary: str
) -> None:
    block = BLOCK_ADAPTER.validate_python(node("b", block_type, kind, **config))

    assert BLOCK_ADAPTER.validate_python(BLOCK_ADAPTER.dump_python(block, mode="json")) == block


def test_the_design_example_reads_and_validates_without_a_single_issue() -> None:
    document, issues = check_draft(design_example(), DESIGN_KNOWN)

    assert issues == []
    assert document is not None
    assert [block.summary() for block in document.nodes] == [
        "When purchase happens",
        "If orders count = 1",
        "Send email 'coupon-20'",
        "Add to list 'loyal-customers'",
    ]
    assert document.edges[0].port == "out"  # an edge without a port leaves "out"


@pytest.mark.parametrize(
    ("block_type", "kind", "ports"),
    [
        ("condition", "if", ("yes", "no")),
        ("delay", "wait_for_event", ("yes", "no")),
        ("delay", "wait_for_condition", ("yes", "no")),
        ("action", "exit", ()),
        ("delay", "wait", ("out",)),
        ("trigger", "event", ("out",)),
        ("action", "send_email", ("out",)),
    ],
)
def test_ports(block_type: str, kind: str, ports: tuple[str, ...]) -> None:
    assert ports == BLOCK_CLASSES[(block_type, kind)].PORTS


def test_only_triggers_have_no_input() -> None:
    document, _ = parse_document(
        scenario([node(f"b{i}", t, k) for i, (t, k) in enumerate(BLOCK_CLASSES)], [])
    )
    assert document is not None
    assert {block.kind for block in document.nodes if not block.takes_input} == {
        kind for block_type, kind in BLOCK_CLASSES if block_type == "trigger"
    }


@pytest.mark.parametrize(
    ("block_type", "kind", "config", "summary"),
    [
        ("action", "send_email", {}, "Send email (no email chosen)"),
        ("delay", "wait", {}, "Wait (no duration set)"),
        ("condition", "if", {}, "If … (no condition set)"),
        ("trigger", "event", {}, "When an event happens (no event chosen)"),
        ("delay", "wait", {"seconds": 5_400}, "Wait 1 hour 30 minutes"),
        ("delay", "wait", {"seconds": 1_209_600}, "Wait 2 weeks"),
        ("delay", "wait", {"seconds": 90_061}, "Wait 1 day 1 hour 1 minute 1 second"),
        ("action", "update_attribute", {"attribute": "orders_count", "increment": -2},
         "Subtract 2 from orders count"),
        ("action", "update_attribute", {"attribute": "orders_count", "increment": 1},
         "Add 1 to orders count"),
        ("action", "add_score", {"points": -5}, "Remove 5 points from the score"),
        ("action", "add_score", {"points": 1}, "Add 1 point to the score"),
        ("trigger", "date_anniversary", {"attribute": "birthday", "at": "10:30"},
         "Every year, on birthday at 10:30"),
        ("trigger", "date_anniversary", {"attribute": "created_at", "offset_days": 1},
         "Every year, 1 day after created at"),
        ("trigger", "attribute_changed", {"attribute": "plan"}, "When plan changes"),
        ("condition", "if",
         {"if": {"any": [{"list": "vip", "op": "member"},
                         {"all": [{"consent": "sms", "op": "granted"},
                                  {"attribute": "country", "op": "in", "value": ["FR", "BE"]}]}]}},
         "If in list 'vip' or (sms consent granted and country is one of 'FR' or 'BE')"),
    ],
)  # fmt: skip
def test_summaries_read_as_plain_words(
    block_type: str, kind: str, config: dict[str, Any], summary: str
) -> None:
    assert BLOCK_ADAPTER.validate_python(node("b", block_type, kind, **config)).summary() == summary
