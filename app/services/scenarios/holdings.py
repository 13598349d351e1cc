"""Where a scenario's contacts are parked now: per version and block, how many journeys are
under way there (``active`` or ``waiting``). One grouped count, never a query per contact;
the publish plan shows it and a migration is checked against it (CONTRACTS-2 §B)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlmodel import Session, SQLModel

from app.models import EnrollmentState

ENROLLMENTS = SQLModel.metadata.tables["enrollments"]
VERSIONS = SQLModel.metadata.tables["scenario_versions"]
UNDER_WAY = (EnrollmentState.active.value, EnrollmentState.waiting.value)


@dataclass(frozen=True)
class Holding:
    version_id: int
    version: int  # its number, as people name it
    node_id: str
    contacts: int


def holdings(session: Session, scenario_id: int) -> list[Holding]:
    """Every (version, block) holding contacts, oldest version first, then by block id."""
    count = func.count().label("contacts")
    rows = session.execute(
        select(ENROLLMENTS.c.version_id, VERSIONS.c.number, ENROLLMENTS.c.node_id, count)
        .join(VERSIONS, VERSIONS.c.id == ENROLLMENTS.c.version_id)
        .where(
            ENROLLMENTS.c.scenario_id == scenario_id,
            ENROLLMENTS.c.state.in_(UNDER_WAY),
        )
        .group_by(ENROLLMENTS.c.version_id, VERSIONS.c.number, ENROLLMENTS.c.node_id)
        .order_by(VERSIONS.c.number, ENROLLMENTS.c.node_id)
    ).all()
    return [Holding(row.version_id, row.number, row.node_id, int(row.contacts)) for row in rows]
