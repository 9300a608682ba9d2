"""``POST /outbound/check``: the dialer's preflight before each call."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import bindparam, select

from core.errors import InvalidInput, NotFound
from core.numbers import parse_uuid
from core.phone import parse_e164
from core.runtime import Runtime
from core.tables import Number

from ..deps import PrincipalDep
from ..schemas import OutboundCheckIn, OutboundCheckOut, problems

router = APIRouter(tags=["outbound"])

_COLUMNS = (
    Number.id,
    Number.provider,
    Number.country_code,
    Number.hosted,
    Number.verified_cli,
    Number.outbound_enabled,
)
#: Built once (statement construction is a measurable part of this route's cost).
_BY_ID = select(*_COLUMNS).where(
    Number.workspace_id == bindparam("workspace_id"),
    Number.state == "active",
    Number.id == bindparam("number_id"),
)
_BY_PHONE = select(*_COLUMNS).where(
    Number.workspace_id == bindparam("workspace_id"),
    Number.state == "active",
    Number.phone_e164 == bindparam("phone"),
)


@router.post(
    "/outbound/check",
    response_model=OutboundCheckOut,
    responses=problems(401, 404, 422),
)
async def outbound_check(
    body: OutboundCheckIn, request: Request, principal: PrincipalDep
) -> OutboundCheckOut:
    """May this caller ID call ``to`` now? Answers every reason that applies."""
    # The runtime straight from the app, not through ``RuntimeDep``: each dependency costs
    # FastAPI measurable per-request work, and this route runs before every call a dialer makes.
    rt: Runtime = request.app.state.runtime
    params: dict[str, object] = {"workspace_id": principal.workspace_id}
    if body.number_id is not None:
        stmt = _BY_ID
        params["number_id"] = parse_uuid(body.number_id)
    elif body.from_ is not None:
        stmt = _BY_PHONE
        params["phone"] = parse_e164(body.from_, "from")[0]
    else:
        raise InvalidInput("give 'from' (E.164) or 'number_id'", field="from")
    destination_country = None
    if body.to is not None:
        # The one parse, as the test call does: the country is that of the number as parsed,
        # never skipped (a ``to`` with surrounding whitespace is the same number).
        destination_country = parse_e164(body.to, "to")[1]
    # One query on a pooled connection held only for that query (not for the whole request,
    # as a session dependency would be): under load the pool is what requests queue for.
    async with rt.engine.connect() as conn:
        row = (await conn.execute(stmt, params)).first()
    if row is None:
        raise NotFound("number not found")
    decision = rt.policy.evaluate(row, destination_country=destination_country)
    metrics = rt.extra.get("metrics")
    if metrics is not None:
        metrics.observe_policy(decision.reasons)
    return OutboundCheckOut(
        allowed=decision.allowed, reasons=list(decision.reasons), number_id=str(row.id)
    )
