"""SQLAlchemy 2.0 typed tables. Alembic migrations in ``core/migrations`` create them.

Ledger and audit rows are append-only: nothing in Trunkline updates or deletes them.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> uuid.UUID:
    return uuid.uuid4()


#: A row's id: a random UUID.
RowId = Annotated[uuid.UUID, mapped_column(Uuid, primary_key=True, default=new_id)]
#: The workspace a row belongs to (deleted with it), indexed.
WorkspaceId = Annotated[
    uuid.UUID, mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
]
#: When the row was written.
CreatedAt = Annotated[datetime, mapped_column(default=utcnow)]


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every database (SQLite stores none)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON}


class Workspace(Base):
    __tablename__ = "workspaces"

    id: Mapped[RowId]
    name: Mapped[str] = mapped_column(String(200))
    #: The workspace's outbound policy as JSON text (``core.outbound_policy``); NULL: defaults.
    outbound_policy: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[CreatedAt]


class User(Base):
    __tablename__ = "users"

    id: Mapped[RowId]
    workspace_id: Mapped[WorkspaceId]
    email: Mapped[str | None] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20), default="admin")
    created_at: Mapped[CreatedAt]


class ApiKey(Base):
    """An API key, stored as the SHA-256 of the key; the key itself is shown once."""

    __tablename__ = "api_keys"

    id: Mapped[RowId]
    workspace_id: Mapped[WorkspaceId]
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    prefix: Mapped[str] = mapped_column(String(16))
    #: A label the workspace gives the key ("dialer", "staging"); optional.
    name: Mapped[str | None] = mapped_column(String(100), default=None)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[CreatedAt]
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


#: A row that is not ``released`` holds its phone number in its workspace (once per workspace).
NOT_RELEASED = text("state <> 'released'")
#: A row that claims its phone number for the whole deployment: being bought, or active and
#: hosted or a verified caller ID. ``uq_numbers_claimed`` lets one such row exist per number.
CLAIMED = text("state = 'purchasing' OR (state = 'active' AND (hosted OR verified_cli))")


class Number(Base):
    """A workspace's phone number.

    ``state``: ``purchasing`` while a purchase holds the row as a claim, ``active``, or
    ``released`` (given back to the carrier; kept for the ledger and the audit trail).
    """

    __tablename__ = "numbers"
    __table_args__ = (
        Index(
            "uq_numbers_workspace_phone",
            "workspace_id",
            "phone_e164",
            unique=True,
            sqlite_where=NOT_RELEASED,
            postgresql_where=NOT_RELEASED,
        ),
        Index(
            "uq_numbers_claimed",
            "phone_e164",
            unique=True,
            sqlite_where=CLAIMED,
            postgresql_where=CLAIMED,
        ),
        Index("ix_numbers_phone_e164", "phone_e164"),
    )

    id: Mapped[RowId]
    workspace_id: Mapped[WorkspaceId]
    provider: Mapped[str] = mapped_column(String(32))
    phone_e164: Mapped[str] = mapped_column(String(20))
    country_code: Mapped[str] = mapped_column(String(2))
    number_type: Mapped[str | None] = mapped_column(String(16), default=None)
    hosted: Mapped[bool] = mapped_column(Boolean, default=False)
    verified_cli: Mapped[bool] = mapped_column(Boolean, default=False)
    verification_status: Mapped[str] = mapped_column(String(16), default="none")
    verification_ref: Mapped[str | None] = mapped_column(String(128), default=None)
    verification_started_at: Mapped[datetime | None] = mapped_column(default=None)
    verification_detail: Mapped[str | None] = mapped_column(Text, default=None)
    verification_display_code: Mapped[str | None] = mapped_column(String(16), default=None)
    verification_next_step: Mapped[str | None] = mapped_column(String(40), default=None)
    #: Wrong codes submitted to the verification under way (a start resets it).
    verification_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    verified_at: Mapped[datetime | None] = mapped_column(default=None)
    outbound_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    inbound_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    inbound_agent_id: Mapped[str | None] = mapped_column(String(200), default=None)
    outbound_agent_id: Mapped[str | None] = mapped_column(String(200), default=None)
    capabilities: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: ISO countries this number may call; empty: every country (the workspace's list applies).
    allowed_countries: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    provider_ref: Mapped[str | None] = mapped_column(String(128), default=None)
    #: The SHAKEN/STIR attestation the carrier is expected to sign calls from this number with
    #: (``A``, ``B``, ``C``, ``unknown``; ``None``: not asked yet), why, and when it was asked.
    attestation_level: Mapped[str | None] = mapped_column(String(8), default=None)
    attestation_basis: Mapped[str | None] = mapped_column(Text, default=None)
    attestation_checked_at: Mapped[datetime | None] = mapped_column(default=None)
    #: ``active``, ``purchasing`` while a purchase holds the row as a claim, or ``released``
    #: (a hosted number released at its carrier, kept for the ledger and the audit).
    state: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Campaign(Base):
    __tablename__ = "campaigns"

    id: Mapped[RowId]
    workspace_id: Mapped[WorkspaceId]
    name: Mapped[str] = mapped_column(String(200))
    from_number_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("numbers.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class LedgerEntry(Base):
    """Append-only. Purchases and rentals carry ``amount_cents = 0`` (zero markup) with the
    carrier's own cost in ``metadata``; a rental is unique per number and period."""

    __tablename__ = "ledger_entries"
    __table_args__ = (UniqueConstraint("kind", "number_id", "period", name="rental_once"),)

    id: Mapped[RowId]
    workspace_id: Mapped[WorkspaceId]
    number_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    kind: Mapped[str] = mapped_column(String(20))  # purchase | rental
    period: Mapped[str | None] = mapped_column(String(7), default=None)  # YYYY-MM for rentals
    provider: Mapped[str] = mapped_column(String(32))
    phone_e164: Mapped[str] = mapped_column(String(20))
    amount_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str | None] = mapped_column(String(3), default=None)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSON, default=dict)
    created_at: Mapped[CreatedAt]

    @classmethod
    def at_cost(
        cls,
        kind: str,
        metadata: dict[str, Any],
        *,
        currency: str | None = None,
        period: str | None = None,
        **row: Any,
    ) -> LedgerEntry:
        """A carrier charge passed through at cost: ``amount_cents = 0``, ``pass_through`` and
        ``markup_cents = 0`` in ``metadata`` ahead of the carrier's own figures; ``row`` names
        the workspace, the number (if any), the provider and the phone."""
        return cls(
            kind=kind,
            period=period,
            amount_cents=0,
            currency=currency,
            metadata_={"pass_through": True, "markup_cents": 0, **metadata},
            **row,
        )

    @classmethod
    def for_number(
        cls, kind: str, number: Number, metadata: dict[str, Any], **fields: Any
    ) -> LedgerEntry:
        """:meth:`at_cost` about one of the workspace's numbers (its carrier and phone)."""
        return cls.at_cost(
            kind,
            metadata,
            workspace_id=number.workspace_id,
            number_id=number.id,
            provider=number.provider,
            phone_e164=number.phone_e164,
            **fields,
        )


class AuditEvent(Base):
    """Append-only record of everything that changed or was attempted."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_workspace_created", "workspace_id", "created_at"),)

    id: Mapped[RowId]
    workspace_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=False, default=None)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str | None] = mapped_column(String(64), default=None)
    provider: Mapped[str | None] = mapped_column(String(32), default=None)
    outcome: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[CreatedAt]


class Call(Base):
    __tablename__ = "calls"

    id: Mapped[RowId]
    workspace_id: Mapped[WorkspaceId]
    campaign_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="SET NULL"), default=None
    )
    number_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("numbers.id", ondelete="SET NULL"), default=None
    )
    provider: Mapped[str] = mapped_column(String(32))
    from_e164: Mapped[str] = mapped_column(String(20))
    to_e164: Mapped[str] = mapped_column(String(20))
    provider_call_id: Mapped[str | None] = mapped_column(String(128), index=True, default=None)
    status: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class DestinationLookup(Base):
    """A carrier's cached answer about a destination, per workspace: a cache, not a record.

    ``field`` is ``line_type`` (``asked_with`` empty) or ``reassigned`` (``asked_with`` the
    ``last_verified_date`` it was asked with, ``YYYY-MM-DD``): a reassigned answer is reused only
    for the date it answered. A row past ``expires_at`` is asked again and replaced.
    """

    __tablename__ = "destination_lookups"
    __table_args__ = (UniqueConstraint("workspace_id", "phone_e164", "field", "asked_with"),)

    id: Mapped[RowId]
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    phone_e164: Mapped[str] = mapped_column(String(20))
    field: Mapped[str] = mapped_column(String(16))
    asked_with: Mapped[str] = mapped_column(String(10), default="")
    provider: Mapped[str] = mapped_column(String(32))
    answer: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    looked_up_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()


class EarlyCallStatus(Base):
    """A carrier's call status that arrived before its call was stored: a callback can overtake
    the carrier's answer that names the call. A queue, not a record: each row is applied to its
    call (and deleted) once the call is stored; rows nobody claims are dropped after an hour."""

    __tablename__ = "early_call_statuses"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    provider: Mapped[str] = mapped_column(String(32))
    provider_call_id: Mapped[str] = mapped_column(String(128), index=True)
    status: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(64))
    via: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
