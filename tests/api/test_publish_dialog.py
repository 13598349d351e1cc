"""The canvas's publish dialog (issue 16): for a live scenario whose draft changed, the fragment
says what changes and asks what becomes of the contacts inside, each choice spelled out, in
the user's language; with no plan to show, it answers 204 and the canvas activates as before."""

from __future__ import annotations

import json
import re
from html import unescape
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert
from sqlmodel import Session

from app.graph.wording import format_duration
from app.models import ContactList, ListMembership
from tests.api.publish_kit import LIVE, SHORTER, Shop, node, open_shop, wait, welcome
from tests.fixtures.web import Browser


@pytest.fixture
def shop(client: TestClient, api_key: str, session: Session, logged_in: Browser) -> Shop:
    return open_shop(client, api_key, session)


def dialog(shop: Shop, path: str = "", **query: Any) -> str:
    answer = shop.api.get(f"/scenarios/{shop.scenario_id}/publish-dialog{path}", params=query)
    assert answer.status_code == 200, answer.text
    return answer.text


def by_testid(html: str, testid: str) -> str:
    """The text of the element with that test id, tags left out and spaces folded."""
    found = re.search(
        rf'data-testid="{re.escape(testid)}"[^>]*>(.*?)</(p|li|strong|fieldset)>', html, re.S
    )
    assert found, testid
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", found.group(1))).split())


def checked(html: str, testid: str) -> bool:
    tag = re.search(rf'<input[^>]*data-testid="{re.escape(testid)}"[^>]*>', html)
    assert tag, testid
    return " checked" in tag.group(0)


def selected(html: str, testid: str) -> str:
    select = re.search(rf'<select[^>]*data-testid="{re.escape(testid)}".*?</select>', html, re.S)
    assert select, testid
    option = re.search(r'<option value="([^"]*)" selected>', select.group(0))
    assert option, "nothing selected"
    return option.group(1)


def moving(**answers: str) -> dict[str, Any]:
    """The choices part's query for one held block ``wait3``."""
    return {"node": "wait3", **{k.replace("_", "-"): v for k, v in answers.items()}}


def test_the_dialog_shows_the_change_and_the_contacts_in_the_removed_block(shop: Shop) -> None:
    shop.signups(3)
    shop.draft(SHORTER)

    html = dialog(shop)

    assert "Publish version 2" in html
    assert by_testid(html, "legend-added") == "Added, marked on the canvas: Wait 1 day"
    assert by_testid(html, "legend-changed") == "Changed, marked on the canvas: When signup happens"
    assert by_testid(html, "legend-removed") == "Removed: Wait 3 days"
    marks = re.search(r"data-diff='([^']*)'", html)
    assert marks is not None
    assert json.loads(unescape(marks.group(1))) == {"added": ["wait1"], "changed": ["start"]}
    assert by_testid(html, "held-count-wait3") == "3"
    assert "version 1 · removed from the draft" in html
    assert checked(html, "stay-wait3")  # the default
    assert "Leave them on version 1 (they finish as planned)" in html
    assert selected(html, "move-to-wait3") == "wait1"  # what now follows the signup
    assert by_testid(html, "effect-wait3") == (
        "3 contacts waiting in “Wait 3 days” stay on version 1 and finish the journey as planned."
    )
    assert 'name="from_version" value="1"' in html
    assert 'data-testid="publish-timers"' not in html  # nobody moves yet


def test_each_choice_is_spelled_out_with_its_consequences(shop: Shop) -> None:
    shop.signups(3)
    shop.draft(SHORTER)

    kept = dialog(shop, "/choices", **moving(action_0="move", to_0="wait1"))
    assert checked(kept, "move-wait3")
    assert checked(kept, "timers-keep")  # a wait onto a wait: the timers question
    assert by_testid(kept, "effect-wait3") == (
        "3 contacts waiting in “Wait 3 days” will move to “Wait 1 day” and receive “reminder” "
        "on Thu, Jan 8 at the earliest. They keep their wake-up time."
    )  # the frozen clock's Monday 5 January, plus their three days

    restarted = dialog(shop, "/choices", **moving(action_0="move", to_0="wait1", timers="restart"))
    assert checked(restarted, "timers-restart")
    assert by_testid(restarted, "effect-wait3") == (
        "3 contacts waiting in “Wait 3 days” will move to “Wait 1 day” and receive “reminder” "
        "tomorrow at the earliest. Their wait starts again now."
    )

    to_email = dialog(shop, "/choices", **moving(action_0="move", to_0="reminder"))
    assert selected(to_email, "move-to-wait3") == "reminder"
    assert 'data-testid="publish-timers"' not in to_email
    assert by_testid(to_email, "effect-wait3") == (
        "3 contacts waiting in “Wait 3 days” will move to “Send email 'reminder'” and receive "
        "“reminder” right away."
    )

    out = dialog(shop, "/choices", **moving(action_0="exit"))
    assert checked(out, "exit-wait3")
    assert by_testid(out, "effect-wait3") == (
        "3 contacts waiting in “Wait 3 days” will leave the scenario now and receive nothing "
        "more from it."
    )


@pytest.mark.parametrize("seconds", [10**9 * 86_400, 10**30])
def test_a_move_onto_a_wait_longer_than_the_calendar_is_spelled_out(
    shop: Shop, seconds: int
) -> None:
    shop.signups(2)
    shop.draft(welcome(node("wait1", "delay", "wait", seconds=seconds)))

    restarted = dialog(shop, "/choices", **moving(action_0="move", to_0="wait1", timers="restart"))

    to = f"Wait {format_duration(seconds)}"
    assert by_testid(restarted, "effect-wait3") == (
        f"2 contacts waiting in “Wait 3 days” will move to “{to}” and receive no more "
        "messages from this scenario. Their wait starts again now."
    )


def test_a_move_to_a_block_that_cannot_take_contacts_goes_to_the_suggested_one(
    shop: Shop,
) -> None:
    shop.signups(1)
    shop.draft(SHORTER)

    html = dialog(shop, "/choices", **moving(action_0="move", to_0="start"))  # a trigger

    assert selected(html, "move-to-wait3") == "wait1"
    assert 'value="start"' not in html  # triggers are never offered


def test_a_kept_block_is_suggested_to_itself_and_a_wait_before_a_decision_says_so(
    shop: Shop,
) -> None:
    shop.signups(2)
    decided = welcome(
        wait("wait3", 5),
        node("vip", "condition", "if", **{"if": {"attribute": "score", "op": "gte", "value": 9}}),
    )
    decided["edges"][-1]["port"] = "yes"
    shop.draft(decided)

    html = dialog(shop)
    assert selected(html, "move-to-wait3") == "wait3"
    assert "version 1 · changed in the draft" in html

    moved = dialog(shop, "/choices", **moving(action_0="move", timers="restart"))
    assert by_testid(moved, "effect-wait3") == (
        "2 contacts waiting in “Wait 3 days” will move to “Wait 5 days”. What comes next for "
        "them depends on “If score ≥ 9”. Their wait starts again now."
    )


def test_there_is_no_plan_before_the_first_version_nor_for_an_unchanged_draft(
    shop: Shop, client: TestClient
) -> None:
    shop.signups(1)
    unchanged = client.get(f"/scenarios/{shop.scenario_id}/publish-dialog")
    assert unchanged.status_code == 204

    created = client.post("/api/v1/scenarios", json={"name": "New", "graph": LIVE}).json()
    first = client.get(f"/scenarios/{created['id']}/publish-dialog")
    assert first.status_code == 204


def test_nobody_inside_is_said_and_the_draft_errors_block_the_publish(shop: Shop) -> None:
    shop.draft(welcome(wait("wait3", 3), node("thanks", "action", "send_email")))

    html = dialog(shop)

    assert "Nobody is inside the scenario right now" in html
    assert "Fix these first" in html
    assert re.search(r'data-testid="publish-confirm" disabled', html)


def test_bad_answers_are_refused_in_words(shop: Shop, client: TestClient) -> None:
    shop.signups(1)
    shop.draft(SHORTER)
    url = f"/scenarios/{shop.scenario_id}/publish-dialog/choices"

    wrong_action = client.get(url, params={"node": "wait3", "action-0": "teleport"})
    assert wrong_action.status_code == 422
    assert "Choose what becomes of the contacts in each block." in wrong_action.text

    wrong_timers = client.get(url, params={"node": "wait3", "timers": "later"})
    assert wrong_timers.status_code == 422

    assert client.get("/scenarios/999999/publish-dialog").status_code == 404
    assert client.get("/scenarios/nope/publish-dialog").status_code == 422


def test_the_question_about_contacts_already_there_comes_with_the_plan(
    shop: Shop, session: Session
) -> None:
    news = ContactList(key="news", name="Newsletter")
    session.add(news)
    session.flush()
    people = [shop.flow.contact() for _ in range(4)]
    session.execute(
        insert(ListMembership),
        [{"list_id": news.id, "contact_id": p.id, "added_at": shop.now()} for p in people],
    )
    session.commit()
    also = welcome(wait("wait3", 3))
    also["nodes"].append(node("joined", "trigger", "list_added", list="news"))
    also["edges"].append({"from": "joined", "to": "wait3"})
    shop.draft(also)

    html = dialog(shop)

    assert "Also let in the 4 contacts already in the list “Newsletter”?" in html
    assert checked(html, "existing-none")  # a change is not a first activation
    assert 'value="1"' in html  # a tenth of them an hour, at least one


def test_the_dialog_speaks_french(shop: Shop, french: Browser) -> None:
    shop.signups(21)
    shop.draft(SHORTER)

    html = dialog(shop)
    assert "Publier la version 2" in html
    assert by_testid(html, "legend-removed") == "Supprimé : Attendre 3 jours"
    assert by_testid(html, "effect-wait3") == (
        "21 contacts en attente dans « Attendre 3 jours » restent sur la version 1 et terminent "
        "le parcours comme prévu."
    )
    assert "Les laisser sur la version 1 (ils terminent comme prévu)" in html
    assert "Les faire sortir du scénario" in html

    moved = dialog(shop, "/choices", **moving(action_0="move", to_0="wait1", timers="restart"))
    assert by_testid(moved, "effect-wait3") == (
        "21 contacts en attente dans « Attendre 3 jours » passeront à « Attendre 1 jour » et "
        "recevront « reminder » demain au plus tôt. Leur attente recommence maintenant."
    )
    assert "Recommencer l’attente" in moved
