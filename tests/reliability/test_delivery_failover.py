"""The sending worker dies mid-drain: another takes over within seconds, and what the dead one
had sent is not sent again, but for at most the one message that was in flight."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from redis import Redis
from sqlalchemy import Engine, func, select, update

from app.models import OutboxMessage, OutboxStatus
from tests.fixtures.smtp import SmtpSink
from tests.reliability.test_worker_failures import count, prepare
from tests.reliability.workers import quiet_for, running_workers, wait_until

pytestmark = pytest.mark.reliability
EMAILS = 600
RESUMES_WITHIN_SECONDS = 10


def test_killing_the_sender_pauses_email_briefly_and_repeats_at_most_one(
    committed_engine: Engine,
    database_url: str,
    redis_url: str,
    smtp_sink: SmtpSink,
    tmp_path: Path,
) -> None:
    Redis.from_url(redis_url).flushdb()
    prepare(committed_engine, contacts=EMAILS)
    with running_workers(database_url, redis_url, tmp_path) as workers:
        workers.env["PARCOURS_SMTP_URL"] = smtp_sink.url
        workers.env["PARCOURS_SMTP_RATE_PER_SECOND"] = "60"  # a drain that lasts
        workers.env["PARCOURS_DELIVERY_CHUNK_SIZE"] = "100"
        workers.start(1)  # the sender
        wait_until(lambda: len(smtp_sink.messages) > 150, "the first emails to go out")
        workers.start(1)  # the one that takes over
        log = tmp_path / "workers.log"
        wait_until(lambda: log.read_text().count("Starting worker") >= 2, "the second to be up")
        workers.kill_one()
        after_kill = len(smtp_sink.messages)

        wait_until(
            lambda: len(smtp_sink.messages) > after_kill + 5,
            "another worker to send again",
            limit=RESUMES_WITHIN_SECONDS,
        )
        # The dead drainer's claimed rows come back when their lease runs out (minutes):
        # once the live one is done with the rest, let that moment come now.
        wait_until(quiet_for(3, lambda: len(smtp_sink.messages)), "the live sender to be done")
        with committed_engine.begin() as conn:
            conn.execute(
                update(OutboxMessage)
                .where(OutboxMessage.status == OutboxStatus.pending)  # type: ignore[arg-type]
                .values(next_attempt_at=datetime.now(UTC))
            )
        sent = (
            select(func.count())
            .select_from(OutboxMessage)
            .where(
                OutboxMessage.status == OutboxStatus.sent  # type: ignore[arg-type]
            )
        )
        wait_until(lambda: count(committed_engine, sent) == EMAILS, "every email to be sent")

    received = Counter(str(message["Message-ID"]) for message in smtp_sink.messages)
    assert len(received) == EMAILS
    repeated = sum(n - 1 for n in received.values())
    assert repeated <= 1, f"{repeated} emails sent twice after one kill"
