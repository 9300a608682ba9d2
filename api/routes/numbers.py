"""``/settings/telephony/numbers``: a workspace's numbers, verification, purchases."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from core import numbers as numbers_service
from core import purchases, verification
from core.countries import parse_country
from core.errors import RateLimited
from core.models import AvailableNumber, NumberSearch, NumberType
from core.phone import parse_digit_filter

from ..catalog import gather
from ..deps import PageDep, PrincipalDep, RuntimeDep, SessionDep
from ..schemas import (
    PHONE_SCHEMA,
    CatalogOut,
    NumberBinding,
    NumberCreate,
    NumberOut,
    PageOut,
    PurchaseIn,
    VerifyIn,
    VerifyOut,
    problems,
)

router = APIRouter(prefix="/settings/telephony/numbers", tags=["numbers"])
ERRORS: dict[int | str, dict[str, Any]] = problems(401, 403, 404, 409, 422, 429, 502, 503)
CONTAINS_RULE = (
    "Digits the number contains: an optional `+` and up to 15 ASCII digits, surrounding "
    "whitespace ignored; anything else is 422 `invalid_phone_number`."
)
AREA_CODE_RULE = (
    "Up to 8 ASCII digits, surrounding whitespace ignored; anything else is 422 "
    "`invalid_phone_number`."
)


@router.get("", response_model=PageOut[NumberOut], responses=ERRORS)
async def list_numbers(
    rt: RuntimeDep,
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    provider: str | None = None,
    hosted: bool | None = None,
    verified: bool | None = None,
    outbound: bool | None = None,
) -> PageOut[NumberOut]:
    rows, total = await numbers_service.list_numbers(
        session,
        principal.workspace_id,
        provider=provider,
        hosted=hosted,
        verified=verified,
        outbound=outbound,
        limit=page.limit,
        offset=page.offset,
    )
    return PageOut(
        items=[NumberOut.of(n, rt.policy.caller_id_allowed(n)) for n in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.post("", status_code=201, response_model=NumberOut, responses=ERRORS)
async def add_number(
    body: NumberCreate, rt: RuntimeDep, session: SessionDep, principal: PrincipalDep
) -> NumberOut:
    number = await numbers_service.add_number(
        rt, session, principal, e164=body.e164, provider=body.provider
    )
    return NumberOut.of(number, rt.policy.caller_id_allowed(number))


@router.post("/verify-cli", response_model=VerifyOut, responses=ERRORS)
async def verify_cli(
    body: VerifyIn, request: Request, rt: RuntimeDep, session: SessionDep, principal: PrincipalDep
) -> dict[str, Any]:
    """Start, check or complete a caller-ID verification (see docs/api.md).

    Only requests that reach the carrier count against the per-user limit; a wrong code keeps
    the verification pending and says how many codes are left (``attempts_left``).
    """
    try:
        outcome = await verification.verify_cli(rt, session, principal, body.number_id, body.code)
    except RateLimited:
        request.app.state.metrics.rate_limited.labels("verify_cli").inc()
        raise
    return outcome.as_dict()


@router.get("/available", response_model=CatalogOut[AvailableNumber], responses=ERRORS)
async def available_numbers(
    rt: RuntimeDep,
    principal: PrincipalDep,
    country: Annotated[str, Query(min_length=2, max_length=2)],
    provider: str | None = None,
    number_type: NumberType = "local",
    contains: Annotated[
        str | None, Query(description=CONTAINS_RULE, json_schema_extra=PHONE_SCHEMA)
    ] = None,
    area_code: Annotated[
        str | None, Query(description=AREA_CODE_RULE, json_schema_extra=PHONE_SCHEMA)
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> CatalogOut[AvailableNumber]:
    rt.ensure_live()
    query = NumberSearch(
        country=parse_country(country),
        number_type=number_type,
        contains=parse_digit_filter(contains, "contains", max_digits=15, plus=True),
        area_code=parse_digit_filter(area_code, "area_code", max_digits=8),
        limit=limit,
    )
    return await gather(rt, "search_numbers", provider, query=query)


@router.post("/purchase", status_code=201, response_model=NumberOut, responses=ERRORS)
async def purchase(
    body: PurchaseIn, rt: RuntimeDep, session: SessionDep, principal: PrincipalDep
) -> NumberOut:
    number = await purchases.purchase(
        rt, session, principal, provider=body.provider, e164=body.e164
    )
    return NumberOut.of(number, rt.policy.caller_id_allowed(number))


@router.get("/{number_id}", response_model=NumberOut, responses=ERRORS)
async def get_number(
    number_id: str, rt: RuntimeDep, session: SessionDep, principal: PrincipalDep
) -> NumberOut:
    number = await numbers_service.get_number(session, principal.workspace_id, number_id)
    return NumberOut.of(number, rt.policy.caller_id_allowed(number))


@router.patch("/{number_id}", response_model=NumberOut, responses=ERRORS)
async def bind_number(
    number_id: str,
    body: NumberBinding,
    rt: RuntimeDep,
    session: SessionDep,
    principal: PrincipalDep,
) -> NumberOut:
    number = await numbers_service.bind_number(
        rt, session, principal, number_id, body.model_dump(exclude_unset=True)
    )
    return NumberOut.of(number, rt.policy.caller_id_allowed(number))


@router.delete("/{number_id}", status_code=204, responses=ERRORS)
async def delete_number(number_id: str, session: SessionDep, principal: PrincipalDep) -> Response:
    await numbers_service.delete_number(session, principal, number_id)
    return Response(status_code=204)
