"""Twilio's Voice dialing permissions (``DialingPermissions/Countries``) as the core's
:class:`~trunkline.CountryPermission` items, one per ISO region."""

from __future__ import annotations

from typing import Any

import phonenumbers

from trunkline import CountryPermission


def from_countries(rows: list[Any]) -> list[CountryPermission]:
    """Twilio's dialing-permission countries as :class:`CountryPermission` items.

    ``low_risk_numbers_enabled`` -> ``allowed``; ``high_risk_special_numbers_enabled`` ->
    ``high_risk_allowed``. One Twilio entry may stand for several ISO regions ("United
    States/Canada" is ``US`` with ``+1``): the main region of a calling code lends its
    permission to that code's regions that have no entry of their own.
    """
    found: dict[str, CountryPermission] = {}
    main: list[tuple[CountryPermission, list[str]]] = []
    for row in rows:
        iso = str(row.iso_code or "").upper()
        if iso not in phonenumbers.SUPPORTED_REGIONS:
            continue
        permission = CountryPermission(
            country_code=iso,
            allowed=bool(row.low_risk_numbers_enabled),
            high_risk_allowed=bool(row.high_risk_special_numbers_enabled),
        )
        found[iso] = permission
        main.append((permission, list(row.country_codes or [])))
    for permission, codes in main:
        for text in codes:
            digits = str(text).lstrip("+")
            if not digits.isdigit():
                continue
            code = int(digits)
            if phonenumbers.region_code_for_country_code(code) != permission.country_code:
                continue
            for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(code, ()):
                if region not in found:
                    found[region] = permission.model_copy(update={"country_code": region})
    return sorted(found.values(), key=lambda p: p.country_code)
