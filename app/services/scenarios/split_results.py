"""The results of a version's random splits: per branch, who entered it and how many of them
reached the scenario's goal, with a 95 % interval, and whether one branch leads for sure.

Read from the step log in one grouped query for all the splits of the version: a split's step
row carries its branch (``detail.split.port``); a conversion is that journey's goal exit
(``insights.stats.is_goal``), which can only come after the split, a journey having no loops.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, distinct, func, not_
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from app.i18n import _, format_percent
from app.models import ScenarioVersion, StepLog, StepOutcome
from app.services.insights.stats import has_goal

Z95 = 1.959963984540054  # both tails of 95 %


@dataclass(frozen=True)
class BranchResult:
    port: str
    label: str
    percent: int
    entered: int
    conversions: int

    @property
    def rate(self) -> float | None:
        return self.conversions / self.entered if self.entered else None

    @property
    def interval(self) -> tuple[float, float] | None:
        return wilson(self.conversions, self.entered)


@dataclass(frozen=True)
class SplitResult:
    node_id: str
    branches: list[BranchResult]
    has_goal: bool

    @property
    def leader(self) -> tuple[BranchResult, BranchResult] | None:
        """The best branch and the runner-up, when the best converts better for sure (a
        two-proportion z-test at 95 %): beating the runner-up, it beats them all."""
        ranked = sorted(
            (b for b in self.branches if b.entered), key=lambda b: b.rate or 0.0, reverse=True
        )
        if not self.has_goal or len(ranked) < 2:
            return None
        best, second = ranked[0], ranked[1]
        return (best, second) if leads(best, second) else None

    @property
    def verdict(self) -> str:
        if not self.has_goal:
            return _("Set a goal in the scenario's settings to compare the branches.")
        found = self.leader
        if found is None:
            return _("No clear winner yet")
        best, second = found
        return _("%(branch)s converts better: %(rate)s vs %(other)s, 95 %% sure") % {
            "branch": best.label,
            "rate": format_percent(best.rate or 0.0, 1),
            "other": format_percent(second.rate or 0.0, 1),
        }


def wilson(successes: int, trials: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval of a proportion (sound with few trials or a rate near 0)."""
    if trials <= 0:
        return None
    p = successes / trials
    factor = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / factor
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / factor
    return max(0.0, centre - half), min(1.0, centre + half)


def leads(best: BranchResult, other: BranchResult, z: float = Z95) -> bool:
    """Whether ``best`` converts better than ``other`` at 95 % (pooled two-proportion test)."""
    n1, n2 = best.entered, other.entered
    if not n1 or not n2:
        return False
    pooled = (best.conversions + other.conversions) / (n1 + n2)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if spread == 0:
        return False
    return ((best.conversions / n1) - (other.conversions / n2)) / spread > z


def _splits(graph: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    nodes = graph.get("nodes") if isinstance(graph, Mapping) else None
    return [
        node
        for node in (nodes if isinstance(nodes, list) else [])
        if isinstance(node, Mapping)
        and (node.get("type"), node.get("kind")) == ("condition", "random_split")
    ]


def split_results(session: Session, version: ScenarioVersion | None) -> list[SplitResult]:
    """Every random split of ``version``, in the order of its graph (none: an empty list)."""
    if version is None:
        return []
    splits = _splits(version.graph)
    if not splits:
        return []
    step, goal = StepLog, aliased(StepLog)
    port = col(step.detail)[("split", "port")].as_string()
    goal_text = col(goal.detail)["text"].as_string()
    rows = session.exec(
        select(
            step.node_id,
            port,
            func.count(distinct(col(step.enrollment_id))),
            func.count(distinct(col(goal.enrollment_id))),
        )
        .select_from(step)
        .outerjoin(
            goal,
            and_(
                col(goal.enrollment_id) == col(step.enrollment_id),
                col(goal.outcome) == StepOutcome.exited.value,
                goal_text.like("%goal%"),
                not_(goal_text.like("removed by%")),
            ),
        )
        .where(
            step.version_id == version.id,
            col(step.node_id).in_([str(node["id"]) for node in splits]),
            step.outcome == StepOutcome.completed.value,
        )
        .group_by(step.node_id, port)
    ).all()
    counted = {(node_id, branch): (n, c) for node_id, branch, n, c in rows}
    goal_set = has_goal(version.graph)
    results = []
    for node in splits:
        config = node.get("config") if isinstance(node.get("config"), Mapping) else {}
        branches = config.get("branches") if isinstance(config, Mapping) else None
        shown = []
        for branch in branches if isinstance(branches, list) else []:
            if not isinstance(branch, Mapping) or not isinstance(branch.get("port"), str):
                continue
            entered, conversions = counted.get((str(node["id"]), branch["port"]), (0, 0))
            label = branch.get("label")
            percent = branch.get("percent")
            shown.append(
                BranchResult(
                    port=branch["port"],
                    label=label if isinstance(label, str) and label.strip() else branch["port"],
                    percent=percent if isinstance(percent, int) else 0,
                    entered=entered,
                    conversions=conversions,
                )
            )
        results.append(SplitResult(str(node["id"]), shown, goal_set))
    return results
