"""Settings: sensible defaults on one machine, and no weak secret in production."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from app.config import Settings


def test_defaults_to_a_sqlite_file_in_the_data_folder(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]

    assert settings.database_url == f"sqlite:///{tmp_path.as_posix()}/parcours.db"
    assert settings.uses_embedded_redis


@pytest.mark.parametrize("url", ["postgres://u@h/db", "postgresql://u@h/db"])
def test_postgres_urls_use_the_psycopg_driver(url: str) -> None:
    assert Settings(database_url=url, _env_file=None).database_url == "postgresql+psycopg://u@h/db"  # type: ignore[call-arg]


@pytest.mark.parametrize("secret", ["", "change-me", "short-secret"])
def test_production_refuses_a_missing_or_weak_secret(secret: str) -> None:
    with pytest.raises(ValidationError, match="PARCOURS_SECRET_KEY"):
        Settings(env="production", secret_key=secret, _env_file=None)  # type: ignore[call-arg]


def test_production_accepts_a_long_random_secret() -> None:
    settings = Settings(
        env="production",
        secret_key="s" * 48,
        base_url="https://parcours.example.com",
        _env_file=None,  # type: ignore[call-arg]
    )

    assert settings.resolved_secret_key() == "s" * 48


@pytest.mark.parametrize("url", ["http://parcours.example.com", "HTTP://parcours.example.com"])
def test_production_refuses_a_plain_http_address(url: str) -> None:
    with pytest.raises(ValidationError, match="PARCOURS_BASE_URL must start with https://"):
        Settings(env="production", secret_key="s" * 48, base_url=url, _env_file=None)  # type: ignore[call-arg]


def test_production_takes_a_plain_http_address_behind_a_tls_proxy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PARCOURS_BEHIND_TLS_PROXY", "true")
    settings = Settings(
        env="production",
        secret_key="s" * 48,
        base_url="http://parcours.internal:8000",
        _env_file=None,  # type: ignore[call-arg]
    )

    assert settings.behind_tls_proxy
    assert not settings.serves_https


def test_dev_keeps_its_plain_http_default() -> None:
    settings = Settings(env="dev", _env_file=None)  # type: ignore[call-arg]

    assert settings.base_url == "http://127.0.0.1:8000"
    assert not settings.serves_https


def test_dev_keeps_one_generated_secret_across_restarts(tmp_path: Path) -> None:
    first = Settings(data_dir=tmp_path, _env_file=None).resolved_secret_key()  # type: ignore[call-arg]
    second = Settings(data_dir=tmp_path, _env_file=None).resolved_secret_key()  # type: ignore[call-arg]

    assert first == second
    assert len(first) >= 48
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_settings_come_from_prefixed_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARCOURS_BASE_URL", "https://mail.shop.example")
    monkeypatch.setenv("PARCOURS_SMTP_URL", "smtp://relay:25")

    settings = Settings(_env_file=None)  # type: ignore[call-arg]

    assert (settings.base_url, settings.smtp_url) == (
        "https://mail.shop.example",
        "smtp://relay:25",
    )


@pytest.mark.parametrize(
    ("host", "port", "base_url"),
    [
        ("127.0.0.1", 9000, "http://127.0.0.1:9000"),
        ("0.0.0.0", 8080, "http://127.0.0.1:8080"),
        ("parcours.lan", 8000, "http://parcours.lan:8000"),
        ("::1", 8000, "http://[::1]:8000"),
    ],
)
def test_an_unset_base_url_follows_the_host_and_port_it_listens_on(
    host: str, port: int, base_url: str
) -> None:
    settings = Settings(host=host, port=port, _env_file=None)  # type: ignore[call-arg]

    assert settings.base_url == base_url


def test_parcours_port_in_the_environment_moves_the_base_url_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PARCOURS_PORT", "8123")
    monkeypatch.delenv("PARCOURS_BASE_URL", raising=False)

    assert Settings(_env_file=None).base_url == "http://127.0.0.1:8123"  # type: ignore[call-arg]


def test_a_base_url_that_is_set_is_kept_whatever_the_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARCOURS_PORT", "8123")
    monkeypatch.setenv("PARCOURS_BASE_URL", "https://shop.example.com/parcours")

    assert Settings(_env_file=None).base_url == "https://shop.example.com/parcours"  # type: ignore[call-arg]
