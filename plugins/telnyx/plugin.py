"""The Telnyx carrier (provider ``telnyx``) behind the plugin contract.

* ``verify_cli``: Verified Numbers in two steps. Without a code: ``GET /verified_numbers/{phone}``
  (verified by this number's own verification, whose reference holds the record's
  ``verified_at``: done; verified by another: the record is deleted), then
  ``POST /verified_numbers`` sends a code by SMS or call (``next_step = submit_code``). With a
  code: ``POST .../actions/verify``, then the record is read for its ``verified_at``; a wrong
  code is ``failed`` with Telnyx's detail, and the user may try again.
* ``list_coverage`` and ``fetch_regulations`` answer from the data shipped in ``data/``.
* ``search_numbers`` (with ``cost_information``), ``purchase_number`` (a number order, followed
  until it leaves ``pending``), ``release_number`` (deletes the phone number), ``place_call``
  (Call Control dial).
* ``parse_webhook``: Ed25519 signature checked with the SDK's own verification
  (:mod:`.webhooks`).
* ``fetch_outbound_permissions``: the outbound voice profile's ``whitelisted_destinations``
  (``GET /outbound_voice_profiles/{id}``; the profile is ``outbound_voice_profile_id``, or the
  one the Call Control application ``connection_id`` uses).
* ``expected_attestation``: hosted A, verified B, as Telnyx documents ("call from owned phone
  number: A; non-owned or verified number: B"); no request.
* ``lookup_number``: ``GET /number_lookup/{n}?type=carrier``, ``carrier.type`` mapped by
  :data:`.numbers.LINE_TYPES`; Telnyx cannot say whether a number was reassigned
  (``unsupported``).

The ``telnyx`` SDK is heavy to import (over a second): it is imported only when a carrier
operation first needs the client, or when a webhook arrives. Loading, settings, status, coverage,
regulations and the CLI registration never import it. Telnyx's answers about numbers are read in
:mod:`.numbers`, its failures mapped in :mod:`.errors`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import phonenumbers

from trunkline import (
    NUMBER_TYPES,
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
    ProviderEvent,
    ProviderNotConfigured,
    ProviderRejected,
    PurchasedNumber,
    Requirement,
    TrunklineError,
    VerificationResult,
    WebhookRequest,
    attestation_by_ownership,
    classify_number,
    hookimpl,
    register_provider,
    static_coverage,
    static_requirements,
)

from . import datafiles, errors, numbers, webhooks
from .client import make_client
from .numbers import LINE_TYPES
from .settings import TelnyxSettings

if TYPE_CHECKING:
    from telnyx import AsyncTelnyx

PROVIDER = errors.PROVIDER
#: How many search quotes are remembered for the costs of a later purchase.
QUOTES_KEPT = 1000


class TelnyxPlugin:
    """One ``AsyncTelnyx`` client per host, created on first use; coverage and regulations
    from shipped data."""

    def __init__(self) -> None:
        self.settings = TelnyxSettings()
        self.context = PluginContext(plugin_name="telnyx")
        #: Created by the first carrier operation (``_call``), closed at shutdown.
        self.client: AsyncTelnyx | None = None
        self.quoted: dict[str, AvailableNumber] = {}

    # -- lifecycle --------------------------------------------------------------------------

    @hookimpl
    def trunkline_register_providers(self, register: Any) -> None:
        register_provider(register, PROVIDER, "Telnyx", TelnyxSettings)

    @hookimpl
    def trunkline_configure(self, settings: TelnyxSettings, context: PluginContext) -> None:
        self.settings = settings
        self.context = context
        datafiles.coverage()  # validate the shipped data at start-up, not on first use
        datafiles.regulations()
        # The client (and the SDK) comes with the first carrier operation, from these settings.
        self.client = None

    @hookimpl
    def trunkline_provider_status(self) -> dict[str, Any]:
        if self.settings.api_key is not None:
            notes = []
            if not self.settings.connection_id:
                notes.append("no connection_id: test calls off")
            if self.settings.public_key is None:
                notes.append("no public_key: webhooks refused")
            return {"configured": True, "detail": "; ".join(notes) or None}
        return {"configured": False, "detail": "set " + self._missing()}

    def _missing(self) -> str:
        name = self.context.missing_env.get("api_key")
        return name or "api_key in [plugins.telnyx]"

    @hookimpl
    def trunkline_warm_up(self) -> None:
        """In the server, import the SDK in the background (about 1.5 s here) so that the
        first carrier call or webhook does not hold the event loop for that long."""
        if self.settings.api_key is None and self.settings.public_key is None:
            return
        import telnyx.lib.webhook_verification  # the webhook signature check
        import telnyx.resources  # noqa: F401  every resource the client's operations touch

    @hookimpl
    async def trunkline_shutdown(self) -> None:
        if self.client is not None:
            await self.client.close()

    @hookimpl
    def trunkline_cli(self, app: Any, settings: TelnyxSettings | None = None) -> None:
        from .cli import telnyx_app, use_settings

        use_settings(settings)
        app.add_typer(telnyx_app, name="telnyx")

    def _client(self) -> AsyncTelnyx:
        """The one SDK client, created (and the SDK imported) on first use."""
        if self.client is None:
            if self.settings.api_key is None:
                raise ProviderNotConfigured(PROVIDER, self._missing())
            self.client = make_client(self.settings)
        return self.client

    @asynccontextmanager
    async def _call(self, operation: str) -> AsyncIterator[AsyncTelnyx]:
        """The SDK client, with every failure mapped onto the core's errors."""
        client = self._client()
        try:
            yield client
        except TrunklineError:
            raise
        except Exception as exc:
            raise errors.from_exception(exc) from None

    # -- verification ------------------------------------------------------------------------

    @hookimpl
    async def verify_cli(self, number: NumberRef, code: str | None) -> VerificationResult:
        phone = number.phone_e164
        async with self._call("verify_cli") as client:
            import telnyx  # already imported with the client: only binds the name

            if code is not None:
                try:
                    submitted = await client.verified_numbers.actions.submit_verification_code(
                        phone, verification_code=code
                    )
                except telnyx.APIStatusError as exc:
                    if exc.status_code >= 500 or exc.status_code in (401, 403, 408, 409, 429):
                        raise  # not the user's code: mapped by errors.py
                    # A refused code is an answer, not an error: the user may try again.
                    _code, detail = errors.first_error(exc.body)
                    return VerificationResult(
                        status="failed",
                        detail=f"Telnyx: {detail}",
                        provider_ref=number.verification_ref or phone,
                    )
                # Telnyx answers 2xx only when the code matched, with the record whose
                # verified_at, kept in the reference, ties it to this verification.
                record = submitted.data
                errors.check_same_number(
                    "verify_cli", phone, record.phone_number if record else None
                )
                return VerificationResult(status="verified", provider_ref=_owned_ref(phone, record))
            try:
                found = await client.verified_numbers.retrieve(phone)
                record = found.data
            except telnyx.NotFoundError:
                record = None
            if record is not None:
                errors.check_same_number("verify_cli", phone, record.phone_number)
            if record is not None and record.verified_at:
                if number.verification_ref == _owned_ref(phone, record):
                    return VerificationResult(
                        status="verified", provider_ref=number.verification_ref
                    )
                # Another verification's record (another workspace's, or made outside
                # Trunkline): orphaned, since the core refuses a number another workspace
                # holds before asking here. Deleted, so that this number proves itself.
                await client.verified_numbers.delete(phone)
                self.context.logger.info(
                    "telnyx: deleted verified number %s (not this number's own verification)",
                    phone,
                )
            created = await client.verified_numbers.create(
                phone_number=phone, verification_method=self.settings.verification_method
            )
            # a flat body, no "data"
            errors.check_same_number("verify_cli", phone, created.phone_number)
        how = "an SMS" if self.settings.verification_method == "sms" else "a call"
        return VerificationResult(
            status="pending",
            next_step="submit_code",
            provider_ref=phone,
            detail=f"Telnyx sent a code to {phone} by {how}: submit it.",
        )

    # -- catalogue ---------------------------------------------------------------------------

    @hookimpl
    def list_coverage(self, country: str | None) -> list[CoverageEntry]:
        data = datafiles.coverage()  # validated once, indexed by ISO code
        return static_coverage(PROVIDER, data.countries, country, as_of=data.generated)

    @hookimpl
    def fetch_regulations(
        self, country: str, number_type: str | None, end_user_type: str | None
    ) -> list[Requirement]:
        cc = country.upper()
        rows = [item.model_dump() for item in datafiles.regulations().countries.get(cc, [])]
        return static_requirements(PROVIDER, rows, cc, number_type, end_user_type)

    @hookimpl
    async def search_numbers(self, query: NumberSearch) -> list[AvailableNumber]:
        filters: dict[str, Any] = {
            "country_code": query.country,
            "phone_number_type": query.number_type,
            "limit": query.limit,
        }
        if query.locality:
            filters["locality"] = query.locality
        if query.area_code:
            filters["national_destination_code"] = query.area_code
        if query.contains:
            filters["phone_number"] = {"contains": query.contains}
        if query.features:
            filters["features"] = sorted(query.features)
        async with self._call("search_numbers") as client:
            found = await client.available_phone_numbers.list(filter=filters)  # type: ignore[arg-type]
            # read inside _call: a body of another shape is mapped like any Telnyx failure
            out = [self._available(item, query) for item in found.data or []]
        return [a for a in out if a is not None]

    def _available(self, item: Any, query: NumberSearch) -> AvailableNumber | None:
        available = numbers.available(item, query)
        if available is None:
            return None
        self.quoted[available.phone_e164] = available
        while len(self.quoted) > QUOTES_KEPT:  # oldest quotes go first
            self.quoted.pop(next(iter(self.quoted)))
        return available

    # -- trust and destinations --------------------------------------------------------------

    @hookimpl
    def expected_attestation(self, number: NumberRef) -> AttestationEstimate:
        return attestation_by_ownership(
            number,
            hosted="a number Telnyx hosts (owned): A",
            verified="a verified number Telnyx does not own: B",
        )

    @hookimpl
    async def lookup_number(self, e164: str, fields: set[str]) -> NumberIntel:
        if "line_type" not in fields:  # Telnyx answers nothing else that is asked here
            return NumberIntel(provider=PROVIDER, phone_e164=e164, reassigned="unsupported")
        async with self._call("lookup_number") as client:
            found = await client.number_lookup.retrieve(e164, type="carrier")
            data = found.data
            if data is None:
                raise errors.from_exception(ValueError("number lookup without data"))
            errors.check_same_number("lookup_number", e164, data.phone_number)
            carrier = data.carrier
            kind = carrier.type if carrier is not None else None
            return NumberIntel(
                provider=PROVIDER,
                phone_e164=e164,
                valid=data.valid_number is not False,
                line_type=LINE_TYPES.get(kind or "unknown", "unknown"),
                carrier_name=(carrier.name or carrier.normalized_carrier) if carrier else None,
                reassigned="unsupported",
            )

    # -- purchases and calls -----------------------------------------------------------------

    @hookimpl
    async def purchase_number(self, e164: str) -> PurchasedNumber:
        """A number order, polled until it leaves ``pending`` (bounded); the costs are those
        quoted by the last search that listed the number, when there was one."""
        body: dict[str, Any] = {"phone_numbers": [{"phone_number": e164}]}
        if self.settings.connection_id:
            body["connection_id"] = self.settings.connection_id
        async with self._call("purchase_number") as client:
            created = await client.number_orders.create(**body)
            order = created.data
            if order is None or not order.id:
                raise errors.from_exception(ValueError("number order without an id"))
            for _ in range(self.settings.order_poll_attempts):
                if order.status != "pending":
                    break
                await asyncio.sleep(self.settings.order_poll_interval_seconds)
                fetched = await client.number_orders.retrieve(order.id)
                order = fetched.data or order
            return self._purchased(order, e164)

    def _purchased(self, order: Any, e164: str) -> PurchasedNumber:
        """The order's outcome: rejected when it or the number failed, else the number."""
        numbers = order.phone_numbers or []
        item = next((n for n in numbers if n.phone_number == e164), None)
        if item is None and numbers:  # an order for other numbers only: trust none of it
            errors.check_same_number("purchase_number", e164, numbers[0].phone_number)
        requirements = item.requirements_status if item is not None else None
        if order.status == "failure" or (item is not None and item.status == "failure"):
            raise ProviderRejected(
                f"Telnyx number order {order.id} failed for {e164}",
                provider=PROVIDER,
                provider_code="order_failed",
                provider_detail=f"order {order.status}, number "
                f"{item.status if item else 'absent'}, requirements {requirements or 'unknown'}",
            )
        if order.status == "pending":
            # Kept simple: the order is recorded as bought, with its id as the reference; its
            # outcome is visible in Telnyx's portal (and in its number_order webhooks).
            self.context.logger.warning(
                "Telnyx number order %s for %s still pending after %d polls (requirements %s)",
                order.id,
                e164,
                self.settings.order_poll_attempts,
                requirements or "unknown",
            )
        quote = self.quoted.get(e164)
        country = (item.country_code if item and item.country_code else None) or (
            quote.country_code if quote else classify_number(e164)[0]
        )
        number_type: Any = (item.phone_number_type if item else None) or (
            quote.number_type if quote else "local"
        )
        if number_type not in NUMBER_TYPES:
            number_type = "local"
        return PurchasedNumber(
            provider=PROVIDER,
            phone_e164=e164,
            country_code=country,
            number_type=number_type,
            features=quote.features if quote else {"voice"},
            monthly_cost=quote.monthly_cost if quote else None,
            upfront_cost=quote.upfront_cost if quote else None,
            currency=quote.currency if quote else None,
            provider_ref=order.id,
        )

    @hookimpl
    async def release_number(self, number: NumberRef) -> None:
        """``DELETE /phone_numbers/{id}``, the number found by its digits (a purchase's
        reference is its number order's id). A number Telnyx no longer lists is released."""
        phone = number.phone_e164
        async with self._call("release_number") as client:
            import telnyx  # already imported with the client: only binds the name

            listed = await client.phone_numbers.list(filter={"phone_number": phone.lstrip("+")})
            found = [n for n in listed.data or [] if n.phone_number == phone and n.id]
            if not found:
                self.context.logger.info("telnyx: %s is not on the account", phone)
                return None
            try:
                await client.phone_numbers.delete(found[0].id)
            except telnyx.NotFoundError:
                self.context.logger.info("telnyx: %s was already released", phone)
        return None

    @hookimpl
    async def place_call(self, from_e164: str, to_e164: str, options: CallOptions) -> PlacedCall:
        if not self.settings.connection_id:
            raise ProviderNotConfigured(PROVIDER, "connection_id in [plugins.telnyx]")
        extra: dict[str, Any] = {"webhook_url": self.context.webhook_url(PROVIDER)}
        if options.timeout_seconds:
            extra["timeout_secs"] = options.timeout_seconds
        async with self._call("place_call") as client:
            dialed = await client.calls.dial(
                connection_id=self.settings.connection_id, from_=from_e164, to=to_e164, **extra
            )
            call_id = dialed.data.call_control_id if dialed.data is not None else None
            if not call_id:
                raise errors.from_exception(ValueError("dial answer without call_control_id"))
        return PlacedCall(provider=PROVIDER, provider_call_id=call_id, status="initiated")

    # -- dialing permissions -------------------------------------------------------------------

    @hookimpl
    async def fetch_outbound_permissions(self) -> list[CountryPermission]:
        """Every country, allowed when the outbound voice profile whitelists it.

        Telnyx's profile does not tell high-risk numbers apart: a whitelisted country's
        high-risk numbers count as allowed too. Without a profile to read (neither
        ``outbound_voice_profile_id`` nor ``connection_id``) nothing is known: ``[]``.
        """
        async with self._call("fetch_outbound_permissions") as client:
            profile_id = self.settings.outbound_voice_profile_id
            if not profile_id and self.settings.connection_id:
                app = await client.call_control_applications.retrieve(self.settings.connection_id)
                outbound = app.data.outbound if app.data is not None else None
                profile_id = outbound.outbound_voice_profile_id if outbound is not None else None
            if not profile_id:
                return []
            answer = await client.outbound_voice_profiles.retrieve(profile_id)
            if answer.data is None:
                raise errors.from_exception(ValueError("outbound voice profile without data"))
            listed = {str(c).upper() for c in answer.data.whitelisted_destinations or []}
        return [
            CountryPermission(
                country_code=code, allowed=code in listed, high_risk_allowed=code in listed
            )
            for code in sorted(phonenumbers.SUPPORTED_REGIONS)
        ]

    # -- webhooks ----------------------------------------------------------------------------

    @hookimpl
    def parse_webhook(self, request: WebhookRequest) -> list[ProviderEvent]:
        return webhooks.parse(request, self.settings.public_key)


def _owned_ref(phone: str, record: Any) -> str:
    """The reference of a completed verification: the number and the ``verified_at`` of the
    Verified Numbers record it made (a later record, made by another verification, differs)."""
    verified_at = getattr(record, "verified_at", None) if record is not None else None
    return f"{phone}@{verified_at}" if verified_at else phone
