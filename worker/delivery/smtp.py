"""Sending email through an SMTP server with aiosmtplib, one connection for many messages.

``PARCOURS_SMTP_URL`` says how: ``smtp://host:25`` (plain), ``smtp+starttls://user:pass@host:587``
(upgrade with STARTTLS), ``smtps://user:pass@host:465`` (TLS from the start). A 4xx answer or a
dropped connection is temporary (the send is retried later with backoff); a 5xx answer is
permanent (the send fails with the server's reason). Either may be about the recipient's
address (``refusals.py``): then the error says it bounced, hard or soft.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import aiosmtplib

from app.services.messaging.refusals import Bounce, Stage, bounce_of
from worker.delivery.mime import Envelope
from worker.delivery.rate import RateLimiter

SCHEMES = {
    "smtp": (25, False, False),
    "smtp+starttls": (587, True, False),
    "smtps": (465, False, True),
}


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    start_tls: bool
    use_tls: bool
    username: str | None = None
    password: str | None = None
    timeout: float = 30


def parse_smtp_url(url: str) -> SmtpConfig:
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES or not parts.hostname:
        raise ValueError(
            "PARCOURS_SMTP_URL must look like smtp://host:25, smtp+starttls://user:pass@host:587 "
            "or smtps://user:pass@host:465"
        )
    port, start_tls, use_tls = SCHEMES[parts.scheme]
    return SmtpConfig(
        host=parts.hostname,
        port=parts.port or port,
        start_tls=start_tls,
        use_tls=use_tls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


class SendError(Exception):
    def __init__(
        self, reason: str, *, permanent: bool, bounce: Bounce | None = None, reply: str = ""
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        # The refusal is about the recipient's address (refusals.py): it bounced, and the
        # server's own words ("550 5.1.1 user unknown") are kept on the contact.
        self.bounce = bounce
        self.reply = reply


def _classify(exc: Exception) -> SendError:
    code = getattr(exc, "code", None)
    stage: Stage = "data" if isinstance(exc, aiosmtplib.SMTPDataError) else "other"
    if isinstance(exc, aiosmtplib.SMTPSenderRefused):
        stage = "sender"
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
        code = exc.recipients[0].code
        text = exc.recipients[0].message
        stage = "rcpt"
    elif isinstance(exc, aiosmtplib.SMTPRecipientRefused):
        text, stage = exc.message, "rcpt"
    else:
        text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    bounce = bounce_of(code, str(text), stage) if isinstance(code, int) and code >= 400 else None
    if isinstance(code, int) and 500 <= code < 600:
        reason = f"The mail server refused it: {code} {text}"
        return SendError(reason, permanent=True, bounce=bounce, reply=f"{code} {text}")
    if isinstance(code, int) and code > 0:
        reason = f"The mail server said to try later: {code} {text}"
        return SendError(reason, permanent=False, bounce=bounce, reply=f"{code} {text}")
    return SendError(f"Could not reach the mail server: {text}", permanent=False)


class SmtpTransport:
    """One connection, opened on the first message and reused until ``close``."""

    def __init__(self, config: SmtpConfig, limiter: RateLimiter) -> None:
        self.config = config
        self.limiter = limiter
        self._client: aiosmtplib.SMTP | None = None
        self.connections = 0  # how many times it connected (reuse is measured by the bench)

    async def _connect(self) -> aiosmtplib.SMTP:
        c = self.config
        client = aiosmtplib.SMTP(
            hostname=c.host,
            port=c.port,
            use_tls=c.use_tls,
            start_tls=c.start_tls,
            username=c.username,
            password=c.password,
            timeout=c.timeout,
        )
        try:
            await client.connect()
        except (aiosmtplib.SMTPException, OSError) as exc:
            # Not this message's fault (server down, wrong password): retry it later.
            error = _classify(exc)
            raise SendError(
                f"Could not connect to the mail server: {error.reason}", permanent=False
            ) from exc
        self.connections += 1
        return client

    async def send(self, envelope: Envelope) -> None:
        """Raises SendError; returns once the server has accepted the message."""
        await self.limiter.acquire()
        try:
            await self._send(envelope)
        finally:
            # The slot counts from when the server has the message, not from when it was asked.
            self.limiter.sent()

    async def _send(self, envelope: Envelope) -> None:
        for attempt in (1, 2):
            try:
                if self._client is None or not self._client.is_connected:
                    self._client = await self._connect()
                await self._client.sendmail(envelope.sender, envelope.recipients, envelope.data)
                return
            except aiosmtplib.SMTPServerDisconnected as exc:
                # A server may close an idle connection: reconnect once, then give up for now.
                self._client = None
                if attempt == 2:
                    raise _classify(exc) from exc
            except (aiosmtplib.SMTPException, OSError) as exc:
                error = _classify(exc)
                if not error.permanent:
                    await self._drop()
                else:
                    await self._reset()
                raise error from exc
            except SendError:
                raise
            except Exception as exc:
                # Something the mail library did not foresee: the connection may be left in
                # the middle of a message, so it is not reused; the message is tried later.
                await self._drop()
                raise SendError(
                    f"Could not hand it to the mail server: {exc or type(exc).__name__}",
                    permanent=False,
                ) from exc

    async def _reset(self) -> None:
        # After a refused message the connection stays usable once the transaction is reset.
        if self._client is not None and self._client.is_connected:
            try:
                await self._client.rset()
            except (aiosmtplib.SMTPException, OSError):
                await self._drop()

    async def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):  # closing a broken connection
                client.close()

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None and client.is_connected:
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError):
                client.close()
