"""Campaigns, their caller IDs, and test calls."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from . import audit
from .auth import Principal
from .calls import normalise_status
from .errors import (
    CallerIdNotAllowed,
    CallerIdNotFound,
    CallerIdOutboundDisabled,
    DemoMode,
    NoCallerId,
    PolicyDenied,
    TrunklineError,
)
from .events import settle_early_statuses
from .lookups import LookupOutcome
from .models import CallOptions, PlacedCall
from .numbers import caller_id_event, find_by_e164
from .outbound_policy import CompiledPolicy, load_workspace_policy
from .phone import parse_e164
from .policy import CALLER_ID_NOT_ALLOWED, DEMO_MODE, OUTBOUND_DISABLED, attestation_below
from .preflight import CallQuestion, decide
from .queries import Page, one_of, page_of
from .runtime import Runtime
from .tables import Call, Campaign, Number


async def get_campaign(session: AsyncSession, workspace_id: uuid.UUID, cid: Any) -> Campaign:
    return await one_of(session, Campaign, workspace_id, cid, "campaign")


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
    refused = caller_id_refusals(rt, number)
    if OUTBOUND_DISABLED in refused:
        raise CallerIdOutboundDisabled(
            f"{phone} is not enabled for outbound calls", field=field, reasons=[OUTBOUND_DISABLED]
        )
    if CALLER_ID_NOT_ALLOWED in refused:
        raise CallerIdNotAllowed(
            f"{phone} is neither hosted nor a verified caller ID",
            field=field,
            reasons=[CALLER_ID_NOT_ALLOWED],
        )
    return number


def caller_id_refusals(rt: Runtime, number: Any) -> list[str]:
    """Why ``number`` may not be set as a campaign's caller ID, in order (``[]``: it may): not
    enabled for outbound, neither hosted nor a verified caller ID (while those are allowed).
    The API's check and the console's caller-ID choices both read it."""
    refused = []
    if not number.outbound_enabled:
        refused.append(OUTBOUND_DISABLED)
    if not rt.policy.caller_id_allowed(number):
        refused.append(CALLER_ID_NOT_ALLOWED)
    return refused


async def list_campaigns(
    session: AsyncSession, workspace_id: uuid.UUID, page: Page
) -> tuple[list[Campaign], int]:
    where = [Campaign.workspace_id == workspace_id]
    order = (Campaign.created_at, Campaign.id)
    return await page_of(session, Campaign, where, order, page)


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
    audit.subject_event(
        session,
        principal,
        campaign,
        action="campaign_created",
        outcome="ok",
        detail={"name": name, "from_e164": number.phone_e164 if number else None},
    )
    await session.commit()
    return campaign


async def rename_campaign(
    session: AsyncSession, principal: Principal, cid: Any, name: str
) -> Campaign:
    """Change a campaign's name (audited ``campaign_updated``)."""
    campaign = await get_campaign(session, principal.workspace_id, cid)
    before = campaign.name
    campaign.name = name
    audit.subject_event(
        session,
        principal,
        campaign,
        action="campaign_updated",
        outcome="ok",
        detail={"before": {"name": before}, "after": {"name": name}},
    )
    await session.commit()
    return campaign


async def delete_campaign(session: AsyncSession, principal: Principal, cid: Any) -> None:
    """Remove a campaign (audited ``campaign_deleted``); its calls stay, without a campaign."""
    campaign = await get_campaign(session, principal.workspace_id, cid)
    await audit.delete_subject(
        session, principal, campaign, action="campaign_deleted", detail={"name": campaign.name}
    )


async def set_caller_id(
    rt: Runtime, session: AsyncSession, principal: Principal, cid: Any, e164: str | None
) -> Campaign:
    """Set the campaign's caller ID, or clear it when ``e164`` is None (audited either way)."""
    campaign = await get_campaign(session, principal.workspace_id, cid)
    number = None
    if e164 is not None:
        try:
            number = await resolve_caller_id(rt, session, principal.workspace_id, e164)
        except TrunklineError as exc:
            caller_id_event(session, principal, campaign, exc.code, {"e164": e164})
            await session.commit()
            raise
    before = await caller_id_of(session, campaign)
    campaign.from_number_id = number.id if number else None
    detail = {
        "before": before.phone_e164 if before else None,
        "after": number.phone_e164 if number else None,
    }
    caller_id_event(session, principal, campaign, "ok", detail, number)
    await session.commit()
    return campaign


async def caller_id_of(session: AsyncSession, campaign: Campaign) -> Number | None:
    """The campaign's caller-ID number, if it has one."""
    if campaign.from_number_id is None:
        return None
    return await session.get(Number, campaign.from_number_id)


async def caller_ids_of(
    session: AsyncSession, campaigns: list[Campaign]
) -> dict[uuid.UUID, Number]:
    """The caller-ID numbers of several campaigns in one query, by number id."""
    ids = {c.from_number_id for c in campaigns if c.from_number_id is not None}
    if not ids:
        return {}
    rows = (await session.execute(select(Number).where(Number.id.in_(ids)))).scalars()
    return {n.id: n for n in rows}


def caller_id_warnings(rt: Runtime, number: Number | None) -> list[str]:
    """The policy reasons that refuse every call from this caller ID now (demo mode aside).

    A campaign's caller ID was allowed when it was set; a later change (outbound turned off,
    verified caller IDs switched off, a country blocked) leaves it set but unusable.
    """
    if number is None:
        return []
    decision = rt.policy.evaluate(number)
    return [r for r in decision.reasons if r != DEMO_MODE]


def attestation_warning(number: Number | None, workspace: CompiledPolicy) -> str | None:
    """In words, why calls from this caller ID to US and Canadian destinations will be refused
    (``attestation_below_minimum``), or ``None`` when its expected attestation meets the
    workspace's ``min_attestation`` (or there is none). Calls elsewhere are not affected."""
    minimum = workspace.min_attestation
    if number is None or not attestation_below(number.attestation_level, minimum):
        return None
    level = number.attestation_level
    said = f"attestation {level}" if level else "attestation, never estimated,"
    return (
        f"Calls to US and Canadian numbers will be refused: the caller ID's expected {said} is "
        f"below this workspace's minimum, {minimum}."
    )


async def test_call(
    rt: Runtime,
    session: AsyncSession,
    principal: Principal,
    cid: Any,
    to: str,
    *,
    lookup: bool | None = None,
    last_verified_date: date | None = None,
) -> Call:
    """Enforce the policy for ``to``, place the call through the carrier, record it.

    The decision is the preflight's (``core.preflight.decide`` with the workspace's settings,
    lookups included), taken on what the request read; no transaction is open during a lookup
    or the carrier call, and the call and its audit event are committed together afterwards.
    """
    campaign = await get_campaign(session, principal.workspace_id, cid)
    to_e164, to_country = parse_e164(to, "to")
    number = await caller_id_of(session, campaign)
    if number is None:
        raise NoCallerId("set the campaign's caller ID before placing a test call")

    def refuse(code: str, reasons: list[str], lookup: LookupOutcome | None = None) -> None:
        detail: dict[str, Any] = {"to": to_e164, "reasons": reasons}
        if lookup is not None:
            detail["lookup"] = lookup.status
        audit.subject_event(
            session,
            principal,
            campaign,
            action="test_call",
            outcome=code,
            provider=number.provider,
            detail=detail,
        )

    # The preflight's own gate (``core.preflight.decide``): the workspace's allow-list, calling
    # hours, minimum attestation and destination lookups too.
    workspace = await load_workspace_policy(session, principal.workspace_id)
    # End the read transaction before a lookup or the carrier call (either may take seconds):
    # no database connection is held meanwhile. The objects stay loaded (the sessions don't
    # expire them).
    await session.commit()
    verdict = await decide(
        rt,
        CallQuestion(number, to_e164, to_country, workspace),
        workspace_id=principal.workspace_id,
        lookup=lookup,
        last_verified_date=last_verified_date,
    )
    if not verdict.allowed:
        refuse("refused", list(verdict.reasons), verdict.lookup)
        await session.commit()
        if rt.settings.demo_mode:
            raise DemoMode("DEMO_MODE is on: no call is placed", reasons=list(verdict.reasons))
        raise PolicyDenied(list(verdict.reasons), next_allowed_at=verdict.next_allowed_at)
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
        status=normalise_status(placed.status) or "queued",
    )
    session.add(call)
    await session.flush()
    audit.by_principal(
        session,
        principal,
        action="test_call",
        outcome="placed",
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
    if placed.provider_call_id:  # statuses the carrier sent before the call was stored
        await settle_early_statuses(session, number.provider, placed.provider_call_id)
    return call
