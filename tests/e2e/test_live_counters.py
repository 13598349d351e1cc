"""A marketer picks a template, switches it on and watches contacts flow: counters change on
the live view without a reload, and a counter leads to the contact and the reason for its turn.

Screenshots: test-artifacts/screenshots/insights-*.png.
"""

from __future__ import annotations

import asyncio
import re
import threading
import uuid

import httpx
import pytest
from arq import create_pool

from app.clock import SystemClock
from app.db import create_db_engine, session_scope
from app.services.account.api_keys import create_api_key
from tests.fixtures.browser import LiveServer, log_in, screenshot
from worker.engine.tasks import match_triggers
from worker.queue import QUEUE_NAME, redis_settings

pytestmark = pytest.mark.e2e


def api_key(server: LiveServer) -> str:
    engine = create_db_engine(server.settings.database_url)
    with session_scope(engine) as session:
        _, plain = create_api_key(session, name=f"shop-{uuid.uuid4().hex[:6]}")
    engine.dispose()
    return plain


def run_engine(server: LiveServer) -> None:
    """The worker's own task, once, in a thread of its own (Playwright owns this one's loop)."""

    async def once() -> None:
        pool = await create_pool(
            redis_settings(server.settings.redis_url), default_queue_name=QUEUE_NAME
        )
        engine = create_db_engine(server.settings.database_url)
        try:
            await match_triggers({"engine": engine, "clock": SystemClock(), "redis": pool})
        finally:
            await pool.aclose()
            engine.dispose()

    thread = threading.Thread(target=lambda: asyncio.run(once()))
    thread.start()
    thread.join(timeout=60)


def test_counters_move_without_reload_and_a_counter_leads_to_the_explanation(
    live_server: LiveServer, page
) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    log_in(page, live_server)
    page.goto(live_server.url + "/templates")
    expect(page.get_by_test_id("template-loyal_customers")).to_be_visible()
    screenshot(page, "insights-gallery")
    page.get_by_test_id("use-loyal_customers").click()
    page.wait_for_url(re.compile(r"/scenarios/\d+$"))
    scenario_id = int(page.url.rsplit("/", 1)[1])

    key = api_key(live_server)
    api = httpx.Client(
        base_url=live_server.url + "/api/v1", headers={"Authorization": f"Bearer {key}"}
    )
    assert api.post(f"/scenarios/{scenario_id}/activate").status_code == 200

    page.goto(f"{live_server.url}/scenarios/{scenario_id}/stats")
    first = page.locator('.block-counters[data-node="first"]')
    expect(page.locator("html[data-live=on]")).to_have_count(1)
    expect(first.locator('[data-counter="entered"]')).to_contain_text("0")

    tag = uuid.uuid4().hex[:6]
    for who in ("new", "regular", "regular"):
        sent = api.post(
            "/events",
            json={
                "name": "purchase",
                "contact": {"email": f"{who}-{tag}@shop.test"},
                "properties": {"amount": 30},
            },
        )
        assert sent.status_code == 202, sent.text
    run_engine(live_server)

    # No reload: the stream brings the engine's chunk to the page.
    expect(first.locator('[data-counter="entered"]')).to_contain_text("3")
    # Both purchases of "regular" were in before the engine ran: each one sees two purchases.
    expect(first.locator('[data-counter="yes"]')).to_contain_text("1")
    expect(first.locator('[data-counter="no"]')).to_contain_text("2")
    expect(page.get_by_test_id("edge-label-first-yes-coupon")).to_contain_text("33% · 1")
    screenshot(page, "insights-live-view")

    first.locator('[data-counter="no"]').click()
    page.wait_for_url(re.compile(r"/blocks/first/contacts\?version=1&show=no"))
    expect(page.get_by_test_id("drill-total")).to_have_text("2")
    screenshot(page, "insights-drill-down")
    page.get_by_role("link", name=f"regular-{tag}@shop.test").first.click()
    expect(
        page.get_by_text("purchase happened 2 times, needs fewer than 2 → no").first
    ).to_be_visible()
    screenshot(page, "insights-journey")
    api.close()
