"""Where a page sends someone back after a detour (the canvas -> the message editor -> the canvas).

Only a path of this site is followed: ``/scenarios/4?block=send``. Anything that could leave
the site (``https://…``, ``//host``, ``/\\host``, ``javascript:``) or smuggle a line break is
dropped, so a crafted link cannot turn the editor into an open redirect.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit, urlunsplit

MAX_LENGTH = 500


def safe_return(value: str | None) -> str | None:
    """``value`` when it is a path of this site, else None."""
    if not value or len(value) > MAX_LENGTH:
        return None
    if not value.startswith("/") or value.startswith(("//", "/\\")):
        return None
    if any(char in value for char in "\\\r\n\t") or not value.isprintable():
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return None
    return value


def with_param(path: str, name: str, value: str) -> str:
    """``/scenarios/4?block=send`` + ``message=coupon``: the path with one more parameter."""
    parts = urlsplit(path)
    query = f"{parts.query}&{urlencode({name: value})}" if parts.query else urlencode({name: value})
    return urlunsplit(("", "", parts.path, query, ""))
