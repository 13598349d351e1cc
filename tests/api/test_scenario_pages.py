"""The scenario pages and the calls the canvas makes, through HTTP with a real session."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from sqlmodel import Session, select

from app.graph import BLOCK_CLASSES
from app.models import ContactList, MessageTemplate, Scenario, ScenarioVersion
from tests.fixtures.web import Browser

LOYAL: dict[str, Any] = {
    "schema": 1,
    "nodes": [
        {"id": "start", "type": "trigger", "kind": "event", "config": {"event": "purchase"}},
        {
            "id": "first",
            "type": "condition",
            "kind": "if",
            "config": {"if": {"attribute": "orders_count", "op": "eq", "value": 1}},
        },
        {"id": "promo", "type": "action", "kind": "send_email", "config": {}},
        {"id": "loyal", "type": "action", "kind": "add_to_list", "config": {"list": "loyal"}},
    ],
    "edges": [
        {"from": "start", "to": "first"},
        {"from": "first", "port": "yes", "to": "promo"},
        {"from": "first", "port": "no", "to": "loyal"},
    ],
    "settings": {},
}


def new_scenario(logged_in: Browser, session: Session, name: str = "Loyalty") -> Scenario:
    response = logged_in.post("/scenarios", {"name": name})
    assert response.status_code == 303
    scenario_id = int(response.headers["location"].rsplit("/", 1)[1])
    scenario = session.get(Scenario, scenario_id)
    assert scenario is not None
    return scenario


def save(logged_in: Browser, scenario_id: int, graph: object, revision: int, **headers: str):  # type: ignore[no-untyped-def]
    return logged_in.client.put(
        f"/scenarios/{scenario_id}/draft",
        json={"graph": graph, "revision": revision},
        headers={"X-CSRF-Token": logged_in.csrf, **headers},
    )


def post_json(logged_in: Browser, url: str, body: object):  # type: ignore[no-untyped-def]
    return logged_in.client.post(url, json=body, headers={"X-CSRF-Token": logged_in.csrf})


@pytest.fixture
def refs(session: Session) -> None:
    session.add(MessageTemplate(key="coupon-20", name="Coupon 20%", subject="20% off"))
    session.add(ContactList(key="loyal", name="Loyal customers"))
    session.commit()


# --- the list and new scenarios ----------------------------------------------------------------


def test_a_new_blank_scenario_opens_on_an_empty_canvas(
    logged_in: Browser, session: Session
) -> None:
    scenario = new_scenario(logged_in, session, "Loyal customers")

    page = logged_in.client.get(f"/scenarios/{scenario.id}")

    assert page.status_code == 200
    settings = {"reentry": "once", "exit_when": None}  # the new-scenario form's answer
    assert scenario.draft == {"schema": 1, "nodes": [], "edges": [], "settings": settings}
    for hook in ["canvas", "panel", "save", "activate", "pause", "issues"]:
        assert f'data-testid="{hook}"' in page.text, hook
    assert "Start with a trigger" in page.text
    listed = logged_in.client.get("/scenarios").text
    assert f'href="/scenarios/{scenario.id}"' in listed
    assert "Loyal customers" in listed


def test_the_palette_offers_every_block_kind_in_plain_words(
    logged_in: Browser, session: Session
) -> None:
    page = logged_in.client.get(f"/scenarios/{new_scenario(logged_in, session).id}").text

    for block_type, kind in BLOCK_CLASSES:
        assert f'data-testid="palette-{block_type}-{kind}"' in page, (block_type, kind)
        assert f'data-node-template="{block_type}-{kind}"' in page, (block_type, kind)
    for name in ["When someone buys", "If / else", "Wait", "Send an email", "Add to a list"]:
        assert f'<span class="palette-name">{name}</span>' in page, name


def test_a_scenario_from_a_template_opens_with_its_blocks_and_summaries(logged_in: Browser) -> None:
    response = logged_in.post("/scenarios", {"template": "welcome"})
    page = logged_in.client.get(response.headers["location"]).text

    assert response.status_code == 303
    for node in ["joined", "hello", "three_days", "bought", "coupon", "already_customer"]:
        assert f'data-testid="node-{node}"' in page, node
    assert 'data-testid="port-bought-yes"' in page
    assert 'data-testid="port-bought-no"' in page
    assert 'data-testid="port-hello-in"' in page
    assert 'data-testid="port-joined-in"' not in page, "a trigger has no input"
    assert ">Wait 3 days</p>" in page
    boot = re.search(r'<script type="application/json" id="canvas-data">(.*?)</script>', page, re.S)
    assert boot
    assert json.loads(boot.group(1))["summaries"]["three_days"] == "Wait 3 days"


def test_an_unknown_template_is_refused_and_creates_nothing(
    logged_in: Browser, session: Session
) -> None:
    response = logged_in.post("/scenarios", {"template": "nope"})

    assert response.status_code == 422
    assert "There is no template" in response.text
    assert session.exec(select(Scenario)).all() == []


def test_a_missing_scenario_is_a_404(logged_in: Browser) -> None:
    assert logged_in.client.get("/scenarios/999999").status_code == 404


def test_the_pages_need_a_login(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/scenarios/1").status_code == 303
    assert client.get("/scenarios").headers["location"].startswith("/login")


# --- saving the draft -------------------------------------------------------------------------


def test_a_save_with_the_current_revision_stores_the_graph_and_answers_issues_and_summaries(
    logged_in: Browser, session: Session, refs: None
) -> None:
    scenario = new_scenario(logged_in, session)

    response = save(logged_in, scenario.id, LOYAL, 1)  # type: ignore[arg-type]

    assert response.status_code == 200
    body = response.json()
    assert body["revision"] == 2
    assert body["summaries"]["first"] == "If orders count = 1"
    assert [(i["node"], i["field"]) for i in body["issues"]] == [("promo", "config.message")]
    session.refresh(scenario)
    assert scenario.draft == LOYAL
    assert scenario.draft_revision == 2


def test_a_stale_revision_is_refused_with_the_reload_message_and_overwrites_nothing(
    logged_in: Browser, session: Session
) -> None:
    scenario = new_scenario(logged_in, session)
    assert save(logged_in, scenario.id, LOYAL, 1).status_code == 200  # type: ignore[arg-type]

    stale = save(logged_in, scenario.id, {"schema": 1, "nodes": [], "edges": []}, 1)  # type: ignore[arg-type]

    assert stale.status_code == 409
    assert "changed elsewhere — reload" in stale.json()["detail"]
    session.refresh(scenario)
    assert scenario.draft == LOYAL
    assert scenario.draft_revision == 2


def test_a_save_without_the_csrf_token_is_refused(logged_in: Browser, session: Session) -> None:
    scenario = new_scenario(logged_in, session)

    response = logged_in.client.put(
        f"/scenarios/{scenario.id}/draft", json={"graph": LOYAL, "revision": 1}
    )

    assert response.status_code == 403
    session.refresh(scenario)
    assert scenario.draft_revision == 1


@pytest.mark.parametrize(
    "body",
    [{"graph": LOYAL}, {"graph": [1, 2], "revision": 1}, {"graph": LOYAL, "revision": "one"}],
)
def test_a_malformed_save_is_refused_and_writes_nothing(
    logged_in: Browser, session: Session, body: dict[str, Any]
) -> None:
    scenario = new_scenario(logged_in, session)

    response = logged_in.client.put(
        f"/scenarios/{scenario.id}/draft", json=body, headers={"X-CSRF-Token": logged_in.csrf}
    )

    assert response.status_code == 422
    session.refresh(scenario)
    assert scenario.draft_revision == 1


def test_saving_a_missing_scenario_is_a_404(logged_in: Browser) -> None:
    response = save(logged_in, 999999, LOYAL, 1)

    assert response.status_code == 404
    assert response.json()["detail"] == "There is no scenario 999999."


# --- activation -----------------------------------------------------------------------------


def test_activation_is_refused_with_the_issues_then_accepted_once_fixed_and_pause_stops_it(
    logged_in: Browser, session: Session, refs: None
) -> None:
    scenario = new_scenario(logged_in, session)
    save(logged_in, scenario.id, LOYAL, 1)  # type: ignore[arg-type]

    refused = logged_in.client.post(
        f"/scenarios/{scenario.id}/activate", headers={"X-CSRF-Token": logged_in.csrf}
    )
    assert refused.status_code == 422
    detail = refused.json()["detail"]
    assert detail["message"].startswith("This scenario cannot be activated yet: 1 problem")
    assert [i["node"] for i in detail["issues"]] == ["promo"]
    session.refresh(scenario)
    assert scenario.status == "draft"
    assert session.exec(select(ScenarioVersion)).all() == []

    fixed = json.loads(json.dumps(LOYAL))
    fixed["nodes"][2]["config"] = {"message": "coupon-20"}
    save(logged_in, scenario.id, fixed, 2)  # type: ignore[arg-type]
    accepted = logged_in.client.post(
        f"/scenarios/{scenario.id}/activate", headers={"X-CSRF-Token": logged_in.csrf}
    )
    assert accepted.status_code == 200
    assert accepted.json() == {"status": "active", "version": 1, "warnings": []}

    paused = logged_in.client.post(
        f"/scenarios/{scenario.id}/pause", headers={"X-CSRF-Token": logged_in.csrf}
    )
    assert paused.json() == {"status": "paused"}
    again = logged_in.client.post(
        f"/scenarios/{scenario.id}/pause", headers={"X-CSRF-Token": logged_in.csrf}
    )
    assert again.status_code == 422
    assert again.json()["detail"] == "Only an active scenario can be paused."


# --- cards and panels -----------------------------------------------------------------------


def test_a_card_shows_the_block_summary_and_its_ports(logged_in: Browser) -> None:
    wait = post_json(
        logged_in,
        "/scenarios/blocks/card",
        {"id": "w", "type": "delay", "kind": "wait", "config": {"seconds": 172800}},
    )
    condition = post_json(
        logged_in, "/scenarios/blocks/card", {"id": "c", "type": "condition", "kind": "if"}
    )

    assert wait.status_code == 200
    assert ">Wait 2 days</p>" in wait.text
    assert 'data-testid="node-w"' in wait.text
    assert 'data-testid="port-w-out"' in wait.text
    assert '<div class="block-counters" data-node="w"></div>' in wait.text
    assert 'data-testid="port-c-yes"' in condition.text
    assert 'data-testid="port-c-no"' in condition.text
    assert "If … (no condition set)" in condition.text


def test_a_preset_card_is_titled_by_what_the_marketer_dragged(logged_in: Browser) -> None:
    card = post_json(
        logged_in,
        "/scenarios/blocks/card",
        {"id": "t", "type": "trigger", "kind": "event", "config": {"event": "purchase"}},
    )

    assert '<span class="node-name">When someone buys</span>' in card.text
    assert 'data-testid="port-t-in"' not in card.text


@pytest.mark.parametrize(("block_type", "kind"), sorted(BLOCK_CLASSES))
def test_every_block_kind_has_a_side_panel_posting_to_its_own_endpoint(
    logged_in: Browser, block_type: str, kind: str
) -> None:
    response = post_json(
        logged_in,
        "/scenarios/blocks/panel",
        {"id": "n1", "type": block_type, "kind": kind, "config": {}},
    )

    assert response.status_code == 200
    assert f'hx-post="/scenarios/blocks/apply/{block_type}/{kind}"' in response.text
    assert 'name="node_id" value="n1"' in response.text


def test_the_condition_panel_shows_the_saved_condition_as_rows(logged_in: Browser) -> None:
    condition = {
        "any": [
            {"attribute": "orders_count", "op": "gte", "value": 2},
            {"event": "email_opened", "op": "count_gte", "value": 1, "within_days": 30},
            {"not": {"any": [{"list": "vip", "op": "member"}]}},
        ]
    }
    response = post_json(
        logged_in,
        "/scenarios/blocks/panel",
        {"id": "c", "type": "condition", "kind": "if", "config": {"if": condition}},
    )

    html = response.text
    assert html.count("data-cb-row") >= 3
    assert 'value="orders_count"' in html
    assert 'value="email_opened"' in html
    assert '<option value="none" selected>none</option>' in html
    assert '<option value="vip" selected>vip (not found)</option>' in html


def test_an_unknown_block_has_no_panel(logged_in: Browser) -> None:
    response = post_json(
        logged_in, "/scenarios/blocks/panel", {"id": "x", "type": "action", "kind": "teleport"}
    )

    assert response.status_code == 422


# --- panel submissions ------------------------------------------------------------------------


def apply(logged_in: Browser, block: str, data: dict[str, str]):  # type: ignore[no-untyped-def]
    return logged_in.post(f"/scenarios/blocks/apply/{block}", {"node_id": "n1", **data}, htmx=True)


def announced(response) -> dict[str, Any] | None:  # type: ignore[no-untyped-def]
    header = response.headers.get("HX-Trigger")
    if header is None:
        return None
    event: dict[str, Any] = json.loads(header)["parcours:config"]
    return event


def test_a_wait_in_days_becomes_seconds_with_its_summary(logged_in: Browser) -> None:
    response = apply(logged_in, "delay/wait", {"amount": "2", "unit": "days"})

    assert response.status_code == 200
    assert announced(response) == {
        "node": "n1",
        "base": None,
        "config": {"seconds": 172800},
        "summary": "Wait 2 days",
        "problems": [],
    }
    assert "this block is ready" in response.text


def test_a_half_filled_block_is_announced_with_what_is_still_to_do(logged_in: Browser) -> None:
    response = apply(logged_in, "action/send_email", {"message": ""})

    event = announced(response)
    assert event is not None
    assert event["config"] == {}
    assert event["summary"] == "Send email (no email chosen)"
    assert event["problems"] == [{"field": "message", "message": "Choose the email to send"}]
    assert "Still to do" in response.text


def test_a_condition_from_the_builder_is_checked_and_announced(logged_in: Browser) -> None:
    condition = {"attribute": "orders_count", "op": "eq", "value": 1}

    response = apply(logged_in, "condition/if", {"if": json.dumps(condition)})

    event = announced(response)
    assert event is not None
    assert event["config"] == {"if": condition}
    assert event["summary"] == "If orders count = 1"


@pytest.mark.parametrize(
    ("block", "data", "field", "words"),
    [
        ("delay/wait", {"amount": "two", "unit": "days"}, "amount", "type a number"),
        ("delay/wait", {"amount": "2", "unit": "fortnights"}, "unit", "minutes, hours"),
        ("action/add_score", {"points": "1.5"}, "points", "whole number"),
        (
            "condition/if",
            {"if": json.dumps({"attribute": "orders_count", "op": "gt", "value": "many"})},
            "if",
            "needs a number",
        ),
        ("condition/if", {"if": "{not json"}, "if", "could not be read"),
    ],
)
def test_unreadable_panel_values_are_explained_and_announce_nothing(
    logged_in: Browser, block: str, data: dict[str, str], field: str, words: str
) -> None:
    response = apply(logged_in, block, data)

    assert announced(response) is None
    assert "Not saved" in response.text
    assert f'data-field="{field}"' in response.text
    assert words in response.text


def test_an_unknown_block_kind_cannot_be_applied(logged_in: Browser) -> None:
    response = apply(logged_in, "action/teleport", {})

    assert response.status_code == 422
    assert announced(response) is None


def test_a_panel_submission_needs_the_csrf_token(logged_in: Browser) -> None:
    response = logged_in.client.post(
        "/scenarios/blocks/apply/delay/wait", data={"node_id": "n1", "amount": "2", "unit": "days"}
    )

    assert response.status_code == 403
