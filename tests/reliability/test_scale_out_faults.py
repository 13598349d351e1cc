"""The scale-out run of issue 20: a backlog of carts and purchases, three workers, the sender
SIGKILLed twice and Redis flushed mid-run. Every buyer is spared the reminder, each kill
repeats at most one email, and the live counters end equal to the step log."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from redis import Redis
from sqlalchemy import Engine, func, insert, select, update

from app.db import read_only, session_scope
from app.models import Contact, Enrollment, Event, MessageTemplate, OutboxMessage, ScenarioVersion
from app.services.scenarios import scenarios
from app.services.scenarios.stats import version_stats
from tests.fixtures.smtp import SmtpSink
from tests.reliability.test_worker_failures import count
from tests.reliability.workers import Workers, quiet_for, running_workers, wait_until
from worker.delivery.lease import LEASE_KEY

pytestmark = pytest.mark.reliability
CARTS = 1200
CART: dict[str, Any] = {
    "schema": 1,
    "nodes": [
        {"id": "cart", "type": "trigger", "kind": "event",
         "config": {"event": "cart_updated", "key": "cart_id"}},
        {"id": "wait", "type": "delay", "kind": "wait_for_event",
         "config": {"event": "purchase", "timeout_seconds": 2, "match_key": "cart_id"}},
        {"id": "remind", "type": "action", "kind": "send_email", "config": {"message": "remind"}},
        {"id": "thanks", "type": "action", "kind": "add_score", "config": {"points": 1}},
    ],
    "edges": [{"from": "cart", "to": "wait"}, {"from": "wait", "port": "no", "to": "remind"},
              {"from": "wait", "port": "yes", "to": "thanks"}],
    "settings": {"reentry": "always"},
}  # fmt: skip


def _backlog(engine: Engine) -> tuple[int, set[int]]:
    """Every cart posted, then every purchase: the matcher meets them batches apart."""
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        session.add(MessageTemplate(key="remind", name="Reminder", subject="Your cart"))
        session.flush()
        scenario = scenarios.create_scenario(session, name="Cart", graph=CART, now=now)
        assert scenario.id is not None
        _, version, _ = scenarios.activate(session, scenario.id, now=now)
        people = [{"email": f"s{i}@example.com", "email_consent": True, "attributes": {},
                   "timezone": "UTC", "score": 0, "sms_consent": False,
                   "created_at": now, "updated_at": now} for i in range(CARTS)]  # fmt: skip
        session.execute(insert(Contact), people)
        ids = sorted(session.execute(select(Contact.id)).scalars())
        buyers = set(ids[::2])

        def event(cid: int, name: str, at: datetime) -> dict[str, Any]:
            return {"uid": uuid.uuid4().hex, "contact_id": cid, "name": name,
                    "properties": {"cart_id": f"c{cid}"}, "occurred_at": at, "received_at": at}  # fmt: skip

        session.execute(insert(Event), [event(c, "cart_updated", now) for c in ids])
        later = now + timedelta(milliseconds=300)
        session.execute(insert(Event), [event(c, "purchase", later) for c in sorted(buyers)])
        assert version.id is not None
        return version.id, buyers


def _kill_the_sender(workers: Workers, redis: Redis) -> None:  # type: ignore[type-arg]
    holder: list[int] = []

    def sending() -> bool:
        token = redis.get(LEASE_KEY)
        pid = int(token.split(b":")[0]) if token else 0
        holder[:] = [pid] if pid in {p.pid for p in workers.processes} else []
        return bool(holder)

    wait_until(sending, "a worker to be sending")
    workers.kill(holder[0])
    workers.start(1)


def test_backlog_three_workers_two_kills_and_a_flush(
    committed_engine: Engine,
    database_url: str,
    redis_url: str,
    smtp_sink: SmtpSink,
    tmp_path: Path,
) -> None:
    redis = Redis.from_url(redis_url)
    redis.flushdb()
    version_id, buyers = _backlog(committed_engine)
    reminders = CARTS - len(buyers)
    with running_workers(database_url, redis_url, tmp_path) as workers:
        workers.env["PARCOURS_SMTP_URL"] = smtp_sink.url
        workers.env["PARCOURS_SMTP_RATE_PER_SECOND"] = "80"
        workers.env["PARCOURS_DELIVERY_CHUNK_SIZE"] = "50"
        workers.start(3)
        wait_until(lambda: len(smtp_sink.messages) > 50, "the first reminders")
        # Redis loses everything: queue, lease, counters, accept marks. (A flush between a
        # kill and the reclaim of the dead sender's rows would lose their accept marks too,
        # and those would be sent again: see worker/delivery/accepted.py.)
        redis.flushdb()
        wait_until(lambda: len(smtp_sink.messages) > 150, "reminders after the flush")
        _kill_the_sender(workers, redis)
        wait_until(lambda: len(smtp_sink.messages) > 300, "reminders after the first kill")
        _kill_the_sender(workers, redis)
        # Rows the dead senders had claimed come back when their lease runs out (minutes):
        # once all the others are sent, let that moment come now.
        settled = (
            select(func.count())
            .select_from(OutboxMessage)
            .where(
                (OutboxMessage.status == "sent")  # type: ignore[arg-type]
                | (OutboxMessage.next_attempt_at > datetime.now(UTC) + timedelta(seconds=20))  # type: ignore[operator]
            )
        )
        # Nobody sending any more: a live sender's rows are leased too.
        quiet = quiet_for(3, lambda: len(smtp_sink.messages))
        wait_until(
            lambda: count(committed_engine, settled) == reminders and quiet(),
            "every reminder sent but those the dead senders held",
            limit=180,
        )
        with committed_engine.begin() as conn:
            conn.execute(
                update(OutboxMessage)
                .where(OutboxMessage.status == "pending")  # type: ignore[arg-type]
                .values(next_attempt_at=datetime.now(UTC))
            )
        sent = (
            select(func.count())
            .select_from(OutboxMessage)
            .where(
                OutboxMessage.status == "sent"  # type: ignore[arg-type]
            )
        )
        wait_until(lambda: count(committed_engine, sent) == reminders, "every reminder sent")
        with session_scope(read_only(committed_engine)) as session:
            truth = version_stats(session, session.get(ScenarioVersion, version_id))
        expected = {
            f"{node}:{name}": value
            for node, block in truth.nodes.items()
            for name, value in block.model_dump().items()
            if value
        }

        def hot() -> dict[str, int]:
            raw = redis.hgetall(f"parcours:counters:{version_id}")
            return {k.decode(): int(v) for k, v in raw.items() if int(v)}

        def counters_agree() -> bool:
            now = hot()
            return now.pop("~built", None) is not None and now == expected

        try:
            wait_until(counters_agree, "the live counters to equal the step log")
        except AssertionError as exc:
            raise AssertionError(f"{exc}: {hot()} != {expected}") from None

    with session_scope(read_only(committed_engine)) as session:
        enrolled = session.execute(select(func.count()).select_from(Enrollment)).scalar_one()
        reminded = set(session.execute(select(OutboxMessage.contact_id)).scalars())
    assert enrolled == CARTS
    assert not reminded & buyers, "a customer who bought got the reminder"
    assert len(reminded) == reminders
    received = Counter(str(m["Message-ID"]) for m in smtp_sink.messages)
    assert len(received) == reminders
    repeated = [key for key, n in received.items() if n > 1]
    with session_scope(read_only(committed_engine)) as session:
        attempts = Counter(session.execute(select(OutboxMessage.attempts)).scalars())
    assert len(repeated) <= 2, f"more than one repeat per kill: {len(repeated)} ({attempts})"
