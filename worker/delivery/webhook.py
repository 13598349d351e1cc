"""Webhooks: calling a URL of the marketer's choice, without opening the server's network.

A webhook URL could name an address only the server can reach (a database, a cloud
metadata service at 169.254.169.254, the admin port of a local service). So the host is
resolved and **every** address it resolves to must be public: private, loopback, link-local,
multicast, reserved and unspecified addresses are refused, unless the host or its network is
in ``PARCOURS_WEBHOOK_ALLOW`` (the policy is in ``app/services/messaging/webhook_address.py``,
shared with the linter, which warns of it when a scenario is saved). Redirects are not
followed (they could point inside).

The body is a template (``{{ contact.email | tojson }}``…) that must give valid JSON; without
one, Parcours sends the contact, the event and where it comes from. The outbox key goes in an
``Idempotency-Key`` header so the receiver can ignore a repeat. Timeouts, connection errors,
429 and 5xx are tried again later with backoff; other answers fail with the status.

Residual risk, documented: the address is checked when resolved here and httpx resolves it
again to connect, so a DNS server answering differently within milliseconds (DNS rebinding)
could still slip through; put webhooks behind an egress proxy where that matters.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from app.services.messaging.webhook_address import AllowList, IpAddress, is_public
from worker.delivery.smtp import SendError

METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


async def resolve(host: str, port: int) -> list[IpAddress]:
    try:
        literal = ipaddress.ip_address(host.strip("[]"))
        return [literal]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


async def check_destination(url: str, allow: AllowList) -> None:
    """Raises SendError (permanent) for a URL that is not a public http(s) address."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise SendError("The webhook address must start with http:// or https://", permanent=True)
    host = parts.hostname.lower().rstrip(".")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:  # a port that is not a number from 1 to 65535
        raise SendError(
            f"The webhook address has an impossible port: {url}", permanent=True
        ) from exc
    try:
        addresses = await resolve(host, port)
    except OSError as exc:
        raise SendError(
            f"The webhook host {host} could not be found: {exc}", permanent=False
        ) from exc
    refused = [a for a in addresses if not is_public(a) and not allow.allows(host, a)]
    if refused or not addresses:
        raise SendError(
            f"Refused: {host} points to a private, loopback or link-local address "
            f"({', '.join(map(str, refused)) or 'none'}). Add it to PARCOURS_WEBHOOK_ALLOW "
            "if this is intended.",
            permanent=True,
        )


@dataclass(frozen=True)
class WebhookCall:
    url: str
    method: str
    body: Any  # JSON-able, or None for GET
    key: str


def webhook_body(rendered: str | None, default: dict[str, Any]) -> Any:
    if rendered is None or not rendered.strip():
        return default
    try:
        return json.loads(rendered)
    except json.JSONDecodeError as exc:
        raise SendError(
            f"The webhook body is not valid JSON once filled in (line {exc.lineno}: {exc.msg}). "
            "Use | tojson around values, e.g. {{ contact.email | tojson }}.",
            permanent=True,
        ) from exc
    except RecursionError as exc:
        raise SendError(
            "The webhook body nests its JSON too deeply once filled in.", permanent=True
        ) from exc


class WebhookSender:
    def __init__(
        self,
        allow: AllowList,
        *,
        timeout: float = 10,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.allow = allow
        self._client = httpx.AsyncClient(
            timeout=timeout,
            follow_redirects=False,
            transport=transport,
            headers={"User-Agent": "Parcours-Webhook/1"},
        )

    async def call(self, hook: WebhookCall) -> None:
        method = hook.method.upper()
        if method not in METHODS:
            raise SendError(f"{hook.method} is not a method webhooks can use", permanent=True)
        await check_destination(hook.url, self.allow)
        content = None if method == "GET" else json.dumps(hook.body, default=str).encode()
        headers = {"Idempotency-Key": hook.key}
        if content is not None:
            headers["Content-Type"] = "application/json"
        try:
            response = await self._client.request(
                method, hook.url, content=content, headers=headers
            )
        except httpx.TimeoutException as exc:
            raise SendError("The webhook did not answer in time", permanent=False) from exc
        except httpx.HTTPError as exc:
            raise SendError(f"Could not call the webhook: {exc}", permanent=False) from exc
        if response.is_success:
            return
        said = response.text.strip()[:200]
        temporary = response.status_code in {408, 429} or response.status_code >= 500
        kind = "" if temporary else " (not retried)"
        raise SendError(
            f"The webhook answered {response.status_code}{kind}: {said}", permanent=not temporary
        )

    async def close(self) -> None:
        await self._client.aclose()
