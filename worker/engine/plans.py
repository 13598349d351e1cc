"""Compiled plans, loaded once per version (published versions never change)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session, SQLModel

from app.graph import Plan
from app.models import ScenarioStatus

SCENARIOS = SQLModel.metadata.tables["scenarios"]
VERSIONS = SQLModel.metadata.tables["scenario_versions"]


@dataclass(frozen=True)
class LiveScenario:
    scenario_id: int
    version_id: int
    plan: Plan


class Plans:
    def __init__(self) -> None:
        self._by_version: dict[int, Plan] = {}

    def get(self, session: Session, version_id: int) -> Plan:
        plan = self._by_version.get(version_id)
        if plan is None:
            raw = session.execute(
                select(VERSIONS.c.plan).where(VERSIONS.c.id == version_id)
            ).scalar_one()
            plan = self._by_version[version_id] = Plan.model_validate(raw)
        return plan

    def many(self, session: Session, version_ids: set[int]) -> dict[int, Plan]:
        missing = version_ids - self._by_version.keys()
        if missing:
            for version_id, raw in session.execute(
                select(VERSIONS.c.id, VERSIONS.c.plan).where(VERSIONS.c.id.in_(missing))
            ):
                self._by_version[version_id] = Plan.model_validate(raw)
        return {v: self._by_version[v] for v in version_ids}

    def published(self, session: Session) -> dict[int, Plan]:
        """Every published version's plan (a scenario gets its first on activation)."""
        return self.many(session, set(session.execute(select(VERSIONS.c.id)).scalars()))

    def events_heard(self, session: Session) -> frozenset[str]:
        return events_heard(self.published(session).values())

    def live(self, session: Session) -> list[LiveScenario]:
        """The version that new contacts enter, for every active scenario."""
        rows = session.execute(
            select(SCENARIOS.c.id, VERSIONS.c.id)
            .join(
                VERSIONS,
                (VERSIONS.c.scenario_id == SCENARIOS.c.id)
                & (VERSIONS.c.number == SCENARIOS.c.live_version),
            )
            # An archived scenario is never active (it must be paused first), but an activation
            # racing the archiving could leave it so: it admits nobody all the same.
            .where(
                SCENARIOS.c.status == ScenarioStatus.active.value,
                SCENARIOS.c.archived_at.is_(None),
            )
        ).all()
        plans = self.many(session, {version_id for _, version_id in rows})
        return [LiveScenario(s, v, plans[v]) for s, v in rows]


def events_heard(plans: Iterable[Plan]) -> frozenset[str]:
    """The event names these plans react to (triggers, waits, goals): a system event no one
    hears is written already matched, and the trigger matcher never reads it."""
    heard: set[str] = set()
    for plan in plans:
        heard |= plan.events_heard()
    return frozenset(heard)
