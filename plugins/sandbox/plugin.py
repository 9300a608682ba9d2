"""The sandbox carrier (provider ``sandbox``): every provider hook, no network, no account.

It is also the shortest complete provider plugin, and the reference example of
``docs/writing-a-provider-plugin.md``: it imports only the public surface, ``trunkline``.

Verification comes in both carrier styles, chosen per number (``verification_style``):

* ``call`` (Twilio's way): the result shows a ``display_code``; a simulated callback confirms
  the number after ``callback_delay_seconds``;
* ``sms`` (Telnyx's way): a code is "sent" (written to the server log and, this being a sandbox,
  shown in the result's ``display_code``, which the API answer and the console show and the
  audit never records); the user submits it with a second ``verify_cli`` call.

``by_number`` (the default) picks ``call`` for numbers ending in an even digit and ``sms`` for odd.

Like a real carrier, the sandbox keeps one account for the whole deployment: a number verified
once stays in its list of verified caller IDs. That record proves the number only to the
verification that created it (the ``verification_ref`` it answered); any other number record
starts the full flow again, replacing the orphaned record. Numbers it sold are no longer offered.
Faults can be simulated per operation with ``fail_operations`` (see :data:`FAULTS`). Its
settings, ``[plugins.sandbox]``, are in :mod:`.settings`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import secrets
from importlib import resources
from typing import Any

import phonenumbers
from pydantic import ValidationError

from trunkline import (
    AttestationEstimate,
    AvailableNumber,
    CallOptions,
    CountryPermission,
    CoverageEntry,
    NumberIntel,
    NumberRef,
    NumberSearch,
    PlacedCall,
    PluginContext,
    ProviderAuthError,
    ProviderEvent,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
    PurchasedNumber,
    Requirement,
    VerificationResult,
    WebhookMalformed,
    WebhookRequest,
    WebhookSignatureError,
    attestation_by_ownership,
    hookimpl,
    register_provider,
    static_coverage,
    static_requirements,
)

from .settings import SandboxSettings

PROVIDER = "sandbox"
SIGNATURE_HEADER = "x-sandbox-signature"
#: What ``fail_operations`` values simulate.
FAULTS = {
    "unavailable": lambda op: ProviderUnavailable(
        f"sandbox: {op} unavailable (simulated)", provider=PROVIDER, provider_code=503
    ),
    "rate_limited": lambda op: ProviderRateLimited(
        f"sandbox: {op} rate limited (simulated)",
        retry_after=30,
        provider=PROVIDER,
        provider_code=429,
    ),
    "rejected": lambda op: ProviderRejected(
        f"sandbox: {op} rejected (simulated)", provider=PROVIDER, provider_code="rejected"
    ),
    "auth": lambda op: ProviderAuthError(
        "sandbox: credentials refused (simulated)", provider=PROVIDER, provider_code=401
    ),
}
#: The statuses a simulated call reports, in order, once ``callback_delay_seconds`` have passed.
CALL_PROGRESS = ("ringing", "in-progress", "completed")
_TYPES = {
    "local": phonenumbers.PhoneNumberType.FIXED_LINE,
    "national": phonenumbers.PhoneNumberType.FIXED_LINE,
    "mobile": phonenumbers.PhoneNumberType.MOBILE,
    "toll_free": phonenumbers.PhoneNumberType.TOLL_FREE,
}


def _load(name: str) -> Any:
    return json.loads(resources.files(__package__).joinpath("data", name).read_text("utf-8"))


class SandboxPlugin:
    """A simulated carrier; state lives in memory for the life of the host."""

    def __init__(self) -> None:
        self.settings = SandboxSettings()
        self.context: PluginContext | None = None
        self.coverage: dict[str, Any] = _load("coverage.json")
        self.regulations: dict[str, list[dict[str, Any]]] = _load("regulations.json")
        #: verification reference -> the code sent for it (sms style)
        self.sent_codes: dict[str, str] = {}
        #: phone -> the reference of the verification that made it a verified caller ID
        self.verified: dict[str, str] = {}
        #: phone -> provider_ref of the numbers sold (hosted somewhere)
        self.sold: dict[str, str] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    # -- lifecycle --------------------------------------------------------------------------

    @hookimpl
    def trunkline_register_providers(self, register: Any) -> None:
        register_provider(register, PROVIDER, "Sandbox (simulated carrier)", SandboxSettings)

    @hookimpl
    def trunkline_configure(self, settings: SandboxSettings, context: PluginContext) -> None:
        self.settings = settings
        self.context = context

    @hookimpl
    def trunkline_provider_status(self) -> dict[str, Any]:
        detail = "simulated: no network, no account"
        if not self.settings.webhook_secret.get_secret_value():
            detail += "; no webhook_secret: webhooks refused"
        return {"configured": True, "detail": detail}

    @hookimpl
    async def trunkline_shutdown(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        self._tasks.clear()

    @hookimpl
    def fetch_outbound_permissions(self) -> list[CountryPermission]:
        """The simulated account's dialing permissions: ``disabled_countries`` are refused;
        every other country is left out of the answer, so nothing else is blocked."""
        self._fault("fetch_outbound_permissions")
        return [
            CountryPermission(country_code=code, allowed=False, high_risk_allowed=False)
            for code in self.settings.disabled_countries
        ]

    def _fault(self, operation: str) -> None:
        kind = self.settings.fail_operations.get(operation)
        if kind is not None:
            raise FAULTS[kind](operation)

    def _later(self, events: list[ProviderEvent]) -> None:
        """Report events after the configured delay, as a carrier's callback would."""

        async def report() -> None:
            await asyncio.sleep(self.settings.callback_delay_seconds)
            for event in events:
                if event.kind == "verification_succeeded" and event.phone_e164:
                    # the simulated call was answered: the record belongs to this verification
                    self.verified[event.phone_e164] = event.provider_ref or ""
            if self.context is not None:
                await self.context.submit_events(events)

        task = asyncio.get_running_loop().create_task(report())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- verification ------------------------------------------------------------------------

    def style_for(self, phone_e164: str) -> str:
        if self.settings.verification_style != "by_number":
            return self.settings.verification_style
        return "call" if int(phone_e164[-1]) % 2 == 0 else "sms"

    @hookimpl
    async def verify_cli(self, number: NumberRef, code: str | None) -> VerificationResult:
        self._fault("verify_cli")
        phone = number.phone_e164
        ref = number.verification_ref
        owner = self.verified.get(phone)
        if owner is not None and ref is not None and hmac.compare_digest(owner, ref):
            return VerificationResult(status="verified", provider_ref=ref)
        if code is not None:
            expected = self.sent_codes.get(ref or "")
            if expected is not None and hmac.compare_digest(code, expected):
                self.verified[phone] = ref or ""
                self.sent_codes.pop(ref or "", None)
                return VerificationResult(status="verified", provider_ref=ref)
            return VerificationResult(
                status="failed", detail="Sandbox: that code is not the one sent; try again."
            )
        # Not proven by this number's own verification: the full flow, for a fresh reference.
        # An orphaned record (another verification's) is replaced when this one completes.
        ref = f"SBV-{secrets.token_hex(6)}"
        if self.style_for(phone) == "call":
            display = f"{secrets.randbelow(10**6):06d}"
            self._later(
                [
                    ProviderEvent(
                        provider=PROVIDER,
                        kind="verification_succeeded",
                        phone_e164=phone,
                        provider_ref=ref,
                    )
                ]
            )
            return VerificationResult(
                status="pending",
                next_step="answer_call_and_enter_code",
                display_code=display,
                provider_ref=ref,
                detail="Sandbox: a simulated call confirms this number in "
                f"{self.settings.callback_delay_seconds:g} s.",
            )
        sent = self.settings.fixed_code or f"{secrets.randbelow(10**6):06d}"
        self.sent_codes[ref] = sent
        if self.context is not None:
            self.context.logger.info("sandbox: verification code for %s is %s", phone, sent)
        return VerificationResult(
            status="pending",
            next_step="submit_code",
            display_code=sent,  # a real carrier's SMS reaches only the phone
            provider_ref=ref,
            detail="Sandbox: a simulated SMS carried the code shown beside this message.",
        )

    # -- catalogue ---------------------------------------------------------------------------

    @hookimpl
    def list_coverage(self, country: str | None) -> list[CoverageEntry]:
        self._fault("list_coverage")
        table = self.coverage["countries"]
        return static_coverage(PROVIDER, table, country, as_of=self.coverage["as_of"])

    @hookimpl
    def fetch_regulations(
        self, country: str, number_type: str | None, end_user_type: str | None
    ) -> list[Requirement]:
        self._fault("fetch_regulations")
        rows = self.regulations.get(country, [])
        return static_requirements(PROVIDER, rows, country, number_type, end_user_type)

    @hookimpl
    def search_numbers(self, query: NumberSearch) -> list[AvailableNumber]:
        self._fault("search_numbers")
        offered = self.coverage["countries"].get(query.country, {})
        if query.number_type not in offered:
            return []
        features: set[Any] = set(offered[query.number_type])
        if not query.features <= features:
            return []
        return [
            AvailableNumber(
                provider=PROVIDER,
                phone_e164=e164,
                country_code=query.country,
                number_type=query.number_type,
                features=features,
                monthly_cost=self.settings.monthly_cost,
                upfront_cost=self.settings.upfront_cost,
                currency=self.settings.currency,
            )
            for e164 in _numbers(query, set(self.sold))
        ]

    @hookimpl
    def purchase_number(self, e164: str) -> PurchasedNumber:
        self._fault("purchase_number")
        try:
            parsed = phonenumbers.parse(e164, None)
        except phonenumbers.NumberParseException:
            parsed = None
        if parsed is None or not phonenumbers.is_valid_number(parsed):
            raise ProviderRejected(
                f"sandbox: {e164} is not a valid number", provider=PROVIDER, provider_code="invalid"
            )
        country = phonenumbers.region_code_for_number(parsed) or "?"
        if country not in self.coverage["countries"]:
            raise ProviderRejected(
                f"sandbox: no numbers in {country}", provider=PROVIDER, provider_code="coverage"
            )
        kind = phonenumbers.number_type(parsed)
        number_type: Any = {
            phonenumbers.PhoneNumberType.MOBILE: "mobile",
            phonenumbers.PhoneNumberType.TOLL_FREE: "toll_free",
        }.get(kind, "local")
        if e164 in self.sold:
            raise ProviderRejected(
                f"sandbox: {e164} is already sold", provider=PROVIDER, provider_code="sold"
            )
        features = self.coverage["countries"].get(country, {}).get(number_type, ["voice"])
        self.sold[e164] = f"SBN-{hashlib.sha256(e164.encode()).hexdigest()[:12]}"
        return PurchasedNumber(
            provider=PROVIDER,
            phone_e164=e164,
            country_code=country,
            number_type=number_type,
            features=set(features),
            monthly_cost=self.settings.monthly_cost,
            upfront_cost=self.settings.upfront_cost,
            currency=self.settings.currency,
            provider_ref=self.sold[e164],
        )

    @hookimpl
    def release_number(self, number: NumberRef) -> None:
        """The number goes back on sale; releasing one the sandbox does not hold is a no-op."""
        self._fault("release_number")
        self.sold.pop(number.phone_e164, None)

    # -- trust and destinations --------------------------------------------------------------

    @hookimpl
    def expected_attestation(self, number: NumberRef) -> AttestationEstimate:
        """Hosted A, verified caller ID B, as a carrier that signs its own numbers would."""
        self._fault("expected_attestation")
        return attestation_by_ownership(
            number,
            hosted="hosted by the sandbox carrier",
            verified="a verified caller ID, not hosted",
        )

    @hookimpl
    def lookup_number(self, e164: str, fields: set[str]) -> NumberIntel:
        """Answers from ``[plugins.sandbox.lookup]``; each lookup costs ``lookup.cost``."""
        self._fault("lookup_number")
        table = self.settings.lookup
        try:
            valid = phonenumbers.is_valid_number(phonenumbers.parse(e164, None))
        except phonenumbers.NumberParseException:
            valid = False
        reassigned: Any = "unsupported"
        if "reassigned" in fields:
            reassigned = "yes" if e164 in table.reassigned else "no"
        return NumberIntel(
            provider=PROVIDER,
            phone_e164=e164,
            valid=valid,
            line_type=table.line_types.get(e164, "mobile") if valid else "unknown",
            carrier_name="Sandbox Telecom (simulated)",
            reassigned=reassigned,
            cost=table.cost,
            currency=self.settings.currency,
        )

    # -- calls and callbacks -----------------------------------------------------------------

    @hookimpl
    def place_call(self, from_e164: str, to_e164: str, options: CallOptions) -> PlacedCall:
        self._fault("place_call")
        call_id = f"SBC-{secrets.token_hex(8)}"
        self._later(
            [
                ProviderEvent(
                    provider=PROVIDER,
                    kind="call_status",
                    provider_ref=call_id,
                    phone_e164=to_e164,
                    data={"status": status},
                )
                for status in CALL_PROGRESS
            ]
        )
        return PlacedCall(provider=PROVIDER, provider_call_id=call_id, status="queued")

    def sign(self, body: bytes) -> str:
        """The signature of a callback (HMAC-SHA256 of the body with ``webhook_secret``, hex).

        Raises ``WebhookSignatureError`` when no ``webhook_secret`` is configured."""
        key = self.settings.webhook_secret.get_secret_value().encode()
        if not key:
            raise WebhookSignatureError(
                "sandbox: no webhook_secret is configured, so sandbox webhooks are refused"
            )
        return hmac.new(key, body, hashlib.sha256).hexdigest()

    @hookimpl
    def parse_webhook(self, request: WebhookRequest) -> list[ProviderEvent]:
        expected = self.sign(request.body)  # refuses everything when no secret is set
        given = request.headers.get(SIGNATURE_HEADER)
        if not given:
            raise WebhookSignatureError(f"missing {SIGNATURE_HEADER} header")
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise WebhookSignatureError(f"{SIGNATURE_HEADER} does not match the body")
        try:
            payload = json.loads(request.body)
        except ValueError:
            raise WebhookMalformed("sandbox: the callback body is not JSON") from None
        if not isinstance(payload, dict):
            raise WebhookMalformed("sandbox: the callback body is not a JSON object")
        try:
            event = ProviderEvent.model_validate({**payload, "provider": PROVIDER})
        except ValidationError as exc:
            fields = sorted({str(e["loc"][0]) if e["loc"] else "body" for e in exc.errors()})
            raise WebhookMalformed(
                f"sandbox: callback fields not understood: {', '.join(fields)} (kind is one of "
                "verification_succeeded, verification_failed, call_status)"
            ) from None
        return [event]


def _numbers(query: NumberSearch, sold: set[str]) -> list[str]:
    """Valid numbers of the asked type, deterministic for a query, honouring its filters,
    none of them ``sold``."""
    example = phonenumbers.example_number_for_type(query.country, _TYPES[query.number_type])
    if example is None:
        return []
    base = str(example.national_number)
    if query.area_code:
        if not query.area_code.isdigit() or len(query.area_code) >= len(base):
            return []
        base = query.area_code + base[len(query.area_code) :]
    found: list[str] = []
    for i in range(10_000):
        candidate = base[:-4] + f"{(int(base[-4:]) + 37 * i) % 10_000:04d}"
        parsed = phonenumbers.parse(f"+{example.country_code}{candidate}", None)
        if not phonenumbers.is_valid_number(parsed):
            if i > 200 and not found:
                return []
            continue
        e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
        if (query.contains and query.contains not in e164) or e164 in sold:
            continue
        found.append(e164)
        if len(found) >= query.limit:
            break
    return found
