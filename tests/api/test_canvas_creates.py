"""Blocks create what they need, and the canvas names things as the marketer does (issue 14).

A list block's panel creates a list in place; a message block's panel sends its author to the
message editor, whose save comes back to the canvas with the new message; summaries, cards,
panels, issues and statistics show names, never keys or block ids.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlmodel import Session, func, select

from app.models import (
    Contact,
    ContactList,
    Enrollment,
    Event,
    MessageTemplate,
    ScenarioVersion,
)
from app.routes.return_to import safe_return, with_param
from tests.api.test_messages_pages import EMAIL_FORM
from tests.api.test_scenario_pages import LOYAL, new_scenario, post_json, save
from tests.fixtures.web import Browser

NAMED: dict[str, Any] = {
    **LOYAL,
    "nodes": [
        *LOYAL["nodes"][:2],
        {
            "id": "promo",
            "type": "action",
            "kind": "send_email",
            "config": {"message": "coupon-20-premier-achat"},
        },
        {
            "id": "loyal",
            "type": "action",
            "kind": "add_to_list",
            "config": {"list": "clients-fideles"},
        },
    ],
}


@pytest.fixture
def named(session: Session) -> None:
    session.add(
        MessageTemplate(key="coupon-20-premier-achat", name="Coupon 20 %", subject="20 % off")
    )
    session.add(ContactList(key="clients-fideles", name="Clients fidèles"))
    session.commit()


def visible_text(page: str) -> str:
    """What a reader sees: no tags, so no attributes (data-node, hidden fields)."""
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def lists_count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(ContactList)).one()


# --- a new list, in place --------------------------------------------------------------------


def test_a_list_block_creates_a_list_from_its_name_and_answers_its_key(
    logged_in: Browser, session: Session
) -> None:
    created = logged_in.post("/scenarios/blocks/new-list", {"name": "Clients fidèles"})

    assert created.status_code == 201
    assert created.json() == {"key": "clients-fideles", "name": "Clients fidèles"}
    stored = session.exec(select(ContactList)).one()
    assert (stored.key, stored.name) == ("clients-fideles", "Clients fidèles")


def test_a_list_without_a_name_is_refused_and_nothing_is_written(
    logged_in: Browser, session: Session
) -> None:
    blank = logged_in.post("/scenarios/blocks/new-list", {"name": "   "})
    too_long = logged_in.post("/scenarios/blocks/new-list", {"name": "x" * 250})

    assert blank.status_code == 422
    assert blank.json()["detail"] == "Give the list a name, e.g. Newsletter."
    assert too_long.status_code == 422
    assert "longer than 200" in too_long.json()["detail"]
    assert lists_count(session) == 0


def test_the_name_of_an_existing_list_chooses_it_instead_of_a_twin(
    logged_in: Browser, session: Session
) -> None:
    assert logged_in.post("/scenarios/blocks/new-list", {"name": "VIP"}).status_code == 201

    again = logged_in.post("/scenarios/blocks/new-list", {"name": " vip "})

    assert again.status_code == 200
    assert again.json() == {"key": "vip", "name": "VIP", "existing": True}
    assert lists_count(session) == 1


def test_a_new_list_needs_the_forms_token(logged_in: Browser, session: Session) -> None:
    response = logged_in.client.post("/scenarios/blocks/new-list", data={"name": "VIP"})

    assert response.status_code == 403
    assert lists_count(session) == 0


def test_the_list_panels_offer_a_new_list_and_the_message_panels_a_new_message(
    logged_in: Browser,
) -> None:
    for kind in ("add_to_list", "remove_from_list"):
        panel = post_json(
            logged_in,
            "/scenarios/blocks/panel",
            {"id": "b", "type": "action", "kind": kind, "config": {}},
        ).text
        assert 'data-testid="new-list"' in panel
        assert 'data-testid="create-list"' in panel
        assert "create one below" in panel
        # The new name travels on its own: the block's form never posts it.
        assert re.search(r"<input[^>]*data-new-list-name[^>]*>", panel)
        assert not re.search(r"<input[^>]*data-new-list-name[^>]*name=", panel)
    for kind, channel in (("send_email", "email"), ("send_sms", "sms")):
        panel = post_json(
            logged_in,
            "/scenarios/blocks/panel",
            {"id": "b", "type": "action", "kind": kind, "config": {}},
        ).text
        assert f'data-action="create-message" data-channel="{channel}"' in panel


def test_a_french_user_creates_a_list_in_french(french: Browser, session: Session) -> None:
    refused = french.post("/scenarios/blocks/new-list", {"name": ""})
    panel = post_json(
        french,
        "/scenarios/blocks/panel",
        {"id": "b", "type": "action", "kind": "add_to_list", "config": {}},
    ).text

    assert refused.status_code == 422
    assert refused.json()["detail"] == "Donnez un nom à la liste, par ex. Newsletter."
    assert "Nouvelle liste" in panel
    assert "Vous n’avez pas encore de liste : créez-en une ci-dessous." in html.unescape(panel)
    email = post_json(
        french,
        "/scenarios/blocks/panel",
        {"id": "b", "type": "action", "kind": "send_email", "config": {}},
    ).text
    assert "Créer un nouvel e-mail" in email


# --- a new message, through the editor and back ----------------------------------------------


def test_a_new_message_saved_from_the_canvas_goes_back_to_the_block_with_its_key(
    logged_in: Browser, session: Session
) -> None:
    back = "/scenarios/7?block=promo"
    editor = logged_in.client.get("/messages/new", params={"channel": "email", "return_to": back})
    assert f'name="return_to" value="{html.escape(back)}"' in editor.text
    assert 'data-testid="back-to-scenario"' in editor.text

    saved = logged_in.post("/messages/save", {**EMAIL_FORM, "is_new": "1", "return_to": back})
    htmx = logged_in.post(
        "/messages/save",
        {**EMAIL_FORM, "key": "other", "is_new": "1", "return_to": back},
        htmx=True,
    )

    assert saved.status_code == 303
    assert saved.headers["location"] == "/scenarios/7?block=promo&message=welcome"
    assert htmx.status_code == 204
    assert htmx.headers["HX-Redirect"] == "/scenarios/7?block=promo&message=other"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/x",
        "//evil.example/x",
        "/\\evil.example",
        "javascript:alert(1)",
        "/scenarios/1\r\nSet-Cookie: x=1",
        "scenarios/1",
        "/" + "a" * 600,
    ],
)
def test_only_a_path_of_this_site_is_followed_after_saving(
    logged_in: Browser, session: Session, target: str
) -> None:
    editor = logged_in.client.get("/messages/new", params={"return_to": target})
    saved = logged_in.post("/messages/save", {**EMAIL_FORM, "is_new": "1", "return_to": target})

    assert 'name="return_to"' not in editor.text
    assert saved.status_code == 303
    assert saved.headers["location"] == "/messages/welcome"


def test_a_refused_message_keeps_its_way_back(logged_in: Browser) -> None:
    back = "/scenarios/7?block=promo"
    refused = logged_in.post(
        "/messages/save", {**EMAIL_FORM, "is_new": "1", "subject": "", "return_to": back}
    )

    assert refused.status_code == 422
    assert f'name="return_to" value="{html.escape(back)}"' in refused.text


def test_return_paths_are_checked_and_extended() -> None:
    assert safe_return("/scenarios/3?block=a") == "/scenarios/3?block=a"
    assert safe_return("") is None
    assert safe_return("http:/scenarios") is None
    assert (
        with_param("/scenarios/3?block=a", "message", "x y") == "/scenarios/3?block=a&message=x+y"
    )
    assert with_param("/scenarios/3", "message", "k") == "/scenarios/3?message=k"


# --- names, never keys or block ids -----------------------------------------------------------


def test_the_canvas_names_messages_and_lists_and_never_shows_their_keys(
    logged_in: Browser, session: Session, named: None
) -> None:
    scenario = new_scenario(logged_in, session)
    assert scenario.id is not None
    saved = save(logged_in, scenario.id, NAMED, scenario.draft_revision).json()
    page = html.unescape(logged_in.client.get(f"/scenarios/{scenario.id}").text)
    card = post_json(logged_in, "/scenarios/blocks/card", NAMED["nodes"][2]).text

    assert saved["summaries"]["promo"] == "Send email 'Coupon 20 %'"
    assert saved["summaries"]["loyal"] == "Add to list 'Clients fidèles'"
    assert "Send email 'Coupon 20 %'" in page
    assert "Send email &#39;Coupon 20 %&#39;" in card or "Send email 'Coupon 20 %'" in card
    summaries = " ".join(saved["summaries"].values())
    assert "coupon-20-premier-achat" not in summaries
    assert "clients-fideles" not in summaries


def test_an_applied_panel_answers_the_summary_with_the_name(
    logged_in: Browser, named: None
) -> None:
    applied = logged_in.post(
        "/scenarios/blocks/apply/action/add_to_list",
        {"node_id": "loyal", "list": "clients-fideles"},
        htmx=True,
    )

    assert "Add to list 'Clients fid\\u00e8les'" in applied.headers["HX-Trigger"]


def test_panel_headers_and_issues_name_blocks_by_title_never_by_id(
    logged_in: Browser, session: Session, named: None
) -> None:
    graph = {**NAMED, "nodes": [*NAMED["nodes"][:2], {**NAMED["nodes"][2], "config": {}}]}
    graph["edges"] = [e for e in NAMED["edges"] if e["to"] != "loyal"]
    graph["nodes"].append({"id": "event_9", "type": "action", "kind": "exit", "config": {}})
    scenario = new_scenario(logged_in, session)
    assert scenario.id is not None
    issues = save(logged_in, scenario.id, graph, scenario.draft_revision).json()["issues"]
    panel = post_json(logged_in, "/scenarios/blocks/panel", graph["nodes"][2]).text

    messages = [issue["message"] for issue in issues]
    assert "Block 'Send an email': choose the email to send" in messages
    assert any(m.startswith("Block 'End the journey' can't be reached") for m in messages)
    for block_id in ("promo", "event_9", "start", "first"):
        assert not any(f"'{block_id}'" in m for m in messages), block_id
    assert "promo" not in visible_text(panel)
    assert "Block id" not in panel


def test_statistics_name_what_blocks_send(
    logged_in: Browser, session: Session, named: None
) -> None:
    scenario = new_scenario(logged_in, session)
    assert scenario.id is not None
    save(logged_in, scenario.id, NAMED, scenario.draft_revision)

    stats = html.unescape(logged_in.client.get(f"/scenarios/{scenario.id}/stats").text)

    assert "Send email 'Coupon 20 %'" in stats
    assert "coupon-20-premier-achat" not in stats


def test_a_french_user_reads_names_and_block_titles(
    french: Browser, session: Session, named: None
) -> None:
    scenario = new_scenario(french, session)
    assert scenario.id is not None
    graph = {**NAMED, "nodes": [*NAMED["nodes"][:3], {**NAMED["nodes"][3], "config": {}}]}
    saved = save(french, scenario.id, graph, scenario.draft_revision).json()

    assert saved["summaries"]["promo"] == "Envoyer l’e-mail « Coupon 20 % »"
    loyal = [i["message"] for i in saved["issues"] if i["node"] == "loyal"]
    assert loyal == ["Le bloc « Ajouter à une liste » : choisissez la liste"]


def test_a_condition_on_a_list_names_the_list(
    logged_in: Browser, session: Session, named: None
) -> None:
    member = {"id": "member", "type": "condition", "kind": "if"}
    member["config"] = {"if": {"list": "clients-fideles", "op": "member"}}
    document = {**NAMED, "nodes": [*NAMED["nodes"], member]}
    scenario = new_scenario(logged_in, session)
    assert scenario.id is not None

    saved = save(logged_in, scenario.id, document, scenario.draft_revision).json()

    assert saved["summaries"]["member"] == "If in list 'Clients fidèles'"


def test_a_contacts_page_says_which_block_each_journey_is_on_not_its_id(
    logged_in: Browser, session: Session, named: None
) -> None:
    scenario = new_scenario(logged_in, session)
    assert scenario.id is not None
    version = ScenarioVersion(scenario_id=scenario.id, number=1, graph=NAMED, plan={})
    contact = Contact(email="lea@shop.test")
    session.add_all([version, contact])
    session.flush()
    assert version.id is not None
    assert contact.id is not None
    moment = datetime(2026, 1, 5, 9, tzinfo=UTC)
    for node in ("promo", "vanished"):
        session.add(
            Enrollment(
                scenario_id=scenario.id,
                version_id=version.id,
                contact_id=contact.id,
                node_id=node,
                entered_at=moment,
            )
        )
    session.commit()

    page = html.unescape(logged_in.client.get(f"/contacts/{contact.id}").text)

    assert "Send an email" in page
    assert "A block no longer in the scenario" in page
    assert ">promo<" not in page
    assert "vanished" not in page


def test_a_contacts_timeline_shows_event_details_in_words_not_json(
    logged_in: Browser, session: Session
) -> None:
    contact = Contact(email="max@shop.test")
    session.add(contact)
    session.flush()
    assert contact.id is not None
    moment = datetime(2026, 1, 5, 9, tzinfo=UTC)
    session.add(
        Event(
            uid="evt-1",
            contact_id=contact.id,
            name="purchase",
            properties={"cart_id": "c-42", "total": 42.5},
            occurred_at=moment,
            received_at=moment,
        )
    )
    session.commit()

    page = html.unescape(logged_in.client.get(f"/contacts/{contact.id}").text)

    assert "cart id</span> c-42" in page
    assert "total</span> 42.5" in page
    assert '{"cart_id"' not in page
