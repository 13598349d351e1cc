"""Hot block counters in Redis, one increment per chunk, and the live-canvas fan-out.

The step log stays the truth; Redis holds a copy that is only ever incremented once it was
built from the log. A version's hash carries a ``~built`` field, set when it was rebuilt from
the step log: a hash without it (Redis was flushed or restarted empty, or it was never built)
is not incremented — the engine rebuilds it from the log after its commit instead, and readers
read the log meanwhile. Being a field of the hash itself, the mark cannot outlive the counts.
A chunk published while another worker rebuilds marks the version dirty, and the rebuilder
reads the log again before it writes. Every version that moved is also read from the log
once the engine has been idle a while (``RECHECK_AFTER_SECONDS`` after its last chunk), under
the same claim: a chunk committed by a worker killed before it published, or counted twice
in a race with a rebuild, is set right then.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Mapping

from redis.asyncio import Redis

from app.services.scenarios.stats import ScenarioStats
from worker.engine.book import CounterKey

COUNTERS = "parcours:counters:{version_id}"
BUILT = "~built"
LIVE_CHANNEL = "parcours:live:{scenario_id}"
REBUILDING = "parcours:counters-rebuilding:{version_id}"
DIRTY = "parcours:counters-dirty:{version_id}"
REBUILD_ROUNDS = 5
RECHECK = "parcours:counters-recheck"  # sorted set: version id -> when to check again
RECHECK_AFTER_SECONDS = 30

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
        recheck_at = time.time() + RECHECK_AFTER_SECONDS
        pipe.zadd(RECHECK, {str(version_id): recheck_at for version_id in versions})
        for scenario_id, published in scenarios.items():
            message = json.dumps({"scenario": scenario_id, "versions": sorted(published)})
            pipe.publish(LIVE_CHANNEL.format(scenario_id=scenario_id), message)
        await pipe.execute()
    return [versions[int(index) - 1] for index in missing]


# KEYS: the hash, the dirty flag, the rebuilding claim. ARGV: whether to write even if
# dirty, then field, count pairs. Writes the counts unless a chunk was published meanwhile
# (then answers 0: read the log again); lets the claim go either way.
_WRITE = """
if redis.call('DEL', KEYS[2]) == 1 and ARGV[1] == '0' then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('DEL', KEYS[3])
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
    ]
    args = [int(final), *fields]
    written = await redis.eval(_WRITE, len(keys), *keys, *map(str, args))  # type: ignore[misc]
    return bool(written)


async def let_go(redis: Redis, version_id: int) -> None:
    await redis.delete(REBUILDING.format(version_id=version_id))


async def unbuilt(redis: Redis, version_ids: list[int]) -> list[int]:
    """The versions whose counts Redis does not hold as built from the step log."""
    async with redis.pipeline(transaction=False) as pipe:
        for version_id in version_ids:
            pipe.hexists(COUNTERS.format(version_id=version_id), BUILT)
        built = await pipe.execute()
    return [v for v, ok in zip(version_ids, built, strict=True) if not ok]


async def due_rechecks(redis: Redis) -> dict[int, float]:
    """The versions to read from the log again now, with when each was due."""
    raw = await redis.zrangebyscore(RECHECK, "-inf", time.time(), withscores=True)
    return {int(v): float(score) for v, score in raw}


async def checked(redis: Redis, version_id: int, due_at: float) -> None:
    """No more checks for this version, unless a chunk moved it since (its check is later)."""
    await redis.eval(_FORGET, 1, RECHECK, str(version_id), str(due_at))  # type: ignore[misc]


_FORGET = """
local due = redis.call('ZSCORE', KEYS[1], ARGV[1])
if due and tonumber(due) <= tonumber(ARGV[2]) then redis.call('ZREM', KEYS[1], ARGV[1]) end
return 0
"""


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
