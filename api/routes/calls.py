"""``/calls``: the calls placed through Trunkline (test calls) and their status."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from core import calls as service

from ..deps import PageDep, PrincipalDep, SessionDep
from ..schemas import CallOut, CallQuery, PageOut, problems
from ..validation import QueryModel

router = APIRouter(prefix="/calls", tags=["calls"])
ERRORS: dict[int | str, dict[str, Any]] = problems(401, 403, 404, 422)


@router.get("", response_model=PageOut[CallOut], responses=ERRORS)
async def list_calls(
    session: SessionDep, principal: PrincipalDep, page: PageDep, filters: QueryModel[CallQuery]
) -> PageOut[CallOut]:
    rows, total = await service.list_calls(session, principal.workspace_id, filters, page)
    return page.of([CallOut.of(c) for c in rows], total)


@router.get("/{call_id}", response_model=CallOut, responses=ERRORS)
async def get_call(call_id: str, session: SessionDep, principal: PrincipalDep) -> CallOut:
    return CallOut.of(await service.get_call(session, principal.workspace_id, call_id))
