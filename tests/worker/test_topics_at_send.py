"""A marketing email whose topic the contact left is not sent — at the block, at send, and in
a simulation alike — and counts as not sent, "left a topic" (DESIGN §12.3)."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine as DbEngine
from sqlalchemy import delete, insert
from sqlmodel import Session, select

from app.clock import FrozenClock
from app.config import Settings
from app.db import session_scope
from app.i18n import speaking, spoken
from app.models import Contact, Event, MessageTemplate, StepLog, Topic
from app.services.messaging import not_sent
from app.services.messaging.topic_choices import choose
from app.services.messaging.unsubscribe import UnsubscribeLinks
from app.services.scenarios import scenarios
from tests.fixtures.smtp import SmtpSink
from tests.worker.delivery_kit import add_contact, add_template, drain, outbox, queue, with_settings
from tests.worker.engine_harness import Engine
from tests.worker.test_engine_journeys import graph
from tests.worker.test_simulation_agreement import (
    START,
    _counts,
    _real_counts,
    _run_for_real,
    _simulate,
)

SALE = graph(
    [
        {"id": "signup", "type": "trigger", "kind": "event", "config": {"event": "signup"}},
        {"id": "sale", "type": "action", "kind": "send_email", "config": {"message": "sale"}},
        {"id": "news", "type": "action", "kind": "send_email", "config": {"message": "news"}},
    ],
    [("signup", "sale"), ("sale", "news")],
)


def topics(session: Session) -> dict[str, int]:
    """Two topics and two marketing emails: "sale" is about offers, "news" has no topic."""
    offers, newsletter = Topic(key="offers", name="Offers"), Topic(key="newsletter", name="News")
    session.add_all([offers, newsletter])
    session.flush()
    for key, topic in (("sale", "offers"), ("news", None)):
        session.add(MessageTemplate(key=key, name=key, subject=key, html="<p>Hi</p>", topic=topic))
    session.flush()
    return {"offers": offers.id, "newsletter": newsletter.id}  # type: ignore[dict-item]


def leave(session: Session, contact: Contact, topic_id: int, now: datetime) -> None:
    assert contact.id is not None
    choose(session, contact.id, {topic_id: False}, now=now, source="preference page")


def test_the_engine_skips_an_email_whose_topic_the_contact_left_and_sends_the_rest(
    session: Session,
) -> None:
    engine = Engine(session)
    ids = topics(session)
    scenario = engine.scenario(SALE)
    stays, leaves, other = engine.contact(), engine.contact(), engine.contact()
    shy = engine.contact(email_consent=False)
    leave(session, leaves, ids["offers"], engine.clock.now())
    leave(session, other, ids["newsletter"], engine.clock.now())
    for contact in (stays, leaves, other, shy):
        engine.event(contact, "signup")

    engine.run()

    sent = engine.sent()
    assert (stays.id, "email", "sale") in sent
    assert (other.id, "email", "sale") in sent, "left another topic: still gets the offer"
    assert (leaves.id, "email", "sale") not in sent
    assert (leaves.id, "email", "news") in sent, "a topic-less email needs consent alone"
    assert not [s for s in sent if s[0] == shy.id]
    assert engine.journey(leaves, scenario) == [
        ("signup", "completed"), ("sale", "skipped"), ("news", "completed")
    ]  # fmt: skip
    step = session.exec(
        select(StepLog).where(StepLog.contact_id == leaves.id, StepLog.node_id == "sale")
    ).one()
    assert step.detail["text"] == "left the topic “Offers” → not sent"
    with speaking("fr"):
        assert spoken(step.detail) == "a quitté le thème « Offers » → non envoyé"
    counted = {(n.node_id, n.category, n.count) for n in not_sent.by_block(session, scenario.id)}  # type: ignore[arg-type]
    assert counted == {
        ("sale", "left_topic", 1),
        ("sale", "no_consent", 1),
        ("news", "no_consent", 1),
    }
    assert not_sent.reason_words("left_topic") == "left a topic"


async def test_delivery_skips_an_email_whose_topic_was_left_after_it_was_queued(
    committed_engine: DbEngine, settings: Settings, smtp_sink: SmtpSink
) -> None:
    clock = FrozenClock()
    with session_scope(committed_engine) as session:
        ids = topics(session)
        add_template(session, "cart", topic="offers")
        stays = add_contact(session)
        leaves = add_contact(session, email="max@example.com", first_name="Max")
        queue(session, clock, stays, key="1:send:1")
        queue(session, clock, leaves, key="2:send:1")
        leave(session, leaves, ids["offers"], clock.now())

    result = await drain(committed_engine, clock, with_settings(settings, smtp_url=smtp_sink.url))

    assert result == {"sent": 1, "skipped": 1}
    assert smtp_sink.envelopes == [("hello@shop.example", ["lea@example.com"])]
    row = outbox(committed_engine)["2:send:1"]
    assert (row.status, row.last_error) == (
        "skipped",
        "Not sent: the contact left the topic “Offers”.",
    )
    with speaking("fr"):
        assert not_sent.sentence(row.last_error) == (
            "Non envoyé : le contact a quitté le thème « Offers »."
        )
    [message] = smtp_sink.messages
    found = re.fullmatch(r"<http://testserver(/u/[\w.\-]+)>", message["List-Unsubscribe"].strip())
    assert found, message["List-Unsubscribe"]
    links = UnsubscribeLinks(settings.base_url, settings.resolved_secret_key())
    link = links.read(found.group(1).removeprefix("/u/"))
    assert link is not None
    assert (link.key, link.topic) == ("1:send:1", "offers"), "the page knows the email's topic"


async def test_the_simulation_agrees_with_the_engine_on_topic_skips(
    committed_engine: DbEngine,
    redis: Any,
    redis_url: str,
) -> None:
    with session_scope(committed_engine) as session:
        ids = topics(session)
        people = {name: Contact(email=f"{name}@example.com", email_consent=name != "shy")
                  for name in ("stays", "leaves", "shy")}  # fmt: skip
        session.add_all(people.values())
        session.flush()
        leave(session, people["leaves"], ids["offers"], START - timedelta(days=1))
        scenario = scenarios.create_scenario(session, name="Sale", graph=SALE, now=START)
        scenario_id = scenario.id
        assert scenario_id is not None
        contacts = {name: c.id for name, c in people.items()}
    events = [
        {"uid": uuid.uuid4().hex, "contact_id": contact_id, "name": "signup", "properties": {},
         "occurred_at": START + timedelta(hours=24), "received_at": START + timedelta(hours=24),
         "processed_at": None}
        for contact_id in contacts.values()
    ]  # fmt: skip
    with session_scope(committed_engine) as session:
        session.execute(insert(Event), [{**e, "processed_at": e["received_at"]} for e in events])

    predicted = _simulate(committed_engine, scenario_id, SALE)
    with session_scope(committed_engine) as session:
        session.execute(delete(Event))
    await _run_for_real(committed_engine, redis_url, scenario_id, events)

    assert predicted["skipped_reasons"] == {"left_topic": 1, "no_consent": 2}
    assert _counts(predicted) == _real_counts(committed_engine)
    assert _real_counts(committed_engine)["sale"] == {"entered": 3, "completed": 1, "skipped": 2}
