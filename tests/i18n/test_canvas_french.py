"""The scenario canvas speaks French to a French user: the editor page, every block's panel,
the settings panel, the panels' answers and the words the canvas script writes itself.

English stays the source: the same requests from an English user read as before (the other
canvas tests check those words).
"""

from __future__ import annotations

import html as html_lib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from app.i18n import speaking
from app.models import ContactList, MessageTemplate, User
from app.services.scenarios.block_catalog import BLOCKS, FAMILIES, families, port_label
from tests.api.test_scenario_pages import LOYAL, new_scenario, post_json, save
from tests.fixtures.web import Browser

PO = Path(__file__).resolve().parents[2] / "app/locales/fr/LC_MESSAGES/messages.po"


@pytest.fixture
def french(logged_in: Browser, session: Session, user: User) -> Browser:
    user.language = "fr"
    session.add(user)
    session.add(MessageTemplate(key="coupon-20", name="Coupon 20%", subject="20% off"))
    session.add(ContactList(key="loyal", name="Loyal customers"))
    session.commit()
    return logged_in


def shown(page: str) -> str:
    """The page's words as a reader meets them: no scripts (the JS catalog is keyed by the
    English msgids), entities decoded."""
    without_scripts = re.sub(r"<script\b[^>]*>.*?</script>", " ", page, flags=re.S)
    return html_lib.unescape(without_scripts)


def english_labels() -> list[str]:
    """Our English sentences and labels of several words whose French differs (single words
    such as "Message" or "Action" are French too, or part of other words)."""
    from app.i18n.catalogs import translations

    catalog = translations("fr")
    labels = []
    for message in _canvas_msgids():
        if " " not in message or re.search(r"%\(|<|\{\{|%%", message):
            continue
        if catalog.gettext(message) != message:
            labels.append(message)
    return labels


def _canvas_msgids() -> list[str]:
    """The msgids of the canvas's own templates and Python, read from the French catalog's
    references (so the test does not depend on a file outside the repository)."""
    from babel.messages.pofile import read_po

    ours = (
        "app/templates/scenario_editor.html",
        "app/templates/canvas/",
        "app/routes/canvas_",
        "app/services/scenarios/block_catalog.py",
    )
    with PO.open("rb") as handle:
        catalog = read_po(handle)
    return [
        str(m.id)
        for m in catalog
        if m.id and isinstance(m.id, str) and any(p.startswith(ours) for p, _ in m.locations)
    ]


def leftovers(text: str) -> list[str]:
    return [label for label in english_labels() if label in text]


def embedded(page: str, element_id: str) -> Any:
    match = re.search(rf'<script type="application/json" id="{element_id}">(.*?)</script>', page)
    assert match, element_id
    return json.loads(html_lib.unescape(match.group(1)))


# --- the editor page ------------------------------------------------------------------------


def test_the_editor_speaks_french_to_a_french_user(french: Browser, session: Session) -> None:
    scenario = new_scenario(french, session)
    assert scenario.id is not None
    save(french, scenario.id, LOYAL, scenario.draft_revision)

    page = french.client.get(f"/scenarios/{scenario.id}", headers={"Accept-Language": "en-US"})

    assert page.status_code == 200
    assert '<html lang="fr">' in page.text
    text = shown(page.text)
    for words in (
        "Déclencheurs",
        "Ce qui fait démarrer le parcours",
        "Lors d’un achat",
        "Envoyer un e-mail",
        "Attendre un événement",
        "Rechercher un bloc…",
        "Ranger",
        "Annuler (Ctrl+Z)",
        "Enregistrer maintenant (Ctrl+S)",
        "Brouillon",
        "À corriger",
        "Dessiner un parcours",
        "<strong>Choisissez un déclencheur</strong>",
        "Commencez par un déclencheur",
        "Revenir à 100 %",
        "Oui",
        "Non",
        "Si / sinon",
    ):
        assert words in text, words
    assert leftovers(text) == []
    for english in ("Triggers", "Find a block", "Tidy up", "Things to fix", "When someone buys"):
        assert english not in text, english


def test_the_words_the_canvas_script_writes_are_embedded_in_french(
    french: Browser, session: Session
) -> None:
    scenario = new_scenario(french, session)

    page = french.client.get(f"/scenarios/{scenario.id}").text

    catalog = embedded(page, "i18n-catalog")
    assert catalog["language"] == "fr"
    messages = catalog["messages"]
    assert messages["Saving…"] == "Enregistrement…"
    assert messages["Unsaved changes…"] == "Modifications non enregistrées…"
    assert messages["Release to link these blocks"] == "Relâchez pour relier ces blocs"
    assert messages["%(count)s tip"][:2] == ["%(count)s conseil", "%(count)s conseils"]
    boot = embedded(page, "canvas-data")
    names = {entry["testid"]: entry["name"] for entry in boot["palette"]}
    assert names["palette-trigger-event-purchase"] == "Lors d’un achat"
    assert {entry["family"] for entry in boot["palette"]} == {
        "Déclencheurs",
        "Conditions",
        "Attentes",
        "Actions",
    }
    assert boot["labels"]["settings"] == "Paramètres du scénario"
    assert "\u0000" in boot["labels"]["block"]


def test_an_english_user_still_reads_english(logged_in: Browser, session: Session) -> None:
    scenario = new_scenario(logged_in, session)

    page = logged_in.client.get(f"/scenarios/{scenario.id}").text

    assert "Triggers" in page
    assert "Tidy up" in page
    assert "Déclencheurs" not in page
    assert embedded(page, "i18n-catalog")["language"] == "en"


# --- the side panels ------------------------------------------------------------------------

# A few French words each panel must show beyond the panel's frame.
PANEL_WORDS: dict[tuple[str, str], tuple[str, ...]] = {
    ("trigger", "event"): ("L’événement", "Seulement certains de ces événements"),
    ("trigger", "list_added"): ("La liste", "Choisissez une liste…"),
    ("trigger", "list_removed"): ("quitte cette liste",),
    ("trigger", "contact_created"): ("Rien à paramétrer.",),
    ("trigger", "date_anniversary"): ("La date à fêter", "le jour même", "jours"),
    ("trigger", "attribute_changed"): ("L’attribut à surveiller",),
    ("trigger", "score_reached"): ("Score à atteindre",),
    ("trigger", "segment_entered"): ("Le segment",),
    ("trigger", "manual"): ("à la main",),
    ("condition", "if"): ("La question", "Oui", "Non"),
    ("condition", "random_split"): ("Branches", "Ajouter une branche", "groupe témoin"),
    ("condition", "switch"): ("Cas", "Ajouter un cas", "Tester ce cas plus tôt", "Sinon"),
    ("delay", "wait"): ("Durée", "jours", "1 semaine", "Durée : unité"),
    ("delay", "wait_until"): ("Quels jours", "lun.", "dim."),
    ("delay", "wait_for_event"): ("Abandonner au bout de", "« Délai dépassé »"),
    ("delay", "wait_for_condition"): ("Attendre que", "Devenue vraie", "« Délai dépassé »"),
    ("action", "send_email"): ("L’e-mail à envoyer", "Ouvrir les messages"),
    ("action", "send_sms"): ("Le SMS à envoyer",),
    ("action", "add_to_list"): ("Choisissez une liste…",),
    ("action", "remove_from_list"): ("Choisissez une liste…",),
    ("action", "update_attribute"): ("L’attribut à modifier", "Le remplacer par"),
    ("action", "add_score"): ("Un nombre négatif retire des points.",),
    ("action", "notify_team"): ("Qui prévenir",),
    ("action", "webhook"): ("Adresse à appeler", "Méthode"),
    ("action", "exit"): ("Rien ne suit ce bloc.",),
}


def test_every_block_kind_has_french_words_to_check() -> None:
    assert set(PANEL_WORDS) == set(BLOCKS)


@pytest.mark.parametrize(("block_type", "kind"), sorted(PANEL_WORDS))
def test_every_block_panel_speaks_french(french: Browser, block_type: str, kind: str) -> None:
    response = post_json(
        french,
        "/scenarios/blocks/panel",
        {"id": "n1", "type": block_type, "kind": kind, "config": {}},
    )

    assert response.status_code == 200
    text = shown(response.text)
    family = {"trigger": "Déclencheur", "condition": "Condition", "delay": "Attente"}
    for words in (
        family.get(block_type, "Action"),
        "Appliquer",
        "Les modifications s’appliquent au fil de la saisie.",
        "Dupliquer",
        "Supprimer le bloc",
        "Fermer le panneau",
        *PANEL_WORDS[(block_type, kind)],
    ):
        assert words in text, words
    assert leftovers(text) == []
    for english in ("Apply", "Duplicate", "Delete block", "Close the panel"):
        assert english not in text, english


def test_the_settings_panel_speaks_french(french: Browser) -> None:
    settings = {"reentry": "after_exit", "cooldown_seconds": 172_800, "exit_when": None}

    response = post_json(french, "/scenarios/settings/panel", settings)

    text = shown(response.text)
    for words in (
        "Paramètres du scénario",
        "Tout le scénario",
        "Un contact peut-il refaire ce scénario ?",
        "Une seule fois",
        "De nouveau une fois son parcours terminé",
        "À chaque déclenchement",
        "Objectif — faire sortir les contacts dès que…",
        "Jamais",
        '<option value="days" selected>jours</option>',
    ):
        assert words in text, words
    assert leftovers(text) == []


def test_what_a_panel_answers_is_french(french: Browser) -> None:
    refused = french.post(
        "/scenarios/blocks/apply/delay/wait",
        {"node_id": "w", "amount": "soon", "unit": "days"},
        htmx=True,
    )
    applied = french.post(
        "/scenarios/blocks/apply/delay/wait",
        {"node_id": "w", "amount": "2", "unit": "days"},
        htmx=True,
    )
    settings = french.post(
        "/scenarios/settings/apply", {"reentry": "once", "goal": "event"}, htmx=True
    )

    assert "Non enregistré :" in refused.text
    assert "Durée : saisissez un nombre, par exemple 2" in refused.text
    assert "Tout est en ordre — ce bloc est prêt." in html_lib.unescape(applied.text)
    assert "saisissez l’événement qui fait sortir les contacts" in html_lib.unescape(settings.text)


def test_a_card_names_its_block_and_ports_in_french(french: Browser) -> None:
    response = post_json(
        french,
        "/scenarios/blocks/card",
        {"id": "c", "type": "condition", "kind": "if", "config": {}},
    )

    text = shown(response.text)
    assert "Si / sinon" in text
    assert '<span class="port-label">Oui</span>' in text
    assert '<span class="port-label">Non</span>' in text
    assert "Oui : faites glisser jusqu’au bloc suivant" in text
    assert "Ajouter le bloc suivant après « Non »" in text


def test_the_catalog_tables_stay_english_and_are_translated_when_read() -> None:
    with speaking("fr"):
        french_names = [family.name for family in families()]
        waits = port_label("delay", "wait_for_event", "no")

    assert [family.name for family in FAMILIES] == ["Triggers", "Conditions", "Delays", "Actions"]
    assert french_names == ["Déclencheurs", "Conditions", "Attentes", "Actions"]
    assert waits == "Délai dépassé"
    assert port_label("delay", "wait_for_event", "no") == "Timed out"


def test_the_names_the_canvas_strips_are_the_ones_the_graphs_messages_start_with(
    french: Browser, session: Session
) -> None:
    """The list of things to fix shows the block's name in bold, then the message without the
    graph's own naming ("Le bloc « Envoyer un e-mail » : …", by title, never by id): the editor
    embeds that naming and the titles for the script."""
    scenario = new_scenario(french, session)
    assert scenario.id is not None
    saved = save(french, scenario.id, LOYAL, scenario.draft_revision)
    page = french.client.get(f"/scenarios/{scenario.id}").text
    labels = embedded(page, "canvas-data")["labels"]

    issues = [i for i in saved.json()["issues"] if i["node"] == "promo"]
    assert issues
    title = labels["titles"]["action.send_email"]
    assert title == "Envoyer un e-mail"
    for issue in issues:
        assert issue["message"].startswith(labels["block"].replace("\u0000", title))
        assert "promo" not in issue["message"]
    panel = post_json(french, "/scenarios/blocks/panel", LOYAL["nodes"][2])
    problems = re.findall(r'<li class="error" data-field="[^"]*">([^<]*)</li>', panel.text)
    assert problems
    assert not any("promo" in html_lib.unescape(p) for p in problems)
