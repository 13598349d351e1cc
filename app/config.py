"""Settings read from the environment (prefix ``PARCOURS_``) and an optional ``.env`` file."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET_PLACEHOLDER = "change-me"
MIN_SECRET_LENGTH = 32


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PARCOURS_", env_file=".env", extra="ignore")

    env: Literal["dev", "test", "production"] = "dev"
    data_dir: Path = Path("data")
    database_url: str = ""
    redis_url: str = ""
    smtp_url: str = ""
    # Where browsers reach Parcours (links in emails, Secure cookies). Unset: the address the
    # web server listens on (host and port below), as a browser on this machine would type it.
    base_url: str = ""
    # Production serves over https; an http:// base_url is only accepted when a proxy in
    # front terminates TLS and says so here.
    behind_tls_proxy: bool = False
    secret_key: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    session_max_age_seconds: int = Field(default=14 * 24 * 3600, gt=0)
    # Enrollments the engine advances per transaction: larger chunks, fewer commits.
    engine_chunk_size: int = Field(default=2000, ge=1, le=20_000)
    # Transactions a worker runs side by side (0: two on PostgreSQL, where one's Python work
    # overlaps the other's database work; one on SQLite, which has a single writer).
    engine_lanes: int = Field(default=0, ge=0, le=8)
    # Live counters (issue 8): an SSE stream ends after this long and the browser reconnects,
    # so a stopping server never waits longer than this on an open canvas.
    live_stream_seconds: float = Field(default=15.0, gt=0)
    # The time zone pages show times in for a user who has not chosen one in Settings.
    time_zone: str = "Europe/Paris"
    # Messages and delivery (issue 6). ``mail_from`` is the sender when a template sets none
    # (default: "Parcours <no-reply@host of base_url>"). The SMTP rate holds across workers:
    # one worker at a time drains the outbox (a Redis lease), at most this many per second.
    mail_from: str = ""
    smtp_rate_per_second: float = Field(default=50, gt=0)
    delivery_chunk_size: int = Field(default=200, gt=0, le=5000)
    delivery_max_attempts: int = Field(default=8, gt=0)
    # An HTTP SMS provider; empty: SMS land in the built-in mailbox.
    sms_provider_url: str = ""
    sms_provider_token: str = ""
    sms_from: str = "Parcours"
    # Webhooks to private, loopback or link-local addresses are refused unless their host
    # or network is listed here, comma-separated: "hooks.internal, 10.1.0.0/16, 127.0.0.1".
    webhook_allow: str = ""
    webhook_timeout_seconds: float = Field(default=10, gt=0, le=120)
    # Contacts intake (issue 4): API requests per key per window (0 turns the limit off),
    # event body and batch limits, and the largest CSV a marketer may import.
    api_rate_limit: int = Field(default=2000, ge=0)
    api_rate_limit_window_seconds: int = Field(default=10, gt=0)
    # The website snippet's public site key (issue 12) has budgets of its own, so a page's
    # visitors (or anyone who read the key in it) cannot use up the server API's: one for all
    # the key's traffic and a small one per client address (0 turns either off).
    site_rate_limit: int = Field(default=2000, ge=0)
    site_rate_limit_per_address: int = Field(default=60, ge=0)
    site_rate_limit_window_seconds: int = Field(default=10, gt=0)
    events_max_body_bytes: int = Field(default=1_000_000, gt=0)
    events_max_batch: int = Field(default=1000, gt=0)
    import_max_bytes: int = Field(default=50_000_000, gt=0)
    # Every other request body (JSON, forms): larger ones are refused with 413 before they are
    # read whole (issue 12).
    max_body_bytes: int = Field(default=1_000_000, gt=0)
    # Mail providers' signed webhooks (DESIGN §12.4): Mailgun's webhook signing key and
    # SendGrid's Signed Event Webhook verification key (base64 or PEM). Unset: the hook is off.
    mailgun_signing_key: str = ""
    sendgrid_public_key: str = ""

    @model_validator(mode="after")
    def _fill_defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.data_dir / 'parcours.db').as_posix()}"
        self.database_url = normalize_database_url(self.database_url)
        if not self.base_url:
            self.base_url = local_base_url(self.host, self.port)
        if self.env == "production":
            weak = len(self.secret_key) < MIN_SECRET_LENGTH
            if weak or self.secret_key == DEV_SECRET_PLACEHOLDER:
                raise ValueError(
                    "PARCOURS_SECRET_KEY must be set to a random value of at least "
                    f"{MIN_SECRET_LENGTH} characters in production "
                    '(python -c "import secrets; print(secrets.token_urlsafe(48))")'
                )
            if not self.serves_https and not self.behind_tls_proxy:
                raise ValueError(
                    "PARCOURS_BASE_URL must start with https:// in production, so sessions "
                    "and links travel encrypted. If a proxy in front of Parcours handles https, "
                    "set PARCOURS_BEHIND_TLS_PROXY=true."
                )
        return self

    @property
    def serves_https(self) -> bool:
        """Browsers reach Parcours over https: HSTS is sent (and cookies are Secure)."""
        return self.base_url.lower().startswith("https://")

    @property
    def uses_embedded_redis(self) -> bool:
        return not self.redis_url

    def resolved_secret_key(self) -> str:
        """The signing secret; in dev and test a random one is kept in the data folder."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key


def local_base_url(host: str, port: int) -> str:
    """``http://127.0.0.1:8000`` for a server on host:port; one listening on every address
    (0.0.0.0, ::) is reached on this machine through the loopback address."""
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def normalize_database_url(url: str) -> str:
    """Accept the URLs people paste (postgres://, postgresql://) and pick the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@lru_cache
def get_settings() -> Settings:
    return Settings()
