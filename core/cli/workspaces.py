"""``trunkline workspaces`` and ``trunkline keys``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ._common import CLI_ACTOR, _settings, _with_session, keys_app, workspaces_app

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from sqlalchemy.ext.asyncio import AsyncSession


def _show_new_key(label: str, work: Callable[[AsyncSession], Awaitable[tuple[str, str]]]) -> None:
    """Run ``work``, which makes an API key, and print what it made (``label``) and the key:
    shown this once, only its hash is stored."""
    made, key = _with_session(_settings(), work)
    typer.echo(f"{label}: {made}")
    typer.echo(f"api key (shown once, keep it): {key}")


@workspaces_app.command("create")
def workspaces_create(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The workspace's name.")],
) -> None:
    """Create a workspace and its admin user; print the API key (shown only this once)."""
    from ..auth import create_workspace

    async def work(session: AsyncSession) -> tuple[str, str]:
        workspace, _user, key = await create_workspace(session, name)
        return str(workspace.id), key

    _show_new_key("workspace", work)


@workspaces_app.command("list")
def workspaces_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every workspace, oldest first: id, name, creation time, active API keys."""
    from ..apikeys import list_workspaces

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
    from ..apikeys import demo_key

    settings = _settings()
    path = key_file or demo_key_file(settings.database_url)
    saved = path.read_text(encoding="utf-8").strip() if path and path.is_file() else None

    async def work(session: AsyncSession) -> tuple[str, str, bool]:
        workspace, key, reused = await demo_key(session, name, saved, actor=CLI_ACTOR)
        return str(workspace.id), key, reused

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
    from ..apikeys import find_workspace, list_keys, workspace_names
    from ..queries import Page

    async def work(session: AsyncSession) -> list[dict[str, Any]]:
        scope = (await find_workspace(session, workspace)).id if workspace else None
        rows, _total = await list_keys(session, scope, Page(limit=1_000_000))
        names = await workspace_names(session)
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
    from ..apikeys import create_key, find_workspace

    async def work(session: AsyncSession) -> tuple[str, str]:
        found = await find_workspace(session, workspace)
        row, key = await create_key(session, found.id, actor=CLI_ACTOR, name=name)
        return str(row.id), key

    _show_new_key("id", work)


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(metavar="KEY_ID", help="The key's id (keys list).")],
) -> None:
    """Revoke an API key. Running servers refuse it at once when the revocation reaches them
    (Redis or PostgreSQL), and within TRUNKLINE_SNAPSHOT_TTL_SECONDS in any case."""
    from ..apikeys import revoke

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
