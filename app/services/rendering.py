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

The sandbox (an immutable ``SandboxedEnvironment``) keeps templates away from Python
internals: names starting with ``_`` are refused when the template is saved, and anything
unsafe that slips through fails at render time. Huge repetitions and powers are refused too.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from jinja2 import ChainableUndefined, Template, TemplateError, TemplateSyntaxError, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from jinja2.utils import Namespace
from sqlalchemy import select
from sqlmodel import Session, SQLModel

from app.models import BUILTIN_ATTRIBUTES
from app.services.errors import Invalid

MAX_OUTPUT_REPEAT = 100_000  # characters or items a `*` may produce
MAX_POWER_DIGITS = 100
MAX_POWER_BITS = 100_000


def _is_missing(value: Any) -> bool:
    return value is None or isinstance(value, ChainableUndefined) or value == ""


def _default(value: Any, default_value: Any = "", boolean: bool = False) -> Any:
    """Like Jinja's ``default``, but an empty or missing value counts as missing too."""
    if _is_missing(value) or (boolean and not value):
        return default_value
    return value


def _finalize(value: Any) -> Any:
    return "" if value is None else value


class _Sandbox(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**"})

    def getattr(self, obj: Any, attribute: str) -> Any:
        # Data wins over dict methods: ``event.properties.items`` is the "items" property.
        if isinstance(obj, Mapping) and not attribute.startswith("_") and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)

    def call_binop(self, context: Any, operator_name: str, left: Any, right: Any) -> Any:
        if operator_name == "**":
            too_big = isinstance(right, int | float) and abs(right) > MAX_POWER_DIGITS
            if isinstance(left, int) and isinstance(right, int) and right > 0:
                too_big = too_big or left.bit_length() * right > MAX_POWER_BITS
            if too_big:
                raise SecurityError("that power is too large")
            return operator.pow(left, right)
        size = 0
        for a, b in ((left, right), (right, left)):
            if isinstance(a, str | list | tuple) and isinstance(b, int):
                size = len(a) * b
        if size > MAX_OUTPUT_REPEAT:
            raise SecurityError("that repetition is too large")
        return operator.mul(left, right)


def _environment(*, html: bool) -> _Sandbox:
    env = _Sandbox(autoescape=html, undefined=ChainableUndefined, finalize=_finalize)
    env.filters["default"] = _default
    env.filters["d"] = _default
    # Only what a message needs: no lipsum, cycler or joiner.
    env.globals = {"range": env.globals["range"], "dict": dict, "namespace": Namespace}
    return env


HTML_ENV = _environment(html=True)
TEXT_ENV = _environment(html=False)


@dataclass(frozen=True)
class TemplateField:
    """One template source of a message, with the words a marketer knows it by."""

    name: str  # subject | html | text | body | message
    label: str  # "the subject", "the HTML body"
    source: str
    html: bool = False


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
    """Refuses a template that would not compile or reaches for Python internals."""
    env = HTML_ENV if item.html else TEXT_ENV
    try:
        tree = env.parse(item.source)
        env.compile(tree)
    except TemplateSyntaxError as exc:
        raise Invalid(f"In {item.label}, line {exc.lineno}: {_plain(exc.message)}") from exc
    for lineno, name in _private_names(tree):
        raise Invalid(
            f"In {item.label}, line {lineno}: “{name}” is not allowed — "
            "placeholders cannot use names that start with “_”."
        )
    try:
        env.from_string(item.source).render(sample_context())
    except (SecurityError, OverflowError) as exc:
        raise Invalid(f"In {item.label}: this template tries something unsafe ({exc}).") from exc
    except (TemplateError, ArithmeticError, TypeError, ValueError):
        # The sample contact lacks what this template expects: it may still work for real
        # contacts, so it is saved, and the preview shows the problem.
        pass


def _plain(message: str | None) -> str:
    text = (message or "the template could not be read").strip()
    return text[0].upper() + text[1:] if text else text


class RenderError(Exception):
    """A template failed for this contact (a permanent failure: retrying will not help)."""


@lru_cache(maxsize=512)
def _compiled(source: str, html: bool) -> Template:
    # Compiling is the slow part of rendering; a chunk sends the same template many times.
    return (HTML_ENV if html else TEXT_ENV).from_string(source)


def render_field(item: TemplateField, context: Mapping[str, Any]) -> str:
    try:
        return _compiled(item.source, item.html).render(context)
    except TemplateSyntaxError as exc:
        raise RenderError(f"{item.label}, line {exc.lineno}: {_plain(exc.message)}") from exc
    except SecurityError as exc:
        raise RenderError(f"{item.label} tries something unsafe: {exc}") from exc
    except (TemplateError, ArithmeticError, TypeError, ValueError, OverflowError) as exc:
        raise RenderError(f"{item.label} could not be filled in: {exc}") from exc


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
            return [TemplateField("text", "the SMS text", self.text)]
        return [
            TemplateField("subject", "the subject", self.subject),
            TemplateField("html", "the HTML body", self.html, html=True),
            TemplateField("text", "the plain-text body", self.text),
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
    out = {item.name: render_field(item, values) for item in parts.fields()}
    subject = " ".join(out.get("subject", "").split())  # a header holds one line
    return Rendered(subject=subject, html=out.get("html", ""), text=out.get("text", "").strip())


def render_text(source: str, context: Mapping[str, Any], label: str) -> str:
    return render_field(TemplateField("text", label, source), context)


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
