"""Twilio's Outgoing Caller IDs as verification answers: which record proves a number (the one
its own validation made, named by :func:`marker`), and what a started validation answers."""

from __future__ import annotations

from typing import Any

from trunkline import NumberRef, VerificationResult

from . import errors


def marker(number: NumberRef) -> str:
    """The FriendlyName a validation gives the caller ID it creates: names the number record
    (unique in the deployment) whose verification made it."""
    return f"Trunkline {number.id}"


def proves(record: Any, number: NumberRef) -> bool:
    """Whether an Outgoing Caller ID record was made by ``number``'s own verification: its
    sid is the stored reference, or it carries the number's marker."""
    ref = number.verification_ref
    return bool(ref and record.sid == ref) or record.friendly_name == marker(number)


def verified(record: Any) -> VerificationResult:
    """The answer for a caller ID record that proves the number."""
    return VerificationResult(status="verified", provider_ref=record.sid, detail="listed by Twilio")


def pending(number: NumberRef, started: Any) -> VerificationResult:
    """The answer for a validation request Twilio started: the code to show, its call's sid."""
    errors.check_same_number("verify_cli", number.phone_e164, started.phone_number)
    code = started.validation_code
    if code is None or not str(code).strip().isdigit():
        raise errors.malformed("validation request without a validation_code")
    return VerificationResult(
        status="pending",
        next_step="answer_call_and_enter_code",
        display_code=str(code).strip().zfill(6),
        provider_ref=started.call_sid,
        detail="Answer Twilio's call and type the code shown.",
    )
