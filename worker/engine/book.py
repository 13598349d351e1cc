"""A chunk's writes, gathered in memory while its steps run, then written in bulk.

Everything a chunk decides — step rows, enrollment moves, outbox entries, list and score and
attribute changes, and the system events those changes produce — is written by a handful of
statements in the chunk's one transaction, so a crash leaves either all of it or none.
"""

from __future__ import annotations

import secrets
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, select, tuple_, update
from sqlmodel import Session, SQLModel

from app.bulk import among, insert_missing_rows, insert_rows, update_rows
from app.graph import ContactFacts
from app.models import EnrollmentState, StepOutcome
from app.services.messaging.outbox import OutboxEntry, add_to_outbox
from worker.engine.visit import WAITING, Visit

ENROLLMENTS = SQLModel.metadata.tables["enrollments"]
STEP_LOG = SQLModel.metadata.tables["step_log"]
CONTACTS = SQLModel.metadata.tables["contacts"]
EVENTS = SQLModel.metadata.tables["events"]
MEMBERSHIPS = SQLModel.metadata.tables["list_memberships"]

EXITED, PARKED = StepOutcome.exited.value, StepOutcome.waiting.value
CounterKey = tuple[int, int, str, str]  # scenario, version, block, counter


@dataclass(frozen=True)
class Mark:
    sizes: tuple[int, ...]
    counters: Counter[CounterKey]
    score_deltas: Counter[int]
    attribute_writes: dict[int, dict[str, Any]]


class StaleChunk(Exception):
    """Another run moved one of these enrollments first: this chunk's work is dropped."""


@dataclass
class Book:
    now: datetime
    # The event names some scenario reacts to; other system events are written as matched.
    heard: frozenset[str] | None = None
    steps: list[dict[str, Any]] = field(default_factory=list)
    outbox: list[OutboxEntry] = field(default_factory=list)
    # (contact, list id, key, add?) in the order the journeys did them; the last one counts.
    list_ops: list[tuple[int, int, str, bool]] = field(default_factory=list)
    score_deltas: Counter[int] = field(default_factory=Counter)
    attribute_writes: dict[int, dict[str, Any]] = field(default_factory=dict)
    system_events: list[dict[str, Any]] = field(default_factory=list)
    counters: Counter[CounterKey] = field(default_factory=Counter)

    # --- steps ---------------------------------------------------------------------------

    def step(
        self, visit: Visit, outcome: StepOutcome, detail: dict[str, Any] | None = None
    ) -> None:
        visit.seq += 1
        value = outcome._value_  # not ``.value``: a descriptor, slow for every step
        self.steps.append(
            {
                "enrollment_id": visit.id,
                "scenario_id": visit.scenario_id,
                "version_id": visit.version_id,
                "contact_id": visit.contact_id,
                "node_id": visit.node_id,
                "seq": visit.seq,
                "outcome": value,
                "detail": detail,
                "at": self.now,
            }
        )
        # Called before the step changes ``visit.state``: a parked contact leaves the wait.
        if visit.state == WAITING:
            self.count(visit, "waiting", -1)
        elif value != EXITED:
            self.count(visit, "entered")
        if value == PARKED:
            self.count(visit, "waiting")
        elif value != EXITED:
            self.count(visit, value)

    def exit(self, visit: Visit, detail: dict[str, Any]) -> None:
        """The contact reached the scenario's goal: out before any further step."""
        self.step(visit, StepOutcome.exited, detail)
        visit.finish(EnrollmentState.exited.value, self.now)

    def count(self, visit: Visit, name: str, delta: int = 1) -> None:
        self.counters[(visit.scenario_id, visit.version_id, visit.node_id, name)] += delta

    def system_event(self, contact_id: int, name: str, properties: dict[str, Any]) -> None:
        unheard = self.heard is not None and name not in self.heard
        # Ids in time order land at the end of the unique index, not on random pages of it.
        uid = f"sys-{time.time_ns():x}-{secrets.token_hex(4)}"
        self.system_events.append(
            {
                "uid": uid,
                "contact_id": contact_id,
                "name": name,
                "properties": properties,
                "occurred_at": self.now,
                "received_at": self.now,
                "processed_at": self.now if unheard else None,
            }
        )

    @property
    def events_to_match(self) -> int:
        return sum(1 for event in self.system_events if event["processed_at"] is None)

    def with_pending(self, facts: dict[int, ContactFacts]) -> dict[int, ContactFacts]:
        """The facts as this chunk's unwritten changes leave them: a condition after "add 10
        points" in the same journey sees the points."""
        lists: dict[int, dict[str, bool]] = defaultdict(dict)
        for contact_id, _, key, add in self.list_ops:
            lists[contact_id][key] = add
        for contact_id, contact in facts.items():
            writes = self.attribute_writes.get(contact_id)
            delta = self.score_deltas.get(contact_id)
            memberships = lists.get(contact_id)
            if not (writes or delta or memberships):
                continue
            attributes = {**contact.attributes, **(writes or {})}
            if delta:
                attributes["score"] = (attributes.get("score") or 0) + delta
            member = set(contact.lists)
            for key, add in (memberships or {}).items():
                if add:
                    member.add(key)
                else:
                    member.discard(key)
            facts[contact_id] = replace(contact, attributes=attributes, lists=frozenset(member))
        return facts

    # --- undo for a failed block ---------------------------------------------------------

    def mark(self) -> Mark:
        sizes = (
            len(self.steps),
            len(self.outbox),
            len(self.list_ops),
            len(self.system_events),
        )
        attributes = {contact: dict(changes) for contact, changes in self.attribute_writes.items()}
        return Mark(sizes, Counter(self.counters), Counter(self.score_deltas), attributes)

    def rollback(self, mark: Mark) -> None:
        steps, outbox, list_ops, events = mark.sizes
        del self.steps[steps:]
        del self.outbox[outbox:]
        del self.list_ops[list_ops:]
        del self.system_events[events:]
        self.counters, self.score_deltas = mark.counters, mark.score_deltas
        self.attribute_writes = mark.attribute_writes

    # --- writing -------------------------------------------------------------------------

    def write(
        self, session: Session, moved: Sequence[Visit] = (), entered: Sequence[Visit] = ()
    ) -> None:
        """``moved``: claimed enrollments, updated where they stopped; ``entered``: new ones
        (see ``Visit.entering``), inserted where they stopped."""
        self._move(session, moved)
        self._enter(session, entered)
        insert_rows(session, STEP_LOG, self.steps)
        add_to_outbox(session, self.outbox, self.now)
        self._lists(session)
        self._scores(session)
        self._attributes(session)
        insert_rows(session, EVENTS, self.system_events)

    def _move(self, session: Session, visits: Sequence[Visit]) -> None:
        rows = [
            {**_position(v), "updated_at": self.now, "claimed_seq": v.claimed_seq} for v in visits
        ]
        # The seq guard: an enrollment moved by another run since the claim is not moved again.
        changed = update_rows(session, ENROLLMENTS, rows, where={"id": "id", "claimed_seq": "seq"})
        if changed != len(rows):
            raise StaleChunk(f"{len(rows) - changed} enrollment(s) moved meanwhile")

    def _enter(self, session: Session, visits: Sequence[Visit]) -> None:
        rows = [
            {
                **_position(v),
                "scenario_id": v.scenario_id,
                "version_id": v.version_id,
                "contact_id": v.contact_id,
                "instance_key": v.instance_key,
                "context": v.context,
                "entered_at": self.now,
                "updated_at": self.now,
                "trigger_at": v.trigger_at,
                "trigger_event_id": v.trigger_event_id,
            }
            for v in visits
        ]
        insert_rows(session, ENROLLMENTS, rows)

    def _lists(self, session: Session) -> None:
        final: dict[tuple[int, int], tuple[str, bool]] = {}
        for contact_id, list_id, key, add in self.list_ops:
            final[(contact_id, list_id)] = (key, add)
        adds = {pair: key for pair, (key, add) in final.items() if add}
        removes = {pair: key for pair, (key, add) in final.items() if not add}
        if adds:
            added = insert_missing_rows(
                session,
                MEMBERSHIPS,
                [
                    {"list_id": lst, "contact_id": c, "added_at": self.now, "source": "scenario"}
                    for (c, lst) in sorted(adds)  # in id order: two chunks never wait in a circle
                ],
                unique=["list_id", "contact_id"],
                returning=["contact_id", "list_id"],
            )
            for contact_id, list_id in added:
                self.system_event(contact_id, "list_added", {"list": adds[(contact_id, list_id)]})
        if removes:
            removed = session.execute(
                delete(MEMBERSHIPS)
                .where(tuple_(MEMBERSHIPS.c.contact_id, MEMBERSHIPS.c.list_id).in_(list(removes)))
                .returning(MEMBERSHIPS.c.contact_id, MEMBERSHIPS.c.list_id)
            ).all()
            for contact_id, list_id in removed:
                self.system_event(
                    contact_id, "list_removed", {"list": removes[(contact_id, list_id)]}
                )

    def _scores(self, session: Session) -> None:
        by_delta: dict[int, list[int]] = defaultdict(list)
        for contact_id, delta in self.score_deltas.items():
            if delta:
                by_delta[delta].append(contact_id)
        for delta, contact_ids in by_delta.items():
            changed = session.execute(
                update(CONTACTS)
                .where(among(session, CONTACTS.c.id, contact_ids))
                .values(score=CONTACTS.c.score + delta, updated_at=self.now)
                .returning(CONTACTS.c.id, CONTACTS.c.score)
            ).all()
            for contact_id, score in changed:
                self.system_event(contact_id, "score_changed", {"from": score - delta, "to": score})

    def _attributes(self, session: Session) -> None:
        if not self.attribute_writes:
            return
        current = {
            row.id: row
            for row in session.execute(
                select(CONTACTS).where(among(session, CONTACTS.c.id, self.attribute_writes))
            )
        }
        # One UPDATE per set of changed columns, not one per contact.
        writes: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
        for contact_id, changes in sorted(self.attribute_writes.items()):
            row = current.get(contact_id)
            if row is None:
                continue  # erased meanwhile
            columns: dict[str, Any] = {}
            custom = dict(row.attributes or {})
            for name, value in changes.items():
                old = row._mapping[name] if name in CONTACTS.c else custom.get(name)
                if isinstance(old, date):
                    old = old.isoformat()
                if old == value:
                    continue
                if name in CONTACTS.c:
                    columns[name] = value
                else:
                    custom[name] = value
                self.system_event(
                    contact_id, "attribute_changed", {"attribute": name, "from": old, "to": value}
                )
            if custom != (row.attributes or {}):
                columns["attributes"] = custom
            if columns:
                writes[tuple(sorted(columns))].append(
                    {**columns, "updated_at": self.now, "id": contact_id}
                )
        for rows in writes.values():
            update_rows(session, CONTACTS, rows, where={"id": "id"})


def _position(visit: Visit) -> dict[str, Any]:
    """Where an enrollment stands after a chunk: the columns a step may change."""
    return {
        "id": visit.id,
        "node_id": visit.node_id,
        "state": visit.state,
        "seq": visit.seq,
        "wake_at": visit.wake_at,
        "wait_event": visit.wait_event,
        "wait_key": visit.wait_key,
        "wake_port": visit.wake_port,
        "attempts": visit.attempts,
        "last_error": visit.last_error,
        "ended_at": visit.ended_at,
    }
