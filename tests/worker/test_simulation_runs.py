"""A simulation runs in the worker as an arq job, chunk after chunk, and can be cancelled;
the contacts already there can be let in at the start, as an activation with them would."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from arq import create_pool
from arq.worker import Worker
from sqlalchemy import Engine, func, insert, select
from sqlmodel import Session

from app.clock import FrozenClock
from app.db import read_only, session_scope
from app.graph import check_draft, compile_document
from app.i18n import speaking
from app.models import (
    Contact,
    ContactList,
    Enrollment,
    Event,
    ListMembership,
    MessagePurpose,
    MessageTemplate,
    Scenario,
    Simulation,
)
from app.queue import Queue
from app.services.scenarios import scenarios, simulations
from app.services.scenarios.enrollments import Candidate, enroll
from tests.worker.test_engine_journeys import graph
from worker.queue import QUEUE_NAME, redis_settings
from worker.settings import WorkerSettings
from worker.simulation import run as simulation_run
from worker.simulation.replay import Stopped, Window, simulate_chunk
from worker.simulation.run import _chunks, run_simulation
from worker.tasks import sweep

NOW = datetime(2026, 4, 1, 12, 0, tzinfo=UTC)

WELCOME = graph(
    [
        {"id": "joined", "type": "trigger", "kind": "list_added", "config": {"list": "newsletter"}},
        {"id": "hello", "type": "action", "kind": "send_email", "config": {"message": "hello"}},
        {"id": "later", "type": "delay", "kind": "wait", "config": {"seconds": 86400}},
        {"id": "tip", "type": "action", "kind": "send_email", "config": {"message": "tip"}},
    ],
    [("joined", "hello"), ("hello", "later"), ("later", "tip")],
)


def _shop(engine: Engine, members: int, joined_lately: int) -> int:
    """A newsletter with ``members`` people on it now, ``joined_lately`` of whom joined in the
    last days (their list_added events recorded); returns the draft's scenario id."""
    with session_scope(engine) as session:
        for key in ("hello", "tip"):
            session.add(MessageTemplate(key=key, name=key, subject=key,
                                        purpose=MessagePurpose.marketing))  # fmt: skip
        newsletter = ContactList(key="newsletter", name="Newsletter")
        session.add(newsletter)
        session.flush()
        people = [
            Contact(email=f"n{i}@example.com", email_consent=i % 10 != 0) for i in range(members)
        ]
        session.add_all(people)
        session.flush()
        session.execute(
            insert(ListMembership),
            [{"list_id": newsletter.id, "contact_id": p.id, "added_at": NOW} for p in people],
        )
        at = NOW - timedelta(days=2)
        joined = [
            {"uid": uuid.uuid4().hex, "contact_id": p.id, "name": "list_added",
             "properties": {"list": "newsletter"}, "occurred_at": at, "received_at": at,
             "processed_at": at}
            for p in people[:joined_lately]
        ]  # fmt: skip
        if joined:
            session.execute(insert(Event), joined)
        scenario = scenarios.create_scenario(session, name="Welcome", graph=WELCOME, now=NOW)
        assert scenario.id is not None
        return scenario.id


def _ask(engine: Engine, scenario_id: int, **options: object) -> int:
    with session_scope(engine) as session:
        simulation = simulations.start_simulation(
            session,
            scenario_id,
            version="draft",
            replay_days=int(options.get("replay_days", 7)),  # type: ignore[call-overload]
            horizon_days=int(options.get("horizon_days", 7)),  # type: ignore[call-overload]
            include_existing=bool(options.get("include_existing", False)),
            now=NOW,
        )
        assert simulation.id is not None
        return simulation.id


def _answer(engine: Engine, scenario_id: int, simulation_id: int) -> dict:  # type: ignore[type-arg]
    with Session(read_only(engine)) as session:
        return simulations.answer(simulations.get_simulation(session, scenario_id, simulation_id))


async def test_the_worker_runs_a_simulation_in_chunks_and_stores_the_answer(
    redis_url: str,
    redis,  # type: ignore[no-untyped-def]
    committed_engine: Engine,
) -> None:
    scenario_id = _shop(committed_engine, members=30, joined_lately=12)
    simulation_id = _ask(committed_engine, scenario_id)
    queue = await Queue.connect(redis_url)
    await queue.enqueue("simulate", simulation_id, job_id=f"simulate:{simulation_id}")
    worker = Worker(
        functions=WorkerSettings.functions,
        redis_settings=redis_settings(redis_url),
        queue_name=QUEUE_NAME,
        burst=True,
        poll_delay=0.05,
        ctx={"engine": committed_engine, "simulation_chunk": 5},
        handle_signals=False,
    )
    await worker.main()
    await worker.close()
    await queue.close()

    answer = _answer(committed_engine, scenario_id, simulation_id)
    assert answer["status"] == "done", answer["error"]
    assert answer["progress"] == 1.0
    assert answer["entered"] == 12  # those who joined in the replayed week
    assert answer["nodes"]["hello"]["entered"] == 12
    assert answer["nodes"]["hello"]["skipped"] == 2  # n0 and n10 gave no consent
    assert answer["nodes"]["tip"]["completed"] == 10
    assert answer["messages"] == {"email": 20, "sms": 0}
    assert answer["skipped_reasons"] == {"no_consent": 4}
    days = {row["day"]: row["email"] for row in answer["messages_per_day"]}
    assert days == {"2026-03-30": 10, "2026-03-31": 10}
    assert len(answer["samples"]["hello"]) == 12
    with Session(read_only(committed_engine)) as session:
        assert session.execute(select(func.count()).select_from(Enrollment)).scalar_one() == 0


def test_existing_contacts_enter_at_the_start_and_a_burst_is_warned_of(
    committed_engine: Engine,
) -> None:
    scenario_id = _shop(committed_engine, members=120, joined_lately=0)
    simulation_id = _ask(committed_engine, scenario_id, include_existing=True)

    assert run_simulation(committed_engine, simulation_id, chunk_size=50) == "done"

    answer = _answer(committed_engine, scenario_id, simulation_id)
    assert answer["entered"] == 120
    assert answer["nodes"]["hello"] == {
        "entered": 120, "waiting": 0, "yes": 0, "no": 0, "completed": 108, "failed": 0,
        "skipped": 12, "deferred": 0,
    }  # fmt: skip
    assert [(w["node"], w["code"]) for w in answer["warnings"]] == [
        ("hello", "burst_at_activation")
    ]
    assert "108 contacts would get “hello” within 5 minutes" in answer["warnings"][0]["message"]


def test_nobody_enters_when_nothing_happened_and_it_says_so(committed_engine: Engine) -> None:
    scenario_id = _shop(committed_engine, members=5, joined_lately=0)
    simulation_id = _ask(committed_engine, scenario_id)

    assert run_simulation(committed_engine, simulation_id) == "done"

    answer = _answer(committed_engine, scenario_id, simulation_id)
    assert answer["entered"] == 0
    assert [w["code"] for w in answer["warnings"]] == ["nobody_enters"]


def test_a_cancelled_simulation_is_not_run(committed_engine: Engine) -> None:
    scenario_id = _shop(committed_engine, members=5, joined_lately=5)
    simulation_id = _ask(committed_engine, scenario_id)
    with session_scope(committed_engine) as session:
        simulations.cancel_simulation(session, scenario_id, simulation_id, NOW)

    assert run_simulation(committed_engine, simulation_id) == "cancelled"

    answer = _answer(committed_engine, scenario_id, simulation_id)
    assert (answer["status"], answer["entered"], answer["progress"]) == ("cancelled", 0, 0)


def test_a_draft_broken_before_the_run_fails_in_words(committed_engine: Engine) -> None:
    scenario_id = _shop(committed_engine, members=5, joined_lately=5)
    simulation_id = _ask(committed_engine, scenario_id)
    with session_scope(committed_engine) as session:
        template = session.execute(
            select(MessageTemplate).where(MessageTemplate.key == "tip")  # type: ignore[arg-type]
        ).scalar_one()
        session.delete(template)

    assert run_simulation(committed_engine, simulation_id) == "failed"

    answer = _answer(committed_engine, scenario_id, simulation_id)
    assert answer["status"] == "failed"
    assert "tip" in (answer["error"] or "")
    with Session(read_only(committed_engine)) as session:
        assert session.get(Simulation, simulation_id) is not None


def test_the_warnings_are_written_in_the_readers_language(committed_engine: Engine) -> None:
    scenario_id = _shop(committed_engine, members=120, joined_lately=0)
    simulation_id = _ask(committed_engine, scenario_id, include_existing=True)
    assert run_simulation(committed_engine, simulation_id, chunk_size=200) == "done"

    with speaking("fr"):
        answer = _answer(committed_engine, scenario_id, simulation_id)

    assert answer["warnings"] == [
        {
            "node": "hello",
            "code": "burst_at_activation",
            "message": "108 contacts recevraient « hello » dans les 5 minutes suivant "
            "l’activation : pensez à les faire entrer au plus un certain nombre par heure.",
        }
    ]


async def test_a_simulation_whose_run_fell_silent_is_started_again_by_the_sweep(
    redis_url: str,
    redis,  # type: ignore[no-untyped-def]
    committed_engine: Engine,
) -> None:
    """Its worker died mid-run (or its job was lost): after two silent minutes the sweep
    queues it again, and the new run takes it over and finishes it."""
    scenario_id = _shop(committed_engine, members=6, joined_lately=6)
    simulation_id = _ask(committed_engine, scenario_id)
    with session_scope(committed_engine) as session:
        simulation = session.get(Simulation, simulation_id)
        assert simulation is not None
        simulation.heartbeat_at, simulation.progress = NOW, 0.4  # then nothing more
    clock = FrozenClock(NOW + timedelta(seconds=30))
    pool = await create_pool(redis_settings(redis_url), default_queue_name=QUEUE_NAME)
    ctx = {"engine": committed_engine, "clock": clock, "redis": pool}
    await sweep(ctx)
    assert not await redis.keys("arq:job:sweep:simulate:*")  # still alive as far as we know
    assert run_simulation(committed_engine, simulation_id, clock=clock) == "busy"

    clock.advance(minutes=3)
    await sweep(ctx)
    assert await redis.keys("arq:job:sweep:simulate:*")
    worker = Worker(
        functions=WorkerSettings.functions,
        redis_settings=redis_settings(redis_url),
        queue_name=QUEUE_NAME,
        burst=True,
        poll_delay=0.05,
        ctx={"engine": committed_engine, "clock": clock},
        handle_signals=False,
    )
    await worker.main()
    await worker.close()
    await pool.aclose()

    answer = _answer(committed_engine, scenario_id, simulation_id)
    assert (answer["status"], answer["progress"], answer["entered"]) == ("done", 1.0, 6)


def test_who_went_through_the_scenario_before_does_not_enter_again_under_once(
    committed_engine: Engine,
) -> None:
    """A scenario that ran, then had its draft changed: its past journeys count for the
    re-entry rule as they will when the draft is published."""
    scenario_id = _shop(committed_engine, members=4, joined_lately=4)
    with session_scope(committed_engine) as session:
        _, version, _ = scenarios.activate(session, scenario_id, now=NOW - timedelta(days=10))
        plan = compile_document(check_draft(WELCOME)[0])  # type: ignore[arg-type]
        first = session.execute(select(Contact.id).order_by(Contact.id)).scalars().first()
        entry = Candidate(scenario_id, version.id, "joined", first, {})  # type: ignore[arg-type]
        enroll(session, [entry], {version.id: plan}, NOW - timedelta(days=10))  # type: ignore[dict-item]
        scenarios.pause(session, scenario_id, now=NOW - timedelta(days=9))
    simulation_id = _ask(committed_engine, scenario_id)

    assert run_simulation(committed_engine, simulation_id) == "done"

    answer = _answer(committed_engine, scenario_id, simulation_id)
    assert answer["entered"] == 3
    assert first not in answer["samples"]["joined"]


def test_the_first_chunk_is_small_so_the_first_counts_come_at_once() -> None:
    sizes = [len(chunk) for chunk in _chunks(list(range(1_234)), 500)]
    assert sizes == [50, 500, 500, 184]
    assert _chunks([], 500) == []
    assert [len(c) for c in _chunks(list(range(30)), 20)] == [20, 10]


def test_inside_a_chunk_the_pulse_keeps_the_run_alive_until_it_is_cancelled(
    committed_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    scenario_id = _shop(committed_engine, members=5, joined_lately=5)
    simulation_id = _ask(committed_engine, scenario_id)
    monkeypatch.setattr(simulation_run, "PULSE_SECONDS", 0.0)
    clock = FrozenClock(NOW + timedelta(seconds=30))
    pulse = simulation_run.Pulse(committed_engine, simulation_id, clock)

    assert pulse() is True
    with Session(read_only(committed_engine)) as session:
        row = session.get(Simulation, simulation_id)
        assert row is not None
        assert row.heartbeat_at == clock.now()

    with session_scope(committed_engine) as session:
        simulations.cancel_simulation(session, scenario_id, simulation_id, NOW)
    assert pulse() is False


def test_a_chunk_told_to_stop_stops_between_two_moments(committed_engine: Engine) -> None:
    scenario_id = _shop(committed_engine, members=5, joined_lately=5)
    beats: list[int] = []

    def once_then_stop() -> bool:
        beats.append(1)
        return len(beats) < 2

    with Session(read_only(committed_engine)) as session:
        draft = session.get(Scenario, scenario_id)
        assert draft is not None
        plan = simulation_run.plan_of(session, draft.draft)
        ids = list(session.execute(select(Contact.id)).scalars())  # type: ignore[call-overload]
        window = Window.of(NOW, 7, 7)
        with pytest.raises(Stopped):
            simulate_chunk(session, plan, ids, window, pulse=once_then_stop)
    assert len(beats) == 2


def test_the_first_counts_come_from_a_few_contacts_before_the_whole_window_is_read(
    committed_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    scenario_id = _shop(committed_engine, members=120, joined_lately=120)
    simulation_id = _ask(committed_engine, scenario_id)
    reports: list[tuple[float | None, int]] = []
    stored = simulation_run._progress

    def spy(*args: Any) -> bool:
        reports.append((args[3], args[4].entered))
        return bool(stored(*args))

    monkeypatch.setattr(simulation_run, "_progress", spy)
    assert run_simulation(committed_engine, simulation_id, chunk_size=1000) == "done"

    # 50 first, share unknown; then the other 70 in one chunk, and the whole answer.
    assert reports == [(None, 50), (120 / 120, 120)]
    assert _answer(committed_engine, scenario_id, simulation_id)["entered"] == 120
