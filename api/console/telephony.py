"""``/console/telephony``: SettingsTelephony (providers, the outbound policy, coverage,
regulations and the number search).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from core.errors import InvalidPhoneNumber, TrunklineError
from core.outbound_policy import load_workspace_policy
from core.phone import parse_digit_filter
from core.runtime import Runtime

from ..catalog import gather, search_numbers
from ..deps import RuntimeDep
from ..schemas import CatalogOut
from .policy_view import (
    ATTESTATION_CHOICES,
    calling_rule_choices,
    line_type_choices,
    permissions_view,
    policy_view,
    setting_lines,
    workspace_policy_form,
)
from .render import _choice
from .signin import ConsolePage

router = APIRouter(prefix="/console", include_in_schema=False)


NUMBER_TYPES = ("local", "mobile", "toll_free", "national")
END_USER_TYPES = ("business", "individual")
COUNTRY = re.compile(r"^[A-Za-z]{2}$")


# -- SettingsTelephony ------------------------------------------------------------------------


def provider_rows(rt: Runtime) -> list[dict[str, Any]]:
    """Every plugin with its providers: configured, loaded, failing (and why), disabled."""
    rows: list[dict[str, Any]] = []
    for record in rt.host.describe():
        providers = [p for p in record["providers"] if p in rt.host.providers]
        if record["status"] == "loaded" and providers:
            for name in providers:
                info = rt.host.providers[name]
                status = rt.host.provider_status(name)
                rows.append(
                    {
                        "provider": name,
                        "display_name": info.display_name,
                        "plugin": record["name"],
                        "version": record["version"],
                        "capabilities": sorted(info.capabilities),
                        "state": "configured" if status["configured"] else "not_configured",
                        "detail": status.get("detail"),
                        "permissions": permissions_view(rt, name),
                        "rules": [],
                    }
                )
        else:
            rows.append(
                {
                    "provider": None,
                    "display_name": None,
                    "plugin": record["name"],
                    "version": record["version"],
                    "capabilities": [],
                    "state": {"loaded": "no_carrier"}.get(record["status"], record["status"]),
                    "detail": record["error"],
                    "permissions": None,
                    "rules": setting_lines(record["settings"])
                    if record["status"] == "loaded"
                    and "is_country_outbound_blocked" in record["hooks"]
                    else [],
                }
            )
    # carriers first, then failures (and why), policy plugins, plugins installed but not enabled
    order = {"configured": 0, "not_configured": 0, "failed": 1, "no_carrier": 2, "disabled": 3}
    rows.sort(key=lambda r: order.get(r["state"], 2))
    return rows


class FormErrors(dict[str, str]):
    pass


async def _catalog(
    asked: Awaitable[CatalogOut[Any]], provider: str | None
) -> tuple[list[Any], list[dict[str, str]]]:
    """The items and failures of a :func:`~api.catalog.gather` of ``provider`` (None: every
    provider); a named provider's error is one failure."""
    try:
        result = await asked
    except TrunklineError as exc:
        return [], [{"provider": provider or "", "code": exc.code, "detail": exc.detail}]
    return result.items, [e.model_dump() for e in result.errors]


@router.get("/telephony")
async def telephony(request: Request, rt: RuntimeDep, page: ConsolePage) -> Response:
    q = request.query_params
    providers = sorted(rt.host.providers)
    async with rt.sessionmaker() as session:
        policy = await load_workspace_policy(session, page.principal.workspace_id)
    ctx: dict[str, Any] = {
        "policy": workspace_policy_form(policy.settings),
        "calling_rules": calling_rule_choices(),
        "attestation_choices": ATTESTATION_CHOICES,
        "line_types": line_type_choices(),
        "providers": provider_rows(rt),
        "deployment_policy": policy_view(rt),
        "provider_names": providers,
        "number_types": NUMBER_TYPES,
        "end_user_types": END_USER_TYPES,
        "q": dict(q),
        "errors": FormErrors(),
    }
    errors: FormErrors = ctx["errors"]

    # coverage per country and provider
    coverage = None
    if "cov" in q:
        country = (q.get("cov_country") or "").strip()
        provider = _choice(q.get("cov_provider"), providers)
        if country and not COUNTRY.match(country):
            errors["cov_country"] = "A country is two letters, such as US or GB."
        else:
            items, failures = await _catalog(
                gather(rt, "list_coverage", provider, country=country.upper() or None), provider
            )
            grouped: dict[tuple[str, str], dict[str, Any]] = {}
            for entry in items:
                key = (entry.country_code, entry.provider)
                row = grouped.setdefault(
                    key,
                    {
                        "country": entry.country_code,
                        "provider": entry.provider,
                        "types": [],
                        "source": entry.source,
                        "as_of": entry.as_of,
                    },
                )
                row["types"].append(
                    {"number_type": entry.number_type, "features": sorted(entry.features)}
                )
            coverage = {"rows": [grouped[k] for k in sorted(grouped)], "errors": failures}
    ctx["coverage"] = coverage

    # regulations for a country and number type
    regulations = None
    if "reg" in q:
        country = (q.get("reg_country") or "").strip()
        if not COUNTRY.match(country):
            errors["reg_country"] = "Choose a country: two letters, such as US or GB."
        else:
            provider = _choice(q.get("reg_provider"), providers)
            items, failures = await _catalog(
                gather(
                    rt,
                    "fetch_regulations",
                    provider,
                    country=country.upper(),
                    number_type=_choice(q.get("reg_number_type"), NUMBER_TYPES),
                    end_user_type=_choice(q.get("reg_end_user_type"), END_USER_TYPES),
                ),
                provider,
            )
            regulations = {"items": items, "errors": failures}
    ctx["regulations"] = regulations

    # search for a number to purchase
    search = None
    if "search" in q and not rt.settings.demo_mode:
        country = (q.get("s_country") or "").strip()
        contains = area = None
        try:  # the API's own rule for these filters (``/numbers/available``)
            contains = parse_digit_filter(
                q.get("s_contains"), "s_contains", max_digits=15, plus=True
            )
        except InvalidPhoneNumber:
            errors["s_contains"] = "Digits 0-9 only (a leading + allowed), at most 15."
        try:
            area = parse_digit_filter(q.get("s_area_code"), "s_area_code", max_digits=8)
        except InvalidPhoneNumber:
            errors["s_area_code"] = "Digits 0-9 only, at most 8."
        if not COUNTRY.match(country):
            errors["s_country"] = "Choose a country: two letters, such as US or GB."
        if not errors:
            from core.models import NumberSearch

            query = NumberSearch(
                country=country.upper(),
                number_type=_choice(q.get("s_number_type"), NUMBER_TYPES) or "local",  # type: ignore[arg-type]
                contains=contains,
                area_code=area,
                limit=20,
            )
            provider = _choice(q.get("s_provider"), providers)
            items, failures = await _catalog(search_numbers(rt, provider, query), provider)
            search = {"items": items, "errors": failures}
    ctx["search"] = search
    return page.render("settings_telephony.html", **ctx)
