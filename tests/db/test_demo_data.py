"""The demo data tells the truth: what a contact's attributes say agrees with what they did,
so the ready-made scenarios treat the demo contacts as what they are."""

from __future__ import annotations

from collections import Counter

from sqlmodel import Session, col, select

from app.clock import utcnow
from app.graph.conditions import parse_condition
from app.models import Contact, ContactList, Event, ListMembership
from app.scenario_templates import scenario_templates
from app.services.account.demo import add_demo_contacts
from app.services.contacts.condition_sql import matching_contact_ids
from app.services.contacts.fields import normalize_email


def demo_contacts(session: Session) -> list[Contact]:
    add_demo_contacts(session, contacts=40)
    session.flush()
    return list(session.exec(select(Contact)).all())


def test_every_demo_contact_has_a_valid_email_of_its_own(session: Session) -> None:
    people = demo_contacts(session)

    emails = [p.email for p in people]
    assert all(email and normalize_email(email) == email for email in emails)
    assert len(set(emails)) == len(people)


def test_orders_count_is_the_number_of_recorded_purchases(session: Session) -> None:
    people = demo_contacts(session)
    purchases = Counter(
        session.exec(select(Event.contact_id).where(Event.name == "purchase")).all()
    )

    assert {p.id: p.attributes["orders_count"] for p in people} == {
        p.id: purchases[p.id or 0] for p in people
    }
    assert sum(purchases.values()) > 0
    events = session.exec(select(Event)).all()
    by_id = {p.id: p for p in people}
    assert all(by_id[e.contact_id].created_at <= e.occurred_at <= utcnow() for e in events)
    assert all(e.processed_at is not None for e in events), "history, not new triggers"


def test_the_lists_agree_with_the_orders(session: Session) -> None:
    people = demo_contacts(session)
    rows = session.exec(
        select(ListMembership.contact_id, ContactList.key).join(
            ContactList,
            col(ContactList.id) == col(ListMembership.list_id),
        )
    ).all()
    members = {key: {cid for cid, k in rows if k == key} for _, key in rows}

    orders = {p.id: p.attributes["orders_count"] for p in people}
    assert members["customers"] == {cid for cid, n in orders.items() if n >= 1}
    assert members["loyal-customers"] == {cid for cid, n in orders.items() if n >= 2}


def test_loyal_customers_sees_a_returning_customer_on_their_next_purchase(
    session: Session,
) -> None:
    people = demo_contacts(session)
    now = utcnow()
    # Every demo contact buys once more: the purchase that starts "Loyal customers".
    session.add_all(
        Event(uid=f"next-{p.id}", contact_id=p.id, name="purchase", occurred_at=now)  # type: ignore[arg-type]
        for p in people
    )
    session.flush()
    graph = scenario_templates("en")["loyal_customers"].graph
    first_purchase = next(n for n in graph["nodes"] if n["id"] == "first")["config"]["if"]

    gets_the_coupon = matching_contact_ids(session, parse_condition(first_purchase), now)

    assert gets_the_coupon == {p.id for p in people if p.attributes["orders_count"] == 0}
    assert any(p.attributes["orders_count"] >= 1 for p in people), "some go to the NO branch"
