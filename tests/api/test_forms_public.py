"""The hosted signup form and its double opt-in, as a visitor meets them: the page (framed by
any site), the POST with its honeypot and budgets, the confirmation link (forged, expired,
followed twice), and the proof of consent on the contact and in its export."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, func, select

from app.clock import FrozenClock
from app.models import (
    ConsentProof,
    Contact,
    ContactList,
    Event,
    FormConfirmation,
    ListMembership,
    MessageTemplate,
    OutboxMessage,
)
from app.services.capture.retention import KEPT_AFTER_EXPIRY, forget_old_confirmations
from app.services.messaging.tracking import SendRef, Tracker
from app.services.scenarios import scenarios
from tests.api.forms_kit import CONSENT, confirmation_links, make_form, path_of
from tests.worker.engine_harness import Engine

FORM = "/f/newsletter-signup"
LEA = {"email": "Lea@Example.com", "first_name": "Léa", "city": "Lyon", "consent": "1"}


@pytest.fixture
def clock(client: TestClient) -> FrozenClock:
    clock = FrozenClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    client.app.state.clock = clock  # type: ignore[attr-defined]
    return clock


@pytest.fixture
def form(session: Session, clock: FrozenClock) -> Any:
    return make_form(session, clock.now())


def contact(session: Session, email: str = "lea@example.com") -> Contact | None:
    session.expire_all()
    return session.exec(select(Contact).where(Contact.email == email)).first()


def event_names(session: Session, contact_id: int | None) -> list[str]:
    rows = session.exec(
        select(Event.name).where(Event.contact_id == contact_id).order_by(col(Event.id))
    )
    return list(rows)


def count(session: Session, model: Any) -> int:
    return int(session.exec(select(func.count()).select_from(model)).one())


def test_the_hosted_form_shows_the_marketers_words_in_the_visitors_language_and_may_be_framed(
    client: TestClient, form: Any
) -> None:
    page = client.get(FORM)

    assert page.status_code == 200
    assert "Your first name" in page.text
    assert "Your city" in page.text
    assert CONSENT in page.text
    assert 'name="website"' in page.text  # the honeypot
    assert "x-frame-options" not in page.headers
    policy = page.headers["content-security-policy"]
    assert "frame-ancestors *" in policy
    assert "script-src 'self'" in policy
    assert client.get("/f/no-such-form").status_code == 404
    # The confirmation pages, opened from an email, stay unframeable.
    assert client.get("/f/confirm/nothing").headers["x-frame-options"] == "DENY"
    # The visitor's language for our words, the marketer's labels as written.
    french = client.get(FORM, headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    assert "S’inscrire" in french.text
    assert "Your first name" in french.text


def test_a_sent_form_is_recorded_at_once_and_consent_waits_for_the_link(
    client: TestClient, session: Session, form: Any
) -> None:
    sent = client.post(FORM, data=LEA, headers={"User-Agent": "Firefox/140"})

    assert sent.status_code == 200
    assert "Check your inbox" in sent.text
    lea = contact(session)
    assert lea is not None
    assert lea.first_name == "Léa"
    assert lea.attributes == {"city": "Lyon"}
    assert lea.email_consent is False
    assert event_names(session, lea.id) == ["contact_created", "form_submitted"]
    assert count(session, ListMembership) == 0
    (link,) = confirmation_links(session)
    email = session.exec(select(OutboxMessage).where(OutboxMessage.contact_id == lea.id)).one()
    template = session.exec(
        select(MessageTemplate).where(MessageTemplate.key == email.payload["message"])
    ).one()
    assert template.purpose == "transactional"

    opened = client.get(path_of(link))  # a mail scanner opening it changes nothing
    assert opened.status_code == 200
    assert 'data-testid="confirm-optin"' in opened.text
    assert contact(session).email_consent is False  # type: ignore[union-attr]

    confirmed = client.post(path_of(link), headers={"User-Agent": "Safari/18"})

    assert confirmed.status_code == 200
    assert "You are subscribed" in confirmed.text
    assert "Welcome to the family!" in confirmed.text
    lea = contact(session)
    assert lea is not None
    assert lea.email_consent is True
    assert lea.email_consent_source == "form:newsletter-signup"
    assert count(session, ListMembership) == 1
    names = event_names(session, lea.id)
    assert names[2:] == ["consent_changed", "list_added", "optin_confirmed"]
    proof = session.exec(select(ConsentProof)).one()
    assert (proof.form_key, proof.consent_text, proof.double_opt_in) == (
        "newsletter-signup",
        CONSENT,
        True,
    )
    assert proof.ip == "testclient"
    assert proof.user_agent == "Firefox/140"
    assert proof.confirm_user_agent == "Safari/18"
    assert proof.confirmed_at is not None


def test_following_the_link_twice_does_nothing_more_and_a_forged_one_nothing_at_all(
    client: TestClient, session: Session, form: Any
) -> None:
    client.post(FORM, data=LEA)
    (link,) = confirmation_links(session)
    client.post(path_of(link))
    events = count(session, Event)

    again = client.post(path_of(link))
    forged = [client.post(url) for url in (path_of(link)[:-1] + "x", "/f/confirm/" + "a" * 300)]

    assert again.status_code == 200
    assert "Already confirmed" in again.text
    assert [answer.status_code for answer in forged] == [404, 404]
    assert "This link does not work" in forged[0].text
    assert count(session, Event) == events
    assert count(session, ConsentProof) == 1


def test_an_expired_link_says_so_and_sends_a_new_one(
    client: TestClient, session: Session, form: Any, clock: FrozenClock
) -> None:
    client.post(FORM, data=LEA)
    (old,) = confirmation_links(session)
    clock.advance(days=7, seconds=1)

    page = client.get(path_of(old))
    assert "This link has expired" in page.text
    assert 'data-testid="resend-optin"' in page.text
    assert "has expired" in client.post(path_of(old)).text
    assert contact(session).email_consent is False  # type: ignore[union-attr]

    resent = client.post(path_of(old) + "/resend")

    assert "Check your inbox" in resent.text
    old_again, new = confirmation_links(session)
    assert old_again == old
    assert new != old
    assert client.post(path_of(old)).status_code == 404  # replaced by the new one
    assert "You are subscribed" in client.post(path_of(new)).text
    assert contact(session).email_consent is True  # type: ignore[union-attr]


def test_a_filled_honeypot_is_told_it_worked_and_nothing_is_written(
    client: TestClient, session: Session, form: Any
) -> None:
    answer = client.post(FORM, data={**LEA, "website": "https://spam.example"})

    assert answer.status_code == 200
    assert "Check your inbox" in answer.text
    assert contact(session) is None
    assert count(session, OutboxMessage) == 0


def test_refused_input_is_a_422_with_each_problem_inline_and_what_was_typed_kept(
    client: TestClient, session: Session, form: Any
) -> None:
    answer = client.post(FORM, data={"email": "lea@example", "first_name": "", "city": "Ly<on"})

    assert answer.status_code == 422
    assert "is not a valid email address" in answer.text
    assert "Please fill this in." in answer.text
    assert "Please tick the box" in answer.text
    assert 'value="lea@example"' in answer.text
    assert 'value="Ly&lt;on"' in answer.text
    assert count(session, Contact) == 0


def test_nobody_can_flood_one_inbox_with_confirmations(
    client: TestClient, session: Session, form: Any
) -> None:
    answers = [client.post(FORM, data=LEA) for _ in range(4)]

    assert len(confirmation_links(session)) == 3
    assert "already sent you a confirmation email" in answers[3].text
    assert event_names(session, contact(session).id).count("form_submitted") == 3  # type: ignore[union-attr]


def test_one_client_address_is_stopped_once_its_budget_is_spent(
    client: TestClient, form: Any
) -> None:
    robot = {**LEA, "website": "x"}  # counted before anything else, written never
    answers = [client.post(FORM, data=robot) for _ in range(31)]

    assert [a.status_code for a in answers[:30]] == [200] * 30
    assert answers[30].status_code == 429
    assert int(answers[30].headers["Retry-After"]) > 0
    assert "Too many attempts" in answers[30].text


def test_an_existing_contact_is_left_as_it_is_until_they_confirm(
    client: TestClient, session: Session, form: Any
) -> None:
    session.add(Contact(email="lea@example.com", first_name="Léa"))
    session.commit()

    client.post(FORM, data={**LEA, "first_name": "Mallory"})

    assert contact(session).first_name == "Léa"  # type: ignore[union-attr]
    (link,) = confirmation_links(session)
    client.post(path_of(link))  # whoever confirms owns the address: their answers apply
    assert contact(session).first_name == "Mallory"  # type: ignore[union-attr]


def test_without_double_opt_in_consent_lists_and_proof_come_at_once(
    client: TestClient, session: Session, clock: FrozenClock
) -> None:
    make_form(session, clock.now(), double_opt_in=False, redirect_url="https://shop.example/ok")
    assert 'target="_top"' in client.get(FORM).text  # the redirect leaves the shop's frame

    answer = client.post(FORM, data=LEA)

    assert answer.status_code == 303
    assert answer.headers["location"] == "https://shop.example/ok"
    assert "form-action 'self' https://shop.example" in answer.headers["content-security-policy"]
    lea = contact(session)
    assert lea is not None
    assert lea.email_consent is True
    assert count(session, ListMembership) == 1
    assert session.exec(select(ConsentProof)).one().double_opt_in is False
    assert confirmation_links(session) == []
    assert event_names(session, lea.id) == ["contact_created", "list_added", "form_submitted"]


def test_the_proof_is_on_the_contact_page_and_in_the_gdpr_export(
    client: TestClient, session: Session, form: Any, logged_in: Any, api_key: str
) -> None:
    client.post(FORM, data=LEA)
    (link,) = confirmation_links(session)
    client.post(path_of(link))
    lea = contact(session)
    assert lea is not None

    page = logged_in.client.get(f"/contacts/{lea.id}")
    assert f'hx-get="/contacts/{lea.id}/consent-proofs"' in page.text
    proofs = logged_in.client.get(f"/contacts/{lea.id}/consent-proofs")
    assert CONSENT in proofs.text
    assert "Newsletter signup" in proofs.text

    headers = {"Authorization": f"Bearer {api_key}"}
    export = client.get(f"/api/v1/contacts/{lea.id}/export", headers=headers).json()
    (proof,) = export["consent_proofs"]
    assert proof["consent_text"] == CONSENT
    assert proof["ip"] == "testclient"
    assert export["form_confirmations"][0]["confirmed_at"] is not None
    assert client.delete(f"/api/v1/contacts/{lea.id}", headers=headers).status_code == 200
    assert count(session, ConsentProof) == 0  # erasure takes the proofs along

    client.post(FORM, data=LEA)  # erased on request, then signing up again
    *_, again = confirmation_links(session)
    client.post(path_of(again))
    assert contact(session).email_consent is True  # type: ignore[union-attr]
    assert count(session, ConsentProof) == 1


def test_the_confirm_and_welcome_template_starts_when_the_optin_is_confirmed(
    client: TestClient, session: Session, form: Any, clock: FrozenClock
) -> None:
    scenario, _ = scenarios.create_from_template(session, "confirm_welcome", now=clock.now())
    assert scenario.id is not None
    scenarios.activate(session, scenario.id, now=clock.now())
    session.commit()
    engine = Engine(session, clock=clock)
    client.post(FORM, data=LEA)
    engine.run()
    assert engine.enrollments(scenario) == []  # sent, not confirmed: no welcome yet

    (link,) = confirmation_links(session)
    client.post(path_of(link))
    engine.run()

    (journey,) = engine.enrollments(scenario)
    assert journey.contact_id == contact(session).id  # type: ignore[union-attr]
    welcome = [p for _, channel, p in engine.sent() if channel == "email" and p == "welcome"]
    assert welcome == ["welcome"]


def test_clients_cannot_send_the_forms_events_themselves(client: TestClient, api_key: str) -> None:
    headers = {"Authorization": f"Bearer {api_key}"}
    for name in ("optin_confirmed", "Form_Submitted"):
        body = {"name": name, "contact": {"email": "lea@example.com"}}
        assert client.post("/api/v1/events", json=body, headers=headers).status_code == 422


def test_the_confirmation_link_is_not_click_tracked_so_its_token_stays_out_of_the_history() -> None:
    tracker = Tracker("https://parcours.example", "secret-" + "x" * 40)
    ref = SendRef("form-confirmation:1:ab", 1, "signup-confirmation")
    html = (
        '<a href="https://parcours.example/f/confirm/TOKEN">Yes</a>'
        '<a href="https://shop.example/">Shop</a>'
    )

    tracked = tracker.track_html(html, ref)

    assert 'href="https://parcours.example/f/confirm/TOKEN"' in tracked
    assert 'href="https://shop.example/"' not in tracked


def test_a_list_deleted_since_the_form_was_saved_does_not_stop_the_consent(
    client: TestClient, session: Session, form: Any
) -> None:
    client.post(FORM, data=LEA)
    (link,) = confirmation_links(session)
    session.delete(session.exec(select(ContactList)).one())
    session.commit()

    assert "You are subscribed" in client.post(path_of(link)).text
    assert contact(session).email_consent is True  # type: ignore[union-attr]


def test_what_a_visitor_typed_is_forgotten_a_month_after_the_link_expired(
    client: TestClient, session: Session, form: Any, clock: FrozenClock
) -> None:
    assert client.post(FORM, data=LEA).status_code == 200
    (link,) = confirmation_links(session)
    lea = contact(session)
    assert lea is not None
    pending = session.exec(select(FormConfirmation)).one()
    expired = pending.expires_at

    assert forget_old_confirmations(session, expired + KEPT_AFTER_EXPIRY) == 0
    assert forget_old_confirmations(session, expired + KEPT_AFTER_EXPIRY + timedelta(1)) == 1

    assert count(session, FormConfirmation) == 0
    assert contact(session) is not None  # the contact stays, without consent
    clock.current = expired + KEPT_AFTER_EXPIRY + timedelta(days=2)
    assert client.get(path_of(link)).status_code == 404
