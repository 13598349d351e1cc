"""Statistics per version (issue 16, CONTRACTS-2 §B): after a second version is published,
every count belongs to one version and is drawn on that version's graph — the API, the
statistics page, the canvas's live counters and the contacts behind a number.

The story: version 1 makes newcomers wait three days at "pause"; three contacts are waiting
there when version 2, which waits an hour at "short" instead, is published. Two contacts
enter version 2 and are through it two hours later; the three stay on version 1.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from redis import Redis
from sqlalchemy import Engine as SqlEngine
from sqlmodel import Session, col, select

from app.config import Settings
from app.main import create_app
from app.models import Contact, Scenario
from app.services.account.users import create_user
from app.services.scenarios import scenarios
from tests.fixtures.web import PASSWORD, Browser, log_in
from tests.worker.engine_harness import Engine


def graph(wait_id: str, seconds: int) -> dict[str, Any]:
    return {
        "schema": 1,
        "nodes": [
            {"id": "start", "type": "trigger", "kind": "event", "config": {"event": "signed_up"}},
            {"id": wait_id, "type": "delay", "kind": "wait", "config": {"seconds": seconds}},
            {"id": "score", "type": "action", "kind": "add_score", "config": {"points": 5}},
        ],
        "edges": [{"from": "start", "to": wait_id}, {"from": wait_id, "to": "score"}],
        "settings": {"reentry": "once", "exit_when": None},
    }


PERIOD = {"start": "2026-01-01", "end": "2026-01-31"}  # the test clock's month
VERSION_1 = graph("pause", 3 * 86400)
VERSION_2 = graph("short", 3600)


def two_versions(flow: Engine) -> Scenario:
    scenario = flow.scenario(VERSION_1, name="Welcome")
    for i in range(3):
        flow.event(flow.contact(f"early{i}@shop.test"), "signed_up")
    flow.run()
    scenarios.save_draft(
        flow.session,
        scenario.id or 0,
        VERSION_2,
        revision=scenario.draft_revision,
        now=flow.clock.now(),
    )
    scenarios.activate(flow.session, scenario.id or 0, now=flow.clock.now())
    for i in range(2):
        flow.event(flow.contact(f"late{i}@shop.test"), "signed_up")
    flow.run()
    flow.later(hours=2)
    flow.session.commit()
    return scenario


@pytest.fixture
def flow(session: Session) -> Engine:
    return Engine(session)


@pytest.fixture
def api(client: TestClient, api_key: str) -> TestClient:
    client.headers["Authorization"] = f"Bearer {api_key}"
    return client


def counters_of(page: str, node_id: str) -> str:
    """A block's counters on the live graph in words: "3 entered · 3 waiting"."""
    found = re.search(rf'<div class="block-counters" data-node="{node_id}">(.*?)</div>', page)
    assert found, f"no block {node_id} on the graph"
    counters = re.findall(r"<a [^>]*>(.*?)</a>", found.group(1))
    return " · ".join(re.sub(r"<[^>]+>", "", c).strip() for c in counters)


# --- the API -----------------------------------------------------------------------------


def test_the_api_counts_the_live_version_alone_and_sums_up_every_version(
    api: TestClient, flow: Engine
) -> None:
    scenario = two_versions(flow)

    live = api.get(f"/api/v1/scenarios/{scenario.id}/stats").json()

    assert live["version"] == 2
    assert set(live["nodes"]) == {"start", "short", "score"}, "version 2's blocks only"
    assert live["nodes"]["start"]["entered"] == 2
    short = live["nodes"]["short"]
    assert (short["entered"], short["waiting"], short["completed"]) == (2, 0, 2)
    assert live["versions"] == {
        "1": {"entered": 3, "active": 3},
        "2": {"entered": 2, "active": 0},
    }


def test_the_api_counts_an_older_version_alone_on_request(api: TestClient, flow: Engine) -> None:
    scenario = two_versions(flow)

    first = api.get(f"/api/v1/scenarios/{scenario.id}/stats", params={"version": 1}).json()

    assert first["version"] == 1
    assert set(first["nodes"]) == {"start", "pause", "score"}
    assert first["nodes"]["start"]["entered"] == 3, "not 5: version 2's entries are not added"
    assert first["nodes"]["pause"]["waiting"] == 3
    assert first["nodes"]["score"]["entered"] == 0
    assert first["versions"]["1"] == {"entered": 3, "active": 3}


def test_the_api_refuses_a_version_the_scenario_does_not_have(
    api: TestClient, flow: Engine
) -> None:
    scenario = two_versions(flow)
    url = f"/api/v1/scenarios/{scenario.id}/stats"

    unknown = api.get(url, params={"version": 9})
    assert unknown.status_code == 404
    assert unknown.json()["detail"] == "This scenario has no version 9."
    assert api.get(url, params={"version": "two"}).status_code == 422
    assert api.get(url, params={"version": 2**40}).status_code == 422


def test_a_scenario_never_activated_has_no_version_and_no_counts(api: TestClient) -> None:
    created = api.post("/api/v1/scenarios", json={"name": "Draft", "graph": VERSION_1}).json()

    stats = api.get(f"/api/v1/scenarios/{created['id']}/stats").json()

    assert stats == {"version": None, "nodes": {}, "versions": {}}
    assert api.get(f"/api/v1/scenarios/{created['id']}/stats?version=1").status_code == 404


def test_the_api_lists_the_contacts_at_a_block_of_one_version(
    api: TestClient, flow: Engine
) -> None:
    scenario = two_versions(flow)
    url = f"/api/v1/scenarios/{scenario.id}/nodes/start/contacts"

    assert api.get(url).json()["total"] == 5, "every version when none is named"
    first = api.get(url, params={"version": 1}).json()
    assert first["total"] == 3
    assert {c["email"] for c in first["contacts"]} == {f"early{i}@shop.test" for i in range(3)}
    assert api.get(url, params={"version": 2}).json()["total"] == 2
    assert api.get(url, params={"version": 9}).status_code == 404
    gone = api.get(f"/api/v1/scenarios/{scenario.id}/nodes/pause/contacts?version=2")
    assert gone.status_code == 404, "version 2 has no block “pause”"


# --- the statistics page -------------------------------------------------------------------


def test_the_statistics_page_draws_the_live_version_with_its_own_counters(
    logged_in: Browser, flow: Engine
) -> None:
    scenario = two_versions(flow)

    page = logged_in.client.get(f"/scenarios/{scenario.id}/stats", params=PERIOD).text

    assert 'data-testid="version-tabs"' in page
    assert re.search(r'class="active" aria-current="page"[^>]*data-testid="version-tab-2"', page)
    assert ">Version 2 (live)</a>" in page
    assert ">Version 1</a>" in page
    assert 'data-testid="live-node-short"' in page
    assert 'data-testid="live-node-pause"' not in page, "version 1's block is not drawn"
    assert counters_of(page, "start") == "2 entered · 2 done"
    assert counters_of(page, "short") == "2 entered · 2 done"
    assert 'data-testid="kpi-entries">2<' in page
    assert f'data-live-src="/scenarios/{scenario.id}/live?version=2"' in page


def test_the_statistics_page_says_who_is_still_on_version_1_and_links_to_it(
    logged_in: Browser, flow: Engine
) -> None:
    scenario = two_versions(flow)

    page = logged_in.client.get(f"/scenarios/{scenario.id}/stats").text

    line = re.search(
        r'<a class="badge still-on" href="([^"]+)" data-testid="still-on-1">([^<]+)', page
    )
    assert line, "a line about the contacts still on version 1"
    assert line.group(1) == f"/scenarios/{scenario.id}/stats?version=1"
    assert line.group(2) == "3 contacts are still on version 1"


def test_the_statistics_page_of_version_1_draws_version_1_with_its_own_counters(
    logged_in: Browser, flow: Engine
) -> None:
    scenario = two_versions(flow)

    page = logged_in.client.get(
        f"/scenarios/{scenario.id}/stats", params={"version": "1", **PERIOD}
    ).text

    assert re.search(r'class="active" aria-current="page"[^>]*data-testid="version-tab-1"', page)
    assert 'data-testid="live-node-pause"' in page
    assert 'data-testid="live-node-short"' not in page
    assert counters_of(page, "start") == "3 entered · 3 done"
    assert counters_of(page, "pause") == "3 entered · 3 waiting"
    assert counters_of(page, "score") == "0 entered"
    assert 'data-testid="kpi-entries">3<' in page
    assert "This is version 1: the contacts still on it finish their journey here" in page
    assert 'data-testid="still-on-1"' not in page, "no line about the version shown"
    assert f'href="/scenarios/{scenario.id}/blocks/pause/contacts?version=1&amp;show=waiting"' in (
        page
    ), "a number opens the contacts of the same version"
    assert f'data-live-src="/scenarios/{scenario.id}/live?version=1"' in page


def test_the_statistics_page_of_a_version_that_does_not_exist_is_not_found(
    logged_in: Browser, flow: Engine
) -> None:
    scenario = two_versions(flow)

    page = logged_in.client.get(f"/scenarios/{scenario.id}/stats", params={"version": "3"})

    assert page.status_code == 404
    assert "This scenario has no version 3." in page.text


@pytest.mark.parametrize("odd", ["²", "٣", "1.5", "-1", "1e3", "0x1"])
def test_a_version_that_is_not_plain_digits_is_refused_in_words(
    logged_in: Browser, flow: Engine, odd: str
) -> None:
    scenario = two_versions(flow)
    client = logged_in.client

    for path in ("stats", "blocks/start/contacts"):
        page = client.get(f"/scenarios/{scenario.id}/{path}", params={"version": odd})
        assert page.status_code == 422, (path, odd)
        assert "A version is a number, such as 2." in page.text
    saved = logged_in.post(
        f"/scenarios/{scenario.id}/blocks/start/save-list", {"version": odd, "name": "Odd"}
    )
    assert saved.status_code == 422, odd


def test_a_period_chosen_stays_when_switching_versions(logged_in: Browser, flow: Engine) -> None:
    scenario = two_versions(flow)

    page = logged_in.client.get(f"/scenarios/{scenario.id}/stats", params=PERIOD).text

    period = "start=2026-01-01&amp;end=2026-01-31"
    assert f'href="/scenarios/{scenario.id}/stats?version=1&amp;{period}"' in page


# --- the contacts behind a number ----------------------------------------------------------


def test_the_contacts_at_a_block_are_those_of_the_version_asked_for(
    logged_in: Browser, flow: Engine
) -> None:
    scenario = two_versions(flow)
    url = f"/scenarios/{scenario.id}/blocks/start/contacts"

    first = logged_in.client.get(url, params={"version": "1"}).text
    second = logged_in.client.get(url, params={"version": "2"}).text

    assert 'data-testid="drill-total">3<' in first
    assert "early0@shop.test" in first
    assert "late0@shop.test" not in first
    assert 'data-testid="drill-version">Version 1<' in first
    assert '<input type="hidden" name="version" value="1">' in first, "the filters keep it"
    assert f'href="/scenarios/{scenario.id}/stats?version=1"' in first
    assert 'data-testid="drill-total">2<' in second
    assert "late1@shop.test" in second
    assert 'data-testid="drill-total">5<' in logged_in.client.get(url).text


def test_the_contacts_waiting_at_a_block_of_version_1_and_an_unknown_version(
    logged_in: Browser, flow: Engine
) -> None:
    scenario = two_versions(flow)
    url = f"/scenarios/{scenario.id}/blocks/pause/contacts"

    waiting = logged_in.client.get(url, params={"version": "1", "show": "waiting"}).text

    assert 'data-testid="drill-total">3<' in waiting
    assert logged_in.client.get(url, params={"version": "4"}).status_code == 404
    assert logged_in.client.get(url, params={"version": "one"}).status_code == 422


def test_saving_the_contacts_of_one_version_as_a_list(logged_in: Browser, flow: Engine) -> None:
    scenario = two_versions(flow)

    saved = logged_in.post(
        f"/scenarios/{scenario.id}/blocks/start/save-list",
        data={"name": "Came in on version 2", "show": "all", "version": "2"},
    )

    assert saved.status_code == 200
    late = flow.session.exec(select(Contact.id).where(col(Contact.email).like("late%"))).all()
    assert flow.members("came-in-on-version-2") == set(late)


# --- the canvas's live counters -------------------------------------------------------------


@dataclass
class Stream:
    client: TestClient
    scenario_id: int

    def first(self, **params: Any) -> dict[str, Any]:
        """The snapshot a canvas or a statistics page gets on connect."""
        with self.client.stream(
            "GET", f"/scenarios/{self.scenario_id}/live", params=params
        ) as stream:
            body = stream.read().decode()
        return json.loads(next(line for line in body.splitlines() if line.startswith("data: "))[6:])


@pytest.fixture
def stream(settings: Settings, committed_engine: SqlEngine, redis_url: str) -> Iterator[Stream]:
    # The stream reads on its own connections (committed rows) and Redis (no stale hashes).
    with Redis.from_url(redis_url) as redis:
        redis.flushdb()
    with Session(committed_engine, expire_on_commit=False) as session:
        create_user(session, email="live@shop.example", password=PASSWORD, name="Live")
        scenario_id = two_versions(Engine(session)).id or 0
    quick = settings.model_copy(update={"live_stream_seconds": 0.05})
    with TestClient(create_app(quick), follow_redirects=False) as client:
        assert log_in(client, "live@shop.example", PASSWORD)[0] == 303
        yield Stream(client, scenario_id)


def test_the_canvas_counts_the_live_version_alone_and_tells_of_version_1(
    stream: Stream,
) -> None:
    snapshot = stream.first()

    assert snapshot["version"] == 2
    assert set(snapshot["nodes"]) == {"start", "short", "score"}
    assert snapshot["nodes"]["start"]["counts"]["entered"] == 2
    assert snapshot["nodes"]["short"]["counts"]["completed"] == 2
    assert "version=2&amp;show=all" in snapshot["nodes"]["short"]["html"]
    assert "3 contacts are still on version 1" in snapshot["still_on"]
    assert f"/scenarios/{stream.scenario_id}/stats?version=1" in snapshot["still_on"]


def test_the_live_counters_of_version_1_are_version_1s(stream: Stream) -> None:
    snapshot = stream.first(version=1)

    assert snapshot["version"] == 1
    assert set(snapshot["nodes"]) == {"start", "pause", "score"}
    assert snapshot["nodes"]["start"]["counts"]["entered"] == 3
    assert snapshot["nodes"]["pause"]["counts"]["waiting"] == 3
    assert snapshot["edges"]["start|out|pause"]["count"] == 3
    assert snapshot["still_on"] == "", "the version shown is not told of in words"
    assert stream.client.get(f"/scenarios/{stream.scenario_id}/live?version=5").status_code == 404
