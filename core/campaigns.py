"""Campaigns, their caller IDs, and test calls."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from . import audit
from .auth import Principal
from .errors import Conflict, DemoMode, InvalidInput, NotFound, PolicyDenied, TrunklineError
from .models import CallOptions, PlacedCall
from .numbers import find_by_e164, parse_uuid
from .phone import parse_e164
from .policy import CALLER_ID_NOT_ALLOWED, OUTBOUND_DISABLED
from .runtime import Runtime
from .tables import Call, Campaign, Number


class CallerIdNotFound(InvalidInput):
    code = "caller_id_not_found"
    title = "Caller ID not in this workspace"


class CallerIdOutboundDisabled(Conflict):
    code = "caller_id_outbound_disabled"
    title = "Caller ID not enabled for outbound"


class CallerIdNotAllowed(Conflict):
    code = "caller_id_not_allowed"
    title = "Caller ID neither hosted nor verified"


class NoCallerId(Conflict):
    code = "campaign_has_no_caller_id"
    title = "Campaign has no caller ID"


async def get_campaign(session: AsyncSession, workspace_id: uuid.UUID, cid: Any) -> Campaign:
    campaign = (
        await session.execute(
            select(Campaign).where(
                Campaign.id == parse_uuid(cid, "campaign"), Campaign.workspace_id == workspace_id
            )
        )
    ).scalar_one_or_none()
    if campaign is None:
        raise NotFound("campaign not found")
    return campaign


async def resolve_caller_id(
    rt: Runtime, session: AsyncSession, workspace_id: uuid.UUID, e164: str, field: str = "e164"
) -> Number:
    """The workspace's number for ``e164`` if it may be a campaign's caller ID, else why not.

    422 ``invalid_phone_number`` / ``caller_id_not_found`` (another workspace's number is not
    found either), 409 ``caller_id_outbound_disabled`` / ``caller_id_not_allowed``; each
    problem names ``field``, the request's own field.
    """
    phone, _ = parse_e164(e164, field)
    number = await find_by_e164(session, workspace_id, phone)
    if number is None:
        raise CallerIdNotFound(f"{phone} is not a number of this workspace", field=field)
    if not number.outbound_enabled:
        raise CallerIdOutboundDisabled(
            f"{phone} is not enabled for outbound calls", field=field, reasons=[OUTBOUND_DISABLED]
        )
    if not rt.policy.caller_id_allowed(number):
        raise CallerIdNotAllowed(
            f"{phone} is neither hosted nor a verified caller ID",
            field=field,
            reasons=[CALLER_ID_NOT_ALLOWED],
        )
    return number


async def list_campaigns(
    session: AsyncSession, workspace_id: uuid.UUID, *, limit: int, offset: int
) -> tuple[list[Campaign], int]:
    where = Campaign.workspace_id == workspace_id
    total = (
        await session.execute(select(func.count()).select_from(Campaign).where(where))
    ).scalar()
    rows = (
        await session.execute(
            select(Campaign)
            .where(where)
            .order_by(Campaign.created_at, Campaign.id)
            .limit(limit)
            .offset(offset)
        )
    ).scalars()
    return list(rows), int(total or 0)


async def create_campaign(
    rt: Runtime, session: AsyncSession, principal: Principal, *, name: str, from_e164: str | None
) -> Campaign:
    number = None
    if from_e164 is not None:
        number = await resolve_caller_id(
            rt, session, principal.workspace_id, from_e164, "from_e164"
        )
    campaign = Campaign(
        workspace_id=principal.workspace_id, name=name, from_number_id=number.id if number else None
    )
    session.add(campaign)
    await session.flush()
    audit.record(
        session,
        action="campaign_created",
        outcome="ok",
        actor=principal.actor,
        workspace_id=principal.workspace_id,
        subject_type="campaign",
        subject_id=campaign.id,
        detail={"name": name, "from_e164": number.phone_e164 if number else None},
    )
    await session.commit()
    return campaign


async def set_caller_id(
    rt: Runtime, session: AsyncSession, principal: Principal, cid: Any, e164: str
) -> Campaign:
    campaign = await get_campaign(session, principal.workspace_id, cid)
    try:
        number = await resolve_caller_id(rt, session, principal.workspace_id, e164)
    except TrunklineError as exc:
        audit.record(
            session,
            action="caller_id_changed",
            outcome=exc.code,
            actor=principal.actor,
            workspace_id=principal.workspace_id,
            subject_type="campaign",
            subject_id=campaign.id,
            detail={"e164": e164},
        )
        await session.commit()
        raise
    before = campaign.from_number_id
    campaign.from_number_id = number.id
    audit.record(
        session,
        action="caller_id_changed",
        outcome="ok",
        actor=principal.actor,
        workspace_id=principal.workspace_id,
        subject_type="campaign",
        subject_id=campaign.id,
        provider=number.provider,
        detail={"before": str(before) if before else None, "after": number.phone_e164},
    )
    await session.commit()
    return campaign


async def test_call(
    rt: Runtime, session: AsyncSession, principal: Principal, cid: Any, to: str
) -> Call:
    """Enforce the policy for ``to``, place the call through the carrier, record it.

    The decision is taken on what the request read; no transaction is open during the
    carrier call, and the call and its audit event are committed together afterwards.
    """
    campaign = await get_campaign(session, principal.workspace_id, cid)
    to_e164, _ = parse_e164(to, "to")
    number = None
    if campaign.from_number_id is not None:
        number = await session.get(Number, campaign.from_number_id)
    if number is None:
        raise NoCallerId("set the campaign's caller ID before placing a test call")

    def refuse(code: str, reasons: list[str]) -> None:
        audit.record(
            session,
            action="test_call",
            outcome=code,
            actor=principal.actor,
            workspace_id=principal.workspace_id,
            subject_type="campaign",
            subject_id=campaign.id,
            provider=number.provider,
            detail={"to": to_e164, "reasons": reasons},
        )

    decision = rt.policy.evaluate(number, to_e164)
    if not decision.allowed:
        refuse("refused", list(decision.reasons))
        await session.commit()
        if rt.settings.demo_mode:
            raise DemoMode("DEMO_MODE is on: no call is placed", reasons=list(decision.reasons))
        raise PolicyDenied(list(decision.reasons))
    # End the read transaction before the carrier call (which may take seconds): no database
    # connection is held meanwhile. The objects stay loaded (the sessions don't expire them).
    await session.commit()
    try:
        placed: PlacedCall = await rt.host.call_provider(
            "place_call",
            number.provider,
            from_e164=number.phone_e164,
            to_e164=to_e164,
            options=CallOptions(metadata={"campaign_id": str(campaign.id)}),
        )
    except TrunklineError as exc:
        refuse(exc.code, [])
        await session.commit()
        raise
    call = Call(
        workspace_id=principal.workspace_id,
        campaign_id=campaign.id,
        number_id=number.id,
        provider=number.provider,
        from_e164=number.phone_e164,
        to_e164=to_e164,
        provider_call_id=placed.provider_call_id,
        status=placed.status,
    )
    session.add(call)
    await session.flush()
    audit.record(
        session,
        action="test_call",
        outcome="placed",
        actor=principal.actor,
        workspace_id=principal.workspace_id,
        subject_type="call",
        subject_id=call.id,
        provider=number.provider,
        detail={
            "to": to_e164,
            "provider_call_id": placed.provider_call_id,
            "campaign_id": str(campaign.id),
        },
    )
    await session.commit()
    return call
