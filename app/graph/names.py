"""Which names Parcours accepts for custom attributes, and for the other names conditions use.

The attribute rule is shared by every intake path (``app/services/contacts/fields.py``) and by
the condition language, so a condition can only name an attribute a contact can have.
"""

from __future__ import annotations

import re
import unicodedata

from app.i18n.text import N_, _

ATTRIBUTE_NAME_RE = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
# English; shown through ``attribute_name_rule()`` (or ``_(ATTRIBUTE_NAME_RULE)``).
ATTRIBUTE_NAME_RULE = N_(
    "attribute names may only use letters, digits, '_', '-' and '.' (up to 64 characters)"
)


def attribute_name_rule() -> str:
    """The rule in the speaker's language."""
    return _(ATTRIBUTE_NAME_RULE)


def is_attribute_name(name: str) -> bool:
    # fullmatch: with match, "$" would also accept a name ending in a line break.
    return ATTRIBUTE_NAME_RE.fullmatch(name) is not None


def has_control_characters(text: str) -> bool:
    """NUL, line breaks, escape codes…: invisible, and PostgreSQL cannot store NUL at all."""
    return any(unicodedata.category(char) == "Cc" for char in text)


# Embeddings, overrides and isolates: they make "Offers‮srehto" read as something else.
DIRECTION_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def has_direction_controls(text: str) -> bool:
    """Unicode's text-direction controls, which can make a name shown to people read as
    another."""
    return not DIRECTION_CONTROLS.isdisjoint(text)


def has_surrogates(text: str) -> bool:
    """Halves of a UTF-16 pair, alone (JSON can spell them, ``"\\ud800"``): no database encodes
    them, PostgreSQL refuses them even inside JSON."""
    return any(unicodedata.category(char) == "Cs" for char in text)
