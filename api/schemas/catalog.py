"""Providers, their permissions and calling rules, and plugins."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel

T = TypeVar("T")


class PermissionsOut(BaseModel):
    """A provider's dialing permissions as the core holds them."""

    state: Literal["ok", "stale", "failing", "pending", "unsupported"]
    fetched_at: datetime | None
    failed_at: datetime | None
    error: str | None
    disabled_countries: list[str]


class ProviderOut(BaseModel):
    name: str
    display_name: str
    plugin: str
    version: str | None
    capabilities: list[str]
    configured: bool
    detail: str | None
    permissions: PermissionsOut | None = None


class CallingRuleOut(BaseModel):
    """One rule of the bundled calling-hours pack."""

    rule: str
    title: str
    countries: list[str]
    regions: list[str] | None
    windows: list[dict[str, Any]]
    closed_on_public_holidays: bool
    source: str
    url: str | None = None


class ProviderFailure(BaseModel):
    provider: str
    code: str
    detail: str


class CatalogOut(BaseModel, Generic[T]):
    """Answers gathered from several providers; one's failure sits beside the others' items."""

    items: list[T]
    errors: list[ProviderFailure]


class PluginOut(BaseModel):
    name: str
    module: str
    distribution: str | None
    version: str | None
    bundled: bool
    enabled: bool
    status: Literal["loaded", "failed", "disabled"]
    error: str | None
    hooks: list[str]
    providers: list[str]
