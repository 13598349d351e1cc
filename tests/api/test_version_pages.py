"""The version history in the pages (issue 16 point 5): the History page, a version open
read-only on the canvas (its panels too), and "Restore as draft" from the page, said once on
the draft's canvas."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from sqlmodel import Session

from app.models import Scenario
from app.services.scenarios import scenarios as scenario_service
from tests.api import version_kit as kit
from tests.api.version_kit import V1, V3, versions_count
from tests.fixtures.web import Browser


@pytest.fixture
def three_versions(session: Session) -> int:
    return kit.three_versions(session)


# --- the History page ---------------------------------------------------------------------


def text_of(html: str, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}"[^>]*>(.*?)</(p|span|div)>', html, re.DOTALL)
    assert match, testid
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", match.group(1))).strip()


def test_the_history_page_says_who_published_what_and_who_is_still_on_it(
    logged_in: Browser, three_versions: int
) -> None:
    page = logged_in.client.get(f"/scenarios/{three_versions}/versions")

    assert page.status_code == 200
    html = page.text
    assert text_of(html, "version-1-published") == "Published Oct 3, 2025, 11:00 AM by Anne"
    assert text_of(html, "version-2-published").endswith("by bob@shop.example")
    assert text_of(html, "version-3-published").endswith("by someone")
    assert text_of(html, "version-1-holding") == "3 contacts still on it"
    assert text_of(html, "version-2-holding") == "1 contact still on it"
    assert text_of(html, "version-3-holding") == "No contact on it now"
    assert text_of(html, "version-3-summary") == "Scenario settings changed"
    assert text_of(html, "draft-summary") == "The same as version 3, live now."
    assert html.count('data-testid="live-badge"') == 1
    assert f'href="/scenarios/{three_versions}/versions/1"' in html
    assert 'data-testid="restore-version-1"' in html
    assert 'data-testid="restore-version-3"' not in html  # it is the draft already


def test_the_history_page_speaks_french(french: Browser, three_versions: int) -> None:
    html = french.client.get(f"/scenarios/{three_versions}/versions").text

    assert text_of(html, "version-1-published") == "Publiée le 3 oct. 2025, 11:00 par Anne"
    assert text_of(html, "version-3-published").endswith("par quelqu’un")
    assert text_of(html, "version-1-holding") == "3 contacts encore dessus"
    assert text_of(html, "version-1-summary") == "Première version"


def test_the_canvas_links_to_the_history(logged_in: Browser, three_versions: int) -> None:
    page = logged_in.client.get(f"/scenarios/{three_versions}")

    assert f'href="/scenarios/{three_versions}/versions" data-testid="history-link"' in page.text


# --- a version open on the canvas, read only ----------------------------------------------


def boot(html: str) -> dict[str, Any]:
    match = re.search(r'<script type="application/json" id="canvas-data">(.*?)</script>', html)
    assert match
    data: dict[str, Any] = json.loads(match.group(1))
    return data


def test_an_old_version_opens_on_the_canvas_read_only(
    logged_in: Browser, three_versions: int
) -> None:
    page = logged_in.client.get(f"/scenarios/{three_versions}/versions/1")

    assert page.status_code == 200
    html = page.text
    assert text_of(html, "version-banner-message") == (
        "You are looking at version 1 (published Oct 3, 2025 by Anne). It cannot be changed."
    )
    assert 'data-testid="node-reminder"' in html  # version 1's blocks, not the draft's
    assert 'data-testid="node-tips"' not in html
    assert 'data-readonly="1"' in html
    assert 'data-testid="restore-version"' in html
    assert f'href="/scenarios/{three_versions}" data-testid="back-to-draft"' in html
    assert "simulation.js" not in html  # a simulation is of the draft
    data = boot(html)
    assert data["graph"] == V1
    assert data["readonly"] == {"version": 1}
    assert data["scenario"]["revision"] is None


def test_a_save_from_the_read_only_canvas_is_refused_and_the_draft_kept(
    logged_in: Browser, session: Session, three_versions: int
) -> None:
    data = boot(logged_in.client.get(f"/scenarios/{three_versions}/versions/1").text)

    response = logged_in.client.put(
        f"/scenarios/{three_versions}/draft",
        json={"graph": data["graph"], "revision": data["scenario"]["revision"]},
        headers={"X-CSRF-Token": logged_in.csrf},
    )

    assert response.status_code == 422
    session.expire_all()
    assert scenario_service.get_scenario(session, three_versions).draft == V3


def test_a_read_only_panel_shows_the_settings_and_cannot_apply_them(
    logged_in: Browser, three_versions: int
) -> None:
    wait = V1["nodes"][2]
    response = logged_in.client.post(
        "/scenarios/blocks/panel?readonly=true",
        json=wait,
        headers={"X-CSRF-Token": logged_in.csrf},
    )

    assert response.status_code == 200
    assert '<fieldset class="panel-lock" disabled>' in response.text
    assert "hx-post" not in response.text
    assert 'data-testid="panel-apply"' not in response.text
    assert 'data-action="delete"' not in response.text
    assert "Read only: this version cannot be changed." in response.text


def test_the_read_only_settings_panel_cannot_apply_either(logged_in: Browser) -> None:
    response = logged_in.client.post(
        "/scenarios/settings/panel?readonly=true",
        json={"reentry": "once"},
        headers={"X-CSRF-Token": logged_in.csrf},
    )

    assert '<fieldset class="panel-lock" disabled>' in response.text
    assert "hx-post" not in response.text


def test_an_unknown_version_page_is_404(logged_in: Browser, three_versions: int) -> None:
    assert logged_in.client.get(f"/scenarios/{three_versions}/versions/7").status_code == 404
    assert logged_in.post(f"/scenarios/{three_versions}/versions/7/restore").status_code == 404
    assert logged_in.client.get("/scenarios/999999/versions").status_code == 404


def test_restore_from_the_page_opens_the_draft_saying_so_once(
    logged_in: Browser, session: Session, three_versions: int
) -> None:
    response = logged_in.post(f"/scenarios/{three_versions}/versions/1/restore")

    assert response.status_code == 303
    assert response.headers["location"] == f"/scenarios/{three_versions}"
    first = boot(logged_in.client.get(f"/scenarios/{three_versions}").text)
    assert first["graph"] == V1
    assert first["notice"] == "Version 1 is now your draft. Publish it to make it live."
    again = boot(logged_in.client.get(f"/scenarios/{three_versions}").text)
    assert again["notice"] is None
    scenario = session.get(Scenario, three_versions)
    assert scenario is not None
    session.refresh(scenario)
    assert scenario.live_version == 3
    assert versions_count(session, three_versions) == 3


def test_restoring_needs_the_csrf_token(logged_in: Browser, three_versions: int) -> None:
    response = logged_in.client.post(f"/scenarios/{three_versions}/versions/1/restore")

    assert response.status_code == 403
