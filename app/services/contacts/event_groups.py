"""Group commit for event intake: requests that arrive together are written together.

A request hands its checked events to the process's writer and waits. The writer takes
everything queued so far, writes it in one transaction in a worker thread and commits, then
answers every request of the group; what arrived meanwhile is the next group. Under load many
requests share one commit and one thread hop (the costs that dominated single-event intake),
while a lone request is written at once with no added delay. Every request is still answered
only after its own events are committed, and stays all-or-nothing: a request naming an unknown
contact id fails alone, and if the group's write fails, each request is written again on its
own. The writer owns its transactions, as a route owns a request's.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from app.db import is_database_locked
from app.services.contacts.events import (
    EventIn,
    EventsRefused,
    Ingested,
    check_contacts,
    write_events,
)

log = logging.getLogger("parcours.events")

# Events per transaction at most: a burst of batches is written as several groups rather than
# one long transaction that would keep the database's write lock for seconds.
GROUP_EVENTS = 5_000
LINGER_TURNS = 8


@dataclass
class _Request:
    events: Sequence[EventIn]
    batch: bool
    now: datetime
    answer: asyncio.Future[Ingested] = field(repr=False)
    # Noted by the worker thread; futures belong to the event loop, which hands these over.
    result: Ingested | None = None
    error: BaseException | None = None

    def settle(self) -> None:
        if self.answer.done():
            return
        if self.error is not None:
            self.answer.set_exception(self.error)
        elif self.result is not None:
            self.answer.set_result(self.result)
        else:
            self.answer.set_exception(RuntimeError("the event writer stopped before writing"))


class GroupWriter:
    def __init__(
        self,
        open_session: Callable[[], AbstractContextManager[Session]],
        after_commit: Callable[[], Coroutine[Any, Any, None]] | None = None,
    ) -> None:
        self.open_session = open_session
        self.after_commit = after_commit
        self._queue: list[_Request] = []
        self._draining: asyncio.Task[None] | None = None
        self._waking: set[asyncio.Task[None]] = set()

    async def write(self, events: Sequence[EventIn], now: datetime, *, batch: bool) -> Ingested:
        """Stores the events (committed when this returns); raises what ``ingest`` raises."""
        mine = _Request(events, batch, now, asyncio.get_running_loop().create_future())
        self._queue.append(mine)
        if self._draining is None:
            self._draining = asyncio.create_task(self._drain())
        # Shielded: a caller that goes away does not cancel the group's write for the others.
        return await asyncio.shield(mine.answer)

    async def _drain(self) -> None:
        loaded = False
        try:
            while self._queue:
                if loaded:
                    await self._let_arrivals_join()
                group = self._next_group()
                loaded = len(group) > 1
                try:
                    await run_in_threadpool(self._write, group)
                finally:
                    for request in group:
                        request.settle()
                if self.after_commit is not None:
                    # Not awaited: the next group need not wait for the engine's wake-up call.
                    task = asyncio.create_task(self.after_commit())
                    self._waking.add(task)
                    task.add_done_callback(self._waking.discard)
        finally:
            self._draining = None
            if self._queue:  # left by a write that failed outright: keep answering
                self._draining = asyncio.create_task(self._drain())

    async def _let_arrivals_join(self) -> None:
        """Under load, a few turns of the event loop before taking the group: requests already
        read and being parsed join it, so that groups grow with the load instead of the
        writer's thread taking the interpreter from them (a group's fixed cost — a
        transaction, a commit, a thread hop — is most of a small group's). A lone request is
        written at once."""
        for _ in range(LINGER_TURNS):
            queued = len(self._queue)
            await asyncio.sleep(0)
            if len(self._queue) == queued:
                return

    def _next_group(self) -> list[_Request]:
        group: list[_Request] = []
        size = 0
        while self._queue and (not group or size + len(self._queue[0].events) <= GROUP_EVENTS):
            request = self._queue.pop(0)
            group.append(request)
            size += len(request.events)
        return group

    def _write(self, group: list[_Request]) -> None:
        """In a worker thread: the group's events in one transaction."""
        with self.open_session() as session:
            try:
                valid = []
                for request in group:
                    try:
                        check_contacts(session, request.events, batch=request.batch)
                        valid.append(request)
                    except EventsRefused as refused:
                        request.error = refused
                if valid:
                    everything = [e for r in valid for e in r.events]
                    stored = write_events(session, everything, group[0].now)
                    session.commit()
                    start = 0
                    for request in valid:
                        end = start + len(request.events)
                        request.result = Ingested(ids=stored.ids[start:end], contacts_created=0)
                        start = end
            except Exception as error:
                session.rollback()
                if is_database_locked(error):
                    # SQLite's write lock stayed taken for the whole busy timeout: writing each
                    # request again would wait it out once per request (a group of hundreds,
                    # hours) for the same answer. Every request is told now (503, nothing
                    # written), as a lone one would be.
                    for request in group:
                        if request.error is None:
                            request.error = error
                    return
                # Written again one by one, so that a failure stays with its own request; a
                # lone request too, once: a contact created by another transaction meanwhile
                # (its email or external id taken at the insert) is read the second time.
                log.warning("group write failed; writing its %s requests one by one", len(group))
                for request in group:
                    if request.error is None:
                        self._write_alone(session, request)
                        if request.error is not None and is_database_locked(request.error):
                            for rest in group:
                                if rest.error is None and rest.result is None:
                                    rest.error = request.error
                            return

    @staticmethod
    def _write_alone(session: Session, request: _Request) -> None:
        try:
            check_contacts(session, request.events, batch=request.batch)
            request.result = write_events(session, request.events, request.now)
            session.commit()
        except Exception as error:
            session.rollback()
            request.error = error
