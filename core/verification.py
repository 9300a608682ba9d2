"""Caller-ID verification: ``none -> pending -> verified | failed``, one carrier start at a time.

* An already verified number answers verified and calls no carrier; a hosted one needs none.
* While a verification is pending and unexpired, a call without a code answers the stored
  pending state again and calls no carrier (no code is sent twice).
* Starting claims the number with one conditional UPDATE, so of concurrent requests exactly one
  reaches the carrier; the others answer the pending state.
* A carrier failure puts the number back as it was and is audited; the error propagates.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, update
from sqlalchemy.ext.asyncio import AsyncSession

from . import attestation, audit
from .auth import Principal
from .errors import Conflict, ProviderError, TrunklineError
from .models import VerificationResult
from .numbers import as_ref, get_number, lose_verification
from .runtime import Runtime
from .tables import Number, utcnow

_RESTORABLE = (
    "verification_status",
    "verification_ref",
    "verification_started_at",
    "verification_display_code",
    "verification_next_step",
    "verification_detail",
)


class HostedNumber(Conflict):
    code = "hosted_number"
    title = "Hosted numbers need no verification"


class NoPendingVerification(Conflict):
    code = "no_pending_verification"
    title = "No verification to complete"


@dataclass(frozen=True)
class VerifyOutcome:
    """What ``POST .../verify-cli`` answers."""

    number_id: uuid.UUID
    verified_cli: bool
    status: str
    next_step: str
    display_code: str | None
    detail: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": True,
            "number_id": str(self.number_id),
            "verified_cli": self.verified_cli,
            "status": self.status,
            "next_step": self.next_step,
            "display_code": self.display_code,
            "detail": self.detail,
        }


def _outcome(number: Number) -> VerifyOutcome:
    pending = number.verification_status == "pending"
    return VerifyOutcome(
        number_id=number.id,
        verified_cli=number.verified_cli,
        status=number.verification_status,
        next_step=(number.verification_next_step or "none") if pending else "none",
        display_code=number.verification_display_code if pending else None,
        detail=number.verification_detail,
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
    expiry = timedelta(seconds=rt.settings.verification_expiry_seconds)
    now = utcnow()
    started = number.verification_started_at
    fresh_pending = (
        number.verification_status == "pending" and started is not None and started > now - expiry
    )
    if code is not None:
        # A wrong code leaves the verification "failed" but open: another code may follow.
        in_window = number.verification_status in ("pending", "failed") and (
            started is not None and started > now - expiry
        )
        if not in_window:
            raise NoPendingVerification(
                "there is no pending verification for this number: start one without a code"
            )
        return await _submit_code(rt, session, principal, number, code)
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
        )
        .execution_options(synchronize_session=False)
    )
    await session.commit()
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        # Another request started it a moment ago: answer its state, call no carrier.
        await session.refresh(number)
        return _outcome(number)
    await session.refresh(number)
    result = await _call_carrier(rt, session, principal, number, None, before=before)
    outcome = await _apply_result(session, principal, number, result, started=True)
    return await _after(rt, session, principal, number, outcome)


async def _submit_code(
    rt: Runtime, session: AsyncSession, principal: Principal, number: Number, code: str
) -> VerifyOutcome:
    was_verified = number.verified_cli
    result = await _call_carrier(rt, session, principal, number, code, before=None)
    outcome = await _apply_result(session, principal, number, result, started=False)
    return await _after(rt, session, principal, number, outcome, was_verified=was_verified)


async def _after(
    rt: Runtime,
    session: AsyncSession,
    principal: Principal,
    number: Number,
    outcome: VerifyOutcome,
    *,
    was_verified: bool = False,
) -> VerifyOutcome:
    """A number that became (or stopped being) a verified caller ID: ask its attestation."""
    if outcome.verified_cli != was_verified:
        await attestation.refresh(rt, session, number)
    return outcome


async def _call_carrier(
    rt: Runtime,
    session: AsyncSession,
    principal: Principal,
    number: Number,
    code: str | None,
    *,
    before: dict[str, Any] | None,
) -> VerificationResult:
    ref = as_ref(number)
    # No transaction stays open (and no connection held) while the carrier answers.
    await session.commit()
    try:
        result: VerificationResult = await rt.host.call_provider(
            "verify_cli", number.provider, number=ref, code=code
        )
        return result
    except TrunklineError as exc:
        if before is not None:  # put the claimed number back exactly as it was
            await session.execute(
                update(Number)
                .where(Number.id == number.id)
                .values(**before)
                .execution_options(synchronize_session=False)
            )
        audit.record(
            session,
            action="verification_error",
            outcome=exc.code,
            actor=principal.actor,
            workspace_id=principal.workspace_id,
            subject_type="number",
            subject_id=number.id,
            provider=number.provider,
            detail={
                "step": "submit_code" if code is not None else "start",
                "error": exc.detail,
                **(
                    {"provider_code": exc.provider_code}
                    if isinstance(exc, ProviderError) and exc.provider_code
                    else {}
                ),
            },
        )
        await session.commit()
        raise


async def _apply_result(
    session: AsyncSession,
    principal: Principal,
    number: Number,
    result: VerificationResult,
    *,
    started: bool,
) -> VerifyOutcome:
    await session.refresh(number)
    if result.status == "verified":
        mark_verified(number, result.provider_ref)
        action = "verification_succeeded"
    elif result.status == "failed":
        mark_failed(number, result.detail)
        action = "verification_failed"
    else:
        number.verification_status = "pending"
        number.verification_ref = result.provider_ref or number.verification_ref
        number.verification_display_code = result.display_code
        number.verification_next_step = result.next_step
        number.verification_detail = result.detail
        action = "verification_started" if started else "verification_pending"
    audit.record(
        session,
        action=action,
        outcome=result.status,
        actor=principal.actor,
        workspace_id=principal.workspace_id,
        subject_type="number",
        subject_id=number.id,
        provider=number.provider,
        detail={
            "provider_ref": result.provider_ref,
            "next_step": result.next_step,
            "detail": result.detail,
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
