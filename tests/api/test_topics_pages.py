"""Settings → Topics, the message editor's topic and the contact page's topics (DESIGN §12.3)."""

from __future__ import annotations

from sqlmodel import Session, select

from app.models import ContactTopic, MessageTemplate, Topic
from tests.api.test_messages_pages import EMAIL_FORM
from tests.fixtures.web import Browser
from tests.worker.delivery_kit import add_contact, add_template


def topic_named(session: Session, key: str) -> Topic | None:
    session.expire_all()
    return session.exec(select(Topic).where(Topic.key == key)).first()


def test_a_marketer_creates_renames_and_deletes_a_topic_in_settings(
    logged_in: Browser, session: Session
) -> None:
    assert 'href="/settings/topics"' in logged_in.client.get("/settings").text

    created = logged_in.post("/settings/topics", {"name": "Offers", "description": "Sales"})
    renamed = logged_in.post("/settings/topics/offers/rename", {"name": "Special offers"})
    page = logged_in.client.get("/settings/topics")

    assert created.status_code == 200
    assert "Topic &#39;Offers&#39; created." in created.text
    assert renamed.status_code == 200
    assert "Special offers" in page.text
    assert "<code>offers</code>" in page.text
    topic = topic_named(session, "offers")
    assert topic is not None
    assert (topic.name, topic.description) == ("Special offers", "")
    deleted = logged_in.post("/settings/topics/offers/delete")
    assert deleted.status_code == 200
    assert topic_named(session, "offers") is None


def test_a_topic_a_message_carries_is_not_deleted_and_the_page_names_the_message(
    logged_in: Browser, session: Session
) -> None:
    session.add(Topic(key="offers", name="Offers"))
    session.flush()
    add_template(session, "sale", name="Spring sale", topic="offers")
    session.commit()

    refused = logged_in.post("/settings/topics/offers/delete")
    duplicate = logged_in.post("/settings/topics", {"name": "Offers", "key": "offers"})
    blank = logged_in.post("/settings/topics", {"name": "  "})

    assert refused.status_code == 409
    assert "Spring sale" in refused.text
    assert topic_named(session, "offers") is not None
    assert duplicate.status_code == 409
    assert 'value="Offers"' in duplicate.text, "the form keeps what was typed"
    assert blank.status_code == 422
    assert logged_in.post("/settings/topics/nothing/delete").status_code == 404


def test_the_message_editor_chooses_and_saves_a_topic(logged_in: Browser, session: Session) -> None:
    session.add(Topic(key="offers", name="Offers"))
    session.commit()

    editor = logged_in.client.get("/messages/new")
    saved = logged_in.post("/messages/save", {**EMAIL_FORM, "is_new": "1", "topic": "offers"})
    again = logged_in.client.get("/messages/welcome")
    unknown = logged_in.post("/messages/save", {**EMAIL_FORM, "topic": "gone"}, htmx=True)

    assert '<option value="offers" >Offers</option>' in editor.text
    assert saved.status_code == 303
    assert '<option value="offers" selected>Offers</option>' in again.text
    template = session.exec(select(MessageTemplate).where(MessageTemplate.key == "welcome")).one()
    session.refresh(template)
    assert template.topic == "offers"
    assert unknown.status_code == 422
    assert "no topic with the key" in unknown.text


def test_a_marketer_sees_and_changes_a_contact_s_topics(
    logged_in: Browser, session: Session
) -> None:
    session.add(Topic(key="offers", name="Offers"))
    session.add(Topic(key="newsletter", name="Newsletter"))
    lea = add_contact(session)
    session.commit()

    page = logged_in.client.get(f"/contacts/{lea.id}")
    saved = logged_in.client.post(
        f"/contacts/{lea.id}/topics", data={"keep": ["newsletter"], "csrf_token": logged_in.csrf}
    )
    after = logged_in.client.get(f"/contacts/{lea.id}")

    assert 'data-testid="contact-topics"' in page.text
    assert 'value="offers" data-testid="contact-topic-offers" checked>' in page.text
    assert saved.status_code == 303
    assert saved.headers["location"] == f"/contacts/{lea.id}#topics"
    rows = session.exec(select(ContactTopic).where(ContactTopic.contact_id == lea.id)).all()
    assert {(r.topic_id, r.subscribed, r.source) for r in rows} == {
        (topic_named(session, "offers").id, False, "changed by Marie"),  # type: ignore[union-attr]
        (topic_named(session, "newsletter").id, True, "changed by Marie"),  # type: ignore[union-attr]
    }
    assert "left this topic · changed by Marie" in after.text


def test_topic_pages_refuse_a_post_without_the_csrf_token(
    logged_in: Browser, session: Session
) -> None:
    lea = add_contact(session)
    session.commit()

    created = logged_in.client.post("/settings/topics", data={"name": "Offers"})
    chosen = logged_in.client.post(f"/contacts/{lea.id}/topics", data={"keep": []})

    assert created.status_code == chosen.status_code == 403
    assert topic_named(session, "offers") is None


def test_the_topics_page_speaks_french(french: Browser, session: Session) -> None:
    session.add(Topic(key="offers", name="Offres"))
    session.commit()

    page = french.client.get("/settings/topics")

    assert "Thèmes" in page.text
    assert "Créer le thème" in page.text
