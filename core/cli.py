"""The ``trunkline`` command line: serve, plugins, workspaces, database, ledger.

Plugins may add command groups through the ``trunkline_cli`` hook; they are loaded (not
strictly: a broken plugin is reported, not fatal) when the command line starts.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Coroutine
from typing import Annotated, Any

import typer

from .errors import ConfigurationError, TrunklineError
from .settings import Settings, load_settings, read_plugins_file

app = typer.Typer(
    help="Trunkline: numbers, caller-ID verification and outbound policy.",
    no_args_is_help=True,
    add_completion=False,
)
plugins_app = typer.Typer(help="Installed plugins.", no_args_is_help=True)
workspaces_app = typer.Typer(help="Workspaces and API keys.", no_args_is_help=True)
db_app = typer.Typer(help="The database.", no_args_is_help=True)
ledger_app = typer.Typer(help="The pass-through ledger.", no_args_is_help=True)
attestation_app = typer.Typer(
    help="Numbers' expected SHAKEN/STIR attestation.", no_args_is_help=True
)
app.add_typer(plugins_app, name="plugins")
app.add_typer(workspaces_app, name="workspaces")
app.add_typer(db_app, name="db")
app.add_typer(ledger_app, name="ledger")
app.add_typer(attestation_app, name="attestation")


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigurationError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(2) from None


def _lenient_host(settings: Settings) -> Any:
    """The plugin host as configured, but a broken plugin is recorded instead of fatal."""
    from .plugins import create_plugin_host

    pfile = read_plugins_file(settings.plugins_toml)
    pfile.strict = False
    return create_plugin_host(
        pfile,
        enabled_override=settings.enabled_override,
        public_base_url=settings.public_base_url,
    )


def _run(work: Coroutine[Any, Any, Any]) -> Any:
    """Run a command's work; a Trunkline error is one line on stderr and exit status 2."""
    try:
        return asyncio.run(work)
    except TrunklineError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(2) from None


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
) -> None:
    """Serve the HTTP API and the console."""
    import uvicorn

    settings = _settings()
    try:  # fail fast, with the plugin named, before uvicorn starts workers
        read_plugins_file(settings.plugins_toml)
    except ConfigurationError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(2) from None
    uvicorn.run(
        "api.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
    )


@plugins_app.command("list")
def plugins_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every installed plugin: version, hooks, providers, bundled, enabled, status or error."""
    plugins = _lenient_host(_settings()).describe()
    if as_json:
        typer.echo(json.dumps(plugins, indent=2, default=str))
        return
    for p in plugins:
        origin = "bundled" if p["bundled"] else (p["distribution"] or "?")
        line = f"{p['name']:<16} {p['version'] or '-':<10} {p['status']:<9} {origin:<20}"
        if p["providers"]:
            line += " providers=" + ",".join(p["providers"])
        typer.echo(line)
        if p["hooks"]:
            typer.echo("    hooks: " + ", ".join(p["hooks"]))
        if p["error"]:
            typer.echo("    error: " + p["error"])


@workspaces_app.command("create")
def workspaces_create(name: str) -> None:
    """Create a workspace and its admin user; print the API key (shown only this once)."""
    from .auth import create_workspace
    from .db import make_engine, make_sessionmaker

    settings = _settings()

    async def run() -> tuple[str, str]:
        engine = make_engine(settings.database_url)
        try:
            async with make_sessionmaker(engine)() as session:
                workspace, _user, key = await create_workspace(session, name)
                return str(workspace.id), key
        finally:
            await engine.dispose()

    workspace_id, key = asyncio.run(run())
    typer.echo(f"workspace: {workspace_id}")
    typer.echo(f"api key (shown once, keep it): {key}")


@workspaces_app.command("demo-key")
def workspaces_demo_key(name: str = "Demo") -> None:
    """For a local try-out: ensure workspace NAME exists and print a fresh key for its admin."""
    from sqlalchemy import select

    from .auth import create_workspace, issue_key
    from .db import make_engine, make_sessionmaker
    from .tables import User, Workspace

    settings = _settings()

    async def run() -> tuple[str, str]:
        engine = make_engine(settings.database_url)
        try:
            async with make_sessionmaker(engine)() as session:
                workspace = (
                    (await session.execute(select(Workspace).where(Workspace.name == name)))
                    .scalars()
                    .first()
                )
                if workspace is None:
                    created, _user, key = await create_workspace(session, name)
                    return str(created.id), key
                user = (
                    (await session.execute(select(User).where(User.workspace_id == workspace.id)))
                    .scalars()
                    .first()
                )
                if user is None:
                    user = User(workspace_id=workspace.id, name="admin", role="admin")
                    session.add(user)
                    await session.flush()
                key = await issue_key(session, user)
                await session.commit()
                return str(workspace.id), key
        finally:
            await engine.dispose()

    workspace_id, key = asyncio.run(run())
    typer.echo(f"workspace {name}: {workspace_id}")
    typer.echo(f"api key: {key}")


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Migrate the configured database (TRUNKLINE_DATABASE_URL) to ``revision``."""
    from .migrate import upgrade

    settings = _settings()
    upgrade(settings.database_url, revision)
    typer.echo(f"database at {revision}")


@db_app.command("downgrade")
def db_downgrade(revision: str) -> None:
    """Migrate the configured database down to ``revision`` (``base``: empty)."""
    from .migrate import downgrade

    downgrade(_settings().database_url, revision)
    typer.echo(f"database at {revision}")


@ledger_app.command("accrue-rentals")
def accrue_rentals(
    period: Annotated[str, typer.Option(help="The month, YYYY-MM.")],
) -> None:
    """Add one zero-markup rental entry per hosted number for PERIOD; running twice adds none."""
    from .db import make_engine, make_sessionmaker
    from .purchases import accrue_rentals as accrue

    settings = _settings()

    async def run() -> int:
        engine = make_engine(settings.database_url)
        try:
            async with make_sessionmaker(engine)() as session:
                return await accrue(session, period)
        finally:
            await engine.dispose()

    added = _run(run())
    typer.echo(f"{added} rental entries added for {period}")


@attestation_app.command("refresh")
def attestation_refresh(
    workspace: Annotated[
        str | None, typer.Option(help="Only this workspace's numbers (its id).")
    ] = None,
) -> None:
    """Ask each number's carrier again for the attestation it will sign, and store it."""
    import uuid

    from .attestation import refresh_all
    from .runtime import start_runtime

    settings = _settings()
    try:
        workspace_id = uuid.UUID(workspace) if workspace else None
    except ValueError:
        typer.echo(f"error: --workspace {workspace!r} is not a workspace id", err=True)
        raise typer.Exit(2) from None

    async def run() -> Any:
        rt = await start_runtime(settings)
        try:
            async with rt.sessionmaker() as session:
                return await refresh_all(rt, session, workspace_id=workspace_id)
        finally:
            await rt.aclose()

    report = _run(run())
    plural = "" if report.checked == 1 else "s"
    typer.echo(
        f"attestation: {report.checked} number{plural} checked, {report.changed} changed, "
        f"{report.failed} not answered (kept as they were)"
    )
    if report.failed:
        raise typer.Exit(1)


def main(argv: list[str] | None = None) -> None:
    """Console entry point: plugin command groups are added before parsing."""
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] not in {
        "serve",
        "plugins",
        "workspaces",
        "db",
        "ledger",
        "attestation",
        "--help",
    }:
        try:
            host = _lenient_host(load_settings())
            host.add_cli_commands(app)
        except ConfigurationError as exc:
            typer.echo(f"error: {exc.detail}", err=True)
            raise SystemExit(2) from None
    app(args=args, prog_name="trunkline")
