"""A send that did not go out is counted as *not sent* everywhere, with its reason.

The engine skips a marketing email to a contact without consent at the block (the outbox never
sees it); the delivery worker skips one whose consent was withdrawn after it was queued. Both
are "not sent" — in the Mailbox, on the statistics page, on the block's counters (which link
to the contacts concerned) — never "0 not sent" beside "1 skipped". The real engine steps and
the real delivery run on committed rows, read by a real app.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine as SqlEngine
from sqlalchemy import update
from sqlmodel import Session

from app.config import Settings
from app.main import create_app
from app.models import Contact, MessageTemplate, Scenario
from app.services.account.users import create_user
from app.services.messaging import not_sent
from tests.fixtures.web import PASSWORD, log_in
from tests.worker.delivery_kit import drain
from tests.worker.engine_harness import Engine

WELCOME = {
    "schema": 1,
    "nodes": [
        {"id": "start", "type": "trigger", "kind": "event", "config": {"event": "signed_up"}},
        {"id": "hello", "type": "action", "kind": "send_email", "config": {"message": "welcome"}},
    ],
    "edges": [{"from": "start", "to": "hello"}],
    "settings": {"reentry": "once", "exit_when": None},
}

# The story happens on the test clock's day (FrozenClock), not today.
PERIOD = "start=2026-01-01&end=2026-01-31"


@pytest.fixture
def settings(database_url: str, redis_url: str, tmp_path: Path) -> Settings:
    # A live stream that ends quickly, so the test client can read it whole.
    return Settings(
        env="test",
        data_dir=tmp_path,
        database_url=database_url,
        redis_url=redis_url,
        secret_key="test-secret-" + "x" * 40,
        base_url="http://testserver",
        live_stream_seconds=0.3,
    )


@dataclass
class Story:
    scenario_id: int
    shy: int  # never agreed: skipped by the engine
    changed_mind: int  # agreed, then withdrew before the send left: skipped at delivery
    glad: int  # agreed: sent


@pytest.fixture
def story(committed_engine: SqlEngine, settings: Settings) -> Story:
    with Session(committed_engine, expire_on_commit=False) as session:
        flow = Engine(session)
        session.add(
            MessageTemplate(
                key="welcome",
                name="Welcome aboard",
                channel="email",
                purpose="marketing",
                subject="Welcome",
                html="<p>Hello {{ contact.first_name }}</p>",
                text="Hello",
            )
        )
        scenario = flow.scenario(WELCOME, name="Welcome")
        shy = flow.contact("shy@shop.test", email_consent=False)
        changed = flow.contact("changed@shop.test")
        glad = flow.contact("glad@shop.test")
        for person in (shy, changed, glad):
            flow.event(person, "signed_up")
        flow.run()
        session.execute(
            update(Contact).where(Contact.id == changed.id).values(email_consent=False)  # type: ignore[arg-type]
        )
        session.commit()
        ids = Story(scenario.id or 0, shy.id or 0, changed.id or 0, glad.id or 0)
    asyncio.run(drain(committed_engine, flow.clock, settings))
    return ids


def browser(settings: Settings, committed_engine: SqlEngine, language: str) -> Iterator[TestClient]:
    with Session(committed_engine) as session:
        user = create_user(session, email=f"{language}@shop.example", password=PASSWORD, name="M")
        user.language = language
        session.commit()
    with TestClient(create_app(settings), follow_redirects=False) as client:
        assert log_in(client, f"{language}@shop.example", PASSWORD)[0] == 303
        yield client


@pytest.fixture
def english(settings: Settings, committed_engine: SqlEngine) -> Iterator[TestClient]:
    yield from browser(settings, committed_engine, "en")


@pytest.fixture
def french(settings: Settings, committed_engine: SqlEngine) -> Iterator[TestClient]:
    yield from browser(settings, committed_engine, "fr")


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_one_definition_counts_the_engines_skips_and_the_deliverys(
    story: Story, committed_engine: SqlEngine
) -> None:
    with Session(committed_engine) as session:
        assert not_sent.total(session) == 2
        assert not_sent.by_block(session, story.scenario_id) == [
            not_sent.NotSent("hello", "no_consent", 2)
        ]
        assert session.get(Scenario, story.scenario_id) is not None


def test_the_mailbox_counts_a_skipped_send_as_not_sent_with_its_reason(
    story: Story, english: TestClient
) -> None:
    page = english.get("/mailbox")
    assert page.status_code == 200
    assert re.search(r'data-testid="not-sent-total">2<', page.text)
    reasons = re.findall(r'data-testid="problem-reason">([^<]*)<', page.text)
    assert sorted(reasons) == [
        "Not sent: the contact has not agreed to receive marketing emails.",
        "no consent to marketing emails → not sent",
    ]
    words = text_of(page.text)
    assert "shy@shop.test" in words
    assert "changed@shop.test" in words
    assert "“Welcome aboard”" in words, "the message by its name, not its key"
    assert (
        "glad@shop.test" not in words.split("Latest sends that did not go out")[1].split("All")[0]
    )


def test_the_statistics_and_the_block_say_two_not_sent_for_no_consent(
    story: Story, english: TestClient
) -> None:
    page = english.get(f"/scenarios/{story.scenario_id}/stats?{PERIOD}")
    assert page.status_code == 200
    row = re.search(r'<tr data-node="hello">(.*?)</tr>', page.text, re.S)
    assert row is not None
    # Sent, opened, clicked, waiting to send, not sent, failed.
    cells = [c.strip() for c in re.findall(r'<td class="right">([^<]*)', row.group(1))]
    assert cells == ["1", "0", "0", "0", "2", "0"]

    table = page.text.split('data-testid="not-sent-table"')[1].split("</table>")[0]
    assert "no consent" in table
    assert ">2<" in table
    link = f"/scenarios/{story.scenario_id}/blocks/hello/contacts?show=skipped&amp;why=no_consent"
    assert link in table

    counter = re.search(r'data-testid="not-sent-hello-no_consent"[^>]*>(.*?)</a>', page.text)
    assert counter is not None
    assert text_of(counter.group(1)).strip() == "2 not sent: no consent"
    assert f'href="{link}"' in page.text


def test_the_block_counter_links_to_the_contacts_it_was_not_sent_to(
    story: Story, english: TestClient
) -> None:
    base = f"/scenarios/{story.scenario_id}/blocks/hello/contacts"
    page = english.get(f"{base}?show=skipped&why=no_consent")
    assert page.status_code == 200
    assert re.search(r'data-testid="drill-total">2<', page.text)
    assert f"visitor-{story.shy}" in page.text
    assert f"visitor-{story.changed_mind}" in page.text
    assert f"visitor-{story.glad}" not in page.text
    assert 'data-testid="drill-why">no consent<' in page.text

    none = english.get(f"{base}?show=skipped&why=no_address")
    assert re.search(r'data-testid="drill-total">0<', none.text)
    everyone = english.get(f"{base}?show=all")
    assert re.search(r'data-testid="drill-total">3<', everyone.text)


def test_an_unknown_reason_is_refused_clearly(story: Story, english: TestClient) -> None:
    page = english.get(f"/scenarios/{story.scenario_id}/blocks/hello/contacts?show=skipped&why=x")
    assert page.status_code == 422
    assert "is not a reason a message was not sent" in page.text


def test_the_live_stream_carries_the_same_not_sent_count(story: Story, english: TestClient) -> None:
    with english.stream("GET", f"/scenarios/{story.scenario_id}/live") as stream:
        body = stream.read().decode()
    first = next(line for line in body.splitlines() if line.startswith("data: "))
    assert "2</b> not sent: no consent" in first
    assert "show=skipped\\u0026amp;why=no_consent" in first or "why=no_consent" in first


def test_a_french_reader_sees_non_envoye_with_the_reason(story: Story, french: TestClient) -> None:
    mailbox = text_of(french.get("/mailbox").text)
    assert "non envoyés" in mailbox
    assert "pas de consentement aux e-mails marketing → non envoyé" in mailbox
    assert "n’a pas accepté de recevoir des e-mails marketing" in mailbox

    stats = french.get(f"/scenarios/{story.scenario_id}/stats?{PERIOD}").text
    counter = re.search(r'data-testid="not-sent-hello-no_consent"[^>]*>(.*?)</a>', stats)
    assert counter is not None
    assert text_of(counter.group(1)).strip() == "2 non envoyés : pas de consentement"
    drill = french.get(
        f"/scenarios/{story.scenario_id}/blocks/hello/contacts?show=skipped&why=no_consent"
    ).text
    assert 'data-testid="drill-why">pas de consentement<' in drill
