"""The Twilio carrier (provider ``twilio``) behind the plugin contract.

* ``verify_cli``: Outgoing Caller IDs. Listed by this number's own validation means verified
  (its FriendlyName names the number); a record another verification made is deleted, and a
  validation request (``POST .../OutgoingCallerIds.json``) started, whose 6-digit code the user
  types into Twilio's call. Completion arrives on the signed status callback.
* ``list_coverage``: live, from ``AvailablePhoneNumbers.json``, cached in the shared cache.
* ``search_numbers``, ``purchase_number`` (with the monthly price from the Pricing API when it
  answers), ``release_number`` (deletes the IncomingPhoneNumber), ``place_call``, and
  ``fetch_regulations`` (Numbers v2, cached).
* ``parse_webhook``: ``X-Twilio-Signature`` checked with the SDK's ``RequestValidator``.
* ``fetch_outbound_permissions``: Voice v1 ``DialingPermissions/Countries`` (every page).
* ``expected_attestation`` (Trust Hub) and ``lookup_number`` (Lookup v2): see :mod:`.trust`.

Only the SDK's ``*_async`` methods are used, over :class:`~.transport.HttpxAsyncHttpClient`.
Twilio's answers are read in their own modules: :mod:`.callerids`, :mod:`.regulations`,
:mod:`.webhooks`, :mod:`.permissions`, :mod:`.trust`; its failures are mapped in :mod:`.errors`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from twilio.base.exceptions import TwilioException
from twilio.rest import Client

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
    ProviderError,
    ProviderEvent,
    ProviderNotConfigured,
    PurchasedNumber,
    Requirement,
    TrunklineError,
    VerificationResult,
    WebhookRequest,
    classify_number,
    hookimpl,
    register_provider,
)

from . import callerids, errors, permissions, regulations, trust, webhooks
from .settings import TwilioSettings
from .transport import HttpxAsyncHttpClient

PROVIDER = errors.PROVIDER
# The SDK's list under ``available_phone_numbers(CC)`` (also the key of the country's
# ``subresource_uris``) is named like Trunkline's number type (``NUMBER_TYPES``).
#: Pricing v1 ``phone_number_prices[].number_type`` where it differs from Trunkline's type.
_PRICE_TYPES = {"toll_free": "toll free"}
_ENV_NAMES = {"account_sid": "TWILIO_ACCOUNT_SID", "auth_token": "TWILIO_AUTH_TOKEN"}


def _features(capabilities: Any) -> set[Any]:
    """Twilio's ``capabilities`` (``voice``, ``SMS``, ``MMS``, ``fax``) as Trunkline features."""
    caps = {str(k).lower(): v for k, v in capabilities.items()} if capabilities else {}
    found = {name for name in ("voice", "sms", "mms", "fax") if caps.get(name)}
    return found if caps else {"voice", "sms"}


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
        register_provider(register, PROVIDER, "Twilio", TwilioSettings)

    @hookimpl
    async def trunkline_configure(self, settings: TwilioSettings, context: PluginContext) -> None:
        await self.trunkline_shutdown()
        self.settings = settings
        self.context = context
        if not self.configured:
            return
        assert settings.auth_token is not None
        self.http = HttpxAsyncHttpClient(
            timeout=settings.timeout_seconds,
            max_retries=settings.max_retries,
            backoff=settings.retry_backoff_seconds,
            max_wait=settings.retry_max_wait_seconds,
            logger=context.logger,
        )
        self.client = Client(
            settings.account_sid,
            settings.auth_token.get_secret_value(),
            http_client=self.http,
            environment={},
        )
        # The SDK reads TWILIO_EDGE / TWILIO_REGION from os.environ even with environment={}
        # (an empty mapping is falsy there) and would rewrite every host, base_url included.
        self.client.edge = None
        self.client.region = None
        if settings.base_url:
            base = settings.base_url.rstrip("/")
            for domain in (
                self.client.api,
                self.client.numbers,
                self.client.pricing,
                self.client.voice,
                self.client.trusthub,
                self.client.lookups,
            ):
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
        """The environment variables to set, named from the settings' ``{ env = ... }``."""
        named = self.context.missing_env
        keys = [k for k in ("account_sid", "auth_token") if not getattr(self.settings, k)]
        return " / ".join(named.get(k) or _ENV_NAMES[k] for k in keys)

    @hookimpl
    async def trunkline_shutdown(self) -> None:
        if self.http is not None:
            await self.http.aclose()
        self.http = None
        self.client = None

    @asynccontextmanager
    async def _call(self, operation: str) -> AsyncIterator[Client]:
        """The SDK client, with every failure mapped onto the core's errors."""
        if self.client is None:
            raise ProviderNotConfigured(PROVIDER, self._missing())
        try:
            yield self.client
        except TrunklineError:
            raise  # the transport already mapped it
        except TwilioException as exc:
            raise errors.from_exception(exc) from None
        except (ValueError, KeyError, TypeError, AttributeError) as exc:  # an unreadable body
            raise errors.malformed(f"{operation}: {type(exc).__name__}") from None

    @property
    def callback_url(self) -> str:
        return self.context.public_base_url + self.settings.status_callback_path

    def _account(self) -> Any:
        """The SDK's ``/2010-04-01/Accounts/{AccountSid}`` context."""
        if self.client is None:
            raise ProviderNotConfigured(PROVIDER, self._missing())
        return self.client.api.v2010.accounts(self.settings.account_sid)

    # -- verification ------------------------------------------------------------------------

    @hookimpl
    async def verify_cli(self, number: NumberRef) -> VerificationResult:
        """Verified when Outgoing Caller IDs lists the number *and* this number's own
        validation created that record; otherwise a validation call (the full flow).

        The account's list is shared by every workspace of the deployment: a record made by
        another verification (another workspace's, or one made outside Trunkline) is orphaned
        (the core refuses to verify a number another workspace holds before asking here), so
        it is deleted and the number validated again. ``code`` is not taken: with Twilio the
        user types the code into Twilio's call.
        """
        async with self._call("verify_cli"):
            record = await self._caller_id(number.phone_e164)
            if record is not None:
                if callerids.proves(record, number):
                    return callerids.verified(record)
                await self._account().outgoing_caller_ids(record.sid).delete_async()
                self.context.logger.info(
                    "twilio: deleted caller ID %s of %s (not this number's own verification)",
                    record.sid,
                    number.phone_e164,
                )
            try:
                started = await self._account().validation_requests.create_async(
                    phone_number=number.phone_e164,
                    friendly_name=callerids.marker(number),
                    status_callback=self.callback_url,
                )
            except ProviderError as exc:
                if exc.provider_code != str(errors.ALREADY_VERIFIED):
                    raise
                # Verified meanwhile, by this validation or another: only ours proves it.
                record = await self._caller_id(number.phone_e164)
                if record is not None and callerids.proves(record, number):
                    return callerids.verified(record)
                raise
            return callerids.pending(number, started)

    async def _caller_id(self, phone: str) -> Any:
        """The account's Outgoing Caller ID record for ``phone``, or None."""
        listed = await self._account().outgoing_caller_ids.list_async(phone_number=phone, limit=1)
        return next((c for c in listed if c.phone_number == phone), None)

    @hookimpl
    def parse_webhook(self, request: WebhookRequest) -> list[ProviderEvent]:
        return webhooks.parse(request, self.settings.auth_token)

    # -- catalogue ---------------------------------------------------------------------------

    @hookimpl
    async def list_coverage(self, country: str | None) -> list[CoverageEntry]:
        key = f"twilio:coverage:{self.settings.account_sid}"
        cached = await self.context.cache.get(key) if self.client is not None else None
        if cached is None:
            async with self._call("list_coverage"):
                countries = await self._account().available_phone_numbers.list_async()
                cached = [
                    {
                        "country": str(c.country_code).upper(),
                        "types": [t for t in NUMBER_TYPES if t in (c.subresource_uris or {})],
                    }
                    for c in countries
                    if c.country_code
                ]
            await self.context.cache.set(key, cached, self.settings.coverage_ttl_seconds)
        wanted = country.upper() if country else None
        return [
            CoverageEntry(
                provider=PROVIDER,
                country_code=row["country"],
                number_type=t,
                features={"voice", "sms"},
                source="live",
            )
            for row in cached
            if wanted in (None, row["country"])
            for t in row["types"]
        ]

    @hookimpl
    async def search_numbers(self, query: NumberSearch) -> list[AvailableNumber]:
        filters: dict[str, Any] = {"limit": query.limit}  # sent as PageSize
        if query.area_code:
            filters["area_code"] = query.area_code
        if query.contains:
            filters["contains"] = query.contains
        if query.locality:
            filters["in_locality"] = query.locality
        for feature in sorted(query.features):
            filters[f"{feature}_enabled"] = True
        cc = query.country.upper()
        async with self._call("search_numbers"):
            listing = getattr(self._account().available_phone_numbers(cc), query.number_type)
            found = await listing.list_async(**filters)
            rows = [(n.phone_number, n.capabilities, n.locality, n.region) for n in found]
        price, currency = await self._monthly_price(cc, query.number_type)
        return [
            AvailableNumber(
                provider=PROVIDER,
                phone_e164=phone,
                country_code=cc,
                number_type=query.number_type,
                features=_features(caps),
                monthly_cost=price,
                currency=currency,
                locality=locality,
                region=region,
            )
            for phone, caps, locality, region in rows[: query.limit]
            if phone
        ]

    async def _monthly_price(
        self, country: str, number_type: str
    ) -> tuple[Decimal | None, str | None]:
        """Twilio's monthly price for a number type, or (None, None) when pricing is silent.

        Pricing is a courtesy: any failure (refused, down, unreadable) gives no price rather
        than failing the search or a purchase that already happened. Prices are cached per
        country for ``coverage_ttl_seconds``.
        """
        key = f"twilio:pricing:{self.settings.account_sid}:{country}"
        cached = await self.context.cache.get(key)
        if cached is None and self.client is not None:
            try:
                found = await self.client.pricing.v1.phone_numbers.countries(country).fetch_async()
                cached = {
                    "currency": found.price_unit,
                    "prices": {
                        str(row.get("number_type")): str(row.get("current_price"))
                        for row in found.phone_number_prices or []
                        if isinstance(row, dict) and row.get("current_price") is not None
                    },
                }
            except (TrunklineError, TwilioException, ValueError, KeyError, TypeError) as exc:
                self.context.logger.warning(
                    "twilio pricing for %s unavailable: %s", country, type(exc).__name__
                )
                return None, None
            await self.context.cache.set(key, cached, self.settings.coverage_ttl_seconds)
        if not cached:
            return None, None
        value = cached["prices"].get(_PRICE_TYPES.get(number_type, number_type))
        try:
            return (Decimal(value), cached["currency"]) if value is not None else (None, None)
        except InvalidOperation:
            return None, None

    @hookimpl
    async def fetch_regulations(
        self, country: str, number_type: str | None, end_user_type: str | None
    ) -> list[Requirement]:
        cc = country.upper()
        key = f"twilio:regulations:{cc}:{number_type or '*'}:{end_user_type or '*'}"
        cached = await self.context.cache.get(key) if self.client is not None else None
        if cached is None:
            filters: dict[str, Any] = {"iso_country": cc, "include_constraints": True}
            if number_type:
                filters["number_type"] = number_type
            if end_user_type and end_user_type != "any":
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
        try:
            return [req for reg in cached for req in regulations.requirements(cc, reg)]
        except (AttributeError, TypeError, ValueError) as exc:
            raise errors.malformed(f"regulations: {type(exc).__name__}") from None

    # -- trust and destinations --------------------------------------------------------------

    @hookimpl
    async def expected_attestation(self, number: NumberRef) -> AttestationEstimate:
        async with self._call("expected_attestation") as client:
            return await trust.expected_attestation(
                client, str(self.settings.account_sid), self.settings.shaken_stir_policy_sid, number
            )

    @hookimpl
    async def lookup_number(
        self, e164: str, fields: set[str], last_verified_date: date | None
    ) -> NumberIntel:
        async with self._call("lookup_number") as client:
            return await trust.lookup_number(client, e164, fields, last_verified_date)

    # -- purchases and calls -----------------------------------------------------------------

    @hookimpl
    async def purchase_number(self, e164: str) -> PurchasedNumber:
        """Buy the number; its monthly price comes from Pricing v1 when that answers."""
        async with self._call("purchase_number"):
            bought = await self._account().incoming_phone_numbers.create_async(phone_number=e164)
            if not bought.sid:
                raise errors.malformed("purchase answered without a sid")
            try:
                errors.check_same_number("purchase_number", e164, bought.phone_number)
            except ProviderError:
                # Twilio may now hold a number nobody records: an operator must look.
                self.context.logger.error(
                    "twilio purchase of %s answered %s (%s): not recorded",
                    e164,
                    bought.phone_number,
                    bought.sid,
                )
                raise
            phone, sid, caps = bought.phone_number or e164, bought.sid, bought.capabilities
        country, number_type = classify_number(phone, default_country="US")
        price, currency = await self._monthly_price(country, number_type)
        return PurchasedNumber(
            provider=PROVIDER,
            phone_e164=phone,
            country_code=country,
            number_type=number_type,
            features=_features(caps),
            monthly_cost=price,
            upfront_cost=None,
            currency=currency,
            provider_ref=sid,
        )

    @hookimpl
    async def release_number(self, number: NumberRef) -> None:
        """``DELETE .../IncomingPhoneNumbers/{Sid}.json`` for the purchase's sid (looked up by
        phone number when none was kept). A number Twilio no longer has (404) is released."""
        async with self._call("release_number"):
            sid = number.provider_ref
            if not sid:
                listed = await self._account().incoming_phone_numbers.list_async(
                    phone_number=number.phone_e164, limit=1
                )
                found = [n for n in listed if n.phone_number == number.phone_e164]
                if not found:
                    self.context.logger.info("twilio: %s is not on the account", number.phone_e164)
                    return None
                sid = found[0].sid
            try:
                await self._account().incoming_phone_numbers(sid).delete_async()
            except ProviderError as exc:
                if exc.provider_code not in ("20404", "404"):
                    raise
                self.context.logger.info(
                    "twilio: %s (%s) was already released", number.phone_e164, sid
                )
        return None

    @hookimpl
    async def place_call(self, from_e164: str, to_e164: str, options: CallOptions) -> PlacedCall:
        """``options.twiml`` or ``options.url`` win over ``call_twiml`` / ``call_url``."""
        what: dict[str, Any]
        if options.twiml:
            what = {"twiml": options.twiml}
        elif options.url:
            what = {"url": options.url}
        elif self.settings.call_url:
            what = {"url": self.settings.call_url}
        else:
            what = {"twiml": self.settings.call_twiml}
        if options.timeout_seconds:
            what["timeout"] = options.timeout_seconds
        async with self._call("place_call"):
            call = await self._account().calls.create_async(
                to=to_e164,
                from_=from_e164,
                status_callback=self.callback_url,
                status_callback_method="POST",
                **what,
            )
            if not call.sid:
                raise errors.malformed("call answered without a sid")
            sid, status = call.sid, str(call.status or "queued")
        return PlacedCall(provider=PROVIDER, provider_call_id=sid, status=status)

    # -- dialing permissions -------------------------------------------------------------------

    @hookimpl
    async def fetch_outbound_permissions(self) -> list[CountryPermission]:
        """The account's Voice dialing permissions (Geo Permissions), every page of them."""
        async with self._call("fetch_outbound_permissions") as client:
            rows = await client.voice.v1.dialing_permissions.countries.list_async(page_size=1000)
        return permissions.from_countries(rows)
