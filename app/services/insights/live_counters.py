"""Live block counters for the canvas and the statistics page.

The engine keeps hot counters in Redis — a hash per version, ``{node}:{counter}`` fields,
HINCRBY after each committed chunk — and announces each chunk on the scenario's live channel
(``worker/engine/counters.py``; the app does not import the worker, so the two names are
repeated here). The canvas and the statistics page show one version's counters on that
version's graph — the live one unless another is asked for — never a sum over versions: a
block id may sit elsewhere in another version's graph, and contacts still on an older version
are told apart in words ("12 contacts are still on version 1"). A version whose hash is missing
or was not built from the step log (its ``~built`` field is absent: Redis was emptied, and the
engine has not rebuilt it yet) is read from the step log instead, which is exact. A count is
never shown below zero.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis
from sqlmodel import Session, col, select

from app.i18n import format_number, format_percent
from app.models import ScenarioVersion
from app.services.messaging.not_sent import NotSent, per_block
from app.services.scenarios.stats import BlockCounters, version_stats

COUNTERS_KEY = "parcours:counters:{version_id}"
BUILT = "~built"
LIVE_CHANNEL = "parcours:live:{scenario_id}"
COUNTER_NAMES = tuple(BlockCounters.model_fields)


@dataclass(frozen=True)
class EdgeShare:
    count: int
    share: float | None  # of the contacts that left the block, None when nobody has yet

    @property
    def label(self) -> str:
        if self.share is None:
            return ""
        if self.share >= 1 and self.count:
            return format_number(self.count)
        return f"{format_percent(self.share)} · {format_number(self.count)}"


@dataclass
class LiveCounters:
    nodes: dict[str, BlockCounters] = field(default_factory=dict)
    edges: dict[str, EdgeShare] = field(default_factory=dict)
    # Messages not sent at each block, by reason (``messaging.not_sent``): "2 not sent: no
    # consent" on the block, the same count as the Mailbox and the statistics.
    not_sent: dict[str, list[NotSent]] = field(default_factory=dict)


@dataclass(frozen=True)
class StillOn:
    """An older version that still holds contacts: "21 contacts are still on version 1"."""

    number: int
    active: int


def still_on_older(active: dict[int, int], live: int | None, shown: int | None) -> list[StillOn]:
    """The versions before the live one that still hold anyone (``active``: contacts by
    version number), other than the one shown, the newest first."""
    return [
        StillOn(number, count)
        for number, count in sorted(active.items(), reverse=True)
        if count and number != shown and live is not None and number < live
    ]


def scenario_versions(session: Session, scenario_id: int) -> list[ScenarioVersion]:
    return list(
        session.exec(
            select(ScenarioVersion)
            .where(ScenarioVersion.scenario_id == scenario_id)
            .order_by(col(ScenarioVersion.number))
        ).all()
    )


def _parse(raw: dict[Any, Any]) -> dict[str, dict[str, int]] | None:
    """A built hash's counts by block; None when the hash was not built from the step log."""
    fields = {(k.decode() if isinstance(k, bytes) else str(k)): v for k, v in raw.items()}
    if fields.pop(BUILT, None) is None:
        return None
    nodes: dict[str, dict[str, int]] = defaultdict(dict)
    for text, value in fields.items():
        node_id, _, counter = text.rpartition(":")
        nodes[node_id][counter] = max(0, int(value))
    return dict(nodes)


async def hot_counters(
    redis: Redis, version_ids: list[int]
) -> dict[int, dict[str, dict[str, int]]]:
    """Each version's Redis hash; versions without a built one are left out."""
    async with redis.pipeline(transaction=False) as pipe:
        for version_id in version_ids:
            pipe.hgetall(COUNTERS_KEY.format(version_id=version_id))
        raws = await pipe.execute()
    parsed = {vid: _parse(raw) for vid, raw in zip(version_ids, raws, strict=True)}
    return {vid: nodes for vid, nodes in parsed.items() if nodes is not None}


def exact_counters(session: Session, version: ScenarioVersion) -> dict[str, dict[str, int]]:
    stats = version_stats(session, version)
    return {node: counters.model_dump() for node, counters in stats.nodes.items()}


def block_counters(counts: dict[str, dict[str, int]]) -> dict[str, BlockCounters]:
    """One version's counts (a hash or the step log) as counters, unknown names left out."""
    return {
        node_id: BlockCounters(**{k: v for k, v in values.items() if k in COUNTER_NAMES})
        for node_id, values in counts.items()
    }


def edge_shares(graph: dict[str, Any], nodes: dict[str, BlockCounters]) -> dict[str, EdgeShare]:
    """How many contacts took each link, and their share of those who left the block."""
    shares: dict[str, EdgeShare] = {}
    for edge in graph.get("edges") or []:
        source, port = str(edge.get("from")), str(edge.get("port") or "out")
        counters = nodes.get(source, BlockCounters())
        if port in ("yes", "no"):
            count, left = getattr(counters, port), counters.yes + counters.no
        elif port != "out":
            # A split's branch or a switch's case: the counters do not tell the outputs of
            # such a block apart, and a link showing everyone who left it would be wrong.
            shares[f"{source}|{port}|{edge.get('to')}"] = EdgeShare(count=0, share=None)
            continue
        else:
            count = counters.completed + counters.skipped
            left = count
        share = count / left if left else None
        shares[f"{source}|{port}|{edge.get('to')}"] = EdgeShare(count=count, share=share)
    return shares


def live_counters(
    graph: dict[str, Any],
    counts: dict[str, dict[str, int]],
    unsent: list[NotSent] | None = None,
) -> LiveCounters:
    """One version's ``counts`` on ``graph``: its own graph, or the draft drawn from it."""
    nodes = block_counters(counts)
    for node in graph.get("nodes") or []:
        if isinstance(node, dict) and node.get("id"):
            nodes.setdefault(str(node["id"]), BlockCounters())
    return LiveCounters(
        nodes=nodes, edges=edge_shares(graph, nodes), not_sent=per_block(unsent or [])
    )


async def note_waiting_left(redis: Redis, scenario_id: int, version_id: int, node_id: str) -> None:
    """A contact taken off a wait by hand: the hot ``waiting`` counter follows the step log.

    Only a built hash is changed: another is rebuilt from the step log by the engine.
    """
    key = COUNTERS_KEY.format(version_id=version_id)
    if await redis.hexists(key, BUILT):  # type: ignore[misc]
        await redis.hincrby(key, f"{node_id}:waiting", -1)  # type: ignore[misc]
    await redis.publish(
        LIVE_CHANNEL.format(scenario_id=scenario_id),
        f'{{"scenario": {scenario_id}, "versions": [{version_id}]}}',
    )
