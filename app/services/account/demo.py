"""Demo data for a first start: an admin, an API key, a few lists, contacts and their orders."""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session

from app.clock import utcnow
from app.models import Contact, ContactList, Event, ListMembership
from app.services.account.api_keys import create_api_key
from app.services.account.users import count_users, create_user
from app.services.contacts.fields import normalize_email
from app.services.keys import ascii_folded

ADMIN_EMAIL = "admin@parcours.local"

DEMO_LISTS = [
    ("newsletter", "Newsletter", "People who asked for the monthly newsletter."),
    ("customers", "Customers", "Everyone who bought at least once."),
    ("loyal-customers", "Loyal customers", "Customers with two orders or more."),
]
FIRST_NAMES = [
    "Camille",
    "Louis",
    "Léa",
    "Hugo",
    "Chloé",
    "Lucas",
    "Manon",
    "Jules",
    "Inès",
    "Noah",
]
LAST_NAMES = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand"]


@dataclass(frozen=True)
class DemoCredentials:
    email: str
    password: str
    api_key: str


def seed_demo(session: Session, *, contacts: int = 40, seed: int = 7) -> DemoCredentials | None:
    """Fills an empty installation; returns None (and changes nothing) when users exist."""
    if count_users(session) > 0:
        return None
    password = secrets.token_urlsafe(12)
    admin = create_user(session, email=ADMIN_EMAIL, password=password, name="Admin")
    _, api_key = create_api_key(session, name="Demo shop", created_by_id=admin.id)
    add_demo_contacts(session, contacts=contacts, seed=seed)
    return DemoCredentials(email=ADMIN_EMAIL, password=password, api_key=api_key)


def demo_email(first: str, last: str, n: int) -> str:
    """``chloe.martin.4@example.com``: accents dropped, and checked as the API would check it."""
    email = normalize_email(f"{ascii_folded(f'{first}.{last}.{n}')}@example.com")
    assert email is not None
    return email


def add_demo_contacts(session: Session, *, contacts: int, seed: int = 7) -> None:
    """Demo lists, and contacts spread over them by consent and number of orders."""
    lists = [ContactList(key=k, name=n, description=d) for k, n, d in DEMO_LISTS]
    session.add_all(lists)
    rng = random.Random(seed)
    now = utcnow()
    people = []
    for i in range(contacts):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        orders = rng.choice([0, 0, 1, 1, 2, 3, 5])
        people.append(
            Contact(
                email=demo_email(first, last, i),
                first_name=first,
                last_name=last,
                birthday=date(
                    1970 + rng.randrange(35), 1 + rng.randrange(12), 1 + rng.randrange(28)
                ),
                timezone="Europe/Paris",
                attributes={
                    "orders_count": orders,
                    "city": rng.choice(["Paris", "Lyon", "Nantes"]),
                },
                email_consent=rng.random() < 0.85,
                email_consent_source="demo",
                email_consent_at=now,
                created_at=now - timedelta(days=rng.randrange(200)),
            )
        )
    session.add_all(people)
    session.flush()
    memberships = []
    for person in people:
        assert person.id is not None
        orders = person.attributes["orders_count"]
        chosen = [lists[0]] if person.email_consent else []
        chosen += [lists[1]] if orders >= 1 else []
        chosen += [lists[2]] if orders >= 2 else []
        memberships += [
            ListMembership(list_id=lst.id, contact_id=person.id, source="demo")  # type: ignore[arg-type]
            for lst in chosen
        ]
    session.add_all(memberships)
    session.add_all(purchase_history(people, rng, now))


def purchase_history(people: list[Contact], rng: random.Random, now: datetime) -> list[Event]:
    """One recorded ``purchase`` per order in a contact's ``orders_count``, between their
    signup and now, so conditions on events agree with the attribute ("Loyal customers" sees
    a contact with two orders as a returning customer). Marked as matched already: history,
    not new events for the scenarios that will be activated later."""
    events = []
    for person in people:
        assert person.id is not None
        days = max((now - person.created_at).days, 1)
        times = sorted(
            person.created_at + timedelta(days=rng.uniform(0, days))
            for _ in range(person.attributes["orders_count"])
        )
        for n, occurred_at in enumerate(times, start=1):
            order = f"demo-{person.id}-{n}"
            events.append(
                Event(
                    uid=f"demo-order:{order}",
                    contact_id=person.id,
                    name="purchase",
                    properties={"order_id": order, "total": round(rng.uniform(15, 180), 2)},
                    occurred_at=occurred_at,
                    processed_at=now,
                )
            )
    return events
