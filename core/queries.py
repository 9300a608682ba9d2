"""The queries every workspace resource shares: one page of its rows (with the total), one row
by id (scoped to a workspace: another workspace's row is never returned), and the id parse;
what a list asks for: its :class:`Filters` and its :class:`Page`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from .errors import NotFound

T = TypeVar("T")


def parse_uuid(value: Any, what: str = "number") -> uuid.UUID:
    """A UUID, or ``NotFound`` (a malformed id is as absent as a missing one)."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return _uuid(value) if type(value) is str else uuid.UUID(str(value))
    except ValueError:
        raise NotFound(f"{what} not found") from None


@lru_cache(maxsize=65_536)
def _uuid(text: str) -> uuid.UUID:
    # a dialer names the same numbers again and again (a batch: a hundred a request)
    return uuid.UUID(text)


@dataclass(frozen=True)
class Page:
    """Which rows of a list: at most ``limit`` of them, after the first ``offset``."""

    limit: int = 50
    offset: int = 0


class Filters(BaseModel):
    """The base of a list's filters: one field a condition on its rows (a value object)."""

    model_config = ConfigDict(frozen=True)


async def page_of(
    session: AsyncSession,
    model: type[T],
    where: list[ColumnElement[bool]],
    order_by: tuple[Any, ...],
    page: Page,
) -> tuple[list[T], int]:
    """Rows of ``model`` matching ``where`` in ``order_by`` (which must end with a unique
    column, so that the order is stable), the ``page`` of them, and how many match in all."""
    total = (await session.execute(select(func.count()).select_from(model).where(*where))).scalar()
    rows = (
        await session.execute(
            select(model).where(*where).order_by(*order_by).limit(page.limit).offset(page.offset)
        )
    ).scalars()
    return list(rows), int(total or 0)


async def one_of(
    session: AsyncSession, model: type[T], workspace_id: uuid.UUID, object_id: Any, what: str
) -> T:
    """The workspace's ``model`` row with this id; ``NotFound`` ("<what> not found") when it
    is missing, malformed or another workspace's."""
    row = (
        await session.execute(
            select(model).where(
                model.id == parse_uuid(object_id, what),  # type: ignore[attr-defined]
                model.workspace_id == workspace_id,  # type: ignore[attr-defined]
            )
        )
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(f"{what} not found")
    return row
