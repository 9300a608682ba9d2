"""Workspaces, users and API keys. Keys are random, shown once, and stored as SHA-256 hashes."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
import uuid
import weakref
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .errors import Unauthorized
from .tables import ApiKey, User, Workspace, utcnow

KEY_PREFIX = "tlk_"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the key's user and workspace."""

    workspace_id: uuid.UUID
    user_id: uuid.UUID
    key_id: uuid.UUID

    @property
    def actor(self) -> str:
        return f"user:{self.user_id}"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def issue_key(session: AsyncSession, user: User, *, name: str | None = None) -> tuple[ApiKey, str]:
    """Add an API key for ``user`` to ``session``; return the row and the key itself (the only
    time it is seen: only its SHA-256 and its first characters are stored)."""
    key = new_key()
    row = ApiKey(
        workspace_id=user.workspace_id,
        user_id=user.id,
        name=name,
        prefix=key[: len(KEY_PREFIX) + 6],
        key_hash=hash_key(key),
    )
    session.add(row)
    return row, key


async def create_workspace(
    session: AsyncSession, name: str, admin_name: str = "admin"
) -> tuple[Workspace, User, str]:
    """A workspace with an admin user and its first API key (returned once). Commits."""
    workspace = Workspace(name=name)
    session.add(workspace)
    await session.flush()
    user = User(workspace_id=workspace.id, name=admin_name, role="admin")
    session.add(user)
    await session.flush()
    _row, key = issue_key(session, user)
    await session.commit()
    return workspace, user, key


async def authenticate(session: AsyncSession, authorization: str | None) -> Principal:
    """The principal of a ``Bearer`` key; ``Unauthorized`` for missing, unknown or revoked."""
    token = _bearer_token(authorization)
    row = (
        await session.execute(
            select(ApiKey.id, ApiKey.workspace_id, ApiKey.user_id, ApiKey.revoked_at).where(
                ApiKey.key_hash == hash_key(token)
            )
        )
    ).first()
    if row is None:
        raise Unauthorized("unknown API key")
    if row.revoked_at is not None:
        raise Unauthorized("this API key was revoked")
    return Principal(workspace_id=row.workspace_id, user_id=row.user_id, key_id=row.id)


#: Seconds an authenticated key is trusted without asking the database again (the runtime's
#: caches use ``TRUNKLINE_SNAPSHOT_TTL_SECONDS`` instead).
KEY_CACHE_TTL = 2.0


class KeyCache:
    """API key hash -> principal, for ``ttl`` seconds, in this process.

    A revocation (:func:`mark_revoked`) forgets the key at once in every cache of the process;
    other processes
    forget it when the revocation's announcement reaches their snapshot (``core.snapshot``),
    and in any case within the TTL (their entry expires and the database answers). Unknown and
    revoked keys are never cached. While ``enabled`` is False nothing is served nor kept.
    """

    def __init__(self, ttl: float = KEY_CACHE_TTL, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self.enabled = True
        #: Bumped by every forget and clear: a principal read before one is not kept.
        self.generation = 0
        self._entries: dict[str, tuple[Principal, float]] = {}
        #: Reads in flight: key hash -> (the generation they started in, their task).
        self.reading: dict[str, tuple[int, asyncio.Future[Principal]]] = {}
        _CACHES.add(self)

    def get(self, key_hash: str) -> Principal | None:
        entry = self._entries.get(key_hash)
        if entry is None:
            return None
        if entry[1] < time.monotonic():
            self._entries.pop(key_hash, None)
            return None
        return entry[0]

    def put(
        self,
        key_hash: str,
        principal: Principal,
        generation: int | None = None,
        read_at: float | None = None,
    ) -> None:
        """Keep ``principal``, read from the database at ``read_at`` (``time.monotonic``;
        its age counts from then) when :attr:`generation` was ``generation``."""
        if self.ttl <= 0 or not self.enabled:
            return
        if generation is not None and generation != self.generation:
            return  # a key was revoked (or everything dropped) while it was being read
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        started = time.monotonic() if read_at is None else read_at
        self._entries[key_hash] = (principal, started + self.ttl)

    def forget(self, key_hash: str) -> None:
        self.generation += 1
        self._entries.pop(key_hash, None)

    def clear(self) -> None:
        self.generation += 1
        self._entries.clear()


_CACHES: weakref.WeakSet[KeyCache] = weakref.WeakSet()


def _bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise Unauthorized("missing Authorization: Bearer <api key>")
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("Authorization must be 'Bearer <api key>'")
    return token


async def authenticate_cached(
    open_session: Callable[[], AbstractAsyncContextManager[AsyncSession]],
    authorization: str | None,
    cache: KeyCache,
) -> Principal:
    """:func:`authenticate`, answering from ``cache`` when it can (no session opened then).

    Concurrent requests with the same key share one read (a dialer's many connections all
    miss at once when the entry expires); a request that comes after a revocation was
    announced never shares a read that started before it.
    """
    key_hash = hash_key(_bearer_token(authorization))
    principal = cache.get(key_hash)
    if principal is not None:
        return principal
    generation = cache.generation
    reading = cache.reading.get(key_hash)
    if reading is None or reading[0] != generation:

        async def read() -> Principal:
            started = time.monotonic()
            async with open_session() as session:
                found = await authenticate(session, authorization)
            cache.put(key_hash, found, generation, started)
            return found

        reading = cache.reading[key_hash] = (generation, asyncio.ensure_future(read()))
        task = reading[1]

        def done(_: object) -> None:
            if cache.reading.get(key_hash, (0, None))[1] is task:
                del cache.reading[key_hash]

        task.add_done_callback(done)
    return await asyncio.shield(reading[1])


async def revoke_key(session: AsyncSession, key: str) -> bool:
    """Revoke a key by its value; True when a live key was revoked. Commits.

    Every key cache of this process forgets the key at once.
    """
    forget_key(hash_key(key))
    api_key = (
        await session.execute(select(ApiKey).where(ApiKey.key_hash == hash_key(key)))
    ).scalar_one_or_none()
    if api_key is None or api_key.revoked_at is not None:
        return False
    await mark_revoked(session, api_key)
    return True


async def mark_revoked(session: AsyncSession, api_key: ApiKey) -> None:
    """Set ``revoked_at`` and commit (with whatever else the session holds, e.g. its audit
    row); every key cache of this process forgets the key at once, and the commit announces
    the change to the other processes (``core.invalidation``)."""
    api_key.revoked_at = utcnow()
    await session.commit()
    forget_key(api_key.key_hash)  # again, should a request have cached it meanwhile


def forget_key(key_hash: str) -> None:
    """Drop a key from every key cache of this process."""
    for cache in list(_CACHES):
        cache.forget(key_hash)
