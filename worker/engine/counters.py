"""Hot block counters in Redis, one increment per chunk, and the live-canvas fan-out.

The step log stays the truth: :func:`rebuild` rewrites a version's counters from it (used when
Redis was lost, and by the tests to check both agree).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping

from redis.asyncio import Redis

from app.services.scenario_stats import ScenarioStats
from worker.engine.book import CounterKey

COUNTERS = "parcours:counters:{version_id}"
LIVE_CHANNEL = "parcours:live:{scenario_id}"


async def publish(redis: Redis, counters: Mapping[CounterKey, int]) -> None:
    changed = {key: delta for key, delta in counters.items() if delta}
    if not changed:
        return
    scenarios: dict[int, set[int]] = defaultdict(set)
    async with redis.pipeline(transaction=False) as pipe:
        for (scenario_id, version_id, node_id, name), delta in changed.items():
            pipe.hincrby(COUNTERS.format(version_id=version_id), f"{node_id}:{name}", delta)
            scenarios[scenario_id].add(version_id)
        for scenario_id, versions in scenarios.items():
            message = json.dumps({"scenario": scenario_id, "versions": sorted(versions)})
            pipe.publish(LIVE_CHANNEL.format(scenario_id=scenario_id), message)
        await pipe.execute()


async def read(redis: Redis, version_id: int) -> dict[str, dict[str, int]]:
    raw = await redis.hgetall(COUNTERS.format(version_id=version_id))  # type: ignore[misc]
    nodes: dict[str, dict[str, int]] = defaultdict(dict)
    for field, value in raw.items():
        node_id, _, name = (field.decode() if isinstance(field, bytes) else field).rpartition(":")
        nodes[node_id][name] = int(value)
    return dict(nodes)


async def rebuild(redis: Redis, version_id: int, stats: ScenarioStats) -> None:
    key = COUNTERS.format(version_id=version_id)
    values = {
        f"{node_id}:{name}": count
        for node_id, counters in stats.nodes.items()
        for name, count in counters.model_dump().items()
        if count
    }
    async with redis.pipeline(transaction=True) as pipe:
        pipe.delete(key)
        if values:
            pipe.hset(key, mapping=values)
        await pipe.execute()
