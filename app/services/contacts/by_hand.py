"""Contacts added and edited by hand on the pages, and list members added by email.

The form's fields go through the same normalizers as every other intake (fields.py), one by
one, so each problem is shown next to its own field. Consent given here is recorded with the
person who ticked the box ("added by Marie"), like an import records its file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from app.i18n import N_, _, format_number
from app.models import Contact, ContactList
from app.services.contacts import contacts as contact_service
from app.services.contacts import lists as list_service
from app.services.contacts.fields import (
    BUILTIN_NORMALIZERS,
    CHANNELS,
    MAX_ATTRIBUTES,
    ConsentChange,
    ContactData,
    FieldProblem,
    check_attribute_name,
    check_attribute_value,
    normalize_email,
)
from app.services.errors import Conflict, Invalid

FORM_FIELDS = ("email", "first_name", "last_name", "phone")
# The kinds an attribute typed on the form can hold; labels translated where shown.
KINDS = {"text": N_("text"), "number": N_("number"), "boolean": N_("yes/no")}
TRUE_WORDS = frozenset({"yes", "y", "true", "1", "oui", "x"})
FALSE_WORDS = frozenset({"no", "n", "false", "0", "non"})
# Names the form's rows may not take: they are the contact's own fields.
NOT_ATTRIBUTES = frozenset(BUILTIN_NORMALIZERS) | {"created_at", "external_id", "email_consent"}
MEMBERSHIP_SOURCE = "by hand"
MAX_EMAILS_AT_ONCE = 1000
MAX_NEW_ATTRIBUTES = MAX_ATTRIBUTES  # names a contact did not have, per save (as the API's)
EMAIL_SEPARATORS = re.compile(r"[\s,;]+")


@dataclass
class AttributeRow:
    name: str = ""
    value: str = ""
    kind: str = "text"


@dataclass
class ContactForm:
    """What the add / edit form sends, as typed (shown back as it was when refused)."""

    email: str = ""
    first_name: str = ""
    last_name: str = ""
    phone: str = ""
    lists: list[str] = field(default_factory=list)
    attributes: list[AttributeRow] = field(default_factory=list)
    consent_email: bool = False
    consent_sms: bool = False

    @classmethod
    def of(cls, contact: Contact, list_keys: Sequence[str]) -> ContactForm:
        rows = [_row(name, value) for name, value in sorted((contact.attributes or {}).items())]
        return cls(
            email=contact.email or "",
            first_name=contact.first_name or "",
            last_name=contact.last_name or "",
            phone=contact.phone or "",
            lists=list(list_keys),
            attributes=rows,
            consent_email=contact.email_consent,
            consent_sms=contact.sms_consent,
        )


def _row(name: str, value: object) -> AttributeRow:
    if isinstance(value, bool):
        return AttributeRow(name, "yes" if value else "no", "boolean")
    if isinstance(value, int | float):
        return AttributeRow(name, str(value), "number")
    return AttributeRow(name, "" if value is None else str(value), "text")


class FormProblems(Invalid):
    """The form was refused; ``problems`` maps each field (or ``attribute_<n>``) to its words."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(problems.values()))
        self.problems = problems


class DuplicateEmail(Conflict):
    def __init__(self, email: str, contact_id: int) -> None:
        words = {"email": email}
        super().__init__(_("A contact with the email %(email)s already exists.") % words)
        self.contact_id = contact_id


def consent_source(who: str, granted: bool) -> str:
    """Stored with the consent, in English like the other sources (API, import of a file)."""
    return f"{'added' if granted else 'withdrawn'} by {who}"[:200]


# The sources Parcours itself writes (in English, like all stored data), read in the reader's
# words; any other source is the client's own text and is shown as it is.
_SOURCE_WORDS = (
    ("added by ", N_("added by %(rest)s")),  # rest: the user's name or email
    ("withdrawn by ", N_("withdrawn by %(rest)s")),
    ("import of ", N_("import of %(rest)s")),  # rest: the file's name
)


def readable_source(source: str | None) -> str:
    for prefix, words in _SOURCE_WORDS:
        if source and source.startswith(prefix):
            return _(words) % {"rest": source[len(prefix) :]}
    return source or ""


def read_form(
    session: Session, form: ContactForm, *, existing: Contact | None, now: datetime, who: str
) -> tuple[ContactData, list[ContactList]]:
    """The validated change and the lists ticked; FormProblems naming every problem at once."""
    problems: dict[str, str] = {}
    data = ContactData()
    for name in FORM_FIELDS:
        try:
            data.fields[name] = BUILTIN_NORMALIZERS[name](getattr(form, name))
        except FieldProblem as problem:
            problems[name] = str(problem)
    keeps_an_id = existing is not None and existing.external_id is not None
    if "email" not in problems and data.fields["email"] is None and not keeps_an_id:
        problems["email"] = _("Give the contact's email address, e.g. name@example.com.")
    data.attributes = _attributes(form.attributes, existing, problems)
    for channel in CHANNELS:
        granted = bool(getattr(form, f"consent_{channel}"))
        current = bool(getattr(existing, f"{channel}_consent")) if existing else False
        if granted != current:
            source = consent_source(who, granted)
            data.consent[channel] = ConsentChange(granted=granted, source=source, at=now)
    ticked: list[ContactList] = []
    try:
        ticked = list(list_service.lists_by_keys(session, form.lists).values())
    except Invalid:
        problems["lists"] = _("One of the lists no longer exists; reload the page.")
    email = data.email
    if email is not None and "email" not in problems:
        other = contact_service.find_contact(session, email=email)
        if other is not None and (existing is None or other.id != existing.id):
            assert other.id is not None
            raise DuplicateEmail(email, other.id)
    if problems:
        raise FormProblems(problems)
    return data, ticked


def _attributes(
    rows: Sequence[AttributeRow], existing: Contact | None, problems: dict[str, str]
) -> dict[str, Any]:
    """The rows as attribute values; on an edit, attributes whose row was emptied go (None)."""
    values: dict[str, Any] = {}
    had = set((existing.attributes or {}) if existing else ())
    new_names = 0
    for index, row in enumerate(rows):
        name, text = row.name.strip(), row.value.strip()
        if not name and not text:
            continue
        try:
            new_names += name not in had
            if new_names > MAX_NEW_ATTRIBUTES:
                words = {"max": format_number(MAX_NEW_ATTRIBUTES)}
                raise FieldProblem(_("at most %(max)s attributes can be sent at once") % words)
            if not name:
                raise FieldProblem(_("give this value a name, e.g. city"))
            check_attribute_name(name)
            if name in NOT_ATTRIBUTES:
                raise FieldProblem(
                    _("%(name)s is one of the contact's own fields, not an attribute")
                    % {"name": name}
                )
            if name in values:
                raise FieldProblem(_("%(name)s is given twice") % {"name": name})
            values[name] = check_attribute_value(name, _typed(name, text, row.kind))
        except FieldProblem as problem:
            problems[f"attribute_{index}"] = str(problem)
    for name in (existing.attributes or {}) if existing else {}:
        values.setdefault(name, None)  # its row was removed: the attribute goes
    if existing is None:
        values = {name: value for name, value in values.items() if value is not None}
    return values


def _typed(name: str, text: str, kind: str) -> object:
    if not text:
        return None  # an empty value removes the attribute
    if kind == "number":
        cleaned = text.replace("\u00a0", "").replace(" ", "")
        if re.fullmatch(r"-?\d+,\d+", cleaned):
            cleaned = cleaned.replace(",", ".")  # 12,5 written the French way
        try:
            return int(cleaned) if re.fullmatch(r"-?\d+", cleaned) else float(cleaned)
        except ValueError:
            words = {"name": name, "value": repr(text)}
            raise FieldProblem(_("%(name)s: %(value)s is not a number") % words) from None
    if kind == "boolean":
        word = text.lower()
        if word in TRUE_WORDS or word in FALSE_WORDS:
            return word in TRUE_WORDS
        words = {"name": name, "value": repr(text)}
        raise FieldProblem(_("%(name)s: %(value)s is not yes or no") % words)
    return text


def create_contact(
    session: Session, form: ContactForm, *, now: datetime, who: str
) -> contact_service.UpsertResult:
    data, ticked = read_form(session, form, existing=None, now=now, who=who)
    result = contact_service.upsert_contact(session, data, now=now, source=f"added by {who}")
    assert result.contact.id is not None
    list_service.add_members(
        session, ticked, [result.contact.id], now=now, source=MEMBERSHIP_SOURCE
    )
    return result


def update_contact(
    session: Session, contact: Contact, form: ContactForm, *, now: datetime, who: str
) -> list[str]:
    """Applies the edit form; the lists ticked are joined, the others left. Names what changed."""
    assert contact.id is not None
    data, ticked = read_form(session, form, existing=contact, now=now, who=who)
    suppressed = contact_service.is_suppressed(session, data.email)
    changed, events, touched = contact_service.apply_changes(
        contact, data, now=now, source=f"added by {who}", suppressed=suppressed
    )
    if touched:
        session.add(contact)
    contact_service.record_events(session, events)
    now_in = {lst.key for lst in ticked}
    was_in = set(list_service.contact_list_keys(session, [contact.id])[contact.id])
    leaving = [lst for lst in list_service.all_lists(session) if lst.key in was_in - now_in]
    list_service.add_members(session, ticked, [contact.id], now=now, source=MEMBERSHIP_SOURCE)
    list_service.remove_members(session, leaving, [contact.id], now=now)
    return changed


@dataclass
class MembershipReport:
    """What adding or removing members by email did, for the list's page."""

    changed: list[str] = field(default_factory=list)  # added, or removed
    unchanged: list[str] = field(default_factory=list)  # already in, or not in
    unknown: list[str] = field(default_factory=list)  # no contact has this email
    invalid: list[str] = field(default_factory=list)  # not an email address


def split_emails(text: str) -> list[str]:
    """Emails one per line or separated by commas (or semicolons, as spreadsheets copy them)."""
    seen: dict[str, None] = {}
    for part in EMAIL_SEPARATORS.split(text):
        if part:
            seen.setdefault(part, None)
    return list(seen)


def change_members_by_email(
    session: Session, contact_list: ContactList, text: str, *, adding: bool, now: datetime
) -> MembershipReport:
    """Adds (or removes) the contacts with these emails to (from) the list, in bulk."""
    report = MembershipReport()
    # In the order pasted; a dict, and a stop as soon as there are too many: a pasted megabyte
    # of distinct emails took a list's quadratic "not in" (tens of seconds) before the refusal.
    found: dict[str, None] = {}
    for raw in split_emails(text):
        try:
            email = normalize_email(raw)
        except FieldProblem:
            report.invalid.append(raw)
            email = None
        if email is not None:
            found.setdefault(email, None)
        if len(found) + len(report.invalid) > MAX_EMAILS_AT_ONCE:
            words = {"max": MAX_EMAILS_AT_ONCE}
            raise Invalid(_("At most %(max)s emails at once; for more, import a CSV file.") % words)
    wanted = list(found)
    if not wanted and not report.invalid:
        raise Invalid(_("Paste at least one email address, one per line or separated by commas."))
    ids = contact_service.contact_ids_by(session, contact_service.CONTACTS.c.email, wanted)
    report.unknown = [email for email in wanted if email not in ids]
    assert contact_list.id is not None
    members = _members(session, contact_list.id, ids.values())
    if adding:
        list_service.add_members(
            session, [contact_list], ids.values(), now=now, source=MEMBERSHIP_SOURCE
        )
    else:
        list_service.remove_members(session, [contact_list], ids.values(), now=now)
    for email, contact_id in ids.items():
        done = (contact_id not in members) if adding else (contact_id in members)
        (report.changed if done else report.unchanged).append(email)
    order = {email: index for index, email in enumerate(wanted)}
    report.changed.sort(key=order.__getitem__)
    report.unchanged.sort(key=order.__getitem__)
    return report


def _members(session: Session, list_id: int, contact_ids: Iterable[int]) -> set[int]:
    ids = list(contact_ids)
    found: set[int] = set()
    memberships = list_service.MEMBERSHIPS
    for start in range(0, len(ids), list_service.CHUNK):
        query = select(memberships.c.contact_id).where(
            memberships.c.list_id == list_id,
            memberships.c.contact_id.in_(ids[start : start + list_service.CHUNK]),
        )
        found.update(session.execute(query).scalars())
    return found


def contact_lists(session: Session, contact_id: int) -> list[ContactList]:
    """The lists a contact is in, by name (the page shows names, not keys)."""
    memberships = list_service.MEMBERSHIPS
    query = (
        select(ContactList)
        .join(memberships, memberships.c.list_id == col(ContactList.id))
        .where(memberships.c.contact_id == contact_id)
        .order_by(col(ContactList.name))
    )
    return list(session.scalars(query))
