"""The outbox drainer: claims due rows in chunks, sends them, writes the outcomes back.

Exactly once, and the one window where it is not: a message accepted by the SMTP server is
marked ``sent`` in the next bulk write, at most ``FLUSH_EVERY`` sends later, but each accept
is also marked in Redis at once (``accepted.py``), and a row claimed again after a crash is
not sent again when its mark says it was accepted. So a worker killed mid-drain re-sends at
most the one message that was in flight on its connection (the SMTP server may deduplicate
it by its Message-ID, the row's idempotency key). Mailbox "sends" have no window at all:
the copy and the ``sent`` mark are written in the same transaction.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy.engine import Engine

from app.clock import Clock
from app.config import Settings
from app.db import read_only, session_scope
from worker.delivery import outcomes
from worker.delivery.accepted import AcceptedMarks
from worker.delivery.compose import (
    UNREACHABLE,
    Composer,
    EmailJob,
    Prepared,
    SmsJob,
    WebhookJob,
    unexpected,
)
from worker.delivery.lease import DrainLease
from worker.delivery.outcomes import Outcome
from worker.delivery.rate import RateLimiter, Sleep
from worker.delivery.sms import HttpSmsProvider, MailboxSms, SmsSender
from worker.delivery.smtp import SendError, SmtpTransport, parse_smtp_url
from worker.delivery.store import Claimed, claim_due, record, release
from worker.delivery.webhook import AllowList, WebhookSender
from worker.engine.book import CounterKey
from worker.engine.counters import publish as publish_counters

log = logging.getLogger("parcours.delivery")
FLUSH_EVERY = 50  # sends between two writes of their outcomes
WEBHOOK_CONCURRENCY = 10
TIME_BUDGET_SECONDS = 240  # then the job ends and the next kick or sweep carries on


@dataclass
class Delivery:
    engine: Engine
    clock: Clock
    settings: Settings
    sleep: Sleep = asyncio.sleep
    redis: Any = None
    sms_transport: httpx.AsyncBaseTransport | None = None  # tests stand in for the provider
    totals: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        s = self.settings
        self.composer = Composer(s)
        self.limiter = RateLimiter(s.smtp_rate_per_second, self.clock, self.sleep)
        self.smtp = SmtpTransport(parse_smtp_url(s.smtp_url), self.limiter) if s.smtp_url else None
        self.sms: SmsSender = (
            HttpSmsProvider(s.sms_provider_url, s.sms_provider_token, transport=self.sms_transport)
            if s.sms_provider_url
            else MailboxSms()
        )
        self.webhooks = WebhookSender(
            AllowList.parse(s.webhook_allow), timeout=s.webhook_timeout_seconds
        )
        chunk_seconds = s.delivery_chunk_size / s.smtp_rate_per_second
        self.lease = timedelta(seconds=max(120, 3 * chunk_seconds))
        self._buffer: list[Outcome] = []
        self._claimed: dict[int, Claimed] = {}
        self.marks = AcceptedMarks(self.redis)
        self._accepted_before: set[int] = set()
        self._bounced: set[str] = set()  # addresses that refused a message of this drain for good

    async def run(self) -> dict[str, int]:
        lease = DrainLease(self.redis) if self.redis is not None else None
        if lease is not None and not await lease.acquire():
            return {"busy": 1}
        upcoming: asyncio.Task[tuple[list[Claimed], Prepared]] | None = None
        try:
            started = time.monotonic()
            # The next chunk is claimed and rendered (in a thread) while this one is sent.
            upcoming = asyncio.create_task(self._next_chunk())
            while upcoming is not None:
                task, upcoming = upcoming, None
                rows, prepared = await task
                if not rows:
                    break
                if time.monotonic() - started < TIME_BUDGET_SECONDS:
                    upcoming = asyncio.create_task(self._next_chunk())
                await self.deliver(rows, prepared)
                if lease is not None and lease.lost:
                    break  # the heartbeat could not renew it: another worker may drain now
        finally:
            # Whatever went wrong above, the lease is let go: a drain that kept it would stop
            # every send of every worker until it expired. What was sent is written first.
            try:
                await self._flush_what_was_sent()
                if upcoming is not None:
                    await self._give_back(upcoming)
                await self.close()
            finally:
                if lease is not None:
                    await lease.release(self._hold_ms())
        return dict(self.totals)

    async def _flush_what_was_sent(self) -> None:
        """After a failure mid-chunk: the outcomes already known are written, so those rows
        are not left to the accept marks alone (Redis may be the part that failed)."""
        try:
            await self._flush()
        except Exception:
            log.warning("could not write %d delivery outcomes", len(self._buffer), exc_info=True)

    async def _give_back(self, upcoming: asyncio.Task[tuple[list[Claimed], Prepared]]) -> None:
        """Claimed but not sent: the rows are due again at once rather than at lease end."""
        try:
            rows, _ = await upcoming
        except Exception:
            return  # that claim failed itself, and gave its rows back (_claim_and_prepare)
        await asyncio.to_thread(release, self.engine, [r.id for r in rows], self.clock.now())

    async def _next_chunk(self) -> tuple[list[Claimed], Prepared]:
        held: Counter[CounterKey] = Counter()
        chunk = await asyncio.to_thread(self._claim_and_prepare, held)
        await self._count_held(held)
        return chunk

    async def _count_held(self, held: Counter[CounterKey]) -> None:
        """The blocks' hot ``deferred`` counters (the outbox stays the truth: a rebuild reads
        it), and the live canvas told."""
        if not held or self.redis is None:
            return
        try:
            await publish_counters(self.redis, held)
        except Exception:
            log.warning("could not count %d held sends in Redis", held.total(), exc_info=True)

    def _claim_and_prepare(self, held: Counter[CounterKey]) -> tuple[list[Claimed], Prepared]:
        now = self.clock.now()
        rows = claim_due(self.engine, now, self.settings.delivery_chunk_size, self.lease, held)
        if not rows:
            return rows, Prepared()
        try:
            with session_scope(read_only(self.engine)) as session:
                return rows, self.composer.prepare(session, rows, now)
        except Exception:
            # The chunk could not be read at all (each row's own errors stay with the row).
            release(self.engine, [r.id for r in rows], now)
            raise

    def _hold_ms(self) -> int:
        last = self.limiter.last_send
        if self.smtp is None or last is None:
            return 1
        left = self.limiter.window - (self.clock.now() - last)
        return int(left.total_seconds() * 1000) + 1

    async def deliver(self, rows: list[Claimed], prepared: Prepared) -> None:
        self._claimed.update({row.id: row for row in rows})
        # Rows claimed before whose send was answered but whose outcome was never written
        # (the worker died): sent already, not again.
        self._accepted_before = await self.marks.accepted(r.id for r in rows if r.attempts > 1)
        self._buffer.extend(prepared.decided)
        for email in prepared.emails:
            await self._add(await self._send_email(email))
        for sms in prepared.sms:
            await self._add(await self._send_sms(sms))
        await self._send_webhooks(prepared.webhooks)
        await self._flush()
        self._claimed.clear()

    async def _send_email(self, job: EmailJob) -> Outcome:
        if self.smtp is None:
            return outcomes.sent(job.row.id, mailbox=job.mailbox)
        if job.row.id in self._accepted_before:
            return outcomes.sent(job.row.id)
        address = job.envelope.recipients[0]
        to_contact = job.row.channel == "email" and not job.row.payload.get("test")
        if to_contact and address in self._bounced:
            # It refused an earlier message of this drain for good: not tried again now.
            return outcomes.skipped(job.row.id, UNREACHABLE["bounced"])
        try:
            await self.smtp.send(job.envelope)
        except Exception as exc:
            failure = _failure(job.row.id, exc, address=address)
            if to_contact and failure.bounce == "hard":
                self._bounced.add(address)
            return failure
        await self.marks.mark(job.row.id)
        return outcomes.sent(job.row.id)

    async def _send_sms(self, job: SmsJob) -> Outcome:
        mailbox = job.mailbox if self.sms.keeps_copy else None
        if job.row.id in self._accepted_before:
            return outcomes.sent(job.row.id, mailbox=mailbox)
        try:
            await self.sms.send(job.sms)
        except Exception as exc:
            return _failure(job.row.id, exc)
        if not self.sms.keeps_copy:  # a mailbox copy is written with its outcome
            await self.marks.mark(job.row.id)
        return outcomes.sent(job.row.id, mailbox=mailbox)

    async def _send_webhooks(self, jobs: list[WebhookJob]) -> None:
        gate = asyncio.Semaphore(WEBHOOK_CONCURRENCY)

        async def one(job: WebhookJob) -> Outcome:
            if job.row.id in self._accepted_before:
                return outcomes.sent(job.row.id)
            async with gate:
                try:
                    await self.webhooks.call(job.call)
                except Exception as exc:
                    return _failure(job.row.id, exc)
                await self.marks.mark(job.row.id)
                return outcomes.sent(job.row.id)

        for outcome in await asyncio.gather(*(one(job) for job in jobs)):
            await self._add(outcome)

    async def _add(self, outcome: Outcome) -> None:
        self._buffer.append(outcome)
        if len(self._buffer) >= FLUSH_EVERY:
            await self._flush()

    async def _flush(self) -> None:
        batch, self._buffer = self._buffer, []
        if not batch:
            return
        await asyncio.to_thread(
            record,
            self.engine,
            batch,
            self._claimed,
            self.clock.now(),
            self.settings.delivery_max_attempts,
        )
        await self.marks.forget(o.row_id for o in batch)
        self.totals.update(o.kind for o in batch)

    async def close(self) -> None:
        if self.smtp is not None:
            await self.smtp.close()
        await self.sms.close()
        await self.webhooks.close()


def _failure(row_id: int, error: Exception, address: str | None = None) -> Outcome:
    if isinstance(error, SendError):
        # A dead address is not tried again, whatever class of code the server gave.
        make = outcomes.failed if error.permanent or error.bounce == "hard" else outcomes.retry
        outcome = make(row_id, error.reason)
        if error.bounce is not None and address:
            outcome.bounce, outcome.address, outcome.reply = error.bounce, address, error.reply
        return outcome
    # Not a refusal anyone foresaw: this row only is tried again later (and given up on
    # after the last attempt), the rest of the chunk goes on.
    return outcomes.retry(row_id, unexpected("sent", error))


async def deliver_outbox(ctx: dict[str, Any]) -> dict[str, int]:
    """arq task: send what is due in the outbox. Kicked after the engine writes sends, and
    run by cron as a sweep."""
    from app.config import get_settings

    delivery = Delivery(
        engine=ctx["engine"],
        clock=ctx["clock"],
        settings=ctx.get("settings") or get_settings(),
        sleep=ctx.get("sleep", asyncio.sleep),
        redis=ctx.get("redis"),
    )
    return await delivery.run()
