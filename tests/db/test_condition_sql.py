"""The bulk SQL evaluator and the facts loader agree with the in-memory evaluator.

Random conditions meet random contacts stored in the real database (SQLite, and PostgreSQL
when configured); for every contact, three answers must be the same: the in-memory evaluator
on the contact as generated, the in-memory evaluator on the facts loaded back in bulk, and the
SQL query.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select
from sqlmodel import Session

from app.graph import ContactFacts, EventFact, evaluate, parse_condition
from app.models import Contact, ContactList, Event, ListMembership
from app.services.contacts.condition_sql import (
    CONTACTS,
    ConditionSql,
    count_matching,
    matching_contact_ids,
)
from app.services.contacts.facts import explain_chunk, load_facts
from tests.unit.graph.strategies import (
    EVENT_NAMES,
    LIST_KEYS,
    NOW,
    PROPERTY_KEYS,
    condition_json,
    date_texts,
    datetime_texts,
    finite_floats,
    numeric_texts,
    recent_instants,
    small_ints,
    texts,
)

# What can be stored in JSON: dates and times arrive as ISO text.
json_values = st.one_of(
    st.none(),
    st.just(""),
    texts,
    numeric_texts,
    small_ints,
    finite_floats,
    st.booleans(),
    date_texts,
    datetime_texts,
    recent_instants.map(lambda moment: moment.isoformat()),
    st.lists(small_ints, max_size=2),
)
CUSTOM_KEYS = ("orders_count", "plan")


@dataclass
class StoredContact:
    builtins: dict[str, Any]
    custom: dict[str, Any]
    lists: frozenset[str]
    email_consent: bool
    sms_consent: bool
    events: list[tuple[str, datetime, dict[str, Any]]]

    def facts(self) -> ContactFacts:
        return ContactFacts(
            attributes={**self.custom, **self.builtins},
            lists=self.lists,
            consent={"email": self.email_consent, "sms": self.sms_consent},
            events=[EventFact(name, at, props) for name, at, props in self.events],
        )


stored_contacts = st.builds(
    StoredContact,
    builtins=st.fixed_dictionaries(
        {
            "email": st.none() | texts,
            "phone": st.none() | numeric_texts,
            "first_name": st.none() | st.just("") | texts,
            "last_name": st.none(),
            "timezone": st.just("Europe/Paris"),
            "score": small_ints,
            "birthday": st.none()
            | st.dates(min_value=date(1950, 1, 1), max_value=date(2026, 3, 1)),
            "created_at": recent_instants,
        }
    ),
    custom=st.dictionaries(st.sampled_from(CUSTOM_KEYS), json_values, max_size=2),
    lists=st.frozensets(st.sampled_from(LIST_KEYS)),
    email_consent=st.booleans(),
    sms_consent=st.booleans(),
    events=st.lists(
        st.tuples(
            st.sampled_from(EVENT_NAMES),
            recent_instants,
            st.dictionaries(st.sampled_from(PROPERTY_KEYS), json_values, max_size=3),
        ),
        max_size=4,
    ),
)


def store(session: Session, people: list[StoredContact], list_ids: dict[str, int]) -> list[int]:
    ids = []
    for number, person in enumerate(people):
        builtins = dict(person.builtins)
        if builtins["email"] is not None:
            builtins["email"] = f"{builtins['email']}#{number}"  # emails are unique
            person.builtins["email"] = builtins["email"]
        contact = Contact(
            **builtins,
            attributes=person.custom,
            email_consent=person.email_consent,
            sms_consent=person.sms_consent,
        )
        session.add(contact)
        session.flush()
        assert contact.id is not None
        ids.append(contact.id)
        for key in person.lists:
            session.add(ListMembership(list_id=list_ids[key], contact_id=contact.id))
        if person.events:
            session.execute(
                insert(Event),
                [
                    {
                        "uid": f"{contact.id}-{i}",
                        "contact_id": contact.id,
                        "name": name,
                        "properties": props,
                        "occurred_at": at,
                        "received_at": at,
                    }
                    for i, (name, at, props) in enumerate(person.events)
                ],
            )
    session.flush()
    return ids


def roundtrip(value: Any) -> Any:
    return json.loads(json.dumps(value))


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    people=st.lists(stored_contacts, min_size=1, max_size=4),
    conditions=st.lists(condition_json(), min_size=1, max_size=4),
)
def test_sql_and_loaded_facts_agree_with_the_in_memory_evaluator(
    session: Session, people: list[StoredContact], conditions: list[dict[str, Any]]
) -> None:
    savepoint = session.begin_nested()
    try:
        list_ids = {}
        for key in LIST_KEYS:
            lst = ContactList(key=key, name=key)
            session.add(lst)
            session.flush()
            list_ids[key] = lst.id
        ids = store(session, people, list_ids)
        parsed = [parse_condition(c) for c in conditions]
        loaded = load_facts(session, ids, parsed, NOW)

        for condition, raw in zip(parsed, conditions, strict=True):
            in_sql = matching_contact_ids(session, condition, NOW, ids)
            for contact_id, person in zip(ids, people, strict=True):
                person.custom = roundtrip(person.custom)
                expected = evaluate(condition, person.facts(), NOW)
                event(f"condition held: {expected}")
                assert evaluate(condition, loaded[contact_id], NOW) == expected, (raw, person)
                assert (contact_id in in_sql) == expected, (raw, person)
    finally:
        savepoint.rollback()


def test_count_and_explanations_for_a_chunk(session: Session) -> None:
    vip = ContactList(key="vip", name="VIP")
    session.add(vip)
    session.flush()
    people = []
    for orders in (0, 1, 3):
        contact = Contact(email=f"o{orders}@example.com", attributes={"orders_count": orders})
        session.add(contact)
        session.flush()
        people.append(contact)
    session.add(ListMembership(list_id=vip.id, contact_id=people[2].id))  # type: ignore[arg-type]
    session.add(
        Event(
            uid="e1", contact_id=people[1].id, name="purchase", occurred_at=NOW - timedelta(days=2)
        )  # type: ignore[arg-type]
    )
    session.flush()
    loyal = parse_condition(
        {
            "any": [
                {"attribute": "orders_count", "op": "gte", "value": 2},
                {"event": "purchase", "op": "count_gte", "value": 1, "within_days": 7},
            ]
        }
    )

    assert count_matching(session, loyal, NOW) == 2
    explanations = explain_chunk(session, loyal, [p.id for p in people], NOW)  # type: ignore[misc]
    assert [explanations[p.id].result for p in people] == [False, True, True]  # type: ignore[index]
    assert "orders count was 0, needs ≥ 2" in explanations[people[0].id].children[0].text  # type: ignore[index]
    assert explanations[people[1].id].children[1].text.startswith("purchase happened 1 time")  # type: ignore[index]
    assert NOW.tzinfo is UTC


def test_a_long_is_one_of_list_makes_a_short_statement_with_the_same_answers(
    session: Session,
) -> None:
    # One equality per value used to repeat the attribute's whole expression: 500 values made a
    # statement of hundreds of kilobytes that took seconds to build.
    skus = [str(n) for n in range(1000, 1500)]
    session.add(Contact(email="a@example.com", attributes={"sku": 1234}))  # a number
    session.add(Contact(email="b@example.com", attributes={"sku": "1499"}))  # numeric text
    session.add(Contact(email="c@example.com", attributes={"sku": "1500"}))
    session.flush()
    condition = parse_condition({"attribute": "sku", "op": "in", "value": skus})

    compiler = ConditionSql(session.get_bind().dialect.name, NOW)
    statement = select(CONTACTS.c.id).where(compiler.contact_filter(condition))
    compiled = statement.compile(
        dialect=session.get_bind().dialect, compile_kwargs={"render_postcompile": True}
    )

    assert len(str(compiled)) < 50_000  # it was 250,000 characters
    assert count_matching(session, condition, NOW) == 2
