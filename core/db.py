"""Engines and sessions. SQLite (a file) by default, PostgreSQL in production."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from . import invalidation  # noqa: F401  (every session announces what it commits)
from .settings import DEFAULT_MAX_OVERFLOW, DEFAULT_POOL_SIZE


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def sync_url(url: str) -> str:
    """The synchronous driver's URL for the same database (Alembic runs synchronously)."""
    if url.startswith("sqlite+aiosqlite"):
        return "sqlite" + url.removeprefix("sqlite+aiosqlite")
    return url  # postgresql+psycopg serves both


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine; SQLite gets foreign keys, WAL and a busy timeout on every connection.

    Statement parameters are hidden from error messages (``hide_parameters``).

    ``pool_size``/``max_overflow`` apply to both; an in-memory SQLite database has a single
    shared connection and ignores them.
    """
    # A failing statement's error message (which reaches the logs) never carries its
    # parameters: they are workspace data.
    kwargs.setdefault("hide_parameters", True)
    kwargs.setdefault("pool_size", DEFAULT_POOL_SIZE)
    kwargs.setdefault("max_overflow", DEFAULT_MAX_OVERFLOW)
    if is_sqlite(url):
        if ":memory:" in url or url.rstrip("/").endswith(":"):
            kwargs.pop("pool_size")
            kwargs.pop("max_overflow")
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def add_sync_sqlite_pragmas(engine: Engine) -> None:
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)


async def ping(engine: AsyncEngine) -> str:
    """Whether the database answers: ``"ok"``, or ``"error: <exception class>"`` (never the
    message, which may carry the URL). ``/readyz`` reports it."""
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:
        return f"error: {type(exc).__name__}"
    return "ok"
