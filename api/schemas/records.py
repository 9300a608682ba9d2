"""The ledger and the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from core.tables import AuditEvent, LedgerEntry


class LedgerOut(BaseModel):
    id: str
    kind: str
    period: str | None
    number_id: str | None
    provider: str
    phone_e164: str
    amount_cents: int
    currency: str | None
    metadata: dict[str, Any]
    created_at: datetime

    @classmethod
    def of(cls, e: LedgerEntry) -> LedgerOut:
        return cls(
            id=str(e.id),
            kind=e.kind,
            period=e.period,
            number_id=str(e.number_id) if e.number_id else None,
            provider=e.provider,
            phone_e164=e.phone_e164,
            amount_cents=e.amount_cents,
            currency=e.currency,
            metadata=e.metadata_,
            created_at=e.created_at,
        )


class AuditOut(BaseModel):
    id: str
    actor: str
    action: str
    subject_type: str
    subject_id: str | None
    provider: str | None
    outcome: str
    detail: dict[str, Any]
    created_at: datetime

    @classmethod
    def of(cls, e: AuditEvent) -> AuditOut:
        return cls(
            id=str(e.id),
            actor=e.actor,
            action=e.action,
            subject_type=e.subject_type,
            subject_id=e.subject_id,
            provider=e.provider,
            outcome=e.outcome,
            detail=e.detail,
            created_at=e.created_at,
        )
