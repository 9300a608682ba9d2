"""The ledger and the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import Field

from core.audit import AuditFilter
from core.tables import AuditEvent, LedgerEntry

from ..validation import Text
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


class AuditQuery(AuditFilter):
    """The filters of ``GET /settings/telephony/audit``, as its query string states them."""

    action: Annotated[Text | None, Field(max_length=64)] = None
    subject_type: Annotated[Text | None, Field(max_length=32)] = None
    subject_id: Annotated[Text | None, Field(max_length=64)] = None
    outcome: Annotated[Text | None, Field(max_length=32)] = None


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
