"""The compiled plan: what the worker runs, stored as JSON with each published version."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from app.graph import (
    CompileError,
    IssueCode,
    KnownRefs,
    Plan,
    compile_document,
    parse_document,
)
from app.graph.document import Document
from tests.unit.graph.builders import (
    DESIGN_KNOWN,
    after_trigger,
    design_example,
    link,
    node,
    scenario,
)


def compiled(raw: dict[str, Any], **kwargs: Any) -> Plan:
    document, issues = parse_document(raw)
    assert document is not None, issues
    return compile_document(document, **kwargs)


def test_the_design_example_compiles_to_a_plan() -> None:
    plan = compiled(design_example(), known=DESIGN_KNOWN)

    assert list(plan.blocks) == ["first", "loyal", "promo", "start"]
    assert plan.successors == {"first": {"no": "loyal", "yes": "promo"}, "start": {"out": "first"}}
    assert plan.successor("first", "yes") == "promo"
    assert plan.successor("promo") is None  # the journey completes after the email
    assert plan.triggers.events == {"purchase": ["start"]}
    assert plan.block("promo").summary() == "Send email 'coupon-20'"
    assert plan.settings.reentry == "once"


def test_a_plan_is_plain_json_and_reads_back_equal() -> None:
    plan = compiled(design_example())
    stored = json.loads(json.dumps(plan.model_dump(mode="json")))

    assert stored["schema"] == 1
    assert stored["blocks"]["first"]["config"] == {
        "if": {"attribute": "orders_count", "op": "eq", "value": 1}
    }
    assert Plan.model_validate(stored) == plan


def test_the_plan_ignores_the_order_and_position_of_blocks_on_the_canvas() -> None:
    raw = design_example()
    shuffled = design_example()
    random.Random(7).shuffle(shuffled["nodes"])
    random.Random(7).shuffle(shuffled["edges"])
    for block in shuffled["nodes"]:
        block["x"], block["y"] = block["y"] + 13, block["x"] - 5

    assert compiled(shuffled).model_dump(mode="json") == compiled(raw).model_dump(mode="json")


def test_triggers_are_indexed_by_what_fires_them() -> None:
    kinds: list[tuple[str, dict[str, Any]]] = [
        ("event", {"event": "purchase"}),
        ("event", {"event": "purchase", "where": {"attribute": "amount", "op": "gt", "value": 9}}),
        ("event", {"event": "signup"}),
        ("list_added", {"list": "newsletter"}),
        ("list_removed", {"list": "newsletter"}),
        ("contact_created", {}),
        ("date_anniversary", {"attribute": "birthday", "at": "09:00"}),
        ("attribute_changed", {"attribute": "plan"}),
        ("score_reached", {"threshold": 50}),
        ("segment_entered", {"segment": "active"}),
        ("manual", {}),
    ]
    triggers = [node(f"t{i}", "trigger", kind, **config) for i, (kind, config) in enumerate(kinds)]
    raw = scenario([*triggers, node("end", "action", "exit")], [])
    raw["edges"] = [link(block["id"], "end") for block in triggers]

    index = compiled(raw).triggers

    assert index.model_dump() == {
        "events": {"purchase": ["t0", "t1"], "signup": ["t2"]},
        "list_added": {"newsletter": ["t3"]},
        "list_removed": {"newsletter": ["t4"]},
        "contact_created": ["t5"],
        "date_anniversary": {"birthday": ["t6"]},
        "attribute_changed": {"plan": ["t7"]},
        "score_reached": ["t8"],
        "segment_entered": {"active": ["t9"]},
        "manual": ["t10"],
    }


def test_waits_for_events_are_indexed_by_the_event_that_resumes_them() -> None:
    wait = node("wait", "delay", "wait_for_event", event="purchase", timeout_seconds=86_400)
    raw = after_trigger(wait)
    raw["nodes"].append(node("nudge", "action", "send_email", message="reminder"))
    raw["edges"].append(link("wait", "nudge", "no"))

    plan = compiled(raw)

    assert plan.waits_for_events == {"purchase": ["wait"]}
    assert plan.successor("wait", "no") == "nudge"
    assert plan.successor("wait", "yes") is None


def test_a_document_with_errors_is_refused_with_all_its_issues() -> None:
    raw = after_trigger(node("w", "delay", "wait", seconds=0), node("m", "action", "send_email"))
    document, _ = parse_document(raw)
    assert document is not None

    with pytest.raises(CompileError) as refused:
        compile_document(document)

    assert [issue.code for issue in refused.value.issues] == [
        IssueCode.invalid_config,
        IssueCode.missing_config,
    ]
    assert "the scenario has 2 error(s)" in str(refused.value)


def test_references_are_checked_when_known_things_are_given() -> None:
    document, _ = parse_document(design_example())
    assert document is not None

    with pytest.raises(CompileError, match="there is no message template 'coupon-20'"):
        compile_document(document, known=KnownRefs(lists={"loyal-customers"}))


def test_warnings_do_not_stop_compilation() -> None:
    raw = design_example()
    raw["edges"] = raw["edges"][:2]
    raw["nodes"] = raw["nodes"][:3]  # the NO output is now unlinked: a warning

    assert compiled(raw).successors["first"] == {"yes": "promo"}


def test_settings_travel_with_the_plan() -> None:
    raw = after_trigger(
        node("m", "action", "send_email", message="welcome"),
        reentry="after_exit",
        cooldown_seconds=86_400,
        exit_when={"event": "purchase"},
    )

    settings = compiled(raw).settings

    assert settings.model_dump(mode="json") == {
        "reentry": "after_exit",
        "cooldown_seconds": 86_400,
        "exit_when": {"event": "purchase"},
        "quiet_hours": "follow",
    }


def test_an_empty_document_is_not_compilable() -> None:
    with pytest.raises(CompileError, match="no trigger"):
        compile_document(Document())
