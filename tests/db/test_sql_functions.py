"""The database's value-rule functions give exactly what the Python rules give."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlmodel import Session

from app.graph.conditions import parse_condition
from app.graph.sql_functions import epoch_us, fold_or_null, number_or_null
from app.models import Contact
from app.services.contacts.condition_sql import matching_contact_ids
from tests.unit.graph.strategies import NOW

DATE_TEXTS = [
    "2024-01-01",
    "2024-02-29",
    "2024-02-30",
    "2023-02-29",
    "0001-01-01",
    "9999-12-31",
    "2024-06-01T10:00",
    "2024-06-01 10:00",
    "2024-06-01T10:00:59",
    "2024-06-01T10:00:59.5",
    "2024-06-01T10:00:59.123456",
    "2024-06-01T10:00:59.1234567",
    "2024-06-01T10:00:00Z",
    "2024-06-01T10:00:00+02:00",
    "2024-06-01T10:00:00-09:30",
    "2024-06-01T10:00:00+23:59",
    "2024-06-01T10:00:00+24:00",
    "2024-06-01T24:00:00",
    "2024-06-01T23:60:00",
    "2024-06-01T23:59:60",
    "2024-13-01",
    "2024-6-1",
    "1717236000",
    "not a date",
    "",
    " 2024-06-01",
]
NUMBER_TEXTS = ["1", "-1", "1.0", "0.5", "007", "1.", ".5", "+1", "1e3", "1 ", " 1", "-0", "x", ""]
FOLD_TEXTS = ["ÉLÉPHANT", "Straße", "ÀÉÎÕÜ àéîõü", "Ñandú", "ΣΑΣ", "abc", ""]


@pytest.mark.parametrize("value", DATE_TEXTS)
def test_epoch_of_date_texts(session: Session, value: str) -> None:
    found = session.execute(text("SELECT parcours_epoch_us(:v)"), {"v": value}).scalar()
    assert found == epoch_us(value)


@pytest.mark.parametrize("value", NUMBER_TEXTS)
def test_numeric_texts(session: Session, value: str) -> None:
    found = session.execute(text("SELECT parcours_number(:v)"), {"v": value}).scalar()
    assert found == number_or_null(value)


@pytest.mark.parametrize("value", FOLD_TEXTS)
def test_case_folding(session: Session, value: str) -> None:
    found = session.execute(text("SELECT parcours_fold(:v)"), {"v": value}).scalar()
    assert found == fold_or_null(value)


@pytest.mark.parametrize(
    ("condition", "matches"),
    [
        ({"attribute": "created_at", "op": "after", "value": "9999-12-31"}, False),
        ({"attribute": "created_at", "op": "before", "value": "0001-01-01"}, False),
        ({"attribute": "created_at", "op": "older_than_days", "value": 36500}, False),
        ({"attribute": "created_at", "op": "within_last_days", "value": 36500}, True),
        ({"event": "purchase", "op": "none", "within_days": 36500}, True),
    ],
)
def test_calendar_edges_are_answered_not_failed(
    session: Session, condition: dict[str, object], matches: bool
) -> None:
    contact = Contact(email="edge@example.com", created_at=NOW)
    session.add(contact)
    session.flush()

    found = matching_contact_ids(session, parse_condition(condition), NOW, [contact.id])  # type: ignore[list-item]

    assert (contact.id in found) is matches
