"""Buying numbers at the carrier's price, and the pass-through ledger.

A purchase first claims the number with a ``purchasing`` row, unique in the whole deployment
(``uq_numbers_claimed``, see :mod:`core.ownership`), so that concurrent purchases of one number
reach the carrier once, from one workspace; a number another workspace holds hosted or verified
is refused (409 ``number_claimed``) before any carrier is asked. The carrier's answer then makes
the row a hosted number and adds its ledger entry in one transaction. A failed purchase removes
the claim: it leaves neither a number nor a ledger entry. A claim left by a purchase that died
mid-way expires (``TRUNKLINE_PURCHASE_CLAIM_EXPIRY_SECONDS``) and is then taken over.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from . import attestation, audit
from .auth import Principal
from .errors import InvalidInput, TrunklineError
from .models import PurchasedNumber
from .numbers import NumberExists
from .ownership import NumberClaimed, ensure_not_held_elsewhere, held_elsewhere
from .phone import parse_e164
from .queries import Page, page_of
from .runtime import Runtime
from .tables import LedgerEntry, Number, utcnow

PERIOD = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")  # fullmatch: ASCII digits, no newline


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


async def _claim(
    rt: Runtime,
    session: AsyncSession,
    principal: Principal,
    *,
    provider: str,
    phone: str,
    country: str,
) -> Number:
    """Commit the ``purchasing`` row that makes this request the number's only buyer in the
    deployment.

    A claim older than ``TRUNKLINE_PURCHASE_CLAIM_EXPIRY_SECONDS`` belongs to a purchase that
    died mid-way (its process was killed): it is removed, with an audit event, and claimed anew.
    Losing raises ``NumberClaimed`` when another workspace holds the number, else
    ``NumberExists``.
    """

    async def insert() -> Number | None:
        claim = Number(
            workspace_id=principal.workspace_id,
            provider=provider,
            phone_e164=phone,
            country_code=country,
            state="purchasing",
        )
        session.add(claim)
        try:
            await session.commit()
        except IntegrityError:
            await session.rollback()
            return None
        return claim

    claim = await insert()
    if claim is None and await _drop_stale_claim(rt, session, principal, phone):
        claim = await insert()  # may still lose to a racing purchase
    if claim is None:
        await ensure_not_held_elsewhere(session, phone, principal.workspace_id)
        raise NumberExists(
            f"{phone} is already in this workspace (or being bought right now)", field="e164"
        )
    return claim


async def _drop_stale_claim(
    rt: Runtime, session: AsyncSession, principal: Principal, phone: str
) -> bool:
    """Delete the expired ``purchasing`` row of this number (whichever workspace's purchase
    died), if there is one, with an audit event in that workspace; True when it did."""
    cutoff = utcnow() - timedelta(seconds=rt.settings.purchase_claim_expiry_seconds)
    stale = (
        await session.execute(
            delete(Number)
            .where(
                Number.phone_e164 == phone,
                Number.state == "purchasing",
                Number.created_at < cutoff,
            )
            .returning(Number.workspace_id, Number.provider, Number.created_at)
        )
    ).first()
    if stale is None:  # none, or a racing request removed it first
        await session.rollback()
        return False
    audit.record(
        session,
        action="number_purchase_abandoned",
        outcome="expired",
        actor=principal.actor,
        workspace_id=stale.workspace_id,
        subject_type="number",
        subject_id=None,
        provider=stale.provider,
        detail={
            "phone_e164": phone,
            "claimed_at": stale.created_at.isoformat(),
            "note": "a purchase that never finished; check the carrier account for this number",
        },
    )
    await session.commit()
    return True


def _unbought(
    session: AsyncSession, principal: Principal, provider: str, outcome: str, detail: dict[str, Any]
) -> None:
    """Audit a purchase that made no number (``number_purchased``, no subject id)."""
    audit.by_principal(
        session,
        principal,
        action="number_purchased",
        outcome=outcome,
        subject_type="number",
        provider=provider,
        detail=detail,
    )


async def purchase(
    rt: Runtime, session: AsyncSession, principal: Principal, *, provider: str, e164: str
) -> Number:
    phone, country = parse_e164(e164, "e164")
    rt.host.plugin_for(provider)
    rt.ensure_live()
    held = await held_elsewhere(session, phone, principal.workspace_id, purchases=False)
    await session.rollback()  # no transaction stays open
    if held:
        _unbought(session, principal, provider, NumberClaimed.code, {"phone_e164": phone})
        await session.commit()
        raise NumberClaimed(phone)
    claim = await _claim(rt, session, principal, provider=provider, phone=phone, country=country)
    try:
        bought: PurchasedNumber = await rt.host.call_provider(
            "purchase_number", provider, e164=phone, workspace=str(principal.workspace_id)
        )
    except TrunklineError as exc:
        await session.execute(delete(Number).where(Number.id == claim.id))
        _unbought(
            session, principal, provider, exc.code, {"phone_e164": phone, "error": exc.detail}
        )
        await session.commit()
        raise
    except BaseException:
        await session.execute(delete(Number).where(Number.id == claim.id))
        await session.commit()
        raise
    claim.state = "active"
    claim.hosted = True
    claim.number_type = bought.number_type
    claim.capabilities = sorted(bought.features) or ["voice"]
    claim.provider_ref = bought.provider_ref
    session.add(
        LedgerEntry.for_number(
            "purchase",
            claim,
            {
                "carrier_monthly_cost": _money(bought.monthly_cost),
                "carrier_upfront_cost": _money(bought.upfront_cost),
                "carrier_currency": bought.currency,
                "provider_ref": bought.provider_ref,
            },
            currency=bought.currency,
        )
    )
    audit.subject_event(
        session,
        principal,
        claim,
        action="number_purchased",
        outcome="ok",
        detail={
            "phone_e164": phone,
            "monthly_cost": _money(bought.monthly_cost),
            "upfront_cost": _money(bought.upfront_cost),
            "currency": bought.currency,
        },
    )
    await session.commit()
    await attestation.refresh(rt, session, claim)
    return claim


def period_start(period: str) -> datetime:
    """The first instant (UTC) of the month ``period`` (YYYY-MM)."""
    return datetime(int(period[:4]), int(period[5:7]), 1, tzinfo=UTC)


def period_end(period: str) -> datetime:
    """The first instant (UTC) after the month ``period`` (YYYY-MM)."""
    year, month = int(period[:4]), int(period[5:7])
    return datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)


async def accrue_rentals(session: AsyncSession, period: str) -> int:
    """One zero-markup rental entry per hosted number for ``period`` (YYYY-MM); idempotent.

    Every hosted number that already existed before the end of ``period`` is accrued (none for
    a month before it was bought), unless it was released before the period began: rentals
    stop from the period after the release. Returns how many entries were added (0 when the
    period was already accrued).
    """
    if not isinstance(period, str) or not PERIOD.fullmatch(period):
        raise InvalidInput(f"period: {period!r} is not YYYY-MM", field="period")
    try:
        end = period_end(period)
    except ValueError:  # year 0000 or 9999-12
        raise InvalidInput(f"period: {period!r} is out of range", field="period") from None
    start = period_start(period)
    released_at: dict[uuid.UUID | None, datetime] = {
        row.number_id: row.created_at
        for row in (
            await session.execute(select(LedgerEntry).where(LedgerEntry.kind == "release"))
        ).scalars()
    }
    numbers = [
        number
        for number in (
            await session.execute(
                select(Number).where(
                    Number.hosted.is_(True),
                    Number.state.in_(("active", "released")),
                    Number.created_at < end,
                )
            )
        ).scalars()
        if number.state == "active" or released_at.get(number.id, start) >= start
    ]
    done = set(
        (
            await session.execute(
                select(LedgerEntry.number_id).where(
                    LedgerEntry.kind == "rental", LedgerEntry.period == period
                )
            )
        ).scalars()
    )
    purchases: dict[uuid.UUID | None, dict[str, Any]] = {
        row.number_id: row.metadata_
        for row in (
            await session.execute(select(LedgerEntry).where(LedgerEntry.kind == "purchase"))
        ).scalars()
    }
    added = 0
    for number in numbers:
        if number.id in done:
            continue
        bought = purchases.get(number.id, {})
        entry = LedgerEntry.for_number(
            "rental",
            number,
            {
                "carrier_monthly_cost": bought.get("carrier_monthly_cost"),
                "carrier_currency": bought.get("carrier_currency"),
            },
            period=period,
            currency=bought.get("carrier_currency"),
        )
        try:
            async with session.begin_nested():
                session.add(entry)
        except IntegrityError:  # a concurrent run accrued it first
            continue
        audit.record(
            session,
            action="rental_accrued",
            outcome="ok",
            actor="system:ledger",
            workspace_id=number.workspace_id,
            subject_type="number",
            subject_id=number.id,
            provider=number.provider,
            detail={"period": period},
        )
        added += 1
    await session.commit()
    return added


async def list_ledger(
    session: AsyncSession, workspace_id: uuid.UUID, page: Page
) -> tuple[list[LedgerEntry], int]:
    """A page of the workspace's ledger, newest first, and the total."""
    where = [LedgerEntry.workspace_id == workspace_id]
    order = (LedgerEntry.created_at.desc(), LedgerEntry.id)
    return await page_of(session, LedgerEntry, where, order, page)
