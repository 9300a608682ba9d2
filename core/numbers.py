"""A workspace's numbers: add (bring your own), list, bind, delete (releasing hosted ones)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from . import audit
from .auth import Principal
from .errors import Conflict, NotFound, PolicyDenied, TrunklineError
from .models import NumberRef
from .phone import parse_e164
from .policy import CALLER_ID_NOT_ALLOWED
from .queries import Filters, Page, page_of, parse_uuid
from .runtime import Runtime
from .tables import Campaign, LedgerEntry, Number

BINDING_FIELDS = (
    "outbound_enabled",
    "inbound_enabled",
    "outbound_agent_id",
    "inbound_agent_id",
    "allowed_countries",
)


class NumberExists(Conflict):
    code = "number_exists"
    title = "Number already in this workspace"


def as_ref(number: Number) -> NumberRef:
    """What a hook is told about a stored number."""
    return NumberRef(
        id=str(number.id),
        workspace_id=str(number.workspace_id),
        phone_e164=number.phone_e164,
        country_code=number.country_code,
        provider=number.provider,
        hosted=number.hosted,
        verified_cli=number.verified_cli,
        verification_status=number.verification_status,  # type: ignore[arg-type]
        verification_ref=number.verification_ref,
        allowed_countries=list(number.allowed_countries or []),
        provider_ref=number.provider_ref,
    )


async def get_number(
    session: AsyncSession, workspace_id: uuid.UUID, number_id: Any, *, for_update: bool = False
) -> Number:
    """The workspace's number; another workspace's number is ``NotFound`` like a missing one."""
    stmt = select(Number).where(
        Number.id == parse_uuid(number_id), Number.workspace_id == workspace_id
    )
    if for_update:
        stmt = stmt.with_for_update()
    number = (await session.execute(stmt)).scalar_one_or_none()
    if number is None or number.state != "active":
        raise NotFound("number not found")
    return number


async def find_by_e164(session: AsyncSession, workspace_id: uuid.UUID, e164: str) -> Number | None:
    return (
        await session.execute(
            select(Number).where(
                Number.workspace_id == workspace_id,
                Number.phone_e164 == e164,
                Number.state == "active",
            )
        )
    ).scalar_one_or_none()


class NumberFilter(Filters):
    """Which of a workspace's numbers a list holds: those with each value given (``None``
    matches any)."""

    provider: str | None = None
    hosted: bool | None = None
    verified: bool | None = None
    outbound: bool | None = None


async def list_numbers(
    session: AsyncSession, workspace_id: uuid.UUID, filters: NumberFilter, page: Page
) -> tuple[list[Number], int]:
    """A page of the workspace's numbers that match ``filters``, oldest first, and the total
    matching."""
    where = [Number.workspace_id == workspace_id, Number.state == "active"]
    if filters.provider is not None:
        where.append(Number.provider == filters.provider)
    if filters.hosted is not None:
        where.append(Number.hosted == filters.hosted)
    if filters.verified is not None:
        where.append(Number.verified_cli == filters.verified)
    if filters.outbound is not None:
        where.append(Number.outbound_enabled == filters.outbound)
    order = (Number.created_at, Number.id)
    return await page_of(session, Number, where, order, page)


async def add_number(
    rt: Runtime, session: AsyncSession, principal: Principal, *, e164: str, provider: str
) -> Number:
    """Add a bring-your-own number: not hosted, not verified, outbound off."""
    phone, country = parse_e164(e164, "e164")
    rt.host.plugin_for(provider)  # ProviderNotFound for an unknown provider
    if await find_by_e164(session, principal.workspace_id, phone) is not None:
        raise NumberExists(f"{phone} is already in this workspace", field="e164")
    number = Number(
        workspace_id=principal.workspace_id,
        provider=provider,
        phone_e164=phone,
        country_code=country,
        capabilities=["voice"],
    )
    session.add(number)
    try:
        await session.flush()
    except IntegrityError:
        await session.rollback()
        raise NumberExists(f"{phone} is already in this workspace", field="e164") from None
    audit.subject_event(
        session,
        principal,
        number,
        action="number_added",
        outcome="ok",
        detail={"phone_e164": phone},
    )
    await session.commit()
    return number


async def bind_number(
    rt: Runtime,
    session: AsyncSession,
    principal: Principal,
    number_id: Any,
    changes: dict[str, Any],
) -> Number:
    """Change a number's binding. Enabling outbound needs a caller ID the policy allows.

    Only fields whose value differs are changed and audited: an empty change (``{}``, or the
    values the number already has) changes nothing and writes no audit row.
    """
    number = await get_number(session, principal.workspace_id, number_id, for_update=True)
    changes = {k: v for k, v in changes.items() if k in BINDING_FIELDS and getattr(number, k) != v}
    if not changes:
        await session.commit()  # ends the transaction that locked the row
        return number
    if changes.get("outbound_enabled") and not rt.policy.caller_id_allowed(number):
        audit.subject_event(
            session,
            principal,
            number,
            action="binding_changed",
            outcome="refused",
            detail={"requested": changes, "reasons": [CALLER_ID_NOT_ALLOWED]},
        )
        await session.commit()
        raise PolicyDenied(
            [CALLER_ID_NOT_ALLOWED],
            "outbound needs a hosted number or a verified caller ID: verify this number first",
        )
    before = {k: _plain(getattr(number, k)) for k in changes}
    for key, value in changes.items():
        setattr(number, key, value)
    audit.subject_event(
        session,
        principal,
        number,
        action="binding_changed",
        outcome="ok",
        detail={"before": before, "after": changes},
    )
    await session.commit()
    return number


async def delete_number(
    rt: Runtime, session: AsyncSession, principal: Principal, number_id: Any
) -> None:
    """Remove a number from the workspace; each campaign that used it as caller ID loses it,
    with a ``caller_id_changed`` audit event.

    A hosted number is first released at its carrier (``release_number``): the row stays, as
    ``released``, for the ledger (a ``release`` entry; rentals stop from the next period) and
    the audit trail, and the number is no longer claimed. When the carrier fails nothing
    changes and its error propagates. Any other number is deleted.
    """
    number = await get_number(session, principal.workspace_id, number_id, for_update=True)
    if number.hosted:
        await _release(rt, session, principal, number)
        return
    await _drop_caller_id(session, principal, number, reason="number_deleted")
    await audit.delete_subject(
        session,
        principal,
        number,
        action="number_deleted",
        detail={"phone_e164": number.phone_e164},
    )


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, list) else value


async def _release(
    rt: Runtime, session: AsyncSession, principal: Principal, number: Number
) -> None:
    ref = as_ref(number)
    await session.commit()  # no transaction (nor lock) held while the carrier answers
    try:
        rt.ensure_live()
        await rt.host.call_provider("release_number", number.provider, number=ref)
    except TrunklineError as exc:
        audit.subject_event(
            session,
            principal,
            number,
            action="number_released",
            outcome=exc.code,
            detail={"phone_e164": number.phone_e164, "error": exc.detail},
        )
        await session.commit()
        raise
    released = await session.execute(
        update(Number)
        .where(Number.id == number.id, Number.state == "active")
        .values(state="released", outbound_enabled=False, inbound_enabled=False)
        .execution_options(synchronize_session=False)
    )
    if released.rowcount != 1:  # type: ignore[attr-defined]
        await session.rollback()  # a concurrent delete released it first
        return
    session.add(
        LedgerEntry.for_number(
            "release",
            number,
            {"provider_ref": number.provider_ref, "rentals": "stop from the next period"},
        )
    )
    audit.subject_event(
        session,
        principal,
        number,
        action="number_released",
        outcome="ok",
        detail={"phone_e164": number.phone_e164, "provider_ref": number.provider_ref},
    )
    await _drop_caller_id(session, principal, number, reason="number_released")
    await session.commit()


def caller_id_event(
    session: AsyncSession,
    principal: Principal,
    campaign: Campaign,
    outcome: str,
    detail: dict[str, Any],
    number: Number | None = None,
) -> None:
    """Audit a change of a campaign's caller ID, or a refused one (``caller_id_changed``); the
    provider is that of the ``number`` it now or last used, if any."""
    audit.subject_event(
        session,
        principal,
        campaign,
        action="caller_id_changed",
        outcome=outcome,
        provider=number.provider if number else None,
        detail=detail,
    )


async def _drop_caller_id(
    session: AsyncSession, principal: Principal, number: Number, *, reason: str
) -> None:
    """Campaigns using ``number`` as caller ID lose it, each with a ``caller_id_changed``
    audit event (``reason``: why the number went)."""
    campaigns = (
        await session.execute(select(Campaign).where(Campaign.from_number_id == number.id))
    ).scalars()
    for campaign in campaigns:
        campaign.from_number_id = None
        detail = {"before": number.phone_e164, "after": None, "number_id": str(number.id)}
        caller_id_event(session, principal, campaign, "ok", detail | {"reason": reason}, number)


def lose_verification(number: Number) -> dict[str, Any]:
    """A number that is no longer a verified CLI loses its outbound binding (unless hosted).

    Returns what changed, for the audit trail.
    """
    changed: dict[str, Any] = {}
    if number.verified_cli:
        number.verified_cli = False
        changed["verified_cli"] = False
    if number.outbound_enabled and not number.hosted:
        number.outbound_enabled = False
        changed["outbound_enabled"] = False
    return changed
