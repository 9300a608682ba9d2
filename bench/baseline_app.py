"""The floor the HTTP benches compare against: what a user could write in ten lines.

A bare FastAPI endpoint, no authentication, no middleware, a plain ``def`` (so FastAPI runs it
in its threadpool) that reads the number row with the database's own driver (``sqlite3``, or
``psycopg`` for PostgreSQL; one connection per threadpool thread) and answers the same JSON
as Trunkline's preflight. It does not go through SQLAlchemy or aiosqlite, so it pays none of
their costs: it is the speed of FastAPI plus one indexed read, not Trunkline measured against
itself.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import uuid
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field

_SQL = (
    "SELECT outbound_enabled, hosted, verified_cli FROM numbers WHERE id = {p} AND state = 'active'"
)


class CheckIn(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    from_: str | None = Field(default=None, alias="from")
    number_id: str | None = None
    to: str | None = None


def _driver(url: str) -> tuple[Callable[[], Any], str, Callable[[str], Any]]:
    """A connect function, the query and the id's parameter form for ``url``'s database."""
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[1]
        # SQLAlchemy's Uuid type stores 32 hex digits on SQLite
        return lambda: sqlite3.connect(path), _SQL.format(p="?"), lambda s: uuid.UUID(s).hex
    import psycopg

    dsn = "postgresql://" + url.split("://", 1)[1]
    return lambda: psycopg.connect(dsn, autocommit=True), _SQL.format(p="%s"), uuid.UUID


def create() -> FastAPI:
    connect, sql, param = _driver(os.environ["TRUNKLINE_DATABASE_URL"])
    local = threading.local()
    app = FastAPI()

    @app.post("/outbound/check")
    def check(body: CheckIn) -> dict[str, Any]:
        conn = getattr(local, "conn", None) or setattr(local, "conn", connect()) or local.conn
        row = conn.execute(sql, (param(body.number_id or ""),)).fetchone()
        allowed = bool(row and row[0] and (row[1] or row[2]))
        return {"allowed": allowed, "reasons": [], "number_id": body.number_id}

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
