"""Scenarios (drafts, versions and activation come with the scenario-graph issue)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from app.models import Scenario


def list_scenarios(session: Session) -> Sequence[Scenario]:
    return session.exec(select(Scenario).order_by(col(Scenario.updated_at).desc())).all()
