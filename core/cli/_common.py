"""What every command group of the ``trunkline`` command shares: the Typer apps, settings,
the plugin host, running a coroutine or a session, and one-line errors."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import typer

from ..errors import ConfigurationError, TrunklineError
from ..settings import PluginsFile, Settings, load_settings, read_plugins_file

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
    from ..plugins import create_plugin_host

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


#: The actor of audit rows written from the command line.
CLI_ACTOR = "system:cli"


def _with_session(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``work`` with a session on the configured database; a ``TrunklineError`` it raises
    is one line on stderr and exit status 2."""
    from ..db import make_engine, make_sessionmaker

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


#: The command groups of the core: running one needs no plugin's command group.
BUILTIN_COMMANDS = frozenset(
    {"serve", "plugins", "workspaces", "keys", "db", "ledger", "attestation", "permissions"}
)
