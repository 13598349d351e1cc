"""What contacts read: their own language (API, CSV import, the tracking snippet) picks the
language of the unsubscribe page, the email footer and the starter messages; unknown → the
workspace's. "Use this template" creates the scenario in the language of the user."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from app.clock import FrozenClock
from app.config import Settings
from app.db import session_scope
from app.i18n import speaking
from app.message_templates import STARTERS, starters
from app.models import Contact, ContactList, MessageTemplate, Scenario
from app.scenario_templates import FOLDER as SCENARIO_FOLDER
from app.scenario_templates import scenario_templates
from app.services.account import preferences
from app.services.account.tracking_keys import site_keys
from app.services.contacts import import_ as contact_import
from app.services.contacts import import_run
from app.services.messaging.composition import finish_html, finish_text
from app.services.messaging.rendering import MessageParts, RenderContext, render_parts
from app.services.messaging.unsubscribe import UnsubscribeLinks
from app.services.scenarios import scenarios as scenario_service
from tests.fixtures.web import Browser
from tests.worker.delivery_kit import add_contact, drain, mailbox, queue

# --- the contact's language through the API -------------------------------------------------


@pytest.mark.parametrize(
    ("given", "stored"),
    [("fr", "fr"), ("en", "en"), ("fr-FR", "fr"), ("en_GB", "en"), (" FR ", "fr"), ("de", "de")],
)
def test_the_api_keeps_the_base_language(
    client: TestClient, api_key: str, given: str, stored: str
) -> None:
    saved = client.post(
        "/api/v1/contacts",
        json={"email": "lea@example.com", "language": given},
        headers={"Authorization": f"Bearer {api_key}"},
    )

    assert saved.status_code == 201, saved.text
    assert saved.json()["contact"]["language"] == stored
    read = client.get(
        f"/api/v1/contacts/{saved.json()['contact']['id']}",
        headers={"Authorization": f"Bearer {api_key}"},
    )
    assert read.json()["language"] == stored


def test_the_language_can_be_given_among_the_attributes_changed_and_cleared(
    client: TestClient, api_key: str, session: Session
) -> None:
    auth = {"Authorization": f"Bearer {api_key}"}
    first = client.post(
        "/api/v1/contacts",
        json={"email": "lea@example.com", "attributes": {"language": "fr-CA"}},
        headers=auth,
    )
    changed = client.post(
        "/api/v1/contacts", json={"email": "lea@example.com", "language": "en"}, headers=auth
    )
    cleared = client.post(
        "/api/v1/contacts",
        json={"email": "lea@example.com", "attributes": {"language": None}},
        headers=auth,
    )

    assert first.json()["contact"]["language"] == "fr"
    assert first.json()["contact"]["attributes"] == {}, "a column, not a custom attribute"
    assert changed.json()["changed"] == ["language"]
    assert cleared.json()["contact"]["language"] is None


@pytest.mark.parametrize("garbage", ["123", "français", "fr--FR", "f", "x" * 40, "<fr>"])
def test_a_value_that_is_not_a_language_is_refused_and_nothing_is_written(
    client: TestClient, api_key: str, session: Session, garbage: str
) -> None:
    refused = client.post(
        "/api/v1/contacts",
        json={"email": "lea@example.com", "language": garbage},
        headers={"Authorization": f"Bearer {api_key}"},
    )

    assert refused.status_code == 422
    assert "is not a language" in refused.text
    assert session.exec(select(Contact)).all() == []


def test_a_language_that_is_not_text_is_refused(client: TestClient, api_key: str) -> None:
    refused = client.post(
        "/api/v1/contacts",
        json={"email": "lea@example.com", "attributes": {"language": 12}},
        headers={"Authorization": f"Bearer {api_key}"},
    )

    assert refused.status_code == 422
    assert "the language must be text" in refused.text


# --- the CSV import and the tracking snippet -------------------------------------------------


def test_the_csv_import_maps_a_language_column(committed_engine: Engine) -> None:
    clock = FrozenClock()
    content = (
        "email;prénom;langue\n"
        "lea@example.com;Léa;fr-FR\n"
        "tom@example.com;Tom;en\n"
        "ana@example.com;Ana;\n"
        "bad@example.com;Bad;123\n"
    )
    with session_scope(committed_engine) as session:
        upload = contact_import.create_import(
            session,
            filename="shop.csv",
            raw=content.encode(),
            max_bytes=1_000_000,
            created_by_id=None,
            now=clock.now(),
        )
        assert upload.mapping["langue"] == {"field": "language"}
        contact_import.set_mapping(
            session, upload, dict(upload.mapping), list_key=None, consent_source="shop"
        )
        assert upload.id is not None
        import_id = upload.id

    assert import_run.run_import(committed_engine, import_id, clock.now, budget_seconds=60)

    with Session(committed_engine) as session:
        languages = {c.email: c.language for c in session.exec(select(Contact)).all()}
        report = "".join(
            contact_import.rejection_report(session, import_run.get_import(session, import_id))
        )
    assert languages == {"lea@example.com": "fr", "tom@example.com": "en", "ana@example.com": None}
    assert "'123' is not a language" in report


def test_the_tracking_snippet_gives_a_new_visitor_the_browsers_language(
    client: TestClient, session: Session, settings: Settings, api_key: str, redis: object
) -> None:
    site_key = site_keys(session, settings)[0][1]

    def identify(email: str, language: str) -> int:
        body = {
            "key": site_key,
            "contact": {"email": email, "language": language},
            "identify": True,
        }
        return client.post(
            "/api/track", content=json.dumps(body), headers={"Content-Type": "text/plain"}
        ).status_code

    assert identify("lea@example.com", "fr-FR") == 202
    assert identify("tom@example.com", "not a language!") == 202, "the visit is kept"
    languages = {c.email: c.language for c in session.exec(select(Contact)).all()}
    assert languages == {"lea@example.com": "fr", "tom@example.com": None}


def test_the_snippet_sends_the_browsers_language() -> None:
    from pathlib import Path

    script = (Path(__file__).parents[2] / "app/static/js/parcours-track.js").read_text()
    assert "navigator.language" in script
    assert "contact.language" in script


# --- the unsubscribe page in the contact's language ------------------------------------------


@pytest.fixture
def links(settings: Settings) -> UnsubscribeLinks:
    return UnsubscribeLinks(settings.base_url, settings.resolved_secret_key())


def path(url: str) -> str:
    return url.removeprefix("http://testserver")


def test_a_french_contact_reads_the_unsubscribe_page_in_french_whatever_the_browser(
    client: TestClient, session: Session, links: UnsubscribeLinks
) -> None:
    lea = add_contact(session, language="fr")
    session.commit()
    url = path(links.url(lea.id, "1:welcome:1"))

    page = client.get(url, headers={"Accept-Language": "en-US"})
    done = client.post(url, headers={"Accept-Language": "en-US"})

    assert '<html lang="fr">' in page.text
    assert "Vous désinscrire de nos e-mails ?" in page.text
    assert "Se désinscrire" in page.text
    assert "Unsubscribe" not in page.text
    assert '<html lang="fr">' in done.text
    assert "Votre désinscription est confirmée" in done.text


def test_an_english_contact_reads_it_in_english_even_from_a_french_browser(
    client: TestClient, session: Session, links: UnsubscribeLinks
) -> None:
    preferences.set_contact_language(session, "fr")
    tom = add_contact(session, email="tom@example.com", language="en")
    session.commit()
    url = path(links.url(tom.id, "1:welcome:1"))

    page = client.get(url, headers={"Accept-Language": "fr-FR"})
    done = client.post(url, headers={"Accept-Language": "fr-FR"})

    assert '<html lang="en">' in page.text
    assert "Unsubscribe from our emails?" in page.text
    assert "You are unsubscribed" in done.text


@pytest.mark.parametrize("language", [None, "de"])
def test_a_contact_whose_language_is_unknown_reads_the_workspaces(
    logged_in: Browser, session: Session, links: UnsubscribeLinks, language: str | None
) -> None:
    contact = add_contact(session, language=language)
    session.commit()
    url = path(links.url(contact.id, "1:welcome:1"))
    assert "Unsubscribe from our emails?" in logged_in.client.get(url).text

    saved = logged_in.post("/settings/workspace", {"contact_language": "fr"})
    assert saved.status_code == 200

    page = logged_in.client.get(url, headers={"Accept-Language": "en-US"})
    assert "Vous désinscrire de nos e-mails ?" in page.text


def test_a_broken_link_is_explained_in_the_workspaces_language(
    client: TestClient, session: Session
) -> None:
    preferences.set_contact_language(session, "fr")
    session.commit()

    page = client.get("/u/not-a-token")
    click = client.get("/t/c/not-a-token")

    assert page.status_code == 404
    assert "Ce lien ne fonctionne pas" in page.text
    assert click.status_code == 404
    assert "est pas valide. Il a peut-être été copié" in click.text


# --- emails: the footer Parcours adds, and the starters written in each language ---------


def test_the_footer_parcours_adds_speaks_the_language_of_the_block() -> None:
    url = "https://parcours.example/u/abc"
    with speaking("fr"):
        html = finish_html("<html><body><p>Bonjour</p></body></html>", unsubscribe_url=url)
        text = finish_text("Bonjour", unsubscribe_url=url)
    english = finish_text("Hello", unsubscribe_url=url)

    assert "Vous recevez cet e-mail suite à votre inscription." in html
    assert f'<a href="{url}"' in html
    assert ">Se désinscrire</a> en un clic." in html
    assert text.endswith(f"Se désinscrire en un clic : {url}")
    assert english.endswith(f"Unsubscribe in one click: {url}")


def test_every_starter_exists_in_french_and_english_keeps_its_words() -> None:
    english, french = starters("en"), starters("fr")

    assert list(english) == list(french) == [s.key for s in STARTERS]
    assert english["welcome"] is STARTERS[0]
    assert english["welcome"].subject == "Welcome, {{ contact.first_name | default('there') }}!"
    for key, starter in french.items():
        assert starter.language == "fr"
        assert starter.name != english[key].name
        assert starter.text != english[key].text
        assert "Unsubscribe" not in starter.text
        if starter.channel == "email":
            assert starter.subject != english[key].subject
            assert '<html lang="fr">' in starter.html
        if starter.channel == "email" and starter.purpose == "marketing":
            assert "Se désinscrire" in starter.html
            assert "{{ unsubscribe_url }}" in starter.html
        elif starter.channel == "email":  # a transactional email says why it came instead
            assert "{{ unsubscribe_url }}" not in starter.html
            assert "formulaires d’inscription" in starter.html


def _context(language_footer_url: str = "https://x.example/u/1") -> RenderContext:
    return RenderContext(
        contact={"first_name": "Léa", "email": "lea@example.com"},
        event={
            "name": "cart_updated",
            "properties": {"cart_total": 59.9, "items": [{"name": "Robe", "price": 49.9}]},
        },
        unsubscribe_url=language_footer_url,
        now=datetime(2026, 1, 5, 10, 0),
        sender={"name": "Maison Lumière", "email": "hello@shop.example"},
    )


@pytest.mark.parametrize("key", [s.key for s in STARTERS])
def test_every_french_starter_renders(key: str) -> None:
    starter = starters("fr")[key]
    parts = MessageParts(
        channel=starter.channel, subject=starter.subject, html=starter.html, text=starter.text
    )

    rendered = render_parts(parts, _context())

    assert "Léa" in rendered.text or "Maison Lumière" in rendered.text
    if key == "cart-reminder":
        assert "59,90 €" in rendered.html
        assert "49,90 €" in rendered.text


def test_every_french_scenario_file_names_what_the_english_one_has() -> None:
    english = {p.name: json.loads(p.read_text()) for p in SCENARIO_FOLDER.glob("*.json")}
    french = {p.name: json.loads(p.read_text()) for p in (SCENARIO_FOLDER / "fr").glob("*.json")}

    assert set(french) == set(english)
    for name, words in french.items():
        source = english[name]
        assert set(words) <= {"name", "description", "when_to_use", "lists", "messages", "nodes"}
        assert set(words.get("lists", {})) == {spec["key"] for spec in source.get("lists", [])}
        assert set(words.get("messages", {})) == {m["key"] for m in source.get("messages", [])}
        assert set(words.get("nodes", {})) <= {n["id"] for n in source["graph"]["nodes"]}
    for key, bundle in scenario_templates("fr").items():
        original = scenario_templates("en")[key]
        assert bundle.graph["edges"] == original.graph["edges"]
        assert bundle.name != original.name
        assert bundle.description != original.description
        assert [m.key for m in bundle.messages] == [m.key for m in original.messages]


# --- "Use this template" in the user's language -----------------------------------------


def test_a_french_user_gets_the_template_in_french(logged_in: Browser, session: Session) -> None:
    logged_in.post("/settings/preferences", {"language": "fr", "time_zone": "Europe/Paris"})

    gallery = logged_in.client.get("/templates")
    used = logged_in.post("/templates/welcome/use")

    assert "Scénarios prêts à l\u2019emploi" in gallery.text
    assert "Série de bienvenue" in gallery.text
    assert "Utiliser ce modèle" in gallery.text
    assert "Ready-made scenarios" not in gallery.text
    assert used.status_code == 303
    scenario = session.exec(select(Scenario)).one()
    assert scenario.name == "Série de bienvenue"
    assert scenario.description.startswith("Accueille chaque nouvel abonné")
    welcome = session.exec(select(MessageTemplate).where(MessageTemplate.key == "welcome")).one()
    assert welcome.name == "Bienvenue"
    assert welcome.subject.startswith("Bienvenue")
    assert "ravis de vous compter parmi nous" in welcome.html
    assert "Se désinscrire" in welcome.html
    assert "Se désinscrire" in welcome.text
    newsletter = session.exec(select(ContactList).where(ContactList.key == "newsletter")).one()
    assert newsletter.name == "Newsletter"
    assert newsletter.description.startswith("Les personnes")


def test_a_french_user_gets_french_sms_and_team_alerts(
    logged_in: Browser, session: Session
) -> None:
    logged_in.post("/settings/preferences", {"language": "fr", "time_zone": "UTC"})

    logged_in.post("/templates/lead_scoring/use")
    logged_in.post("/templates/loyal_customers/use")
    logged_in.post("/messages/starters")

    scenarios = {s.template_key: s for s in session.exec(select(Scenario)).all()}
    [alert] = [n for n in scenarios["lead_scoring"].draft["nodes"] if n["id"] == "alert_sales"]
    assert alert["config"]["message"].startswith("Prospect chaud :")
    hot = session.exec(select(ContactList).where(ContactList.key == "hot-leads")).one()
    assert hot.name == "Prospects chauds"
    messages = {m.key: m for m in session.exec(select(MessageTemplate)).all()}
    assert messages["next-order-coupon"].subject.startswith("Merci !")
    assert "Se désinscrire" in messages["next-order-coupon"].html
    assert messages["cart-reminder-sms"].name == "Relance panier (SMS)"
    assert "votre panier vous attend" in messages["cart-reminder-sms"].text


def test_an_english_user_gets_the_template_in_english(logged_in: Browser, session: Session) -> None:
    gallery = logged_in.client.get("/templates", headers={"Accept-Language": "en-US"})
    logged_in.post("/templates/welcome/use")

    assert "Ready-made scenarios" in gallery.text
    assert "Use this template" in gallery.text
    scenario = session.exec(select(Scenario)).one()
    assert scenario.name == "Welcome series"
    welcome = session.exec(select(MessageTemplate).where(MessageTemplate.key == "welcome")).one()
    assert (welcome.name, welcome.subject) == ("Welcome", STARTERS[0].subject)
    assert welcome.html == STARTERS[0].html
    assert "Unsubscribe" in welcome.html


# --- the worker writes the French email to the French contact --------------------------------


async def test_a_french_contacts_welcome_email_is_french_from_body_to_footer(
    committed_engine: Engine, settings: Settings
) -> None:
    clock = FrozenClock()
    with session_scope(committed_engine) as session:
        with speaking("fr"):  # what the request of a French user does
            scenario_service.create_from_template(session, "welcome", now=clock.now())
        lea = add_contact(session, language="fr")
        queue(session, clock, lea, key="1:hello:1", payload={"message": "welcome"}, node="hello")

    assert await drain(committed_engine, clock, settings) == {"sent": 1}

    [mail] = mailbox(committed_engine)
    assert mail.subject == "Bienvenue Léa, ravis de vous compter parmi nous !"
    assert "Bonjour Léa, ravis de vous compter parmi nous !" in mail.html
    assert "Vous recevez cet e-mail de" in mail.html
    assert "Se désinscrire</a> en un clic" in mail.html
    assert "Se désinscrire en un clic :" in mail.text
    assert "Unsubscribe" not in mail.html.replace("List-Unsubscribe", "")
    assert mail.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


async def test_the_footer_parcours_adds_follows_each_contacts_language(
    committed_engine: Engine, settings: Settings
) -> None:
    clock = FrozenClock()
    with session_scope(committed_engine) as session:
        preferences.set_contact_language(session, "fr")
        session.add(
            MessageTemplate(
                key="news",
                name="News",
                channel="email",
                purpose="marketing",
                subject="News",
                html="<html><body><p>News</p></body></html>",
                text="News",
            )
        )
        tom = add_contact(session, email="tom@example.com", language="en")
        nobody_said = add_contact(session, email="ana@example.com", language=None)
        queue(session, clock, tom, key="1:news:1", payload={"message": "news"})
        queue(session, clock, nobody_said, key="1:news:2", payload={"message": "news"})

    assert await drain(committed_engine, clock, settings) == {"sent": 2}

    by_address = {m.to_address.split("<")[-1].rstrip(">"): m for m in mailbox(committed_engine)}
    assert "Unsubscribe in one click:" in by_address["tom@example.com"].text
    assert "You receive this email because you signed up." in by_address["tom@example.com"].html
    assert "Se désinscrire en un clic :" in by_address["ana@example.com"].text
    assert "suite à votre inscription" in by_address["ana@example.com"].html
