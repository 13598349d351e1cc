"""The message editor offers "Insert a field": the contact's fields and the attributes seen on
contacts in plain words, each with a placeholder the renderer fills in."""

from __future__ import annotations

import html
import re

import pytest
from sqlmodel import Session

from app.models import Contact, User
from app.services.messaging.insert_fields import attribute_placeholder, insert_menu
from app.services.messaging.messages import MessageIn
from app.services.messaging.rendering import RenderContext, contact_context, render_parts
from tests.fixtures.web import Browser

ITEM = re.compile(r'role="menuitem" data-placeholder="([^"]*)">([^<]*)</button>')


def menu_items(page: str) -> dict[str, str]:
    """The menu's items, label → placeholder, as the browser reads them."""
    return {html.unescape(label): html.unescape(p) for p, label in ITEM.findall(page)}


@pytest.fixture
def shoppers(session: Session) -> None:
    session.add(
        Contact(
            email="lea@example.com",
            first_name="Léa",
            attributes={"orders_count": 3, "gift-wrap": "yes", "city": "Lyon"},
        )
    )
    session.add(Contact(email="hugo@example.com", attributes={"loyalty_tier": "gold"}))
    session.commit()


def test_the_email_editor_offers_fields_and_seen_attributes_in_plain_words(
    logged_in: Browser, shoppers: None
) -> None:
    page = logged_in.client.get("/messages/new").text

    items = menu_items(page)
    assert 'data-testid="insert-field"' in page
    assert items["First name"] == "{{ contact.first_name }}"
    assert items["Email"] == "{{ contact.email }}"
    assert items["Orders count"] == "{{ contact.orders_count }}"
    assert items["Loyalty tier"] == "{{ contact.loyalty_tier }}"
    assert items["Gift wrap"] == '{{ contact.attributes["gift-wrap"] }}'
    assert items["Unsubscribe link"] == "{{ unsubscribe_url }}"
    assert "orders_count" not in [label for label in items], "names, not keys"
    assert "js/message-editor.js" in page


def test_an_sms_has_no_unsubscribe_link_to_insert(logged_in: Browser, shoppers: None) -> None:
    items = menu_items(logged_in.client.get("/messages/new?channel=sms").text)

    assert items["First name"] == "{{ contact.first_name }}"
    assert "Unsubscribe link" not in items


def test_the_preview_fragment_does_not_carry_the_menu(logged_in: Browser) -> None:
    preview = logged_in.post(
        "/messages/preview", {"channel": "email", "subject": "Hi", "html": "<p>Hi</p>"}, htmx=True
    )

    assert preview.status_code == 200
    assert "insert-field" not in preview.text


def test_every_placeholder_offered_is_filled_in_for_a_contact(
    session: Session, shoppers: None
) -> None:
    menu = insert_menu(session, channel="email")
    lea = contact_context(
        {
            "id": 1,
            "email": "lea@example.com",
            "first_name": "Léa",
            "last_name": "Martin",
            "phone": "+33612345678",
            "score": 12,
            "attributes": {"orders_count": 3, "gift-wrap": "yes", "city": "Lyon"},
        }
    )

    def filled(placeholder: str) -> str:
        parts = MessageIn(key="k", channel="sms", text=placeholder).parts()
        return render_parts(parts, RenderContext(contact=lea)).text

    values = {f.label: filled(f.placeholder) for f in menu.fields + menu.attributes}
    assert values["First name"] == "Léa"
    assert values["Full name"] == "Léa Martin"
    assert values["Phone"] == "+33612345678"
    assert values["Orders count"] == "3"
    assert values["Gift wrap"] == "yes"
    assert values["City"] == "Lyon"


@pytest.mark.parametrize(
    ("name", "placeholder"),
    [
        ("plan", "{{ contact.plan }}"),
        ("lists", '{{ contact.attributes["lists"] }}'),
        ("2fa", '{{ contact.attributes["2fa"] }}'),
        ('say "hi"', '{{ contact.attributes["say \\"hi\\""] }}'),
    ],
)
def test_an_attribute_without_a_plain_name_is_reached_through_attributes(
    name: str, placeholder: str
) -> None:
    assert attribute_placeholder(name) == placeholder


def test_the_menu_speaks_french_to_a_french_user(
    logged_in: Browser, session: Session, user: User, shoppers: None
) -> None:
    user.language = "fr"
    session.add(user)
    session.commit()

    page = html.unescape(logged_in.client.get("/messages/new").text)

    items = menu_items(page)
    assert "Insérer un champ" in page
    assert "Attributs vus sur vos contacts" in page
    assert items["Prénom"] == "{{ contact.first_name }}"
    assert items["Nom complet"] == "{{ contact.name }}"
    assert items["Lien de désinscription"] == "{{ unsubscribe_url }}"
    assert "dans l’objet ou le corps" in page
