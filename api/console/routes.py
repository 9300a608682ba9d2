"""``/console``: sign-in, SettingsTelephony, the numbers table, a number's binding, campaigns.

Every page is rendered on the server with the principal of the ``trunkline_key`` cookie (HttpOnly,
SameSite=Strict), so it shows only that key's workspace. Changes are made by the page scripts
through the JSON API, which checks the ``X-CSRF-Token`` header against the ``trunkline_csrf``
cookie (double submit, :func:`api.deps.get_principal`). The console's own forms (sign-in and
sign-out) check the request's origin (``Sec-Fetch-Site`` / ``Origin``) and a token: the sign-in
form a pre-session token in its own cookie, the sign-out form the session's CSRF token.
"""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jinja2
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from core import campaigns as campaigns_service
from core import numbers as numbers_service
from core.auth import Principal, authenticate_cached
from core.errors import InvalidPhoneNumber, NotFound, TrunklineError, Unauthorized
from core.outbound_policy import CompiledPolicy, load_workspace_policy
from core.phone import parse_digit_filter
from core.policy import CALLER_ID_NOT_ALLOWED, OUTBOUND_DISABLED, REASON_TEXT
from core.runtime import Runtime
from core.tables import Number, Workspace

from ..catalog import gather, search_numbers
from ..deps import CSRF_COOKIE, SESSION_COOKIE, RuntimeDep, key_cache
from ..schemas import CatalogOut, NumberOut
from .policy_view import (
    ATTESTATION_CHOICES,
    calling_rule_choices,
    line_type_choices,
    permissions_view,
    policy_view,
    setting_lines,
    workspace_policy_form,
)

router = APIRouter(prefix="/console", include_in_schema=False)

HERE = Path(__file__).parent


def printable(value: Any) -> Any:
    """What a page shows of a value: control characters (NUL...) as U+FFFD, never raw.

    The API refuses them on input; rows stored before that rule, or written by other means
    (the CLI, SQL), still reach the pages.
    """
    if isinstance(value, Markup):  # already escaped: stays markup
        return Markup(UNPRINTABLE.sub("\ufffd", value))
    if isinstance(value, str):
        return UNPRINTABLE.sub("\ufffd", value)
    return value


#: Control characters but tab and line breaks, which are white space on a page (a macro's
#: rendered markup is full of line breaks).
UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    finalize=printable,
)

#: The pre-session token of the sign-in form (HttpOnly, only sent to /console).
LOGIN_COOKIE = "trunkline_login_csrf"
#: Seconds a console session lasts.
SESSION_SECONDS = 12 * 3600
NUMBER_TYPES = ("local", "mobile", "toll_free", "national")
END_USER_TYPES = ("business", "individual")
COUNTRY = re.compile(r"^[A-Za-z]{2}$")
PAGE_SIZE = 100

#: What the page scripts show for a problem ``code`` when the answer's own words are not enough.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
        "object-src 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # "no-referrer" would make form posts send Origin: null
    "Cache-Control": "no-store",
}

STATIC_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}


def _static_files() -> dict[str, tuple[bytes, str]]:
    out: dict[str, tuple[bytes, str]] = {}
    for path in (HERE / "static").iterdir():
        if path.is_file() and path.suffix in STATIC_TYPES:
            out[path.name] = (path.read_bytes(), STATIC_TYPES[path.suffix])
    return out


STATIC = _static_files()


# -- views of the data ------------------------------------------------------------------------


VERIFICATION_LABELS = {
    "none": "Not verified",
    "pending": "Pending",
    "verified": "Verified",
    "failed": "Failed",
}


def number_view(n: NumberOut, *, demo_mode: bool = False) -> dict[str, Any]:
    """What the numbers table, NumbersRowActions and BindControls show of a number."""
    view = n.model_dump()
    view["kind"] = "hosted" if n.hosted else "byo"
    view["kind_label"] = "Hosted" if n.hosted else "Bring your own"
    if n.hosted:
        view["verification_label"] = "Not needed (hosted)"
    elif n.verified_cli:
        view["verification_label"] = "Verified"
    else:
        view["verification_label"] = VERIFICATION_LABELS.get(
            n.verification_status, n.verification_status
        )
    view["can_verify"] = not n.hosted and not n.verified_cli
    # A number that may not be a caller ID cannot be turned on for outbound; one that is on
    # anyway (verified CLIs were switched off since) may still be turned off.
    view["outbound_locked"] = not n.caller_id_allowed and not n.outbound_enabled
    view["outbound_reason"] = None if n.caller_id_allowed else REASON_TEXT[CALLER_ID_NOT_ALLOWED]
    view["outbound_label"] = "On" if n.outbound_enabled else "Off"
    view["inbound_label"] = "On" if n.inbound_enabled else "Off"
    view["demo_mode"] = demo_mode
    view.update(attestation_view(n.attestation, n.attestation_basis))
    return view


def attestation_view(level: str | None, basis: str | None) -> dict[str, str]:
    """The attestation badge's class, text and title for a stored level (``None``: not asked)."""
    if level is None:
        return {
            "attestation_class": "none",
            "attestation_label": "Attestation ?",
            "attestation_title": "Expected attestation not known yet",
        }
    title = f"Expected SHAKEN/STIR attestation {level}"
    return {
        "attestation_class": level.lower(),
        "attestation_label": f"Attestation {level}",
        "attestation_title": f"{title}: {basis}" if basis else title,
    }


def caller_id_option(n: NumberOut) -> dict[str, Any]:
    """A campaign caller-ID choice, allowed or not and why (the server's own rule)."""
    reasons = []
    if not n.outbound_enabled:
        reasons.append(OUTBOUND_DISABLED)
    if not n.caller_id_allowed:
        reasons.append(CALLER_ID_NOT_ALLOWED)
    return {
        "e164": n.phone_e164,
        "provider": n.provider,
        "allowed": not reasons,
        "reasons": reasons,
        "reason_text": " ".join(REASON_TEXT[r] for r in reasons),
    }


def when(moment: datetime | date | None) -> Markup:
    """A time as the console shows it: UTC, to the minute, saying so, in a ``<time>``
    (a plain date stays a date)."""
    if moment is None:
        return Markup('<span class="muted">—</span>')
    if not isinstance(moment, datetime):
        return Markup('<time datetime="{0}">{0}</time>').format(moment.isoformat())
    utc = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return Markup('<time datetime="{}">{}</time>').format(
        utc.isoformat(timespec="seconds"), utc.strftime("%Y-%m-%d %H:%M UTC")
    )


def price(metadata: dict[str, Any]) -> str:
    """The carrier's price recorded in a ledger entry's metadata, in words."""
    currency = metadata.get("carrier_currency") or ""
    parts = []
    if metadata.get("carrier_monthly_cost") is not None:
        parts.append(f"{metadata['carrier_monthly_cost']} {currency}/month".replace(" /", "/"))
    if metadata.get("carrier_upfront_cost") not in (None, "0", "0.00", "0.0"):
        parts.append(f"{metadata['carrier_upfront_cost']} {currency} upfront".replace("  ", " "))
    return ", ".join(parts) or "—"


ENV.globals.update(when=when, price=price)


def render(template: str, **context: Any) -> str:
    """Render a console template (also used by the component tests)."""
    context.setdefault("reason_text", REASON_TEXT)
    context.setdefault("demo_mode", False)
    return ENV.get_template(template).render(**context)


# -- sessions and cross-site protection -------------------------------------------------------


async def page_principal(request: Request, rt: Runtime) -> Principal | None:
    """The caller of a page: an ``Authorization`` header when one is sent (as for the JSON API),
    else the console's key cookie; None when neither holds a live key."""
    authorization = request.headers.get("authorization")
    if authorization is None:
        key = request.cookies.get(SESSION_COOKIE)
        if not key:
            return None
        authorization = f"Bearer {key}"
    try:
        return await authenticate_cached(rt.sessionmaker, authorization, key_cache(rt))
    except Unauthorized:
        return None


def same_origin(request: Request) -> bool:
    """False when the browser says the request comes from another site."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin is not None:
        host = request.headers.get("host", request.url.netloc)
        if origin == "null" or urlsplit(origin).netloc != host:
            return False
    return True


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _safe_next(value: str | None) -> str:
    if value and value.startswith("/console/") and not value.startswith("//"):
        return value
    return "/console/telephony"


def _to_login(request: Request) -> HTMLResponse:
    """401 with the sign-in form, which brings the operator back to this page."""
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    response = _login_form(request, None, 401, path)
    if request.cookies.get(SESSION_COOKIE):  # a revoked or unknown key: forget it
        response.delete_cookie(SESSION_COOKIE, path="/")
        response.delete_cookie(CSRF_COOKIE, path="/")
    return response


def _html(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(body, status_code=status, headers=SECURITY_HEADERS)


@dataclass
class Page:
    request: Request
    rt: Runtime
    principal: Principal
    workspace_name: str

    def render(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        body = render(
            template,
            path=self.request.url.path,
            demo_mode=self.rt.settings.demo_mode,
            csrf_token=self.request.cookies.get(CSRF_COOKIE, ""),
            workspace_name=self.workspace_name,
            **context,
        )
        return _html(body, status)


async def _page(request: Request, rt: Runtime, session: AsyncSession) -> Page | None:
    principal = await page_principal(request, rt)
    if principal is None:
        return None
    workspace = await session.get(Workspace, principal.workspace_id)
    return Page(request, rt, principal, workspace.name if workspace else "")


# -- sign-in and sign-out ---------------------------------------------------------------------


def _login_form(
    request: Request, error: str | None = None, status: int = 200, next_path: str | None = None
) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    body = render(
        "login.html",
        path="/console/login",
        login_token=token,
        error=error,
        next=_safe_next(next_path or request.query_params.get("next")),
        workspace_name=None,
        csrf_token="",
    )
    response = _html(body, status)
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        max_age=1800,
        path="/console",
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )
    return response


@router.get("")
async def console_home(request: Request, rt: RuntimeDep) -> Response:
    if await page_principal(request, rt) is None:
        return _to_login(request)
    return RedirectResponse("/console/telephony", status_code=303)


@router.get("/login")
async def login_page(request: Request, rt: RuntimeDep) -> Response:
    if await page_principal(request, rt) is not None:
        return RedirectResponse(_safe_next(request.query_params.get("next")), status_code=303)
    return _login_form(request)


async def _form(request: Request) -> dict[str, str]:
    raw = (await request.body()).decode("utf-8", "replace")
    return {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}


@router.post("/login")
async def login(request: Request, rt: RuntimeDep) -> Response:
    form = await _form(request)
    expected = request.cookies.get(LOGIN_COOKIE, "")
    given = form.get("login_token", "")
    if (
        not same_origin(request)
        or not expected
        or not hmac.compare_digest(expected.encode(), given.encode())
    ):
        return _login_form(
            request,
            "The sign-in form expired or came from another site: try again.",
            403,
            form.get("next"),
        )
    key = form.get("api_key", "").strip()
    try:
        async with rt.sessionmaker() as session:
            from core.auth import authenticate

            await authenticate(session, f"Bearer {key}")
    except Unauthorized:
        return _login_form(request, "That API key is not valid.", 401, form.get("next"))
    response = RedirectResponse(_safe_next(form.get("next")), status_code=303)
    secure = _secure(request)
    response.set_cookie(
        SESSION_COOKIE,
        key,
        max_age=SESSION_SECONDS,
        path="/",
        httponly=True,
        samesite="strict",
        secure=secure,
    )
    response.set_cookie(
        CSRF_COOKIE,
        secrets.token_urlsafe(32),
        max_age=SESSION_SECONDS,
        path="/",
        httponly=False,  # the page scripts echo it in X-CSRF-Token
        samesite="strict",
        secure=secure,
    )
    response.delete_cookie(LOGIN_COOKIE, path="/console")
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    form = await _form(request)
    expected = request.cookies.get(CSRF_COOKIE, "")
    given = form.get("csrf_token", "")
    if request.cookies.get(SESSION_COOKIE) and (
        not same_origin(request)
        or not expected
        or not hmac.compare_digest(expected.encode(), given.encode())
    ):
        return _html(
            render(
                "error.html",
                path="/console/logout",
                workspace_name=None,
                csrf_token="",
                status=403,
                title="Sign-out refused",
                message="The sign-out request came without this session's token.",
            ),
            403,
        )
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    response.delete_cookie(CSRF_COOKIE, path="/", samesite="strict")
    return response


@router.get("/static/{name}")
async def static(name: str) -> Response:
    found = STATIC.get(name)
    if found is None:
        raise NotFound("no such console file")
    return Response(
        found[0],
        media_type=found[1],
        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )


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


def _choice(value: str | None, allowed: tuple[str, ...] | list[str]) -> str | None:
    return value if value in allowed else None


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
async def telephony(request: Request, rt: RuntimeDep) -> Response:
    async with rt.sessionmaker() as session:
        page = await _page(request, rt, session)
    if page is None:
        return _to_login(request)
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


# -- numbers, NumbersRowActions, BindControls -------------------------------------------------


@router.get("/numbers")
async def numbers_page(request: Request, rt: RuntimeDep) -> Response:
    async with rt.sessionmaker() as session:
        page = await _page(request, rt, session)
        if page is None:
            return _to_login(request)
        offset = page_offset(request)
        rows, total = await numbers_service.list_numbers(
            session, page.principal.workspace_id, limit=PAGE_SIZE, offset=offset
        )
        numbers = [_view(rt, n) for n in rows]
    return page.render(
        "numbers.html",
        removed=(request.query_params.get("removed") or "")[:20] or None,
        removed_how=request.query_params.get("how"),
        numbers=numbers,
        total=total,
        offset=offset,
        page_size=PAGE_SIZE,
        provider_names=sorted(rt.host.providers),
    )


def page_offset(request: Request) -> int:
    """``?offset=`` of a console table: a non-negative integer, 0 when absent or malformed."""
    try:
        return max(0, min(int(request.query_params.get("offset", "0")), 1_000_000))
    except ValueError:
        return 0


def release_supported(rt: Runtime) -> bool:
    """Whether ``DELETE`` of a hosted number releases it at its carrier (the release hook)."""
    return hasattr(rt.host.pm.hook, "release_number")


def _view(rt: Runtime, n: Number) -> dict[str, Any]:
    return number_view(
        NumberOut.of(n, rt.policy.caller_id_allowed(n)), demo_mode=rt.settings.demo_mode
    )


@router.get("/numbers/{number_id}")
async def number_page(number_id: str, request: Request, rt: RuntimeDep) -> Response:
    async with rt.sessionmaker() as session:
        page = await _page(request, rt, session)
        if page is None:
            return _to_login(request)
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
async def campaigns_page(request: Request, rt: RuntimeDep) -> Response:
    async with rt.sessionmaker() as session:
        page = await _page(request, rt, session)
        if page is None:
            return _to_login(request)
        ws = page.principal.workspace_id
        numbers, _ = await numbers_service.list_numbers(session, ws, limit=500, offset=0)
        campaigns, total = await campaigns_service.list_campaigns(
            session, ws, limit=PAGE_SIZE, offset=0
        )
        callers = await campaigns_service.caller_ids_of(session, campaigns)
        workspace = await load_workspace_policy(session, ws)
        rows = [
            campaign_row(
                rt, c, callers.get(c.from_number_id) if c.from_number_id else None, workspace
            )
            for c in campaigns
        ]
        options = [
            caller_id_option(NumberOut.of(n, rt.policy.caller_id_allowed(n))) for n in numbers
        ]
    return page.render("campaigns.html", campaigns=rows, total=total, options=options)
