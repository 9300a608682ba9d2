"""Console pages that read the workspace's records: calls, the audit trail and the ledger.

Each is a paged, server-rendered table (newest first, like the API's lists); the calls page
follows the status of calls still in progress through ``GET /calls/{id}``.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select

from core import audit
from core import calls as calls_service
from core.calls import CALL_STATUSES, FINAL_STATUSES, CallFilter, normalise_status
from core.purchases import list_ledger
from core.tables import Campaign

from ..deps import RuntimeDep
from .render import PAGE_SIZE, Listing, _choice
from .signin import ConsolePage

router = APIRouter(prefix="/console", include_in_schema=False)


@router.get("/calls")
async def calls_page(request: Request, rt: RuntimeDep, page: ConsolePage) -> Response:
    async with rt.sessionmaker() as session:
        ws = page.principal.workspace_id
        status = _choice(request.query_params.get("status"), CALL_STATUSES)
        listing = Listing.of(request, PAGE_SIZE, status=status)
        rows, total = await calls_service.list_calls(
            session, ws, CallFilter(status=status), listing.page
        )
        ids = {c.campaign_id for c in rows if c.campaign_id is not None}
        names = {}
        if ids:
            found = await session.execute(
                select(Campaign.id, Campaign.name).where(
                    Campaign.workspace_id == ws, Campaign.id.in_(ids)
                )
            )
            names = {cid: name for cid, name in found.all()}
    calls = []
    for c in rows:
        call_status = normalise_status(c.status) or "queued"
        calls.append(
            {
                "id": str(c.id),
                "campaign": names.get(c.campaign_id) if c.campaign_id else None,
                "provider": c.provider,
                "from_e164": c.from_e164,
                "to_e164": c.to_e164,
                "provider_call_id": c.provider_call_id,
                "status": call_status,
                "final": call_status in FINAL_STATUSES,
                "created_at": c.created_at,
                "updated_at": c.updated_at,
            }
        )
    return page.render(
        "calls.html", calls=calls, listing=listing.counted(total), statuses=CALL_STATUSES
    )


@router.get("/audit")
async def audit_page(request: Request, rt: RuntimeDep, page: ConsolePage) -> Response:
    async with rt.sessionmaker() as session:
        q = request.query_params
        filters = {
            "action": _choice(q.get("action"), audit.ACTIONS),
            "subject_type": _choice(q.get("subject_type"), SUBJECT_TYPES),
            "subject_id": (q.get("subject_id") or "").strip()[:64] or None,
            "outcome": (q.get("outcome") or "").strip()[:32] or None,
        }
        listing = Listing.of(request, PAGE_SIZE, **filters)
        rows, total = await audit.list_events(
            session,
            page.principal.workspace_id,
            audit.AuditFilter(**filters),
            listing.page,
        )
    return page.render(
        "audit.html",
        events=rows,
        listing=listing.counted(total),
        actions=audit.ACTIONS,
        subject_types=SUBJECT_TYPES,
    )


#: The subjects audit events are about.
SUBJECT_TYPES = ("number", "campaign", "call")


@router.get("/ledger")
async def ledger_page(request: Request, rt: RuntimeDep, page: ConsolePage) -> Response:
    async with rt.sessionmaker() as session:
        listing = Listing.of(request, PAGE_SIZE)
        rows, total = await list_ledger(session, page.principal.workspace_id, listing.page)
    return page.render("ledger.html", entries=rows, listing=listing.counted(total))
