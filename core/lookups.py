"""Destination lookups: asked of the caller ID's carrier, cached per workspace, each one billed.

A lookup (``lookup_number``) costs money, so it happens only when a workspace asks for it, and
its answers are reused: the line type for ``TRUNKLINE_LOOKUP_CACHE_DAYS`` (30 by default), a
reassigned answer for the same time but only for the ``last_verified_date`` it was asked with.
Each answer that came from the carrier is one pass-through ledger entry (``kind = lookup``,
``amount_cents = 0``, the carrier's cost beside it); an answer from the cache costs nothing.
Concurrent asks for the same destination in one process share one carrier request.

A carrier failure is never an error here: the outcome says ``failed`` with the error's code and
the preflight answers what it can decide without the lookup.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from .errors import TrunklineError
from .models import NumberIntel
from .tables import DestinationLookup, LedgerEntry, utcnow

if TYPE_CHECKING:
    from .runtime import Runtime

log = logging.getLogger("trunkline.lookups")

LookupStatus = Literal["ok", "cached", "failed", "unsupported"]


@dataclass(frozen=True)
class LookupOutcome:
    """What a preflight learns about a destination.

    ``status``: ``ok`` (asked of the carrier now), ``cached`` (every answer from the cache),
    ``failed`` (the carrier failed: ``error`` is the problem code), ``unsupported`` (the caller
    ID's provider offers no lookup). ``line_type`` and ``reassigned`` are ``None`` when not
    asked or not known.
    """

    status: LookupStatus
    line_type: str | None = None
    reassigned: str | None = None
    carrier_name: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class LookupAsk:
    """One destination to look up for a workspace, through the caller ID's ``provider``."""

    workspace_id: uuid.UUID
    provider: str
    phone_e164: str
    line_type: bool = True
    last_verified_date: date | None = None
    number_id: uuid.UUID | None = None

    @property
    def key(self) -> tuple[Any, ...]:
        return (
            self.workspace_id,
            self.provider,
            self.phone_e164,
            self.line_type,
            self.last_verified_date,
        )


class Lookups:
    """The lookup service of one runtime; holds the in-flight requests it shares."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self._inflight: dict[tuple[Any, ...], asyncio.Future[LookupOutcome]] = {}
        #: Carrier requests in flight at once in this worker (``TRUNKLINE_LOOKUP_CONCURRENCY``).
        self._carrier = asyncio.Semaphore(rt.settings.lookup_concurrency)

    async def look_up(self, ask: LookupAsk) -> LookupOutcome:
        """The answers for ``ask``, from the cache or the carrier (once per destination at a
        time in this process)."""
        shared = self._inflight.get(ask.key)
        if shared is not None:
            return await asyncio.shield(shared)
        future: asyncio.Future[LookupOutcome] = asyncio.get_running_loop().create_future()
        self._inflight[ask.key] = future
        try:
            outcome = await self._look_up(ask)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: a lone failure is not "never retrieved"
            raise
        finally:
            self._inflight.pop(ask.key, None)
        future.set_result(outcome)
        return outcome

    async def look_up_many(
        self, asks: list[LookupAsk], *, concurrency: int | None = None
    ) -> list[LookupOutcome]:
        """Each ask's outcome, in order: distinct destinations at most ``concurrency`` at a
        time (``TRUNKLINE_LOOKUP_CONCURRENCY``), each distinct one asked once."""
        limit = asyncio.Semaphore(concurrency or self.rt.settings.lookup_concurrency)
        distinct = {ask.key: ask for ask in asks}

        async def bounded(ask: LookupAsk) -> LookupOutcome:
            async with limit:
                return await self.look_up(ask)

        found = await asyncio.gather(*(bounded(a) for a in distinct.values()))
        by_key = dict(zip(distinct, found, strict=True))
        return [by_key[ask.key] for ask in asks]

    async def _look_up(self, ask: LookupAsk) -> LookupOutcome:
        wanted = _wanted(ask)
        cached = await self._cached(ask, wanted)
        missing = {f for f in wanted if f not in cached}
        if not missing:
            return _outcome("cached", cached)
        info = self.rt.host.providers.get(ask.provider)
        if info is None or "lookup" not in info.capabilities:
            return _outcome("unsupported", cached)
        try:
            async with self._carrier:
                intel: NumberIntel = await self.rt.host.call_provider(
                    "lookup_number",
                    ask.provider,
                    e164=ask.phone_e164,
                    fields={f for f, _ in missing},
                    last_verified_date=ask.last_verified_date,
                )
        except TrunklineError as exc:
            log.warning("lookup of a destination via %s failed: %s", ask.provider, exc.code)
            return _outcome("failed", cached, error=exc.code)
        if intel.phone_e164 != ask.phone_e164:
            log.warning("lookup via %s answered about another number: ignored", ask.provider)
            return _outcome("failed", cached, error="provider_error")
        fresh = {field: _answer(field, intel) for field in missing}
        await self._record(ask, intel, fresh)
        return _outcome("ok", {**cached, **fresh})

    async def _cached(
        self, ask: LookupAsk, wanted: set[tuple[str, str]]
    ) -> dict[tuple[str, str], dict[str, Any]]:
        if not wanted:
            return {}
        now = utcnow()
        async with self.rt.sessionmaker() as session:
            rows = (
                await session.execute(
                    select(DestinationLookup).where(
                        DestinationLookup.workspace_id == ask.workspace_id,
                        DestinationLookup.phone_e164 == ask.phone_e164,
                        DestinationLookup.expires_at > now,
                    )
                )
            ).scalars()
            return {
                (row.field, row.asked_with): dict(row.answer)
                for row in rows
                if (row.field, row.asked_with) in wanted
            }

    async def _record(
        self, ask: LookupAsk, intel: NumberIntel, fresh: dict[tuple[str, str], dict[str, Any]]
    ) -> None:
        """The ledger entry (always: the carrier was paid), then the cache rows."""
        now = utcnow()
        expires = now + timedelta(days=self.rt.settings.lookup_cache_days)
        async with self.rt.sessionmaker() as session:
            session.add(
                LedgerEntry.at_cost(
                    "lookup",
                    {
                        "carrier_cost": None if intel.cost is None else str(intel.cost),
                        "carrier_currency": intel.currency,
                        "fields": sorted(f for f, _ in fresh),
                        "last_verified_date": (
                            ask.last_verified_date.isoformat() if ask.last_verified_date else None
                        ),
                    },
                    currency=intel.currency,
                    workspace_id=ask.workspace_id,
                    number_id=ask.number_id,
                    provider=ask.provider,
                    phone_e164=ask.phone_e164,
                )
            )
            await session.commit()
            for (field, asked_with), answer in fresh.items():
                await _store(
                    session,
                    DestinationLookup(
                        workspace_id=ask.workspace_id,
                        phone_e164=ask.phone_e164,
                        field=field,
                        asked_with=asked_with,
                        provider=ask.provider,
                        answer=answer,
                        looked_up_at=now,
                        expires_at=expires,
                    ),
                )


async def for_preflight(
    rt: Runtime,
    *,
    workspace_id: uuid.UUID,
    number: Any,
    destination: str,
    check_reassigned: bool,
    last_verified_date: date | None,
) -> LookupOutcome:
    """The lookup a preflight makes about ``destination`` through ``number``'s provider (whether
    to make one is :func:`core.preflight.wants_lookup`'s to say). The reassigned question is
    asked only with a ``last_verified_date`` and ``check_reassigned``."""
    ask = LookupAsk(
        workspace_id=workspace_id,
        provider=number.provider,
        phone_e164=destination,
        last_verified_date=last_verified_date if check_reassigned else None,
        number_id=number.id,
    )
    return await for_runtime(rt).look_up(ask)


def for_runtime(rt: Runtime) -> Lookups:
    """The runtime's one lookup service (created on first use)."""
    service = rt.extra.get("lookups")
    if not isinstance(service, Lookups):
        service = rt.extra["lookups"] = Lookups(rt)
    return service


async def _store(session: AsyncSession, row: DestinationLookup) -> None:
    """Replace the cached answer for the row's key; a racing writer's equal answer may win."""
    await session.execute(
        delete(DestinationLookup).where(
            DestinationLookup.workspace_id == row.workspace_id,
            DestinationLookup.phone_e164 == row.phone_e164,
            DestinationLookup.field == row.field,
            DestinationLookup.asked_with == row.asked_with,
        )
    )
    session.add(row)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()


def _wanted(ask: LookupAsk) -> set[tuple[str, str]]:
    """The cache keys an ask needs: ``(field, asked_with)``."""
    wanted: set[tuple[str, str]] = set()
    if ask.line_type:
        wanted.add(("line_type", ""))
    if ask.last_verified_date is not None:
        wanted.add(("reassigned", ask.last_verified_date.isoformat()))
    return wanted


def _answer(field: tuple[str, str], intel: NumberIntel) -> dict[str, Any]:
    if field[0] == "line_type":
        return {
            "line_type": intel.line_type,
            "carrier_name": intel.carrier_name,
            "valid": intel.valid,
        }
    return {"reassigned": intel.reassigned}


def _outcome(
    status: LookupStatus,
    answers: dict[tuple[str, str], dict[str, Any]],
    *,
    error: str | None = None,
) -> LookupOutcome:
    line: dict[str, Any] = next((a for (f, _), a in answers.items() if f == "line_type"), {})
    again: dict[str, Any] = next((a for (f, _), a in answers.items() if f == "reassigned"), {})
    return LookupOutcome(
        status=status,
        line_type=line.get("line_type"),
        reassigned=again.get("reassigned"),
        carrier_name=line.get("carrier_name"),
        error=error,
    )
