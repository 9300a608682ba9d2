"""Every hook of the Trunkline plugin contract, and nothing else.

A hook only ever gains arguments: pluggy lets an implementation accept any subset of a spec's
arguments, so a plugin written against an older Trunkline keeps working. Implementations of the
provider-targeted hooks may be ``async def``; the core awaits whatever is awaitable.

Three kinds of call:

* **registration** hooks are broadcast synchronously at start-up;
* **provider-targeted** hooks are called only on the plugin that registered ``provider``
  (pluggy's subset hook caller); the core raises ``ProviderNotFound`` when no enabled plugin
  serves the name, so an implementation never sees another plugin's provider;
* **broadcast** hooks are asked of every enabled plugin and the answers combined as each
  spec says.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import pluggy

if TYPE_CHECKING:
    from datetime import date

    from pydantic import BaseModel

    from . import models
    from .context import PluginContext

PROJECT_NAME = "trunkline"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

_Spec = TypeVar("_Spec", bound=Callable[..., Any])


@dataclass(frozen=True)
class ProviderHook:
    """One provider-targeted hook: its name and the capability a provider declares for it.

    Its result model is the spec's return annotation (``Model`` or ``list[Model]``); the host,
    the conformance kit and the catalogue derive their tables from these declarations.
    """

    name: str
    capability: str


#: Hooks the core calls only on the plugin that registered the ``provider`` argument, in
#: declaration order. Filled by :func:`provider_hook`; nothing else lists them.
PROVIDER_HOOKS: dict[str, ProviderHook] = {}


def provider_hook(capability: str) -> Callable[[_Spec], _Spec]:
    """Declare a provider-targeted hook: ``firstresult``, called on the one plugin serving the
    provider, and only when that provider declares ``capability``. One declaration is all a new
    provider hook needs."""

    def declare(spec: _Spec) -> _Spec:
        PROVIDER_HOOKS[spec.__name__] = ProviderHook(spec.__name__, capability)
        marked: _Spec = hookspec(firstresult=True)(spec)
        return marked

    return declare


# -- registration and lifecycle --------------------------------------------------------------


@hookspec
def trunkline_register_providers(register: Callable[[models.ProviderInfo], None]) -> None:
    """Register the carriers this plugin serves.

    Broadcast, synchronous, once at start-up.

    :param register: call it once per carrier with a :class:`~core.ProviderInfo`. Two plugins
        registering one provider name is a start-up error that names both plugins.

    The return value is ignored. A plugin that serves no carrier does not implement this hook.
    """


@hookspec(firstresult=True)
def trunkline_settings_model() -> type[BaseModel] | None:
    """Return the pydantic model that validates this plugin's ``[plugins.<name>]`` table.

    Called on one plugin at a time, at start-up, for plugins that register no provider (a
    carrier plugin names its model in ``ProviderInfo.settings_model`` instead). ``None``: the
    plugin takes no settings, and a non-empty table for it is a start-up error.
    """


@hookspec
def trunkline_configure(settings: BaseModel | None, context: PluginContext) -> None:
    """Receive this plugin's validated settings and the host's services.

    Called once per plugin at start-up, after every plugin registered, only on that plugin.
    May be ``async def``.

    :param settings: an instance of the plugin's settings model with ``{ env = "NAME" }``
        references resolved, or ``None`` when the plugin has no settings model.
    :param context: the :class:`~core.PluginContext`: public base URL, shared cache, a way to
        report carrier events, a logger.

    A plugin whose credentials are absent still configures; its operations then raise
    ``ProviderNotConfigured``. Raising here fails start-up (or, with ``strict = false``, marks
    the plugin failed), and the error names the plugin.
    """


@hookspec
def trunkline_provider_status(provider: str) -> dict[str, Any] | None:
    """Report a provider's state for ``/plugins`` and the providers list.

    Provider-targeted, synchronous. Return a dict with at least ``configured`` (bool) and
    optionally ``detail`` (str); never a secret. ``None`` means ``{"configured": True}``.
    """


@hookspec
def trunkline_cli(app: Any, settings: BaseModel | None) -> None:
    """Add commands to the ``trunkline`` command line.

    Broadcast, synchronous, when the CLI starts. Commands are plugin-namespaced
    (``trunkline telnyx refresh-coverage``).

    :param app: the root ``typer.Typer``; add a group with
        ``app.add_typer(group, name="<plugin>")``.
    :param settings: this plugin's ``[plugins.<name>]`` table, validated by its settings model
        (``None`` when it has none, or when the table did not validate: the CLI still starts).
    """


@hookspec
def trunkline_warm_up() -> None:
    """Prepare what the first request would otherwise wait for (import a heavy SDK...).

    Broadcast, synchronous, called by the server only (never by the CLI) once it has started,
    in a background thread: the server answers meanwhile. No network; must not touch objects
    the event loop uses without a lock. Errors are logged, never raised.
    """


@hookspec
def trunkline_shutdown() -> None:
    """Release what the plugin holds (pooled HTTP clients...). Broadcast; may be ``async def``."""


# -- provider-targeted hooks -----------------------------------------------------------------


@provider_hook("verify_cli")
def verify_cli(
    provider: str, number: models.NumberRef, code: str | None
) -> models.VerificationResult:
    """Start or complete the verification of ``number`` as a caller ID with the carrier.

    Provider-targeted; may be ``async def``.

    :param provider: the provider name this plugin registered.
    :param number: the stored number, with its current ``verification_status`` and
        ``verification_ref`` (the ``provider_ref`` of the last result, or ``None``).
    :param code: ``None`` to start (or to check on a started verification); the code the user
        received, to complete a two-step verification.

    Return a :class:`~core.VerificationResult`: ``verified`` when the carrier already lists the
    number as a verified caller ID (already-verified errors are success), ``pending`` with
    ``next_step`` (and ``display_code`` when the user types a code into the carrier's call), or
    ``failed`` with ``detail`` (a wrong code: the user may try again). The core calls no carrier
    while a verification is pending and unexpired and no code is given.
    Carrier failures raise the core's ``Provider*`` errors; nothing is stored then.
    """


@provider_hook("coverage")
def list_coverage(provider: str, country: str | None) -> list[models.CoverageEntry]:
    """List where the carrier offers numbers, per country and number type.

    Provider-targeted; may be ``async def``.

    :param country: ISO 3166 alpha-2 code, or ``None`` for every country.

    Return one :class:`~core.CoverageEntry` per (country, number type) offered, with ``source``
    ``live`` (asked of the carrier, possibly cached) or ``static`` (shipped data). An empty list
    means nothing is offered there.
    """


@provider_hook("regulations")
def fetch_regulations(
    provider: str, country: str, number_type: str | None, end_user_type: str | None
) -> list[models.Requirement]:
    """List what an end user must provide to hold a number.

    Provider-targeted; may be ``async def``.

    :param country: ISO 3166 alpha-2 code.
    :param number_type: ``local``, ``mobile``, ``toll_free``, ``national``, or ``None`` for all.
    :param end_user_type: ``individual``, ``business``, or ``None`` for both.

    Return :class:`~core.Requirement` items; ``group`` keeps the carrier's grouping of
    alternative documents. An empty list means no requirement.
    """


@provider_hook("search")
def search_numbers(provider: str, query: models.NumberSearch) -> list[models.AvailableNumber]:
    """Search the carrier's inventory of numbers for sale.

    Provider-targeted; may be ``async def``. Return at most ``query.limit`` numbers, with the
    carrier's own prices when it gives them.
    """


@provider_hook("purchase")
def purchase_number(provider: str, e164: str, workspace: str) -> models.PurchasedNumber:
    """Buy ``e164`` from the carrier for ``workspace`` (its id).

    Provider-targeted; may be ``async def``. Return the :class:`~core.PurchasedNumber` with the
    carrier's own monthly and upfront cost and currency (the ledger records them at zero markup)
    and the carrier's reference. Raise a ``Provider*`` error when the carrier refuses: the core
    then stores nothing.
    """


@provider_hook("release")
def release_number(provider: str, number: models.NumberRef) -> None:
    """Give a hosted number back to the carrier, for good: the carrier stops billing it.

    Provider-targeted; may be ``async def``. The core calls it when a workspace deletes a
    number it bought (``hosted``), before it changes anything.

    :param number: the stored number: ``phone_e164``, and ``provider_ref`` (the reference
        ``purchase_number`` returned; ``None`` for a number recorded without one).

    Return ``None`` once the carrier no longer holds the number for this account, including
    when the carrier says it already does not (a release repeated after a lost answer). Raise
    a ``Provider*`` error when the carrier refuses or fails: the core then keeps the number
    exactly as it was and answers the error. A provider that cannot release numbers does not
    implement it (nor declare the ``release`` capability); deleting its hosted numbers answers
    ``unsupported_operation`` and keeps them.
    """


@provider_hook("calls")
def place_call(
    provider: str, from_e164: str, to_e164: str, options: models.CallOptions
) -> models.PlacedCall:
    """Place an outbound call. The core has already enforced the outbound policy.

    Provider-targeted; may be ``async def``. Return the carrier's call id and first status.
    """


@provider_hook("webhooks")
def parse_webhook(provider: str, request: models.WebhookRequest) -> list[models.ProviderEvent]:
    """Verify a carrier callback's signature, then turn it into events.

    Provider-targeted; may be ``async def``.

    :param request: the framework-free :class:`~core.WebhookRequest` (public URL, lower-case
        headers, raw body).

    Raise ``WebhookSignatureError`` when the signature is missing or does not hold, or when
    no secret is configured to check it with: the core then changes nothing and answers 403.
    Raise ``WebhookMalformed`` for a signed body that is not one of the carrier's callbacks
    (not JSON, an unknown kind, a field of the wrong type): 422, nothing changes. Return an
    empty list for a well-formed callback that carries no event the core acts on.

    The core has already refused bodies over 256 KiB and bodies nested deeper than 32 levels.
    Events are matched by ``provider_ref`` first (the reference ``verify_cli`` returned, or the
    call id ``place_call`` returned); an event matched only by ``phone_e164`` may complete or
    fail a pending verification in the one workspace that has it pending, nothing else.
    """


@provider_hook("attestation")
def expected_attestation(provider: str, number: models.NumberRef) -> models.AttestationEstimate:
    """Estimate the SHAKEN/STIR attestation the carrier will sign calls from ``number`` with.

    Provider-targeted; may be ``async def``.

    :param number: the stored number: ``hosted`` (bought through this carrier, with its
        ``provider_ref``) or ``verified_cli`` (a verified caller ID the carrier does not host).

    Return an :class:`~core.AttestationEstimate`: ``A`` only when the carrier owns the number and
    knows the caller may use it, ``B`` for a verified caller ID, ``C`` or ``unknown`` otherwise,
    with ``basis`` saying why. The core stores the answer on the number and refreshes it when
    the number changes (purchase, verification) and on ``trunkline attestation refresh``; it is
    never asked on the preflight's path. Carrier failures raise the core's ``Provider*`` errors;
    the stored estimate then stays as it was.
    """


@provider_hook("lookup")
def lookup_number(
    provider: str, e164: str, fields: set[str], last_verified_date: date | None
) -> models.NumberIntel:
    """Look a destination number up at the carrier: its line type, and whether it was reassigned.

    Provider-targeted; may be ``async def``. Lookups usually cost money: the core calls this
    only for workspaces that turned lookups on, caches the answers per destination and records
    each answer in the ledger at the carrier's cost (``cost``).

    :param e164: the destination, E.164.
    :param fields: what to look up, a subset of ``{"line_type", "reassigned"}``.
    :param last_verified_date: for ``reassigned``: the date the callee was last known to be
        reachable at the number (the consent's date); ``None`` when not asked.

    Return a :class:`~core.NumberIntel` for ``e164`` (never another number), ``line_type``
    normalised onto the core's vocabulary (``unknown`` when the carrier does not say) and
    ``reassigned`` ``unsupported`` when not asked or when the carrier cannot tell for this
    number. Carrier failures raise the core's ``Provider*`` errors: the preflight then answers
    what it can decide without the lookup, and says the lookup failed.
    """


@provider_hook("dialing_permissions")
def fetch_outbound_permissions(provider: str) -> list[models.CountryPermission]:
    """Report the carrier account's own outbound dialing permissions, per destination country.

    Provider-targeted; may be ``async def``. The core calls it in the background (every
    ``TRUNKLINE_PERMISSIONS_REFRESH_SECONDS``) and on demand (``trunkline permissions
    refresh``), caches the answer, and never calls it on the preflight's path.

    Return one :class:`~core.CountryPermission` per country the carrier says something about:
    ``allowed`` (ordinary numbers may be called) and ``high_risk_allowed`` (premium-rate and
    shared-cost numbers may too). A country left out is not refused; an empty list refuses
    nothing. Not implementing the hook means the carrier cannot tell: nothing is blocked.
    Carrier failures raise the core's ``Provider*`` errors: the core then keeps the last good
    answer and reports the failure in ``/readyz`` and the metrics.
    """


# -- broadcast hooks ---------------------------------------------------------------------------


@hookspec
def is_country_outbound_blocked(country_code: str, provider: str) -> bool | None:
    """Say whether outbound calls to or from ``country_code`` are blocked for ``provider``.

    Broadcast to every enabled plugin, synchronous. The country is blocked when *any* plugin
    answers ``True``, so the order of registration never matters; ``None`` or ``False`` means
    this plugin has no objection.

    The answer must be a pure function of the arguments and the plugin's configuration: the
    core caches it per ``(country_code, provider)`` until the configuration changes, because the
    outbound policy is asked before every call.

    :param country_code: ISO 3166 alpha-2, upper case.
    :param provider: the provider name of the number that would call.
    """


@hookspec
def calling_windows(country_code: str, region: str | None) -> list[models.CallingWindow] | None:
    """Add calling-hours windows for destinations in ``country_code`` (and ``region``).

    Broadcast to every enabled plugin, synchronous: a third party ships a rule pack this way.
    Each :class:`~core.CallingWindow` names its ``rule``; the windows of one rule add up, and
    every rule applies (the strictest wins), in every candidate time zone of the destination.
    They apply to every workspace whose calling hours are on, next to the bundled rules the
    workspace chose and its own windows. ``None`` or ``[]``: no window from this plugin.

    The answer must be a pure function of the arguments and the plugin's configuration: the
    core caches it per ``(country_code, region)``.

    :param country_code: ISO 3166 alpha-2 of the destination, upper case.
    :param region: the destination's US state or Canadian province code (``FL``, ``ON``)
        from phonenumbers' geocoder, or ``None`` (elsewhere, or unknown).
    """


#: Every capability a provider may declare: one per provider hook.
CAPABILITIES: frozenset[str] = frozenset(hook.capability for hook in PROVIDER_HOOKS.values())
