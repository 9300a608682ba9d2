"""The ``trunkline`` command line: serve, plugins, workspaces, database, ledger.

Plugins may add command groups through the ``trunkline_cli`` hook; they are loaded (not
strictly: a broken plugin is reported, not fatal) when the command line starts.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer

from .errors import ConfigurationError, TrunklineError
from .settings import PluginsFile, Settings, load_settings, read_plugins_file

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")

app = typer.Typer(
    help="Trunkline: numbers, caller-ID verification and outbound policy.",
    no_args_is_help=True,
    add_completion=False,
)
plugins_app = typer.Typer(help="Installed plugins.", no_args_is_help=True)
workspaces_app = typer.Typer(help="Workspaces.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys: list, create, revoke.", no_args_is_help=True)
db_app = typer.Typer(help="The database.", no_args_is_help=True)
ledger_app = typer.Typer(help="The pass-through ledger.", no_args_is_help=True)
permissions_app = typer.Typer(help="Carrier dialing permissions.", no_args_is_help=True)
attestation_app = typer.Typer(
    help="Numbers' expected SHAKEN/STIR attestation.", no_args_is_help=True
)
app.add_typer(plugins_app, name="plugins")
app.add_typer(permissions_app, name="permissions")
app.add_typer(workspaces_app, name="workspaces")
app.add_typer(keys_app, name="keys")
app.add_typer(db_app, name="db")
app.add_typer(ledger_app, name="ledger")
app.add_typer(attestation_app, name="attestation")


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigurationError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(2) from None


def _fail(exc: TrunklineError) -> NoReturn:
    """One line on stderr, exit status 2: what a person reads instead of a traceback."""
    typer.echo(f"error: {exc.detail}", err=True)
    raise typer.Exit(2)


def _plugins_file(settings: Settings) -> PluginsFile:
    try:
        return read_plugins_file(settings.plugins_toml)
    except ConfigurationError as exc:
        _fail(exc)


def _lenient_host(settings: Settings, pfile: PluginsFile | None = None, cache: Any = None) -> Any:
    """The plugin host as configured, but a broken plugin is recorded (not fatal, not logged)."""
    from .plugins import create_plugin_host

    return create_plugin_host(
        pfile or _plugins_file(settings),
        enabled_override=settings.enabled_override,
        public_base_url=settings.public_base_url,
        cache=cache,
        strict=False,
        log_failures=False,
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
    access_log: Annotated[
        bool, typer.Option(help="Log one line per request (uvicorn's access log).")
    ] = True,
    log_level: Annotated[
        str, typer.Option(help="uvicorn's log level: info prints the listening line.")
    ] = "info",
) -> None:
    """Serve the HTTP API and the console.

    Prints uvicorn's 'Uvicorn running on http://HOST:PORT' line once it listens, then an
    access-log line per request (--no-access-log turns that off).
    """
    import uvicorn

    from .plugins import create_plugin_host

    settings = _settings()
    try:  # fail fast, with the plugin and the key named, before uvicorn starts workers
        create_plugin_host(
            _plugins_file(settings),
            enabled_override=settings.enabled_override,
            public_base_url=settings.public_base_url,
        )
    except ConfigurationError as exc:
        _fail(exc)
    uvicorn.run(
        "api.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        access_log=access_log,
    )


@plugins_app.command("list")
def plugins_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every installed plugin: version, hooks, providers, settings (secrets redacted), status.

    With strict = true (the default), a plugin that failed to load is also reported on stderr,
    one line each, and the exit status is 2, as `trunkline serve` would refuse to start.
    """
    settings = _settings()
    pfile = _plugins_file(settings)
    host = _lenient_host(settings, pfile)
    plugins = host.describe()
    _print_plugins(plugins, as_json)
    failed = [p for p in plugins if p["status"] == "failed"]
    if failed and pfile.strict:
        for p in failed:
            typer.echo(f"error: {p['error']}", err=True)
        raise typer.Exit(2)


def _print_plugins(plugins: list[dict[str, Any]], as_json: bool) -> None:
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
        if p.get("settings"):
            typer.echo("    settings: " + json.dumps(p["settings"], default=str))
        if p["error"]:
            typer.echo("    error: " + p["error"])


@permissions_app.command("refresh")
def permissions_refresh(
    provider: Annotated[
        str | None, typer.Option(help="Only this provider (default: every one that can tell).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Ask the carriers for their dialing permissions now and print what each answered.

    With TRUNKLINE_REDIS_URL set the answers are shared: running servers adopt them within
    a minute. Exits 1 when a carrier could not be asked.
    """
    from .cache import make_cache
    from .permissions import PermissionStore

    settings = _settings()
    if settings.demo_mode:
        typer.echo("error: DEMO_MODE is on: no carrier is asked", err=True)
        raise typer.Exit(2)

    async def run() -> list[Any]:
        host = _lenient_host(settings, cache=make_cache(settings.redis_url))
        try:
            await host.configure()
            store = PermissionStore(host)
            if provider is not None:
                host.plugin_for(provider)  # ProviderNotFound names it
                return [await store.refresh(provider)]
            return await store.refresh_all()
        finally:
            await host.aclose()

    entries = _run(run())
    shown = {e.provider: e.as_dict() for e in entries}
    if as_json:
        typer.echo(json.dumps(shown, indent=2))
    else:
        for name, e in shown.items():
            line = f"{name:<16} {e['state']:<12} fetched_at={e['fetched_at'] or '-'}"
            line += f" disabled={len(e['disabled_countries'])}"
            typer.echo(line)
            if e["error"]:
                typer.echo("    error: " + e["error"])
    if any(e["state"] in ("stale", "failing") for e in shown.values()):
        raise typer.Exit(1)


#: The actor of audit rows written from the command line.
CLI_ACTOR = "system:cli"


def _with_session(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``work`` with a session on the configured database; a ``TrunklineError`` it raises
    is one line on stderr and exit status 2."""
    from .db import make_engine, make_sessionmaker

    async def run() -> T:
        engine = make_engine(settings.database_url)
        try:
            async with make_sessionmaker(engine)() as session:
                return await work(session)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except TrunklineError as exc:
        _fail(exc)


@workspaces_app.command("create")
def workspaces_create(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The workspace's name.")],
) -> None:
    """Create a workspace and its admin user; print the API key (shown only this once)."""
    from .auth import create_workspace

    async def work(session: AsyncSession) -> tuple[str, str]:
        workspace, _user, key = await create_workspace(session, name)
        return str(workspace.id), key

    workspace_id, key = _with_session(_settings(), work)
    typer.echo(f"workspace: {workspace_id}")
    typer.echo(f"api key (shown once, keep it): {key}")


@workspaces_app.command("list")
def workspaces_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every workspace, oldest first: id, name, creation time, active API keys."""
    from .apikeys import list_workspaces

    rows = _with_session(_settings(), list_workspaces)
    shown: list[dict[str, Any]] = [
        {
            "id": str(w.id),
            "name": w.name,
            "created_at": w.created_at.isoformat(),
            "active_keys": active,
        }
        for w, active in rows
    ]
    if as_json:
        typer.echo(json.dumps(shown, indent=2))
        return
    for w in shown:
        keys = f"{w['active_keys']} active key{'' if w['active_keys'] == 1 else 's'}"
        typer.echo(f"{w['id']}  {w['name']:<24} {keys}  created {w['created_at'][:19]}")


def demo_key_file(database_url: str) -> Path | None:
    """Where ``workspaces demo-key`` keeps the demo key: beside a SQLite file database."""
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database + ".demo-key")


@workspaces_app.command("demo-key")
def workspaces_demo_key(
    name: Annotated[str, typer.Option(help="The demo workspace's name.")] = "Demo",
    key_file: Annotated[
        Path | None,
        typer.Option(
            help="Where the key is kept between runs (default: beside a SQLite database file)."
        ),
    ] = None,
) -> None:
    """For a local try-out (make run): print an API key of the workspace named by --name.

    The key is kept in a file (mode 600) and printed again on the next run as long as it is
    valid, so runs do not pile up keys; a revoked or missing one is replaced by a new key.
    Without a key file (a PostgreSQL database and no --key-file), each run makes a new key:
    list and revoke old ones with the keys commands.
    """
    from sqlalchemy import select

    from .apikeys import create_key, workspace_admin
    from .auth import hash_key
    from .tables import ApiKey, Workspace

    settings = _settings()
    path = key_file or demo_key_file(settings.database_url)
    saved = path.read_text(encoding="utf-8").strip() if path and path.is_file() else None

    async def work(session: AsyncSession) -> tuple[str, str, bool]:
        workspace = (
            (await session.execute(select(Workspace).where(Workspace.name == name)))
            .scalars()
            .first()
        )
        if workspace is None:
            workspace = Workspace(name=name)
            session.add(workspace)
            await session.flush()
        if saved:
            live = (
                await session.execute(
                    select(ApiKey.id).where(
                        ApiKey.key_hash == hash_key(saved),
                        ApiKey.workspace_id == workspace.id,
                        ApiKey.revoked_at.is_(None),
                    )
                )
            ).first()
            if live is not None:
                return str(workspace.id), saved, True
        admin = await workspace_admin(session, workspace.id)
        _row, key = await create_key(
            session, workspace.id, actor=CLI_ACTOR, name="demo", user_id=admin.id
        )
        return str(workspace.id), key, False

    workspace_id, key, reused = _with_session(settings, work)
    typer.echo(f"workspace {name}: {workspace_id}")
    if reused:
        typer.echo(f"api key: {key} (reused from {path})")
        return
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600, exist_ok=True)
        path.chmod(0o600)
        path.write_text(key + "\n", encoding="utf-8")
        typer.echo(f"api key: {key} (saved in {path}: the next run prints it again)")
    else:
        typer.echo(
            f"api key: {key} (new; see old ones with: trunkline keys list --workspace {name})"
        )


@keys_app.command("list")
def keys_list(
    workspace: Annotated[
        str | None, typer.Option(help="Only this workspace's keys (its id or exact name).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """API keys, newest first: id, workspace, prefix, name, created, revoked. Never the keys."""
    from sqlalchemy import select

    from .apikeys import find_workspace, list_keys
    from .tables import Workspace

    async def work(session: AsyncSession) -> list[dict[str, Any]]:
        scope = (await find_workspace(session, workspace)).id if workspace else None
        rows, _total = await list_keys(session, scope, limit=1_000_000)
        names = {w.id: w.name for w in (await session.execute(select(Workspace))).scalars()}
        return [
            {
                "id": str(k.id),
                "workspace_id": str(k.workspace_id),
                "workspace": names.get(k.workspace_id),
                "prefix": k.prefix,
                "name": k.name,
                "created_at": k.created_at.isoformat(),
                "revoked_at": k.revoked_at.isoformat() if k.revoked_at else None,
                "active": k.revoked_at is None,
            }
            for k in rows
        ]

    keys = _with_session(_settings(), work)
    if as_json:
        typer.echo(json.dumps(keys, indent=2))
        return
    for k in keys:
        state = "active" if k["active"] else f"revoked {k['revoked_at'][:19]}"
        typer.echo(
            f"{k['id']}  {k['workspace'] or '?':<20} {k['prefix']}...  "
            f"{k['name'] or '-':<16} created {k['created_at'][:19]}  {state}"
        )


@keys_app.command("create")
def keys_create(
    workspace: Annotated[str, typer.Option(help="The workspace (its id or exact name).")],
    name: Annotated[str | None, typer.Option(help="A label for the key.")] = None,
) -> None:
    """A new API key for the workspace's admin; printed once (only its hash is stored)."""
    from .apikeys import create_key, find_workspace

    async def work(session: AsyncSession) -> tuple[str, str]:
        found = await find_workspace(session, workspace)
        row, key = await create_key(session, found.id, actor=CLI_ACTOR, name=name)
        return str(row.id), key

    key_id, key = _with_session(_settings(), work)
    typer.echo(f"id: {key_id}")
    typer.echo(f"api key (shown once, keep it): {key}")


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(metavar="KEY_ID", help="The key's id (keys list).")],
) -> None:
    """Revoke an API key. Running servers refuse it at once when the revocation reaches them
    (Redis or PostgreSQL), and within TRUNKLINE_SNAPSHOT_TTL_SECONDS in any case."""
    from .apikeys import revoke

    async def work(session: AsyncSession) -> tuple[str, bool]:
        key, revoked = await revoke(session, None, key_id, actor=CLI_ACTOR)
        return key.prefix, revoked

    settings = _settings()
    prefix, revoked = _with_session(settings, work)
    if not revoked:
        typer.echo(f"{key_id} ({prefix}...) was already revoked")
        return
    typer.echo(
        f"revoked {key_id} ({prefix}...); running servers refuse it within "
        f"{settings.snapshot_ttl_seconds:g} s (at once where Redis or PostgreSQL carries it)"
    )


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[
        str,
        typer.Argument(
            metavar="REVISION", help="The revision to reach; head (the default) is the newest."
        ),
    ] = "head",
) -> None:
    """Migrate the configured database (TRUNKLINE_DATABASE_URL) to REVISION."""
    from .migrate import upgrade

    settings = _settings()
    upgrade(settings.database_url, revision)
    typer.echo(f"database at {revision}")


@db_app.command("downgrade")
def db_downgrade(
    revision: Annotated[
        str, typer.Argument(metavar="REVISION", help="The revision to go back to; base: empty.")
    ],
) -> None:
    """Migrate the configured database down to REVISION."""
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

    try:
        added = asyncio.run(run())
    except TrunklineError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"{added} rental {'entry' if added == 1 else 'entries'} added for {period}")


#: The command groups of the core: running one needs no plugin's command group.
BUILTIN_COMMANDS = frozenset(
    {"serve", "plugins", "workspaces", "keys", "db", "ledger", "attestation", "permissions"}
)


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
    """Console entry point: plugin command groups are added before parsing (so that they
    appear in ``--help``); a configuration error is one line on stderr, exit status 2."""
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] not in BUILTIN_COMMANDS:
        try:
            settings = load_settings()
            host = _lenient_host(settings, read_plugins_file(settings.plugins_toml))
            host.add_cli_commands(app)
        except ConfigurationError as exc:
            typer.echo(f"error: {exc.detail}", err=True)
            if args and not args[0].startswith("-"):  # a plugin's command cannot run
                raise SystemExit(2) from None
            # --help still answers, without the plugins' command groups
    try:
        app(args=args, prog_name="trunkline")
    except TrunklineError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise SystemExit(2) from None
