"""A carrier plugin defined in the tests: scripted answers, counted calls, injectable faults."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from core import (
    AvailableNumber,
    CallOptions,
    CoverageEntry,
    NumberRef,
    NumberSearch,
    PlacedCall,
    ProviderEvent,
    ProviderInfo,
    PurchasedNumber,
    Requirement,
    VerificationResult,
    WebhookRequest,
    WebhookSignatureError,
    hookimpl,
)

SECRET = b"fake-webhook-secret"


def sign(body: bytes) -> str:
    return hmac.new(SECRET, body, hashlib.sha256).hexdigest()


class FakeSettings(BaseModel):
    style: str = "code"  # "code": Telnyx-like submit_code; "call": Twilio-like display code


class FakeCarrier:
    """Provider ``fake``. ``fail`` maps an operation to an exception to raise once per call."""

    def __init__(self, name: str = "fake", style: str = "code", delay: float = 0.0) -> None:
        self.name = name
        self.style = style
        self.delay = delay
        self.calls: dict[str, int] = {}
        self.fail: dict[str, BaseException] = {}
        self.right_code = "123456"
        self.already_verified: set[str] = set()
        self.cost = Decimal("1.15")
        self.released: list[NumberRef] = []

    def _count(self, op: str) -> None:
        self.calls[op] = self.calls.get(op, 0) + 1
        if op in self.fail:
            raise self.fail[op]

    @hookimpl
    def trunkline_register_providers(self, register: Any) -> None:
        register(
            ProviderInfo(
                name=self.name,
                display_name="Fake Carrier",
                capabilities={
                    "verify_cli",
                    "coverage",
                    "regulations",
                    "search",
                    "purchase",
                    "release",
                    "calls",
                    "webhooks",
                },
                settings_model=FakeSettings,
            )
        )

    @hookimpl
    def trunkline_configure(self, settings: FakeSettings) -> None:
        self.style = settings.style if settings.style != "code" else self.style

    @hookimpl
    async def verify_cli(self, number: NumberRef, code: str | None) -> VerificationResult:
        self._count("verify_cli")
        if self.delay:
            await asyncio.sleep(self.delay)
        if number.phone_e164 in self.already_verified:
            return VerificationResult(status="verified", provider_ref="CA-verified")
        if code is None:
            if self.style == "call":
                return VerificationResult(
                    status="pending",
                    next_step="answer_call_and_enter_code",
                    display_code="012345",
                    provider_ref="CA-call-1",
                )
            return VerificationResult(
                status="pending", next_step="submit_code", provider_ref="VN-1"
            )
        if code == self.right_code:
            return VerificationResult(status="verified", provider_ref=number.verification_ref)
        return VerificationResult(status="failed", detail="wrong code")

    @hookimpl
    def list_coverage(self, country: str | None) -> list[CoverageEntry]:
        self._count("list_coverage")
        countries = [country] if country else ["US", "GB"]
        return [
            CoverageEntry(
                provider=self.name,
                country_code=c,
                number_type="local",
                features={"voice"},
                source="static",
            )
            for c in countries
        ]

    @hookimpl
    def fetch_regulations(self, country: str) -> list[Requirement]:
        self._count("fetch_regulations")
        return [
            Requirement(
                provider=self.name,
                country_code=country,
                number_type="local",
                end_user_type="business",
                name="Proof of address",
                kind="address",
            )
        ]

    @hookimpl
    def search_numbers(self, query: NumberSearch) -> list[AvailableNumber]:
        self._count("search_numbers")
        return [
            AvailableNumber(
                provider=self.name,
                phone_e164="+14155550123",
                country_code=query.country,
                number_type=query.number_type,
                features={"voice"},
                monthly_cost=self.cost,
                currency="USD",
            )
        ]

    @hookimpl
    async def purchase_number(self, e164: str, workspace: str) -> PurchasedNumber:
        self._count("purchase_number")
        if self.delay:
            await asyncio.sleep(self.delay)
        return PurchasedNumber(
            provider=self.name,
            phone_e164=e164,
            country_code="US",
            number_type="local",
            features={"voice", "sms"},
            monthly_cost=self.cost,
            upfront_cost=Decimal("0"),
            currency="USD",
            provider_ref=f"PN-{e164}",
        )

    @hookimpl
    async def release_number(self, number: NumberRef) -> None:
        self._count("release_number")
        self.released.append(number)

    @hookimpl
    def place_call(self, from_e164: str, to_e164: str, options: CallOptions) -> PlacedCall:
        self._count("place_call")
        return PlacedCall(provider=self.name, provider_call_id="CALL-1", status="queued")

    @hookimpl
    def parse_webhook(self, request: WebhookRequest) -> list[ProviderEvent]:
        self._count("parse_webhook")
        signature = request.headers.get("x-fake-signature", "")
        if not hmac.compare_digest(signature, sign(request.body)):
            raise WebhookSignatureError("x-fake-signature does not match the body")
        import json

        data = json.loads(request.body)
        return [
            ProviderEvent(
                provider=self.name,
                kind=data["kind"],
                phone_e164=data.get("phone"),
                provider_ref=data.get("ref"),
                data=data.get("data", {}),
            )
        ]
