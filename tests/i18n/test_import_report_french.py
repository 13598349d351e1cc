"""The CSV import's report is written by the worker in the language of whoever uploaded the
file; the JSON API keeps answering field problems in English whatever the request asks."""

from __future__ import annotations

import asyncio
import html
from collections.abc import Iterator
from typing import Any

import pytest
from arq.worker import Worker
from fastapi.testclient import TestClient
from redis import Redis
from sqlalchemy import Engine
from sqlmodel import Session

from app.clock import FrozenClock
from app.config import Settings
from app.db import session_scope
from app.main import create_app
from app.models import ContactImport, ImportStatus
from app.services.account.users import create_user
from tests.fixtures.web import PASSWORD, Browser, csrf_from, log_in
from worker.queue import QUEUE_NAME, redis_settings
from worker.settings import WorkerSettings

CSV = "email,prénom\nnot-an-email,Hugo\nlea@example.com,Léa\n"
FRENCH = "'not-an-email' n’est pas une adresse e-mail valide (par exemple nom@exemple.com)"
ENGLISH = "'not-an-email' is not a valid email address (like name@example.com)"


@pytest.fixture
def committed_browser(
    settings: Settings, committed_engine: Engine, request: pytest.FixtureRequest
) -> Iterator[Browser]:
    """The app on the committed database, so the worker sees what the pages wrote."""
    with Redis.from_url(settings.redis_url) as redis:
        redis.flushdb()  # arq keeps finished job ids such as "import:1:0"
    with session_scope(committed_engine) as session:
        user = create_user(session, email="marie@shop.example", password=PASSWORD, name="Marie")
        user.language = request.param
        session.add(user)
    with TestClient(create_app(settings), follow_redirects=False) as client:
        status, _ = log_in(client, "marie@shop.example", PASSWORD)
        assert status == 303
        yield Browser(client=client, csrf=csrf_from(client.get("/settings").text))


def work(settings: Settings, engine: Engine) -> None:
    """The real worker, in burst mode: it runs the queued import jobs, then stops."""

    async def burst() -> None:
        worker = Worker(
            functions=WorkerSettings.functions,
            redis_settings=redis_settings(settings.redis_url),
            queue_name=QUEUE_NAME,
            burst=True,
            poll_delay=0.05,
            ctx={"engine": engine, "clock": FrozenClock()},
            handle_signals=False,
        )
        await worker.main()
        await worker.close()

    asyncio.run(burst())


def import_file(browser: Browser) -> int:
    uploaded = browser.client.post(
        "/contacts/import",
        files={"file": ("shop.csv", CSV.encode(), "text/csv")},
        data={"csrf_token": browser.csrf},
    )
    assert uploaded.status_code == 303, uploaded.text
    import_id = int(uploaded.headers["location"].rsplit("/", 1)[1])
    started = browser.post(
        f"/contacts/imports/{import_id}/start", {"field_0": "email", "field_1": "first_name"}
    )
    assert started.status_code == 303, started.text
    return import_id


@pytest.mark.parametrize(
    ("committed_browser", "reason", "header"),
    [("fr", f"email : {FRENCH}", "ligne,raison"), ("en", f"email: {ENGLISH}", "row,reason")],
    indirect=["committed_browser"],
)
def test_the_report_gives_the_reasons_in_the_uploaders_language(
    committed_browser: Browser,
    settings: Settings,
    committed_engine: Engine,
    reason: str,
    header: str,
) -> None:
    import_id = import_file(committed_browser)

    work(settings, committed_engine)

    with Session(committed_engine) as session:
        upload = session.get(ContactImport, import_id)
        assert upload is not None
        assert upload.status == ImportStatus.done
        assert (upload.created_count, upload.rejected_count) == (1, 1)
    report = committed_browser.client.get(f"/contacts/imports/{import_id}/rejected.csv")
    assert report.status_code == 200
    lines = report.text.strip().splitlines()
    assert lines[0].startswith(header)
    assert lines[1].startswith(f"2,{reason},"), lines


@pytest.mark.parametrize(
    ("committed_browser", "words"),
    [
        ("fr", "L’import s’est arrêté sur une erreur inattendue"),
        ("en", "The import stopped on an unexpected error; it has been logged."),
    ],
    indirect=["committed_browser"],
)
def test_the_workers_failure_is_told_in_the_uploaders_language(
    committed_browser: Browser,
    settings: Settings,
    committed_engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    words: str,
) -> None:
    import worker.contact_import as task

    def broken(*args: Any, **kwargs: Any) -> bool:
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(task, "run_import", broken)
    import_id = import_file(committed_browser)

    work(settings, committed_engine)

    with Session(committed_engine) as session:
        upload = session.get(ContactImport, import_id)
        assert upload is not None
        assert upload.status == ImportStatus.failed
        assert upload.error is not None
        assert upload.error.startswith(words)
    page = committed_browser.client.get(f"/contacts/imports/{import_id}")
    assert words in html.unescape(page.text)


def test_the_json_api_keeps_field_problems_in_english(client: TestClient, api_key: str) -> None:
    refused = client.post(
        "/api/v1/contacts",
        json={"email": "not-an-email", "timezone": "Paris"},
        headers={"Authorization": f"Bearer {api_key}", "Accept-Language": "fr-FR,fr;q=0.9"},
    )

    assert refused.status_code == 422
    detail = str(refused.json())
    assert ENGLISH in detail
    assert "'Paris' is not a time zone: use a name like Europe/Paris" in detail
    assert "n’est pas" not in detail
