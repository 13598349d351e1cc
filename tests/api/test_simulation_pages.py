"""Simulate from the canvas (issue 15 point 3): the editor's form starts a simulation of the
draft in the worker, its fragment is polled while it runs and then shows the counts, the
messages per day, why some were not sent and the warnings; in the reader's language."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from redis import Redis
from sqlalchemy import Engine, func, insert, select
from sqlmodel import Session

from app.clock import SystemClock
from app.config import Settings
from app.db import read_only, session_scope
from app.main import create_app
from app.models import (
    Contact,
    ContactList,
    Enrollment,
    Event,
    ListMembership,
    MessagePurpose,
    MessageTemplate,
    Simulation,
)
from app.services.account.users import create_user
from app.services.scenarios import scenarios
from tests.fixtures.web import PASSWORD, Browser, csrf_from, log_in
from tests.worker.test_simulation_runs import WELCOME
from worker.simulation.run import run_simulation


@pytest.fixture
def shop(committed_engine: Engine) -> int:
    """A newsletter of 20 (every tenth gave no consent), 10 of whom joined two days ago;
    the Welcome draft on it. Committed, so the in-process worker sees it."""
    now = SystemClock().now()
    with session_scope(committed_engine) as session:
        for key in ("hello", "tip"):
            session.add(MessageTemplate(key=key, name=key, subject=key,
                                        purpose=MessagePurpose.marketing))  # fmt: skip
        newsletter = ContactList(key="newsletter", name="Newsletter")
        session.add(newsletter)
        people = [Contact(email=f"n{i}@example.com", email_consent=i % 10 != 0) for i in range(20)]
        session.add_all(people)
        session.flush()
        session.execute(
            insert(ListMembership),
            [{"list_id": newsletter.id, "contact_id": p.id, "added_at": now} for p in people],
        )
        at = now - timedelta(days=2)
        session.execute(
            insert(Event),
            [
                {"uid": uuid.uuid4().hex, "contact_id": p.id, "name": "list_added",
                 "properties": {"list": "newsletter"}, "occurred_at": at, "received_at": at,
                 "processed_at": at}
                for p in people[:10]
            ],
        )  # fmt: skip
        scenario = scenarios.create_scenario(session, name="Welcome", graph=WELCOME, now=now)
        assert scenario.id is not None
        return scenario.id


def _browser(settings: Settings, engine: Engine, language: str) -> Iterator[Browser]:
    with Redis.from_url(settings.redis_url) as redis:
        redis.flushdb()
    with session_scope(engine) as session:
        user = create_user(session, email="marie@shop.example", password=PASSWORD, name="Marie")
        user.language = language
        session.add(user)
    with TestClient(create_app(settings), follow_redirects=False) as client:
        status, _ = log_in(client, "marie@shop.example", PASSWORD)
        assert status == 303
        yield Browser(client=client, csrf=csrf_from(client.get("/settings").text))


@pytest.fixture
def marie(settings: Settings, committed_engine: Engine) -> Iterator[Browser]:
    yield from _browser(settings, committed_engine, "en")


@pytest.fixture
def marie_fr(settings: Settings, committed_engine: Engine) -> Iterator[Browser]:
    yield from _browser(settings, committed_engine, "fr")


def _ghost(html: str) -> dict:
    found = re.search(
        r'<script type="application/json" class="simulation-data">(.*?)</script>', html
    )
    assert found, "the fragment carries no data for the ghost counters"
    return json.loads(found.group(1))


def _simulation_id(engine: Engine) -> int:
    with Session(read_only(engine)) as session:
        return int(session.execute(select(func.max(Simulation.id))).scalar_one())


def _simulations(engine: Engine) -> int:
    with Session(read_only(engine)) as session:
        return int(session.execute(select(func.count()).select_from(Simulation)).scalar_one())


def _start(browser: Browser, scenario_id: int, **fields: str):  # type: ignore[no-untyped-def]
    data = {"replay_days": "7", "horizon_days": "7", **fields}
    return browser.post(f"/scenarios/{scenario_id}/simulate", data, htmx=True)


def test_the_editor_offers_to_simulate_in_plain_words(marie: Browser, shop: int) -> None:
    page = marie.client.get(f"/scenarios/{shop}")

    assert page.status_code == 200
    assert 'data-testid="simulate-button"' in page.text
    text = re.sub(r"<select.*?</select>", "N", page.text, flags=re.S)
    assert "Replay the last N days of your contacts’ activity, then look N days ahead." in text
    assert "js/canvas/simulation.js" in page.text


def test_simulating_polls_while_running_then_shows_the_counts(
    marie: Browser, shop: int, committed_engine: Engine, settings: Settings
) -> None:
    started = _start(marie, shop)

    assert started.status_code == 200, started.text
    sid = _simulation_id(committed_engine)
    assert f'hx-get="/scenarios/{shop}/simulations/{sid}"' in started.text
    assert 'hx-trigger="every 1s"' in started.text
    assert 'data-testid="simulation-progress"' in started.text
    assert _ghost(started.text) == {"status": "running", "nodes": {}}
    with Redis.from_url(settings.redis_url) as redis:  # queued for the worker
        assert redis.exists(f"arq:job:simulate:{sid}")

    assert run_simulation(committed_engine, sid, chunk_size=4) == "done"
    done = marie.client.get(f"/scenarios/{shop}/simulations/{sid}", headers={"HX-Request": "true"})

    assert done.status_code == 200
    assert "every 1s" not in done.text  # the polling stops
    assert "≈ 10 contacts would enter this scenario." in done.text
    assert "Messages: 18 emails, 0 SMS." in done.text
    assert "2 not sent: no consent" in done.text  # n0, at both messages
    assert "<svg" in done.text
    ghost = _ghost(done.text)
    assert ghost["status"] == "done"
    assert ghost["nodes"]["hello"]["entered"] == 10
    assert ghost["nodes"]["hello"]["skipped"] == 1
    with Session(read_only(committed_engine)) as session:  # nothing really happened
        assert session.execute(select(func.count()).select_from(Enrollment)).scalar_one() == 0


def test_the_answer_reads_in_french(marie_fr: Browser, shop: int, committed_engine: Engine) -> None:
    started = _start(marie_fr, shop)
    sid = _simulation_id(committed_engine)
    assert "Simulation en cours" in started.text
    assert run_simulation(committed_engine, sid) == "done"

    done = marie_fr.client.get(
        f"/scenarios/{shop}/simulations/{sid}", headers={"HX-Request": "true"}
    )

    assert "≈ 10 contacts entreraient dans ce scénario." in done.text
    assert "Messages par jour" in done.text
    editor = marie_fr.client.get(f"/scenarios/{shop}")
    text = re.sub(r"<select.*?</select>", "N", editor.text, flags=re.S)
    assert "Rejouer les N derniers jours d’activité de vos contacts" in text


@pytest.mark.parametrize(
    "fields",
    [{"replay_days": "8"}, {"replay_days": "-1"}, {"horizon_days": "lots"}, {"horizon_days": ""}],
)
def test_a_bad_choice_is_refused_in_words_and_stores_nothing(
    marie: Browser, shop: int, committed_engine: Engine, fields: dict[str, str]
) -> None:
    response = _start(marie, shop, **fields)

    assert response.status_code == 422
    assert "Choose how many days" in response.text
    assert _simulations(committed_engine) == 0


def test_a_draft_that_cannot_run_yet_says_so(
    marie: Browser, shop: int, committed_engine: Engine
) -> None:
    with session_scope(committed_engine) as session:
        template = session.execute(
            select(MessageTemplate).where(MessageTemplate.key == "tip")  # type: ignore[arg-type]
        ).scalar_one()
        session.delete(template)

    response = _start(marie, shop)

    assert response.status_code == 422
    assert "cannot be activated yet" in response.text
    assert _simulations(committed_engine) == 0


def test_without_csrf_or_for_another_scenario_nothing_starts(
    marie: Browser, shop: int, committed_engine: Engine
) -> None:
    forged = marie.client.post(f"/scenarios/{shop}/simulate", data={"replay_days": "7"})
    unknown = _start(marie, shop + 1000)
    missing = marie.client.get(f"/scenarios/{shop}/simulations/999999")

    assert forged.status_code == 403
    assert unknown.status_code == 404
    assert missing.status_code == 404
    assert _simulations(committed_engine) == 0
