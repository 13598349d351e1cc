"""Every ready-made template, end to end: created in one call with the lists and messages it
needs, activated, fed contacts and events, the clock moved — then exactly who received which
message, who joined which list, and the scores."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session, select

from app.models import (
    Contact,
    ContactList,
    ListMembership,
    MessageTemplate,
    OutboxMessage,
    Scenario,
    StepLog,
)
from app.scenario_templates import scenario_templates
from app.services.scenarios import scenarios
from tests.worker.engine_harness import Engine
from worker.engine.anniversaries import schedule_anniversaries

DAY = 24.0  # hours


@pytest.fixture
def engine(session: Session) -> Engine:
    return Engine(session)


def use(engine: Engine, key: str) -> Scenario:
    now = engine.clock.now()
    scenario, report = scenarios.create_from_template(engine.session, key, now=now)
    bundle = scenario_templates()[key]
    assert sorted(report.created_lists + report.kept_lists) == sorted(s.key for s in bundle.lists)
    assert sorted(report.created_messages) == sorted(m.key for m in bundle.messages)
    assert scenario.id is not None
    scenarios.activate(engine.session, scenario.id, now=now)
    engine.session.flush()
    return scenario


def emails(engine: Engine) -> list[tuple[int | None, str]]:
    return [(contact, message) for contact, channel, message in engine.sent() if channel == "email"]


def alerts(engine: Engine) -> list[tuple[int | None, str]]:
    rows = engine.session.exec(
        select(OutboxMessage.contact_id, OutboxMessage.payload)
        .where(OutboxMessage.channel == "notify")
        .order_by(OutboxMessage.id)  # type: ignore[arg-type]
    ).all()
    return [(contact, payload["to"]) for contact, payload in rows]


def score(engine: Engine, contact: Contact) -> int:
    engine.session.refresh(contact)
    return contact.score


def test_every_template_brings_good_looking_emails_and_a_description(engine: Engine) -> None:
    for key, bundle in scenario_templates().items():
        assert bundle.description, key
        assert bundle.when_to_use, key
        for message in bundle.messages:
            assert "{{ unsubscribe_url }}" in message.html, (key, message.key)
            assert message.subject, (key, message.key)
            assert message.text.strip(), (key, message.key)
    use(engine, "welcome")
    stored = engine.session.exec(select(MessageTemplate.key)).all()
    assert sorted(stored) == ["welcome", "welcome-coupon"]


def test_welcome_series_greets_then_offers_a_coupon_to_who_has_not_bought(engine: Engine) -> None:
    scenario = use(engine, "welcome")
    newsletter = engine.session.exec(
        select(ContactList).where(ContactList.key == "newsletter")
    ).one()
    anna, ben = engine.contact("anna@shop.test"), engine.contact("ben@shop.test")
    for contact in (anna, ben):
        engine.event(contact, "list_added", list="newsletter")
    assert newsletter.id is not None
    engine.run()
    assert emails(engine) == [(anna.id, "welcome"), (ben.id, "welcome")]

    engine.later(hours=DAY)
    engine.event(ben, "purchase", amount=40)
    engine.later(hours=2 * DAY)
    assert emails(engine) == [
        (anna.id, "welcome"),
        (ben.id, "welcome"),
        (anna.id, "welcome-coupon"),
    ]
    assert engine.journey(ben, scenario)[-2:] == [
        ("bought", "yes"),
        ("already_customer", "completed"),
    ]


def test_birthday_coupon_a_week_before_at_nine_local_time(engine: Engine) -> None:
    use(engine, "birthday")
    lea = engine.contact("lea@shop.test", birthday=date(1990, 1, 19), timezone="Europe/Paris")
    engine.contact("nobirthday@shop.test")
    engine.clock.current = engine.clock.current.replace(month=1, day=12, hour=7, minute=59)

    def tick() -> None:
        schedule_anniversaries(engine.session, engine.plans, engine.clock.now())
        engine.run()

    tick()
    assert emails(engine) == []  # 8:59 in Paris
    engine.clock.advance(minutes=1)
    tick()
    assert emails(engine) == [(lea.id, "birthday-coupon")]
    engine.clock.advance(hours=1)
    tick()
    assert emails(engine) == [(lea.id, "birthday-coupon")]  # once a year


def test_abandoned_cart_reminds_per_cart_and_stops_when_bought(engine: Engine) -> None:
    scenario = use(engine, "abandoned_cart")
    quick, slow, never = (engine.contact(f"{n}@shop.test") for n in ("quick", "slow", "never"))
    for contact, cart in ((quick, "q1"), (slow, "s1"), (never, "n1")):
        engine.event(contact, "cart_updated", cart_id=cart, cart_total=80)
    engine.run()
    engine.later(minutes=30)
    engine.event(quick, "purchase", cart_id="q1")
    engine.run()
    engine.later(minutes=31)
    assert emails(engine) == [(slow.id, "cart-reminder"), (never.id, "cart-reminder")]

    engine.later(hours=5)
    engine.event(slow, "purchase", cart_id="s1")
    engine.run()
    engine.later(hours=DAY)
    assert emails(engine) == [
        (slow.id, "cart-reminder"),
        (never.id, "cart-reminder"),
        (never.id, "cart-reminder-2"),
    ]
    goals = engine.session.exec(
        select(StepLog.contact_id, StepLog.node_id)
        .where(StepLog.scenario_id == scenario.id, StepLog.outcome == "exited")
        .order_by(StepLog.id)  # type: ignore[arg-type]
    ).all()
    assert goals == [(quick.id, "hour"), (slow.id, "day")]
    assert engine.journey(never, scenario)[-1] == ("second_reminder", "completed")


def test_onboarding_nudges_who_has_not_completed_their_profile(engine: Engine) -> None:
    use(engine, "onboarding")
    done = engine.contact("done@shop.test", attributes={"profile_completed": True})
    late = engine.contact("late@shop.test")
    never = engine.contact("never@shop.test")
    for contact in (done, late, never):
        engine.event(contact, "signed_up")
    engine.run()
    engine.later(hours=3 * DAY)
    late.attributes = {"profile_completed": True}
    engine.session.add(late)
    engine.session.flush()
    engine.later(hours=4 * DAY)
    welcome = [(c.id, "onboarding-welcome") for c in (done, late, never)]
    assert emails(engine) == [
        *welcome,
        (done.id, "onboarding-tips"),
        (late.id, "profile-nudge"),
        (never.id, "profile-nudge"),
        (late.id, "onboarding-tips"),
    ]


def test_lead_scoring_adds_engagement_and_fit_points_and_alerts_sales_once(engine: Engine) -> None:
    use(engine, "lead_scoring")
    fit = engine.contact(
        "ceo@corp.test", attributes={"company_size": 200, "job_title": "Marketing Director"}
    )
    small = engine.contact(
        "intern@tiny.test", attributes={"company_size": 3, "job_title": "Intern"}
    )
    for contact in (fit, small):
        engine.event(contact, "contact_created")
    engine.run()
    assert (score(engine, fit), score(engine, small)) == (30, 0)

    for contact in (fit, small):
        for _ in range(5):
            engine.event(contact, "email_opened", message="news")
        engine.event(contact, "page_visit", path="/pricing")
    engine.run()
    assert (score(engine, fit), score(engine, small)) == (37, 7)
    assert engine.members("hot-leads") == set()

    for _ in range(5):
        engine.event(fit, "email_clicked", url="https://shop.test/demo")
    engine.run()
    assert (score(engine, fit), score(engine, small)) == (52, 7)
    assert engine.members("hot-leads") == {fit.id}
    assert alerts(engine) == [(fit.id, "sales@example.com")]

    fit.score = 10  # a manual reset, then back above the threshold: no second alert
    engine.session.add(fit)
    engine.session.flush()
    for _ in range(14):
        engine.event(fit, "email_clicked", url="https://shop.test/demo")
    engine.run()
    assert score(engine, fit) == 52
    assert alerts(engine) == [(fit.id, "sales@example.com")]


def test_loyal_customers_coupon_first_purchase_list_after(engine: Engine) -> None:
    use(engine, "loyal_customers")
    new, regular = engine.contact("new@shop.test"), engine.contact("regular@shop.test")
    engine.event(regular, "purchase", amount=20)
    engine.run()
    engine.later(hours=DAY)
    engine.event(new, "purchase", amount=35)
    engine.event(regular, "purchase", amount=50)
    engine.run()
    assert emails(engine) == [(regular.id, "next-order-coupon"), (new.id, "next-order-coupon")]
    assert engine.members("loyal-customers") == {regular.id}


def test_reengagement_gives_a_last_chance_then_leaves_the_newsletter(engine: Engine) -> None:
    use(engine, "reengagement")
    reader, sleeper, revived = (engine.contact(f"{n}@shop.test") for n in ("r", "s", "v"))
    newsletter = engine.session.exec(
        select(ContactList).where(ContactList.key == "newsletter")
    ).one()
    for contact in (reader, sleeper, revived):
        engine.session.add(ListMembership(list_id=newsletter.id, contact_id=contact.id))
        engine.event(contact, "list_added", list="newsletter")
    engine.session.flush()
    engine.run()
    engine.later(hours=60 * DAY)
    engine.event(reader, "email_opened", message="news")
    engine.run()
    engine.later(hours=61 * DAY)  # 121 days after subscribing
    assert emails(engine) == [(sleeper.id, "we-miss-you"), (revived.id, "we-miss-you")]

    engine.later(hours=2 * DAY)
    engine.event(revived, "email_opened", message="we-miss-you")
    engine.run()
    engine.later(hours=12 * DAY)
    assert engine.members("newsletter") == {reader.id, revived.id}
    assert engine.members("inactive") == {sleeper.id}
    engine.later(hours=60 * DAY)  # the reader's own clock: 121 days after their last open
    assert [c for c, m in emails(engine)] == [sleeper.id, revived.id, reader.id]
    engine.later(hours=15 * DAY)
    assert engine.members("newsletter") == {revived.id}
    assert engine.members("inactive") == {sleeper.id, reader.id}
