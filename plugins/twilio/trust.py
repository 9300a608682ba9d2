"""What Twilio tells about trust in a call: the attestation it signs, and its destination lookups.

* **Attestation** (SHAKEN/STIR): Twilio signs A only for a number it hosts that is assigned to
  an approved SHAKEN/STIR Trust Product (Trust Hub v1: ``GET /v1/TrustProducts`` filtered by the
  SHAKEN/STIR policy and ``twilio-approved``, then each product's
  ``GET /v1/TrustProducts/{sid}/ChannelEndpointAssignments?ChannelEndpointSid=PN...``); any other
  hosted number is signed B, and a verified caller ID Twilio does not host B at most.
* **Lookup** v2: ``GET /v2/PhoneNumbers/{n}`` with ``Fields=line_type_intelligence`` and, for a
  US number when asked, ``reassigned_number`` with ``LastVerifiedDate`` (``YYYYMMDD``).
  Twilio's line types are mapped onto the core's vocabulary by :data:`LINE_TYPES`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import phonenumbers
from twilio.rest import Client

from trunkline import AttestationEstimate, NumberIntel, NumberRef

from . import errors

PROVIDER = errors.PROVIDER
APPROVED = "twilio-approved"
#: Twilio Lookup v2 ``line_type_intelligence.type`` -> the core's line type. Twilio's
#: ``personal`` and ``uan`` (non-geographic numbers of either kind) have no match: ``unknown``.
LINE_TYPES: dict[str, Any] = {
    "landline": "landline",
    "mobile": "mobile",
    "fixedVoip": "fixed_voip",
    "nonFixedVoip": "non_fixed_voip",
    "tollFree": "toll_free",
    "premium": "premium",
    "sharedCost": "shared_cost",
    "voicemail": "voicemail",
    "pager": "pager",
    "personal": "unknown",
    "uan": "unknown",
    "unknown": "unknown",
}
#: Lookup v2 ``reassigned_number.is_number_reassigned`` -> the core's answer.
REASSIGNED: dict[str, Any] = {"yes": "yes", "no": "no", "no_data_available": "unknown"}
#: Twilio answers the reassigned-number question for US numbers only.
REASSIGNED_COUNTRIES = frozenset({"US"})


def _region(e164: str) -> str | None:
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(e164, None))
    except phonenumbers.NumberParseException:
        return None


async def expected_attestation(
    client: Client, account_sid: str, policy_sid: str, number: NumberRef
) -> AttestationEstimate:
    """The attestation Twilio signs calls from ``number`` with, as the module doc says."""
    if not number.hosted:
        if number.verified_cli:
            return AttestationEstimate(
                level="B", basis="a verified caller ID Twilio does not host: B at most"
            )
        return AttestationEstimate(level="unknown", basis="neither hosted nor verified")
    sid = number.provider_ref if (number.provider_ref or "").startswith("PN") else None
    if sid is None:
        listed = await client.api.v2010.accounts(account_sid).incoming_phone_numbers.list_async(
            phone_number=number.phone_e164, limit=1
        )
        match = [n for n in listed if n.phone_number == number.phone_e164 and n.sid]
        if not match:
            return AttestationEstimate(
                level="unknown", basis="Twilio does not list this number in the account"
            )
        sid = match[0].sid
    trusthub = client.trusthub.v1
    products = await trusthub.trust_products.list_async(policy_sid=policy_sid, status=APPROVED)
    for product in products:
        if product.policy_sid != policy_sid or product.status != APPROVED or not product.sid:
            continue  # the filters are Twilio's; the decision is ours
        assigned = await trusthub.trust_products(
            product.sid
        ).trust_products_channel_endpoint_assignment.list_async(channel_endpoint_sid=sid, limit=1)
        if any(a.channel_endpoint_sid == sid for a in assigned):
            return AttestationEstimate(
                level="A",
                basis=f"hosted by Twilio and assigned to the approved SHAKEN/STIR Trust "
                f"Product {product.sid}",
            )
    return AttestationEstimate(
        level="B", basis="hosted by Twilio, but in no approved SHAKEN/STIR Trust Product"
    )


async def lookup_number(
    client: Client, e164: str, fields: set[str], last_verified_date: date | None
) -> NumberIntel:
    """Twilio's Lookup v2 answer about ``e164``, as the module doc says.

    ``reassigned`` is asked only for a US number with a ``last_verified_date``; otherwise it is
    ``unsupported``. When nothing Twilio can answer is asked, no request is made.
    """
    wanted: list[str] = []
    params: dict[str, Any] = {}
    if "line_type" in fields:
        wanted.append("line_type_intelligence")
    reassigned_asked = (
        "reassigned" in fields
        and last_verified_date is not None
        and _region(e164) in REASSIGNED_COUNTRIES
    )
    if reassigned_asked:
        assert last_verified_date is not None
        wanted.append("reassigned_number")
        params["last_verified_date"] = last_verified_date.strftime("%Y%m%d")
    if not wanted:
        return NumberIntel(provider=PROVIDER, phone_e164=e164, reassigned="unsupported")
    found = await client.lookups.v2.phone_numbers(e164).fetch_async(
        fields=",".join(wanted), **params
    )
    errors.check_same_number("lookup_number", e164, found.phone_number)
    line = _object(found.line_type_intelligence)
    line_type: Any = "unknown"
    if not line.get("error_code"):
        line_type = LINE_TYPES.get(str(line.get("type")), "unknown")
    reassigned: Any = "unsupported"
    if reassigned_asked:
        answer = _object(found.reassigned_number)
        said = str(answer.get("is_number_reassigned"))
        reassigned = "unknown" if answer.get("error_code") else REASSIGNED.get(said, "unknown")
    return NumberIntel(
        provider=PROVIDER,
        phone_e164=e164,
        valid=found.valid is not False,
        line_type=line_type,
        carrier_name=line.get("carrier_name") or None,
        reassigned=reassigned,
    )


def _object(value: Any) -> dict[str, Any]:
    """A Lookup sub-object (``None`` when the field was not returned)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError("a Lookup field that is not an object")
    return value
