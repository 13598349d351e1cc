"""Lists, segments and messages are renamed and deleted, from the pages and the API; keys are
made from names ("Clients fidèles" → clients-fideles).

A deletion is refused (409, nothing written) while a live scenario uses the thing, naming the
scenarios; a draft that used it is told, and its block then shows the issue.
"""

from __future__ import annotations

import html
import itertools
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from app.clock import FrozenClock
from app.models import (
    Contact,
    ContactList,
    Event,
    ListMembership,
    MessageTemplate,
    Scenario,
    Segment,
)
from app.models.enrollments import SegmentCheck, SegmentMember
from app.services.keys import key_from_name, slug
from tests.fixtures.web import Browser
from tests.worker.engine_harness import Engine as EngineHarness

WELCOME = {
    "key": "welcome",
    "name": "Welcome email",
    "subject": "Hello {{ contact.first_name }}",
    "html": "<p>Hello</p>",
}


def graph(*actions: dict[str, Any], trigger: dict[str, Any] | None = None) -> dict[str, Any]:
    """A manual trigger (or ``trigger``), a day's wait, then ``actions`` in a row."""
    start = trigger or {"type": "trigger", "kind": "manual", "config": {}}
    nodes = [
        {"id": "start", **start},
        {"id": "day", "type": "delay", "kind": "wait", "config": {"seconds": 86400}},
    ]
    nodes += [{"id": f"a{n}", **action} for n, action in enumerate(actions)]
    ids = [node["id"] for node in nodes]
    edges = [{"from": a, "to": b} for a, b in itertools.pairwise(ids)]
    return {"schema": 1, "nodes": nodes, "edges": edges, "settings": {"reentry": "once"}}


def add_to(list_key: str) -> dict[str, Any]:
    return {"type": "action", "kind": "add_to_list", "config": {"list": list_key}}


def send(message: str) -> dict[str, Any]:
    return {"type": "action", "kind": "send_email", "config": {"message": message}}


ON_SEGMENT = {"type": "trigger", "kind": "segment_entered", "config": {"segment": "lyon"}}


@pytest.fixture
def api(client: TestClient, api_key: str) -> TestClient:
    client.headers["Authorization"] = f"Bearer {api_key}"
    return client


@pytest.fixture
def things(api: TestClient) -> None:
    """The list Newsletter, the segment Lyon and the message Welcome email."""
    assert (
        api.post("/api/v1/lists", json={"key": "newsletter", "name": "Newsletter"}).status_code
        == 201
    )
    segment = {
        "key": "lyon",
        "name": "Lyon",
        "condition": {"attribute": "city", "op": "eq", "value": "Lyon"},
    }
    assert api.post("/api/v1/segments", json=segment).status_code == 201
    assert api.post("/api/v1/messages", json=WELCOME).status_code == 201


def scenario(api: TestClient, name: str, document: dict[str, Any], *, live: bool = False) -> int:
    created = api.post("/api/v1/scenarios", json={"name": name, "graph": document})
    assert created.status_code == 201, created.text
    sid = int(created.json()["id"])
    if live:
        activated = api.post(f"/api/v1/scenarios/{sid}/activate")
        assert activated.status_code == 200, activated.text
    return sid


def issue_codes(api: TestClient, sid: int) -> set[str]:
    return {issue["code"] for issue in api.get(f"/api/v1/scenarios/{sid}").json()["issues"]}


def shown(response: Any) -> str:
    """A page's text as read (the quotes in names are escaped in the HTML)."""
    return html.unescape(response.text)


def count(session: Session, model: Any, *where: Any) -> int:
    session.expire_all()
    return int(session.exec(select(func.count()).select_from(model).where(*where)).one())


def members(api: TestClient, session: Session, key: str, n: int) -> list[int]:
    people = [Contact(email=f"m{i}@example.com") for i in range(n)]
    session.add_all(people)
    session.commit()
    ids = [p.id for p in people if p.id is not None]
    assert api.post(f"/api/v1/lists/{key}/contacts", json={"contact_ids": ids}).status_code == 200
    return ids


# --- keys from names ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Clients fidèles", "clients-fideles"),
        ("  Coupon 20 % — premier achat!  ", "coupon-20-premier-achat"),
        ("Œuvres d’été", "oeuvres-d-ete"),
        ("Straße Ærø", "strasse-aero"),
        ("Новости", ""),
        ("NEWSLETTER_2024", "newsletter-2024"),
        ("🎉", ""),
    ],
)
def test_a_slug_folds_accents_and_joins_words_with_hyphens(name: str, key: str) -> None:
    assert slug(name) == key


def test_a_taken_key_gets_the_next_free_number() -> None:
    taken = {"clients-fideles", "clients-fideles-2"}
    assert key_from_name("Clients fidèles", taken.__contains__) == "clients-fideles-3"
    assert key_from_name("🎉", set().__contains__) == "item"
    long = key_from_name("a" * 150, {"a" * 100}.__contains__)
    assert long == "a" * 98 + "-2"


def test_a_list_created_without_a_key_gets_one_from_its_name(api: TestClient) -> None:
    first = api.post("/api/v1/lists", json={"name": "Clients fidèles"})
    second = api.post("/api/v1/lists", json={"name": "Clients Fidèles"})
    third = api.post("/api/v1/lists", json={"name": "clients fideles"})

    assert [r.status_code for r in (first, second, third)] == [201, 201, 201]
    assert [r.json()["key"] for r in (first, second, third)] == [
        "clients-fideles",
        "clients-fideles-2",
        "clients-fideles-3",
    ]


def test_segments_and_messages_get_their_keys_the_same_way(api: TestClient) -> None:
    condition = {"attribute": "city", "op": "eq", "value": "Lyon"}
    segment = api.post(
        "/api/v1/segments", json={"name": "Acheteurs à Lyon", "condition": condition}
    )
    again = api.post("/api/v1/segments", json={"name": "Acheteurs à Lyon", "condition": condition})
    message = api.post("/api/v1/messages", json={**WELCOME, "key": "", "name": "Été 2026"})

    assert segment.json()["key"] == "acheteurs-a-lyon"
    assert again.json()["key"] == "acheteurs-a-lyon-2"
    assert message.status_code == 201
    assert message.json()["key"] == "ete-2026"


def test_a_key_typed_by_hand_must_follow_the_rule_and_nothing_is_written(
    api: TestClient, session: Session
) -> None:
    for key in ("Clients Fidèles", "-start", "a" * 101):
        refused = api.post("/api/v1/lists", json={"key": key, "name": "Clients"})
        assert refused.status_code == 422
        assert "cannot be used as a key" in refused.json()["detail"]
    taken = api.post("/api/v1/lists", json={"key": "vip", "name": "VIP"})
    clash = api.post("/api/v1/lists", json={"key": "vip", "name": "Other"})

    assert taken.status_code == 201
    assert clash.status_code == 409
    assert count(session, ContactList) == 1


def test_the_pages_offer_the_key_while_the_name_is_typed(
    logged_in: Browser, session: Session
) -> None:
    session.add(ContactList(key="clients-fideles", name="Clients fidèles"))
    session.commit()

    offered = logged_in.client.get(
        "/keys/suggest", params={"kind": "list", "name": "Clients fidèles"}
    )
    for_segment = logged_in.client.get(
        "/keys/suggest", params={"kind": "segment", "name": "Clients fidèles"}
    )
    nothing = logged_in.client.get("/keys/suggest", params={"kind": "message", "name": "  "})

    assert offered.json() == {"key": "clients-fideles-2"}
    assert for_segment.json() == {"key": "clients-fideles"}  # each kind has its own keys
    assert nothing.json() == {"key": ""}
    for page in ("/lists", "/segments/new", "/messages/new"):
        text = logged_in.client.get(page).text
        assert 'data-testid="key-field"' in text, page
        assert "/static/js/key-field.js" in text


def test_the_keys_endpoint_is_for_people_who_are_logged_in(client: TestClient) -> None:
    assert client.get("/keys/suggest", params={"name": "x"}).status_code in (303, 401)


def test_a_list_made_on_its_page_without_a_key_takes_one_from_the_name(
    logged_in: Browser, session: Session
) -> None:
    made = logged_in.post("/lists", {"name": "Clients fidèles", "key": ""}, htmx=True)

    assert made.status_code == 200
    assert "List “Clients fidèles” created." in made.text
    assert session.exec(select(ContactList.key)).all() == ["clients-fideles"]


def test_a_segment_and_a_message_made_on_their_pages_take_keys_from_their_names(
    logged_in: Browser, session: Session
) -> None:
    segment = logged_in.post(
        "/segments", {"name": "Clients fidèles", "key": "", "condition": '{"all": []}'}
    )
    message = logged_in.post(
        "/messages/save",
        {
            "name": "Bienvenue à bord",
            "key": "",
            "channel": "email",
            "subject": "Hi",
            "html": "<p>Hi</p>",
            "is_new": "1",
        },
    )

    assert segment.headers["location"] == "/segments/clients-fideles?saved=1"
    assert message.headers["location"] == "/messages/bienvenue-a-bord"
    assert session.exec(select(MessageTemplate.name)).all() == ["Bienvenue à bord"]


# --- rename ------------------------------------------------------------------------------------


def test_renaming_keeps_the_key_so_scenarios_still_find_them(api: TestClient, things: None) -> None:
    sid = scenario(api, "Welcome series", graph(add_to("newsletter"), send("welcome")), live=True)

    lst = api.patch(
        "/api/v1/lists/newsletter", json={"name": "Monthly news", "description": "Once a month"}
    )
    seg = api.patch("/api/v1/segments/lyon", json={"name": "Lyonnais"})
    msg = api.patch("/api/v1/messages/welcome", json={"name": "Bienvenue"})

    assert lst.status_code == seg.status_code == msg.status_code == 200
    assert (lst.json()["key"], lst.json()["name"], lst.json()["description"]) == (
        "newsletter",
        "Monthly news",
        "Once a month",
    )
    assert seg.json()["name"] == "Lyonnais"
    assert seg.json()["condition"] == {"attribute": "city", "op": "eq", "value": "Lyon"}
    assert msg.json()["name"] == "Bienvenue"
    assert msg.json()["subject"] == WELCOME["subject"]
    assert issue_codes(api, sid) == set()


def test_a_bad_rename_is_refused_and_changes_nothing(
    api: TestClient, session: Session, things: None
) -> None:
    answers = [
        api.patch("/api/v1/lists/newsletter", json={"name": "  "}),
        api.patch("/api/v1/lists/newsletter", json={"name": "x" * 201}),
        api.patch("/api/v1/segments/lyon", json={"name": ""}),
        api.patch("/api/v1/messages/welcome", json={"name": ""}),
        api.patch("/api/v1/lists/newsletter", json={"name": "N", "key": "other"}),
    ]

    assert [a.status_code for a in answers] == [422, 422, 422, 422, 422]
    session.expire_all()
    assert session.exec(select(ContactList.name)).all() == ["Newsletter"]
    assert session.exec(select(Segment.name)).all() == ["Lyon"]
    assert session.exec(select(MessageTemplate.name)).all() == ["Welcome email"]


def test_renaming_or_deleting_what_does_not_exist_is_404(api: TestClient) -> None:
    for path in ("/api/v1/lists/nope", "/api/v1/segments/nope", "/api/v1/messages/nope"):
        assert api.patch(path, json={"name": "x"}).status_code == 404
        assert api.delete(path).status_code == 404


def test_a_list_is_renamed_from_its_row_on_the_lists_page(
    logged_in: Browser, session: Session, things: None
) -> None:
    page = logged_in.client.get("/lists").text
    assert 'data-testid="manage-list-newsletter"' in page

    renamed = logged_in.post("/lists/newsletter/rename", {"name": "Monthly news"}, htmx=True)
    empty = logged_in.post("/lists/newsletter/rename", {"name": ""}, htmx=True)

    assert renamed.status_code == 200
    assert "List renamed “Monthly news”." in shown(renamed)
    assert empty.status_code == 422
    assert "Give the list a name" in empty.text
    session.expire_all()
    assert session.exec(select(ContactList.name)).all() == ["Monthly news"]


# --- delete ------------------------------------------------------------------------------------


def test_deleting_a_list_takes_its_memberships_and_leaves_its_contacts(
    api: TestClient, session: Session, things: None
) -> None:
    ids = members(api, session, "newsletter", 3)
    events_before = count(session, Event)

    deleted = api.delete("/api/v1/lists/newsletter")

    assert deleted.status_code == 204
    assert deleted.content == b""
    assert count(session, ContactList) == 0
    assert count(session, ListMembership) == 0
    assert count(session, Contact, Contact.id.in_(ids)) == 3  # type: ignore[union-attr]
    assert count(session, Event) == events_before  # no list_removed for a list that is gone


def test_a_list_used_by_live_scenarios_is_not_deleted_and_they_are_named(
    api: TestClient, session: Session, things: None
) -> None:
    members(api, session, "newsletter", 2)
    scenario(api, "Welcome series", graph(add_to("newsletter")), live=True)
    goal = graph(send("welcome"))
    goal["settings"]["exit_when"] = {"list": "newsletter", "op": "member"}
    scenario(api, "Re-engagement", goal, live=True)
    scenario(api, "Sketch", graph(add_to("newsletter")))

    refused = api.delete("/api/v1/lists/newsletter")

    assert refused.status_code == 409
    assert refused.json()["detail"] == (
        "'Newsletter' is used by the live scenarios 'Re-engagement', 'Welcome series': "
        "pause them or change their blocks first."
    )
    assert count(session, ContactList) == 1
    assert count(session, ListMembership) == 2


def test_one_live_scenario_is_named_in_the_singular(api: TestClient, things: None) -> None:
    scenario(api, "Welcome series", graph(send("welcome")), live=True)

    refused = api.delete("/api/v1/messages/welcome")

    assert refused.status_code == 409
    assert refused.json()["detail"] == (
        "'Welcome email' is used by the live scenario 'Welcome series': "
        "pause it or change its blocks first."
    )


def test_a_draft_does_not_hold_a_deletion_and_then_shows_the_issue(
    api: TestClient, session: Session, things: None
) -> None:
    sketch = graph(add_to("newsletter"), send("welcome"), trigger=ON_SEGMENT)
    sketch["settings"]["exit_when"] = {"event": "purchase"}  # a segment journey needs a goal
    draft = scenario(api, "Sketch", sketch)
    assert issue_codes(api, draft) == set()

    answers = [
        api.delete(f"/api/v1/{kind}")
        for kind in ("lists/newsletter", "segments/lyon", "messages/welcome")
    ]

    assert [a.status_code for a in answers] == [204, 204, 204]
    assert {"unknown_list", "unknown_segment", "unknown_message"} <= issue_codes(api, draft)
    assert (
        count(session, ContactList)
        == count(session, Segment)
        == count(session, MessageTemplate)
        == 0
    )


def test_pausing_a_scenario_lets_its_list_go(
    api: TestClient, session: Session, things: None
) -> None:
    sid = scenario(api, "Welcome series", graph(add_to("newsletter")), live=True)
    assert api.delete("/api/v1/lists/newsletter").status_code == 409

    assert api.post(f"/api/v1/scenarios/{sid}/pause").status_code == 200
    assert api.delete("/api/v1/lists/newsletter").status_code == 204
    assert "unknown_list" in issue_codes(api, sid)
    assert api.post(f"/api/v1/scenarios/{sid}/activate").status_code == 422


def test_contacts_still_on_an_older_version_hold_its_message(
    api: TestClient, session: Session, things: None
) -> None:
    """The running version no longer sends it, but a contact waits on version 1, which does."""
    sid = scenario(api, "Welcome series", graph(send("welcome")), live=True)
    anna = Contact(email="anna@example.com")
    session.add(anna)
    session.commit()
    assert (
        api.post(f"/api/v1/scenarios/{sid}/enroll", json={"contact_ids": [anna.id]}).status_code
        == 200
    )
    EngineHarness(session, clock=FrozenClock(api.app.state.clock.now())).run()  # type: ignore[attr-defined]
    session.commit()
    revision = api.get(f"/api/v1/scenarios/{sid}").json()["revision"]
    saved = api.put(
        f"/api/v1/scenarios/{sid}/graph",
        json={"graph": graph(add_to("newsletter")), "revision": revision},
    )
    assert saved.status_code == 200, saved.text
    assert api.post(f"/api/v1/scenarios/{sid}/activate").status_code == 200

    refused = api.delete("/api/v1/messages/welcome")

    assert refused.status_code == 409
    assert "'Welcome series'" in refused.json()["detail"]
    assert count(session, MessageTemplate) == 1


def test_an_archived_scenario_holds_nothing(
    api: TestClient, session: Session, things: None
) -> None:
    sid = scenario(api, "Old", graph(add_to("newsletter")), live=True)
    api.post(f"/api/v1/scenarios/{sid}/pause")
    session.get(Scenario, sid)
    archived = api.delete(f"/api/v1/scenarios/{sid}")
    assert archived.status_code == 204, archived.text

    assert api.delete("/api/v1/lists/newsletter").status_code == 204


def test_a_deleted_segment_leaves_nothing_for_a_new_one_with_its_key(
    api: TestClient, session: Session, things: None
) -> None:
    anna = Contact(email="anna@example.com", attributes={"city": "Lyon"})
    session.add(anna)
    session.commit()
    assert anna.id is not None
    session.add(SegmentMember(segment_key="lyon", contact_id=anna.id))
    session.add(SegmentCheck(segment_key="lyon"))
    session.commit()

    assert api.delete("/api/v1/segments/lyon").status_code == 204

    assert count(session, SegmentMember) == count(session, SegmentCheck) == 0


def test_a_segment_a_live_scenario_enters_on_is_kept(
    api: TestClient, session: Session, things: None
) -> None:
    scenario(api, "Lyon welcome", graph(send("welcome"), trigger=ON_SEGMENT), live=True)

    refused = api.delete("/api/v1/segments/lyon")

    assert refused.status_code == 409
    assert "'Lyon' is used by the live scenario 'Lyon welcome'" in refused.json()["detail"]
    assert count(session, Segment) == 1


# --- delete from the pages ---------------------------------------------------------------------


def test_the_lists_page_refuses_with_the_scenarios_and_writes_nothing(
    api: TestClient, logged_in: Browser, session: Session, things: None
) -> None:
    members(api, session, "newsletter", 2)
    scenario(api, "Welcome series", graph(add_to("newsletter")), live=True)

    refused = logged_in.post("/lists/newsletter/delete", htmx=True)

    assert refused.status_code == 409
    assert "is used by the live scenario" in shown(refused)
    assert "Welcome series" in shown(refused)
    assert count(session, ContactList) == 1
    assert count(session, ListMembership) == 2


def test_the_lists_page_deletes_and_tells_the_drafts_that_used_it(
    api: TestClient, logged_in: Browser, session: Session, things: None
) -> None:
    scenario(api, "Sketch", graph(add_to("newsletter")))

    deleted = logged_in.post("/lists/newsletter/delete", htmx=True)
    without_htmx = logged_in.post("/lists/nope/delete")

    assert deleted.status_code == 200
    assert "List “Newsletter” deleted." in shown(deleted)
    assert "The draft 'Sketch' used it: its block now shows an issue to fix." in shown(deleted)
    assert without_htmx.status_code == 404
    assert count(session, ContactList) == 0


def test_segments_and_messages_are_deleted_from_their_pages(
    api: TestClient, logged_in: Browser, session: Session, things: None
) -> None:
    live = scenario(api, "Lyon welcome", graph(send("welcome"), trigger=ON_SEGMENT), live=True)
    editor = logged_in.client.get("/messages/welcome").text
    assert 'data-testid="delete-message"' in editor
    assert 'data-testid="delete-message-welcome"' in logged_in.client.get("/messages").text

    segment_refused = logged_in.post("/segments/lyon/delete")
    message_refused = logged_in.post("/messages/welcome/delete")
    api.post(f"/api/v1/scenarios/{live}/pause")
    segment_deleted = logged_in.post("/segments/lyon/delete")
    message_deleted = logged_in.post("/messages/welcome/delete")

    assert segment_refused.status_code == message_refused.status_code == 409
    assert "Lyon welcome" in segment_refused.text
    assert "Lyon welcome" in message_refused.text
    assert segment_deleted.status_code == message_deleted.status_code == 200
    assert "Segment “Lyon” deleted." in segment_deleted.text
    assert "Message “Welcome email” deleted." in shown(message_deleted)
    assert "The draft 'Lyon welcome' used it" in shown(message_deleted)
    assert count(session, Segment) == count(session, MessageTemplate) == 0


# --- in French ---------------------------------------------------------------------------------


def test_a_french_user_manages_lists_in_french(
    api: TestClient, french: Browser, session: Session, things: None
) -> None:
    scenario(api, "Série de bienvenue", graph(add_to("newsletter")), live=True)
    scenario(api, "Relance", graph(add_to("newsletter")), live=True)

    page = french.client.get("/lists").text
    refused = french.post("/lists/newsletter/delete", htmx=True)
    renamed = french.post("/lists/newsletter/rename", {"name": "Clients fidèles"}, htmx=True)
    api.post("/api/v1/lists", json={"key": "old", "name": "Ancienne"})
    scenario(api, "Brouillon", graph(add_to("old")))
    deleted = french.post("/lists/old/delete", htmx=True)

    assert "Renommer ou supprimer" in page
    assert "Clé" in page
    assert refused.status_code == 409
    assert (
        "« Newsletter » sert aux scénarios actifs « Relance », « Série de bienvenue » : "
        "mettez-les en pause ou modifiez leurs blocs d’abord."
    ) in shown(refused)
    assert "Liste renommée « Clients fidèles »." in shown(renamed)
    assert "Liste « Ancienne » supprimée." in shown(deleted)
    assert "Le brouillon « Brouillon » l’utilisait" in shown(deleted)


def test_a_french_user_reads_the_key_field_and_refusals_in_french(
    api: TestClient, french: Browser, things: None
) -> None:
    scenario(api, "Bienvenue", graph(send("welcome")), live=True)

    new_segment = french.client.get("/segments/new").text
    bad_key = french.post(
        "/segments", {"name": "Lyon", "key": "Pas Une Clé", "condition": '{"all": []}'}
    )
    refused = french.post("/messages/welcome/delete")

    assert "Les scénarios et l’API l’utilisent." in new_segment
    assert "ne peut pas servir de clé" in shown(bad_key)
    assert "sert au scénario actif « Bienvenue » : mettez-le en pause" in shown(refused)
