"""The ``parcours`` command."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from app.config import Settings, get_settings, local_base_url
from app.db import create_db_engine, session_scope
from app.services.account.demo import DemoCredentials, seed_demo

cli = typer.Typer(help="Parcours: marketing-automation scenarios.", no_args_is_help=True)
users_cli = typer.Typer(help="People who can log into the UI.", no_args_is_help=True)
apikey_cli = typer.Typer(help="API keys for shops and websites.", no_args_is_help=True)
cli.add_typer(users_cli, name="users")
cli.add_typer(apikey_cli, name="apikey")

WORKER_RESTART_DELAY_SECONDS = 2.0
WORKER_COMMAND = ("python", "-m", "worker")


def _credentials_file() -> Path:
    return get_settings().data_dir / "first-login.txt"


def _write_credentials(creds: DemoCredentials) -> None:
    path = _credentials_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"Admin login: {creds.email}\nPassword:    {creds.password}\nAPI key:     {creds.api_key}\n"
    )
    path.chmod(0o600)


@cli.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    from app.migrate import upgrade

    upgrade(get_settings().database_url)
    typer.echo("Database is up to date.")


def _seed_if_empty() -> bool:
    engine = create_db_engine(get_settings().database_url)
    with session_scope(engine) as session:
        creds = seed_demo(session)
    engine.dispose()
    if creds is not None:
        _write_credentials(creds)
    return creds is not None


@cli.command("seed-demo")
def seed_demo_command() -> None:
    """Fill an empty installation with an admin, an API key, lists and contacts."""
    if not _seed_if_empty():
        typer.echo("Users exist already: demo data not added.")
        return
    typer.echo(_credentials_file().read_text())


@users_cli.command("create")
def users_create(
    email: str,
    name: Annotated[str, typer.Option(help="Shown in the UI.")] = "",
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)
    ] = "",
) -> None:
    """Create a person who can log in."""
    from app.services.account.users import create_user
    from app.services.errors import ServiceError

    engine = create_db_engine(get_settings().database_url)
    try:
        with session_scope(engine) as session:
            user = create_user(session, email=email, password=password, name=name)
            typer.echo(f"{user.email} can now log in.")
    except ServiceError as exc:
        typer.echo(exc.message, err=True)
        raise typer.Exit(1) from exc


def _read_new_password() -> str:
    """Typed twice without echo at a terminal; one line of standard input otherwise
    (``echo "$PW" | parcours users password ana@shop.example``)."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = typer.prompt("New password", hide_input=True, default="", show_default=False)
    again = typer.prompt("Again, to check", hide_input=True, default="", show_default=False)
    if first != again:
        typer.echo("The two passwords differ; nothing was changed.", err=True)
        raise typer.Exit(1)
    return first


@users_cli.command("password")
def users_password(email: str) -> None:
    """Set someone's password (a forgotten one too); they are logged out everywhere."""
    from app.services.account.users import set_password
    from app.services.errors import ServiceError

    password = _read_new_password()
    engine = create_db_engine(get_settings().database_url)
    try:
        with session_scope(engine) as session:
            user = set_password(session, email=email, new=password)
            typer.echo(f"Password changed for {user.email}; their open sessions have ended.")
    except ServiceError as exc:
        typer.echo(f"{exc.message} Nothing was changed.", err=True)
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()


@apikey_cli.command("create")
def apikey_create(name: str) -> None:
    """Create an API key; it is printed once and only its hash is kept."""
    from app.services.account.api_keys import create_api_key

    engine = create_db_engine(get_settings().database_url)
    with session_scope(engine) as session:
        _, plain = create_api_key(session, name=name)
    typer.echo(plain)


HostOption = Annotated[
    str | None, typer.Option(help="Address to listen on (default: PARCOURS_HOST, 127.0.0.1).")
]
PortOption = Annotated[
    int | None,
    typer.Option(min=1, max=65535, help="Port to listen on (default: PARCOURS_PORT, 8000)."),
]


def _listening_on(host: str | None, port: int | None) -> Settings:
    """The settings with --host/--port in force. They go through the environment, so the
    processes started from here (the web server and the worker of ``parcours dev``) read the
    same, and an unset PARCOURS_BASE_URL follows them (links in emails, the banner)."""
    if host is not None:
        os.environ["PARCOURS_HOST"] = host
    if port is not None:
        os.environ["PARCOURS_PORT"] = str(port)
    get_settings.cache_clear()
    return get_settings()


@cli.command()
def web(host: HostOption = None, port: PortOption = None) -> None:
    """Serve the web app and the API."""
    import uvicorn

    settings = _listening_on(host, port)
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        proxy_headers=True,
        log_level="info",
    )


@cli.command()
def worker() -> None:
    """Run a worker: triggers, scenario steps and sending."""
    # The worker is its own program (python -m worker); the app only ever enqueues work.
    os.execv(sys.executable, [sys.executable, *WORKER_COMMAND[1:]])


@cli.command()
def dev(host: HostOption = None, port: PortOption = None) -> None:
    """Everything on one machine: migrate, demo data on first start, web and worker."""
    from app.migrate import upgrade
    from app.redis import EmbeddedRedis

    settings = _listening_on(host, port)
    upgrade(settings.database_url)
    _seed_if_empty()

    env = dict(os.environ)
    embedded = None
    if not settings.redis_url:
        embedded = EmbeddedRedis(settings.data_dir)
        env["PARCOURS_REDIS_URL"] = embedded.start()
        typer.echo(f"Embedded Redis: {env['PARCOURS_REDIS_URL']}")

    creds = _credentials_file()
    # Where it listens, as a browser here types it; PARCOURS_BASE_URL may name a proxy instead.
    address = local_base_url(settings.host, settings.port)
    banner = [f"\n  Parcours is running at {address}"]
    if settings.base_url.rstrip("/") != address:
        banner.append(f"  (links in emails point to {settings.base_url})")
    banner.append("")
    if creds.exists():
        banner += ["  " + line for line in creds.read_text().splitlines()]
        banner.append(
            f"  (kept in {creds}; delete it once you have changed the password in Settings,"
            " or with: parcours users password EMAIL)\n"
        )
    typer.echo("\n".join(banner))

    python = sys.executable
    web_proc = subprocess.Popen([python, "-m", "app.cli", "web"], env=env)
    worker_proc = subprocess.Popen([python, *WORKER_COMMAND[1:]], env=env)
    stopping = False

    def _stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        while not stopping:
            time.sleep(0.5)
            if web_proc.poll() is not None:
                typer.echo("The web server stopped; shutting down.", err=True)
                break
            if worker_proc.poll() is not None and not stopping:
                typer.echo("The worker stopped; restarting it.", err=True)
                time.sleep(WORKER_RESTART_DELAY_SECONDS)
                worker_proc = subprocess.Popen([python, *WORKER_COMMAND[1:]], env=env)
    finally:
        for proc in (web_proc, worker_proc):
            if proc.poll() is None:
                proc.terminate()
        for proc in (web_proc, worker_proc):
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        if embedded is not None:
            embedded.stop()


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
