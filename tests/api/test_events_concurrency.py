"""De-duplication holds when the same event arrives on several connections at the same moment.

These requests really commit (``committed_engine``) and run side by side in the server's thread
pool, so two transactions race for the same event id and the same new contact.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from sqlalchemy import Engine, func, select
from sqlmodel import Session

from app.config import Settings
from app.db import session_scope
from app.main import create_app
from app.models import Contact, Event
from app.services.account.api_keys import create_api_key


async def post_all(settings: Settings, requests: list[tuple[str, Any]]) -> list[httpx.Response]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return await asyncio.gather(
                *(client.post(url, json=body, headers=HEADERS) for url, body in requests)
            )


HEADERS: dict[str, str] = {}


def new_key(engine: Engine) -> None:
    with session_scope(engine) as session:
        _, plain = create_api_key(session, name="Race shop")
    HEADERS["Authorization"] = f"Bearer {plain}"


async def test_the_same_event_posted_ten_times_at_once_is_stored_once(
    committed_engine: Engine, settings: Settings, redis: Any
) -> None:
    new_key(committed_engine)
    body = {"id": "race-1", "name": "signup", "contact": {"email": "racer@site.example"}}

    answers = await post_all(settings, [("/api/v1/events", body)] * 10)

    assert {(a.status_code, a.text) for a in answers} == {(202, answers[0].text)}
    with Session(committed_engine) as session:
        assert session.execute(select(func.count()).where(Event.uid == "race-1")).scalar() == 1
        assert session.execute(select(func.count()).select_from(Contact)).scalar() == 1
        created = select(func.count()).where(Event.name == "contact_created")
        assert session.execute(created).scalar() == 1


async def test_overlapping_batches_posted_at_once_store_each_event_and_contact_once(
    committed_engine: Engine, settings: Settings, redis: Any
) -> None:
    new_key(committed_engine)
    batches = [
        {
            "events": [
                {
                    "id": f"view-{n}",
                    "name": "page_view",
                    "contact": {"email": f"v{n % 5}@s.example"},
                }
                for n in range(start, start + 40)
            ]
        }
        for start in (0, 10, 20, 30, 0)
    ]

    answers = await post_all(settings, [("/api/v1/events/batch", b) for b in batches])

    assert [a.status_code for a in answers] == [202] * 5
    with Session(committed_engine) as session:
        views = select(func.count()).where(Event.name == "page_view")
        assert session.execute(views).scalar() == 70
        assert session.execute(select(func.count()).select_from(Contact)).scalar() == 5
        created = select(func.count()).where(Event.name == "contact_created")
        assert session.execute(created).scalar() == 5
