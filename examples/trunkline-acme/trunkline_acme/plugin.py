"""The ``acme`` provider: ACME Telecom's JSON API over httpx.

ACME's API (fictional), relative to ``base_url``, with ``Authorization: Bearer <api_key>``:

* ``POST /caller-ids`` ``{"phone_number"}`` -> ``{"id", "status": "code_sent" | "verified"}``
  (ACME sends the code by SMS); ``POST /caller-ids/{id}/verify`` ``{"code"}`` ->
  ``{"status": "verified"}``, or 422 ``{"error": {"code": "wrong_code", ...}}``
* ``GET /coverage?country=`` -> ``{"coverage": [{"country", "number_type", "features"}]}``
* ``GET /regulations?country=&number_type=&end_user_type=`` -> ``{"requirements": [...]}``
* ``GET /numbers/available?...`` -> ``{"numbers": [...]}``; ``POST /numbers`` ``{"phone_number"}``
* ``POST /calls`` ``{"from", "to", "status_callback"}`` -> ``{"id", "status"}``
* callbacks carry ``Acme-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">``
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from decimal import Decimal
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, SecretStr

from trunkline import (
    AvailableNumber,
    CallOptions,
    CoverageEntry,
    NumberRef,
    NumberSearch,
    PlacedCall,
    PluginContext,
    ProviderError,
    ProviderEvent,
    ProviderNotConfigured,
    ProviderRejected,
    ProviderUnavailable,
    PurchasedNumber,
    Requirement,
    VerificationResult,
    WebhookMalformed,
    WebhookRequest,
    WebhookSignatureError,
    error_for_status,
    hookimpl,
    parse_retry_after,
    register_provider,
)

PROVIDER = "acme"
SIGNATURE_HEADER = "acme-signature"
#: How old a signed callback may be, in seconds (replay protection).
SIGNATURE_TOLERANCE = 300


class AcmeSettings(BaseModel):
    """``[plugins.acme]`` in plugins.toml. Secrets come from the environment."""

    model_config = ConfigDict(extra="forbid")

    api_key: SecretStr | None = None  # api_key = { env = "ACME_API_KEY" }
    webhook_secret: SecretStr | None = None  # webhook_secret = { env = "ACME_WEBHOOK_SECRET" }
    base_url: str = "https://api.acme-telecom.example/v1"
    timeout_seconds: float = 10.0


def carrier_error(response: httpx.Response) -> ProviderError:
    """Every ACME failure, mapped in this one place onto the core's hierarchy.

    ACME's body carries its own code and message; the status decides the error class
    (the carrier helpers' shared mapping: 401/403, 429 with Retry-After, 5xx, other 4xx).
    """
    try:
        error = response.json().get("error", {})
    except ValueError:
        error = {}
    return error_for_status(
        PROVIDER,
        response.status_code,
        error.get("message") or f"HTTP {response.status_code}",
        carrier="ACME",
        code=error.get("code"),
        retry_after=parse_retry_after(response.headers.get("retry-after")),
    )


class AcmePlugin:
    """One instance per host; the host calls the hooks below."""

    def __init__(self) -> None:
        self.settings = AcmeSettings()
        self.context: PluginContext | None = None
        self.client: httpx.AsyncClient | None = None

    # -- lifecycle -------------------------------------------------------------------------

    @hookimpl
    def trunkline_register_providers(self, register: Any) -> None:
        register_provider(register, PROVIDER, "ACME Telecom", AcmeSettings)

    @hookimpl
    def trunkline_configure(self, settings: AcmeSettings, context: PluginContext) -> None:
        self.settings, self.context = settings, context
        if settings.api_key is not None:
            self.client = httpx.AsyncClient(
                base_url=settings.base_url,
                headers={"Authorization": f"Bearer {settings.api_key.get_secret_value()}"},
                timeout=settings.timeout_seconds,
            )

    @hookimpl
    def trunkline_provider_status(self) -> dict[str, Any]:
        if self.client is not None:
            return {"configured": True}
        missing = (self.context.missing_env if self.context else {}).get("api_key")
        return {"configured": False, "detail": f"set {missing or 'api_key'}"}

    @hookimpl
    async def trunkline_shutdown(self) -> None:
        if self.client is not None:
            await self.client.aclose()

    async def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        if self.client is None:
            raise ProviderNotConfigured(PROVIDER, "api_key")
        try:
            response = await self.client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(f"ACME did not answer: {exc}", provider=PROVIDER) from exc
        if response.status_code >= 400:
            raise carrier_error(response)
        return response.json() if response.content else {}

    # -- verification (two steps: ACME texts a code, the user submits it) ------------------

    @hookimpl
    async def verify_cli(self, number: NumberRef, code: str | None) -> VerificationResult:
        if code is None:
            data = await self._request(
                "POST", "/caller-ids", json={"phone_number": number.phone_e164}
            )
            if data["status"] == "verified" and data["id"] != number.verification_ref:
                # The account is shared by every workspace: a caller ID another verification
                # made proves nothing for this number. Orphaned: delete it, start afresh.
                await self._request("DELETE", f"/caller-ids/{data['id']}")
                data = await self._request(
                    "POST", "/caller-ids", json={"phone_number": number.phone_e164}
                )
            if data["status"] == "verified":
                return VerificationResult(status="verified", provider_ref=data["id"])
            return VerificationResult(
                status="pending",
                next_step="submit_code",
                provider_ref=data["id"],
                detail="ACME sent a code by SMS to the number.",
            )
        try:
            await self._request(
                "POST", f"/caller-ids/{number.verification_ref}/verify", json={"code": code}
            )
        except ProviderRejected as exc:
            if exc.provider_code != "wrong_code":
                raise
            return VerificationResult(
                status="failed",
                provider_ref=number.verification_ref,
                detail="ACME: that code is wrong; ask for a new one and try again.",
            )
        return VerificationResult(status="verified", provider_ref=number.verification_ref)

    # -- catalogue -------------------------------------------------------------------------

    @hookimpl
    async def list_coverage(self, country: str | None) -> list[CoverageEntry]:
        params = {"country": country} if country else {}
        data = await self._request("GET", "/coverage", params=params)
        return [
            CoverageEntry(
                provider=PROVIDER,
                country_code=item["country"],
                number_type=item["number_type"],
                features=set(item["features"]),
                source="live",
            )
            for item in data["coverage"]
        ]

    @hookimpl
    async def fetch_regulations(
        self, country: str, number_type: str | None, end_user_type: str | None
    ) -> list[Requirement]:
        params = {"country": country}
        if number_type:
            params["number_type"] = number_type
        if end_user_type:
            params["end_user_type"] = end_user_type
        data = await self._request("GET", "/regulations", params=params)
        return [
            Requirement(
                provider=PROVIDER,
                country_code=country,
                number_type=item["number_type"],
                end_user_type=item["end_user_type"],
                name=item["name"],
                kind=item["kind"],
                description=item.get("description", ""),
            )
            for item in data["requirements"]
        ]

    @hookimpl
    async def search_numbers(self, query: NumberSearch) -> list[AvailableNumber]:
        params: dict[str, Any] = {
            "country": query.country,
            "type": query.number_type,
            "limit": query.limit,
        }
        if query.contains:
            params["contains"] = query.contains
        if query.area_code:
            params["area_code"] = query.area_code
        data = await self._request("GET", "/numbers/available", params=params)
        return [
            AvailableNumber(
                provider=PROVIDER,
                phone_e164=item["phone_number"],
                country_code=query.country,
                number_type=query.number_type,
                features=set(item.get("features", [])),
                monthly_cost=Decimal(item["monthly_price"]),
                upfront_cost=Decimal(item.get("setup_price", "0")),
                currency=item["currency"],
            )
            for item in data["numbers"]
        ]

    @hookimpl
    async def purchase_number(self, e164: str) -> PurchasedNumber:
        item = await self._request("POST", "/numbers", json={"phone_number": e164})
        return PurchasedNumber(
            provider=PROVIDER,
            phone_e164=item["phone_number"],
            country_code=item["country"],
            number_type=item["number_type"],
            features=set(item.get("features", [])),
            monthly_cost=Decimal(item["monthly_price"]),
            upfront_cost=Decimal(item.get("setup_price", "0")),
            currency=item["currency"],
            provider_ref=item["id"],
        )

    # -- calls and callbacks ---------------------------------------------------------------

    @hookimpl
    async def place_call(self, from_e164: str, to_e164: str, options: CallOptions) -> PlacedCall:
        callback = self.context.webhook_url(PROVIDER) if self.context else None
        data = await self._request(
            "POST",
            "/calls",
            json={"from": from_e164, "to": to_e164, "status_callback": callback},
        )
        return PlacedCall(provider=PROVIDER, provider_call_id=data["id"], status=data["status"])

    @hookimpl
    def parse_webhook(self, request: WebhookRequest) -> list[ProviderEvent]:
        self._check_signature(request)  # first, always
        try:
            payload = json.loads(request.body)
        except ValueError:
            raise WebhookMalformed("acme: the callback body is not JSON") from None
        data = payload.get("data") if isinstance(payload, dict) else None
        if not isinstance(data, dict):
            raise WebhookMalformed('acme: the callback is not {"type": ..., "data": {...}}')
        if payload.get("type") == "caller_id.verified":
            kind = "verification_succeeded"
        elif payload.get("type") == "call.status":
            kind = "call_status"
        else:
            return []
        phone, ref = data.get("phone_number"), data.get("id")
        if not isinstance(phone, str | None) or not isinstance(ref, str | None):
            raise WebhookMalformed("acme: data.id and data.phone_number are strings")
        return [
            ProviderEvent(
                provider=PROVIDER,
                kind=kind,
                phone_e164=phone,
                provider_ref=ref,
                data={"status": data["status"]} if "status" in data else {},
            )
        ]

    def _check_signature(self, request: WebhookRequest) -> None:
        if self.settings.webhook_secret is None:
            raise WebhookSignatureError("acme: webhook_secret is not configured")
        parts = dict(
            p.split("=", 1)
            for p in request.headers.get(SIGNATURE_HEADER, "").split(",")
            if "=" in p
        )
        stamp, given = parts.get("t", ""), parts.get("v1", "")
        if not stamp.isdigit() or not given:
            raise WebhookSignatureError(f"acme: missing or malformed {SIGNATURE_HEADER} header")
        if abs(time.time() - int(stamp)) > SIGNATURE_TOLERANCE:
            raise WebhookSignatureError("acme: callback signed too long ago")
        expected = sign(self.settings.webhook_secret.get_secret_value(), stamp, request.body)
        if not hmac.compare_digest(given, expected):
            raise WebhookSignatureError("acme: signature does not match")


def sign(secret: str, stamp: str, body: bytes) -> str:
    """ACME's callback signature: hex HMAC-SHA256 of ``"<t>.<body>"``."""
    return hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
