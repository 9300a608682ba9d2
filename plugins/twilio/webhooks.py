"""Twilio's callbacks: ``X-Twilio-Signature`` checked with the SDK's ``RequestValidator`` (form
bodies, and JSON bodies signed through ``bodySHA256``), then read as the core's events: an
Outgoing Caller ID validation's outcome, or a call's status."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

from pydantic import SecretStr
from twilio.request_validator import RequestValidator

from trunkline import ProviderEvent, WebhookMalformed, WebhookRequest, WebhookSignatureError

from .errors import PROVIDER


def parse(request: WebhookRequest, auth_token: SecretStr | None) -> list[ProviderEvent]:
    """The events of a callback Twilio signed with ``auth_token``; anything else is refused."""
    if auth_token is None:
        raise WebhookSignatureError("Twilio is not configured: no auth token to check with")
    signature = request.headers.get("x-twilio-signature")
    if not signature:
        raise WebhookSignatureError("missing X-Twilio-Signature")
    validator = RequestValidator(auth_token.get_secret_value())
    if request.headers.get("content-type", "").startswith("application/json"):
        # JSON bodies are signed through ``bodySHA256`` in the URL's query (the SHA-256 of the
        # raw bytes, compared here: the SDK hashes a str, which bytes that are not UTF-8 are
        # not), and the signature covers the URL alone.
        hashes = parse_qs(urlsplit(request.url).query).get("bodySHA256")
        if not hashes:
            raise WebhookSignatureError("a JSON body is signed through bodySHA256 in the URL")
        digest = hashlib.sha256(request.body).hexdigest()
        if not hmac.compare_digest(digest.encode(), hashes[0].encode()) or not validator.validate(
            request.url, {}, signature
        ):
            raise WebhookSignatureError("X-Twilio-Signature does not match")
        try:
            loaded = json.loads(request.body.decode("utf-8"))
        except ValueError:  # UnicodeDecodeError included
            raise WebhookMalformed("twilio: the JSON callback body is not UTF-8 JSON") from None
        if not isinstance(loaded, dict):
            raise WebhookMalformed("twilio: the JSON callback body is not an object")
        form = {str(k): str(v) for k, v in loaded.items()}
    else:
        # Form parameters as Twilio signs them, decoded (bytes that are not UTF-8 replaced).
        text = request.body.decode("utf-8", errors="replace")
        form = dict(parse_qsl(text, keep_blank_values=True))
        if not validator.validate(request.url, form, signature):
            raise WebhookSignatureError("X-Twilio-Signature does not match")
    return events(form)


def events(form: dict[str, str]) -> list[ProviderEvent]:
    """A validation's outcome, or a call's status; ``[]`` for a callback of another kind."""
    status = form.get("VerificationStatus")
    if status is not None:
        # An Outgoing Caller ID validation: VerificationStatus, OutgoingCallerIdSid, To...
        phone = form.get("To") or form.get("Called") or form.get("PhoneNumber")
        kind: Any = (
            "verification_succeeded" if status.lower() == "success" else "verification_failed"
        )
        return [
            ProviderEvent(
                provider=PROVIDER,
                kind=kind,
                phone_e164=phone,
                provider_ref=form.get("CallSid"),
                data={
                    "outgoing_caller_id_sid": form.get("OutgoingCallerIdSid"),
                    "verification_status": status,
                    "detail": f"Twilio verification {status}",
                },
            )
        ]
    if form.get("CallStatus") and form.get("CallSid"):
        data = {"status": form["CallStatus"]}
        for key, name in (("CallDuration", "duration"), ("ErrorCode", "error_code")):
            if form.get(key):
                data[name] = form[key]
        return [
            ProviderEvent(
                provider=PROVIDER,
                kind="call_status",
                phone_e164=form.get("To") or None,
                provider_ref=form["CallSid"],
                data=data,
            )
        ]
    return []
