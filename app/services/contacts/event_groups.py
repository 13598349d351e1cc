"""Group commit for event intake: requests that arrive together are written together.

Each request's thread queues its events and then waits for the write lock. The thread that
gets the lock (the leader) takes everything queued so far, writes it with its own session in
one transaction and commits; the others find their events already stored and answer at once.
Under load many requests share one commit (the cost that dominates single-event intake), while
a lone request is written alone with no added delay. Every request is still answered only after
its own events are committed, and stays all-or-nothing: a request naming an unknown contact id
fails alone, and if the group's write fails, each request is written again on its own.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from app.services.contacts.events import (
    EventIn,
    EventsRefused,
    Ingested,
    check_contacts,
    write_events,
)

log = logging.getLogger("parcours.events")


@dataclass
class _Request:
    events: Sequence[EventIn]
    batch: bool
    done: bool = False
    result: Ingested | None = None
    error: Exception | None = None


class GroupWriter:
    def __init__(self) -> None:
        self._queue: list[_Request] = []
        self._queue_lock = threading.Lock()
        self._write_lock = threading.Lock()

    def submit(
        self, session: Session, events: Sequence[EventIn], now: datetime, *, batch: bool
    ) -> Ingested:
        """Stores the events (committed when this returns); raises what ``ingest`` raises."""
        mine = _Request(events, batch)
        with self._queue_lock:
            self._queue.append(mine)
        with self._write_lock:
            if not mine.done:
                with self._queue_lock:
                    group, self._queue = self._queue, []
                self._write(session, group, now)
        if mine.error is not None:
            raise mine.error
        assert mine.result is not None
        return mine.result

    def _write(self, session: Session, group: list[_Request], now: datetime) -> None:
        try:
            valid = []
            for request in group:
                try:
                    check_contacts(session, request.events, batch=request.batch)
                    valid.append(request)
                except EventsRefused as refused:
                    request.error = refused
            if valid:
                stored = write_events(session, [e for r in valid for e in r.events], now)
                session.commit()
                start = 0
                for request in valid:
                    end = start + len(request.events)
                    request.result = Ingested(ids=stored.ids[start:end], contacts_created=0)
                    start = end
        except Exception as error:
            session.rollback()
            if len(group) == 1:
                group[0].error = error
            else:  # write each request on its own, so a failure stays with its request
                log.warning("group write failed; writing its %s requests one by one", len(group))
                for request in group:
                    if request.error is None:
                        self._write_alone(session, request, now)
        finally:
            for request in group:
                request.done = True

    def _write_alone(self, session: Session, request: _Request, now: datetime) -> None:
        try:
            check_contacts(session, request.events, batch=request.batch)
            request.result = write_events(session, request.events, now)
            session.commit()
        except Exception as error:
            session.rollback()
            request.error = error
