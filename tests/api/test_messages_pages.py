"""The Messages editor (live preview, save, test send) and the Mailbox pages."""

from __future__ import annotations

import html
import re

from sqlmodel import Session, func, select

from app.clock import FrozenClock
from app.models import MailboxMessage, MessageTemplate, OutboxMessage
from app.services.messaging.mailbox import store
from tests.fixtures.web import Browser
from tests.worker.delivery_kit import add_contact

EMAIL_FORM = {
    "key": "welcome",
    "name": "Welcome",
    "channel": "email",
    "purpose": "marketing",
    "subject": "Welcome, {{ contact.first_name | default('there') }}!",
    "html": "<style>h1 { color: #4f46e5; }</style><h1>Hello {{ contact.first_name }}</h1>",
    "text": "",
    "from_name": "Shop",
    "from_email": "hello@shop.example",
    "reply_to": "",
}


def srcdoc(page: str) -> str:
    match = re.search(r'srcdoc="([^"]*)"', page)
    assert match, "the preview has a frame"
    return html.unescape(match.group(1))


def test_the_starter_set_is_offered_then_added(logged_in: Browser, session: Session) -> None:
    page = logged_in.client.get("/messages").text
    assert "Start from ready-made messages" in page
    assert "No messages yet" in page

    response = logged_in.post("/messages/starters")

    assert response.status_code == 303
    keys = set(session.exec(select(MessageTemplate.key)).all())
    assert {
        "welcome",
        "welcome-coupon",
        "birthday-coupon",
        "cart-reminder",
        "cart-reminder-2",
    } <= keys
    assert {
        "onboarding-tips",
        "we-miss-you",
        "loyal-coupon",
        "sales-alert",
        "cart-reminder-sms",
    } <= keys
    page = logged_in.client.get("/messages").text
    assert "Start from ready-made messages" not in page
    assert "Loyal customer coupon" in page
    assert logged_in.post("/messages/starters").status_code == 303
    assert session.exec(select(func.count()).select_from(MessageTemplate)).one() == len(keys)


def test_the_preview_renders_for_a_chosen_contact_with_inlined_css_and_the_footer(
    logged_in: Browser, session: Session
) -> None:
    hugo = add_contact(session, email="hugo@example.com", first_name="Hugo")
    session.commit()

    response = logged_in.post(
        "/messages/preview", {**EMAIL_FORM, "contact_id": str(hugo.id)}, htmx=True
    )

    assert response.status_code == 200
    assert "<html" not in response.text.split("srcdoc")[0], "only the preview fragment"
    assert "Welcome, Hugo!" in response.text
    frame = srcdoc(response.text)
    assert '<h1 style="color: #4f46e5;">Hello Hugo</h1>' in frame
    assert "/u/" in frame, "marketing emails get the unsubscribe footer"


def test_the_preview_uses_the_sample_contact_and_shows_a_broken_line(logged_in: Browser) -> None:
    sample = logged_in.post("/messages/preview", EMAIL_FORM, htmx=True)
    assert "Welcome, Léa!" in sample.text
    assert "the sample contact" in sample.text

    broken = logged_in.post(
        "/messages/preview",
        {**EMAIL_FORM, "html": "<h1>Hi</h1>\n{% for x in %}"},
        htmx=True,
    )
    assert broken.status_code == 200
    assert "In the HTML body, line 2:" in broken.text
    assert "srcdoc" not in broken.text


def test_the_sms_preview_counts_characters_and_segments(logged_in: Browser) -> None:
    form = {"key": "promo", "name": "Promo", "channel": "sms", "purpose": "marketing"}
    plain = logged_in.post(
        "/messages/preview", {**form, "text": "Hi {{ contact.first_name }}!"}, htmx=True
    )
    assert re.search(
        r"<strong>7</strong> characters ·\s*<strong>1</strong> SMS · GSM-7", plain.text
    )
    long = logged_in.post("/messages/preview", {**form, "text": "ô" * 71}, htmx=True)
    assert re.search(
        r"<strong>71</strong> characters ·\s*<strong>2</strong> SMS · UCS-2", long.text
    )
    assert "“ô”" in long.text


def test_saving_a_new_message_then_editing_it(logged_in: Browser, session: Session) -> None:
    created = logged_in.post("/messages/save", {**EMAIL_FORM, "is_new": "1"}, htmx=True)
    assert created.status_code == 204
    assert created.headers["HX-Redirect"] == "/messages/welcome"
    editor = logged_in.client.get("/messages/welcome")
    assert editor.status_code == 200
    assert '<input type="hidden" name="key" value="welcome">' in editor.text
    assert "<code>welcome</code>" in editor.text  # shown, no longer editable

    again = logged_in.post("/messages/save", {**EMAIL_FORM, "is_new": "1"}, htmx=True)
    assert again.status_code == 422
    assert "already exists" in again.text

    updated = logged_in.post("/messages/save", {**EMAIL_FORM, "subject": "Hi there"}, htmx=True)
    assert updated.status_code == 200
    assert "Saved at" in updated.text
    template = session.exec(select(MessageTemplate).where(MessageTemplate.key == "welcome")).one()
    session.refresh(template)
    assert template.subject == "Hi there"


def test_a_broken_template_is_not_saved_and_the_editor_says_where(
    logged_in: Browser, session: Session
) -> None:
    response = logged_in.post(
        "/messages/save",
        {**EMAIL_FORM, "is_new": "1", "subject": "{{ contact.first_name"},
        htmx=True,
    )
    assert response.status_code == 422
    assert "In the subject, line 1:" in response.text
    assert session.exec(select(func.count()).select_from(MessageTemplate)).one() == 0

    without_htmx = logged_in.post("/messages/save", {**EMAIL_FORM, "is_new": "1", "subject": ""})
    assert without_htmx.status_code == 422
    assert "An email needs a subject." in without_htmx.text
    assert 'name="html"' in without_htmx.text, "the whole editor, with what was typed"


def test_send_a_test_to_me_queues_the_editor_content_for_the_user(
    logged_in: Browser, session: Session
) -> None:
    response = logged_in.post(
        "/messages/test", {**EMAIL_FORM, "subject": "Draft {{ 1 + 1 }}"}, htmx=True
    )

    assert response.status_code == 200
    assert "Test on its way to marie@shop.example" in response.text
    row = session.exec(select(OutboxMessage)).one()
    assert (row.channel, row.status, row.contact_id) == ("email", "pending", None)
    assert row.payload["test"]["to"] == "marie@shop.example"
    assert row.payload["test"]["template"]["subject"] == "Draft {{ 1 + 1 }}", "unsaved content"
    assert session.exec(select(func.count()).select_from(MessageTemplate)).one() == 0


def test_a_test_sms_needs_a_phone_number(logged_in: Browser) -> None:
    form = {"key": "promo", "name": "Promo", "channel": "sms", "text": "Hi!"}
    refused = logged_in.post("/messages/test", form, htmx=True)
    assert refused.status_code == 422
    assert "Enter your mobile number" in refused.text
    sent = logged_in.post("/messages/test", {**form, "test_phone": "+33612345678"}, htmx=True)
    assert "Test on its way to +33612345678" in sent.text


def test_the_mailbox_shows_each_email_as_the_contact_sees_it(
    logged_in: Browser, session: Session
) -> None:
    lea = add_contact(session)
    store(
        session,
        [
            {
                "outbox_id": None,
                "contact_id": lea.id,
                "channel": "email",
                "message_key": "cart",
                "to_address": "Léa <lea@example.com>",
                "from_address": "Shop <hello@shop.example>",
                "subject": "Léa, your cart is waiting",
                "html": '<p style="color: red">Hello Léa & co</p>',
                "text": "Hello Léa",
                "headers": {"Message-ID": "<1@testserver>"},
                "created_at": FrozenClock().now(),
            }
        ],
    )
    session.commit()
    mail = session.exec(select(MailboxMessage)).one()

    listing = logged_in.client.get("/mailbox")
    assert "Léa, your cart is waiting" in listing.text
    assert f'href="/mailbox/{mail.id}"' in listing.text
    detail = logged_in.client.get(f"/mailbox/{mail.id}")
    assert detail.status_code == 200
    assert 'sandbox srcdoc="' in detail.text
    assert srcdoc(detail.text) == '<p style="color: red">Hello Léa & co</p>'
    assert logged_in.client.get("/mailbox/999999").status_code == 404
    assert "1 message" in logged_in.client.get("/mailbox?channel=email").text
    assert "Nothing sent yet" in logged_in.client.get("/mailbox?channel=sms").text


def test_sends_that_did_not_go_out_are_listed_with_the_reason(
    logged_in: Browser, session: Session
) -> None:
    from sqlalchemy import update

    from app.services.messaging.outbox import OutboxEntry, add_to_outbox

    lea = add_contact(session)
    add_to_outbox(
        session, [OutboxEntry("k", "email", lea.id, {"message": "cart"})], FrozenClock().now()
    )
    session.execute(
        update(OutboxMessage).values(
            status="failed", last_error="The mail server refused it: 550 no such user"
        )
    )
    session.commit()

    page = logged_in.client.get("/mailbox").text

    assert "Latest sends that did not go out" in page
    assert "550 no such user" in page
    assert "lea@example.com" in page


def test_a_contact_s_sends_and_a_block_s_outcomes_carry_the_reasons(session: Session) -> None:
    from sqlalchemy import update

    from app.models import Scenario
    from app.services.messaging.mailbox import send_outcomes_by_block, sends_for_contact
    from app.services.messaging.outbox import OutboxEntry, add_to_outbox

    lea, hugo = add_contact(session), add_contact(session, email="hugo@example.com")
    scenario = Scenario(name="Welcome")
    session.add(scenario)
    session.flush()
    entries = [
        OutboxEntry(f"{c.id}:{node}:1", "email", c.id, {}, scenario.id, None, node)
        for c in (lea, hugo)
        for node in ("welcome", "coupon")
    ]
    add_to_outbox(session, entries, FrozenClock().now())
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.idempotency_key == f"{hugo.id}:coupon:1")  # type: ignore[arg-type]
        .values(status="skipped", last_error="Not sent: no consent.")
    )

    assert [(s.node_id, s.status, s.last_error) for s in sends_for_contact(session, hugo.id)] == [  # type: ignore[arg-type]
        ("coupon", "skipped", "Not sent: no consent."),
        ("welcome", "pending", None),
    ]
    assert send_outcomes_by_block(session, scenario.id) == {  # type: ignore[arg-type]
        "welcome": {"pending": 2},
        "coupon": {"pending": 1, "skipped": 1},
    }
