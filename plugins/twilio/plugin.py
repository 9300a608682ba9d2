"""The Twilio carrier (provider ``twilio``) behind the plugin contract.

* ``verify_cli``: Outgoing Caller IDs. Listed means verified; otherwise a validation request
  (``POST .../OutgoingCallerIds.json``) whose 6-digit code the user types into Twilio's call;
  error 21450 (already verified) is success. Completion arrives on the signed status callback.
* ``list_coverage``: live, from ``AvailablePhoneNumbers.json``, cached in the shared cache.
* ``search_numbers``, ``purchase_number`` (with the monthly price from the Pricing API when it
  answers), ``place_call``, and ``fetch_regulations`` (Numbers v2, cached).
* ``parse_webhook``: ``X-Twilio-Signature`` checked with the SDK's ``RequestValidator``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl

from twilio.request_validator import RequestValidator
from twilio.rest import Client

from core import (
    AvailableNumber,
    CallOptions,
    CoverageEntry,
    NumberRef,
    NumberSearch,
    PlacedCall,
    PluginContext,
    ProviderError,
    ProviderEvent,
    ProviderInfo,
    ProviderNotConfigured,
    PurchasedNumber,
    Requirement,
    TrunklineError,
    VerificationResult,
    WebhookRequest,
    WebhookSignatureError,
    hookimpl,
)

from . import errors
from .settings import TwilioSettings
from .transport import HttpxAsyncHttpClient

PROVIDER = errors.PROVIDER
_LIST_TYPES = {"local": "local", "mobile": "mobile", "toll_free": "toll_free"}
_PRICE_TYPES = {
    "local": "local",
    "mobile": "mobile",
    "toll_free": "toll free",
    "national": "national",
}


def _features(capabilities: Any) -> set[Any]:
    caps = capabilities if isinstance(capabilities, dict) else {}
    found = {
        name for name in ("voice", "sms", "mms", "fax") if caps.get(name) or caps.get(name.upper())
    }
    return found or {"voice"}


class TwilioPlugin:
    """One SDK client and one pooled httpx client per host."""

    def __init__(self) -> None:
        self.settings = TwilioSettings()
        self.context = PluginContext(plugin_name="twilio")
        self.http: HttpxAsyncHttpClient | None = None
        self.client: Client | None = None

    # -- lifecycle --------------------------------------------------------------------------

    @hookimpl
    def trunkline_register_providers(self, register: Any) -> None:
        register(
            ProviderInfo(
                name=PROVIDER,
                display_name="Twilio",
                capabilities={
                    "verify_cli",
                    "coverage",
                    "regulations",
                    "search",
                    "purchase",
                    "calls",
                    "webhooks",
                },
                settings_model=TwilioSettings,
            )
        )

    @hookimpl
    def trunkline_configure(self, settings: TwilioSettings, context: PluginContext) -> None:
        self.settings = settings
        self.context = context
        if not self.configured:
            return
        self.http = HttpxAsyncHttpClient(
            timeout=settings.timeout_seconds,
            max_retries=settings.max_retries,
            backoff=settings.retry_backoff_seconds,
        )
        assert settings.auth_token is not None
        self.client = Client(
            settings.account_sid,
            settings.auth_token.get_secret_value(),
            http_client=self.http,
            environment={},
        )
        if settings.base_url:
            base = settings.base_url.rstrip("/")
            for domain in (self.client.api, self.client.numbers, self.client.pricing):
                domain.base_url = base

    @property
    def configured(self) -> bool:
        return bool(self.settings.account_sid and self.settings.auth_token)

    @hookimpl
    def trunkline_provider_status(self) -> dict[str, Any]:
        if self.configured:
            return {"configured": True, "detail": None}
        return {"configured": False, "detail": "set " + self._missing()}

    def _missing(self) -> str:
        names = sorted(set(self.context.missing_env.values()))
        return " and ".join(names) or "account_sid and auth_token in [plugins.twilio]"

    @hookimpl
    async def trunkline_shutdown(self) -> None:
        if self.http is not None:
            await self.http.aclose()

    @asynccontextmanager
    async def _call(self, operation: str) -> AsyncIterator[Client]:
        """The SDK client, with every failure mapped onto the core's errors."""
        if self.client is None:
            raise ProviderNotConfigured(PROVIDER, self._missing())
        try:
            yield self.client
        except TrunklineError:
            raise
        except (ValueError, KeyError, TypeError) as exc:  # an unparsable body
            raise errors.malformed(f"{operation}: {type(exc).__name__}: {exc}") from None
        except Exception as exc:  # TwilioException and friends carry the response
            response = exc.args[1] if len(exc.args) > 1 else None
            status = getattr(response, "status_code", None) or getattr(exc, "status", 502)
            text = getattr(response, "text", "") or str(getattr(exc, "msg", exc))
            raise errors.from_response(int(status or 502), text, {}) from None

    @property
    def callback_url(self) -> str:
        return self.context.public_base_url + self.settings.status_callback_path

    # -- verification ------------------------------------------------------------------------

    @hookimpl
    async def verify_cli(self, number: NumberRef) -> VerificationResult:
        async with self._call("verify_cli") as client:
            listed = await client.outgoing_caller_ids.list_async(
                phone_number=number.phone_e164, limit=1
            )
            match = [c for c in listed if c.phone_number == number.phone_e164]
            if match:
                return VerificationResult(status="verified", provider_ref=match[0].sid)
            try:
                started = await client.validation_requests.create_async(
                    phone_number=number.phone_e164, status_callback=self.callback_url
                )
            except ProviderError as exc:
                if exc.provider_code == str(errors.ALREADY_VERIFIED):
                    return VerificationResult(status="verified", detail="already verified")
                raise
            code = started.validation_code
            if code is None:
                raise errors.malformed("validation request without validation_code")
            return VerificationResult(
                status="pending",
                next_step="answer_call_and_enter_code",
                display_code=str(code).zfill(6),
                provider_ref=started.call_sid,
                detail="Answer Twilio's call and type the code shown.",
            )

    @hookimpl
    def parse_webhook(self, request: WebhookRequest) -> list[ProviderEvent]:
        if self.settings.auth_token is None:
            raise WebhookSignatureError("Twilio is not configured: no auth token to check with")
        signature = request.headers.get("x-twilio-signature")
        if not signature:
            raise WebhookSignatureError("missing X-Twilio-Signature")
        content_type = request.headers.get("content-type", "")
        text = request.body.decode("utf-8", errors="replace")
        validator = RequestValidator(self.settings.auth_token.get_secret_value())
        if content_type.startswith("application/json"):
            params: Any = text
            form: dict[str, str] = {}
        else:
            form = dict(parse_qsl(text, keep_blank_values=True))
            params = form
        if not validator.validate(request.url, params, signature):
            raise WebhookSignatureError("X-Twilio-Signature does not match")
        if not form and text:
            try:
                form = {k: str(v) for k, v in json.loads(text).items()}
            except (ValueError, AttributeError):
                form = {}
        return self._events(form)

    def _events(self, form: dict[str, str]) -> list[ProviderEvent]:
        status = form.get("VerificationStatus")
        phone = form.get("To") or form.get("Called") or form.get("PhoneNumber")
        if status is not None:
            kind: Any = (
                "verification_succeeded" if status.lower() == "success" else "verification_failed"
            )
            return [
                ProviderEvent(
                    provider=PROVIDER,
                    kind=kind,
                    phone_e164=phone,
                    provider_ref=form.get("CallSid"),
                    data={
                        "outgoing_caller_id_sid": form.get("OutgoingCallerIdSid"),
                        "detail": f"Twilio verification {status}",
                    },
                )
            ]
        if "CallStatus" in form and form.get("CallSid"):
            return [
                ProviderEvent(
                    provider=PROVIDER,
                    kind="call_status",
                    provider_ref=form["CallSid"],
                    data={"status": form["CallStatus"]},
                )
            ]
        return []

    # -- catalogue ---------------------------------------------------------------------------

    @hookimpl
    async def list_coverage(self, country: str | None) -> list[CoverageEntry]:
        key = f"twilio:coverage:{self.settings.account_sid}"
        cached = await self.context.cache.get(key)
        if cached is None:
            async with self._call("list_coverage") as client:
                countries = await client.api.v2010.accounts(
                    self.settings.account_sid
                ).available_phone_numbers.list_async()
                cached = [
                    {
                        "country": c.country_code,
                        "types": sorted(t for t in (c.subresource_uris or {}) if t in _LIST_TYPES),
                    }
                    for c in countries
                    if c.country_code
                ]
            await self.context.cache.set(key, cached, self.settings.coverage_ttl_seconds)
        return [
            CoverageEntry(
                provider=PROVIDER,
                country_code=row["country"],
                number_type=t,
                features={"voice", "sms"},
                source="live",
            )
            for row in cached
            if country in (None, row["country"])
            for t in row["types"]
        ]

    @hookimpl
    async def search_numbers(self, query: NumberSearch) -> list[AvailableNumber]:
        kind = _LIST_TYPES.get(query.number_type)
        if kind is None:
            return []
        filters: dict[str, Any] = {"limit": query.limit}
        if query.area_code:
            filters["area_code"] = query.area_code
        if query.contains:
            filters["contains"] = query.contains
        if query.locality:
            filters["in_locality"] = query.locality
        for feature in query.features:
            filters[f"{feature}_enabled"] = True
        async with self._call("search_numbers") as client:
            country = client.api.v2010.accounts(self.settings.account_sid).available_phone_numbers(
                query.country
            )
            found = await getattr(country, kind).list_async(**filters)
            price = await self._monthly_price(client, query.country, query.number_type)
        return [
            AvailableNumber(
                provider=PROVIDER,
                phone_e164=n.phone_number,
                country_code=query.country,
                number_type=query.number_type,
                features=_features(n.capabilities),
                monthly_cost=price[0],
                currency=price[1],
                locality=n.locality,
                region=n.region,
            )
            for n in found
        ]

    async def _monthly_price(
        self, client: Client, country: str, number_type: str
    ) -> tuple[Decimal | None, str | None]:
        """Twilio's monthly price for a number type, or (None, None) when pricing is silent."""
        try:
            prices = await client.pricing.v1.phone_numbers.countries(country).fetch_async()
        except ProviderError:
            return None, None
        wanted = _PRICE_TYPES.get(number_type)
        for row in prices.phone_number_prices or []:
            item: Any = row
            if isinstance(item, dict) and item.get("number_type") == wanted:
                try:
                    return Decimal(str(item.get("current_price"))), prices.price_unit
                except InvalidOperation:
                    return None, None
        return None, None

    @hookimpl
    async def fetch_regulations(
        self, country: str, number_type: str | None, end_user_type: str | None
    ) -> list[Requirement]:
        key = f"twilio:regulations:{country}:{number_type}:{end_user_type}"
        cached = await self.context.cache.get(key)
        if cached is None:
            filters: dict[str, Any] = {"iso_country": country, "include_constraints": True}
            if number_type:
                filters["number_type"] = number_type
            if end_user_type:
                filters["end_user_type"] = end_user_type
            async with self._call("fetch_regulations") as client:
                found = await client.numbers.v2.regulatory_compliance.regulations.list_async(
                    **filters
                )
                cached = [
                    {
                        "number_type": r.number_type,
                        "end_user_type": r.end_user_type,
                        "requirements": r.requirements or {},
                    }
                    for r in found
                ]
            await self.context.cache.set(key, cached, self.settings.regulations_ttl_seconds)
        return [req for reg in cached for req in _requirements(country, reg)]

    # -- purchases and calls -----------------------------------------------------------------

    @hookimpl
    async def purchase_number(self, e164: str) -> PurchasedNumber:
        async with self._call("purchase_number") as client:
            bought = await client.api.v2010.accounts(
                self.settings.account_sid
            ).incoming_phone_numbers.create_async(phone_number=e164)
            country = _country(e164)
            number_type: Any = "toll_free" if _is_toll_free(e164) else "local"
            price = await self._monthly_price(client, country, number_type)
        return PurchasedNumber(
            provider=PROVIDER,
            phone_e164=bought.phone_number or e164,
            country_code=country,
            number_type=number_type,
            features=_features(bought.capabilities),
            monthly_cost=price[0],
            upfront_cost=None,
            currency=price[1],
            provider_ref=bought.sid or "",
        )

    @hookimpl
    async def place_call(self, from_e164: str, to_e164: str, options: CallOptions) -> PlacedCall:
        what: dict[str, Any]
        if options.url or (self.settings.call_url and not options.twiml):
            what = {"url": options.url or self.settings.call_url}
        else:
            what = {"twiml": options.twiml or self.settings.call_twiml}
        if options.timeout_seconds:
            what["timeout"] = options.timeout_seconds
        async with self._call("place_call") as client:
            call = await client.api.v2010.accounts(self.settings.account_sid).calls.create_async(
                to=to_e164, from_=from_e164, status_callback=self.callback_url, **what
            )
        return PlacedCall(
            provider=PROVIDER, provider_call_id=call.sid or "", status=str(call.status or "queued")
        )


def _country(e164: str) -> str:
    import phonenumbers

    return phonenumbers.region_code_for_number(phonenumbers.parse(e164)) or "US"


def _is_toll_free(e164: str) -> bool:
    import phonenumbers

    kind = phonenumbers.number_type(phonenumbers.parse(e164))
    return bool(kind == phonenumbers.PhoneNumberType.TOLL_FREE)


def _requirements(country: str, regulation: dict[str, Any]) -> list[Requirement]:
    """Twilio's regulation: end-user fields, then groups of supporting documents."""
    number_type: Any = regulation.get("number_type") or "local"
    if number_type not in ("local", "mobile", "toll_free", "national"):
        number_type = "toll_free" if "toll" in str(number_type) else "local"
    end_user: Any = regulation.get("end_user_type") or "any"
    reqs = regulation.get("requirements") or {}
    out: list[Requirement] = []
    for item in reqs.get("end_user") or []:
        out.append(
            Requirement(
                provider=PROVIDER,
                country_code=country,
                number_type=number_type,
                end_user_type=end_user,
                name=str(item.get("name") or item.get("requirement_name")),
                kind="identity" if item.get("type") in ("individual", "business") else "textual",
                description=", ".join(item.get("fields") or []),
                group="end_user",
            )
        )
    for index, group in enumerate(reqs.get("supporting_document") or [], start=1):
        for doc in group if isinstance(group, list) else [group]:
            name = str(doc.get("name") or doc.get("requirement_name") or "document")
            accepted = [a.get("name") for a in doc.get("accepted_documents") or [] if a.get("name")]
            out.append(
                Requirement(
                    provider=PROVIDER,
                    country_code=country,
                    number_type=number_type,
                    end_user_type=end_user,
                    name=name,
                    kind="address" if "address" in name.lower() else "document",
                    description=str(doc.get("description") or "")
                    + (f" Accepted: {', '.join(accepted)}." if accepted else ""),
                    group=f"supporting_document_{index}",
                )
            )
    return out
