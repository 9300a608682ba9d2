"""``/settings/telephony/numbers``: a workspace's numbers, verification, purchases."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from core import numbers as numbers_service
from core import purchases, verification
from core.countries import parse_country
from core.errors import RateLimited
from core.models import AvailableNumber, NumberSearch, NumberType
from core.phone import parse_digit_filter
from core.runtime import Runtime
from core.tables import Number

from ..catalog import search_numbers
from ..deps import PageDep, PrincipalDep, RuntimeDep, SessionDep
from ..links import Location, LocationDep, number_links
from ..schemas import (
    PHONE_SCHEMA,
    CatalogOut,
    NumberBinding,
    NumberCreate,
    NumberOut,
    NumberQuery,
    PageOut,
    PurchaseIn,
    VerifyIn,
    VerifyOut,
    created,
    listed,
    number_out,
    problems,
)
from ..validation import QueryModel, Text

router = APIRouter(prefix="/settings/telephony/numbers", tags=["numbers"])
#: What reaching a carrier may add: its refusals and failures (and demo mode's 403).
CARRIER = (403, 422, 429, 502, 503)
CONTAINS_RULE = (
    "Digits the number contains: an optional `+` and up to 15 ASCII digits, surrounding "
    "whitespace ignored; anything else is 422 `invalid_phone_number`."
)
AREA_CODE_RULE = (
    "Up to 8 ASCII digits, surrounding whitespace ignored; anything else is 422 "
    "`invalid_phone_number`."
)


def _created(location: Location, rt: Runtime, number: Number) -> NumberOut:
    """The answer to an operation that made a number: where it is, and the number."""
    location.set("get_number", number_id=str(number.id))
    return number_out(rt, number)


@router.get(
    "",
    response_model=PageOut[NumberOut],
    responses=listed(401, 422, links=number_links("/items/0/id")),
)
async def list_numbers(
    rt: RuntimeDep,
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    filters: QueryModel[NumberQuery],
) -> PageOut[NumberOut]:
    rows, total = await numbers_service.list_numbers(session, principal.workspace_id, filters, page)
    return page.of([number_out(rt, n) for n in rows], total)


@router.post(
    "",
    status_code=201,
    response_model=NumberOut,
    responses=created(401, 403, 409, 422, body=True, links=number_links("/id")),
)
async def add_number(
    body: NumberCreate,
    location: LocationDep,
    rt: RuntimeDep,
    session: SessionDep,
    principal: PrincipalDep,
) -> NumberOut:
    number = await numbers_service.add_number(
        rt, session, principal, e164=body.e164, provider=body.provider
    )
    return _created(location, rt, number)


@router.post(
    "/verify-cli",
    response_model=VerifyOut,
    responses=problems(401, 404, 409, *CARRIER, body=True),
)
async def verify_cli(
    body: VerifyIn, rt: RuntimeDep, session: SessionDep, principal: PrincipalDep
) -> dict[str, Any]:
    """Start, check or complete a caller-ID verification (see docs/api.md).

    Only requests that reach the carrier count against the per-user limit; a wrong code keeps
    the verification pending and says how many codes are left (``attempts_left``).
    """
    try:
        outcome = await verification.verify_cli(rt, session, principal, body.number_id, body.code)
    except RateLimited:
        rt.metrics.observe_rate_limited("verify_cli")
        raise
    return outcome.as_dict()


@router.get(
    "/available", response_model=CatalogOut[AvailableNumber], responses=problems(401, *CARRIER)
)
async def available_numbers(
    rt: RuntimeDep,
    principal: PrincipalDep,
    country: Annotated[str, Query(min_length=2, max_length=2)],
    provider: Annotated[Text | None, Query(max_length=32)] = None,
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
    return await search_numbers(rt, provider, query)


@router.post(
    "/purchase",
    status_code=201,
    response_model=NumberOut,
    responses=created(401, 409, *CARRIER, body=True, links=number_links("/id")),
)
async def purchase(
    body: PurchaseIn,
    location: LocationDep,
    rt: RuntimeDep,
    session: SessionDep,
    principal: PrincipalDep,
) -> NumberOut:
    number = await purchases.purchase(
        rt, session, principal, provider=body.provider, e164=body.e164
    )
    return _created(location, rt, number)


@router.get("/{number_id}", response_model=NumberOut, responses=problems(401, 404))
async def get_number(
    number_id: str, rt: RuntimeDep, session: SessionDep, principal: PrincipalDep
) -> NumberOut:
    number = await numbers_service.get_number(session, principal.workspace_id, number_id)
    return number_out(rt, number)


@router.patch(
    "/{number_id}",
    response_model=NumberOut,
    responses=problems(401, 403, 404, 409, body=True),
)
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
    return number_out(rt, number)


@router.delete(
    "/{number_id}", status_code=204, responses=problems(401, 403, 404, 422, 429, 502, 503)
)
async def delete_number(
    number_id: str, rt: RuntimeDep, session: SessionDep, principal: PrincipalDep
) -> Response:
    await numbers_service.delete_number(rt, session, principal, number_id)
    return Response(status_code=204)
