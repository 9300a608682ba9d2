"""The HTTP baseline: a bare FastAPI endpoint that authenticates nothing and reads the same
number row by primary key (same database, same driver, same JSON body)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import bindparam, select

from core.db import make_engine
from core.tables import Number


class CheckIn(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    from_: str | None = Field(default=None, alias="from")
    number_id: str | None = None
    to: str | None = None


def create() -> FastAPI:
    engine = make_engine(os.environ["TRUNKLINE_DATABASE_URL"])

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await engine.dispose()

    app = FastAPI(lifespan=lifespan)

    by_id = select(Number.id, Number.outbound_enabled).where(Number.id == bindparam("id"))

    @app.post("/outbound/check")
    async def check(body: CheckIn) -> dict[str, object]:
        # as lean as Trunkline's route: a prebuilt query on a pooled connection
        async with engine.connect() as conn:
            row = (await conn.execute(by_id, {"id": uuid.UUID(body.number_id or "")})).first()
        return {"allowed": bool(row and row.outbound_enabled), "reasons": []}

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
