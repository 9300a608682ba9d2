"""What Telnyx says about numbers, in the core's vocabulary: a search answer's numbers (features,
costs, place) and a Number Lookup's line types."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from trunkline import AvailableNumber, NumberSearch

from .errors import PROVIDER

#: Number Lookup ``carrier.type`` -> the core's line type. Telnyx's ``voip`` does not say whether
#: the line is fixed: it is taken as ``non_fixed_voip``, the kind a deny list usually names, so
#: that such a list is never bypassed. ``fixed line or mobile`` (NANP numbers where Telnyx cannot
#: tell), ``personal number`` and ``uan`` have no match: ``unknown``.
LINE_TYPES: dict[str, Any] = {
    "fixed line": "landline",
    "mobile": "mobile",
    "voip": "non_fixed_voip",
    "fixed line or mobile": "unknown",
    "toll free": "toll_free",
    "premium rate": "premium",
    "shared cost": "shared_cost",
    "personal number": "unknown",
    "pager": "pager",
    "uan": "unknown",
    "voicemail": "voicemail",
    "unknown": "unknown",
}


def _decimal(value: Any) -> Decimal | None:
    try:
        return None if value in (None, "") else Decimal(str(value))
    except InvalidOperation:
        return None


def _first(items: Any, region_type: str) -> Any:
    """The first ``region_information`` entry of a type (``location``, ``state``...)."""
    return next((r for r in items or [] if getattr(r, "region_type", None) == region_type), None)


def _features(raw: Any) -> set[Any]:
    names = {getattr(f, "name", f) for f in raw or []}
    return {n for n in names if n in ("voice", "sms", "mms", "fax")} or {"voice"}


def available(item: Any, query: NumberSearch) -> AvailableNumber | None:
    """A number of Telnyx's search answer, with its costs and place; ``None`` without a number."""
    if not item.phone_number:
        return None
    cost = item.cost_information
    return AvailableNumber(
        provider=PROVIDER,
        phone_e164=item.phone_number,
        country_code=query.country,
        number_type=query.number_type,
        features=_features(item.features),
        monthly_cost=_decimal(getattr(cost, "monthly_cost", None)),
        upfront_cost=_decimal(getattr(cost, "upfront_cost", None)),
        currency=getattr(cost, "currency", None),
        locality=getattr(
            _first(item.region_information, "location")
            or _first(item.region_information, "rate_center"),
            "region_name",
            None,
        ),
        region=getattr(_first(item.region_information, "state"), "region_name", None),
    )
