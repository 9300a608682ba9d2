"""Campaigns and the calls placed through them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, field_validator

from core.calls import CallFilter, normalise_status
from core.tables import Call, Campaign

from ..validation import Name
from .common import In, RowOut, iso_date, phone_field


class CampaignCreate(In):
    name: Name = Field(min_length=1, max_length=200)
    from_e164: str | None = phone_field(None)


class CampaignUpdate(In):
    name: str = Field(min_length=1, max_length=200)


class FromNumberIn(In):
    """``e164`` is the new caller ID, or ``null`` to clear it (the key is required)."""

    e164: str | None = phone_field()


class TestCallIn(In):
    """The preflight's ``to``, and its optional ``lookup`` and ``last_verified_date``: the test
    call is decided as ``POST /outbound/check`` would decide the same fields, now."""

    to: str = phone_field()
    #: Look the destination up (``None``: the workspace's ``lookup.enabled``).
    lookup: bool | None = Field(default=None, strict=True)
    #: With a lookup: refuse ``to`` when it was reassigned since this day.
    last_verified_date: date | None = Field(default=None, examples=["2026-01-15"])

    @field_validator("last_verified_date", mode="before")
    @classmethod
    def _iso_date(cls, value: Any) -> Any:
        return iso_date(value)


class CampaignWarning(BaseModel):
    """Something about a campaign that will make its calls fail: ``code`` is a policy reason."""

    code: str
    detail: str


class CampaignOut(RowOut):
    id: str
    workspace_id: str
    name: str
    from_number_id: str | None
    from_e164: str | None
    warnings: list[CampaignWarning]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(
        cls,
        campaign: Campaign,
        from_e164: str | None,
        warnings: list[CampaignWarning] | None = None,
    ) -> CampaignOut:
        return cls.from_row(campaign, from_e164=from_e164, warnings=warnings or [])


CallStatus = Literal["queued", "ringing", "in-progress", "completed", "busy", "failed", "no-answer"]


class CallQuery(CallFilter):
    """The filters of ``GET /calls``, as its query string states them."""

    campaign_id: Annotated[str | None, Field(max_length=64)] = None
    status: CallStatus | None = None


class CallOut(RowOut):
    """A call placed through Trunkline; ``status`` follows the carrier's events."""

    id: str
    campaign_id: str | None
    number_id: str | None
    provider: str
    from_e164: str
    to_e164: str
    provider_call_id: str | None
    status: CallStatus
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, call: Call) -> CallOut:
        return cls.from_row(
            call,
            # rows stored before statuses were normalised may hold a carrier's own word
            status=normalise_status(call.status) or "queued",
        )
