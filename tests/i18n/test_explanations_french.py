"""Words the engine writes while nobody is looking, read later in the reader's language: a
condition's explanation, a wait's wake-up time, the journey page that shows them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from app.graph import ContactFacts, EventFact, Explanation, explain
from app.graph.conditions import Condition
from app.i18n import Phrase, speaking, spoken
from app.models import StepLog, User
from app.services.insights.contacts import reason
from tests.fixtures.web import Browser
from tests.worker.engine_harness import Engine
from tests.worker.test_engine_journeys import graph

NOW = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


def condition(data: dict[str, Any]) -> Condition:
    from pydantic import TypeAdapter

    return TypeAdapter(Condition).validate_python(data)  # type: ignore[arg-type]


def explained(data: dict[str, Any], facts: ContactFacts | None = None) -> Explanation:
    return explain(condition(data), facts or ContactFacts(), NOW)


def french(expl: Explanation) -> str:
    assert expl.say is not None
    with speaking("fr"):
        return Phrase.load(expl.say).render()


def english(expl: Explanation) -> str:
    assert expl.say is not None
    with speaking("en"):
        return Phrase.load(expl.say).render()


ORDERS = ContactFacts(attributes={"orders_count": 0, "country": "FR", "vip": True})
BUYER = ContactFacts(
    attributes={"signed_up_at": "2025-12-30"},
    lists={"newsletter"},
    consent={"email": True},
    events=[
        EventFact("purchase", NOW - timedelta(days=1), {"total": 80}),
        EventFact("purchase", NOW - timedelta(days=3), {"total": 20}),
        EventFact("purchase", NOW - timedelta(days=30), {"total": 99}),
    ],
)

CASES: list[tuple[dict[str, Any], ContactFacts, str]] = [
    (
        {"attribute": "orders_count", "op": "eq", "value": 1},
        ORDERS,
        "orders count : 0 — il fallait 1 → non",
    ),
    (
        {"attribute": "orders_count", "op": "gte", "value": 3},
        ORDERS,
        "orders count : 0 — il fallait au moins 3 → non",
    ),
    (
        {"attribute": "vip", "op": "eq", "value": False},
        ORDERS,
        "vip : vrai — il fallait faux → non",
    ),
    (
        {"attribute": "city", "op": "exists"},
        ORDERS,
        "city : non renseigné — il fallait une valeur → non",
    ),
    (
        {"attribute": "country", "op": "in", "value": ["FR", "BE", "CH"]},
        ORDERS,
        "country : 'FR' — il fallait l’une des valeurs 'FR', 'BE' ou 'CH' → oui",
    ),
    (
        {"attribute": "country", "op": "contains", "value": "r"},
        ORDERS,
        "country : 'FR' — il fallait une valeur contenant 'r' → oui",
    ),
    (
        {"attribute": "signed_up_at", "op": "within_last_days", "value": 7},
        BUYER,
        "signed up at : '2025-12-30' — il fallait une date des 7 derniers jours → oui",
    ),
    (
        {"attribute": "signed_up_at", "op": "before", "value": "2025-12-01"},
        BUYER,
        "signed up at : '2025-12-30' — il fallait une date avant le 2025-12-01 → non",
    ),
    (
        {"event": "purchase", "op": "count_gte", "value": 3, "within_days": 7},
        BUYER,
        "purchase : 2 fois au cours des 7 derniers jours — il en fallait au moins 3 → non",
    ),
    (
        {"event": "purchase", "op": "count_lt", "value": 2},
        BUYER,
        "purchase : 3 fois — il en fallait moins de 2 → non",
    ),
    (
        {
            "event": "purchase",
            "op": "none",
            "where": {
                "all": [
                    {"attribute": "total", "op": "gt", "value": 50},
                    {"not": {"attribute": "coupon", "op": "exists"}},
                ]
            },
        },
        BUYER,
        "purchase : 2 fois avec total > 50 et non coupon est renseigné"
        " — il ne devait pas se produire → non",
    ),
    (
        {"list": "newsletter", "op": "member"},
        BUYER,
        "le contact est dans la liste 'newsletter' — il devait y être → oui",
    ),
    (
        {"list": "vip", "op": "not_member"},
        BUYER,
        "le contact n’est pas dans la liste 'vip' — il ne devait pas y être → oui",
    ),
    (
        {"consent": "sms", "op": "granted"},
        BUYER,
        "consentement SMS non accordé — il devait l’être → non",
    ),
    (
        {"consent": "email", "op": "granted"},
        BUYER,
        "consentement e-mail accordé — il devait l’être → oui",
    ),
    (
        {"not": {"list": "newsletter", "op": "member"}},
        BUYER,
        "la condition contenue était remplie — il fallait qu’elle ne le soit pas → non",
    ),
    (
        {"all": [{"list": "newsletter", "op": "member"}, {"consent": "sms", "op": "granted"}]},
        BUYER,
        "conditions remplies : 1 sur 2 — il les fallait toutes → non",
    ),
    (
        {"any": [{"list": "newsletter", "op": "member"}, {"consent": "sms", "op": "granted"}]},
        BUYER,
        "conditions remplies : 1 sur 2 — il en fallait au moins une → oui",
    ),
]


@pytest.mark.parametrize(("data", "facts", "words"), CASES)
def test_an_explanation_reads_in_french_and_its_english_is_the_stored_text(
    data: dict[str, Any], facts: ContactFacts, words: str
) -> None:
    expl = explained(data, facts)
    assert french(expl) == words
    assert english(expl) == expl.text


def test_the_stored_text_is_english_even_when_a_french_speaker_asks() -> None:
    rule = {"attribute": "signed_up_at", "op": "within_last_days", "value": 7}
    with speaking("fr"):
        expl = explained(rule, BUYER)
    assert expl.text == "signed up at was '2025-12-30', needs within the last 7 days → yes"
    assert expl.condition == "signed up at is within the last 7 days"
    assert french(expl).startswith("signed up at : '2025-12-30' — il fallait une date des 7")


def test_the_parts_of_a_composite_read_in_french_too() -> None:
    expl = explained(
        {
            "all": [
                {"attribute": "orders_count", "op": "eq", "value": 1},
                {"consent": "email", "op": "granted"},
            ]
        },
        ContactFacts(attributes={"orders_count": 0}, consent={"email": True}),
    )
    stored = expl.model_dump(mode="json")  # as the engine keeps it in step_log.detail
    with speaking("fr"):
        shown = reason(stored)
    assert shown is not None
    assert shown.text == "conditions remplies : 1 sur 2 — il les fallait toutes → non"
    assert shown.result is False
    assert [(c.text, c.result) for c in shown.children] == [
        ("orders count : 0 — il fallait 1 → non", False),
        ("consentement e-mail accordé — il devait l’être → oui", True),
    ]
    with speaking("en"):
        assert reason(stored) == reason({**stored, "say": None})  # the English is the text


@pytest.fixture
def flow(session: Session) -> Engine:
    return Engine(session)


def test_a_stored_wait_reads_in_the_readers_time_zone(flow: Engine) -> None:
    engine = flow
    engine.scenario(
        graph(
            [
                {"id": "t", "type": "trigger", "kind": "event", "config": {"event": "signup"}},
                {"id": "nine", "type": "delay", "kind": "wait_until", "config": {"at": "09:00"}},
            ],
            [("t", "nine")],
        )
    )
    engine.clock.current = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)
    paris = engine.contact(timezone="Europe/Paris")
    engine.event(paris, "signup")
    engine.run()
    step = engine.session.exec(select(StepLog).where(StepLog.node_id == "nine")).one()
    assert step.detail is not None
    assert step.detail["text"] == "waits until Mon 05 Jan 09:00 (Europe/Paris)"  # as before
    with speaking("fr", "Europe/Paris"):
        assert spoken(step.detail) == "en attente jusqu’au lun. 5 janv., 09:00"
    with speaking("fr", "America/New_York"):
        assert spoken(step.detail) == "en attente jusqu’au lun. 5 janv., 03:00"
    with speaking("en", "Europe/Paris"):
        assert spoken(step.detail) == "waits until Mon, Jan 5, 9:00\u202fAM"


def test_a_french_users_journey_page_gives_every_reason_in_french(
    logged_in: Browser, flow: Engine, session: Session, user: User
) -> None:
    engine = flow
    user.language, user.time_zone = "fr", "Europe/Paris"
    session.add(user)
    session.flush()
    scenario = engine.scenario(
        graph(
            [
                {
                    "id": "bought",
                    "type": "trigger",
                    "kind": "event",
                    "config": {"event": "purchase"},
                },
                {
                    "id": "first",
                    "type": "condition",
                    "kind": "if",
                    "config": {
                        "if": {
                            "all": [
                                {"attribute": "orders_count", "op": "eq", "value": 1},
                                {
                                    "event": "purchase",
                                    "op": "count_gte",
                                    "value": 2,
                                    "within_days": 7,
                                },
                            ]
                        }
                    },
                },
                {"id": "nine", "type": "delay", "kind": "wait_until", "config": {"at": "09:00"}},
                {"id": "later", "type": "delay", "kind": "wait", "config": {"seconds": 3600}},
            ],
            [("bought", "first"), ("first", "no", "nine"), ("first", "yes", "later")],
        )
    )
    engine.clock.current = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)
    anna = engine.contact("anna@shop.test", attributes={"orders_count": 0}, timezone="UTC")
    engine.event(anna, "purchase")
    engine.run()
    session.commit()

    page = logged_in.client.get(f"/scenarios/{scenario.id}/contacts/{anna.id}")
    assert page.status_code == 200
    text = re.sub(r"\s+", " ", page.text)
    assert "conditions remplies : 0 sur 2 — il les fallait toutes → non" in text
    assert "orders count : 0 — il fallait 1 → non" in text
    assert (
        "purchase : 1 fois au cours des 7 derniers jours — il en fallait au moins 2 → non" in text
    )
    assert "en attente jusqu’au lun. 5 janv., 10:00" in text  # 09:00 UTC, read in Paris
    assert "Son parcours dans" in text
    assert "Entrée le 5 janv. 2026, 07:00" in text
    # Every word of the page's own and every reason; the blocks' summaries ("orders count = 1
    # and …") are the canvas's words, translated where the canvas writes them.
    main = re.sub(r'<div class="muted small">.*?</div>', " ", text.split("<main", 1)[-1])
    body = re.sub(r"<[^>]+>", " ", main)
    for english_word in (
        "needs",
        "waits until",
        "happened",
        " was ",
        "journey",
        "UTC",
        "Next step",
        "entered",
    ):
        assert english_word not in body, english_word


def test_failure_reasons_on_the_statistics_read_in_the_readers_language(flow: Engine) -> None:
    from sqlalchemy import delete

    from app.models import ContactList
    from app.services.insights.stats import period, scenario_report
    from tests.worker.test_engine_journeys import LOYALTY
    from worker.engine.advance import MAX_ATTEMPTS, retry_delay

    flow.message("coupon-20")
    flow.list("loyal-customers")
    scenario = flow.scenario(LOYALTY)
    flow.session.execute(delete(ContactList).where(ContactList.key == "loyal-customers"))  # type: ignore[arg-type]
    for _ in range(2):
        flow.event(flow.contact(attributes={"orders_count": 4}), "purchase")
    flow.run()
    for attempt in range(1, MAX_ATTEMPTS):
        flow.clock.advance(seconds=retry_delay(attempt).total_seconds())
        flow.run()
    today = flow.clock.now().date()

    def failures(language: str) -> list[tuple[str, str, int]]:
        with speaking(language):
            report = scenario_report(flow.session, scenario.id or 0, None, period("", "", today))
        return [(f.node_id, f.reason, f.count) for f in report.failures]

    [(node, words, count)] = failures("fr")  # both contacts' rows, grouped by their phrase
    assert (node, count) == ("loyal", 2)
    assert words.startswith(f"échec après {MAX_ATTEMPTS} tentatives : ")
    [(_, english_words, _)] = failures("en")
    assert english_words.startswith(f"failed {MAX_ATTEMPTS} times: ")


def test_a_condition_goal_keeps_its_words_and_counts_as_a_conversion(flow: Engine) -> None:
    from app.services.insights.stats import period, scenario_report
    from tests.worker.test_engine_waits import cart_graph

    flow.message("cart-reminder")
    scenario = flow.scenario(cart_graph(exit_when={"attribute": "vip", "op": "eq", "value": True}))
    shopper = flow.contact()
    flow.event(shopper, "cart_updated", cart_id="A")
    flow.run()
    shopper.attributes = {"vip": True}
    flow.session.add(shopper)
    flow.session.flush()
    flow.later(hours=1)

    [goal] = flow.session.exec(select(StepLog).where(StepLog.outcome == "exited")).all()
    assert goal.detail is not None
    assert goal.detail["text"] == "reached the scenario's goal"
    with speaking("fr"):
        shown = reason(goal.detail)
    assert shown is not None
    assert shown.text == "objectif du scénario atteint"
    assert [c.text for c in shown.children] == ["vip : vrai — il fallait vrai → oui"]
    today = flow.clock.now().date()
    report = scenario_report(flow.session, scenario.id or 0, None, period("", "", today))
    assert report.total_conversions == 1
