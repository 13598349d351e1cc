"""A French user reads the login, home, contact, import, list, segment and settings pages in
French, with dates in their own time zone."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.models import Contact, ContactList, User
from app.services.contacts.contacts import CONTACT_CREATED, change_event, record_events
from tests.fixtures.web import Browser


@pytest.fixture
def french(logged_in: Browser, session: Session, user: User) -> Browser:
    user.language, user.time_zone = "fr", "Europe/Paris"
    session.add(user)
    session.commit()
    return logged_in


@pytest.fixture
def lea(session: Session) -> Contact:
    contact = Contact(
        email="lea@example.com",
        first_name="Léa",
        last_name="Martin",
        created_at=datetime(2026, 1, 5, 8, 27, tzinfo=UTC),
        attributes={"vip": True},
        email_consent=True,
        email_consent_source="formulaire",
        email_consent_at=datetime(2026, 1, 5, 8, 27, tzinfo=UTC),
    )
    session.add(contact)
    session.flush()
    assert contact.id is not None
    record_events(session, [change_event(contact.id, CONTACT_CREATED, {}, contact.created_at)])
    session.add(
        ContactList(
            key="newsletter", name="Newsletter", created_at=datetime(2026, 1, 1, tzinfo=UTC)
        )
    )
    session.commit()
    return contact


def page(browser: Browser, url: str) -> str:
    response = browser.client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    assert '<html lang="fr">' in response.text
    return html.unescape(response.text)


def test_the_login_page_speaks_french_to_a_french_browser(client: TestClient) -> None:
    text = client.get("/login", headers={"Accept-Language": "fr"}).text

    assert "Se connecter" in text
    assert "Mot de passe" in text
    assert "Concevez des parcours clients" in text
    assert "Password" not in text


def test_a_wrong_password_is_told_in_french(client: TestClient, user: User) -> None:
    login = client.get("/login", headers={"Accept-Language": "fr"})
    token = login.text.split('name="csrf_token" value="')[1].split('"')[0]
    refused = client.post(
        "/login",
        data={"email": user.email, "password": "not it", "csrf_token": token, "next": "/"},
        headers={"Accept-Language": "fr"},
    )

    assert refused.status_code == 401
    assert "E-mail ou mot de passe incorrect." in html.unescape(refused.text)


def test_home_and_navigation_in_french(french: Browser) -> None:
    text = page(french, "/")

    assert "Ravi de vous revoir, Marie" in text
    for word in (
        "Accueil",
        "Scénarios",
        "Listes",
        "Paramètres",
        "Se déconnecter",
        "Pour commencer",
    ):
        assert word in text
    for english in ("Log out", "Good to see you", "Get started", "Settings</span>"):
        assert english not in text


def test_contacts_pages_in_french(french: Browser, lea: Contact) -> None:
    listing = page(french, "/contacts")
    assert "Tous les contacts" in listing
    assert "Rechercher" in listing
    assert "<strong>1</strong> contact" in listing
    assert "5 janv. 2026" in listing
    assert "Marketing emails" not in listing
    assert "All contacts" not in listing

    detail = page(french, f"/contacts/{lea.id}")
    for word in ("Profil", "Prénom", "Consentement", "Historique", "Est devenu contact", "oui"):
        assert word in detail
    assert "dans Parcours depuis le 5 janv. 2026" in detail
    for english in (
        "in Parcours since",
        "Contacts since",
        "Became a contact",
        "Profile",
        "Timeline",
    ):
        assert english not in detail


def test_a_contacts_dates_are_in_the_readers_time_zone(french: Browser, lea: Contact) -> None:
    detail = re.sub(r'datetime="[^"]*"', "", page(french, f"/contacts/{lea.id}"))  # for machines

    assert "09:27" in detail  # 08:27 UTC is 09:27 in Paris in January
    assert "08:27" not in detail
    assert "UTC" not in detail.replace("<dd>UTC</dd>", "")  # the contact's own zone may be UTC


def test_the_import_pages_in_french(french: Browser) -> None:
    start = page(french, "/contacts/import")
    assert "Importer des contacts depuis un fichier CSV" in start
    assert "Choisir le fichier" in start

    csv = "email;prénom;ville\nlea@example.com;Léa;Lyon\n".encode()
    uploaded = french.client.post(
        "/contacts/import",
        data={"csrf_token": french.csrf},
        files={"file": ("clients.csv", csv, "text/csv")},
    )
    assert uploaded.status_code == 303
    mapping = page(french, uploaded.headers["location"])

    assert "Import de « clients.csv »" in mapping
    assert "Que contient chaque colonne ?" in mapping
    assert "Ne pas importer" in mapping  # the field names, translated where shown
    assert ">texte</option>" in mapping
    assert "Importer 1 contact" in mapping
    assert "Match the columns" not in mapping
    assert 'value="text"' in mapping  # the values sent stay the keys

    empty = french.client.post(
        "/contacts/import",
        data={"csrf_token": french.csrf},
        files={"file": ("vide.csv", b"", "text/csv")},
    )
    assert "Le fichier est vide." in html.unescape(empty.text)


def test_tracking_lists_and_segments_in_french(french: Browser, lea: Contact) -> None:
    tracking = page(french, "/contacts/tracking")
    assert "Suivre votre site" in tracking

    lists = page(french, "/lists")
    assert "Créer la liste" in lists
    assert "Membres" in lists
    assert "Create list" not in lists

    created = french.post("/lists", {"key": "Not A Key", "name": "Clients"}, htmx=True)
    assert "ne peut pas servir de clé" in html.unescape(created.text)

    segments = page(french, "/segments")
    assert "Pas encore de segments" in segments
    assert "Nouveau segment" in segments

    editor = page(french, "/segments/new")
    for word in ("Qui en fait partie", "Une information du contact", "est supérieur à", "Remplir"):
        assert word in editor
    assert "A detail of the contact" not in editor
    preview = french.post("/segments/preview", {"condition": '{"attribute": "city"}'}, htmx=True)
    assert "La condition est incomplète" in html.unescape(preview.text)


def test_settings_in_french(french: Browser) -> None:
    text = page(french, "/settings")

    for word in ("Votre compte", "Clés d’API", "Utilisateurs", "Se déconnecter partout", "Envoi"):
        assert word in text
    assert "connecté sur 1 navigateur." in text
    for english in ("Your account", "Log out everywhere", "Change password", "No keys yet"):
        assert english not in text

    refused = french.post(
        "/settings/password", {"current_password": "x", "new_password": "y"}, htmx=True
    )
    assert "Votre mot de passe actuel n’est pas le bon." in html.unescape(refused.text)


def test_a_missing_contact_is_a_french_error_page(french: Browser) -> None:
    missing = french.client.get("/contacts/999999")

    assert missing.status_code == 404
    text = html.unescape(missing.text)
    assert "Il n’y a pas de contact avec l’identifiant 999999." in text
    assert "Retour à Parcours" in text
