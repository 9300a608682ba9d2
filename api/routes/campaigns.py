"""``/campaigns``: caller IDs and test calls."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from core import campaigns as service
from core.tables import Campaign, Number

from ..deps import PageDep, PrincipalDep, RuntimeDep, SessionDep
from ..schemas import (
    CallOut,
    CampaignCreate,
    CampaignOut,
    FromNumberIn,
    PageOut,
    TestCallIn,
    problems,
)

router = APIRouter(prefix="/campaigns", tags=["campaigns"])
ERRORS: dict[int | str, dict[str, Any]] = problems(401, 403, 404, 409, 422, 429, 502, 503)


async def _out(session: SessionDep, campaign: Campaign) -> CampaignOut:
    e164 = None
    if campaign.from_number_id is not None:
        number = await session.get(Number, campaign.from_number_id)
        e164 = number.phone_e164 if number else None
    return CampaignOut.of(campaign, e164)


@router.post("", status_code=201, response_model=CampaignOut, responses=ERRORS)
async def create_campaign(
    body: CampaignCreate, rt: RuntimeDep, session: SessionDep, principal: PrincipalDep
) -> CampaignOut:
    campaign = await service.create_campaign(
        rt, session, principal, name=body.name, from_e164=body.from_e164
    )
    return await _out(session, campaign)


@router.get("", response_model=PageOut[CampaignOut], responses=ERRORS)
async def list_campaigns(
    session: SessionDep, principal: PrincipalDep, page: PageDep
) -> PageOut[CampaignOut]:
    rows, total = await service.list_campaigns(
        session, principal.workspace_id, limit=page.limit, offset=page.offset
    )
    return PageOut(
        items=[await _out(session, c) for c in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/{cid}", response_model=CampaignOut, responses=ERRORS)
async def get_campaign(cid: str, session: SessionDep, principal: PrincipalDep) -> CampaignOut:
    return await _out(session, await service.get_campaign(session, principal.workspace_id, cid))


@router.patch("/{cid}/from_number", response_model=CampaignOut, responses=ERRORS)
async def set_from_number(
    cid: str, body: FromNumberIn, rt: RuntimeDep, session: SessionDep, principal: PrincipalDep
) -> CampaignOut:
    campaign = await service.set_caller_id(rt, session, principal, cid, body.e164)
    return await _out(session, campaign)


@router.post("/{cid}/test-call", status_code=201, response_model=CallOut, responses=ERRORS)
async def test_call(
    cid: str, body: TestCallIn, rt: RuntimeDep, session: SessionDep, principal: PrincipalDep
) -> CallOut:
    return CallOut.of(await service.test_call(rt, session, principal, cid, body.to))
