"""A marketer imports a CSV in a real browser: mapping, preview, progress bar, rejected rows.

The import runs in a real arq worker (burst mode, against the live server's database and the
test Redis) started once the page shows the import waiting for it, so the progress bar is seen
going from waiting to finished by htmx polling.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlmodel import col, select

from app.db import create_db_engine, session_scope
from app.models import Contact
from tests.fixtures.browser import LiveServer, log_in, run_worker_once, screenshot

pytestmark = pytest.mark.e2e

ROWS = "\n".join(
    [
        "Email;First name;Last name;City;Orders;Newsletter",
        *[f"buyer{n}@e2e-import.example;Buyer;N{n};Lyon;{n};yes" for n in range(40)],
        "broken-email;Bad;Row;Paris;1;no",
        "late@e2e-import.example;Late;Row;Nice;lots;no",
    ]
)


def test_import_a_csv_with_mapping_preview_progress_and_report(  # type: ignore[no-untyped-def]
    page, live_server: LiveServer
) -> None:
    log_in(page, live_server)
    page.wait_for_url(live_server.url + "/")
    page.goto(live_server.url + "/contacts")
    page.get_by_role("link", name="Import a CSV file").first.click()

    page.get_by_label("CSV file").set_input_files(
        {"name": "shop-customers.csv", "mimeType": "text/csv", "buffer": ROWS.encode()}
    )
    page.get_by_role("button", name="Upload and preview").click()

    expect(page.get_by_text("What does each column hold?")).to_be_visible()
    expect(page.get_by_role("cell", name="buyer0@e2e-import.example").first).to_be_visible()
    expect(page.get_by_label("Column Email goes to")).to_have_value("email")
    page.get_by_label("Column Orders goes to").select_option("attribute")
    page.get_by_label("Kind of values in Orders").select_option("number")
    screenshot(page, "contacts-import-mapping")
    page.get_by_role("button", name=re.compile(r"Import 42 contacts")).click()

    bar = page.get_by_role("progressbar", name="Import progress")
    expect(page.get_by_role("heading", name="Waiting for the worker…")).to_be_visible()
    expect(bar).to_have_attribute("aria-valuenow", "0")
    screenshot(page, "contacts-import-waiting")

    run_worker_once(live_server)

    expect(page.get_by_role("heading", name="Import finished")).to_be_visible(timeout=15_000)
    expect(bar).to_have_attribute("aria-valuenow", "100")
    expect(page.get_by_text("42 of 42 rows")).to_be_visible()
    screenshot(page, "contacts-import-done")

    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Download the 2 rejected rows")).click()
    report = download.value.path().read_text()
    assert "not a valid email address" in report
    assert "'lots' is not a number" in report

    engine = create_db_engine(live_server.settings.database_url)
    with session_scope(engine) as session:
        query = select(Contact).where(col(Contact.email).like("%@e2e-import.example"))
        imported = session.scalars(query).all()
        assert len(imported) == 40
        assert {c.attributes["orders"] for c in imported} == set(range(40))
    engine.dispose()
