"""Security headers on every response: nosniff, a referrer policy, a Content-Security-Policy
and, when Parcours is served over https, HSTS.

A pure ASGI middleware that only adds headers to ``http.response.start``: it never buffers a
body, so the live-counter stream (SSE) and the event intake go through untouched. It is put
around the whole application (``app.main``), outside Starlette's last-resort error handler,
so even a 500 page carries the headers.

The policy allows scripts from this server only: no inline ``<script>``, no ``onclick=…``
(the pages' small behaviours live in ``static/js/page.js``), so markup injected through user
data could not run even if it slipped past escaping. Styles: stylesheets from this server, but
``style=""`` attributes are allowed (``style-src-attr``), because the server positions canvas
cards and graph blocks and sizes progress bars with them; an attribute cannot load or run
anything. A route may send a policy of its own (``EMAIL_FRAME_HEADERS``), which is then kept.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_COMMON = "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; "
    f"img-src 'self' data:; connect-src 'self'; {_COMMON}"
)
# An email is shown in a sandboxed srcdoc frame, which inherits the page's policy: emails are
# styled inline and in <style> (css-inline) and show images from anywhere, as the recipient
# sees them. The sandbox (no allow-scripts) keeps the email's own markup from running.
EMAIL_FRAME_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    f"img-src 'self' data: https: http:; connect-src 'self'; {_COMMON}"
)
EMAIL_FRAME_HEADERS = {"Content-Security-Policy": EMAIL_FRAME_POLICY}
# The API reference (/docs) is the vendored Swagger UI, started from static/js/api-docs.js:
# scripts from this server only, like every page; its stylesheet and the <style> elements
# Swagger UI adds at run time are let through, on a page that shows no user data.
DOCS_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    f"img-src 'self' data:; connect-src 'self'; {_COMMON}"
)
DOCS_PATHS = frozenset({"/docs"})
# A signup form (/f/{key}) is embedded in other sites' pages: no X-Frame-Options, and its route
# sends its own policy with ``frame-ancestors *`` (app/routes/forms_public.py). Its
# confirmation pages (/f/confirm/…) are opened from an email and stay unframeable.
FRAMEABLE_PREFIX = "/f/"
NOT_FRAMEABLE_PREFIX = "/f/confirm/"
REFERRER_POLICY = "strict-origin-when-cross-origin"
HSTS = "max-age=31536000"

_CSP = b"content-security-policy"


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self.headers: list[tuple[bytes, bytes]] = [
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", REFERRER_POLICY.encode()),
            (b"x-frame-options", b"DENY"),
        ]
        if https:
            self.headers.append((b"strict-transport-security", HSTS.encode()))
        self.policy = CONTENT_SECURITY_POLICY.encode()
        self.docs_policy = DOCS_POLICY.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        policy = self.docs_policy if path in DOCS_PATHS else self.policy
        framed = path.startswith(FRAMEABLE_PREFIX) and not path.startswith(NOT_FRAMEABLE_PREFIX)
        ours = [h for h in self.headers if not (framed and h[0] == b"x-frame-options")]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers += [h for h in ours if h[0] not in present]
                if _CSP not in present:
                    headers.append((_CSP, policy))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
