"""E.164 parsing and country lookup with ``phonenumbers``."""

from __future__ import annotations

from functools import lru_cache

import phonenumbers

from .errors import InvalidPhoneNumber


def parse_e164(value: str, field: str = "e164") -> tuple[str, str]:
    """Validate ``value`` as a valid E.164 number; return it normalised and its ISO country.

    Raises ``InvalidInput`` naming ``field`` when it is not E.164 or not a valid number.
    """
    text = value.strip() if isinstance(value, str) else ""
    if not text.startswith("+") or not text[1:].isdigit() or not 8 <= len(text) <= 16:
        raise InvalidPhoneNumber(
            f"{field}: {value!r} is not an E.164 number (+ and 7 to 15 digits)",
            field=field,
        )
    try:
        parsed = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not phonenumbers.is_valid_number(parsed):
        raise InvalidPhoneNumber(f"{field}: {value!r} is not a valid phone number", field=field)
    region = phonenumbers.region_code_for_number(parsed)
    if not region or region == "001":
        raise InvalidPhoneNumber(f"{field}: {value!r} belongs to no country", field=field)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164), region


@lru_cache(maxsize=262_144)
def country_of(e164: str) -> str | None:
    """ISO country of an E.164 number, or None when it has none (cached: pure)."""
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return None
    region = phonenumbers.region_code_for_number(parsed)
    return region if region and region != "001" else None
