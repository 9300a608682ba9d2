"""``/console`` pages: the numbers table (NumbersRowActions), a number's binding (BindControls)
and campaigns (CampaignCreateDialog).

Every page is rendered on the server with the principal of the ``trunkline_key`` cookie (HttpOnly,
SameSite=Strict), so it shows only that key's workspace. Changes are made by the page scripts
through the JSON API, which checks the ``X-CSRF-Token`` header against the ``trunkline_csrf``
cookie (double submit, :func:`api.deps.get_principal`). Sign-in, sessions and cross-site
protection are in :mod:`api.console.signin`, rendering in :mod:`api.console.render`, the views
of the data in :mod:`api.console.views`, SettingsTelephony in :mod:`api.console.telephony`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from core import campaigns as campaigns_service
from core import numbers as numbers_service
from core.errors import NotFound
from core.numbers import NumberFilter
from core.outbound_policy import CompiledPolicy, load_workspace_policy
from core.policy import REASON_TEXT
from core.queries import Page
from core.runtime import Runtime
from core.tables import Number

from ..deps import RuntimeDep
from ..schemas import NumberOut, number_out
from .render import PAGE_SIZE, Listing
from .signin import ConsolePage
from .views import caller_id_option, number_view

router = APIRouter(prefix="/console", include_in_schema=False)


# -- numbers, NumbersRowActions, BindControls -------------------------------------------------


@router.get("/numbers")
async def numbers_page(request: Request, rt: RuntimeDep, page: ConsolePage) -> Response:
    async with rt.sessionmaker() as session:
        listing = Listing.of(request, PAGE_SIZE)
        rows, total = await numbers_service.list_numbers(
            session, page.principal.workspace_id, NumberFilter(), listing.page
        )
        numbers = [_view(rt, n) for n in rows]
    return page.render(
        "numbers.html",
        removed=(request.query_params.get("removed") or "")[:20] or None,
        removed_how=request.query_params.get("how"),
        numbers=numbers,
        listing=listing.counted(total),
        provider_names=sorted(rt.host.providers),
    )


def release_supported(rt: Runtime) -> bool:
    """Whether ``DELETE`` of a hosted number releases it at its carrier (the release hook)."""
    return hasattr(rt.host.pm.hook, "release_number")


def _view(rt: Runtime, n: Number) -> dict[str, Any]:
    return number_view(number_out(rt, n), demo_mode=rt.settings.demo_mode)


@router.get("/numbers/{number_id}")
async def number_page(
    number_id: str, request: Request, rt: RuntimeDep, page: ConsolePage
) -> Response:
    async with rt.sessionmaker() as session:
        try:
            number = await numbers_service.get_number(
                session, page.principal.workspace_id, number_id
            )
        except NotFound:
            return page.render(
                "error.html",
                status=404,
                title="Number not found",
                message="There is no such number in this workspace.",
            )
        view = _view(rt, number)
    return page.render("number.html", number=view, release_supported=release_supported(rt))


# -- campaigns, CampaignCreateDialog ----------------------------------------------------------


def campaign_row(
    rt: Runtime, campaign: Any, number: Number | None, workspace: CompiledPolicy
) -> dict[str, Any]:
    """A campaign as the list shows it: its caller ID, the policy's warnings about it, and why
    a test call would be refused (``blocked``), if the console knows it will be. A caller ID
    below the workspace's minimum attestation is warned about (``below``) without blocking:
    only its calls to US and CA destinations are refused."""
    warnings = [
        {"code": r, "detail": REASON_TEXT.get(r, r)}
        for r in campaigns_service.caller_id_warnings(rt, number)
    ]
    blocked = None
    if number is None:
        blocked = "This campaign has no caller ID: set one (Edit) before placing a test call."
    elif warnings:
        blocked = "Its caller ID is refused: " + " ".join(w["detail"] for w in warnings)
    return {
        "below": campaigns_service.attestation_warning(number, workspace),
        "id": str(campaign.id),
        "name": campaign.name,
        "from_e164": number.phone_e164 if number else None,
        "warnings": warnings,
        "blocked": blocked,
        "created_at": campaign.created_at,
    }


@router.get("/campaigns")
async def campaigns_page(request: Request, rt: RuntimeDep, page: ConsolePage) -> Response:
    async with rt.sessionmaker() as session:
        ws = page.principal.workspace_id
        numbers, _ = await numbers_service.list_numbers(
            session, ws, NumberFilter(), Page(limit=500)
        )
        campaigns, total = await campaigns_service.list_campaigns(session, ws, Page(PAGE_SIZE))
        callers = await campaigns_service.caller_ids_of(session, campaigns)
        workspace = await load_workspace_policy(session, ws)
        rows = [
            campaign_row(
                rt, c, callers.get(c.from_number_id) if c.from_number_id else None, workspace
            )
            for c in campaigns
        ]
        options = [
            caller_id_option(
                NumberOut.of(n, rt.policy.caller_id_allowed(n)),
                campaigns_service.caller_id_refusals(rt, n),
            )
            for n in numbers
        ]
    return page.render("campaigns.html", campaigns=rows, total=total, options=options)
