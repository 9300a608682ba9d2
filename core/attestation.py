"""Each number's expected SHAKEN/STIR attestation: asked of its carrier, stored on the number.

The carrier is asked (``expected_attestation``) when a number changes in a way that can change
its attestation (bought, verified, verification lost) and on ``trunkline attestation refresh``,
never on the preflight's path: the preflight reads the stored level. A carrier that fails leaves
the stored estimate as it was. A change of level is logged (``trunkline.attestation``).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .errors import TrunklineError
from .models import AttestationEstimate
from .numbers import as_ref
from .policy import attestation_below as below
from .policy import attestation_rank as rank
from .tables import Number, utcnow

if TYPE_CHECKING:
    from .runtime import Runtime

log = logging.getLogger("trunkline.attestation")

__all__ = ["RefreshReport", "below", "rank", "refresh", "refresh_all", "refresh_ids"]


async def _estimate(rt: Runtime, number: Number) -> AttestationEstimate:
    info = rt.host.providers.get(number.provider)
    if info is None or "attestation" not in info.capabilities:
        return AttestationEstimate(
            level="unknown", basis=f"provider {number.provider!r} does not estimate attestation"
        )
    estimate: AttestationEstimate = await rt.host.call_provider(
        "expected_attestation", number.provider, number=as_ref(number)
    )
    return estimate


async def refresh(rt: Runtime, session: AsyncSession, number: Number) -> AttestationEstimate | None:
    """Ask ``number``'s carrier and store the answer; ``None`` (nothing stored) when it fails.

    Commits what the session holds first: no transaction stays open while the carrier answers.
    """
    await session.commit()
    try:
        estimate = await _estimate(rt, number)
    except TrunklineError as exc:
        log.warning(
            "attestation of number %s (%s) not refreshed: %s", number.id, number.provider, exc
        )
        return None
    await session.refresh(number)
    if number.attestation_level != estimate.level:
        log.info(
            "attestation of number %s: %s -> %s (%s)",
            number.id,
            number.attestation_level,
            estimate.level,
            estimate.basis,
        )
    number.attestation_level = estimate.level
    number.attestation_basis = estimate.basis
    number.attestation_checked_at = utcnow()
    await session.commit()
    return estimate


async def refresh_ids(rt: Runtime, session: AsyncSession, ids: list[uuid.UUID]) -> None:
    """Refresh the attestation of the active numbers among ``ids`` (after they changed)."""
    for number_id in ids:
        number = await session.get(Number, number_id)
        if number is not None and number.state == "active":
            await refresh(rt, session, number)


@dataclass(frozen=True)
class RefreshReport:
    checked: int
    changed: int
    failed: int


async def refresh_all(
    rt: Runtime, session: AsyncSession, *, workspace_id: uuid.UUID | None = None
) -> RefreshReport:
    """Ask again for every active number (of one workspace, or all): ``trunkline attestation
    refresh``."""
    stmt = select(Number.id).where(Number.state == "active").order_by(Number.created_at)
    if workspace_id is not None:
        stmt = stmt.where(Number.workspace_id == workspace_id)
    ids = list((await session.execute(stmt)).scalars())
    changed = failed = 0
    for number_id in ids:
        number = await session.get(Number, number_id)
        if number is None:
            continue
        before = number.attestation_level
        estimate = await refresh(rt, session, number)
        if estimate is None:
            failed += 1
        elif estimate.level != before:
            changed += 1
    return RefreshReport(checked=len(ids), changed=changed, failed=failed)
