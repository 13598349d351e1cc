"""Creating the same thing from several connections at the same moment never answers 500.

The requests really commit (``committed_engine``) and run side by side in the server's thread
pool, so on PostgreSQL two transactions both see the key free and race for the unique index.
The loser is answered as if the key had been taken before it came: an update (200) where the
route creates or updates, a 409 where it only creates.
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
from app.models import Contact, ContactList, MessageTemplate, Scenario, Segment
from app.services.account.api_keys import create_api_key

TIMES = 8


async def send_all(
    settings: Settings, engine: Engine, requests: list[tuple[str, str, Any]]
) -> list[httpx.Response]:
    with session_scope(engine) as session:
        _, plain = create_api_key(session, name="Race shop")
    headers = {"Authorization": f"Bearer {plain}"}
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return await asyncio.gather(
                *(client.request(m, url, json=body, headers=headers) for m, url, body in requests)
            )


def count(engine: Engine, model: Any) -> int:
    with Session(engine) as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def statuses(answers: list[httpx.Response]) -> list[int]:
    return sorted(answer.status_code for answer in answers)


async def test_the_same_new_contact_sent_at_once_is_created_once_and_updated_by_the_others(
    committed_engine: Engine, settings: Settings, redis: Any
) -> None:
    body = {"email": "racer@shop.example", "first_name": "Léa"}

    answers = await send_all(
        settings, committed_engine, [("POST", "/api/v1/contacts", body)] * TIMES
    )

    assert statuses(answers) == [200] * (TIMES - 1) + [201], [a.text for a in answers]
    assert count(committed_engine, Contact) == 1


async def test_the_same_new_list_sent_at_once_is_created_once_and_refused_to_the_others(
    committed_engine: Engine, settings: Settings, redis: Any
) -> None:
    body = {"key": "vip", "name": "VIP"}

    answers = await send_all(settings, committed_engine, [("POST", "/api/v1/lists", body)] * TIMES)

    assert statuses(answers) == [201] + [409] * (TIMES - 1), [a.text for a in answers]
    assert all("already exists" in a.json()["detail"] for a in answers if a.status_code == 409)
    assert count(committed_engine, ContactList) == 1


async def test_the_same_new_segment_sent_at_once_is_created_once_and_refused_to_the_others(
    committed_engine: Engine, settings: Settings, redis: Any
) -> None:
    condition = {"attribute": "city", "op": "eq", "value": "Lyon"}
    body = {"key": "lyon", "name": "Lyon", "condition": condition}

    answers = await send_all(
        settings, committed_engine, [("POST", "/api/v1/segments", body)] * TIMES
    )

    assert statuses(answers) == [201] + [409] * (TIMES - 1), [a.text for a in answers]
    assert count(committed_engine, Segment) == 1


async def test_the_same_new_message_sent_at_once_is_created_once_and_updated_by_the_others(
    committed_engine: Engine, settings: Settings, redis: Any
) -> None:
    body = {
        "key": "welcome",
        "name": "Welcome",
        "channel": "email",
        "subject": "Hi",
        "html": "<p>Hi</p>",
    }

    answers = await send_all(
        settings, committed_engine, [("POST", "/api/v1/messages", body)] * TIMES
    )

    assert statuses(answers) == [200] * (TIMES - 1) + [201], [a.text for a in answers]
    assert count(committed_engine, MessageTemplate) == 1


async def test_the_same_template_installed_at_once_creates_its_lists_and_messages_once(
    committed_engine: Engine, settings: Settings, redis: Any
) -> None:
    body = {"template": "welcome"}

    answers = await send_all(
        settings, committed_engine, [("POST", "/api/v1/scenarios", body)] * TIMES
    )

    assert statuses(answers) == [201] * TIMES, [a.text for a in answers]
    assert count(committed_engine, Scenario) == TIMES
    created = [a.json()["installed"]["created_messages"] for a in answers]
    assert count(committed_engine, MessageTemplate) == len({m for ms in created for m in ms}) > 0
    assert sum(len(ms) for ms in created) == count(committed_engine, MessageTemplate)
