"""Real worker processes (``parcours worker``) for the reliability tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

WAIT_LIMIT_SECONDS = 90


class Workers:
    def __init__(self, database_url: str, redis_url: str, data_dir: Path) -> None:
        self.env = {
            **os.environ,
            "PARCOURS_DATABASE_URL": database_url,
            "PARCOURS_REDIS_URL": redis_url,
            "PARCOURS_DATA_DIR": str(data_dir),
            "PARCOURS_ENV": "test",
            # Small chunks, so that a kill lands in the middle of the run.
            "PARCOURS_ENGINE_CHUNK_SIZE": "200",
        }
        self.log = data_dir / "workers.log"
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, count: int = 1) -> None:
        for _ in range(count):
            with self.log.open("ab") as log:
                self.processes.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "worker"],
                        env=self.env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )

    def kill_one(self) -> None:
        """SIGKILL: no shutdown hook runs, a chunk in progress is cut where it stands."""
        process = self.processes.pop(0)
        process.send_signal(signal.SIGKILL)
        process.wait()

    def kill(self, pid: int) -> None:
        """SIGKILL the worker with this process id."""
        process = next(p for p in self.processes if p.pid == pid)
        self.processes.remove(process)
        process.send_signal(signal.SIGKILL)
        process.wait()

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        self.processes.clear()


@contextmanager
def running_workers(database_url: str, redis_url: str, data_dir: Path) -> Iterator[Workers]:
    workers = Workers(database_url, redis_url, data_dir)
    try:
        yield workers
    finally:
        workers.stop()


def quiet_for(seconds: float, size: Callable[[], int]) -> Callable[[], bool]:
    """A condition that holds once ``size()`` has not changed for ``seconds``."""
    seen = {"size": -1, "since": time.monotonic()}

    def quiet() -> bool:
        now = size()
        if now != seen["size"]:
            seen.update(size=now, since=time.monotonic())
        return time.monotonic() - seen["since"] > seconds

    return quiet


def wait_until(condition: Callable[[], bool], what: str, limit: float = WAIT_LIMIT_SECONDS) -> None:
    """Polls ``condition`` (no fixed sleeps: the test goes on as soon as it holds)."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)
