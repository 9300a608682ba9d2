"""Applying carrier events (webhooks, simulated callbacks) to numbers and calls."""

from __future__ import annotations

import uuid

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from . import attestation, audit
from .models import ProviderEvent
from .runtime import Runtime
from .tables import Call, Number
from .verification import mark_failed, mark_verified


async def _numbers_for(session: AsyncSession, event: ProviderEvent) -> list[Number]:
    """Numbers an event is about: by carrier reference first, else by phone among pending ones.

    Locked (``FOR UPDATE``) so that a concurrent binding change waits for this event, or this
    event sees the binding it made: a lost verification always turns outbound off.
    """
    where = [Number.provider == event.provider, Number.state == "active"]
    if event.provider_ref:
        rows = list(
            (
                await session.execute(
                    select(Number)
                    .where(*where, Number.verification_ref == event.provider_ref)
                    .with_for_update()
                    .execution_options(populate_existing=True)
                )
            ).scalars()
        )
        if rows:
            return rows
    if event.phone_e164:
        return list(
            (
                await session.execute(
                    select(Number)
                    .where(
                        *where,
                        Number.phone_e164 == event.phone_e164,
                        or_(Number.verification_status == "pending", Number.verified_cli.is_(True)),
                    )
                    .with_for_update()
                    .execution_options(populate_existing=True)
                )
            ).scalars()
        )
    return []


async def apply_events(
    rt: Runtime, session: AsyncSession, events: list[ProviderEvent], *, actor: str
) -> int:
    """Apply events and audit each; return how many stored objects changed. Commits."""
    changed = 0
    reverified: list[uuid.UUID] = []  # numbers whose caller-ID standing changed
    for event in events:
        if event.kind in ("verification_succeeded", "verification_failed"):
            for number in await _numbers_for(session, event):
                if number.hosted:
                    continue
                if event.kind == "verification_succeeded":
                    if number.verified_cli:
                        continue
                    mark_verified(number, event.provider_ref)
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
                    actor=actor,
                    workspace_id=number.workspace_id,
                    subject_type="number",
                    subject_id=number.id,
                    provider=event.provider,
                    detail={"provider_ref": event.provider_ref, "via": "callback", **extra},
                )
        elif event.kind == "call_status" and event.provider_ref:
            calls = (
                await session.execute(
                    select(Call).where(
                        Call.provider == event.provider, Call.provider_call_id == event.provider_ref
                    )
                )
            ).scalars()
            for call in calls:
                status = str(event.data.get("status") or call.status)
                if status != call.status:
                    call.status = status
                    changed += 1
                    audit.record(
                        session,
                        action="call_status",
                        outcome=status,
                        actor=actor,
                        workspace_id=call.workspace_id,
                        subject_type="call",
                        subject_id=call.id,
                        provider=event.provider,
                        detail={"provider_ref": event.provider_ref},
                    )
    await session.commit()
    await attestation.refresh_ids(rt, session, reverified)
    return changed
