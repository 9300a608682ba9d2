"""Telnyx's webhooks: the Ed25519 signature checked with the SDK's own verification (imported on
the first webhook: the SDK is heavy), then a Call Control event read as a call's status."""

from __future__ import annotations

import base64
import json
import time

from pydantic import SecretStr

from trunkline import ProviderEvent, WebhookMalformed, WebhookRequest, WebhookSignatureError

from .errors import PROVIDER

#: Call Control event types and the call status each means.
CALL_EVENTS = {
    "call.initiated": "initiated",
    "call.ringing": "ringing",
    "call.answered": "in-progress",
    "call.hangup": "completed",
    "call.machine.detection.ended": "in-progress",
}
#: A hangup's ``hangup_cause`` that means the call did not complete, and the status it means.
HANGUP_STATUS = {
    "user_busy": "busy",
    "timeout": "no-answer",
    "no_answer": "no-answer",
    "originator_cancel": "no-answer",
    "call_rejected": "failed",
    "unallocated_number": "failed",
    "normal_temporary_failure": "failed",
}


def parse(request: WebhookRequest, public_key: SecretStr | None) -> list[ProviderEvent]:
    """The call status a Call Control event signed with ``public_key`` reports; ``[]`` for an
    event the core does not act on."""
    if public_key is None:
        raise WebhookSignatureError("Telnyx public_key is not configured: cannot verify")
    from telnyx.lib.webhook_verification import (  # heavy: imported on the first webhook
        WebhookVerificationError,
        verify_webhook_signature,
    )

    try:
        request.body.decode("utf-8")
    except UnicodeDecodeError:
        # Signed, it is malformed: Telnyx's events are JSON text. The SDK decodes the body
        # before checking, so the signature over these bytes is checked here.
        _verify_bytes(request, public_key.get_secret_value())
        raise WebhookMalformed("telnyx: the webhook body is not UTF-8") from None
    try:
        verify_webhook_signature(request.body, request.headers, public_key.get_secret_value())
    except (WebhookVerificationError, ValueError) as exc:
        raise WebhookSignatureError(f"Telnyx signature refused: {exc}") from None
    try:
        envelope = json.loads(request.body)
    except ValueError:
        raise WebhookMalformed("telnyx: the webhook body is not JSON") from None
    data = envelope.get("data") if isinstance(envelope, dict) else None
    payload = data.get("payload", {}) if isinstance(data, dict) else None
    payload = {} if payload is None and isinstance(data, dict) else payload
    if not isinstance(data, dict) or not isinstance(payload, dict):
        raise WebhookMalformed('telnyx: the webhook body is not a Telnyx event {"data": {...}}')
    # An event type the core does not act on is acknowledged and changes nothing.
    event_type = str(data.get("event_type", ""))
    call_id = payload.get("call_control_id")
    status = CALL_EVENTS.get(event_type)
    if status is None or not isinstance(call_id, str) or not call_id:
        return []
    extra = {"event_type": event_type}
    if payload.get("hangup_cause"):
        extra["hangup_cause"] = str(payload["hangup_cause"])
        if event_type == "call.hangup":
            status = HANGUP_STATUS.get(extra["hangup_cause"], status)
    return [
        ProviderEvent(
            provider=PROVIDER,
            kind="call_status",
            provider_ref=call_id,
            phone_e164=payload.get("to") if isinstance(payload.get("to"), str) else None,
            data={"status": status, **extra},
        )
    ]


def _verify_bytes(request: WebhookRequest, public_key: str) -> None:
    """The SDK's check (its two headers, its replay window, Ed25519 over
    ``"{timestamp}|{body}"``) over a raw body the SDK cannot decode; raises
    ``WebhookSignatureError`` when it does not hold."""
    from nacl.exceptions import CryptoError
    from nacl.signing import VerifyKey
    from telnyx.lib.webhook_verification import (
        SIGNATURE_HEADER,
        TIMESTAMP_HEADER,
        TIMESTAMP_TOLERANCE_SECONDS,
    )

    stamp = request.headers.get(TIMESTAMP_HEADER, "")
    given = request.headers.get(SIGNATURE_HEADER, "")
    if not stamp.isdigit() or abs(time.time() - int(stamp)) > TIMESTAMP_TOLERANCE_SECONDS:
        raise WebhookSignatureError("Telnyx signature refused: no timestamp within the window")
    try:
        key = VerifyKey(base64.b64decode(public_key, validate=True))
        key.verify(stamp.encode() + b"|" + request.body, base64.b64decode(given, validate=True))
    except (CryptoError, ValueError, TypeError):
        raise WebhookSignatureError("Telnyx signature refused: it does not match") from None
