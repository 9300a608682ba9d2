"""The bundled Twilio and Telnyx plugins pass the same kit a third party runs (the sandbox:
``test_sandbox_conformance.py``)."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import re
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, parse_qsl, urlencode

import httpx
import respx
from nacl.signing import SigningKey
from twilio.request_validator import RequestValidator

from core import WebhookRequest
from core.conformance import ProviderConformance

PUBLIC = "http://127.0.0.1:8000"


TW_SID = "AC" + "b" * 32
TW_TOKEN = "kit-twilio-token"
TW_API = f"https://api.twilio.com/2010-04-01/Accounts/{TW_SID}"
TW_PN = "PN" + "2" * 32
TW_PRODUCT = "BU" + "3" * 32
TW_SHAKEN = "RN7a97559effdf62d00f4298208492a5ea"
TRUSTHUB = "https://trusthub.twilio.com/v1/TrustProducts"


class TestTwilioConformance(ProviderConformance):
    plugin_name = "twilio"
    provider = "twilio"
    settings = {"account_sid": TW_SID, "auth_token": {"env": "KIT_TW_TOKEN"}, "max_retries": 0}
    env = {"KIT_TW_TOKEN": TW_TOKEN}
    code = None  # call style: the user types the code into Twilio's call
    purchased_ref = "PN" + "3" * 32
    #: The FriendlyName of the last validation request: Twilio gives it to the caller ID.
    friendly_name = ""

    def _validate(self, request: httpx.Request) -> httpx.Response:
        self.friendly_name = parse_qs(request.content.decode()).get("FriendlyName", [""])[0]
        return httpx.Response(200, json={"call_sid": "CA" + "1" * 32, "validation_code": "123456"})

    hosted_ref = TW_PN

    @contextlib.contextmanager
    def mock_carrier(self, scenario: str) -> Iterator[None]:
        with respx.mock(assert_all_called=False) as mock:
            ids = mock.get(f"{TW_API}/OutgoingCallerIds.json")
            if scenario == "verify_start":
                ids.respond(json={"outgoing_caller_ids": [], "next_page_uri": None})
                mock.post(f"{TW_API}/OutgoingCallerIds.json").mock(side_effect=self._validate)
            elif scenario == "verify_code_ok":  # the user answered: now listed
                caller_id = {
                    "sid": "PN" + "1" * 32,
                    "phone_number": "+14155550100",
                    "friendly_name": self.friendly_name,
                }
                ids.respond(json={"outgoing_caller_ids": [caller_id], "next_page_uri": None})
            elif scenario == "release":
                mock.delete(f"{TW_API}/IncomingPhoneNumbers/{self.purchased_ref}.json").respond(204)
            elif scenario in ("server_error", "auth_error", "rate_limited"):
                status = {"server_error": 500, "auth_error": 401, "rate_limited": 429}[scenario]
                ids.respond(
                    status, json={"code": 20003 if status == 401 else status, "message": "x"}
                )
            elif scenario == "coverage":
                mock.get(f"{TW_API}/AvailablePhoneNumbers.json").respond(
                    json={
                        "countries": [{"country_code": "US", "subresource_uris": {"local": "/l"}}]
                    }
                )
            elif scenario == "outbound_permissions":
                mock.get("https://voice.twilio.com/v1/DialingPermissions/Countries").respond(
                    json={
                        "content": [
                            {
                                "iso_code": "GB",
                                "country_codes": ["+44"],
                                "low_risk_numbers_enabled": True,
                                "high_risk_special_numbers_enabled": False,
                            }
                        ],
                        "meta": {"key": "content", "next_page_url": None},
                    }
                )
            elif scenario == "attestation":
                meta = {"key": "results", "next_page_url": None}
                mock.get(TRUSTHUB).respond(
                    json={
                        "results": [
                            {
                                "sid": TW_PRODUCT,
                                "policy_sid": TW_SHAKEN,
                                "status": "twilio-approved",
                            }
                        ],
                        "meta": meta,
                    }
                )
                mock.get(f"{TRUSTHUB}/{TW_PRODUCT}/ChannelEndpointAssignments").respond(
                    json={"results": [{"channel_endpoint_sid": TW_PN}], "meta": meta}
                )
            elif scenario == "lookup":
                mock.get(re.compile(r"https://lookups\.twilio\.com/v2/PhoneNumbers/.*")).respond(
                    json={
                        "phone_number": self.destination,
                        "valid": True,
                        "line_type_intelligence": {"type": "landline", "carrier_name": "X"},
                    }
                )
            elif scenario == "regulations":
                mock.get("https://numbers.twilio.com/v2/RegulatoryCompliance/Regulations").respond(
                    json={
                        "results": [
                            {
                                "iso_country": "US",
                                "number_type": "local",
                                "end_user_type": "business",
                                "requirements": {
                                    "end_user": [{"name": "Business", "type": "business"}]
                                },
                            }
                        ],
                        "meta": {"key": "results", "next_page_url": None},
                    }
                )
            yield

    def _request(self, token: str) -> WebhookRequest:
        url = f"{PUBLIC}/webhooks/twilio"
        params = {"CallSid": "CA" + "1" * 32, "VerificationStatus": "success", "To": "+14155550100"}
        sig = RequestValidator(token).compute_signature(url, params)
        return WebhookRequest(
            url=url,
            body=urlencode(params).encode(),
            headers={
                "x-twilio-signature": sig,
                "content-type": "application/x-www-form-urlencoded",
            },
        )

    def signed_webhook(self) -> WebhookRequest:
        return self._request(TW_TOKEN)

    def sign_webhook(self, body: bytes, content_type: str) -> WebhookRequest:
        """As Twilio signs: a JSON body through ``bodySHA256`` (of the raw bytes) in the URL,
        a form body through its parameters (as the plugin decodes them)."""
        url = f"{PUBLIC}/webhooks/twilio"
        params: dict[str, str] = {}
        if content_type.startswith("application/json"):
            url += f"?bodySHA256={hashlib.sha256(body).hexdigest()}"
        else:
            params = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        sig = RequestValidator(TW_TOKEN).compute_signature(url, params)
        return WebhookRequest(
            url=url, body=body, headers={"x-twilio-signature": sig, "content-type": content_type}
        )

    def forged_webhook(self) -> WebhookRequest:
        return self._request("not-the-token")


TX_KEY = "KEY-kit"
TX_SIGNER = SigningKey.generate()
TX_V2 = "https://api.telnyx.com/v2"
TX_PHONE = re.compile(r"https://api\.telnyx\.com/v2/verified_numbers/(%2B|\+)14155550100")


class TestTelnyxConformance(ProviderConformance):
    plugin_name = "telnyx"
    provider = "telnyx"
    settings = {
        "api_key": {"env": "KIT_TX_KEY"},
        "max_retries": 0,
        "outbound_voice_profile_id": "ovp-kit",
        "public_key": base64.b64encode(bytes(TX_SIGNER.verify_key)).decode(),
    }
    env = {"KIT_TX_KEY": TX_KEY}
    country = "DE"  # the shipped data has coverage and regulations for it

    @contextlib.contextmanager
    def mock_carrier(self, scenario: str) -> Iterator[None]:
        with respx.mock(assert_all_called=False) as mock:
            lookup = mock.get(re.compile(TX_PHONE.pattern + "$"))
            verify = mock.post(re.compile(TX_PHONE.pattern + "/actions/verify$"))
            if scenario == "verify_start":
                lookup.respond(404, json={"errors": [{"code": "10005", "detail": "none"}]})
                mock.post(f"{TX_V2}/verified_numbers").respond(200, json={})
            elif scenario == "outbound_permissions":
                mock.get(f"{TX_V2}/outbound_voice_profiles/ovp-kit").respond(
                    json={"data": {"id": "ovp-kit", "whitelisted_destinations": ["DE", "US"]}}
                )
            elif scenario == "verify_code_wrong":
                verify.respond(400, json={"errors": [{"code": "10015", "detail": "wrong code"}]})
            elif scenario == "release":
                mock.get(f"{TX_V2}/phone_numbers").respond(
                    200, json={"data": [{"id": "1293384261075731499", "phone_number": self.number}]}
                )
                mock.delete(f"{TX_V2}/phone_numbers/1293384261075731499").respond(
                    200, json={"data": {"id": "1293384261075731499", "phone_number": self.number}}
                )
            elif scenario == "verify_code_ok":
                verify.respond(
                    200,
                    json={
                        "data": {
                            "phone_number": "+14155550100",
                            "verified_at": "2026-11-25T00:00:00Z",
                        }
                    },
                )
            elif scenario == "lookup":
                mock.get(re.compile(rf"{TX_V2}/number_lookup/(%2B|\+)14155550123")).respond(
                    json={
                        "data": {
                            "phone_number": self.destination,
                            "valid_number": True,
                            "carrier": {"type": "fixed line", "name": "X"},
                        }
                    }
                )
            elif scenario in ("server_error", "auth_error", "rate_limited"):
                status = {"server_error": 500, "auth_error": 401, "rate_limited": 429}[scenario]
                lookup.mock(
                    return_value=httpx.Response(
                        status,
                        json={
                            "errors": [
                                {"code": "10011" if status == 429 else str(status), "detail": "x"}
                            ]
                        },
                    )
                )
            yield

    def _request(self, signer: SigningKey, body: bytes | None = None) -> WebhookRequest:
        if body is None:
            body = json.dumps(
                {"data": {"event_type": "call.hangup", "payload": {"call_control_id": "v3:x"}}}
            ).encode()
        stamp = str(int(time.time()))
        # What Telnyx signs: "{timestamp}|{raw body}", Ed25519, base64.
        sig = base64.b64encode(signer.sign(stamp.encode() + b"|" + body).signature).decode()
        return WebhookRequest(
            url=f"{PUBLIC}/webhooks/telnyx",
            body=body,
            headers={"telnyx-signature-ed25519": sig, "telnyx-timestamp": stamp},
        )

    def signed_webhook(self) -> WebhookRequest:
        return self._request(TX_SIGNER)

    def forged_webhook(self) -> WebhookRequest:
        return self._request(SigningKey.generate())

    def sign_webhook(self, body: bytes, content_type: str) -> WebhookRequest:
        request = self._request(TX_SIGNER, body)
        request.headers["content-type"] = content_type
        return request
