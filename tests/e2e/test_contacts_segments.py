"""A marketer browses contacts and builds a segment visually, with a live count."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlmodel import col, select

from app.clock import utcnow
from app.db import create_db_engine, session_scope
from app.models import Contact, Segment
from app.services.contacts.contacts import upsert_contact
from app.services.contacts.fields import ContactData
from tests.fixtures.browser import LiveServer, log_in, screenshot

pytestmark = pytest.mark.e2e


def seed(server: LiveServer) -> int:
    """Five shoppers in Grenoble, two of them big spenders; returns one contact's id."""
    engine = create_db_engine(server.settings.database_url)
    with session_scope(engine) as session:
        for n in range(5):
            data = ContactData(
                fields={"email": f"g{n}@e2e-segment.example", "first_name": f"Gaby{n}"},
                attributes={"city": "Grenoble", "spent": 100 * n},
            )
            upsert_contact(session, data, now=utcnow(), source="api")
        first = session.scalars(
            select(Contact).where(col(Contact.email) == "g0@e2e-segment.example")
        ).one()
        assert first.id is not None
        contact_id = first.id
    engine.dispose()
    return contact_id


def test_build_a_segment_with_the_visual_builder_and_a_live_count(  # type: ignore[no-untyped-def]
    page, live_server: LiveServer
) -> None:
    contact_id = seed(live_server)
    log_in(page, live_server)
    page.wait_for_url(live_server.url + "/")

    page.goto(live_server.url + "/contacts?q=g0@e2e-segment")
    expect(page.get_by_role("link", name="Gaby0")).to_be_visible()
    screenshot(page, "contacts-list")
    page.goto(f"{live_server.url}/contacts/{contact_id}")
    expect(page.get_by_role("heading", name="Timeline")).to_be_visible()
    expect(page.get_by_text("Became a contact")).to_be_visible()
    screenshot(page, "contact-detail")

    page.goto(live_server.url + "/segments/new")
    page.get_by_label("Name").fill("Grenoble big spenders")
    page.get_by_label("Key").fill("grenoble-big")
    expect(page.get_by_text("No test yet: every contact matches.")).to_be_visible()

    page.get_by_role("button", name="Test", exact=True).click()
    page.get_by_label("Detail", exact=True).fill("city")
    page.get_by_label("Value", exact=True).fill("grenoble")
    expect(page.locator(".live-number")).to_have_text("5")

    page.get_by_role("button", name="Test", exact=True).click()
    page.get_by_label("Detail", exact=True).nth(1).fill("spent")
    page.get_by_label("Test", exact=True).nth(1).select_option("gte")
    page.get_by_label("Value", exact=True).nth(1).fill("300")
    expect(page.locator(".live-number")).to_have_text("2")
    expect(page.get_by_text(re.compile(r"city = 'grenoble' and spent ≥ 300"))).to_be_visible()

    # A test still being written counts for nothing yet; the summary says what is counted.
    page.get_by_label("Value", exact=True).nth(1).fill("")
    expect(page.locator(".live-number")).to_have_text("5")
    expect(page.get_by_text(re.compile(r"^city = 'grenoble'$"))).to_be_visible()
    page.get_by_label("Value", exact=True).nth(1).fill("300")
    expect(page.locator(".live-number")).to_have_text("2")
    screenshot(page, "segment-builder")

    page.get_by_role("button", name="Create segment").click()
    page.wait_for_url(re.compile(r"/segments/grenoble-big\?saved=1"))
    expect(page.get_by_text("Segment saved.")).to_be_visible()

    engine = create_db_engine(live_server.settings.database_url)
    with session_scope(engine) as session:
        saved = session.scalars(select(Segment).where(col(Segment.key) == "grenoble-big")).one()
        assert saved.condition == {
            "all": [
                {"attribute": "city", "op": "eq", "value": "grenoble"},
                {"attribute": "spent", "op": "gte", "value": 300},
            ]
        }
    engine.dispose()

    page.goto(live_server.url + "/segments")
    row = page.get_by_role("row", name=re.compile("Grenoble big spenders"))
    expect(row.locator("td.num")).to_have_text("2")
    screenshot(page, "segments")
