"""Compiled plans, loaded once per version (published versions never change)."""

from __future__ import annotations

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

    def events_heard(self, session: Session) -> frozenset[str]:
        """What the event names of scenarios that are running or paused react to; an event
        no one hears is written already matched, and the trigger matcher never reads it."""
        version_ids = session.execute(
            select(VERSIONS.c.id)
            .join(SCENARIOS, SCENARIOS.c.id == VERSIONS.c.scenario_id)
            .where(SCENARIOS.c.status != ScenarioStatus.draft.value)
        ).scalars()
        heard: set[str] = set()
        for plan in self.many(session, set(version_ids)).values():
            heard |= plan.events_heard()
        return frozenset(heard)

    def live(self, session: Session) -> list[LiveScenario]:
        """The version that new contacts enter, for every active scenario."""
        rows = session.execute(
            select(SCENARIOS.c.id, VERSIONS.c.id)
            .join(
                VERSIONS,
                (VERSIONS.c.scenario_id == SCENARIOS.c.id)
                & (VERSIONS.c.number == SCENARIOS.c.live_version),
            )
            .where(SCENARIOS.c.status == ScenarioStatus.active.value)
        ).all()
        plans = self.many(session, {version_id for _, version_id in rows})
        return [LiveScenario(s, v, plans[v]) for s, v in rows]
