"""Publishing a change with the contacts already inside (CONTRACTS-2 §B): they stay on their
version, move to a block of the new one (keeping or restarting their timers) or leave; the
step log, the counters and each contact's journey say so; a plan that cannot be applied, or
that was made against another live version, changes nothing."""

from __future__ import annotations

import html
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from app.models import Scenario, ScenarioVersion, StepLog
from tests.api.publish_kit import DAY, SHORTER, Shop, node, open_shop, wait, welcome
from tests.fixtures.web import Browser
from worker.engine.advance import claim_due, run_journeys
from worker.engine.book import Book, StaleChunk

START, WAITED = (1, "start", "completed"), (1, "wait3", "waiting")


@pytest.fixture
def shop(client: TestClient, api_key: str, session: Session) -> Shop:
    return open_shop(client, api_key, session)


def move(to: str | None = None) -> dict[str, Any]:
    return {"action": "move", **({"to": to} if to else {})}


def test_without_a_migration_the_contacts_inside_stay_on_their_version(shop: Shop) -> None:
    shop.signups(3)
    shop.draft(SHORTER)

    answer = shop.publish()

    assert answer.status_code == 200
    assert "migrated" not in answer.json()
    assert shop.where() == [(1, "wait3", "waiting")] * 3
    stayed = shop.publish(migration={"wait3": {"action": "stay"}})
    assert stayed.json()["migrated"] == {"moved": 0, "exited": 0}
    assert shop.where() == [(1, "wait3", "waiting")] * 3


def test_moved_with_timers_restarted_they_start_the_target_delay_anew(shop: Shop) -> None:
    people = shop.signups(3)
    shop.flow.clock.advance(days=1)
    shop.draft(SHORTER)

    answer = shop.publish(migration={"wait3": move("wait1")}, timers="restart")

    assert answer.status_code == 200, answer.text
    assert answer.json()["version"] == 2
    assert answer.json()["migrated"] == {"moved": 3, "exited": 0}
    assert shop.where() == [(2, "wait1", "active")] * 3  # due now at the target itself
    shop.flow.run()
    assert shop.where() == [(2, "wait1", "waiting")] * 3
    assert {j.wake_at for j in shop.journeys()} == {shop.now() + timedelta(days=1)}
    assert shop.sent_to() == []
    # The move is written at the block left; the target's own step counts the arrival.
    assert shop.steps(people[0]) == [
        START,
        WAITED,
        (1, "wait3", "migrated"),
        (2, "wait1", "waiting"),
    ]

    shop.flow.later(days=1)

    assert sorted(shop.sent_to()) == sorted(p.id for p in people)  # the target's email
    assert shop.where() == [(2, "reminder", "completed")] * 3
    assert shop.steps(people[0])[-2:] == [(2, "wait1", "completed"), (2, "reminder", "completed")]


def test_moved_with_timers_kept_they_wake_when_their_first_wait_ends(shop: Shop) -> None:
    people = shop.signups(2)
    due = shop.journeys()[0].wake_at
    shop.flow.clock.advance(days=1)
    shop.draft(SHORTER)

    answer = shop.publish(migration={"wait3": move("wait1")}, timers="keep")

    assert answer.json()["migrated"] == {"moved": 2, "exited": 0}
    assert shop.where() == [(2, "wait1", "waiting")] * 2
    assert {j.wake_at for j in shop.journeys()} == {due}
    shop.flow.later(days=1, hours=23)
    assert shop.sent_to() == []
    shop.flow.later(hours=1)  # three days after they signed up
    assert sorted(shop.sent_to()) == sorted(p.id for p in people)
    assert shop.steps(people[0]) == [
        START,
        WAITED,
        (2, "wait1", "migrated"),
        (2, "wait1", "completed"),
        (2, "reminder", "completed"),
    ]


def test_timers_are_kept_only_onto_a_delay_of_the_same_kind(shop: Shop) -> None:
    """Moved straight onto the email, a waiting contact runs it now: there is no wait to keep."""
    people = shop.signups(2)
    shop.draft(SHORTER)

    shop.publish(migration={"wait3": move("reminder")}, timers="keep")
    assert shop.where() == [(2, "reminder", "active")] * 2
    shop.flow.run()

    assert sorted(shop.sent_to()) == sorted(p.id for p in people)
    assert shop.steps(people[0])[-2:] == [(1, "wait3", "migrated"), (2, "reminder", "completed")]


def test_a_kept_block_is_the_target_when_a_move_names_none(shop: Shop) -> None:
    shop.signups(2)
    shop.draft(welcome(wait("wait3", 1)))  # the same block, one day now

    shop.publish(migration={"wait3": move()}, timers="restart")
    shop.flow.run()

    assert shop.where() == [(2, "wait3", "waiting")] * 2
    assert {j.wake_at for j in shop.journeys()} == {shop.now() + timedelta(days=1)}


def test_those_told_to_exit_leave_because_the_scenario_changed(shop: Shop) -> None:
    people = shop.signups(3)
    shop.draft(SHORTER)

    answer = shop.publish(migration={"wait3": {"action": "exit"}})

    assert answer.json()["migrated"] == {"moved": 0, "exited": 3}
    assert shop.where() == [(1, "wait3", "exited")] * 3
    assert all(j.wake_at is None and j.ended_at == shop.now() for j in shop.journeys())
    assert shop.steps(people[0]) == [START, WAITED, (1, "wait3", "migrated")]
    last = shop.session.exec(
        select(StepLog).where(StepLog.contact_id == people[0].id).order_by(StepLog.seq.desc())  # type: ignore[attr-defined]
    ).first()
    assert last is not None
    assert last.detail is not None
    assert last.detail["text"] == "left: the scenario changed"
    shop.flow.later(days=4)
    assert shop.sent_to() == []


def test_a_choice_applies_to_its_block_in_every_running_version(shop: Shop) -> None:
    shop.signups(3)
    shop.draft(SHORTER)
    shop.publish()  # version 2; the three stay on version 1
    shop.signups(2)
    shop.draft(welcome(wait("wait1", 2)))

    answer = shop.publish(migration={"wait3": move("wait1"), "wait1": move()}, timers="restart")

    assert answer.json() == {
        "status": "active",
        "version": 3,
        "warnings": [],
        "migrated": {"moved": 5, "exited": 0},
    }
    shop.flow.run()
    assert shop.where() == [(3, "wait1", "waiting")] * 5


def test_the_counters_of_both_versions_follow_the_step_log(shop: Shop) -> None:
    shop.signups(3)
    shop.signups(1)  # this one will stay
    shop.draft(SHORTER)
    before = shop.counters(1)

    shop.publish(migration={"wait3": move("wait1")}, timers="restart")
    assert shop.where() == [(2, "wait1", "active")] * 4  # the choice is per block: all four
    shop.flow.run()

    assert before == {
        "start": {"entered": 4, "completed": 4},
        "wait3": {"entered": 4, "waiting": 4},
    }
    assert shop.counters(1) == {"start": {"entered": 4, "completed": 4}, "wait3": {"entered": 4}}
    assert shop.counters(2) == {"wait1": {"entered": 4, "waiting": 4}}
    migrated = shop.session.exec(
        select(StepLog.version_id, StepLog.node_id, func.count())
        .where(StepLog.outcome == "migrated")
        .group_by(StepLog.version_id, StepLog.node_id)  # type: ignore[arg-type]
    ).all()
    assert migrated == [(shop.version_id(1), "wait3", 4)]


def test_the_stats_api_shows_each_version_with_its_own_counts(shop: Shop) -> None:
    shop.signups(2)
    shop.draft(SHORTER)
    shop.publish(migration={"wait3": move("wait1")}, timers="keep")

    live = shop.api.get(f"/api/v1/scenarios/{shop.scenario_id}/stats").json()

    assert live["version"] == 2
    assert live["nodes"]["wait1"]["entered"] == 2
    assert live["nodes"]["wait1"]["waiting"] == 2


@pytest.mark.parametrize(
    ("migration", "words"),
    [
        ({"nope": {"action": "exit"}}, "There is no block “nope” in this scenario."),
        ({"reminder": {"action": "exit"}}, "Nobody is in “Send email 'reminder'” now."),
        ({"wait3": move("start")}, "Contacts cannot be moved into a trigger"),
        ({"wait3": move("wait3")}, "“Wait 3 days” is not in the version you are publishing"),
        ({"wait3": move()}, "is not in the version you are publishing"),
        ({"wait3": move("ghost")}, "“ghost” is not in the version you are publishing"),
    ],
    ids=["unknown", "nobody-there", "into-a-trigger", "removed-block", "no-same-id", "no-target"],
)
def test_a_plan_that_cannot_be_applied_is_refused_and_publishes_nothing(
    shop: Shop, migration: dict[str, Any], words: str
) -> None:
    shop.signups(2)
    shop.draft(SHORTER)
    before = everything(shop)

    answer = shop.publish(migration=migration)

    assert answer.status_code == 422, answer.text
    detail = answer.json()["detail"]
    assert "nothing was published" in detail["message"]
    assert [p["node"] for p in detail["problems"]] == list(migration)
    assert words in detail["problems"][0]["message"]
    assert everything(shop) == before


@pytest.mark.parametrize(
    "body",
    [
        {"migration": {"wait3": {"action": "teleport"}}},
        {"migration": {"wait3": {"action": "exit", "to": "wait1"}}},
        {"migration": {"wait3": "exit"}},
        {"migration": {"": {"action": "exit"}}},
        {"migration": {"wait3": {"action": "exit"}}, "timers": "sometimes"},
        {"migration": ["wait3"]},
        {"from_version": "one"},
    ],
    ids=[
        "unknown-action",
        "exit-with-a-target",
        "not-an-object",
        "empty-id",
        "timers",
        "list",
        "from",
    ],
)
def test_a_malformed_migration_is_a_422_that_publishes_nothing(
    shop: Shop, body: dict[str, Any]
) -> None:
    shop.signups(1)
    shop.draft(SHORTER)
    before = everything(shop)

    answer = shop.publish(**body)

    assert answer.status_code == 422, answer.text
    assert everything(shop) == before


def test_a_plan_made_against_a_version_no_longer_live_is_a_409(shop: Shop) -> None:
    shop.signups(2)
    shop.draft(SHORTER)
    planned = shop.plan()["from_version"]
    shop.publish()  # someone else publishes version 2 meanwhile; the two stay
    shop.draft(welcome(wait("wait1", 2)))
    before = everything(shop)

    answer = shop.publish(migration={"wait3": move("wait1")}, from_version=planned)

    assert answer.status_code == 409
    assert (
        "Version 2 was published since your plan was made against version 1"
        in (answer.json()["detail"])
    )
    assert everything(shop) == before
    fresh = shop.publish(migration={"wait3": move("wait1")}, from_version=2)
    assert fresh.status_code == 200
    assert fresh.json()["version"] == 3


def test_the_journey_page_says_where_a_contact_was_moved_from_and_why_it_left(
    shop: Shop, logged_in: Browser
) -> None:
    person = shop.signups(1)[0]
    shop.draft(SHORTER)
    shop.publish(migration={"wait3": move("wait1")})
    shop.draft(welcome(wait("wait1", 2)))
    shop.publish(migration={"wait1": {"action": "exit"}})

    page = logged_in.client.get(f"/scenarios/{shop.scenario_id}/contacts/{person.id}")

    shown = html.unescape(page.text)
    assert "moved from “Wait 3 days” (version 1) to “Wait 1 day”" in shown
    assert "left: the scenario changed" in shown
    assert shown.count('data-testid="step-wait1-migrated"') == 2
    assert "scenario changed" in shown  # the steps' outcome


def test_the_journey_page_says_it_in_french_with_the_blocks_in_french(
    shop: Shop, french: Browser
) -> None:
    """Published through the API (in English), read by a French user: French words, French
    block names."""
    person = shop.signups(1)[0]
    shop.draft(SHORTER)
    shop.publish(migration={"wait3": move("wait1")})

    page = html.unescape(
        french.client.get(f"/scenarios/{shop.scenario_id}/contacts/{person.id}").text
    )

    assert "déplacé depuis « Attendre 3 jours » (version 1) vers « Attendre 1 jour »" in page
    assert "scénario modifié" in page


def everything(shop: Shop) -> dict[str, Any]:
    """What a refused publish must leave as it was."""
    session = shop.session
    session.expire_all()
    scenario = session.get(Scenario, shop.scenario_id)
    assert scenario is not None
    journeys = [(e.version_id, e.node_id, str(e.state), e.seq, e.wake_at) for e in shop.journeys()]
    return {
        "live": scenario.live_version,
        "status": scenario.status,
        "draft": scenario.draft,
        "versions": session.exec(select(func.count()).select_from(ScenarioVersion)).one(),
        "steps": session.exec(select(func.count()).select_from(StepLog)).one(),
        "journeys": journeys,
    }


def awaiting_purchase(node_id: str, days: int) -> dict[str, Any]:
    """signup → wait up to ``days`` for a purchase → yes: 5 points, no: the reminder."""
    return {
        "schema": 1,
        "nodes": [
            node("start", "trigger", "event", event="signup"),
            node(node_id, "delay", "wait_for_event", event="purchase", timeout_seconds=days * DAY),
            node("reminder", "action", "send_email", message="reminder"),
            node("thanks", "action", "add_score", points=5),
        ],
        "edges": [
            {"from": "start", "to": node_id},
            {"from": node_id, "port": "no", "to": "reminder"},
            {"from": node_id, "port": "yes", "to": "thanks"},
        ],
        "settings": {"reentry": "always"},
    }


def test_a_wait_for_the_same_event_keeps_its_deadline_and_still_hears_the_event(
    client: TestClient, api_key: str, session: Session
) -> None:
    shop = open_shop(client, api_key, session)
    shop.draft(awaiting_purchase("purchase3", 3))
    shop.publish()
    buyer, other = shop.signups(2)
    deadline = shop.journeys()[0].wake_at
    shop.draft(awaiting_purchase("purchase1", 1))

    shop.publish(migration={"purchase3": move("purchase1")}, timers="keep")

    assert shop.where() == [(3, "purchase1", "waiting")] * 2
    assert {j.wake_at for j in shop.journeys()} == {deadline}
    shop.flow.clock.advance(days=2)
    shop.flow.event(buyer, "purchase")
    shop.flow.run()
    assert shop.steps(buyer)[-2:] == [(3, "purchase1", "yes"), (3, "thanks", "completed")]
    shop.flow.later(days=1)
    assert shop.sent_to() == [other.id]  # at the first deadline, three days after signing up


def test_a_chunk_the_engine_claimed_before_a_migration_is_dropped_and_run_again(
    shop: Shop,
) -> None:
    """The engine claims the due journeys, a publish moves them meanwhile, then the chunk
    writes: the seq guard drops it whole (no step, no email from the old version) and the
    next run takes them from where the migration put them."""
    people = shop.signups(2)
    shop.flow.clock.advance(days=3)  # their three days are up: due on version 1
    shop.draft(SHORTER)
    now = shop.now()
    claimed = claim_due(shop.session, now, 100)
    assert {(v.node_id, v.contact_id) for v in claimed} == {("wait3", p.id) for p in people}

    answer = shop.publish(migration={"wait3": move("wait1")}, timers="restart")
    assert answer.json()["migrated"] == {"moved": 2, "exited": 0}

    plan_of = shop.flow.plans.many(shop.session, {v.version_id for v in claimed})
    book = Book(now, shop.flow.plans.events_heard(shop.session))
    run_journeys(shop.session, claimed, plan_of, book, now)
    with pytest.raises(StaleChunk):
        book.write(shop.session, moved=claimed)
    assert shop.sent_to() == []  # the old version's reminder was never written
    assert shop.where() == [(2, "wait1", "active")] * 2

    shop.flow.run()

    assert shop.where() == [(2, "wait1", "waiting")] * 2
    assert shop.steps(people[0]) == [
        START,
        WAITED,
        (1, "wait3", "migrated"),
        (2, "wait1", "waiting"),
    ]
    assert shop.sent_to() == []


def test_a_paused_scenario_publishes_with_its_migration_and_an_archived_one_refuses(
    shop: Shop,
) -> None:
    shop.signups(2)
    shop.draft(SHORTER)
    base = f"/api/v1/scenarios/{shop.scenario_id}"
    assert shop.api.post(f"{base}/pause").status_code == 200

    moved = shop.publish(migration={"wait3": move("wait1")}, timers="restart", from_version=1)

    assert moved.status_code == 200, moved.text
    assert moved.json()["status"] == "active"
    assert shop.where() == [(2, "wait1", "active")] * 2
    shop.draft(welcome(wait("wait2", 2)))
    assert shop.api.post(f"{base}/pause").status_code == 200
    assert shop.api.delete(base).status_code == 204  # archived: it ran

    refused = shop.publish(migration={"wait1": {"action": "exit"}}, from_version=2)

    assert refused.status_code == 409, refused.text
    assert "archived" in refused.json()["detail"]
    assert shop.where() == [(2, "wait1", "active")] * 2
    assert shop.api.get(f"{base}/publish-plan").status_code == 200  # its history stays readable
