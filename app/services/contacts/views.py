"""Reading contacts: the API's contact document, the timeline and the scenarios they are in."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, SQLModel, col

from app.i18n import _
from app.models import Contact, Enrollment, Event, Scenario, ScenarioVersion, StepLog
from app.services.contacts.contacts import json_value
from app.services.contacts.lists import contact_list_keys
from app.services.messaging.bounces import status_document as email_status_document
from app.services.messaging.topic_choices import topics_document
from app.services.scenarios.ref_names import block_titles

BUILTIN_OUT = (
    "email",
    "phone",
    "first_name",
    "last_name",
    "birthday",
    "timezone",
    "language",
    "score",
)


def consent_view(contact: Contact) -> dict[str, Any]:
    return {
        channel: {
            "granted": bool(getattr(contact, f"{channel}_consent")),
            "source": getattr(contact, f"{channel}_consent_source"),
            "at": json_value(getattr(contact, f"{channel}_consent_at")),
        }
        for channel in ("email", "sms")
    }


def contact_document(
    session: Session, contact: Contact, *, with_enrollments: bool = True
) -> dict[str, Any]:
    assert contact.id is not None
    document: dict[str, Any] = {"id": contact.id, "external_id": contact.external_id}
    document.update({name: json_value(getattr(contact, name)) for name in BUILTIN_OUT})
    document["attributes"] = dict(contact.attributes or {})
    document["consent"] = consent_view(contact)
    document.update(email_status_document(contact))  # bounced / complained (DESIGN §12.4)
    document["lists"] = contact_list_keys(session, [contact.id])[contact.id]
    document["topics"] = topics_document(session, contact.id)
    if with_enrollments:
        document["enrollments"] = [e.as_json() for e in enrollments_of(session, contact.id)]
    document["created_at"] = json_value(contact.created_at)
    document["updated_at"] = json_value(contact.updated_at)
    return document


class EnrollmentRow:
    def __init__(self, enrollment: Enrollment, scenario_name: str) -> None:
        self.enrollment = enrollment
        self.scenario_name = scenario_name

    def as_json(self) -> dict[str, Any]:
        e = self.enrollment
        return {
            "id": e.id,
            "scenario_id": e.scenario_id,
            "scenario": self.scenario_name,
            "state": str(e.state),
            "node": e.node_id,
            "entered_at": json_value(e.entered_at),
            "ended_at": json_value(e.ended_at),
        }


def block_places(session: Session, rows: Sequence[EnrollmentRow]) -> dict[int, str]:
    """Where each journey is, as the canvas names that block ("Send an email"), not its id;
    read from the versions the journeys are on (one query)."""
    version_ids = {row.enrollment.version_id for row in rows}
    if not version_ids:
        return {}
    graphs = dict(
        session.execute(
            select(col(ScenarioVersion.id), col(ScenarioVersion.graph)).where(
                col(ScenarioVersion.id).in_(version_ids)
            )
        ).all()
    )
    titles = block_titles()
    places: dict[int, str] = {}
    for row in rows:
        nodes = (graphs.get(row.enrollment.version_id) or {}).get("nodes") or []
        node = next((n for n in nodes if n.get("id") == row.enrollment.node_id), None)
        title = titles.get((node.get("type"), node.get("kind"))) if node else None
        if row.enrollment.id is not None:
            places[row.enrollment.id] = title or _("A block no longer in the scenario")
    return places


def enrollments_of(session: Session, contact_id: int) -> list[EnrollmentRow]:
    rows = session.execute(
        select(Enrollment, col(Scenario.name))
        .join(Scenario, col(Scenario.id) == col(Enrollment.scenario_id))
        .where(col(Enrollment.contact_id) == contact_id)
        .order_by(col(Enrollment.entered_at).desc())
    ).all()
    return [EnrollmentRow(row[0], row[1]) for row in rows]


def timeline(
    session: Session, contact_id: int, *, before: int | None = None, limit: int = 50
) -> Sequence[Event]:
    """The contact's events, newest first (by id: the order Parcours received them)."""
    query = select(Event).where(col(Event.contact_id) == contact_id)
    if before is not None:
        query = query.where(col(Event.id) < before)
    return session.scalars(query.order_by(col(Event.id).desc()).limit(limit)).all()


def event_json(event: Event) -> dict[str, Any]:
    return {
        "id": event.uid,
        "name": event.name,
        "properties": event.properties,
        "occurred_at": json_value(event.occurred_at),
        "received_at": json_value(event.received_at),
    }


def table_rows(session: Session, name: str, contact_id: int) -> list[dict[str, Any]]:
    """Every row of ``name`` that belongs to the contact, as JSON-ready dicts (for the export);
    tables owned by other parts of Parcours are read through the metadata, if they exist."""
    table = SQLModel.metadata.tables.get(name)
    if table is None or "contact_id" not in table.c:
        return []
    query = select(table).where(table.c.contact_id == contact_id)
    if name == "step_log":
        query = contact_steps(contact_id)
    rows = session.execute(query).mappings()
    return [{key: _plain(value) for key, value in row.items()} for row in rows]


def _plain(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    return json_value(value)


def contact_steps(contact_id: int) -> Any:
    """The step-log rows of one contact's journeys, found through their enrollments."""
    enrollments = select(col(Enrollment.id)).where(col(Enrollment.contact_id) == contact_id)
    return select(StepLog).where(col(StepLog.enrollment_id).in_(enrollments))


def journeys(session: Session, contact_id: int) -> list[dict[str, Any]]:
    """Every enrollment of the contact with its trace (the step log), oldest step first."""
    steps: dict[int, list[dict[str, Any]]] = {}
    query = contact_steps(contact_id).order_by(col(StepLog.enrollment_id), col(StepLog.seq))
    for step in session.scalars(query):
        steps.setdefault(step.enrollment_id, []).append(
            {
                "node": step.node_id,
                "seq": step.seq,
                "outcome": step.outcome,
                "detail": step.detail,
                "at": json_value(step.at),
            }
        )
    return [
        {**row.as_json(), "steps": steps.get(row.enrollment.id or 0, [])}
        for row in enrollments_of(session, contact_id)
    ]
