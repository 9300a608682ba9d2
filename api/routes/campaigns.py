"""``/campaigns``: caller IDs and test calls."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from core import campaigns as service
from core.tables import Campaign, Number

from ..deps import PageDep, PrincipalDep, RuntimeDep, SessionDep
from ..links import campaign_links, set_location
from ..schemas import (
    CallOut,
    CampaignCreate,
    CampaignOut,
    FromNumberIn,
    PageOut,
    TestCallIn,
    created,
    listed,
    problems,
)

router = APIRouter(prefix="/campaigns", tags=["campaigns"])


async def _out(session: SessionDep, campaign: Campaign) -> CampaignOut:
    e164 = None
    if campaign.from_number_id is not None:
        number = await session.get(Number, campaign.from_number_id)
        e164 = number.phone_e164 if number else None
    return CampaignOut.of(campaign, e164)


@router.post(
    "",
    status_code=201,
    response_model=CampaignOut,
    responses=created(401, 403, 409, 422, body=True, links=campaign_links("/id")),
)
async def create_campaign(
    body: CampaignCreate,
    request: Request,
    response: Response,
    rt: RuntimeDep,
    session: SessionDep,
    principal: PrincipalDep,
) -> CampaignOut:
    campaign = await service.create_campaign(
        rt, session, principal, name=body.name, from_e164=body.from_e164
    )
    set_location(request, response, "get_campaign", cid=str(campaign.id))
    return await _out(session, campaign)


@router.get(
    "",
    response_model=PageOut[CampaignOut],
    responses=listed(401, 422, links=campaign_links("/items/0/id")),
)
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


@router.get("/{cid}", response_model=CampaignOut, responses=problems(401, 404))
async def get_campaign(cid: str, session: SessionDep, principal: PrincipalDep) -> CampaignOut:
    return await _out(session, await service.get_campaign(session, principal.workspace_id, cid))


@router.patch(
    "/{cid}/from_number",
    response_model=CampaignOut,
    responses=problems(401, 403, 404, 409, 422, body=True),
)
async def set_from_number(
    cid: str, body: FromNumberIn, rt: RuntimeDep, session: SessionDep, principal: PrincipalDep
) -> CampaignOut:
    campaign = await service.set_caller_id(rt, session, principal, cid, body.e164)
    return await _out(session, campaign)


@router.post(
    "/{cid}/test-call",
    status_code=201,
    response_model=CallOut,
    responses=problems(401, 403, 404, 409, 422, 429, 502, 503, body=True),
)
async def test_call(
    cid: str, body: TestCallIn, rt: RuntimeDep, session: SessionDep, principal: PrincipalDep
) -> CallOut:
    return CallOut.of(await service.test_call(rt, session, principal, cid, body.to))
