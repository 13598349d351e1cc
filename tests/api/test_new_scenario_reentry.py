"""A new scenario asks how often a contact may go through it, with the default in words, so
"Only once" is a choice the marketer saw rather than a silent setting."""

from __future__ import annotations

import re

from sqlmodel import Session, select

from app.models import Scenario, User
from tests.fixtures.web import Browser


def created(logged_in: Browser, session: Session, **form: str) -> Scenario:
    response = logged_in.post("/scenarios", {"name": "Loyal customers", **form})
    assert response.status_code == 303
    scenario = session.get(Scenario, int(response.headers["location"].rsplit("/", 1)[1]))
    assert scenario is not None
    return scenario


def test_the_new_scenario_form_asks_with_only_once_chosen_in_words(logged_in: Browser) -> None:
    page = logged_in.client.get("/scenarios").text
    question = re.search(
        r"How often may a contact enter\?\s*<select[^>]*>(.*?)</select>", page, re.S
    )
    assert question is not None
    options = re.findall(r'<option value="(\w+)"( selected)?>([^<]+)</option>', question.group(1))
    assert options == [
        ("once", " selected", "Only once"),
        ("after_exit", "", "Again after their journey ended"),
        ("always", "", "Every time it is triggered"),
    ]


def test_the_answer_becomes_the_drafts_reentry(logged_in: Browser, session: Session) -> None:
    assert created(logged_in, session, reentry="always").draft["settings"]["reentry"] == "always"
    assert created(logged_in, session).draft["settings"] == {"reentry": "once", "exit_when": None}


def test_an_unknown_answer_is_refused_and_creates_nothing(
    logged_in: Browser, session: Session
) -> None:
    response = logged_in.post("/scenarios", {"name": "Oops", "reentry": "twice"})
    assert response.status_code == 422
    assert "Choose how often a contact may go through the scenario." in response.text
    assert session.exec(select(Scenario)).all() == []


def test_a_french_reader_is_asked_in_french(
    logged_in: Browser, session: Session, user: User
) -> None:
    user.language = "fr"
    session.add(user)
    session.commit()
    page = logged_in.client.get("/scenarios").text
    assert "Combien de fois un contact peut-il entrer ?" in page
    assert '<option value="once" selected>Une seule fois</option>' in page
    refused = logged_in.post("/scenarios", {"name": "Oups", "reentry": "deux"})
    assert refused.status_code == 422
    assert "Choisissez combien de fois un contact peut parcourir le scénario." in refused.text
