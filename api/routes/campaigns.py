"""``/campaigns``: caller IDs and test calls."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from core import campaigns as service
from core.outbound_policy import CompiledPolicy, load_workspace_policy
from core.policy import ATTESTATION_BELOW_MINIMUM, REASON_TEXT
from core.runtime import Runtime
from core.tables import Campaign, Number

from ..deps import PageDep, PrincipalDep, RuntimeDep, SessionDep
from ..links import LocationDep, campaign_links
from ..schemas import (
    CallOut,
    CampaignCreate,
    CampaignOut,
    CampaignUpdate,
    CampaignWarning,
    FromNumberIn,
    PageOut,
    TestCallIn,
    created,
    listed,
    problems,
)

router = APIRouter(prefix="/campaigns", tags=["campaigns"])


def campaign_out(
    rt: Runtime, campaign: Campaign, number: Number | None, workspace: CompiledPolicy
) -> CampaignOut:
    """A campaign as the API shows it, with a warning for each reason its caller ID is refused
    (every call), and ``attestation_below_minimum`` when calls to US and CA destinations are."""
    warnings = [
        CampaignWarning(code=reason, detail=REASON_TEXT.get(reason, reason))
        for reason in service.caller_id_warnings(rt, number)
    ]
    below = service.attestation_warning(number, workspace)
    if below is not None:
        warnings.append(CampaignWarning(code=ATTESTATION_BELOW_MINIMUM, detail=below))
    return CampaignOut.of(campaign, number.phone_e164 if number else None, warnings)


async def _out(
    rt: Runtime, session: SessionDep, campaign: Campaign, workspace_id: uuid.UUID
) -> CampaignOut:
    return campaign_out(
        rt,
        campaign,
        await service.caller_id_of(session, campaign),
        await load_workspace_policy(session, workspace_id),
    )


@router.post(
    "",
    status_code=201,
    response_model=CampaignOut,
    responses=created(401, 403, 409, 422, body=True, links=campaign_links("/id")),
)
async def create_campaign(
    body: CampaignCreate,
    location: LocationDep,
    rt: RuntimeDep,
    session: SessionDep,
    principal: PrincipalDep,
) -> CampaignOut:
    campaign = await service.create_campaign(
        rt, session, principal, name=body.name, from_e164=body.from_e164
    )
    location.set("get_campaign", cid=str(campaign.id))
    return await _out(rt, session, campaign, principal.workspace_id)


@router.get(
    "",
    response_model=PageOut[CampaignOut],
    responses=listed(401, 422, links=campaign_links("/items/0/id")),
)
async def list_campaigns(
    rt: RuntimeDep, session: SessionDep, principal: PrincipalDep, page: PageDep
) -> PageOut[CampaignOut]:
    rows, total = await service.list_campaigns(session, principal.workspace_id, page)
    numbers = await service.caller_ids_of(session, rows)
    workspace = await load_workspace_policy(session, principal.workspace_id)
    return page.of(
        [
            campaign_out(
                rt, c, numbers.get(c.from_number_id) if c.from_number_id else None, workspace
            )
            for c in rows
        ],
        total,
    )


@router.get("/{cid}", response_model=CampaignOut, responses=problems(401, 404))
async def get_campaign(
    cid: str, rt: RuntimeDep, session: SessionDep, principal: PrincipalDep
) -> CampaignOut:
    campaign = await service.get_campaign(session, principal.workspace_id, cid)
    return await _out(rt, session, campaign, principal.workspace_id)


@router.patch(
    "/{cid}", response_model=CampaignOut, responses=problems(401, 403, 404, 422, body=True)
)
async def update_campaign(
    cid: str, body: CampaignUpdate, rt: RuntimeDep, session: SessionDep, principal: PrincipalDep
) -> CampaignOut:
    campaign = await service.rename_campaign(session, principal, cid, body.name)
    return await _out(rt, session, campaign, principal.workspace_id)


@router.delete("/{cid}", status_code=204, responses=problems(401, 403, 404))
async def delete_campaign(cid: str, session: SessionDep, principal: PrincipalDep) -> Response:
    await service.delete_campaign(session, principal, cid)
    return Response(status_code=204)


@router.patch(
    "/{cid}/from_number",
    response_model=CampaignOut,
    responses=problems(401, 403, 404, 409, 422, body=True),
)
async def set_from_number(
    cid: str, body: FromNumberIn, rt: RuntimeDep, session: SessionDep, principal: PrincipalDep
) -> CampaignOut:
    campaign = await service.set_caller_id(rt, session, principal, cid, body.e164)
    return await _out(rt, session, campaign, principal.workspace_id)


@router.post(
    "/{cid}/test-call",
    status_code=201,
    response_model=CallOut,
    responses=created(401, 403, 404, 409, 422, 429, 502, 503, body=True),
)
async def test_call(
    cid: str,
    body: TestCallIn,
    location: LocationDep,
    rt: RuntimeDep,
    session: SessionDep,
    principal: PrincipalDep,
) -> CallOut:
    call = await service.test_call(
        rt,
        session,
        principal,
        cid,
        body.to,
        lookup=body.lookup,
        last_verified_date=body.last_verified_date,
    )
    location.set("get_call", call_id=str(call.id))
    return CallOut.of(call)
