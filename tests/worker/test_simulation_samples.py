"""What a simulation keeps of its sample contacts for their journey page: the steps (as the
API answers them) and, per simulated enrollment, when it began, its state and next wake-up at
the horizon and which of the steps are its own, so re-entries read as separate journeys."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert
from sqlmodel import Session

from app.graph import check_draft, compile_document
from app.models import Contact, Event, MessagePurpose, MessageTemplate
from tests.worker.test_engine_journeys import graph
from worker.simulation.replay import SAMPLES, ChunkResult, Window, simulate_chunk

AS_OF = datetime(2026, 6, 4, 8, 0, tzinfo=UTC)
WINDOW = Window.of(AS_OF, replay_days=3, horizon_days=0)
VISITS = graph(
    [
        {"id": "visit", "type": "trigger", "kind": "event", "config": {"event": "visit"}},
        {"id": "hello", "type": "action", "kind": "send_email", "config": {"message": "mail"}},
        {"id": "later", "type": "delay", "kind": "wait", "config": {"seconds": 86400}},
    ],
    [("visit", "hello"), ("hello", "later")],
    reentry="after_exit",
)


def _visits(session: Session, hours: list[int]) -> int:
    session.add(MessageTemplate(key="mail", name="mail", subject="Hi",
                                purpose=MessagePurpose.marketing))  # fmt: skip
    contact = Contact(email=f"{uuid.uuid4().hex[:8]}@example.com", email_consent=True)
    session.add(contact)
    session.flush()
    assert contact.id is not None
    session.execute(
        insert(Event),
        [{"uid": uuid.uuid4().hex, "contact_id": contact.id, "name": "visit", "properties": {},
          "occurred_at": WINDOW.start + timedelta(hours=h),
          "received_at": WINDOW.start + timedelta(hours=h),
          "processed_at": WINDOW.start + timedelta(hours=h)} for h in hours],
    )  # fmt: skip
    return contact.id


def _plan():  # type: ignore[no-untyped-def]
    document, issues = check_draft(VISITS)
    assert document is not None, issues
    return compile_document(document)


def test_each_simulated_enrollment_is_kept_with_its_state_and_its_own_steps(
    session: Session,
) -> None:
    contact_id = _visits(session, [1, 30, 70])  # the last one's wait outlasts the horizon

    result = simulate_chunk(session, _plan(), [contact_id], WINDOW)

    steps = result.journeys[str(contact_id)]
    journeys = result.enrollments[str(contact_id)]
    at = [WINDOW.start + timedelta(hours=h) for h in (1, 30, 70)]
    assert [(j["entered_at"], j["state"], j["wake_at"]) for j in journeys] == [
        (at[0].isoformat(), "completed", None),
        (at[1].isoformat(), "completed", None),
        (at[2].isoformat(), "waiting", (at[2] + timedelta(days=1)).isoformat()),
    ]
    # Every step belongs to one of them, in order.
    assert sorted(i for j in journeys for i in j["steps"]) == list(range(len(steps)))
    outcomes = [[(steps[i]["node_id"], steps[i]["outcome"]) for i in j["steps"]] for j in journeys]
    went_through = [("visit", "completed"), ("hello", "completed"), ("later", "waiting")]
    assert outcomes == [
        [*went_through, ("later", "completed")],
        [*went_through, ("later", "completed")],
        went_through,
    ]


def test_the_enrollments_go_through_dump_load_and_merge_with_their_steps() -> None:
    chunk = ChunkResult()
    chunk.samples["a"] = [7]
    chunk.journeys["7"] = [{"node_id": "a", "outcome": "completed", "detail": None, "at": "x"}]
    chunk.enrollments["7"] = [
        {"entered_at": "x", "state": "completed", "wake_at": None, "steps": [0]}
    ]

    again = ChunkResult.load(chunk.dump())
    total = ChunkResult()
    total.merge(again)

    assert again.dump() == chunk.dump()
    assert total.enrollments == chunk.enrollments
    # A chunk whose contacts find no room among the samples leaves nothing of theirs behind.
    full = ChunkResult()
    full.samples["a"] = list(range(100, 100 + SAMPLES))
    full.merge(again)
    assert "7" not in full.journeys
    assert "7" not in full.enrollments


def test_a_result_stored_before_enrollments_were_kept_still_loads() -> None:
    old = {"entered": 1, "samples": {"a": [7]}, "journeys": {"7": []}}

    loaded = ChunkResult.load(old)

    assert loaded.enrollments == {}
    assert loaded.dump()["enrollments"] == {}
    assert loaded.journeys == {"7": []}
