"""A workspace's outbound policy: its model, where it is stored, and its compiled form.

``GET``/``PUT /settings/telephony/outbound-policy`` read and write :class:`OutboundPolicySettings`;
it is stored as JSON text on the workspace row (``workspaces.outbound_policy``; NULL means the
defaults). The preflight reads the :class:`CompiledPolicy`: :func:`compile_policy` is cached
per stored text, so a workspace's policy is parsed once per process, not once per call.

:func:`load_workspace_policy` is the one place that loads a workspace's policy state; anything
that needs it (the preflight, the test call, the console, a snapshot) goes through it or
:func:`compile_policy`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator, model_validator
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from . import audit
from .auth import Principal
from .calling_hours import Rule, bundled_rule_ids, minutes
from .countries import ALIASES, KNOWN
from .errors import InvalidInput
from .models import CLOCK_PATTERN, DAYS, LINE_TYPES, Day, LineType
from .tables import Workspace

#: The rule id of a workspace's own windows.
WORKSPACE_RULE = "workspace"


def normalise_countries(values: list[str]) -> list[str]:
    """Upper-case, de-duplicated, sorted ISO 3166 alpha-2 codes that phonenumbers knows.

    Raises ``ValueError`` naming the first unknown code (pydantic turns it into a 422).
    """
    out = set()
    for value in values:
        code = value.strip().upper() if isinstance(value, str) else ""
        if code not in KNOWN:
            hint = ALIASES.get(code)
            meant = f": did you mean {hint}?" if hint else ""
            raise ValueError(f"{value!r} is not an ISO 3166 alpha-2 country code{meant}")
        out.add(code)
    return sorted(out)


class CallingWindowIn(BaseModel):
    """One of the workspace's own windows, in the callee's local time (end exclusive)."""

    model_config = ConfigDict(extra="forbid")

    days: list[Day] = Field(min_length=1, max_length=7)
    start: str = Field(pattern=CLOCK_PATTERN, examples=["09:00"])
    end: str = Field(pattern=CLOCK_PATTERN, examples=["18:00"])

    @model_validator(mode="after")
    def _ordered(self) -> CallingWindowIn:
        if minutes(self.start) >= minutes(self.end):
            raise ValueError(f"the window must end after it starts ({self.start}-{self.end})")
        self.days = sorted(dict.fromkeys(self.days), key=DAYS.index)  # type: ignore[arg-type]
        return self


class CallingHoursIn(BaseModel):
    """Calling hours: which bundled rules apply, plus the workspace's own windows."""

    model_config = ConfigDict(extra="forbid")

    rules: list[str] = Field(
        default_factory=lambda: list(bundled_rule_ids()),
        max_length=32,
        examples=[["us_federal", "us_states", "fr"]],
    )
    windows: list[CallingWindowIn] = Field(default_factory=list, max_length=32)

    @field_validator("rules")
    @classmethod
    def _known_rules(cls, value: list[str]) -> list[str]:
        known = bundled_rule_ids()
        for rule in value:
            if rule not in known:
                raise ValueError(f"unknown rule {rule!r} (known: {', '.join(known)})")
        return list(dict.fromkeys(value))


#: The minimum SHAKEN/STIR attestation a workspace may ask of its caller IDs (``C`` refuses
#: only the numbers whose attestation is ``unknown`` or was never asked).
MinAttestation = Literal["A", "B", "C"]
#: The destinations the minimum attestation applies to: SHAKEN/STIR is signed in these.
ATTESTATION_COUNTRIES = frozenset({"US", "CA"})


class LookupPolicyIn(BaseModel):
    """Destination lookups (they cost money, so off by default).

    ``enabled``: every preflight with a ``to`` (and every test call) looks the destination up,
    unless the preflight says ``lookup: false``. ``deny_line_types``: a looked-up line type
    among these is ``line_type_not_allowed``. ``check_reassigned``: a preflight that gives
    ``last_verified_date`` also asks whether the destination was reassigned since (a
    preflight's own ``lookup: true`` always asks it when it gives the date).
    """

    model_config = ConfigDict(extra="forbid")

    enabled: StrictBool = False
    deny_line_types: list[LineType] = Field(
        default_factory=list, max_length=len(LINE_TYPES), examples=[["premium", "pager"]]
    )
    check_reassigned: StrictBool = False

    @field_validator("deny_line_types")
    @classmethod
    def _ordered(cls, value: list[str]) -> list[str]:
        return sorted(set(value), key=LINE_TYPES.index)


class OutboundPolicySettings(BaseModel):
    """The workspace's outbound policy, as ``GET``/``PUT /settings/telephony/outbound-policy``
    exchange it. Fields may grow; every field has a default that restricts nothing."""

    model_config = ConfigDict(extra="forbid")

    allowed_countries: list[str] = Field(default_factory=list, max_length=300)
    calling_hours: CallingHoursIn | None = None
    #: The least trusted attestation a caller ID may have to call US and CA destinations
    #: (``None``: any).
    min_attestation: MinAttestation | None = None
    lookup: LookupPolicyIn = Field(default_factory=LookupPolicyIn)

    @field_validator("allowed_countries")
    @classmethod
    def _countries(cls, value: list[str]) -> list[str]:
        return normalise_countries(value)


@dataclass(frozen=True, slots=True, eq=False)
class CompiledHours:
    """Calling hours as the policy reads them (identity-hashed: one object per stored text)."""

    rules: frozenset[str]
    own: Rule | None


@dataclass(frozen=True, slots=True, eq=False)
class CompiledPolicy:
    """The workspace policy as the preflight reads it."""

    settings: OutboundPolicySettings
    allowed_countries: frozenset[str]
    calling_hours: CompiledHours | None
    min_attestation: str | None = None
    #: Destination lookups: whether a preflight looks up when it does not say, the refused
    #: line types, and whether a ``last_verified_date`` asks the reassigned question.
    lookup_enabled: bool = False
    deny_line_types: frozenset[str] = frozenset()
    check_reassigned: bool = False


def compile_settings(settings: OutboundPolicySettings) -> CompiledPolicy:
    hours = None
    if settings.calling_hours is not None:
        windows = settings.calling_hours.windows
        own = None
        if windows:
            own = Rule(
                id=WORKSPACE_RULE,
                windows=tuple(
                    (frozenset(DAYS.index(d) for d in w.days), minutes(w.start), minutes(w.end))
                    for w in windows
                ),
                source="the workspace's own calling windows",
            )
        hours = CompiledHours(rules=frozenset(settings.calling_hours.rules), own=own)
    return CompiledPolicy(
        settings=settings,
        allowed_countries=frozenset(settings.allowed_countries),
        calling_hours=hours,
        min_attestation=settings.min_attestation,
        lookup_enabled=settings.lookup.enabled,
        deny_line_types=frozenset(settings.lookup.deny_line_types),
        check_reassigned=settings.lookup.check_reassigned,
    )


DEFAULT_POLICY = compile_settings(OutboundPolicySettings())


@lru_cache(maxsize=4096)
def compile_policy(text: str | None) -> CompiledPolicy:
    """The compiled policy of a stored text (``None``: the defaults). Cached per text."""
    if not text:
        return DEFAULT_POLICY
    return compile_settings(OutboundPolicySettings.model_validate_json(text))


async def load_workspace_policy(
    conn: AsyncSession | AsyncConnection, workspace_id: uuid.UUID
) -> CompiledPolicy:
    """The workspace's compiled outbound policy (the defaults when it never set one)."""
    text = (
        await conn.execute(select(Workspace.outbound_policy).where(Workspace.id == workspace_id))
    ).scalar_one_or_none()
    return compile_policy(text)


async def save_workspace_policy(
    session: AsyncSession, principal: Principal, settings: OutboundPolicySettings
) -> CompiledPolicy:
    """Replace the workspace's outbound policy and audit the change (before and after)."""
    workspace = await session.get(Workspace, principal.workspace_id, with_for_update=True)
    if workspace is None:  # the key's workspace was deleted meanwhile
        raise InvalidInput("workspace not found")
    before = compile_policy(workspace.outbound_policy).settings
    text = settings.model_dump_json()
    workspace.outbound_policy = text
    audit.by_principal(
        session,
        principal,
        action="outbound_policy_changed",
        outcome="ok",
        subject_type="workspace",
        subject_id=principal.workspace_id,
        detail={"before": _plain(before), "after": _plain(settings)},
    )
    await session.commit()
    return compile_policy(text)


def _plain(settings: OutboundPolicySettings) -> dict[str, Any]:
    return settings.model_dump(mode="json")
