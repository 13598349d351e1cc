"""After a migration committed: the hot block counters of the versions it touched follow.

A migration moves thousands of journeys in one go, between versions, and its counts are in the
step log (``migrated`` rows) and the enrollments. Rather than add deltas the engine's own
increments could race, the touched versions' Redis hashes are dropped: readers then read
those versions from the step log (exact) until the engine rebuilds them — after its next chunk
there or when it is idle (``worker/engine/counters.py``; the app does not import the worker,
so the key names are repeated). The dirty mark makes a rebuild that read the log before this
commit read it again rather than write old counts.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from redis.asyncio import Redis

from app.services.insights.live_counters import COUNTERS_KEY, LIVE_CHANNEL

DIRTY = "parcours:counters-dirty:{version_id}"
DIRTY_SECONDS = 60  # as long as a rebuild's claim lasts


async def counters_moved(redis: Redis, scenario_id: int, version_ids: Iterable[int]) -> None:
    versions = sorted(set(version_ids))
    if not versions:
        return
    async with redis.pipeline(transaction=True) as pipe:
        for version_id in versions:
            pipe.set(DIRTY.format(version_id=version_id), 1, ex=DIRTY_SECONDS)
            pipe.delete(COUNTERS_KEY.format(version_id=version_id))
        message = json.dumps({"scenario": scenario_id, "versions": versions})
        pipe.publish(LIVE_CHANNEL.format(scenario_id=scenario_id), message)
        await pipe.execute()
