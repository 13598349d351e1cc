"""A live welcome scenario with contacts parked in it, the drafts that change it, and the
engine on the same frozen clock as the API (CONTRACTS-2 §B, issue 16)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response
from sqlmodel import Session, col, select

from app.models import Contact, Enrollment, ScenarioVersion, StepLog
from app.services.scenarios.stats import version_stats
from tests.worker.engine_harness import Engine

DAY = 86_400


def node(node_id: str, block_type: str, kind: str, **config: Any) -> dict[str, Any]:
    return {"id": node_id, "type": block_type, "kind": kind, "config": config}


def welcome(*middle: dict[str, Any], **settings: Any) -> dict[str, Any]:
    """signup → the middle blocks in a row → the "reminder" email."""
    nodes = [
        node("start", "trigger", "event", event="signup"),
        *middle,
        node("reminder", "action", "send_email", message="reminder"),
    ]
    ids = [n["id"] for n in nodes]
    return {
        "schema": 1,
        "nodes": nodes,
        "edges": [{"from": a, "to": b} for a, b in pairwise(ids)],
        "settings": {"reentry": "always", **settings},
    }


def wait(node_id: str, days: int) -> dict[str, Any]:
    return node(node_id, "delay", "wait", seconds=days * DAY)


LIVE = welcome(wait("wait3", 3))  # version 1: three days before the reminder
SHORTER = welcome(wait("wait1", 1))  # the change: one day, in a new block


@dataclass
class Shop:
    """The API and the engine over one session (the app's requests use it too)."""

    api: TestClient
    flow: Engine
    scenario_id: int

    @property
    def session(self) -> Session:
        return self.flow.session

    def now(self) -> datetime:
        return self.flow.clock.now()

    def signups(self, count: int) -> list[Contact]:
        """``count`` new contacts sign up; the engine runs their first steps."""
        people = [self.flow.contact() for _ in range(count)]
        for person in people:
            self.flow.event(person, "signup")
        self.flow.run()
        return people

    def draft(self, graph: dict[str, Any]) -> None:
        current = self.api.get(f"/api/v1/scenarios/{self.scenario_id}").json()["revision"]
        saved = self.api.put(
            f"/api/v1/scenarios/{self.scenario_id}/graph",
            json={"graph": graph, "revision": current},
        )
        assert saved.status_code == 200, saved.text

    def plan(self) -> dict[str, Any]:
        answer = self.api.get(f"/api/v1/scenarios/{self.scenario_id}/publish-plan")
        assert answer.status_code == 200, answer.text
        plan: dict[str, Any] = answer.json()
        return plan

    def publish(self, **body: Any) -> Response:
        answer = self.api.post(f"/api/v1/scenarios/{self.scenario_id}/activate", json=body)
        self.session.expire_all()
        return answer

    def journeys(self) -> list[Enrollment]:
        self.session.expire_all()
        query = (
            select(Enrollment)
            .where(Enrollment.scenario_id == self.scenario_id)
            .order_by(col(Enrollment.id))
        )
        return list(self.session.exec(query).all())

    def version_id(self, number: int) -> int:
        query = select(ScenarioVersion.id).where(
            ScenarioVersion.scenario_id == self.scenario_id, ScenarioVersion.number == number
        )
        found = self.session.exec(query).one()
        assert found is not None
        return found

    def numbers(self) -> dict[int, int]:
        """Version id -> number."""
        query = select(ScenarioVersion).where(ScenarioVersion.scenario_id == self.scenario_id)
        return {v.id: v.number for v in self.session.exec(query) if v.id is not None}

    def where(self) -> list[tuple[int, str, str]]:
        """Each journey as (version number, block, state), in enrollment order."""
        numbers = self.numbers()
        return [(numbers[e.version_id], e.node_id, str(e.state)) for e in self.journeys()]

    def steps(self, contact: Contact) -> list[tuple[int, str, str]]:
        """A contact's step log as (version number, block, outcome)."""
        numbers = self.numbers()
        rows = self.session.exec(
            select(StepLog.version_id, StepLog.node_id, StepLog.outcome)
            .where(StepLog.contact_id == contact.id, StepLog.scenario_id == self.scenario_id)
            .order_by(col(StepLog.enrollment_id), col(StepLog.seq))
        ).all()
        return [(numbers[v], n, o) for v, n, o in rows]

    def counters(self, number: int) -> dict[str, dict[str, int]]:
        """A version's block counters from the step log, blocks and counts that are not 0."""
        version = self.session.get(ScenarioVersion, self.version_id(number))
        stats = version_stats(self.session, version)
        return {
            block: {name: count for name, count in counters.model_dump().items() if count}
            for block, counters in stats.nodes.items()
            if any(counters.model_dump().values())
        }

    def sent_to(self) -> list[int | None]:
        return [contact for contact, _, _ in self.flow.sent()]


def open_shop(client: TestClient, api_key: str, session: Session) -> Shop:
    """The LIVE welcome scenario, activated through the API on the engine's clock."""
    flow = Engine(session)
    flow.message("reminder")
    client.app.state.clock = flow.clock  # type: ignore[attr-defined]
    client.headers["Authorization"] = f"Bearer {api_key}"
    created = client.post("/api/v1/scenarios", json={"name": "Welcome", "graph": LIVE})
    assert created.status_code == 201, created.text
    shop = Shop(client, flow, int(created.json()["id"]))
    assert shop.publish().status_code == 200
    return shop
