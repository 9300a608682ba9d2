"""Managing API keys: list, create (the key is shown once), revoke; listing workspaces; the
local try-out's demo key.

Every operation is scoped to one workspace: another workspace's key is ``NotFound``, exactly
like a missing one. Creations and revocations are audited (``api_key_created``,
``api_key_revoked``, subject ``api_key``); the key itself is never stored nor audited, only its
SHA-256 and its first characters (``prefix``), which tell keys apart.

A revocation is immediate in this process; the commit announces it to the other worker
processes (``core.invalidation``: Redis, or PostgreSQL ``NOTIFY``), and without a bus (SQLite
alone) they refuse the key once their cached entry expires, within
``TRUNKLINE_SNAPSHOT_TTL_SECONDS``.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from . import audit
from .auth import hash_key, issue_key, mark_revoked
from .errors import NotFound
from .numbers import parse_uuid
from .queries import Page, page_of
from .tables import ApiKey, User, Workspace


async def list_keys(
    session: AsyncSession, workspace_id: uuid.UUID | None, page: Page
) -> tuple[list[ApiKey], int]:
    """A page of keys, newest first (``workspace_id`` None: every workspace's, for the CLI)."""
    where = [] if workspace_id is None else [ApiKey.workspace_id == workspace_id]
    order = (ApiKey.created_at.desc(), ApiKey.id)
    return await page_of(session, ApiKey, where, order, page)


async def get_key(session: AsyncSession, workspace_id: uuid.UUID | None, key_id: Any) -> ApiKey:
    """The workspace's key (any workspace's when ``workspace_id`` is None), else ``NotFound``."""
    stmt = select(ApiKey).where(ApiKey.id == parse_uuid(key_id, "API key"))
    if workspace_id is not None:
        stmt = stmt.where(ApiKey.workspace_id == workspace_id)
    key = (await session.execute(stmt)).scalar_one_or_none()
    if key is None:
        raise NotFound("API key not found")
    return key


async def workspace_admin(session: AsyncSession, workspace_id: uuid.UUID) -> User:
    """The workspace's first admin user, created when it has none."""
    user = (
        (
            await session.execute(
                select(User)
                .where(User.workspace_id == workspace_id)
                .order_by(User.role != "admin", User.created_at)
            )
        )
        .scalars()
        .first()
    )
    if user is None:
        user = User(workspace_id=workspace_id, name="admin", role="admin")
        session.add(user)
        await session.flush()
    return user


async def create_key(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    actor: str,
    name: str | None = None,
    user_id: uuid.UUID | None = None,
) -> tuple[ApiKey, str]:
    """A new key for ``user_id`` (default: the workspace's admin); returns the row and the key,
    which is never seen again. Audited; commits."""
    if user_id is None:
        user_id = (await workspace_admin(session, workspace_id)).id
    user = await session.get(User, user_id)
    if user is None or user.workspace_id != workspace_id:
        raise NotFound("user not found")
    row, key = issue_key(session, user, name=name)
    await session.flush()
    audit.record(
        session,
        action="api_key_created",
        outcome="ok",
        actor=actor,
        workspace_id=workspace_id,
        subject_type="api_key",
        subject_id=row.id,
        detail={"prefix": row.prefix, "name": name, "user_id": str(user_id)},
    )
    await session.commit()
    return row, key


async def revoke(
    session: AsyncSession, workspace_id: uuid.UUID | None, key_id: Any, *, actor: str
) -> tuple[ApiKey, bool]:
    """Revoke a key by id; returns it and whether this call revoked it (False: it already was).

    Idempotent; only an actual revocation is audited. Commits.
    """
    key = await get_key(session, workspace_id, key_id)
    if key.revoked_at is not None:
        return key, False
    audit.record(
        session,
        action="api_key_revoked",
        outcome="ok",
        actor=actor,
        workspace_id=key.workspace_id,
        subject_type="api_key",
        subject_id=key.id,
        detail={"prefix": key.prefix, "name": key.name},
    )
    await mark_revoked(session, key)
    return key, True


async def list_workspaces(session: AsyncSession) -> list[tuple[Workspace, int]]:
    """Every workspace, oldest first, with its number of active keys."""
    active = (
        select(ApiKey.workspace_id, func.count().label("n"))
        .where(ApiKey.revoked_at.is_(None))
        .group_by(ApiKey.workspace_id)
        .subquery()
    )
    rows = await session.execute(
        select(Workspace, func.coalesce(active.c.n, 0))
        .outerjoin(active, active.c.workspace_id == Workspace.id)
        .order_by(Workspace.created_at, Workspace.id)
    )
    return [(workspace, int(count)) for workspace, count in rows.all()]


async def find_workspace(session: AsyncSession, ref: str) -> Workspace:
    """A workspace by id or by its exact name; ``NotFound`` when none or several match."""
    try:
        by_id = await session.get(Workspace, uuid.UUID(ref))
    except ValueError:
        by_id = None
    if by_id is not None:
        return by_id
    named = list((await session.execute(select(Workspace).where(Workspace.name == ref))).scalars())
    if len(named) > 1:
        raise NotFound(f"{len(named)} workspaces are named {ref!r}: give its id")
    if not named:
        raise NotFound(f"no workspace has the id or name {ref!r}")
    return named[0]


async def workspace_names(session: AsyncSession) -> dict[uuid.UUID, str]:
    """Every workspace's name, by its id."""
    return {w.id: w.name for w in (await session.execute(select(Workspace))).scalars()}


async def demo_key(
    session: AsyncSession, name: str, saved: str | None, *, actor: str
) -> tuple[Workspace, str, bool]:
    """The workspace named ``name`` (made when there is none) and an API key of it: ``saved``
    when it is still an active key of that workspace (``reused`` true), else a new key of the
    workspace's admin, labelled ``demo``. Returns ``(workspace, key, reused)``."""
    workspace = (
        (await session.execute(select(Workspace).where(Workspace.name == name))).scalars().first()
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
            return workspace, saved, True
    admin = await workspace_admin(session, workspace.id)
    _row, key = await create_key(session, workspace.id, actor=actor, name="demo", user_id=admin.id)
    return workspace, key, False
