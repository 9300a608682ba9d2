"""The one place where changes the policy reads are announced: every ORM session's commit.

SQLAlchemy session events (installed once, for every ``Session`` of the process) collect what
each flush changed, as *tokens*: ``w:<workspace id>`` for a row of a workspace (its numbers,
its outbound policy, anything with a ``workspace_id``), ``k:<key hash>`` for an API key, and
``*`` when the rows cannot be told (a bulk ``UPDATE``/``DELETE``). Tables that the policy
never reads are listed in :data:`UNTRACKED_TABLES`; every other table is tracked, so a new
table is covered without anyone remembering to announce its writes.

When the session commits, the tokens invalidate every snapshot of this process at once and
travel to the other processes:

* with Redis configured for the session's engine (:func:`publish_through`), published on the
  snapshot channel right after the commit (an ``AsyncSession``'s commit returns once it is
  published);
* otherwise on PostgreSQL, ``pg_notify`` in the same transaction (delivered at its commit,
  dropped with its rollback);
* on SQLite without Redis, nowhere else: other processes notice within the snapshot's TTL.

A rollback discards the tokens.
"""

from __future__ import annotations

import asyncio
import logging
import os
import weakref
from collections.abc import Callable, Coroutine, Iterable, Iterator
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import event, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.util.concurrency import await_, in_greenlet

from .snapshot import invalidate_local

log = logging.getLogger("trunkline.invalidation")

#: Tables whose rows the preflight never reads from the snapshot: writes to them announce
#: nothing. (``destination_lookups`` is the lookups' own cache, read by the lookup service.)
UNTRACKED_TABLES = frozenset(
    {
        "audit_events",
        "ledger_entries",
        "calls",
        "campaigns",
        "users",
        "alembic_version",
        "destination_lookups",
    }
)
#: PostgreSQL ``NOTIFY`` channel of snapshot invalidations.
PG_CHANNEL = "trunkline_snapshot"
#: ``NOTIFY`` payloads must stay under 8,000 bytes; longer announcements become ``*``.
_MAX_PAYLOAD = 7_000
_TOKENS = "trunkline.invalidation.tokens"

Publisher = Callable[[list[str]], Coroutine[Any, Any, None]]
_PUBLISHERS: weakref.WeakKeyDictionary[Engine, Publisher] = weakref.WeakKeyDictionary()
_PENDING: set[asyncio.Task[None]] = set()


def redis_channel(url: str) -> str:
    """The snapshot channel for a Redis URL (pub/sub ignores database numbers: keep them apart)."""
    path = urlsplit(url).path.strip("/")
    return f"trunkline:snapshot:{path or '0'}"


def publish_through(engine: Engine, publisher: Publisher | None) -> None:
    """Announce commits made on ``engine`` through ``publisher`` (the Redis bus), or stop."""
    if publisher is None:
        _PUBLISHERS.pop(engine, None)
    else:
        _PUBLISHERS[engine] = publisher


async def drain() -> None:
    """Wait for announcements still being published (before a process exits)."""
    while _PENDING:
        await asyncio.gather(*list(_PENDING), return_exceptions=True)


def tokens_of(obj: Any) -> Iterator[str]:
    """What a change to the mapped object ``obj`` invalidates."""
    table = getattr(obj, "__tablename__", None)
    if table is None or table in UNTRACKED_TABLES:
        return
    loaded = inspect(obj).dict
    if table == "api_keys":
        key_hash = loaded.get("key_hash")
        yield f"k:{key_hash}" if key_hash else "*"
    elif table == "workspaces":
        yield f"w:{loaded['id']}" if loaded.get("id") else "*"
    elif loaded.get("workspace_id") is not None:
        yield f"w:{loaded['workspace_id']}"
    else:
        yield "*"


def _payload(tokens: Iterable[str]) -> str:
    text = " ".join(sorted(tokens))
    return text if len(text) <= _MAX_PAYLOAD else "*"


def parse_payload(payload: str) -> list[str]:
    """The tokens of an announcement."""
    return payload.split() or ["*"]


def _bind(session: Session) -> Engine | None:
    try:
        bind = session.get_bind()
    except Exception:  # unbound session
        return None
    return bind if isinstance(bind, Engine) else getattr(bind, "engine", None)


def _collect(session: Session, tokens: set[str]) -> None:
    if not tokens:
        return
    session.info.setdefault(_TOKENS, set()).update(tokens)
    engine = _bind(session)
    if engine is not None and engine.dialect.name == "postgresql" and engine not in _PUBLISHERS:
        # in the transaction: delivered when it commits, never when it rolls back
        session.connection().exec_driver_sql(
            "SELECT pg_notify(%s, %s)", (PG_CHANNEL, _payload(tokens))
        )


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context: Any) -> None:
    tokens: set[str] = set()
    for obj in session.new:
        tokens.update(tokens_of(obj))
    for obj in session.deleted:
        tokens.update(tokens_of(obj))
    for obj in session.dirty:
        if session.is_modified(obj, include_collections=False):
            tokens.update(tokens_of(obj))
    _collect(session, tokens)


@event.listens_for(Session, "do_orm_execute")
def _bulk(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    table = getattr(state.statement, "table", None)
    name = getattr(table, "name", None)
    if name is not None and name not in UNTRACKED_TABLES:
        _collect(state.session, {"*"})


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    tokens = session.info.pop(_TOKENS, None)
    if not tokens:
        return
    announced = sorted(tokens)
    invalidate_local(announced)
    engine = _bind(session)
    publisher = _PUBLISHERS.get(engine) if engine is not None else None
    if publisher is None:
        _publish_from_environment(announced)
        return
    if in_greenlet():
        # an AsyncSession's commit: it returns once the announcement is out, so an API answer
        # that follows a change follows its announcement too (one Redis round trip)
        await_(publisher(announced))
        return
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # a synchronous session outside any loop: the TTL bounds it
        log.warning("snapshot invalidation not published: no event loop")
        return
    task = loop.create_task(publisher(announced))
    _PENDING.add(task)
    task.add_done_callback(_PENDING.discard)


def _publish_from_environment(tokens: list[str]) -> None:
    """A commit on an engine no runtime serves (the CLI's, a script's) still reaches the
    servers when ``TRUNKLINE_REDIS_URL`` names their Redis: published synchronously."""
    url = os.environ.get("TRUNKLINE_REDIS_URL")
    if not url:
        return
    import redis

    try:
        with redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0) as client:
            client.publish(redis_channel(url), " ".join(tokens))
    except Exception as exc:  # the servers went dark, or expire the entries within the TTL
        log.warning("snapshot invalidation not published: %s", exc)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_TOKENS, None)
