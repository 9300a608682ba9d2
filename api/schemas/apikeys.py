"""API keys."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field, field_validator

from core.tables import ApiKey

from .common import In, RowOut


class ApiKeyCreate(In):
    name: str | None = Field(
        default=None,
        max_length=100,
        pattern=r"^[^\x00-\x1f\x7f]*$",
        description="A label to tell keys apart (trimmed; no control characters).",
        examples=["dialer"],
    )

    @field_validator("name")
    @classmethod
    def _trimmed(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        if not value:
            raise ValueError("must not be blank")
        return value


class ApiKeyOut(RowOut):
    id: str
    name: str | None
    prefix: str = Field(description="The key's first characters, to recognise it.")
    user_id: str
    created_at: datetime
    revoked_at: datetime | None
    active: bool

    @classmethod
    def of(cls, key: ApiKey) -> ApiKeyOut:
        return cls.from_row(key, active=key.revoked_at is None)


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The API key itself: shown in this answer only, never again.")
