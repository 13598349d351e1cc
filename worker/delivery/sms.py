"""Sending SMS: through an HTTP provider when one is configured, else into the mailbox.

The provider adapter posts ``{"to", "from", "text"}`` as JSON to ``PARCOURS_SMS_PROVIDER_URL``
with ``Authorization: Bearer PARCOURS_SMS_PROVIDER_TOKEN`` (or basic auth written in the URL,
``https://user:pass@sms.example/send``). 2xx: sent. 429, 5xx, timeouts: tried again later.
Any other answer: failed, with what the provider said.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from urllib.parse import unquote, urlsplit, urlunsplit

import httpx

from worker.delivery.smtp import SendError


@dataclass(frozen=True)
class Sms:
    to: str
    sender: str
    text: str
    key: str  # the outbox idempotency key, sent along so a provider can de-duplicate


class SmsSender(Protocol):
    """Delivers one SMS or raises SendError. ``keeps_copy``: the mailbox stores it instead."""

    keeps_copy: bool

    async def send(self, sms: Sms) -> None: ...

    async def close(self) -> None: ...


class MailboxSms:
    """The default: nothing leaves the machine, the SMS is kept for the Mailbox page."""

    keeps_copy = True

    async def send(self, sms: Sms) -> None:
        return None

    async def close(self) -> None:
        return None


class HttpSmsProvider:
    keeps_copy = False

    def __init__(
        self,
        url: str,
        token: str = "",
        *,
        timeout: float = 10,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        parts = urlsplit(url)
        auth = None
        if parts.username:
            auth = httpx.BasicAuth(unquote(parts.username), unquote(parts.password or ""))
            netloc = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
            parts = parts._replace(netloc=netloc)
        self.url = urlunsplit(parts)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._client = httpx.AsyncClient(
            auth=auth, headers=headers, timeout=timeout, transport=transport
        )

    async def send(self, sms: Sms) -> None:
        body = {"to": sms.to, "from": sms.sender, "text": sms.text, "reference": sms.key}
        try:
            response = await self._client.post(
                self.url, json=body, headers={"Idempotency-Key": sms.key}
            )
        except httpx.HTTPError as exc:
            raise SendError(f"Could not reach the SMS provider: {exc}", permanent=False) from exc
        if response.is_success:
            return
        said = response.text.strip()[:300]
        temporary = response.status_code == 429 or response.status_code >= 500
        raise SendError(
            f"The SMS provider answered {response.status_code}: {said}", permanent=not temporary
        )

    async def close(self) -> None:
        await self._client.aclose()
