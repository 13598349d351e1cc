"""A simulation from request to answer, chunk after chunk, in the worker (CONTRACTS-2 §A).

The contacts who could enter are split into chunks; each runs through the engine in its own
overlay (``replay.py``) and its counts are added to the simulation's row with the progress,
so a reader sees the answer grow and a cancel takes effect before the next chunk. The real
database is only read, except for that one row.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, or_, select, update
from sqlmodel import Session, SQLModel

from app.clock import Clock, SystemClock
from app.db import read_only, session_scope
from app.graph import Plan, check_draft, compile_document, has_errors
from app.models import Simulation, SimulationStatus
from app.services.scenarios.existing_contacts import sources
from app.services.scenarios.scenarios import known_refs
from worker.simulation.replay import (
    ChunkResult,
    Stopped,
    Window,
    candidate_contacts,
    first_candidates,
    simulate_chunk,
)

log = logging.getLogger("parcours.simulation")
# Few, large chunks: the engine runs once per moment of virtual time in each chunk, so the
# passes grow with the number of chunks; the overlay lives on disk (``overlay.py``), so a
# large chunk costs no memory. The first is small so the first counts come at once.
CHUNK_CONTACTS = 50_000
FIRST_CHUNK = 50
SIMULATIONS = SQLModel.metadata.tables["simulations"]
MESSAGES = SQLModel.metadata.tables["message_templates"]
# A run says it is alive after each chunk (a chunk takes seconds): silent this long, it died.
SILENT_SECONDS = 120
PULSE_SECONDS = 5.0
BURST_WARNING_AT = 100  # messages to send within minutes of activation worth a word


class CannotSimulate(Exception):
    """The graph cannot run (errors a marketer must fix first)."""


def plan_of(session: Session, graph: dict[str, Any]) -> Plan:
    document, issues = check_draft(graph, known_refs(session))
    if document is None or has_errors(issues):
        raise CannotSimulate("; ".join(i.message for i in issues if i.is_error))
    return compile_document(document)


def existing_entries(session: Session, plan: Plan, now: datetime) -> dict[int, str]:
    """Who matches a list, segment or attribute trigger now, by the block they enter through
    (the first in block id order when several match): the activation's own sources
    (``existing_contacts.sources``), so a simulation lets in whom an activation would."""
    entries: dict[int, str] = {}
    for source in sources(session, plan, now):
        for contact_id in session.execute(source.ids).scalars():
            entries.setdefault(contact_id, source.node_id)
    return entries


def run_simulation(
    engine: Engine,
    simulation_id: int,
    chunk_size: int = CHUNK_CONTACTS,
    clock: Clock | None = None,
) -> str:
    """Runs a simulation to its end (or until cancelled); returns its final status, or
    "busy" when another run of it is alive (its heartbeat is recent)."""
    clock = clock or SystemClock()
    if not _claim(engine, simulation_id, clock.now()):
        return _status(engine, simulation_id)
    with Session(read_only(engine)) as session:
        simulation = session.get(Simulation, simulation_id)
        assert simulation is not None
        window = Window.of(simulation.as_of, simulation.replay_days, simulation.horizon_days)
        scenario_id = simulation.scenario_id
        try:
            plan = plan_of(session, simulation.graph)
        except CannotSimulate as exc:
            return _finish(engine, simulation_id, clock, SimulationStatus.failed, error=str(exc))
        existing = (
            existing_entries(session, plan, simulation.as_of) if simulation.include_existing else {}
        )
        first = first_candidates(session, plan, window, min(FIRST_CHUNK, chunk_size))
    total, done = ChunkResult(), 0
    pulse = Pulse(engine, simulation_id, clock)

    def run(chunk: list[int], progress: float | None) -> bool:
        """One chunk, its counts added and stored; False when the run is to stop."""
        nonlocal done
        with Session(read_only(engine)) as session:
            entering = {c: existing[c] for c in chunk if c in existing}
            try:
                part = simulate_chunk(session, plan, chunk, window, entering, scenario_id, pulse)
            except Stopped:
                return False
        total.merge(part)
        done += len(chunk)
        return _progress(engine, simulation_id, clock, progress, total)

    # The first few while the full list is not known yet: counts, but no share of the work.
    if first and not run(first, None):
        return _status(engine, simulation_id)
    with Session(read_only(engine)) as session:
        ran = set(first)
        rest = [c for c in candidate_contacts(session, plan, window, set(existing)) if c not in ran]
    whole = len(first) + len(rest)
    chunks = _chunks(rest, chunk_size) if not first else _slices(rest, chunk_size)
    for chunk in chunks:
        if not run(chunk, (done + len(chunk)) / whole):
            return _status(engine, simulation_id)
    return _finish(engine, simulation_id, clock, SimulationStatus.done, result=total, plan=plan)


def _slices(contacts: list[int], size: int) -> list[list[int]]:
    return [contacts[i : i + size] for i in range(0, len(contacts), size)]


class Pulse:
    """Inside a chunk (tens of seconds for a large one), every few seconds: says the run is
    alive, so the sweep does not start it again, and answers False once it was cancelled, so
    a cancel takes effect within seconds rather than at the end of the chunk."""

    def __init__(self, engine: Engine, simulation_id: int, clock: Clock) -> None:
        self.engine, self.simulation_id, self.clock = engine, simulation_id, clock
        self.last = time.monotonic()

    def __call__(self) -> bool:
        if time.monotonic() - self.last < PULSE_SECONDS:
            return True
        self.last = time.monotonic()
        with session_scope(self.engine) as session:
            alive: Any = session.execute(
                update(SIMULATIONS)
                .where(
                    SIMULATIONS.c.id == self.simulation_id,
                    SIMULATIONS.c.status == SimulationStatus.running.value,
                )
                .values(heartbeat_at=self.clock.now())
            )
            return bool(alive.rowcount)


def _chunks(contacts: list[int], size: int) -> list[list[int]]:
    """The contacts in chunks of ``size``, the first one small: the first counts and the
    first progress come within a second or two, whatever the size of the base."""
    first = min(FIRST_CHUNK, size)
    head = [contacts[:first]] if contacts else []
    return head + _slices(contacts[first:], size)


def _claim(engine: Engine, simulation_id: int, now: datetime) -> bool:
    """Takes a running simulation whose run never started or fell silent; False when it is
    not running or another run of it is alive (compare-and-set on the heartbeat)."""
    silent = now - timedelta(seconds=SILENT_SECONDS)
    with session_scope(engine) as session:
        taken: Any = session.execute(
            update(SIMULATIONS)
            .where(
                SIMULATIONS.c.id == simulation_id,
                SIMULATIONS.c.status == SimulationStatus.running.value,
                or_(SIMULATIONS.c.heartbeat_at.is_(None), SIMULATIONS.c.heartbeat_at < silent),
            )
            .values(heartbeat_at=now)
        )
        return bool(taken.rowcount)


def _status(engine: Engine, simulation_id: int) -> str:
    with Session(read_only(engine)) as session:
        simulation = session.get(Simulation, simulation_id)
        if simulation is None:
            return "gone"
        return "busy" if simulation.status == SimulationStatus.running else simulation.status


def silent_simulations(engine: Engine, now: datetime) -> list[int]:
    """Running simulations no run has spoken for lately (never started, or their worker
    died): the sweep queues them again."""
    silent = now - timedelta(seconds=SILENT_SECONDS)
    with read_only(engine).connect() as conn:
        query = select(SIMULATIONS.c.id).where(
            SIMULATIONS.c.status == SimulationStatus.running.value,
            or_(
                SIMULATIONS.c.heartbeat_at < silent,
                SIMULATIONS.c.heartbeat_at.is_(None) & (SIMULATIONS.c.created_at < silent),
            ),
        )
        return list(conn.execute(query).scalars())


def _progress(
    engine: Engine, simulation_id: int, clock: Clock, progress: float | None, total: ChunkResult
) -> bool:
    """Stores the counts so far (and the share of the work done, when known); False when
    the simulation was cancelled meanwhile."""
    with session_scope(engine) as session:
        simulation = session.get(Simulation, simulation_id, with_for_update=True)
        if simulation is None or simulation.status != SimulationStatus.running:
            return False
        if progress is not None:
            simulation.progress = min(progress, 0.99)
        simulation.result = total.dump()
        simulation.heartbeat_at = clock.now()
        session.add(simulation)
    return True


def _finish(
    engine: Engine,
    simulation_id: int,
    clock: Clock,
    status: SimulationStatus,
    *,
    result: ChunkResult | None = None,
    plan: Plan | None = None,
    error: str | None = None,
) -> str:
    with session_scope(engine) as session:
        simulation = session.get(Simulation, simulation_id, with_for_update=True)
        if simulation is None or simulation.status != SimulationStatus.running:
            return "gone" if simulation is None else simulation.status
        simulation.status = status
        simulation.error = error
        simulation.finished_at = clock.now()
        if result is not None:
            simulation.progress = 1.0
            query = select(MESSAGES.c.key, MESSAGES.c.name)
            names = {key: name for key, name in session.execute(query)}
            simulation.result = {**result.dump(), "warnings": warnings(result, plan, names)}
        session.add(simulation)
        return status


def warnings(
    result: ChunkResult, plan: Plan | None, message_names: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """What deserves a look before activating: a code, the block and what the words need
    (they are written when read, in the reader's language: ``simulations.warning_words``);
    a burst names its message as it was called when simulated."""
    names = message_names or {}
    found: list[dict[str, Any]] = [
        {"node": node_id, "code": "burst_at_activation", "count": count,
         "message": names.get(_message_key(plan, node_id) or "")}
        for node_id, count in sorted(result.burst.items())
        if count >= BURST_WARNING_AT
    ]  # fmt: skip
    if plan is not None:
        found += _not_predicted(plan)
    if plan is not None and result.entered == 0:
        found.append({"node": None, "code": "nobody_enters"})
    return found


def _message_key(plan: Plan | None, node_id: str) -> str | None:
    if plan is None:
        return None
    key = getattr(plan.block(node_id).config, "message", None)
    return key if isinstance(key, str) else None


TRACKING = ("email_opened", "email_clicked", "email_unsubscribed")


def _not_predicted(plan: Plan) -> list[dict[str, Any]]:
    """What the simulation cannot know, said on the block concerned."""
    index = plan.triggers
    found: list[dict[str, Any]] = [
        {"node": node_id, "code": "segment_not_replayed"}
        for nodes in index.segment_entered.values()
        for node_id in nodes
    ]
    found += [{"node": node_id, "code": "manual_not_simulated"} for node_id in index.manual]
    found += [
        {"node": node_id, "code": "tracking_not_predicted", "event": name}
        for name in TRACKING
        # A wait for a condition counting opens or clicks is as blind to simulated ones.
        for node_id in plan.waits_for_events.get(name, []) + plan.waits_for_changes.get(name, [])
    ]
    return found


async def simulate(ctx: dict[str, Any], simulation_id: int) -> str:
    """The arq task: the whole run in a thread (the overlay is bound to one)."""
    clock: Clock = ctx.get("clock") or SystemClock()
    try:
        chunk = ctx.get("simulation_chunk", CHUNK_CONTACTS)
        return await asyncio.to_thread(run_simulation, ctx["engine"], simulation_id, chunk, clock)
    except Exception as exc:
        log.exception("simulation %s failed", simulation_id)
        return await asyncio.to_thread(
            _finish, ctx["engine"], simulation_id, clock, SimulationStatus.failed, error=str(exc)
        )
