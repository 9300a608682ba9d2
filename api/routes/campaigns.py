"""``/campaigns``: caller IDs and test calls."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from core import campaigns as service
from core.policy import REASON_TEXT
from core.runtime import Runtime
from core.tables import Campaign, Number

from ..deps import PageDep, PrincipalDep, RuntimeDep, SessionDep
from ..schemas import (
    CallOut,
    CampaignCreate,
    CampaignOut,
    CampaignUpdate,
    CampaignWarning,
    FromNumberIn,
    PageOut,
    TestCallIn,
    problems,
)

router = APIRouter(prefix="/campaigns", tags=["campaigns"])
ERRORS: dict[int | str, dict[str, Any]] = problems(401, 403, 404, 409, 422, 429, 502, 503)


def campaign_out(rt: Runtime, campaign: Campaign, number: Number | None) -> CampaignOut:
    """A campaign as the API shows it, with a warning for each reason its caller ID is refused."""
    warnings = [
        CampaignWarning(code=reason, detail=REASON_TEXT.get(reason, reason))
        for reason in service.caller_id_warnings(rt, number)
    ]
    return CampaignOut.of(campaign, number.phone_e164 if number else None, warnings)


async def _out(rt: Runtime, session: SessionDep, campaign: Campaign) -> CampaignOut:
    return campaign_out(rt, campaign, await service.caller_id_of(session, campaign))


@router.post("", status_code=201, response_model=CampaignOut, responses=ERRORS)
async def create_campaign(
    body: CampaignCreate, rt: RuntimeDep, session: SessionDep, principal: PrincipalDep
) -> CampaignOut:
    campaign = await service.create_campaign(
        rt, session, principal, name=body.name, from_e164=body.from_e164
    )
    return await _out(rt, session, campaign)


@router.get("", response_model=PageOut[CampaignOut], responses=ERRORS)
async def list_campaigns(
    rt: RuntimeDep, session: SessionDep, principal: PrincipalDep, page: PageDep
) -> PageOut[CampaignOut]:
    rows, total = await service.list_campaigns(
        session, principal.workspace_id, limit=page.limit, offset=page.offset
    )
    numbers = await service.caller_ids_of(session, rows)
    return PageOut(
        items=[
            campaign_out(rt, c, numbers.get(c.from_number_id) if c.from_number_id else None)
            for c in rows
        ],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/{cid}", response_model=CampaignOut, responses=ERRORS)
async def get_campaign(
    cid: str, rt: RuntimeDep, session: SessionDep, principal: PrincipalDep
) -> CampaignOut:
    campaign = await service.get_campaign(session, principal.workspace_id, cid)
    return await _out(rt, session, campaign)


@router.patch("/{cid}", response_model=CampaignOut, responses=ERRORS)
async def update_campaign(
    cid: str, body: CampaignUpdate, rt: RuntimeDep, session: SessionDep, principal: PrincipalDep
) -> CampaignOut:
    campaign = await service.rename_campaign(session, principal, cid, body.name)
    return await _out(rt, session, campaign)


@router.delete("/{cid}", status_code=204, responses=ERRORS)
async def delete_campaign(cid: str, session: SessionDep, principal: PrincipalDep) -> Response:
    await service.delete_campaign(session, principal, cid)
    return Response(status_code=204)


@router.patch("/{cid}/from_number", response_model=CampaignOut, responses=ERRORS)
async def set_from_number(
    cid: str, body: FromNumberIn, rt: RuntimeDep, session: SessionDep, principal: PrincipalDep
) -> CampaignOut:
    campaign = await service.set_caller_id(rt, session, principal, cid, body.e164)
    return await _out(rt, session, campaign)


@router.post("/{cid}/test-call", status_code=201, response_model=CallOut, responses=ERRORS)
async def test_call(
    cid: str, body: TestCallIn, rt: RuntimeDep, session: SessionDep, principal: PrincipalDep
) -> CallOut:
    return CallOut.of(await service.test_call(rt, session, principal, cid, body.to))
