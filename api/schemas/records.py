"""The ledger and the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.tables import AuditEvent, LedgerEntry

from .common import RowOut


class LedgerOut(RowOut):
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
        return cls.from_row(e, metadata=e.metadata_)


class AuditOut(RowOut):
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
        return cls.from_row(e)
