"""A send rate that is never exceeded in any one-second window.

The limiter remembers when each of the last ``rate`` sends happened (on the injected clock);
the next send waits until the oldest of them is a full second old. That is a sliding window,
so no second — aligned or not — ever sees more than ``rate`` sends. Waiting goes through an
injected ``sleep``, so tests drive it with a frozen clock and count instead of timing.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from app.clock import Clock

Sleep = Callable[[float], Awaitable[None]]
WINDOW = timedelta(seconds=1)


class RateLimiter:
    def __init__(self, per_second: float, clock: Clock, sleep: Sleep = asyncio.sleep) -> None:
        # A fractional rate (0.5/s) becomes "1 in any 2 seconds"; rounding down keeps it safe.
        self.capacity = max(1, math.floor(per_second)) if per_second >= 1 else 1
        self.window = WINDOW if per_second >= 1 else timedelta(seconds=1 / per_second)
        self._clock = clock
        self._sleep = sleep
        self._recent: deque[datetime] = deque()

    async def acquire(self) -> datetime:
        """Waits for a free slot; returns the time the send may happen."""
        while True:
            now = self._clock.now()
            while self._recent and now - self._recent[0] >= self.window:
                self._recent.popleft()
            if len(self._recent) < self.capacity:
                self._recent.append(now)
                return now
            wait = (self._recent[0] + self.window - now).total_seconds()
            await self._sleep(max(wait, 0.0005))

    def sent(self) -> None:
        """Marks the latest send finished now. Counting each send's slot from its end means
        any ``capacity + 1`` sends span at least a full window *as the server sees them*,
        whatever the network delays."""
        if self._recent:
            self._recent[-1] = self._clock.now()

    @property
    def last_send(self) -> datetime | None:
        return self._recent[-1] if self._recent else None
