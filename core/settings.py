"""Host configuration from the environment (pydantic-settings) and ``plugins.toml``."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .errors import ConfigurationError

#: Each worker's database pool, unless configured.
DEFAULT_POOL_SIZE = 10
DEFAULT_MAX_OVERFLOW = 20

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./trunkline.db"


class Settings(BaseSettings):
    """Environment variables of the host. A bad value stops start-up naming the variable."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    outbound_verified_enabled: bool = Field(
        default=True, validation_alias="TELEPHONY_OUTBOUND_VERIFIED_ENABLED"
    )
    demo_mode: bool = Field(default=False, validation_alias="DEMO_MODE")
    database_url: str = Field(
        default=DEFAULT_DATABASE_URL, validation_alias="TRUNKLINE_DATABASE_URL"
    )
    db_pool_size: int = Field(
        default=DEFAULT_POOL_SIZE, ge=1, le=1000, validation_alias="TRUNKLINE_DB_POOL_SIZE"
    )
    db_max_overflow: int = Field(
        default=DEFAULT_MAX_OVERFLOW, ge=0, le=1000, validation_alias="TRUNKLINE_DB_MAX_OVERFLOW"
    )
    redis_url: str | None = Field(default=None, validation_alias="TRUNKLINE_REDIS_URL")
    plugins_toml: Path = Field(
        default=Path("plugins.toml"), validation_alias="TRUNKLINE_PLUGINS_TOML"
    )
    load_plugins: str | None = Field(default=None, validation_alias="TRUNKLINE_LOAD_PLUGINS")
    public_base_url: str = Field(
        default="http://127.0.0.1:8000", validation_alias="TRUNKLINE_PUBLIC_BASE_URL"
    )
    trace_hooks: bool = Field(default=False, validation_alias="TRUNKLINE_TRACE_HOOKS")
    verification_expiry_seconds: int = Field(
        default=600, ge=1, validation_alias="TRUNKLINE_VERIFICATION_EXPIRY_SECONDS"
    )
    purchase_claim_expiry_seconds: int = Field(
        default=900, ge=60, validation_alias="TRUNKLINE_PURCHASE_CLAIM_EXPIRY_SECONDS"
    )
    verify_cli_rate: str = Field(default="5/minute", validation_alias="TRUNKLINE_VERIFY_CLI_RATE")
    #: How long a destination lookup's answer is reused before the carrier is asked again.
    lookup_cache_days: float = Field(
        default=30, ge=0, le=3650, validation_alias="TRUNKLINE_LOOKUP_CACHE_DAYS"
    )
    #: Destination lookups of one batch preflight in flight at once.
    lookup_concurrency: int = Field(
        default=8, ge=1, le=100, validation_alias="TRUNKLINE_LOOKUP_CONCURRENCY"
    )
    log_json: bool = Field(default=True, validation_alias="TRUNKLINE_LOG_JSON")
    snapshot_ttl_seconds: float = Field(
        default=2.0, ge=0, le=3600, validation_alias="TRUNKLINE_SNAPSHOT_TTL_SECONDS"
    )
    snapshot_max_numbers: int = Field(
        default=200_000, ge=0, validation_alias="TRUNKLINE_SNAPSHOT_MAX_NUMBERS"
    )
    permissions_refresh_seconds: float = Field(
        default=3600.0, ge=0, validation_alias="TRUNKLINE_PERMISSIONS_REFRESH_SECONDS"
    )

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if value.startswith("sqlite:///"):
            return "sqlite+aiosqlite:///" + value.removeprefix("sqlite:///")
        if value.startswith(("postgresql://", "postgres://")):
            return "postgresql+psycopg://" + value.split("://", 1)[1]
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+psycopg://")):
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a redis:// URL")
        return value

    @field_validator("public_base_url")
    @classmethod
    def _public_base_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

    @property
    def enabled_override(self) -> list[str] | None:
        """``TRUNKLINE_LOAD_PLUGINS`` as a list (``[]`` for the empty string), or None if unset."""
        if self.load_plugins is None:
            return None
        return [p.strip() for p in self.load_plugins.split(",") if p.strip()]


def load_settings(**overrides: Any) -> Settings:
    """Read the environment; a bad value raises ``ConfigurationError`` naming the variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            name = ".".join(str(p) for p in err["loc"]) or "?"
            problems.append(f"{name}: {err['msg']}")
        raise ConfigurationError("invalid environment: " + "; ".join(problems)) from None


@dataclass
class PluginsFile:
    """``plugins.toml``: which plugins are enabled, strictness, each plugin's settings table."""

    enabled: list[str]
    strict: bool = True
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    path: Path | None = None


def read_plugins_file(path: Path) -> PluginsFile:
    """Parse ``plugins.toml``. A missing file enables nothing; a malformed one names the file."""
    if not path.exists():
        return PluginsFile(enabled=[], path=None)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{path}: not valid TOML: {exc}") from None
    head = data.get("trunkline", {})
    enabled = head.get("plugins", [])
    if not isinstance(enabled, list) or not all(isinstance(p, str) for p in enabled):
        raise ConfigurationError(f"{path}: [trunkline] plugins must be a list of names")
    strict = head.get("strict", True)
    if not isinstance(strict, bool):
        raise ConfigurationError(f"{path}: [trunkline] strict must be true or false")
    tables = data.get("plugins", {})
    if not isinstance(tables, dict):
        raise ConfigurationError(f"{path}: [plugins] must be a table of plugin tables")
    return PluginsFile(enabled=list(enabled), strict=strict, tables=tables, path=path)
