"""The append-only audit trail: one row per thing done or attempted."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from .tables import AuditEvent


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
