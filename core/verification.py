"""Caller-ID verification: ``none -> pending -> verified | failed``, one carrier start at a time.

* An already verified number answers verified and calls no carrier; a hosted one needs none.
* While a verification is pending and unexpired, a call without a code answers the stored
  pending state again and calls no carrier (no code is sent twice), unless a wrong code was
  submitted: then it starts again (a new code is sent, the attempts are reset).
* Starting claims the number with one conditional UPDATE, so of concurrent requests exactly one
  reaches the carrier; the others answer the pending state.
* A wrong code keeps the verification pending and counts one attempt (claimed with a conditional
  UPDATE before the carrier is asked, so concurrent guesses cannot exceed the cap); the
  ``MAX_CODE_ATTEMPTS``-th wrong code fails it and a new start is needed.
* The per-user rate limit counts only requests that reach the carrier: a 404, a 409, an
  already verified number or a pending answer given from the database costs nothing.
* A carrier failure (or the rate limit refusing) puts the number back as it was; a carrier
  failure is audited; the error propagates.
* Verification codes (the one submitted, the ``display_code``) never reach the audit trail.
* One number, one owner (:mod:`core.ownership`): while another workspace holds the number
  hosted or verified, starting or completing a verification answers 409 ``number_claimed``
  before any carrier is asked, and changes nothing; a completion that races such a holder
  loses to the unique index in the same way. Plugins count a carrier's account-level record
  as proof only for the number whose own verification created it (``verification_ref``).
"""

from __future__ import annotations

import re
import typing
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from . import attestation, audit
from .auth import Principal
from .errors import (
    HostedNumber,
    NoPendingVerification,
    ProviderError,
    RateLimited,
    TrunklineError,
)
from .models import VerificationResult
from .numbers import as_ref, get_number, lose_verification
from .ownership import NumberClaimed, held_elsewhere
from .runtime import Runtime
from .secrets import REDACTED
from .tables import Number, utcnow

#: Wrong codes one verification accepts; the last one fails it (a new start is needed).
MAX_CODE_ATTEMPTS = 5

_RESTORABLE = (
    "verification_status",
    "verification_ref",
    "verification_started_at",
    "verification_display_code",
    "verification_next_step",
    "verification_detail",
    "verification_attempts",
)


@dataclass(frozen=True)
class VerifyOutcome:
    """What ``POST .../verify-cli`` answers."""

    number_id: uuid.UUID
    verified_cli: bool
    status: str
    next_step: str
    display_code: str | None
    detail: str | None
    attempts_left: int | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": True,
            "number_id": str(self.number_id),
            "verified_cli": self.verified_cli,
            "status": self.status,
            "next_step": self.next_step,
            "display_code": self.display_code,
            "detail": self.detail,
            "attempts_left": self.attempts_left,
        }


def attempts_left(number: Number) -> int | None:
    """Codes that may still be submitted: ``None`` without a verification under way, 0 once
    it failed (start again), else what is left of ``MAX_CODE_ATTEMPTS``."""
    if number.verification_status == "pending" and not number.verified_cli:
        return max(0, MAX_CODE_ATTEMPTS - (number.verification_attempts or 0))
    if number.verification_status == "failed":
        return 0
    return None


def _outcome(number: Number) -> VerifyOutcome:
    pending = number.verification_status == "pending"
    return VerifyOutcome(
        number_id=number.id,
        verified_cli=number.verified_cli,
        status=number.verification_status,
        next_step=(number.verification_next_step or "none") if pending else "none",
        display_code=number.verification_display_code if pending else None,
        detail=number.verification_detail,
        attempts_left=attempts_left(number),
    )


async def verify_cli(
    rt: Runtime, session: AsyncSession, principal: Principal, number_id: Any, code: str | None
) -> VerifyOutcome:
    """Start, check or complete the verification of a number, as the module doc says."""
    number = await get_number(session, principal.workspace_id, number_id)
    if number.hosted:
        raise HostedNumber(
            "this number was bought through its carrier (hosted): it may be used as caller ID "
            "without verification"
        )
    if number.verified_cli:
        return _outcome(number)
    rt.ensure_live()
    if await held_elsewhere(session, number.phone_e164, number.workspace_id, purchases=False):
        await _refuse(session, principal, number, NumberClaimed(number.phone_e164), _step(code))
    expiry = timedelta(seconds=rt.settings.verification_expiry_seconds)
    now = utcnow()
    started = number.verification_started_at
    # A pending verification is answered again, except after a wrong code: then the user may
    # ask for a new code (a carrier's code may have expired), which resets the attempts.
    fresh_pending = (
        number.verification_status == "pending"
        and started is not None
        and started > now - expiry
        and not number.verification_attempts
    )
    if code is not None:
        return await _submit_code(rt, session, principal, number, code, now - expiry)
    if fresh_pending:
        return _outcome(number)
    return await _start(rt, session, principal, number, now, expiry)


async def _start(
    rt: Runtime,
    session: AsyncSession,
    principal: Principal,
    number: Number,
    now: datetime,
    expiry: timedelta,
) -> VerifyOutcome:
    before = {k: getattr(number, k) for k in _RESTORABLE}
    claimed = await session.execute(
        update(Number)
        .where(
            Number.id == number.id,
            Number.verified_cli.is_(False),
            or_(
                Number.verification_status.in_(("none", "failed")),
                and_(
                    Number.verification_status == "pending",
                    or_(
                        Number.verification_started_at.is_(None),
                        Number.verification_started_at <= now - expiry,
                        Number.verification_attempts > 0,
                    ),
                ),
            ),
        )
        .values(
            verification_status="pending",
            verification_started_at=now,
            verification_ref=None,
            verification_display_code=None,
            verification_next_step=None,
            verification_detail=None,
            verification_attempts=0,
        )
        .execution_options(synchronize_session=False)
    )
    await session.commit()
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        # Another request started it a moment ago: answer its state, call no carrier.
        await session.refresh(number)
        return _outcome(number)
    await session.refresh(number)
    result = await _call_carrier(rt, session, principal, number, None, restore=before)
    outcome = await _apply_result(session, principal, number, result, code=None, restore=before)
    return await _attested(rt, session, number, outcome)


async def _submit_code(
    rt: Runtime,
    session: AsyncSession,
    principal: Principal,
    number: Number,
    code: str,
    started_after: datetime,
) -> VerifyOutcome:
    """Claim one attempt of a pending, unexpired verification, then ask the carrier."""
    claimed = await session.execute(
        update(Number)
        .where(
            Number.id == number.id,
            Number.verified_cli.is_(False),
            Number.verification_status == "pending",
            Number.verification_started_at > started_after,
            Number.verification_attempts < MAX_CODE_ATTEMPTS,
        )
        .values(verification_attempts=Number.verification_attempts + 1)
        .execution_options(synchronize_session=False)
    )
    await session.commit()
    await session.refresh(number)
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        if number.verified_cli:  # verified a moment ago by another request or a callback
            return _outcome(number)
        if (
            number.verification_status == "failed"
            and (number.verification_attempts or 0) >= MAX_CODE_ATTEMPTS
        ):
            raise NoPendingVerification(
                f"{MAX_CODE_ATTEMPTS} wrong codes: this verification is over; "
                "start a new one without a code",
                attempts_left=0,
            )
        raise NoPendingVerification(
            "there is no pending verification for this number: start one without a code"
        )
    restore = {"verification_attempts": Number.verification_attempts - 1}
    result = await _call_carrier(rt, session, principal, number, code, restore=restore)
    outcome = await _apply_result(session, principal, number, result, code=code, restore=restore)
    return await _attested(rt, session, number, outcome)


async def _attested(
    rt: Runtime, session: AsyncSession, number: Number, outcome: VerifyOutcome
) -> VerifyOutcome:
    """A number that has just become a verified caller ID: ask its carrier's attestation."""
    if outcome.verified_cli:
        await attestation.refresh(rt, session, number)
    return outcome


async def _call_carrier(
    rt: Runtime,
    session: AsyncSession,
    principal: Principal,
    number: Number,
    code: str | None,
    *,
    restore: dict[str, Any],
) -> VerificationResult:
    """Count the request against the user's limit and ask the carrier.

    :param restore: the values that undo this request's claim, written back when the limit
        refuses or the carrier fails.
    """
    ref = as_ref(number)
    # No transaction stays open (and no connection held) while the carrier answers.
    await session.commit()
    try:
        await rt.verify_limiter.hit(str(principal.user_id))
    except RateLimited:
        await _put_back(session, number, restore)
        raise
    try:
        result: VerificationResult = await rt.host.call_provider(
            "verify_cli", number.provider, number=ref, code=code
        )
        return result
    except TrunklineError as exc:
        await _put_back(session, number, restore)
        await _refuse(session, principal, number, exc, _step(code), code=code)


def _step(code: str | None) -> str:
    return "submit_code" if code is not None else "start"


async def _refuse(
    session: AsyncSession,
    principal: Principal,
    number: Number,
    exc: TrunklineError,
    step: str,
    *,
    code: str | None = None,
) -> typing.NoReturn:
    """Audit a refused verification step as a ``verification_error`` with the error's code
    (the submitted ``code`` scrubbed from its detail), and raise ``exc``."""
    audit.subject_event(
        session,
        principal,
        number,
        action="verification_error",
        outcome=exc.code,
        detail={
            "step": step,
            "error": scrub_codes(exc.detail, code),
            **(
                {"provider_code": exc.provider_code}
                if isinstance(exc, ProviderError) and exc.provider_code
                else {}
            ),
        },
    )
    await session.commit()
    raise exc


async def complete(session: AsyncSession, number: Number, provider_ref: str | None) -> bool:
    """Mark ``number`` verified (flushed, not committed) unless another workspace holds it
    hosted or verified; False, and the number unchanged (reloaded), when one does."""
    if await held_elsewhere(session, number.phone_e164, number.workspace_id, purchases=False):
        return False
    try:
        async with session.begin_nested():
            mark_verified(number, provider_ref)
    except IntegrityError:  # a racing workspace won: uq_numbers_claimed
        await session.refresh(number)
        return False
    return True


async def _put_back(session: AsyncSession, number: Number, values: dict[str, Any]) -> None:
    await session.execute(
        update(Number)
        .where(Number.id == number.id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    await session.commit()


def scrub_codes(text: str | None, *codes: str | None) -> str | None:
    """``text`` with every verification code in ``codes`` (as a whole word) redacted."""
    if not text:
        return text
    for code in codes:
        if code:
            text = re.sub(rf"(?<!\w){re.escape(code)}(?!\w)", REDACTED, text)
    return text


async def _apply_result(
    session: AsyncSession,
    principal: Principal,
    number: Number,
    result: VerificationResult,
    *,
    code: str | None,
    restore: dict[str, Any],
) -> VerifyOutcome:
    """Record the carrier's answer to a start (``code`` None) or to a submitted code.

    A verified answer for a number another workspace holds changes nothing: the claim this
    request made is undone (``restore``) and 409 ``number_claimed`` is raised.
    """
    await session.refresh(number)
    detail = scrub_codes(result.detail, code)
    extra: dict[str, Any] = {}
    if result.status == "verified":
        if not await complete(session, number, result.provider_ref):
            await _put_back(session, number, restore)
            await session.refresh(number)
            await _refuse(session, principal, number, NumberClaimed(number.phone_e164), _step(code))
        action = "verification_succeeded"
    elif result.status == "failed" and code is not None:
        # A wrong code: the verification stays open until the last attempt is spent.
        action = "verification_code_rejected"
        if number.verification_status == "pending":
            if (number.verification_attempts or 0) >= MAX_CODE_ATTEMPTS:
                mark_failed(
                    number,
                    f"{MAX_CODE_ATTEMPTS} wrong codes: this verification is over; start a new one",
                )
                action = "verification_failed"
            else:
                number.verification_detail = detail
        extra["attempts_left"] = attempts_left(number)
    elif result.status == "failed":
        mark_failed(number, detail)
        action = "verification_failed"
    else:
        number.verification_status = "pending"
        number.verification_ref = result.provider_ref or number.verification_ref
        number.verification_display_code = result.display_code
        number.verification_next_step = result.next_step
        number.verification_detail = detail
        action = "verification_started" if code is None else "verification_pending"
    audit.subject_event(
        session,
        principal,
        number,
        action=action,
        outcome="rejected" if action == "verification_code_rejected" else result.status,
        detail={
            "provider_ref": result.provider_ref,
            "next_step": result.next_step,
            "detail": scrub_codes(detail, result.display_code),
            **extra,
        },
    )
    await session.commit()
    return _outcome(number)


def mark_verified(number: Number, provider_ref: str | None) -> None:
    number.verified_cli = True
    number.verification_status = "verified"
    number.verified_at = utcnow()
    number.verification_ref = provider_ref or number.verification_ref
    number.verification_display_code = None
    number.verification_next_step = None
    number.verification_detail = None


def mark_failed(number: Number, detail: str | None) -> dict[str, Any]:
    number.verification_status = "failed"
    number.verification_display_code = None
    number.verification_next_step = None
    number.verification_detail = detail or "verification failed"
    return lose_verification(number)
