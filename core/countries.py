"""ISO 3166 alpha-2 country codes as every query and form takes them.

A code is known when phonenumbers has numbering data for it (every country a number can belong
to). Anything else is refused with ``unknown_country`` rather than answered with an empty list,
and the usual mistakes (``UK`` for ``GB``) are answered with the code that was meant.
"""

from __future__ import annotations

import phonenumbers

from .errors import InvalidInput

KNOWN: frozenset[str] = frozenset(r for r in phonenumbers.SUPPORTED_REGIONS if r != "001")
#: Codes people use that ISO 3166 does not, and the code they mean.
ALIASES: dict[str, str] = {"UK": "GB", "EL": "GR", "EN": "GB"}


class UnknownCountry(InvalidInput):
    code = "unknown_country"
    title = "Unknown country code"


def parse_country(value: str, field: str = "country") -> str:
    """The upper-case ISO code for ``value`` (any case, surrounding spaces ignored).

    Raises ``UnknownCountry`` (422) naming ``field``, with ``suggestion`` when the code is a
    common alias (``UK`` -> ``GB``).
    """
    code = value.strip().upper()
    if code in KNOWN:
        return code
    suggestion = ALIASES.get(code)
    detail = f"{value.strip()!r} is not an ISO 3166 country code"
    if suggestion is not None:
        raise UnknownCountry(
            f"{detail}: did you mean {suggestion}?", field=field, suggestion=suggestion
        )
    raise UnknownCountry(f"{detail} (two letters, such as US or GB)", field=field)
