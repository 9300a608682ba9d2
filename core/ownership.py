"""One number, one owner: a phone number is hosted or a verified caller ID in at most one
workspace of the deployment.

The database enforces it with the partial unique index ``uq_numbers_claimed`` (see
:data:`core.tables.CLAIMED`): a row that is being bought, or active and hosted or verified,
claims its number for the whole deployment. The checks here run before any carrier is asked
(so a refused request costs nothing); under a race the index is the final arbiter, and the
loser is answered :class:`NumberClaimed` as well.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from .errors import Conflict
from .tables import Number


class NumberClaimed(Conflict):
    """Another workspace holds the number hosted or as a verified caller ID."""

    code = "number_claimed"
    title = "Number held by another workspace"

    def __init__(self, phone: str) -> None:
        super().__init__(
            f"{phone} is hosted or a verified caller ID in another workspace: a number has one "
            "owner in this deployment",
            field="e164",
        )


def holds() -> ColumnElement[bool]:
    """The rows that hold their number: active, and hosted or a verified caller ID."""
    return and_(
        Number.state == "active", or_(Number.hosted.is_(True), Number.verified_cli.is_(True))
    )


def claims() -> ColumnElement[bool]:
    """The rows that claim their number: those that hold it, and purchases under way (the
    predicate of ``uq_numbers_claimed``)."""
    return or_(Number.state == "purchasing", holds())


async def held_elsewhere(
    session: AsyncSession, phone: str, workspace_id: uuid.UUID, *, purchases: bool = True
) -> bool:
    """True when a workspace other than ``workspace_id`` claims ``phone`` (with
    ``purchases=False``: holds it, a purchase under way aside)."""
    found = await session.execute(
        select(Number.id)
        .where(
            Number.phone_e164 == phone,
            Number.workspace_id != workspace_id,
            claims() if purchases else holds(),
        )
        .limit(1)
    )
    return found.first() is not None


async def ensure_not_held_elsewhere(
    session: AsyncSession, phone: str, workspace_id: uuid.UUID
) -> None:
    """Raise :class:`NumberClaimed` when another workspace claims ``phone``."""
    if await held_elsewhere(session, phone, workspace_id):
        raise NumberClaimed(phone)


async def claimed_among(session: AsyncSession, phones: Iterable[str]) -> set[str]:
    """Which of ``phones`` some workspace of the deployment claims."""
    wanted = sorted(set(phones))
    if not wanted:
        return set()
    rows = await session.execute(
        select(Number.phone_e164).where(Number.phone_e164.in_(wanted), claims())
    )
    return set(rows.scalars())
