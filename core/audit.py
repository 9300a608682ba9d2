"""The append-only audit trail: one row per thing done or attempted.

:data:`ACTIONS` is the vocabulary: every ``action`` Trunkline records, what it means and the
``outcome`` values it takes. docs/api.md lists the same (a test holds them together).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from .queries import Filters, Page, page_of
from .tables import AuditEvent, Campaign, Number

if TYPE_CHECKING:
    from .auth import Principal

#: Stands for "the problem ``code`` of the refusal or failure" among the outcomes below.
PROBLEM_CODE = "<problem code>"

#: Every action: (subject type, what it records, its outcomes).
ACTIONS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "number_added": ("number", "a bring-your-own number added", ("ok",)),
    "number_deleted": ("number", "a number removed from the workspace", ("ok",)),
    "binding_changed": (
        "number",
        "inbound/outbound binding or agents changed (or refused)",
        ("ok", "refused"),
    ),
    "verification_started": (
        "number",
        "a caller-ID verification started at the carrier",
        ("pending", "verified", "failed"),
    ),
    "verification_pending": (
        "number",
        "a verification asked again while one is open",
        ("pending", "verified", "failed"),
    ),
    "verification_succeeded": ("number", "the caller ID is verified", ("verified",)),
    "verification_code_rejected": (
        "number",
        "a wrong code submitted while attempts are left (``detail.attempts_left``)",
        ("rejected",),
    ),
    "verification_failed": ("number", "a verification failed (wrong code, refused)", ("failed",)),
    "verification_error": ("number", "the carrier failed during a verification", (PROBLEM_CODE,)),
    "number_purchased": (
        "number",
        "a number bought (or the carrier refused)",
        ("ok", PROBLEM_CODE),
    ),
    "number_purchase_abandoned": (
        "number",
        "a stale purchase claim taken over by a new purchase",
        ("expired",),
    ),
    "number_released": (
        "number",
        "a hosted number released at its carrier (kept as ``released``), or the carrier's refusal",
        ("ok", PROBLEM_CODE),
    ),
    "rental_accrued": ("number", "a monthly rental written to the ledger", ("ok",)),
    "campaign_created": ("campaign", "a campaign created", ("ok",)),
    "campaign_updated": ("campaign", "a campaign renamed", ("ok",)),
    "campaign_deleted": ("campaign", "a campaign deleted", ("ok",)),
    "caller_id_changed": (
        "campaign",
        "a campaign's caller ID set, changed or cleared (or refused)",
        ("ok", PROBLEM_CODE),
    ),
    "test_call": (
        "campaign or call",
        "a test call placed (subject: the call) or refused (subject: the campaign)",
        ("placed", "refused", PROBLEM_CODE),
    ),
    "call_status": (
        "call",
        "the carrier reported a call's new status",
        ("ringing", "in-progress", "completed", "busy", "failed", "no-answer"),
    ),
    "webhook_received": ("webhook", "a signed carrier callback (no workspace)", ("accepted",)),
    "api_key_created": ("api_key", "an API key made (through the API or the CLI)", ("ok",)),
    "api_key_revoked": ("api_key", "an API key revoked", ("ok",)),
    "outbound_policy_changed": (
        "workspace",
        "the workspace's outbound policy replaced (`detail.before`, `detail.after`)",
        ("ok",),
    ),
}


def record(
    session: AsyncSession,
    *,
    action: str,
    outcome: str,
    actor: str,
    workspace_id: uuid.UUID | None,
    subject_type: str,
    subject_id: Any = None,
    provider: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit event to ``session`` (the caller commits it with its own change)."""
    event = AuditEvent(
        workspace_id=workspace_id,
        actor=actor,
        action=action,
        subject_type=subject_type,
        subject_id=None if subject_id is None else str(subject_id),
        provider=provider,
        outcome=outcome,
        detail=detail or {},
    )
    session.add(event)
    return event


def by_principal(
    session: AsyncSession,
    principal: Principal,
    *,
    action: str,
    outcome: str,
    subject_type: str,
    subject_id: Any = None,
    provider: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """:func:`record` an action of a workspace member: the actor and workspace are the
    principal's."""
    return record(
        session,
        action=action,
        outcome=outcome,
        actor=principal.actor,
        workspace_id=principal.workspace_id,
        subject_type=subject_type,
        subject_id=subject_id,
        provider=provider,
        detail=detail,
    )


def subject_event(
    session: AsyncSession,
    principal: Principal,
    subject: Number | Campaign,
    *,
    action: str,
    outcome: str,
    provider: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """:func:`by_principal` about a number or a campaign: its id is the subject; a number's
    carrier is the provider, a campaign names one only when given."""
    if isinstance(subject, Number):
        subject_type, provider = "number", subject.provider
    else:
        subject_type = "campaign"
    return by_principal(
        session,
        principal,
        action=action,
        outcome=outcome,
        subject_type=subject_type,
        subject_id=subject.id,
        provider=provider,
        detail=detail,
    )


async def delete_subject(
    session: AsyncSession,
    principal: Principal,
    subject: Number | Campaign,
    *,
    action: str,
    detail: dict[str, Any],
) -> None:
    """Delete a number or a campaign and record it (:func:`subject_event`, ``ok``), one commit."""
    subject_event(session, principal, subject, action=action, outcome="ok", detail=detail)
    await session.delete(subject)
    await session.commit()


class AuditFilter(Filters):
    """Which of a workspace's audit events a list holds: those equal to each value given (an
    empty value, like ``None``, matches any)."""

    action: str | None = None
    subject_type: str | None = None
    subject_id: str | None = None
    outcome: str | None = None


async def list_events(
    session: AsyncSession, workspace_id: uuid.UUID, filters: AuditFilter, page: Page
) -> tuple[list[AuditEvent], int]:
    """A page of the workspace's audit events that match ``filters``, newest first, and the
    total matching."""
    where = [AuditEvent.workspace_id == workspace_id]
    if filters.action:
        where.append(AuditEvent.action == filters.action)
    if filters.subject_type:
        where.append(AuditEvent.subject_type == filters.subject_type)
    if filters.subject_id:
        where.append(AuditEvent.subject_id == filters.subject_id)
    if filters.outcome:
        where.append(AuditEvent.outcome == filters.outcome)
    order = (AuditEvent.created_at.desc(), AuditEvent.id)
    return await page_of(session, AuditEvent, where, order, page)
