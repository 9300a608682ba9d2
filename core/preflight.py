"""The one gate before a call: the outbound policy, then the destination lookup it asks for.

``POST /outbound/check`` (and each item of its batch) and the campaign test call both decide
through :func:`decide`, so they give the same verdict for the same number, destination,
workspace policy and time: the in-memory policy (reasons 1 to 8, ``core.policy``), then, when
the workspace or the request turns lookups on, the destination lookup (``core.lookups``,
reasons 9 and 10). A lookup that fails adds no reason: the verdict is what can be decided
without it, and the outcome says it failed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from . import lookups
from .lookups import LookupOutcome
from .outbound_policy import CompiledPolicy
from .policy import PolicyDecision, lookup_reasons

if TYPE_CHECKING:
    from .runtime import Runtime


@dataclass(frozen=True, slots=True)
class Verdict:
    """Every reason that applies, in order; when outside calling hours the next allowed
    instant; the lookup's outcome when one was made."""

    reasons: tuple[str, ...]
    next_allowed_at: datetime | None = None
    lookup: LookupOutcome | None = None

    @property
    def allowed(self) -> bool:
        return not self.reasons

    @property
    def line_type(self) -> str | None:
        """The destination's line type, when a lookup told it."""
        return self.lookup.line_type if self.lookup is not None else None


#: The lookup outcome under DEMO_MODE: no carrier is asked (nor its cache read).
DEMO_LOOKUP = LookupOutcome(status="failed", error="demo_mode")


def wants_lookup(workspace: CompiledPolicy, asked: bool | None) -> bool:
    """Whether a check looks its destination up: the request's ``lookup`` when it gives one,
    else the workspace's ``lookup.enabled``."""
    return workspace.lookup_enabled if asked is None else asked


@dataclass(slots=True)
class CallQuestion:
    """What the gate is asked: may ``number`` call ``destination`` now (or ``at``)?

    Built once per check and only read afterwards. Not ``frozen``: a frozen dataclass's
    ``__init__`` costs four times as much (``object.__setattr__`` per field), about 0.35 µs of
    the batch's 1 µs a check.

    :param number: the caller ID as the policy reads it (a snapshot entry or a stored row).
    :param destination: the callee's parsed E.164, and ``destination_country`` its country;
        both ``None`` asks only whether ``number`` may be a caller ID at all.
    :param workspace: the workspace's compiled outbound policy.
    :param at: when the call would be placed (default now).
    :param time_zone: the callee's IANA time zone, when the caller knows it better than the
        number's prefix does.
    """

    number: Any
    destination: str | None
    destination_country: str | None
    workspace: CompiledPolicy
    at: datetime | None = None
    time_zone: str | None = None


def decide_without_lookup(rt: Runtime, call: CallQuestion) -> PolicyDecision:
    """The gate's first part, in memory, without a coroutine: reasons 1 to 8 and the next
    allowed instant. :func:`decide` starts with it; for a check that looks nothing up
    (:func:`wants_lookup` false, or no destination) it is the whole verdict, so a batch of
    such checks may call it alone (``api.routes.outbound``) and answers what ``decide`` would."""
    return rt.policy.evaluate(
        call.number,
        call.destination,
        destination_country=call.destination_country,
        workspace=call.workspace,
        at=call.at,
        time_zone=call.time_zone,
    )


async def decide(
    rt: Runtime,
    call: CallQuestion,
    *,
    workspace_id: uuid.UUID,
    lookup: bool | None = None,
    last_verified_date: date | None = None,
) -> Verdict:
    """The verdict on ``call`` for the workspace ``workspace_id``.

    :param lookup: the request's own ``lookup`` (``None``: the workspace's setting).
    :param last_verified_date: with a lookup, ask whether the destination was reassigned since
        (when the request asked for the lookup itself, or the workspace's
        ``lookup.check_reassigned`` is on).
    """
    decision = decide_without_lookup(rt, call)
    workspace = call.workspace
    if (
        call.destination is None
        or call.destination_country is None
        or not wants_lookup(workspace, lookup)
    ):
        return Verdict(decision.reasons, decision.next_allowed_at)
    if rt.settings.demo_mode:  # nothing reaches a carrier; the verdict is demo_mode anyway
        return Verdict(decision.reasons, decision.next_allowed_at, DEMO_LOOKUP)
    looked = await lookups.for_preflight(
        rt,
        workspace_id=workspace_id,
        number=call.number,
        destination=call.destination,
        check_reassigned=lookup is True or workspace.check_reassigned,
        last_verified_date=last_verified_date,
    )
    reasons = decision.reasons + lookup_reasons(looked, workspace.deny_line_types)
    return Verdict(reasons, decision.next_allowed_at, looked)
