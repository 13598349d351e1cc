"""Settings → Sending rules: the rules in plain words, saved as the API would store them."""

from __future__ import annotations

from sqlmodel import Session

from app.models import Scenario
from app.services.messaging import sending_rules
from tests.fixtures.web import Browser


def form(**values: str | list[str]) -> dict[str, str | list[str]]:
    base: dict[str, str | list[str]] = {
        "quiet_start": "21:00",
        "quiet_end": "08:00",
        "email_max": "3",
        "email_days": "7",
        "sms_max": "1",
        "sms_days": "7",
    }
    return base | values


def test_the_page_asks_for_the_rules_in_plain_words(logged_in: Browser, session: Session) -> None:
    session.add(Scenario(name="Summer sale"))
    session.commit()

    html = logged_in.client.get("/settings").text

    assert "Sending rules" in html
    assert "Keep marketing messages out of the night, in each contact" in html
    assert "At most" in html
    assert "marketing emails per" in html
    assert "Summer sale" in html
    assert "Promotional — the first to wait when a cap is reached" in html


def test_saving_the_form_writes_the_rules(logged_in: Browser, session: Session) -> None:
    sale = Scenario(name="Summer sale")
    session.add(sale)
    session.commit()
    data = form(
        quiet_on="1",
        weekdays=["4", "5"],
        email_cap_on="1",
        **{f"priority_{sale.id}": "promotional"},
    )

    response = logged_in.post("/settings/sending-rules", data, htmx=True)

    assert response.status_code == 200, response.text
    assert "Saved. Marketing messages follow these rules from their next send." in response.text
    stored = sending_rules.as_json(sending_rules.read(session))
    assert stored == {
        "quiet_hours": {"start": "21:00", "end": "08:00", "weekdays": [4, 5]},
        "caps": [{"channel": "email", "max": 3, "per_days": 7}],
        "priority": {str(sale.id): "promotional"},
    }


def test_every_night_is_stored_as_no_weekdays_and_an_empty_form_as_no_rules(
    logged_in: Browser, session: Session
) -> None:
    every = form(quiet_on="1", weekdays=[str(d) for d in range(7)])
    logged_in.post("/settings/sending-rules", every, htmx=True)
    assert sending_rules.read(session).quiet_hours.weekdays is None  # type: ignore[union-attr]

    logged_in.post("/settings/sending-rules", form(), htmx=True)
    assert sending_rules.as_json(sending_rules.read(session)) == {
        "quiet_hours": None,
        "caps": [],
        "priority": {},
    }


def test_a_wrong_value_is_said_in_plain_words_and_writes_nothing(
    logged_in: Browser, session: Session
) -> None:
    data = form(quiet_on="1", quiet_end="21:00", email_cap_on="1", email_days="120")

    response = logged_in.post("/settings/sending-rules", data, htmx=True)

    assert response.status_code == 422
    assert "Quiet hours must end at another time than they start." in response.text
    assert "The number of days must be a whole number from 1 to 90." in response.text
    assert session.get(sending_rules.SendingRules, 1) is None


def test_a_number_in_other_digits_is_a_wrong_value_not_a_crash(
    logged_in: Browser, session: Session
) -> None:
    data = form(email_cap_on="on", email_max="²")

    response = logged_in.post("/settings/sending-rules", data, htmx=True)

    assert response.status_code == 422
    assert "must be a whole number from 1 to" in response.text
    assert session.get(sending_rules.SendingRules, 1) is None


def test_the_rules_read_in_french(french: Browser) -> None:
    html = french.client.get("/settings").text

    assert "Règles d’envoi" in html
    assert "Au plus" in html
