"""Hot block counters in Redis, one increment per chunk, and the live-canvas fan-out.

The step log stays the truth; Redis holds a copy that is only ever incremented once it was
built from the log. A version's hash carries a ``~built`` field, set when it was rebuilt from
the step log: a hash without it (Redis was flushed or restarted empty, or it was never built)
is not incremented — the engine rebuilds it from the log after its commit instead, and readers
read the log meanwhile. Being a field of the hash itself, the mark cannot outlive the counts.
A chunk published while another worker rebuilds marks the version dirty, and the rebuilder
reads the log again before it writes; after a rebuild the version is also checked once more
when the engine is idle, so no chunk stays counted twice or lost.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Mapping

from redis.asyncio import Redis

from app.services.scenario_stats import ScenarioStats
from worker.engine.book import CounterKey

COUNTERS = "parcours:counters:{version_id}"
BUILT = "~built"
LIVE_CHANNEL = "parcours:live:{scenario_id}"
REBUILDING = "parcours:counters-rebuilding:{version_id}"
DIRTY = "parcours:counters-dirty:{version_id}"
REBUILD_ROUNDS = 5
RECHECK = "parcours:counters-recheck"  # sorted set: version id -> when to check again
RECHECK_AFTER_SECONDS = 5

# KEYS: one hash per version; ARGV: for each key, a field count then field, delta pairs.
# Increments only hashes that were built from the step log; returns the indexes of the others.
_INCREMENT = """
local missing = {}
local at = 1
for i, key in ipairs(KEYS) do
  local n = tonumber(ARGV[at])
  local built = redis.call('HEXISTS', key, '~built') == 1
  for j = 1, n do
    if built then redis.call('HINCRBY', key, ARGV[at + 2 * j - 1], ARGV[at + 2 * j]) end
  end
  if not built then table.insert(missing, i) end
  at = at + 1 + 2 * n
end
return missing
"""


async def publish(redis: Redis, counters: Mapping[CounterKey, int]) -> list[int]:
    """Adds a committed chunk's counts; returns the versions whose counts must be rebuilt."""
    changed: dict[int, dict[str, int]] = defaultdict(dict)
    scenarios: dict[int, set[int]] = defaultdict(set)
    for (scenario_id, version_id, node_id, name), delta in counters.items():
        if delta:
            changed[version_id][f"{node_id}:{name}"] = delta
            scenarios[scenario_id].add(version_id)
    if not changed:
        return []
    versions = list(changed)
    args: list[str] = []
    for version_id in versions:
        args.append(str(len(changed[version_id])))
        for field, delta in changed[version_id].items():
            args += [field, str(delta)]
    keys = [COUNTERS.format(version_id=v) for v in versions]
    missing = await redis.eval(_INCREMENT, len(keys), *keys, *args)  # type: ignore[misc]
    async with redis.pipeline(transaction=False) as pipe:
        for scenario_id, published in scenarios.items():
            message = json.dumps({"scenario": scenario_id, "versions": sorted(published)})
            pipe.publish(LIVE_CHANNEL.format(scenario_id=scenario_id), message)
        await pipe.execute()
    return [versions[int(index) - 1] for index in missing]


# KEYS: the hash, the dirty flag, the rebuilding claim, the recheck set. ARGV: the version,
# when to check again, whether to write even if dirty, then field, count pairs.
# Writes the counts unless a chunk was published meanwhile (then answers 0: read again).
_WRITE = """
if redis.call('DEL', KEYS[2]) == 1 and ARGV[3] == '0' then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('DEL', KEYS[3])
redis.call('ZADD', KEYS[4], 'NX', ARGV[2], ARGV[1])
return 1
"""


async def claim_rebuild(redis: Redis, version_id: int) -> bool:
    """Only one worker rebuilds a version at a time. Another that finds it rebuilding marks
    it dirty: its chunk may have committed after the rebuilder read the log."""
    if await redis.set(REBUILDING.format(version_id=version_id), 1, nx=True, ex=60):
        return True
    await redis.set(DIRTY.format(version_id=version_id), 1, ex=60)
    return False


async def write_rebuilt(
    redis: Redis, version_id: int, stats: ScenarioStats, *, final: bool = False
) -> bool:
    """Replaces a version's counts with the ones read from the step log, marked built;
    False (nothing written) when a chunk came in meanwhile and the log must be read again."""
    fields: list[str | int] = [BUILT, 1]
    for node_id, counters in stats.nodes.items():
        for name, count in counters.model_dump().items():
            if count:
                fields += [f"{node_id}:{name}", count]
    keys = [
        COUNTERS.format(version_id=version_id),
        DIRTY.format(version_id=version_id),
        REBUILDING.format(version_id=version_id),
        RECHECK,
    ]
    args = [version_id, time.time() + RECHECK_AFTER_SECONDS, int(final), *fields]
    written = await redis.eval(_WRITE, len(keys), *keys, *map(str, args))  # type: ignore[misc]
    return bool(written)


async def rebuild(redis: Redis, version_id: int, stats: ScenarioStats) -> None:
    await write_rebuilt(redis, version_id, stats, final=True)


async def unbuilt(redis: Redis, version_ids: list[int]) -> list[int]:
    """The versions whose counts Redis does not hold as built from the step log."""
    async with redis.pipeline(transaction=False) as pipe:
        for version_id in version_ids:
            pipe.hexists(COUNTERS.format(version_id=version_id), BUILT)
        built = await pipe.execute()
    return [v for v, ok in zip(version_ids, built, strict=True) if not ok]


async def due_rechecks(redis: Redis) -> list[int]:
    raw = await redis.zrangebyscore(RECHECK, "-inf", time.time())
    return [int(v) for v in raw]


async def checked(redis: Redis, version_id: int, stats: ScenarioStats) -> None:
    """The idle engine's last look after a rebuild: the log's counts, and no more checks."""
    await rebuild(redis, version_id, stats)
    await redis.zrem(RECHECK, str(version_id))


async def read(redis: Redis, version_id: int) -> dict[str, dict[str, int]]:
    raw = await redis.hgetall(COUNTERS.format(version_id=version_id))  # type: ignore[misc]
    nodes: dict[str, dict[str, int]] = defaultdict(dict)
    for field, value in raw.items():
        text = field.decode() if isinstance(field, bytes) else field
        if text == BUILT:
            continue
        node_id, _, name = text.rpartition(":")
        nodes[node_id][name] = int(value)
    return dict(nodes)
