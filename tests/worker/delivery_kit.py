"""Shared set-up for the delivery tests: contacts, templates and outbox rows, committed."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, select

from app.clock import FrozenClock
from app.config import Settings
from app.db import session_scope
from app.models import (
    Contact,
    ContactList,
    ListMembership,
    MailboxMessage,
    MessageTemplate,
    OutboxMessage,
    Scenario,
)
from app.services.messaging.outbox import OutboxEntry, add_to_outbox
from worker.delivery import Delivery

CART_HTML = """<html><head><style>h1 { color: #4f46e5; } .total { font-weight: bold; }</style>
</head><body><h1>Hello {{ contact.first_name | default("there") }}</h1>
<p class="total">Your cart: {{ event.properties.cart_total }} €</p>
<p>Plan: {{ contact.plan }} / {{ contact.attributes.plan }} — lists: {{ lists | join(", ") }}</p>
<a href="https://shop.example/cart?id={{ event.properties.cart_id }}">Back to my cart</a>
</body></html>"""


def frozen_sleep(clock: FrozenClock):  # type: ignore[no-untyped-def]
    async def sleep(seconds: float) -> None:
        clock.advance(seconds=seconds)

    return sleep


def with_settings(settings: Settings, **changes: Any) -> Settings:
    return settings.model_copy(update=changes)


def add_contact(session: Session, **values: Any) -> Contact:
    defaults: dict[str, Any] = {
        "email": "lea@example.com",
        "first_name": "Léa",
        "last_name": "Martin",
        "phone": "+33612345678",
        "birthday": date(1990, 6, 14),
        "attributes": {"plan": "premium"},
        "email_consent": True,
        "sms_consent": True,
    }
    contact = Contact(**{**defaults, **values})
    session.add(contact)
    session.flush()
    return contact


def add_template(session: Session, key: str = "cart", **values: Any) -> MessageTemplate:
    defaults: dict[str, Any] = {
        "name": key.capitalize(),
        "channel": "email",
        "purpose": "marketing",
        "subject": "{{ contact.first_name }}, your cart is waiting",
        "html": CART_HTML,
        "text": "Hello {{ contact.first_name }}, your cart: {{ event.properties.cart_total }} €",
        "from_name": "Shop",
        "from_email": "hello@shop.example",
    }
    template = MessageTemplate(key=key, **{**defaults, **values})
    session.add(template)
    session.flush()
    return template


def add_to_list(session: Session, contact: Contact, name: str) -> None:
    lst = ContactList(key=name.lower(), name=name)
    session.add(lst)
    session.flush()
    session.add(ListMembership(list_id=lst.id, contact_id=contact.id))  # type: ignore[arg-type]
    session.flush()


def queue(
    session: Session,
    clock: FrozenClock,
    contact: Contact | None,
    *,
    key: str,
    channel: str = "email",
    payload: dict[str, Any] | None = None,
    node: str = "send",
) -> None:
    scenario = session.exec(select(Scenario)).first()
    if scenario is None:
        scenario = Scenario(name="Abandoned cart")
        session.add(scenario)
        session.flush()
    entry = OutboxEntry(
        idempotency_key=key,
        channel=channel,  # type: ignore[arg-type]
        contact_id=contact.id if contact else None,
        payload=payload
        if payload is not None
        else {"message": "cart", "event": {"cart_total": 59.9, "cart_id": "C-7"}},
        scenario_id=scenario.id,
        node_id=node,
    )
    add_to_outbox(session, [entry], clock.now())


async def drain(engine: Engine, clock: FrozenClock, settings: Settings, **extra: Any) -> dict:  # type: ignore[type-arg]
    delivery = Delivery(
        engine=engine, clock=clock, settings=settings, sleep=frozen_sleep(clock), **extra
    )
    return await delivery.run()


def outbox(engine: Engine) -> dict[str, OutboxMessage]:
    with session_scope(engine) as session:
        return {row.idempotency_key: row for row in session.exec(select(OutboxMessage)).all()}


def mailbox(engine: Engine) -> list[MailboxMessage]:
    with session_scope(engine) as session:
        return list(session.exec(select(MailboxMessage).order_by(MailboxMessage.id)).all())  # type: ignore[arg-type]
