"""What the preflight needs to know of a destination number, cached per prefix.

:func:`place_of` answers the destination's region (US state or Canadian province, from
phonenumbers' geocoder), its candidate time zones (``phonenumbers.timezone``; a NANP number
resolves to its exchange where the data has it, to several zones where it does not) and whether
it is a high-risk number (premium-rate or shared-cost, phonenumbers' patterns). The answers are
cached per prefix: the calling code plus :data:`PREFIX_DIGITS` national digits, the longest
prefix of phonenumbers' time-zone data, so a campaign list costs one phonenumbers parse per
prefix, not per number.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import PhoneMetadata

from .phone import calling_code_length

#: Countries whose region (state, province) the preflight reports and rules may target.
REGIONAL_COUNTRIES = frozenset({"US", "CA"})
#: National digits after the calling code that key the place cache.
PREFIX_DIGITS = 6
_MAX_CACHED = 200_000


@dataclass(frozen=True, slots=True)
class Place:
    """A destination's region (``None`` outside :data:`REGIONAL_COUNTRIES` or when unknown),
    its candidate IANA time zones (empty when phonenumbers knows none), and whether it is a
    premium-rate or shared-cost number (what carriers call high-risk)."""

    region: str | None
    time_zones: tuple[str, ...]
    high_risk: bool = False


_NOWHERE = Place(None, ())
_places: dict[str, Place] = {}


#: ``+`` and the first three digits -> where the key of :func:`place_key` ends (a calling code
#: is decided by its first three digits at most).
_KEY_END: dict[str, int] = {}


def place_key(e164: str) -> str:
    """The cache key of ``e164``: ``+``, its calling code and :data:`PREFIX_DIGITS` national
    digits."""
    head = e164[:4]
    end = _KEY_END.get(head)
    if end is None:
        end = _KEY_END[head] = 1 + calling_code_length(head[1:]) + PREFIX_DIGITS
    return e164[:end]


def place_of(e164: str) -> Place:
    """Region, candidate time zones and risk of an E.164 number (cached per prefix)."""
    key = place_key(e164)
    place = _places.get(key)
    if place is None:
        place = _lookup_place(e164)
        if len(_places) < _MAX_CACHED:
            _places[key] = place
    return place


def warm_up() -> None:
    """Load phonenumbers' time-zone and geocoder data and the region names (most of a second
    of CPU), so that the first preflight does not wait for them."""
    place_of("+12125550100")
    _region_names()


def _lookup_place(e164: str) -> Place:
    from phonenumbers import geocoder
    from phonenumbers import timezone as tzdata

    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return _NOWHERE
    zones = tuple(z for z in tzdata.time_zones_for_number(parsed) if zone(z) is not None)
    country = phonenumbers.region_code_for_number(parsed)
    region = None
    if country in REGIONAL_COUNTRIES:
        region = region_from_description(geocoder.description_for_number(parsed, "en"))
    pattern = _high_risk_pattern(country) if country else None
    national = phonenumbers.national_significant_number(parsed)
    high_risk = pattern is not None and pattern.fullmatch(national) is not None
    return Place(region, zones, high_risk)


def region_from_description(description: str) -> str | None:
    """A US state or Canadian province code from a geocoder description.

    ``"Tallahassee, FL"`` -> ``FL``; a bare name (``"Florida"``, ``"Washington State"``) is
    mapped through the names phonenumbers itself pairs with codes (:func:`_region_names`).
    """
    match = _CITY_REGION.search(description)
    if match:
        return match.group(1)
    return _region_names().get(description)


_CITY_REGION = re.compile(r", ([A-Z]{2})$")


@lru_cache(maxsize=1)
def _region_names() -> dict[str, str]:
    """Region names of the NANP geocoder data -> codes, learned from the data itself: an area
    code's name (``1850`` -> ``Florida``) and its exchanges' ``City, XX`` entries agree on the
    code. A name whose exchanges disagree (``Nova Scotia/Prince Edward Island``) maps nowhere."""
    from phonenumbers.geodata import GEOCODE_DATA

    names: dict[str, str] = {}
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    for prefix, texts in GEOCODE_DATA.items():
        if not prefix.startswith("1"):
            continue
        text = texts.get("en", "")
        if len(prefix) == 4 and text and "," not in text:
            names[prefix] = text
    for prefix, texts in GEOCODE_DATA.items():
        if len(prefix) > 4 and prefix[:4] in names:
            match = _CITY_REGION.search(texts.get("en", ""))
            if match:
                votes[names[prefix[:4]]][match.group(1)] += 1
    out = {}
    for name, counter in votes.items():
        (code, count), total = counter.most_common(1)[0], sum(counter.values())
        if count >= 0.9 * total:
            out[name] = code
    return out


@lru_cache(maxsize=1024)
def zone(name: str) -> ZoneInfo | None:
    """The IANA zone, or ``None`` when this system's time-zone database lacks it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


@lru_cache(maxsize=512)
def _high_risk_pattern(country: str) -> re.Pattern[str] | None:
    meta = PhoneMetadata.metadata_for_region(country)
    if meta is None:
        return None
    descs = (meta.premium_rate, meta.shared_cost)
    patterns = [d.national_number_pattern for d in descs if d and d.national_number_pattern]
    return re.compile("(?:" + "|".join(patterns) + ")") if patterns else None
