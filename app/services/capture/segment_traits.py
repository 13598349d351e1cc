"""Segment traits as Parcours contact data (DESIGN §12.1).

Segment's trait names for what Parcours keeps in columns are mapped to them (``firstName`` and
``first_name`` → first name, …); every other trait becomes a custom attribute, kept as close to
what was sent as attributes allow: an object is flattened into dotted names
(``address.city``), a list is kept as its JSON text, and a name outside the attribute alphabet
has its other characters replaced by ``_``. A value Parcours cannot take (an email that is not
one, a birthday in the future, text over 2,000 characters) refuses the message, with the reason.

Consent is never read into a trait by guesswork: only the explicit booleans ``email_consent``
and ``sms_consent`` change it (as the API's ``consent`` does, source "segment"), and
``unsubscribed: true`` (Customer.io's trait) withdraws email consent.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from app.graph.names import is_attribute_name
from app.services.contacts.fields import (
    MAX_ATTRIBUTES,
    ConsentChange,
    ContactData,
    split_attributes,
)

CONSENT_SOURCE = "segment"
# Segment's reserved traits (and their snake_case spellings) for Parcours's own columns.
BUILTIN_TRAITS = {
    "email": "email",
    "firstName": "first_name",
    "first_name": "first_name",
    "lastName": "last_name",
    "last_name": "last_name",
    "phone": "phone",
    "birthday": "birthday",
}
# Names Parcours keeps for itself as attributes: Segment's createdAt is the account's creation.
RENAMED_TRAITS = {"createdAt": "account_created_at", "created_at": "account_created_at"}
CONSENT_TRAITS = {"email_consent": "email", "sms_consent": "sms"}
_NOT_IN_NAMES = re.compile(r"[^A-Za-z0-9_.\-]")
MAX_DEPTH = 3


def contact_from_traits(
    traits: dict[str, Any], *, at: datetime, prefix: str = ""
) -> tuple[ContactData, list[str]]:
    """The contact data the traits say, and the problems found (each in plain words)."""
    problems: list[str] = []
    raw: dict[str, Any] = {}
    consent: dict[str, ConsentChange] = {}
    for name, value in traits.items():
        if not prefix and name in CONSENT_TRAITS:
            _consent(consent, CONSENT_TRAITS[name], value, name, at, problems)
            continue
        if not prefix and name == "unsubscribed":
            if value is True:
                consent["email"] = ConsentChange(granted=False, source=CONSENT_SOURCE, at=at)
            continue
        if not prefix and name in BUILTIN_TRAITS:
            field = BUILTIN_TRAITS[name]
            if field in raw and name != field:
                continue  # first_name given too: the snake_case spelling wins
            raw[field] = _date_only(value) if field == "birthday" else value
            continue
        name = RENAMED_TRAITS.get(name, name) if not prefix else name
        _flatten(raw, f"{prefix}{name}", value, 1)
    if len(raw) > MAX_ATTRIBUTES:
        problems.append(f"at most {MAX_ATTRIBUTES} traits can be kept per contact")
        return ContactData(), problems
    data = split_attributes(raw, problems)
    if "email" in data.fields and data.fields["email"] is None:
        del data.fields["email"]  # an empty email trait says nothing: the address stays
    for channel, change in consent.items():
        data.consent[channel] = change  # type: ignore[index]
    return data, problems


def _consent(
    consent: dict[str, ConsentChange],
    channel: str,
    value: object,
    name: str,
    at: datetime,
    problems: list[str],
) -> None:
    if value is None:
        return
    if not isinstance(value, bool):
        problems.append(f"traits.{name} must be true or false")
        return
    consent[channel] = ConsentChange(granted=value, source=CONSENT_SOURCE, at=at)


def _date_only(value: object) -> object:
    """Segment's libraries send a birthday as a whole ISO time (1990-04-25T00:00:00.000Z)."""
    if isinstance(value, str) and len(value) > 10 and value[10] in "T ":
        return value[:10]
    return value


def _flatten(raw: dict[str, Any], name: str, value: object, depth: int) -> None:
    name = attribute_name(name)
    if isinstance(value, dict) and depth < MAX_DEPTH:
        for key, inner in value.items():
            _flatten(raw, f"{name}.{key}", inner, depth + 1)
        return
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    raw[name] = value


def attribute_name(name: str) -> str:
    """A trait's name as an attribute name: other characters become ``_``, 64 at most."""
    if is_attribute_name(name):
        return name
    cleaned = _NOT_IN_NAMES.sub("_", name)[:64]
    return cleaned or "_"
