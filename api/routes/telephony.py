"""``/settings/telephony``: providers, coverage, regulations, the workspace's outbound policy,
the ledger and the audit trail."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from core import audit
from core.calling_hours import rule_pack
from core.countries import parse_country
from core.models import CoverageEntry, EndUserType, NumberType, Requirement
from core.outbound_policy import (
    OutboundPolicySettings,
    load_workspace_policy,
    save_workspace_policy,
)
from core.purchases import list_ledger

from ..catalog import gather
from ..deps import PageDep, PrincipalDep, RuntimeDep, SessionDep
from ..schemas import (
    AuditOut,
    AuditQuery,
    CallingRuleOut,
    CatalogOut,
    LedgerOut,
    PageOut,
    PermissionsOut,
    ProviderOut,
    problems,
)
from ..validation import QueryModel, Text

router = APIRouter(prefix="/settings/telephony", tags=["telephony"])
#: A catalog question: a named provider's problem is the answer.
CATALOG = problems(401, 422, 429, 502, 503)
Country = Annotated[str, Query(min_length=2, max_length=2, pattern="^[A-Za-z]{2}$")]


def providers_of(rt: RuntimeDep) -> list[ProviderOut]:
    out = []
    for name in sorted(rt.host.providers):
        info = rt.host.providers[name]
        plugin = rt.host.provider_plugin[name]
        status = rt.host.provider_status(name)
        permissions = rt.permissions.entry(name)
        out.append(
            ProviderOut(
                name=name,
                display_name=info.display_name,
                plugin=plugin,
                version=rt.host.records[plugin].version,
                capabilities=sorted(info.capabilities),
                configured=status["configured"],
                detail=status.get("detail"),
                permissions=PermissionsOut.model_validate(permissions.as_dict())
                if permissions.supported
                else None,
            )
        )
    return out


@router.get("/providers", response_model=list[ProviderOut], responses=problems(401))
async def list_providers(rt: RuntimeDep, principal: PrincipalDep) -> list[ProviderOut]:
    return providers_of(rt)


@router.get("/outbound-policy", response_model=OutboundPolicySettings, responses=problems(401))
async def get_outbound_policy(
    session: SessionDep, principal: PrincipalDep
) -> OutboundPolicySettings:
    """The workspace's outbound policy (the defaults, restricting nothing, until it is set)."""
    return (await load_workspace_policy(session, principal.workspace_id)).settings


@router.put(
    "/outbound-policy",
    response_model=OutboundPolicySettings,
    responses=problems(401, 403, body=True),
)
async def put_outbound_policy(
    body: OutboundPolicySettings, session: SessionDep, principal: PrincipalDep
) -> OutboundPolicySettings:
    """Replace the workspace's outbound policy; the preflight applies it from the next call."""
    return (await save_workspace_policy(session, principal, body)).settings


@router.get("/calling-rules", response_model=list[CallingRuleOut], responses=problems(401))
async def calling_rules(principal: PrincipalDep) -> list[CallingRuleOut]:
    """The bundled calling-hours rule pack: each rule, where it applies, its windows, its source."""
    return [CallingRuleOut.model_validate(entry) for entry in rule_pack()]


@router.get("/coverage", response_model=CatalogOut[CoverageEntry], responses=CATALOG)
async def coverage(
    rt: RuntimeDep,
    principal: PrincipalDep,
    provider: Annotated[Text | None, Query(max_length=32)] = None,
    country: Annotated[
        str | None, Query(min_length=2, max_length=2, pattern="^[A-Za-z]{2}$")
    ] = None,
) -> CatalogOut[CoverageEntry]:
    code = parse_country(country) if country else None
    return await gather(rt, "list_coverage", provider, country=code)


@router.get("/regulations", response_model=CatalogOut[Requirement], responses=CATALOG)
async def regulations(
    rt: RuntimeDep,
    principal: PrincipalDep,
    country: Country,
    provider: Annotated[Text | None, Query(max_length=32)] = None,
    number_type: NumberType | None = None,
    end_user_type: EndUserType | None = None,
) -> CatalogOut[Requirement]:
    return await gather(
        rt,
        "fetch_regulations",
        provider,
        country=parse_country(country),
        number_type=number_type,
        end_user_type=end_user_type,
    )


@router.get("/ledger", response_model=PageOut[LedgerOut], responses=problems(401, 422))
async def ledger(session: SessionDep, principal: PrincipalDep, page: PageDep) -> PageOut[LedgerOut]:
    rows, total = await list_ledger(session, principal.workspace_id, page)
    return page.of([LedgerOut.of(e) for e in rows], total)


@router.get("/audit", response_model=PageOut[AuditOut], responses=problems(401, 422))
async def audit_trail(
    session: SessionDep, principal: PrincipalDep, page: PageDep, filters: QueryModel[AuditQuery]
) -> PageOut[AuditOut]:
    rows, total = await audit.list_events(session, principal.workspace_id, filters, page)
    return page.of([AuditOut.of(e) for e in rows], total)
