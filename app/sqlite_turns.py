"""Turns at SQLite's single write lock, so web requests are not starved by the engine.

SQLite's busy handler polls with growing sleeps, so a worker that commits and begins again at
once — the engine, chunk after chunk — can keep the write lock for as long as it has work, and
a web request waiting behind it failed with "database is locked". A web write says it is
waiting by holding a shared lock on a file beside the database until it has the write lock;
a background writer, after each commit, waits while anyone holds it. Web writes also queue
among themselves on a second file, so one at a time polls SQLite's lock rather than all of
them racing it. Kernel locks: free when nobody waits, released if the waiting process dies.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine

try:
    import fcntl
except ImportError:  # not POSIX: no turns, SQLite's busy timeout alone
    fcntl = None  # type: ignore[assignment]

BACKGROUND = "parcours_background_writer"
LONGEST_WAIT_SECONDS = 2.0


def turns_file(engine: Engine) -> Path | None:
    """The file web writers hold while they wait, for a file-backed SQLite database."""
    if engine.dialect.name != "sqlite" or fcntl is None:
        return None
    database = engine.url.database
    if not database or database == ":memory:":
        return None
    return Path(database + "-turns")


def background(engine: Engine) -> Engine:
    """The engine as the worker uses it: its writes do not queue as web writes do."""
    return engine.execution_options(**{BACKGROUND: True})


@contextmanager
def waiting_for_write(path: Path | None) -> Iterator[None]:
    if path is None:
        yield
        return
    waiting = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    queue = os.open(path.with_name(path.name + "-queue"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(waiting, fcntl.LOCK_SH)
        fcntl.flock(queue, fcntl.LOCK_EX)
        yield
    finally:
        os.close(queue)  # closing lets the locks go
        os.close(waiting)


def writers_waiting(path: Path) -> bool:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


async def let_web_writers_in(path: Path | None) -> None:
    """Between two transactions of a background writer: wait while a web write waits."""
    if path is None:
        return
    deadline = time.monotonic() + LONGEST_WAIT_SECONDS
    # Polling a kernel lock: there is no event to wait on across processes.
    while writers_waiting(path) and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.005)
