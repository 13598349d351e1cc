"""Personalisation: message templates rendered in a Jinja2 sandbox.

What a template can use (the same in emails, SMS, team alerts and webhook bodies):

- ``contact``: the built-in fields (``contact.first_name``, ``email``, ``phone``, ``last_name``,
  ``birthday``, ``timezone``, ``score``, ``created_at``), ``contact.name`` (first and last name),
  every custom attribute both as ``contact.attributes.plan`` and flattened as ``contact.plan``
  (a built-in field wins on a name clash, as in conditions), and ``contact.lists``: the names of
  the contact's lists (also at the top level as ``lists``).
- ``event``: the event that started the journey, ``event.name`` and ``event.properties.x``.
- ``unsubscribe_url`` (marketing emails), ``message.key`` / ``message.name``, ``now``, and
  ``sender.name`` / ``sender.email`` (the message's sender, or the default one).

Missing values render as nothing, and ``default`` also replaces empty ones, so
``{{ contact.first_name | default("there") }}`` greets a contact without a first name.

The sandbox (``app/services/messaging/sandbox.py``) keeps templates away from Python
internals: names
starting with ``_`` are refused when the template is saved, and anything unsafe that slips
through fails at render time. Every render has a budget of text, loop rounds and time
(``app/services/messaging/render_budget.py``): a template over it is refused when it is saved, shown
as an error in the preview, and fails its own send — as does any other error at send time.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from jinja2 import Template, TemplateSyntaxError, nodes
from jinja2.sandbox import SecurityError
from sqlalchemy import select
from sqlmodel import Session, SQLModel

from app.i18n import N_, Phrase, _, current, say, speaking
from app.models import BUILTIN_ATTRIBUTES
from app.services.errors import Invalid
from app.services.messaging.render_budget import (
    MAX_VALUE,
    TIME_LIMIT_SECONDS,
    Budget,
    OverBudget,
    budgeted,
)
from app.services.messaging.sandbox import HTML_ENV, TEXT_ENV

SUBJECT_LIMIT = 2_000  # characters a filled-in subject may have
SMS_LIMIT = 10_000


@dataclass(frozen=True)
class TemplateField:
    """One template source of a message, with the words a marketer knows it by."""

    name: str  # subject | html | text | body | message
    label: str  # "the subject", "the HTML body": English, translated when shown
    source: str
    html: bool = False
    limit: int = MAX_VALUE  # characters the filled-in field may have


def _private_names(tree: nodes.Template) -> Iterable[tuple[int, str]]:
    for node in tree.find_all((nodes.Getattr, nodes.Getitem, nodes.Name)):
        if isinstance(node, nodes.Getattr):
            name = node.attr
        elif isinstance(node, nodes.Getitem):
            name = node.arg.value if isinstance(node.arg, nodes.Const) else ""
        else:
            name = getattr(node, "name", "")
        if isinstance(name, str) and name.startswith("_"):
            yield node.lineno, name


def check_template(item: TemplateField) -> None:
    """Refuses a template that would not compile, reaches for Python internals, or goes
    over its budget for the sample contact."""
    env = HTML_ENV if item.html else TEXT_ENV
    where = _(item.label)
    try:
        tree = env.parse(item.source)
        env.compile(tree)
    except TemplateSyntaxError as exc:
        raise Invalid(
            _("In %(field)s, line %(line)s: %(problem)s")
            % {"field": where, "line": exc.lineno, "problem": str(_plain(exc.message))}
        ) from exc
    for lineno, name in _private_names(tree):
        raise Invalid(
            _(
                "In %(field)s, line %(line)s: “%(name)s” is not allowed — "
                "placeholders cannot use names that start with “_”."
            )
            % {"field": where, "line": lineno, "name": name}
        )
    try:
        _render(item, sample_context(), time.monotonic() + TIME_LIMIT_SECONDS)
    except OverBudget as exc:
        raise Invalid(
            _("In %(field)s, this template %(what)s. %(advice)s")
            % {"field": where, "what": exc.what, "advice": exc.advice}
        ) from exc
    except RecursionError as exc:
        raise Invalid(
            _("In %(field)s, this template calls itself without end (a macro that calls itself?).")
            % {"field": where}
        ) from exc
    except (SecurityError, OverflowError) as exc:
        raise Invalid(
            _("In %(field)s: this template tries something unsafe (%(error)s).")
            % {"field": where, "error": exc}
        ) from exc
    except Exception:
        # The sample contact lacks what this template expects: it may still work for real
        # contacts, so it is saved, and the preview shows the problem.
        pass


def template_problem(label: str, source: str) -> str | None:
    """What ``check_template`` refuses in a template kept in a scenario block (a webhook body,
    a team alert), or None. Cached: a draft is checked again on every autosave."""
    return _template_problem(label, source, current().language)


@lru_cache(maxsize=256)
def _template_problem(label: str, source: str, language: str) -> str | None:
    """One answer per language: the words of the problem are the reader's."""
    try:
        check_template(TemplateField("text", label, source))
    except Invalid as exc:
        return exc.message
    return None


def _plain(message: str | None) -> Phrase | str:
    """Jinja's own words, capitalised (they are technical and stay English)."""
    text = (message or "").strip()
    return text[0].upper() + text[1:] if text else say("The template could not be read")


class RenderError(Exception):
    """A template failed for this contact (a permanent failure: retrying will not help).

    ``str()`` is English: the worker stores it as the send's reason. ``words()`` says it in
    the reader's language (the editor's preview)."""

    def __init__(self, phrase: Phrase) -> None:
        with speaking("en"):
            super().__init__(phrase.render())
        self.phrase = phrase

    def words(self) -> str:
        return self.phrase.render()


@lru_cache(maxsize=512)
def _compiled(source: str, html: bool) -> Template:
    # Compiling is the slow part of rendering; a chunk sends the same template many times.
    return (HTML_ENV if html else TEXT_ENV).from_string(source)


def _render(item: TemplateField, context: Mapping[str, Any], deadline: float) -> str:
    with budgeted(Budget(output_limit=item.limit, deadline=deadline)):
        return _compiled(item.source, item.html).render(context)


def render_field(
    item: TemplateField, context: Mapping[str, Any], *, deadline: float | None = None
) -> str:
    """The field filled in; any failure is a RenderError saying why in plain words."""
    field = say(item.label)
    try:
        return _render(item, context, deadline or time.monotonic() + TIME_LIMIT_SECONDS)
    except TemplateSyntaxError as exc:
        raise RenderError(
            say(
                "%(field)s, line %(line)s: %(problem)s",
                field=field,
                line=exc.lineno,
                problem=_plain(exc.message),
            )
        ) from exc
    except OverBudget as exc:
        raise RenderError(say("%(field)s %(what)s", field=field, what=exc.what_phrase)) from exc
    except SecurityError as exc:
        raise RenderError(
            say("%(field)s tries something unsafe: %(error)s", field=field, error=str(exc))
        ) from exc
    except Exception as exc:  # a template is code: anything may go wrong
        raise RenderError(
            say("%(field)s could not be filled in: %(why)s", field=field, why=_why(exc))
        ) from exc


def _why(exc: Exception) -> Phrase | str:
    """What went wrong, for a marketer; Python's own words stay in brackets for support."""
    if isinstance(exc, RecursionError):
        return say("it calls itself without end (a macro that calls itself?)")
    if isinstance(exc, KeyError):
        return say("the value %(key)s is missing", key=str(exc))
    if isinstance(exc, IndexError):
        return say("a placeholder asks for a value that is not there (%(error)s)", error=str(exc))
    if isinstance(exc, ZeroDivisionError):
        return say("it divides by zero (%(error)s)", error=str(exc))
    return str(exc) or type(exc).__name__


# --- the personalisation context ------------------------------------------------------


def contact_context(contact: Mapping[Any, Any], list_names: Iterable[str] = ()) -> dict[str, Any]:
    """What ``{{ contact.x }}`` sees. Missing values are left out so ``default`` applies."""
    attributes = {k: v for k, v in (contact.get("attributes") or {}).items() if v is not None}
    values: dict[str, Any] = {k: v for k, v in attributes.items() if isinstance(k, str)}
    for name in BUILTIN_ATTRIBUTES:
        if contact.get(name) is not None:
            values[name] = contact[name]
    full_name = " ".join(
        str(part) for part in (contact.get("first_name"), contact.get("last_name")) if part
    )
    if full_name:
        values["name"] = full_name
    values["id"] = contact.get("id")
    values["attributes"] = attributes
    values["lists"] = sorted(list_names)
    return values


def event_context(raw: Any) -> dict[str, Any]:
    """The trigger event from an outbox payload: ``{"name", "properties"}`` or bare properties."""
    if not isinstance(raw, Mapping):
        return {"name": None, "properties": {}}
    if isinstance(raw.get("properties"), Mapping):
        return {"name": raw.get("name"), "properties": dict(raw["properties"])}
    return {"name": None, "properties": dict(raw)}


@dataclass(frozen=True)
class MessageParts:
    """A message's template sources, saved or straight from the editor."""

    channel: str
    subject: str = ""
    html: str = ""
    text: str = ""
    key: str = ""
    name: str = ""

    def fields(self) -> list[TemplateField]:
        if self.channel == "sms":
            return [TemplateField("text", N_("the SMS text"), self.text, limit=SMS_LIMIT)]
        return [
            TemplateField("subject", N_("the subject"), self.subject, limit=SUBJECT_LIMIT),
            TemplateField("html", N_("the HTML body"), self.html, html=True),
            TemplateField("text", N_("the plain-text body"), self.text),
        ]


@dataclass(frozen=True)
class Rendered:
    subject: str = ""
    html: str = ""
    text: str = ""


@dataclass
class RenderContext:
    contact: dict[str, Any]
    event: dict[str, Any] = field(default_factory=lambda: event_context(None))
    unsubscribe_url: str = ""
    now: datetime | None = None
    sender: dict[str, str] = field(default_factory=lambda: {"name": "", "email": ""})

    def as_dict(self, parts: MessageParts) -> dict[str, Any]:
        return {
            "contact": self.contact,
            "lists": self.contact.get("lists", []),
            "event": self.event,
            "unsubscribe_url": self.unsubscribe_url,
            "message": {"key": parts.key, "name": parts.name},
            "now": self.now,
            "sender": self.sender,
        }


def render_parts(parts: MessageParts, context: RenderContext) -> Rendered:
    values = context.as_dict(parts)
    deadline = time.monotonic() + TIME_LIMIT_SECONDS  # one time budget for the whole message
    out = {item.name: render_field(item, values, deadline=deadline) for item in parts.fields()}
    subject = " ".join(out.get("subject", "").split())  # a header holds one line
    return Rendered(subject=subject, html=out.get("html", ""), text=out.get("text", "").strip())


def render_text(
    source: str, context: Mapping[str, Any], label: str, *, limit: int = MAX_VALUE
) -> str:
    return render_field(TemplateField("text", label, source, limit=limit), context)


# --- the sample contact of the editor -------------------------------------------------

SAMPLE_CONTACT: dict[str, Any] = {
    "id": None,
    "email": "lea.martin@example.com",
    "phone": "+33612345678",
    "first_name": "Léa",
    "last_name": "Martin",
    "birthday": date(1990, 6, 14),
    "timezone": "Europe/Paris",
    "score": 42,
    "created_at": datetime(2025, 3, 2, 10, 30),
    "attributes": {"city": "Lyon", "plan": "premium", "orders_count": 3},
}
SAMPLE_EVENT = {
    "name": "cart_updated",
    "properties": {
        "cart_id": "C-1042",
        "cart_total": 59.90,
        "cart_url": "https://shop.example/cart",
        "coupon": "HELLO10",
        "items": [{"name": "Linen shirt", "price": 39.9}, {"name": "Canvas tote", "price": 20}],
    },
}


def sample_context() -> dict[str, Any]:
    context = RenderContext(
        contact=contact_context(SAMPLE_CONTACT, ["Newsletter", "Customers"]),
        event=event_context(SAMPLE_EVENT),
        unsubscribe_url="https://example.com/u/sample",
        now=datetime(2026, 1, 5, 9, 0),
        sender={"name": "Your shop", "email": "hello@shop.example"},
    )
    return context.as_dict(MessageParts(channel="email", key="sample", name="Sample"))


def load_contact_contexts(
    session: Session, contact_ids: Iterable[int]
) -> dict[int, dict[str, Any]]:
    """The ``contact`` of many contacts, with their list names, in two queries."""
    ids = list(set(contact_ids))
    if not ids:
        return {}
    contacts = SQLModel.metadata.tables["contacts"]
    lists = SQLModel.metadata.tables["lists"]
    memberships = SQLModel.metadata.tables["list_memberships"]
    names: dict[int, list[str]] = {}
    for contact_id, name in session.execute(
        select(memberships.c.contact_id, lists.c.name)
        .join(lists, lists.c.id == memberships.c.list_id)
        .where(memberships.c.contact_id.in_(ids))
    ):
        names.setdefault(contact_id, []).append(name)
    rows = session.execute(select(contacts).where(contacts.c.id.in_(ids))).mappings()
    return {row["id"]: contact_context(row, names.get(row["id"], [])) for row in rows}
