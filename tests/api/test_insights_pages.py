"""Gallery, statistics, drill-down and journey pages, through HTTP with a logged-in user."""

from __future__ import annotations

import re
from typing import Any

import pytest
import redis as sync_redis
from sqlmodel import Session, select

from app.models import ContactList, Enrollment, ListMembership, MessageTemplate, Scenario, StepLog
from app.services.scenarios import scenarios
from tests.fixtures.web import Browser
from tests.worker.engine_harness import Engine


@pytest.fixture
def flow(session: Session) -> Engine:
    return Engine(session)


def cart_scenario(engine: Engine) -> Scenario:
    scenario, _ = scenarios.create_from_template(
        engine.session, "abandoned_cart", now=engine.clock.now()
    )
    assert scenario.id is not None
    scenarios.activate(engine.session, scenario.id, now=engine.clock.now())
    engine.session.flush()
    return scenario


def test_the_gallery_shows_every_template_with_a_preview_and_creates_it_in_one_click(
    logged_in: Browser, session: Session
) -> None:
    page = logged_in.client.get("/templates")
    assert page.status_code == 200
    for name in ("Welcome series", "Birthday", "Abandoned cart", "Onboarding series",
                 "Lead scoring", "Loyal customers", "Re-engagement / sunset",
                 "Confirm and welcome"):  # fmt: skip
        assert name in page.text
    assert page.text.count('<svg class="graph-preview"') == 8
    assert "When to use it" in page.text

    created = logged_in.post("/templates/lead_scoring/use")
    assert created.status_code == 303
    scenario = session.exec(select(Scenario)).one()
    assert created.headers["location"] == f"/scenarios/{scenario.id}"
    assert scenario.template_key == "lead_scoring"
    assert scenario.name == "Lead scoring"
    assert session.exec(select(ContactList.key)).all() == ["hot-leads"]


def test_an_unknown_template_is_refused_and_creates_nothing(
    logged_in: Browser, session: Session
) -> None:
    response = logged_in.post("/templates/nope/use")
    assert response.status_code == 422
    assert "There is no template" in response.text
    assert session.exec(select(Scenario)).all() == []
    assert session.exec(select(MessageTemplate)).all() == []


def test_pages_need_a_login(client: Any) -> None:
    for url in ("/templates", "/scenarios/1/stats", "/scenarios/1/blocks/x/contacts",
                "/scenarios/1/contacts/1", "/scenarios/1/live"):  # fmt: skip
        assert client.get(url).status_code == 303, url


def fill_cart(flow: Engine, scenario: Scenario, count: int = 3) -> list[Any]:
    people = [flow.contact(f"buyer{i}@shop.test") for i in range(count)]
    for i, person in enumerate(people):
        flow.event(person, "cart_updated", cart_id=f"c{i}")
    flow.run()
    return people


def test_the_drill_down_pages_searches_and_filters_who_is_at_a_block(
    logged_in: Browser, flow: Engine
) -> None:
    scenario = cart_scenario(flow)
    people = fill_cart(flow, scenario, count=5)
    flow.event(people[0], "purchase", cart_id="c0")
    flow.run()
    url = f"/scenarios/{scenario.id}/blocks/hour/contacts"

    everyone = logged_in.client.get(url)
    assert 'data-testid="drill-total">5<' in everyone.text
    waiting = logged_in.client.get(url, params={"show": "waiting"})
    assert 'data-testid="drill-total">4<' in waiting.text
    assert "buyer0@shop.test" not in waiting.text
    found = logged_in.client.get(url, params={"q": "BUYER3"})
    assert 'data-testid="drill-total">1<' in found.text
    assert "buyer3@shop.test" in found.text

    from app.services.insights.contacts import block_visitors

    first = block_visitors(flow.session, scenario.id or 0, "hour", limit=2)
    second = block_visitors(
        flow.session, scenario.id or 0, "hour", limit=2, after=first.next_cursor
    )
    third = block_visitors(
        flow.session, scenario.id or 0, "hour", limit=2, after=second.next_cursor
    )
    seen = [v.email for page in (first, second, third) for v in page.rows]
    assert len(seen) == 5
    assert len(set(seen)) == 5
    assert third.next_cursor is None
    paged = logged_in.client.get(url, params={"after": str(first.next_cursor)})
    assert all(e not in paged.text for e in (first.rows[0].email, first.rows[1].email))

    bad = logged_in.client.get(url, params={"show": "sideways"})
    assert bad.status_code == 422
    assert "is not a way to filter" in bad.text


def test_removing_a_waiting_contact_records_a_step_and_lowers_the_hot_counter(
    logged_in: Browser, flow: Engine, redis_url: str
) -> None:
    scenario = cart_scenario(flow)
    people = fill_cart(flow, scenario, count=2)
    enrollment = flow.session.exec(
        select(Enrollment).where(Enrollment.contact_id == people[0].id)
    ).one()
    hot = sync_redis.Redis.from_url(redis_url)
    key = f"parcours:counters:{enrollment.version_id}"
    hot.delete(key)
    hot.hset(key, mapping={"hour:waiting": 2, "hour:entered": 2, "~built": 1})

    response = logged_in.post(
        f"/scenarios/{scenario.id}/enrollments/{enrollment.id}/remove", htmx=True
    )
    assert response.status_code == 200
    assert "Removed by Marie" in response.text
    flow.session.expire_all()
    moved = flow.session.get(Enrollment, enrollment.id)
    assert moved is not None
    assert moved.state == "exited"
    assert moved.wake_at is None
    last = flow.session.exec(
        select(StepLog).where(StepLog.enrollment_id == enrollment.id).order_by(StepLog.seq.desc())  # type: ignore[attr-defined]
    ).first()
    assert last is not None
    assert (last.outcome, last.detail) == (
        "exited",
        {
            "text": "removed by Marie",
            "say": {"say": "removed by %(name)s", "args": {"name": "Marie"}},
        },
    )
    assert int(hot.hget(key, "hour:waiting") or 0) == 1

    again = logged_in.post(
        f"/scenarios/{scenario.id}/enrollments/{enrollment.id}/remove", htmx=True
    )
    assert again.status_code == 422
    assert "already left" in again.text
    wrong = logged_in.post(
        f"/scenarios/{(scenario.id or 0) + 1}/enrollments/{enrollment.id}/remove", htmx=True
    )
    assert wrong.status_code == 404
    hot.delete(key)
    hot.close()


def test_save_as_list_puts_everyone_the_filter_shows_in_a_new_list(
    logged_in: Browser, flow: Engine
) -> None:
    scenario = cart_scenario(flow)
    people = fill_cart(flow, scenario, count=3)
    url = f"/scenarios/{scenario.id}/blocks/hour/save-list"
    saved = logged_in.post(url, {"name": "Carts left behind", "show": "waiting"}, htmx=True)
    assert saved.status_code == 200
    assert "created with 3 contacts" in saved.text
    lst = flow.session.exec(select(ContactList).where(ContactList.key == "carts-left-behind")).one()
    members = flow.session.exec(
        select(ListMembership.contact_id).where(ListMembership.list_id == lst.id)
    ).all()
    assert sorted(members) == sorted(p.id for p in people)

    twice = logged_in.post(url, {"name": "Carts left behind", "show": "waiting"}, htmx=True)
    assert twice.status_code == 409
    nobody = logged_in.post(url, {"name": "Yes people", "show": "yes"}, htmx=True)
    assert nobody.status_code == 422
    assert "Nobody matches" in nobody.text
    assert (
        flow.session.exec(select(ContactList).where(ContactList.key == "yes-people")).first()
        is None
    )


def test_the_journey_page_explains_every_condition_in_plain_words(
    logged_in: Browser, flow: Engine
) -> None:
    scenario, _ = scenarios.create_from_template(
        flow.session, "loyal_customers", now=flow.clock.now()
    )
    scenarios.activate(flow.session, scenario.id or 0, now=flow.clock.now())
    anna = flow.contact("anna@shop.test", first_name="Anna")
    flow.event(anna, "purchase")
    flow.run()
    page = logged_in.client.get(f"/scenarios/{scenario.id}/contacts/{anna.id}")
    assert page.status_code == 200
    text = re.sub(r"\s+", " ", page.text)
    assert "purchase happened 1 time, needs fewer than 2 → yes" in text
    assert 'data-testid="step-first-yes"' in text
    assert 'data-testid="step-coupon-completed"' in text
    assert logged_in.client.get(f"/scenarios/{scenario.id}/contacts/999999").status_code == 404


def test_the_statistics_page_counts_entries_goals_messages_and_filters_by_version(
    logged_in: Browser, flow: Engine
) -> None:
    scenario = cart_scenario(flow)
    people = fill_cart(flow, scenario, count=3)
    flow.event(people[0], "purchase", cart_id="c0")
    flow.later(hours=2)
    page = logged_in.client.get(
        f"/scenarios/{scenario.id}/stats", params={"start": "2026-01-01", "end": "2026-01-10"}
    )
    assert page.status_code == 200
    assert 'data-testid="kpi-entries">3<' in page.text
    assert 'data-testid="kpi-conversions">1<' in page.text
    assert 'data-testid="messages-table"' in page.text
    assert "Send an email" in page.text
    assert f'data-live-src="/scenarios/{scenario.id}/live?version=1"' in page.text
    assert 'data-counter="waiting"' in page.text  # the live graph's first paint

    other = logged_in.client.get(f"/scenarios/{scenario.id}/stats", params={"version": "7"})
    assert other.status_code == 404
    assert "no version 7" in other.text
    garbled = logged_in.client.get(f"/scenarios/{scenario.id}/stats", params={"version": "v2"})
    assert garbled.status_code == 422
    assert "A version is a number" in garbled.text
    backwards = logged_in.client.get(
        f"/scenarios/{scenario.id}/stats", params={"start": "2026-02-01", "end": "2026-01-01"}
    )
    assert backwards.status_code == 422
    assert "start date is after" in backwards.text


def test_messages_per_block_count_sends_opens_and_clicks_of_this_scenario_only(
    flow: Engine,
) -> None:
    from app.services.insights.stats import period, scenario_report

    scenario = cart_scenario(flow)
    people = fill_cart(flow, scenario, count=2)
    flow.later(hours=2)
    for person in people:
        flow.event(
            person,
            "email_opened",
            message="cart-reminder",
            scenario_id=scenario.id,
            node_id="reminder",
        )
    flow.event(
        people[0],
        "email_clicked",
        message="cart-reminder",
        scenario_id=scenario.id,
        node_id="reminder",
    )
    flow.event(
        people[1],
        "email_opened",
        message="other",
        scenario_id=(scenario.id or 0) + 1,
        node_id="reminder",
    )
    flow.session.flush()
    report = scenario_report(
        flow.session,
        scenario.id or 0,
        None,
        period("2026-01-05", "2026-01-05", flow.clock.now().date()),
    )
    (reminder,) = report.messages
    assert (reminder.node_id, reminder.pending, reminder.opened, reminder.clicked) == (
        "reminder",
        2,
        2,
        1,
    )
    assert report.entries == {flow.clock.now().date(): 2}
