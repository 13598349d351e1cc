"""Normalising and validating what we are told about a contact, with errors in plain words.

Every intake path (the API, events that create contacts, the tracking snippet, the CSV import)
goes through these functions, so an email or a phone number means the same thing everywhere:
emails are stripped and lower-cased (empty means none), phones are E.164, birthdays are dates,
time zones are IANA names and custom attribute names are restricted to a safe alphabet.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, Literal
from zoneinfo import available_timezones

from app.clock import utcnow
from app.graph.names import ATTRIBUTE_NAME_RE, attribute_name_rule
from app.i18n import N_, _, format_number

Channel = Literal["email", "sms"]
CHANNELS: tuple[Channel, ...] = ("email", "sms")

# Built-in fields a client may set; ``created_at`` is Parcours's own.
SETTABLE_FIELDS = (
    "email",
    "phone",
    "first_name",
    "last_name",
    "birthday",
    "timezone",
    "language",
    "score",
)
MAX_EMAIL = 254
MAX_NAME = 200
MAX_TEXT_VALUE = 2000
MAX_ATTRIBUTES = 200
SCORE_LIMIT = 2_000_000_000
MAX_ATTRIBUTE_INT = 2**63 - 1

_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
EMAIL_RE = re.compile(rf"^{_LOCAL}@(?:{_LABEL}\.)+[a-z]{{2,63}}$")
PHONE_SEPARATORS = re.compile(r"[\s().\-/]")
E164_RE = re.compile(r"^\+[1-9][0-9]{6,14}$")
# A BCP 47 language tag as browsers and spreadsheets write it: "fr", "fr-FR", "en_GB", "pt-BR".
LANGUAGE_TAG_RE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*$")


class FieldProblem(ValueError):
    """One value that cannot be accepted; the message is shown to people as it is.

    Messages are translated when raised (``_()``), so they are written for whoever is spoken to
    at that moment: the user of a page, the uploader of an import, English for the API.
    """


def normalize_email(raw: object) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise FieldProblem(_("the email must be text, e.g. name@example.com"))
    email = raw.strip().lower()
    if not email:
        return None
    if len(email) > MAX_EMAIL or not EMAIL_RE.match(email):
        message = _("%(value)s is not a valid email address (like name@example.com)")
        raise FieldProblem(message % {"value": repr(raw.strip())})
    return email


def email_hash(email: str) -> str:
    """What the suppression list keeps of an erased email: never the address itself."""
    return hashlib.sha256(email.encode()).hexdigest()


def normalize_phone(raw: object) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise FieldProblem(_("the phone number must be text, e.g. +33612345678"))
    phone = PHONE_SEPARATORS.sub("", raw.strip())
    if not phone:
        return None
    if phone.startswith("00"):
        phone = "+" + phone[2:]
    if not E164_RE.match(phone):
        message = _(
            "%(value)s is not a phone number in international format: start with + and "
            "the country code, e.g. +33612345678 (E.164)"
        )
        raise FieldProblem(message % {"value": repr(raw.strip())})
    return phone


# Whole sentences per name field, so each language words them its own way.
_NAME_PROBLEMS = {
    "first name": (
        N_("the first name must be text"),
        N_("the first name is longer than %(max)s characters"),
    ),
    "last name": (
        N_("the last name must be text"),
        N_("the last name is longer than %(max)s characters"),
    ),
}


def normalize_name(raw: object, label: str) -> str | None:
    """``label`` is "first name" or "last name"."""
    if raw is None:
        return None
    not_text, too_long = _NAME_PROBLEMS[label]
    if not isinstance(raw, str):
        raise FieldProblem(_(not_text))
    value = raw.strip()
    if len(value) > MAX_NAME:
        raise FieldProblem(_(too_long) % {"max": format_number(MAX_NAME)})
    return value or None


def normalize_birthday(raw: object) -> date | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, datetime):
        raise FieldProblem(_("the birthday must be a date like 1990-04-25, without a time"))
    if isinstance(raw, date):
        value = raw
    elif isinstance(raw, str):
        try:
            value = date.fromisoformat(raw.strip())
        except ValueError:
            message = _(
                "%(value)s is not a date: write the birthday as YYYY-MM-DD, e.g. 1990-04-25"
            )
            raise FieldProblem(message % {"value": repr(raw)}) from None
    else:
        raise FieldProblem(_("the birthday must be a date like 1990-04-25"))
    if value.year < 1900:
        raise FieldProblem(_("the birthday is before 1900; check the year"))
    # A day of slack: in time zones ahead of UTC, today's newborn was born "tomorrow".
    if value > utcnow().date() + timedelta(days=1):
        raise FieldProblem(_("the birthday is in the future; check the year"))
    return value


# Files in the zoneinfo folder that are not zones a person lives in: the server's own setting
# (whatever it happens to be), the POSIX default rule, and the tz database's placeholder.
NOT_ZONES = frozenset({"localtime", "posixrules", "Factory"})


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones()) - NOT_ZONES


def normalize_timezone(raw: object) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise FieldProblem(_("the time zone must be text, e.g. Europe/Paris"))
    zone = raw.strip()
    if not zone:
        return None
    if zone not in _zones():
        message = _(
            "%(value)s is not a time zone: use a name like Europe/Paris or America/New_York"
        )
        raise FieldProblem(message % {"value": repr(zone)})
    return zone


def normalize_language(raw: object) -> str | None:
    """The language the contact reads, as its base code: "fr-FR" -> "fr", "de" -> "de".

    Languages Parcours does not speak are kept (the contact's pages fall back to the
    workspace's language until it does); what is not a language tag at all is refused.
    """
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise FieldProblem(_("the language must be text, e.g. fr or en"))
    tag = raw.strip()
    if not tag:
        return None
    if len(tag) > 35 or not LANGUAGE_TAG_RE.match(tag):
        message = _("%(value)s is not a language: use a code like fr, en or fr-FR")
        raise FieldProblem(message % {"value": repr(tag)})
    return tag.replace("_", "-").split("-")[0].lower()


def normalize_score(raw: object) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise FieldProblem(_("the score must be a whole number"))
    if isinstance(raw, int) and abs(raw) > SCORE_LIMIT:
        words = {"low": format_number(-SCORE_LIMIT), "high": format_number(SCORE_LIMIT)}
        raise FieldProblem(_("the score must be between %(low)s and %(high)s") % words)
    try:
        value = float(raw)
    except (ValueError, OverflowError):
        raise FieldProblem(_not_a_whole_number(raw)) from None
    if not math.isfinite(value) or value != int(value) or abs(value) > SCORE_LIMIT:
        raise FieldProblem(_not_a_whole_number(raw))
    return int(value)


def _not_a_whole_number(raw: object) -> str:
    return _("the score must be a whole number, not %(value)s") % {"value": repr(raw)}


def check_attribute_name(name: object) -> str:
    if not isinstance(name, str) or not ATTRIBUTE_NAME_RE.match(name):
        words = {"name": repr(name), "problem": attribute_name_rule()}  # the reader's words
        raise FieldProblem(_("%(name)s: %(problem)s") % words)
    return name


def check_attribute_value(name: str, value: object) -> object:
    """Custom attributes keep their JSON type: text, number, true/false; null removes one."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int) and abs(value) > MAX_ATTRIBUTE_INT:
        # Past 64 bits SQLite cannot compare it and conditions could not be written about it.
        raise FieldProblem(_("%(name)s: the number is too large") % {"name": name})
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise FieldProblem(_("%(name)s: the number is not finite") % {"name": name})
        return value
    if isinstance(value, str):
        if len(value) > MAX_TEXT_VALUE:
            words = {"name": name, "max": format_number(MAX_TEXT_VALUE)}
            raise FieldProblem(_("%(name)s: text longer than %(max)s characters") % words)
        return value
    message = _(
        "%(name)s: a value must be text, a number, true/false, or null to remove the attribute"
    )
    raise FieldProblem(message % {"name": name})


BUILTIN_NORMALIZERS = {
    "email": normalize_email,
    "phone": normalize_phone,
    "first_name": lambda v: normalize_name(v, "first name"),
    "last_name": lambda v: normalize_name(v, "last name"),
    "birthday": normalize_birthday,
    "timezone": normalize_timezone,
    "language": normalize_language,
    "score": normalize_score,
}


@dataclass(frozen=True)
class ConsentChange:
    granted: bool
    source: str
    at: datetime


@dataclass
class ContactData:
    """A validated intake: built-in fields to set, custom attributes to set (None removes)."""

    fields: dict[str, Any] = field(default_factory=dict)
    attributes: dict[str, Any] = field(default_factory=dict)
    consent: dict[Channel, ConsentChange] = field(default_factory=dict)
    external_id: str | None = None

    @property
    def email(self) -> str | None:
        value = self.fields.get("email")
        return value if isinstance(value, str) else None

    @property
    def grants_consent(self) -> bool:
        return any(change.granted for change in self.consent.values())


def split_attributes(raw: dict[str, Any], problems: list[str]) -> ContactData:
    """Built-in names go to their columns, every other key is a custom attribute."""
    data = ContactData()
    if len(raw) > MAX_ATTRIBUTES:
        words = {"max": format_number(MAX_ATTRIBUTES)}
        problems.append(_("at most %(max)s attributes can be sent at once") % words)
        return data
    for name, value in raw.items():
        try:
            if name == "created_at":
                raise FieldProblem(_("created_at is set by Parcours and cannot be changed"))
            if name in BUILTIN_NORMALIZERS:
                if name == "score" and value is None:
                    raise FieldProblem(_("the score must be a whole number"))
                data.fields[name] = BUILTIN_NORMALIZERS[name](value)
                continue
            check_attribute_name(name)
            data.attributes[name] = check_attribute_value(name, value)
        except FieldProblem as problem:
            problems.append(str(problem))
    if "timezone" in data.fields and data.fields["timezone"] is None:
        data.fields["timezone"] = "UTC"  # the column always holds a zone
    return data


def normalize_external_id(raw: object) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise FieldProblem(_("the external id must be text"))
    value = raw.strip()
    if len(value) > 255:
        raise FieldProblem(_("the external id is longer than %(max)s characters") % {"max": 255})
    return value or None


def parse_consent(
    raw: object, channel: str, *, now: datetime, source: str, problems: list[str]
) -> ConsentChange | None:
    """``true`` / ``false``, or ``{"granted": bool, "source": text, "at": ISO time}``."""
    if isinstance(raw, bool):
        return ConsentChange(granted=raw, source=source, at=now)
    if isinstance(raw, dict) and isinstance(raw.get("granted"), bool):
        given_source = raw.get("source")
        if given_source is not None and not isinstance(given_source, str):
            message = _("%(channel)s consent: the source must be text, e.g. signup form")
            problems.append(message % {"channel": channel})
            return None
        if given_source is not None and len(given_source) > MAX_NAME:
            message = _("%(channel)s consent: the source is longer than %(max)s characters")
            problems.append(message % {"channel": channel, "max": format_number(MAX_NAME)})
            return None
        at = now
        if raw.get("at") is not None:
            try:
                at = datetime.fromisoformat(str(raw["at"]))
            except ValueError:
                message = _("%(channel)s consent: 'at' must be a time like 2025-03-01T09:30Z")
                problems.append(message % {"channel": channel})
                return None
            if at.tzinfo is None:
                at = at.replace(tzinfo=now.tzinfo)
        unknown = set(raw) - {"granted", "source", "at"}
        if unknown:
            message = _("%(channel)s consent: unknown field %(field)s")
            problems.append(message % {"channel": channel, "field": repr(sorted(unknown)[0])})
            return None
        return ConsentChange(granted=raw["granted"], source=(given_source or source), at=at)
    message = _("%(channel)s consent must be true, false or %(sample)s")
    problems.append(message % {"channel": channel, "sample": '{"granted": true, "source": "..."}'})
    return None


def contact_data(
    *,
    email: object = None,
    external_id: object = None,
    attributes: dict[str, Any] | None = None,
    consent: dict[str, Any] | None = None,
    now: datetime,
    source: str,
) -> ContactData:
    """Validates a whole intake; raises FieldProblem naming every problem at once."""
    problems: list[str] = []
    merged = dict(attributes or {})
    if email is not None:
        merged["email"] = email
    data = split_attributes(merged, problems)
    try:
        data.external_id = normalize_external_id(external_id)
    except FieldProblem as problem:
        problems.append(str(problem))
    for channel, raw in (consent or {}).items():
        if channel not in CHANNELS:
            message = _("consent is given per channel, email or sms; not %(channel)s")
            problems.append(message % {"channel": repr(channel)})
            continue
        change = parse_consent(raw, channel, now=now, source=source, problems=problems)
        if change is not None:
            data.consent[channel] = change
    if problems:
        raise FieldProblem("; ".join(problems))
    return data
