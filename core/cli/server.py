"""``trunkline serve``, ``plugins list`` and ``permissions refresh``."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from ..errors import ConfigurationError
from ._common import (
    _fail,
    _lenient_host,
    _plugins_file,
    _run,
    _settings,
    app,
    permissions_app,
    plugins_app,
)


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

    from ..plugins import create_plugin_host

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
    from ..cache import make_cache
    from ..permissions import PermissionStore

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
