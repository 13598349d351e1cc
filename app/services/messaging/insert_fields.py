"""What the message editor's "Insert a field" menu offers: the contact's fields and the
attributes seen on contacts, in plain words, each with the placeholder it puts in the text.

The placeholders are those of the rendering context (``rendering.py``): ``contact.first_name``
and the other built-in fields, a custom attribute flattened as ``contact.plan`` (or, for a name
that is not a plain identifier, ``contact.attributes["gift-wrap"]``), and the unsubscribe link
of marketing emails.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from sqlmodel import Session, select

from app.i18n import N_, _
from app.models import BUILTIN_ATTRIBUTES
from app.services.contacts.condition_sql import CONTACTS

# Contacts whose attributes are looked at: a sample, so the editor opens fast on a large base.
SAMPLE = 500
IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
# Names the template context gives a meaning of its own on ``contact``.
TAKEN = {*BUILTIN_ATTRIBUTES, "name", "lists", "attributes"}

CONTACT_FIELDS = (
    ("first_name", N_("First name")),
    ("last_name", N_("Last name")),
    ("name", N_("Full name")),
    ("email", N_("Email")),
    ("phone", N_("Phone")),
    ("birthday", N_("Birthday")),
    ("score", N_("Score")),
)


@dataclass(frozen=True)
class InsertableField:
    label: str  # in the reader's language
    placeholder: str  # what goes into the template


@dataclass(frozen=True)
class InsertMenu:
    fields: list[InsertableField]
    attributes: list[InsertableField]
    links: list[InsertableField]


def insert_menu(session: Session, *, channel: str) -> InsertMenu:
    fields = [
        InsertableField(_(label), f"{{{{ contact.{name} }}}}") for name, label in CONTACT_FIELDS
    ]
    attributes = [
        InsertableField(attribute_words(name), attribute_placeholder(name))
        for name in seen_attributes(session)
    ]
    links = []
    if channel == "email":
        links.append(InsertableField(_("Unsubscribe link"), "{{ unsubscribe_url }}"))
    return InsertMenu(fields, attributes, links)


def seen_attributes(session: Session) -> list[str]:
    """Custom attribute names on the most recent contacts, sorted; names the sandbox refuses
    (a leading ``_``) are left out."""
    recent = select(CONTACTS.c.attributes).order_by(CONTACTS.c.id.desc()).limit(SAMPLE)
    names: set[str] = set()
    for (attributes,) in session.execute(recent):
        names.update(attributes or {})
    return sorted(n for n in names if n not in BUILTIN_ATTRIBUTES and not n.startswith("_"))


def attribute_words(name: str) -> str:
    """``orders_count`` → "Orders count": the name as a person reads it."""
    words = re.sub(r"[_\-.]+", " ", name).strip() or name
    return words[0].upper() + words[1:]


def attribute_placeholder(name: str) -> str:
    if IDENTIFIER.match(name) and name not in TAKEN:
        return f"{{{{ contact.{name} }}}}"
    return f"{{{{ contact.attributes[{json.dumps(name, ensure_ascii=False)}] }}}}"
