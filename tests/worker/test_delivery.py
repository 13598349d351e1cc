"""Delivery drains the outbox: rendered at send time, once per row, consent checked."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest
from sqlalchemy import Engine

from app.clock import FrozenClock
from app.config import Settings
from app.db import session_scope
from app.models import Contact, MessageTemplate
from tests.fixtures.smtp import SmtpSink
from tests.worker.delivery_kit import (
    add_contact,
    add_template,
    add_to_list,
    drain,
    mailbox,
    outbox,
    queue,
    with_settings,
)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


async def test_without_smtp_each_email_lands_in_the_mailbox_once_as_the_contact_sees_it(
    committed_engine: Engine, clock: FrozenClock, settings: Settings
) -> None:
    with session_scope(committed_engine) as session:
        lea = add_contact(session)
        add_to_list(session, lea, "Newsletter")
        add_template(session)
        queue(session, clock, lea, key="1:send:1")

    first = await drain(committed_engine, clock, settings)
    again = await drain(committed_engine, clock, settings)

    assert first == {"sent": 1}
    assert again == {}
    [mail] = mailbox(committed_engine)
    assert mail.to_address == "Léa Martin <lea@example.com>"
    assert mail.subject == "Léa, your cart is waiting"
    assert "Hello Léa" in mail.html
    assert "Your cart: 59.9 €" in mail.html
    assert "Plan: premium / premium — lists: Newsletter" in mail.html
    assert 'style="color: #4f46e5;"' in mail.html, "CSS is inlined for email clients"
    assert "Unsubscribe" in mail.html
    assert "Unsubscribe in one click" in mail.text
    assert mail.headers["Message-ID"] == "<1%3Asend%3A1@testserver>"
    row = outbox(committed_engine)["1:send:1"]
    assert (row.status, row.sent_at, row.attempts) == ("sent", clock.now(), 1)


async def test_smtp_round_trip_carries_the_message_id_unsubscribe_headers_and_personalisation(
    committed_engine: Engine, clock: FrozenClock, settings: Settings, smtp_sink: SmtpSink
) -> None:
    with session_scope(committed_engine) as session:
        lea = add_contact(session)
        add_template(session, reply_to="care@shop.example")
        queue(session, clock, lea, key="7:reminder:3")

    result = await drain(committed_engine, clock, with_settings(settings, smtp_url=smtp_sink.url))

    assert result == {"sent": 1}
    assert smtp_sink.envelopes == [("hello@shop.example", ["lea@example.com"])]
    [message] = smtp_sink.messages
    assert message["Message-ID"] == "<7%3Areminder%3A3@testserver>"
    assert message["Subject"] == "Léa, your cart is waiting"
    assert message["From"] == "Shop <hello@shop.example>"
    assert message["Reply-To"] == "care@shop.example"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = re.fullmatch(
        r"<(http://testserver/u/[\w.\-]+)>", message["List-Unsubscribe"].strip()
    )
    assert unsubscribe, message["List-Unsubscribe"]
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Hello Léa, your cart: 59.9 €" in text
    assert unsubscribe.group(1) in text
    assert unsubscribe.group(1) in html
    assert "https://shop.example/cart" not in html, "links go through the click redirect"
    assert re.search(r'href="http://testserver/t/c/[\w.\-]+"', html)
    assert re.search(r'<img src="http://testserver/t/o/[\w.\-]+"', html), "open pixel"
    assert mailbox(committed_engine) == [], "with SMTP, nothing is kept in the mailbox"


async def test_one_connection_serves_a_whole_chunk(
    committed_engine: Engine, clock: FrozenClock, settings: Settings, smtp_sink: SmtpSink
) -> None:
    from tests.worker.delivery_kit import frozen_sleep
    from worker.delivery import Delivery

    with session_scope(committed_engine) as session:
        add_template(session)
        for i in range(30):
            contact = add_contact(session, email=f"c{i}@example.com")
            queue(session, clock, contact, key=f"{i}:send:1")

    delivery = Delivery(
        engine=committed_engine,
        clock=clock,
        settings=with_settings(settings, smtp_url=smtp_sink.url, delivery_chunk_size=10),
        sleep=frozen_sleep(clock),
    )
    await delivery.run()

    assert len(smtp_sink.messages) == 30
    assert delivery.smtp is not None
    assert delivery.smtp.connections == 1
    assert {m["Message-ID"] for m in smtp_sink.messages} == {
        f"<{i}%3Asend%3A1@testserver>" for i in range(30)
    }


async def test_marketing_needs_consent_at_send_time_and_is_skipped_for_good_without_it(
    committed_engine: Engine, clock: FrozenClock, settings: Settings
) -> None:
    with session_scope(committed_engine) as session:
        add_template(session)
        add_template(session, "receipt", purpose="transactional", subject="Your receipt")
        # Consent was there when the engine queued the send, and withdrawn since.
        lea = add_contact(session, email_consent=False)
        queue(session, clock, lea, key="1:send:1")
        queue(session, clock, lea, key="1:receipt:2", payload={"message": "receipt"})

    await drain(committed_engine, clock, settings)
    clock.advance(days=2)
    await drain(committed_engine, clock, settings)

    rows = outbox(committed_engine)
    assert rows["1:send:1"].status == "skipped"
    assert rows["1:send:1"].attempts == 1, "never retried"
    assert "has not agreed to receive marketing emails" in (rows["1:send:1"].last_error or "")
    assert rows["1:receipt:2"].status == "sent", "transactional messages need no consent"
    assert [m.subject for m in mailbox(committed_engine)] == ["Your receipt"]


async def test_what_cannot_be_sent_says_why(
    committed_engine: Engine, clock: FrozenClock, settings: Settings
) -> None:
    with session_scope(committed_engine) as session:
        add_template(session)
        add_template(session, "broken", text="{{ event.properties.total / 0 }}", html="")
        add_template(session, "promo-sms", channel="sms", text="Hi {{ contact.first_name }}!")
        no_email = add_contact(session, email=None)
        no_phone = add_contact(session, email="p@example.com", phone=None)
        lea = add_contact(session, email="lea2@example.com")
        queue(session, clock, no_email, key="a")
        queue(session, clock, no_phone, key="b", channel="sms", payload={"message": "promo-sms"})
        queue(session, clock, lea, key="c", payload={"message": "gone"})
        queue(session, clock, lea, key="d", payload={"message": "broken", "event": {"total": 5}})
        queue(session, clock, lea, key="e", payload={"message": "promo-sms"})  # email of an SMS
        queue(session, clock, None, key="f")

    await drain(committed_engine, clock, settings)

    rows = outbox(committed_engine)
    summary = {key: (row.status, row.last_error) for key, row in rows.items()}
    assert summary["a"] == ("skipped", "Not sent: the contact has no valid email address.")
    assert summary["b"] == ("skipped", "Not sent: the contact has no phone number.")
    assert summary["c"] == ("failed", "There is no email with the key “gone” any more.")
    assert summary["d"][0] == "failed"
    assert "division by zero" in (summary["d"][1] or "")
    assert summary["e"] == ("failed", "There is no email with the key “promo-sms” any more.")
    assert summary["f"] == ("skipped", "Not sent: the contact was deleted.")


async def test_the_contact_is_rendered_as_it_is_at_send_time(
    committed_engine: Engine, clock: FrozenClock, settings: Settings
) -> None:
    with session_scope(committed_engine) as session:
        add_template(session)
        lea = add_contact(session)
        queue(session, clock, lea, key="1:send:1")
    with session_scope(committed_engine) as session:
        contact = session.get(Contact, lea.id)
        assert contact is not None
        contact.first_name = "Léonie"
        session.add(contact)

    await drain(committed_engine, clock, settings)

    assert "Hello Léonie" in mailbox(committed_engine)[0].html


async def test_sms_land_in_the_mailbox_without_a_provider(
    committed_engine: Engine, clock: FrozenClock, settings: Settings
) -> None:
    with session_scope(committed_engine) as session:
        add_template(session, "promo-sms", channel="sms", text="Hi {{ contact.first_name }}! 🎉")
        lea = add_contact(session)
        queue(session, clock, lea, key="s1", channel="sms", payload={"message": "promo-sms"})

    await drain(committed_engine, clock, settings)

    [sms] = mailbox(committed_engine)
    assert (sms.channel, sms.to_address, sms.text) == ("sms", "+33612345678", "Hi Léa! 🎉")


async def test_an_edited_template_is_used_for_sends_still_waiting(
    committed_engine: Engine, clock: FrozenClock, settings: Settings
) -> None:
    with session_scope(committed_engine) as session:
        add_template(session)
        queue(session, clock, add_contact(session), key="1:send:1")
    with session_scope(committed_engine) as session:
        template = session.exec(
            __import__("sqlmodel").select(MessageTemplate).where(MessageTemplate.key == "cart")
        ).one()
        template.subject = "Last chance, {{ contact.first_name }}"
        session.add(template)

    await drain(committed_engine, clock, settings)

    assert mailbox(committed_engine)[0].subject == "Last chance, Léa"
    assert unquote("%3A") == ":"


async def test_a_test_send_goes_to_the_user_personalised_for_the_chosen_contact(
    committed_engine: Engine, clock: FrozenClock, settings: Settings, smtp_sink: SmtpSink
) -> None:
    from app.services.messaging.messages import MessageIn, queue_test_send

    with session_scope(committed_engine) as session:
        hugo = add_contact(session, first_name="Hugo", email_consent=False)
        draft = MessageIn(
            key="welcome",
            subject="Hi {{ contact.first_name }}",
            html='<p>Hello {{ contact.first_name }} <a href="https://shop.example/">shop</a></p>',
        )
        queue_test_send(
            session, draft, to="marie@shop.example", contact_id=hugo.id, now=clock.now()
        )
        queue_test_send(session, draft, to="marie@shop.example", contact_id=None, now=clock.now())

    await drain(committed_engine, clock, with_settings(settings, smtp_url=smtp_sink.url))

    subjects = sorted(m["Subject"] for m in smtp_sink.messages)
    assert subjects == ["[Test] Hi Hugo", "[Test] Hi Léa"], "the chosen contact, or the sample"
    assert {rcpts[0] for _, rcpts in smtp_sink.envelopes} == {"marie@shop.example"}
    html = smtp_sink.messages[0].get_body(("html",)).get_content()
    assert 'href="https://shop.example/"' in html, "test emails are not tracked"


def test_email_bytes_read_back_whole_and_placeholders_cannot_add_headers() -> None:
    import email
    import email.policy

    from worker.delivery.mime import build_email

    text = "Line one é\n.dot at start\nFrom here\n" + "long " * 60
    envelope = build_email(
        sender=("Boutique Léa", "hello@shop.example"),
        to=("Léa\r\nBcc: evil@example.com", "lea@example.com"),
        subject="Ça va?\nBcc: evil@example.com",
        text=text,
        html="<p>Bonjour <b>Léa</b> = 100%</p>",
        headers=[("Message-ID", "<1%3Aa@testserver>")],
    )
    parsed = email.message_from_bytes(envelope.data, policy=email.policy.default)

    assert envelope.recipients == ["lea@example.com"]
    assert parsed["Subject"] == "Ça va? Bcc: evil@example.com"
    assert parsed["Bcc"] is None, "no header can be injected"
    assert parsed["From"] == "Boutique Léa <hello@shop.example>"
    assert parsed.get_body(("plain",)).get_content() == text
    assert parsed.get_body(("html",)).get_content().strip() == "<p>Bonjour <b>Léa</b> = 100%</p>"


async def test_what_was_sent_before_redis_failed_mid_chunk_is_written_as_sent(
    committed_engine: Engine,
    clock: FrozenClock,
    settings: Settings,
    smtp_sink: SmtpSink,
    redis_url: str,
    tmp_path: Path,
) -> None:
    from redis.asyncio import Redis

    from app.redis import EmbeddedRedis
    from tests.worker.delivery_kit import frozen_sleep
    from worker.delivery import Delivery
    from worker.delivery.accepted import AcceptedMarks

    with session_scope(committed_engine) as session:
        add_template(session)
        for i in range(4):
            queue(session, clock, add_contact(session, email=f"m{i}@example.com"), key=f"{i}:s:1")
    marks_redis = EmbeddedRedis(tmp_path / "marks")
    marks = Redis.from_url(marks_redis.start())
    lease_redis = Redis.from_url(redis_url)
    await lease_redis.flushdb()
    delivery = Delivery(
        engine=committed_engine,
        clock=clock,
        settings=with_settings(settings, smtp_url=smtp_sink.url),
        sleep=frozen_sleep(clock),
        redis=lease_redis,
    )
    delivery.marks = AcceptedMarks(marks)
    real_send = delivery.smtp.send  # type: ignore[union-attr]

    async def send_then_lose_redis(envelope):  # type: ignore[no-untyped-def]
        await real_send(envelope)
        if len(smtp_sink.messages) == 2:
            marks_redis.stop()  # the marks' Redis goes away after the second accept

    delivery.smtp.send = send_then_lose_redis  # type: ignore[method-assign, union-attr]

    with pytest.raises(Exception):  # noqa: B017, PT011 — whatever Redis raises
        await delivery.run()

    # The first was accepted and marked: written as sent. The second was accepted but its
    # mark failed: left for the reclaim (the one message in flight). The rest: not sent yet.
    rows = outbox(committed_engine)
    assert sorted(str(r.status) for r in rows.values()) == ["pending"] * 3 + ["sent"]
    await marks.aclose()
    await lease_redis.aclose()
