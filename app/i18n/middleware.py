"""Every request starts with its own speaker: the browser's language before login.

The logged-in user's own choice replaces it in ``app.deps.get_current_user``. The JSON API is
always answered in English, whatever the caller's ``Accept-Language``.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from app.i18n.speaker import SOURCE_LANGUAGE, Speaker, begin, negotiate, supported, zone_or_utc

ENGLISH_PATHS = ("/api/", "/health")


class LocaleMiddleware:
    def __init__(self, app: ASGIApp, *, time_zone: str) -> None:
        self.app = app
        self.time_zone = zone_or_utc(time_zone)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            begin(Speaker(self._language(scope), self.time_zone))
        await self.app(scope, receive, send)

    @staticmethod
    def _language(scope: Scope) -> str:
        if str(scope.get("path", "")).startswith(ENGLISH_PATHS):
            return SOURCE_LANGUAGE
        # The language last chosen in this browser (kept in the signed session at login and
        # when changed in Settings), so the login page after a logout still speaks it.
        session = scope.get("session") or {}
        chosen = supported(session.get("lang")) if isinstance(session, dict) else None
        header = Headers(scope=scope).get("accept-language")
        return chosen or negotiate(header) or SOURCE_LANGUAGE
