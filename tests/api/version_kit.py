"""A welcome scenario with three published versions, their authors and the contacts still
on them: what the version history tests read (issue 16 point 5)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any

from sqlmodel import Session, func, select

from app.models import (
    Contact,
    ContactList,
    Enrollment,
    EnrollmentState,
    MessageTemplate,
    ScenarioVersion,
    User,
)
from app.services.account.users import create_user
from app.services.scenarios import scenarios as scenario_service

OCT_3 = datetime(2025, 10, 3, 9, 0, tzinfo=UTC)
OCT_10 = datetime(2025, 10, 10, 9, 0, tzinfo=UTC)
OCT_20 = datetime(2025, 10, 20, 9, 0, tzinfo=UTC)


def node(node_id: str, block: str, config: dict[str, Any], x: int = 0) -> dict[str, Any]:
    block_type, kind = block.split(".")
    return {"id": node_id, "type": block_type, "kind": kind, "config": config, "x": x, "y": 0}


def welcome(wait_days: int, steps: list[dict[str, Any]], settings: str = "once") -> dict[str, Any]:
    """Joined the newsletter → hello → wait → ``steps``, one after the other."""
    nodes = [
        node("joined", "trigger.list_added", {"list": "newsletter"}),
        node("hello", "action.send_email", {"message": "hello"}, 250),
        node("wait", "delay.wait", {"seconds": wait_days * 86400}, 500),
        *steps,
    ]
    edges = [{"from": a["id"], "to": b["id"]} for a, b in pairwise(nodes)]
    return {"schema": 1, "nodes": nodes, "edges": edges, "settings": {"reentry": settings}}


V1 = welcome(3, [node("reminder", "action.send_email", {"message": "reminder"}, 750)])
V2 = welcome(
    1,
    [
        node("tips", "action.send_email", {"message": "tips"}, 750),
        node("done", "action.exit", {}, 1000),
    ],
)
V3 = copy.deepcopy(V2)
V3["settings"]["reentry"] = "always"
V3["nodes"][0]["x"] = -40  # moved: not a change


def publish(
    session: Session, scenario_id: int, graph: dict[str, Any], at: datetime, by: User | None
) -> None:
    scenario = scenario_service.get_scenario(session, scenario_id)
    scenario_service.save_draft(
        session, scenario_id, graph, revision=scenario.draft_revision, now=at
    )
    scenario_service.activate(session, scenario_id, now=at, user_id=by.id if by else None)


def still_on(session: Session, scenario_id: int, number: int, states: list[str]) -> None:
    version = session.exec(
        select(ScenarioVersion).where(
            ScenarioVersion.scenario_id == scenario_id, ScenarioVersion.number == number
        )
    ).one()
    for i, state in enumerate(states):
        contact = Contact(email=f"v{number}-{i}-{scenario_id}@example.com")
        session.add(contact)
        session.flush()
        session.add(
            Enrollment(
                scenario_id=scenario_id,
                version_id=version.id or 0,
                contact_id=contact.id or 0,
                node_id="wait",
                state=EnrollmentState(state),
            )
        )


def three_versions(session: Session) -> int:
    """Version 1 by Anne on 3 Oct, 2 by bob (no name) on 10 Oct, 3 over the API on 20 Oct
    (live); three contacts still on version 1 (one finished), one on version 2."""
    session.add(ContactList(key="newsletter", name="Newsletter"))
    for key, name in [("hello", "Hello"), ("reminder", "Reminder"), ("tips", "Tips")]:
        session.add(MessageTemplate(key=key, name=name, subject=name))
    anne = create_user(session, email="anne@shop.example", password="x" * 12, name="Anne")
    bob = create_user(session, email="bob@shop.example", password="x" * 12)
    scenario = scenario_service.create_scenario(session, name="Welcome", graph=V1, now=OCT_3)
    scenario_id = scenario.id or 0
    publish(session, scenario_id, V1, OCT_3, anne)
    still_on(session, scenario_id, 1, ["waiting", "waiting", "active", "completed"])
    publish(session, scenario_id, V2, OCT_10, bob)
    still_on(session, scenario_id, 2, ["waiting", "exited"])
    publish(session, scenario_id, V3, OCT_20, None)
    session.commit()
    return scenario_id


def versions_count(session: Session, scenario_id: int) -> int:
    return session.exec(
        select(func.count()).where(ScenarioVersion.scenario_id == scenario_id)
    ).one()
