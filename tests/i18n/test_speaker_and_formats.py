"""The speaker's language and zone decide how dates, numbers and money read; Accept-Language
is read the way browsers mean it; phrases stored in English read in whoever's language."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.i18n import (
    Moment,
    Phrase,
    format_datetime,
    format_money,
    format_number,
    format_percent,
    negotiate,
    say,
    say_n,
    speaking,
    spoken,
)
from app.i18n.speaker import current

MORNING = datetime(2026, 1, 5, 8, 27, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("fr-FR,fr;q=0.9,en-US;q=0.8", "fr"),
        ("en-GB,en;q=0.9,fr;q=0.8", "en"),
        ("de-DE,de;q=0.9,fr;q=0.5", "fr"),
        ("en;q=0.2, fr;q=0.7", "fr"),
        ("fr;q=0, en", "en"),
        ("de, it", None),
        ("", None),
        (None, None),
        ("fr;q=abc, en", "en"),
    ],
)
def test_accept_language_picks_the_best_language_parcours_speaks(
    header: str | None, language: str | None
) -> None:
    assert negotiate(header) == language


def test_times_are_shown_in_the_readers_zone_never_as_utc() -> None:
    with speaking("fr", "Europe/Paris"):
        assert format_datetime(MORNING) == "5 janv. 2026, 09:27"
    with speaking("en", "America/New_York"):
        assert format_datetime(MORNING) == "Jan 5, 2026, 3:27\u202fAM"


def test_numbers_percentages_and_money_follow_the_language() -> None:
    with speaking("fr"):
        assert format_number(1234567) == "1\u202f234\u202f567"
        assert format_percent(0.125, 1) == "12,5\u00a0%"
        assert format_money(19.9, "EUR") == "19,90\u00a0€"
    with speaking("en"):
        assert format_number(1234567) == "1,234,567"
        assert format_percent(0.125, 1) == "12.5%"
        assert format_money(19.9, "EUR") == "€19.90"


def test_outside_any_request_parcours_speaks_english_in_utc() -> None:
    assert current().language == "en"
    assert current().time_zone.key == "UTC"
    with speaking("fr"):
        assert current().language == "fr"
    assert current().language == "en"


def test_an_unknown_language_or_zone_falls_back_to_english_and_utc() -> None:
    with speaking("xx", "Nowhere/Land") as speaker:
        assert (speaker.language, speaker.time_zone.key) == ("en", "UTC")


def test_a_stored_phrase_survives_json_and_keeps_user_data_as_given() -> None:
    phrase = say("waits until %(when)s", when=Moment(MORNING, "day_year"))
    stored = Phrase.load(phrase.dump())

    with speaking("en", "Europe/Paris"):
        assert stored.render() == "waits until Jan 5, 2026, 9:27\u202fAM"
    counted = say_n("%(count)s time", "%(count)s times", 3)
    with speaking("en"):
        assert Phrase.load(counted.dump()).render() == "3 times"


def test_a_step_detail_without_a_phrase_shows_its_english_text() -> None:
    with speaking("fr"):
        assert spoken({"text": "reached the scenario's goal"}) == "reached the scenario's goal"
        assert spoken(None) == ""
        assert spoken({"text": "x", "say": {"nonsense": 1}}) == "x"
