"""GET/PUT /api/v1/sending-rules (CONTRACTS-2 §D): the rules as written read back; anything
wrong is a 422 in plain words and writes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.models import Scenario, SendingRules


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_no_rules_until_some_are_written(client: TestClient, api_key: str) -> None:
    answer = client.get("/api/v1/sending-rules", headers=auth(api_key))

    assert answer.status_code == 200
    assert answer.json() | {"updated_at": None} == {
        "quiet_hours": None,
        "caps": [],
        "priority": {},
        "updated_at": None,
    }


def test_rules_written_read_back_exactly(
    client: TestClient, api_key: str, session: Session
) -> None:
    sale = Scenario(name="Sale")
    session.add(sale)
    session.flush()
    rules = {
        "quiet_hours": {"start": "21:00", "end": "08:00", "weekdays": [4, 0]},
        "caps": [
            {"channel": "email", "max": 3, "per_days": 7},
            {"channel": "sms", "max": 1, "per_days": 1},
        ],
        "priority": {str(sale.id): "promotional"},
    }

    put = client.put("/api/v1/sending-rules", json=rules, headers=auth(api_key))
    got = client.get("/api/v1/sending-rules", headers=auth(api_key)).json()

    assert put.status_code == 200, put.text
    assert got["quiet_hours"] == {"start": "21:00", "end": "08:00", "weekdays": [0, 4]}
    assert got["caps"] == rules["caps"]
    assert got["priority"] == {str(sale.id): "promotional"}
    assert got["updated_at"]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"quiet": None}, "Extra inputs are not permitted"),
        ({"quiet_hours": {"start": "25:00", "end": "08:00"}}, "is not a time of day"),
        ({"quiet_hours": {"start": "9pm", "end": "08:00"}}, "HH:MM"),
        ({"quiet_hours": {"start": "08:00", "end": "08:00"}}, "end at another time"),
        ({"quiet_hours": {"start": "21:00", "end": "08:00", "weekdays": [7]}}, "0 (Monday) to 6"),
        ({"quiet_hours": {"start": "21:00", "end": "08:00", "weekdays": []}}, "at least one day"),
        ({"quiet_hours": {"start": "21:00", "end": "08:00", "colour": "red"}}, "Extra inputs"),
        ({"caps": [{"channel": "email", "max": 0, "per_days": 7}]}, "greater than or equal to 1"),
        ({"caps": [{"channel": "email", "max": 3, "per_days": 91}]}, "less than or equal to 90"),
        ({"caps": [{"channel": "email", "max": 3, "per_days": 0}]}, "greater than or equal to 1"),
        ({"caps": [{"channel": "email", "max": "3", "per_days": 7}]}, "valid integer"),
        ({"caps": [{"channel": "push", "max": 3, "per_days": 7}]}, "'email' or 'sms'"),
        (
            {"caps": [{"channel": "email", "max": 3, "per_days": 7}] * 2},
            "two caps count email over 7 days",
        ),
        ({"priority": {"x": "promotional"}}, "is not a scenario id"),
        ({"priority": {"1": "urgent"}}, "'transactional', 'lifecycle' or 'promotional'"),
    ],
)
def test_a_bad_rule_is_refused_in_plain_words_and_writes_nothing(
    client: TestClient, api_key: str, session: Session, body: dict[str, Any], words: str
) -> None:
    answer = client.put("/api/v1/sending-rules", json=body, headers=auth(api_key))

    assert answer.status_code == 422
    assert words in answer.text
    assert session.exec(select(SendingRules)).all() == []


def test_a_priority_for_a_scenario_that_does_not_exist_is_refused(
    client: TestClient, api_key: str, session: Session
) -> None:
    body = {
        "caps": [{"channel": "email", "max": 3, "per_days": 7}],
        "priority": {"424242": "lifecycle"},
    }

    answer = client.put("/api/v1/sending-rules", json=body, headers=auth(api_key))

    assert answer.status_code == 422
    assert answer.json()["detail"] == (
        "There is no scenario 424242: a priority names an existing scenario."
    )
    assert session.exec(select(SendingRules)).all() == []
