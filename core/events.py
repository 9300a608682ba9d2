"""Applying carrier events (webhooks, simulated callbacks) to numbers and calls."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from . import attestation, audit
from .calls import advances, normalise_status
from .models import ProviderEvent
from .ownership import NumberClaimed
from .runtime import Runtime
from .tables import Call, EarlyCallStatus, Number, utcnow
from .verification import complete, mark_failed

log = logging.getLogger("trunkline.events")
#: How long a call status waits for its call to be stored before it is dropped.
EARLY_KEPT_FOR = timedelta(hours=1)


async def _numbers_for(session: AsyncSession, event: ProviderEvent) -> list[Number]:
    """The numbers a verification event may change.

    1. By the carrier's reference: the numbers whose own verification carries that reference
       (a ``verification_failed`` so matched may fail a verified number: the carrier revoked it).
    2. Only when no number carries the reference, by phone number, and then only a *pending*
       verification (never a verified or hosted number) whose own reference does not name
       another verification, and only when exactly one workspace has such a number: an event
       that names a phone number alone cannot say which of several workspaces it is about.

    Locked (``FOR UPDATE``) so that a concurrent binding change waits for this event, or this
    event sees the binding it made: a lost verification always turns outbound off.
    """
    where = [Number.provider == event.provider, Number.state == "active"]
    if event.provider_ref:
        rows = await _locked(session, *where, Number.verification_ref == event.provider_ref)
        if rows:
            return rows
    if not event.phone_e164:
        return []
    pending = [
        *where,
        Number.phone_e164 == event.phone_e164,
        Number.verification_status == "pending",
        Number.verified_cli.is_(False),
        Number.hosted.is_(False),
    ]
    if event.provider_ref:  # a pending number with another reference waits for its own event
        pending.append(Number.verification_ref.is_(None))
    rows = await _locked(session, *pending)
    if len(rows) > 1:
        log.warning(
            "%s event for %s names no known reference and matches pending verifications in "
            "%d workspaces: ignored",
            event.kind,
            event.phone_e164,
            len(rows),
        )
        return []
    return rows


async def _locked(session: AsyncSession, *where: Any) -> list[Number]:
    return list(
        (
            await session.execute(
                select(Number)
                .where(*where)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        ).scalars()
    )


async def apply_events(
    rt: Runtime,
    session: AsyncSession,
    events: list[ProviderEvent],
    *,
    actor: str | None = None,
    via: str = "callback",
) -> int:
    """Apply events and audit each; return how many stored objects changed. Commits.

    Each audit row's ``actor`` is ``carrier:<the event's provider>`` unless ``actor`` is given,
    and its ``detail.via`` says how the event came: ``callback`` (a webhook) or ``plugin``
    (reported in process through ``PluginContext.submit_events``, as the sandbox does).
    """
    changed = 0
    reverified: list[uuid.UUID] = []  # numbers whose caller-ID standing changed
    early: set[tuple[str, str]] = set()  # call statuses kept for calls not stored yet
    via_detail = {"via": via}
    for event in events:
        if event.kind in ("verification_succeeded", "verification_failed"):
            for number in await _numbers_for(session, event):
                if number.hosted:
                    continue
                if event.kind == "verification_succeeded":
                    if number.verified_cli:
                        continue
                    if not await complete(session, number, event.provider_ref):
                        # One number, one owner: another workspace holds it; nothing changes.
                        audit.record(
                            session,
                            action="verification_error",
                            outcome=NumberClaimed.code,
                            actor=actor or f"carrier:{event.provider}",
                            workspace_id=number.workspace_id,
                            subject_type="number",
                            subject_id=number.id,
                            provider=event.provider,
                            detail={"provider_ref": event.provider_ref, **via_detail},
                        )
                        continue
                    extra: dict[str, object] = {}
                else:
                    extra = mark_failed(number, str(event.data.get("detail") or "") or None)
                if event.kind == "verification_succeeded" or extra.get("verified_cli") is False:
                    reverified.append(number.id)
                changed += 1
                audit.record(
                    session,
                    action=event.kind,
                    outcome="verified" if event.kind == "verification_succeeded" else "failed",
                    actor=actor or f"carrier:{event.provider}",
                    workspace_id=number.workspace_id,
                    subject_type="number",
                    subject_id=number.id,
                    provider=event.provider,
                    detail={"provider_ref": event.provider_ref, **via_detail, **extra},
                )
        elif event.kind == "call_status" and event.provider_ref:
            status = normalise_status(event.data.get("status"))
            if status is None:
                log.warning(
                    "%s: call status %r is not one Trunkline knows: ignored",
                    event.provider,
                    event.data.get("status"),
                )
                continue
            who = actor or f"carrier:{event.provider}"
            found = await _apply_call_status(
                session, event.provider, event.provider_ref, status, who, via
            )
            if found is None:  # the call is not stored yet: keep the status for it
                session.add(
                    EarlyCallStatus(
                        provider=event.provider,
                        provider_call_id=event.provider_ref,
                        status=status,
                        actor=who,
                        via=via,
                    )
                )
                early.add((event.provider, event.provider_ref))
            else:
                changed += found
    if early:
        await session.execute(
            delete(EarlyCallStatus).where(EarlyCallStatus.received_at < utcnow() - EARLY_KEPT_FOR)
        )
    await session.commit()
    for provider, ref in sorted(early):  # the call may have been stored meanwhile
        changed += await settle_early_statuses(session, provider, ref)
    await attestation.refresh_ids(rt, session, reverified)
    return changed


async def _apply_call_status(
    session: AsyncSession, provider: str, ref: str, status: str, actor: str, via: str
) -> int | None:
    """Move the calls the carrier knows as ``ref`` to ``status`` (forward only), auditing each
    change; how many changed, or None when no call has that id (yet)."""
    calls = list(
        (
            await session.execute(
                select(Call)
                .where(Call.provider == provider, Call.provider_call_id == ref)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        ).scalars()
    )
    if not calls:
        return None
    changed = 0
    for call in calls:
        if not advances(call.status, status):
            continue
        before, call.status = call.status, status
        changed += 1
        audit.record(
            session,
            action="call_status",
            outcome=status,
            actor=actor,
            workspace_id=call.workspace_id,
            subject_type="call",
            subject_id=call.id,
            provider=provider,
            detail={"provider_ref": ref, "before": before, "via": via},
        )
    return changed


async def settle_early_statuses(session: AsyncSession, provider: str, ref: str) -> int:
    """Apply the statuses that arrived for ``ref`` before its call was stored; commits.

    Called by both sides after each has committed its own write (the event's early row, the
    placed call): whichever runs second sees the other's, and a row is claimed by deleting
    it, so each status is applied once even when both sides run it.
    """
    rows = list(
        (
            await session.execute(
                select(EarlyCallStatus)
                .where(
                    EarlyCallStatus.provider == provider, EarlyCallStatus.provider_call_id == ref
                )
                .order_by(EarlyCallStatus.received_at)
            )
        ).scalars()
    )
    stored = None  # asked only when a status waits
    if rows:
        stored = await session.scalar(
            select(Call.id).where(Call.provider == provider, Call.provider_call_id == ref).limit(1)
        )
    if stored is None:
        await session.commit()  # ends the read (a commit keeps the session's objects loaded)
        return 0
    changed = 0
    for row in rows:
        claimed = await session.execute(
            delete(EarlyCallStatus)
            .where(EarlyCallStatus.id == row.id)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            continue  # the other side applied it
        changed += (
            await _apply_call_status(session, provider, ref, row.status, row.actor, row.via) or 0
        )
    await session.commit()
    return changed
