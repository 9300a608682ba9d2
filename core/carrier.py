"""Helpers every carrier plugin needs, so that each keeps only what is carrier-specific.

- :func:`error_for_status`: an HTTP status (and ``Retry-After``) onto the core's error hierarchy:
  401/403 auth, 429 rate-limited, 5xx unavailable, any other 4xx rejected.
- :func:`parse_retry_after`: a ``Retry-After`` header in seconds or as an HTTP date.
- :func:`check_same_number`: refuse a carrier answer about another phone number than asked.
- :func:`classify_number`: the ISO country and Trunkline number type of an E.164 number.
- :func:`static_coverage`, :func:`static_requirements`: ``list_coverage`` and
  ``fetch_regulations`` answered from a table the plugin ships, filtered as the hooks promise.
- :func:`attestation_by_ownership`: hosted ``A``, verified caller ID ``B``, otherwise ``unknown``.
- :func:`register_provider`: ``trunkline_register_providers`` for a plugin serving one carrier.

A plugin overrides only what differs: Twilio, for example, maps its own error codes first and
falls back on :func:`error_for_status` for the rest.
"""

from __future__ import annotations

import email.utils
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any, Literal

import phonenumbers
from pydantic import BaseModel

from .errors import (
    ProviderAuthError,
    ProviderError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
)
from .models import AttestationEstimate, CoverageEntry, NumberRef, ProviderInfo, Requirement

NumberType = Literal["local", "mobile", "toll_free", "national"]

__all__ = [
    "attestation_by_ownership",
    "check_same_number",
    "classify_number",
    "error_for_status",
    "parse_retry_after",
    "register_provider",
    "static_coverage",
    "static_requirements",
]


def register_provider(
    register: Callable[[ProviderInfo], None],
    name: str,
    display_name: str,
    settings_model: type[BaseModel] | None = None,
) -> None:
    """Register the one carrier a plugin serves, its capabilities left to the hooks it implements
    (the body of most plugins' ``trunkline_register_providers``)."""
    register(ProviderInfo(name=name, display_name=display_name, settings_model=settings_model))


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or an HTTP date).

    ``None`` when the value is absent or unreadable; never negative.
    """
    if value is None:
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def error_for_status(
    provider: str,
    status: int,
    detail: str,
    *,
    carrier: str | None = None,
    code: Any = None,
    retry_after: float | None = None,
) -> ProviderError:
    """The core error for a carrier's HTTP error answer.

    :param provider: the registered provider name (``provider`` of the error).
    :param status: the HTTP status (4xx or 5xx).
    :param detail: the carrier's own message; kept as ``provider_detail``.
    :param carrier: the carrier's display name for messages (default: ``provider``).
    :param code: the carrier's own error code (default: the status) for ``provider_code``.
    :param retry_after: seconds from the carrier's ``Retry-After`` (429 only).
    """
    name = carrier or provider
    kw: dict[str, Any] = {
        "provider": provider,
        "provider_code": code if code is not None else status,
        "provider_detail": detail,
    }
    if status == 429:
        return ProviderRateLimited(
            f"{name} rate limit reached: {detail}", retry_after=retry_after, **kw
        )
    if status in (401, 403):
        return ProviderAuthError(f"{name} refused the credentials: {detail}", **kw)
    if status >= 500:
        return ProviderUnavailable(f"{name} is unavailable (HTTP {status}): {detail}", **kw)
    return ProviderRejected(f"{name} refused the request (HTTP {status}): {detail}", **kw)


def check_same_number(
    provider: str, operation: str, asked: str, answered: str | None, *, carrier: str | None = None
) -> None:
    """Raise ``ProviderError`` when a carrier answered about another number than ``asked``.

    ``answered`` may carry spaces (some carriers format numbers); ``None`` or empty means the
    carrier named no number, which is not a contradiction.
    """
    if answered and answered.replace(" ", "") != asked:
        raise ProviderError(
            f"{carrier or provider} answered {operation} for {answered}, not for {asked}",
            provider=provider,
            provider_detail=f"asked {asked}, answered {answered}",
        )


def classify_number(e164: str, *, default_country: str = "ZZ") -> tuple[str, NumberType]:
    """The ISO country and Trunkline number type (``local``, ``mobile``, ``toll_free``).

    phonenumbers decides; a number it cannot parse is ``(default_country, "local")``.
    """
    try:
        parsed = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return default_country, "local"
    country = phonenumbers.region_code_for_number(parsed) or default_country
    kind = phonenumbers.number_type(parsed)
    if kind == phonenumbers.PhoneNumberType.TOLL_FREE:
        return country, "toll_free"
    if kind == phonenumbers.PhoneNumberType.MOBILE:
        return country, "mobile"
    return country, "local"


def static_coverage(
    provider: str,
    table: Mapping[str, Mapping[Any, Iterable[Any]]],
    country: str | None,
    *,
    as_of: date | str | None = None,
) -> list[CoverageEntry]:
    """``list_coverage`` from a table shipped with the plugin: ``{ISO country: {number type:
    [features]}}``, for ``country`` (any case) or, when ``None``, every country in ISO order."""
    countries = [country.upper()] if country else sorted(table)
    return [
        CoverageEntry.model_validate(
            {
                "provider": provider,
                "country_code": code,
                "number_type": number_type,
                "features": set(features),
                "source": "static",
                "as_of": as_of,
            }
        )
        for code in countries
        for number_type, features in table.get(code, {}).items()
    ]


def static_requirements(
    provider: str,
    rows: Iterable[Mapping[str, Any]],
    country: str,
    number_type: str | None,
    end_user_type: str | None,
) -> list[Requirement]:
    """``fetch_regulations`` from rows shipped with the plugin (the fields of a
    :class:`Requirement` but ``provider`` and ``country_code``), for ``country``: a row applies
    to the number type asked (``None``: any), and to the end user asked or to ``any``."""
    return [
        Requirement(provider=provider, country_code=country, **row)
        for row in rows
        if number_type in (None, row["number_type"])
        and (end_user_type is None or row["end_user_type"] in (end_user_type, "any"))
    ]


def attestation_by_ownership(
    number: NumberRef, *, hosted: str, verified: str
) -> AttestationEstimate:
    """The attestation a carrier that signs by ownership gives: ``A`` for a number it hosts,
    ``B`` for a verified caller ID it does not host, ``unknown`` otherwise; ``hosted`` and
    ``verified`` are the carrier's words for the basis."""
    if number.hosted:
        return AttestationEstimate(level="A", basis=hosted)
    if number.verified_cli:
        return AttestationEstimate(level="B", basis=verified)
    return AttestationEstimate(level="unknown", basis="neither hosted nor verified")
