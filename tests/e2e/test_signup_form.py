"""Issue 18's "done when" for forms: a marketer builds a signup form in the screens, a visitor
fills it on a phone inside the shop's own page (the snippet pasted there, another origin),
the confirmation email reaches a real SMTP server, the link in it is followed, and the visitor enters the "Confirm and welcome" scenario with the proof of
consent on their page. Screenshots: test-artifacts/screenshots/signup-*.png."""

from __future__ import annotations

import asyncio
import re
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlmodel import Session, select

from app.db import create_db_engine, session_scope
from app.models import Contact, ContactList, Enrollment, Scenario
from tests.fixtures.browser import LiveServer, log_in, run_worker_once, screenshot
from tests.fixtures.smtp import SmtpSink
from worker.queue import Queue

pytestmark = pytest.mark.e2e
LIVE: list = []  # the server and the sender's settings, for sent_to
CONSENT = "I agree to receive the newsletter by email."
BUTTON_HREF = re.compile(r'href="([^"]+)"[^>]*>Yes, subscribe me<')


@contextmanager
def shop_site(html: str) -> Iterator[str]:
    """The shop's own page, served from another origin (localhost, another port) than
    Parcours (127.0.0.1): the form runs in a frame there, as on a real site."""
    body = html.encode()

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def kick_sender(server: LiveServer) -> None:
    async def kick() -> None:
        queue = await Queue.connect(server.settings.redis_url)
        await queue.kick("deliver_outbox")
        await queue.close()

    thread = threading.Thread(target=lambda: asyncio.run(kick()))  # Playwright owns this loop
    thread.start()
    thread.join(timeout=10)


def sent_to(sink: SmtpSink, email: str, at_least: int) -> list[EmailMessage]:
    """The messages the sink got for ``email``. The sender keeps its lease one rate window
    (a second) after a send, so a drain kicked within it finds the lease taken and leaves the
    rest for later: the sender is kicked and run again until the messages are there."""
    found: list[EmailMessage] = []
    for _ in range(20):
        found = [m for m in sink.messages if m["To"].addresses[0].addr_spec == email]
        if len(found) >= at_least:
            return found
        time.sleep(0.2)
        kick_sender(LIVE[0])
        run_worker_once(LIVE[0], LIVE[1])
    return found


def test_a_visitor_signs_up_confirms_by_email_and_is_welcomed_with_the_proof_on_file(
    live_server: LiveServer, browser, smtp_sink: SmtpSink
) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    engine = create_db_engine(live_server.settings.database_url)
    with session_scope(engine) as session:
        if not session.exec(select(ContactList).where(ContactList.key == "newsletter")).first():
            session.add(ContactList(key="newsletter", name="Newsletter"))
    sender = live_server.settings.model_copy(update={"smtp_url": smtp_sink.url})
    LIVE[:] = [live_server, sender]

    marketer = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    log_in(marketer, live_server)
    marketer.get_by_test_id("nav-templates").click()
    marketer.get_by_test_id("use-confirm_welcome").click()
    marketer.wait_for_url(re.compile(r"/scenarios/\d+$"))
    marketer.get_by_test_id("activate").click()
    confirm = marketer.get_by_test_id("confirm-activate")
    if confirm.count():
        confirm.click()
    expect(marketer.get_by_test_id("pause")).to_be_visible()

    key = f"join-{uuid.uuid4().hex[:6]}"
    marketer.goto(live_server.url + "/")
    marketer.get_by_test_id("nav-forms").click()
    marketer.get_by_test_id("new-form").click()
    marketer.locator("input[name=name]").fill("Join the newsletter")
    marketer.locator("input[name=key]").fill(key)
    marketer.get_by_test_id("ask-first_name").check()
    marketer.locator("input[name=label_first_name]").fill("Your first name")
    marketer.locator("textarea[name=consent_text]").fill(CONSENT)
    marketer.locator("input[name=lists][value=newsletter]").check()
    marketer.locator("textarea[name=thank_you]").fill("See you soon in your inbox.")
    marketer.get_by_test_id("save-form").click()
    expect(marketer.get_by_test_id("form-saved")).to_be_visible()
    expect(marketer.get_by_test_id("form-snippet")).to_contain_text(f"/f/{key}")
    screenshot(marketer, "signup-builder")

    # The shop pastes the snippet into its own page, on its own origin.
    snippet = marketer.get_by_test_id("form-snippet").input_value()
    shop = f"<!doctype html><meta charset=utf-8><title>Shop</title><h1>Maison Lumière</h1>{snippet}"
    visitor = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    email = f"lea-{uuid.uuid4().hex[:6]}@shop.test"
    with shop_site(shop) as shop_url:
        visitor.goto(shop_url)
        framed = visitor.frame_locator("iframe")
        framed.get_by_label("Your first name").fill("Léa")
        framed.locator("input[name=email]").fill(email)
        framed.locator("input[name=consent]").check()
        screenshot(visitor, "signup-form-phone")
        framed.get_by_test_id("signup-submit").click()
        expect(framed.get_by_test_id("signup-thanks")).to_contain_text("Check your inbox")

    run_worker_once(live_server, sender)  # the confirmation leaves through the outbox
    (message,) = sent_to(smtp_sink, email, 1)
    assert message["Subject"] == "Please confirm your subscription"
    link = BUTTON_HREF.search(message.get_body(("html",)).get_content())
    assert link is not None

    visitor.goto(link.group(1).replace("&amp;", "&"))
    visitor.get_by_test_id("confirm-optin").click()
    expect(visitor.get_by_test_id("signup-confirmed")).to_contain_text("See you soon")
    screenshot(visitor, "signup-confirmed-phone")

    run_worker_once(live_server, sender)  # optin_confirmed starts the welcome…
    with Session(engine) as session:
        contact = session.exec(select(Contact).where(Contact.email == email)).one()
        scenario = session.exec(select(Scenario).where(Scenario.name == "Confirm and welcome"))
        journey = session.exec(
            select(Enrollment).where(
                Enrollment.contact_id == contact.id,
                Enrollment.scenario_id == scenario.first().id,  # type: ignore[union-attr]
            )
        ).first()
    assert contact.email_consent is True
    assert journey is not None
    assert [m["Subject"] for m in sent_to(smtp_sink, email, 2)][1].startswith("Welcome, Léa")

    marketer.goto(f"{live_server.url}/contacts/{contact.id}")
    proofs = marketer.get_by_test_id("consent-proofs")
    expect(proofs).to_contain_text(CONSENT)
    expect(proofs).to_contain_text("confirmed by email")
    screenshot(marketer, "signup-contact-proof")
    engine.dispose()
