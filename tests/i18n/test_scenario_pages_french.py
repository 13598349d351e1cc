"""The scenario list, a scenario's statistics, the contacts at a block, the messages and their
editor, and the mailbox, read by a French user: French words, French numbers and dates."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine as SqlEngine
from sqlmodel import Session

from app.clock import FrozenClock
from app.config import Settings
from app.i18n import format_number, format_percent, speaking
from app.main import create_app
from app.models import Scenario
from app.routes.live import render_counters
from app.services.account.users import create_user
from app.services.insights.live_counters import EdgeShare, LiveCounters
from app.services.messaging.mailbox import store
from app.services.messaging.rendering import MessageParts, RenderContext, RenderError, render_parts
from app.services.scenarios import scenarios
from app.services.scenarios.stats import BlockCounters
from tests.fixtures.web import PASSWORD, Browser, log_in
from tests.worker.engine_harness import Engine


@pytest.fixture
def settings(database_url: str, redis_url: str, tmp_path: Path) -> Settings:
    # A live stream that ends quickly, so the test client can read it whole.
    return Settings(
        env="test",
        data_dir=tmp_path,
        database_url=database_url,
        redis_url=redis_url,
        secret_key="test-secret-" + "x" * 40,
        base_url="http://testserver",
        live_stream_seconds=0.3,
    )


@pytest.fixture
def flow(session: Session) -> Engine:
    return Engine(session)


def words(html: str) -> str:
    """The page with its layout's line breaks and indents as single spaces (the no-break
    spaces of French numbers are kept)."""
    return re.sub(r"[ \t\r\n]+", " ", html)


def french_number(value: int) -> str:
    with speaking("fr"):
        return format_number(value)


def cart_scenario(engine: Engine) -> Scenario:
    scenario, _report = scenarios.create_from_template(
        engine.session, "abandoned_cart", now=engine.clock.now()
    )
    assert scenario.id is not None
    scenarios.activate(engine.session, scenario.id, now=engine.clock.now())
    engine.session.flush()
    return scenario


def test_the_scenario_list_speaks_french(french: Browser, flow: Engine) -> None:
    cart_scenario(flow)
    flow.session.commit()

    page = words(french.client.get("/scenarios").text)

    assert '<html lang="fr">' in page
    for text in ("Scénarios", "Nouveau scénario vierge", "Dernière modification", "Actif",
                 "Version en ligne", "Ouvrir"):  # fmt: skip
        assert text in page, text
    for english in ("New blank scenario", "Last change", "Live version", "Use this one"):
        assert english not in page, english
    assert " UTC" not in page


def test_the_statistics_page_speaks_french_with_french_numbers(
    french: Browser, flow: Engine
) -> None:
    scenario = cart_scenario(flow)
    people = [flow.contact(f"buyer{i}@shop.test") for i in range(3)]
    for i, person in enumerate(people):
        flow.event(person, "cart_updated", cart_id=f"c{i}")
    flow.run()
    flow.event(people[0], "purchase", cart_id="c0")
    flow.later(hours=2)

    page = words(
        french.client.get(
            f"/scenarios/{scenario.id}/stats", params={"start": "2026-01-01", "end": "2026-01-10"}
        ).text
    )

    assert page.count("<html") == 1
    assert '<html lang="fr">' in page
    for text in ("Statistiques", "Vue en direct", "Résultats",
                 "entrés", "a atteint l’objectif", "taux de conversion",
                 "Entrées et conversions par jour", "Messages par bloc", "Échecs",
                 "en attente", "Ouvrir dans le canevas"):  # fmt: skip
        assert text in page, text
    for english in ("Live view", "reached the goal", "conversion rate",
                    "Messages per block", "Opens · clicks", "> waiting<"):  # fmt: skip
        assert english not in page, english
    assert 'data-testid="kpi-entries">3<' in page
    with speaking("fr"):
        rate = format_percent(1 / 3)
    assert rate != "33%", "a French percent has its space"
    assert rate in page, "one of three reached the goal, written the French way"
    assert re.search(r">\d{1,2} janv\.<", page), "chart days are French: '5 janv.'"


def test_the_live_counters_and_link_labels_speak_the_readers_language() -> None:
    counters = LiveCounters(
        nodes={"wait": BlockCounters(entered=1234, waiting=1, completed=2)},
        edges={"a|yes|b": EdgeShare(count=1234, share=0.5)},
    )
    with speaking("fr"):
        shown = render_counters(7, counters)
        share = format_percent(0.5)
    html = shown["nodes"]["wait"]["html"]
    assert f"<b>{french_number(1234)}</b> entrés" in html
    assert "<b>1</b> en attente" in html
    assert "<b>2</b> terminés" in html
    assert shown["edges"]["a|yes|b"]["label"] == f"{share} · {french_number(1234)}"
    english = render_counters(7, counters)
    assert "<b>1,234</b> entered" in english["nodes"]["wait"]["html"]
    assert english["edges"]["a|yes|b"]["label"] == "50% · 1,234"


def test_the_live_stream_speaks_the_users_language(
    settings: Settings, committed_engine: SqlEngine
) -> None:
    # The stream reads the database on its own connections: the rows must be committed.
    with Session(committed_engine) as session:
        user = create_user(session, email="flux@shop.example", password=PASSWORD, name="Flux")
        user.language = "fr"
        scenario, _report = scenarios.create_from_template(
            session, "abandoned_cart", now=FrozenClock().now()
        )
        scenarios.activate(session, scenario.id or 0, now=FrozenClock().now())
        session.commit()
        scenario_id = scenario.id
    with TestClient(create_app(settings), follow_redirects=False) as client:
        assert log_in(client, "flux@shop.example", PASSWORD)[0] == 303
        with client.stream("GET", f"/scenarios/{scenario_id}/live") as stream:
            body = stream.read().decode()

    first = next(
        json.loads(line.removeprefix("data: "))
        for line in body.splitlines()
        if line.startswith("data: ")
    )
    html = first["nodes"]["hour"]["html"]
    assert "<b>0</b> entré<" in html, "0 is singular in French"
    assert "Contacts arrivés à ce bloc" in html
    assert "entered<" not in html


def test_the_contacts_at_a_block_speak_french(french: Browser, flow: Engine) -> None:
    scenario = cart_scenario(flow)
    for i in range(2):
        flow.event(flow.contact(f"buyer{i}@shop.test"), "cart_updated", cart_id=f"c{i}")
    flow.run()
    flow.session.commit()

    page = words(french.client.get(f"/scenarios/{scenario.id}/blocks/hour/contacts").text)

    for text in ("Retour au scénario", "Tous ceux passés ici", "Enregistrer comme liste",
                 "Arrivé ici", "Retirer du scénario", "en attente", "contacts"):  # fmt: skip
        assert text in page, text
    for english in ("Back to the scenario", "Came here", "Save as a list", "still here"):
        assert english not in page, english
    assert " UTC" not in page
    assert "janv. 2026" in page, "when each contact came, in French"


def test_the_messages_list_and_editor_speak_french(french: Browser) -> None:
    listing = words(french.client.get("/messages").text)
    for text in ("Nouvel e-mail", "Nouveau SMS", "Partir de messages prêts à l’emploi",
                 "Aucun message pour l’instant"):  # fmt: skip
        assert text in listing, text
    assert "New email" not in listing
    assert "No messages yet" not in listing

    editor = words(french.client.get("/messages/new").text)
    for text in ("Type de message", "Transactionnel", "Nom de l’expéditeur", "Objet",
                 "Variables disponibles", "M’envoyer un test", "Bonjour {{ contact.first_name"):  # fmt: skip
        assert text in editor, text
    for english in ("Kind of message", "Sender name", "Placeholders you can use",
                    "Send a test to me", "Write your message here"):  # fmt: skip
        assert english not in editor, english

    sms = words(french.client.get("/messages/new?channel=sms").text)
    assert "Nouveau SMS" in sms
    assert "Texte" in sms


def test_the_editors_preview_and_refusals_speak_french(french: Browser) -> None:
    form = {
        "key": "bienvenue",
        "name": "Bienvenue",
        "channel": "sms",
        "purpose": "marketing",
        "text": "Bonjour {{ contact.first_name }} ! Votre colis arrive…",
    }
    preview = words(french.post("/messages/preview", form, htmx=True).text)
    assert "caractères" in preview
    assert "Affiché pour le contact exemple (Léa Martin)." in preview

    broken = words(
        french.post("/messages/preview", {**form, "text": "{{ contact.first_name"}, htmx=True).text
    )
    assert "Ce message ne peut pas être envoyé en l’état." in broken
    assert "Dans le texte du SMS, ligne 1 :" in broken

    refused = words(french.post("/messages/save", {**form, "key": "Pas bon"}, htmx=True).text)
    assert "une clé utilise des lettres minuscules, des chiffres" in refused


def test_a_render_error_is_english_when_stored_and_french_when_shown() -> None:
    parts = MessageParts(channel="sms", text="{{ 1 / 0 }}")
    with speaking("fr"), pytest.raises(RenderError) as failed:
        render_parts(parts, RenderContext(contact={}))
    assert str(failed.value).startswith("the SMS text could not be filled in: it divides by zero")
    with speaking("fr"):
        assert failed.value.words().startswith("le texte du SMS n’a pas pu être rempli")


def test_the_mailbox_speaks_french_with_french_numbers(french: Browser, session: Session) -> None:
    now = FrozenClock().now()
    store(
        session,
        [
            {
                "outbox_id": None,
                "contact_id": None,
                "channel": "sms",
                "message_key": "cart",
                "to_address": f"+336000{i:05d}",
                "from_address": "Parcours",
                "subject": "",
                "html": "",
                "text": f"Votre panier {i}",
                "headers": {},
                "created_at": now,
            }
            for i in range(1234)
        ],
    )
    session.commit()

    page = words(french.client.get("/mailbox").text)

    assert f"{french_number(1234)} messages" in page
    assert french_number(1234) != "1234"
    assert french_number(1234) != "1,234"
    assert re.search("<h1[^>]*>Boîte d[’']envoi</h1>", page), "the heading is French"
    # Nothing went through the outbox: 0 is singular in French.
    for text in (">envoyé<", "en attente de départ", ">non envoyé<",
                 "Alertes d’équipe", "Plus anciens", "Page 1 sur 25"):  # fmt: skip
        assert text in page, text
    for english in ("waiting to go", "Team alerts", "Older", "Page 1 of"):
        assert english not in page, english
    assert "janv. 2026" in page

    from sqlmodel import select

    from app.models import MailboxMessage

    mail = session.exec(select(MailboxMessage).limit(1)).one()
    detail = words(french.client.get(f"/mailbox/{mail.id}").text)
    assert f"SMS à {mail.to_address}" in detail
    assert "Un SMS conservé par la boîte d’envoi intégrée le" in detail
    assert "kept by the built-in mailbox" not in detail
