"""Email bytes, built once in the preparing thread and sent as they are.

At hundreds of emails a second the stdlib's generator (``EmailMessage.as_bytes``) is the
slowest step of a send, so the message is assembled here from the stdlib's encoders: bodies
in UTF-8 quoted-printable (``binascii.b2a_qp``), non-ASCII names and subjects as RFC 2047
encoded words (``email.header``), one ``multipart/alternative`` when there is HTML. The
boundary cannot occur in a quoted-printable body ("=" is always encoded there).
"""

from __future__ import annotations

import binascii
import secrets
from dataclasses import dataclass
from email.header import Header
from email.utils import formataddr

Person = tuple[str, str]  # (display name, address)


@dataclass(frozen=True)
class Envelope:
    sender: str
    recipients: list[str]
    data: bytes


def person(who: Person) -> str:
    return formataddr((_clean(who[0]), _clean(who[1])), charset="utf-8")


def header_text(value: str) -> str:
    value = " ".join(value.split())
    return value if value.isascii() else Header(value, "utf-8").encode()


def _clean(value: str) -> str:
    # A header value never spans lines: nothing can be injected through a placeholder.
    return " ".join(value.split())


def _part(content: str, subtype: str) -> bytes:
    body = binascii.b2a_qp(content.replace("\r\n", "\n").encode("utf-8"), istext=True)
    return (
        f'Content-Type: text/{subtype}; charset="utf-8"\n'
        "Content-Transfer-Encoding: quoted-printable\n\n"
    ).encode() + body


def build_email(
    *,
    sender: Person,
    to: Person,
    subject: str,
    text: str,
    html: str = "",
    headers: list[tuple[str, str]] | None = None,
    reply_to: str | None = None,
) -> Envelope:
    lines = [
        f"From: {person(sender)}",
        f"To: {person(to)}",
        f"Subject: {header_text(subject)}",
    ]
    if reply_to:
        lines.append(f"Reply-To: {_clean(reply_to)}")
    lines += [f"{name}: {_clean(value)}" for name, value in headers or []]
    lines.append("MIME-Version: 1.0")
    if not html:
        head = "\n".join(lines).encode() + b"\n"
        return Envelope(sender[1], [to[1]], head + _part(text, "plain"))
    boundary = f"=_parcours_{secrets.token_hex(12)}"
    lines.append(f'Content-Type: multipart/alternative; boundary="{boundary}"')
    mark = f"\n--{boundary}\n".encode()
    data = (
        "\n".join(lines).encode()
        + b"\n"
        + mark
        + _part(text, "plain")
        + mark
        + _part(html, "html")
        + f"\n--{boundary}--\n".encode()
    )
    return Envelope(sender[1], [to[1]], data)
