"""``POST /outbound/check`` (the dialer's preflight before each call) and its batch form."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from functools import lru_cache
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import ValidationError
from pydantic_core import to_json

from core.destinations import zone
from core.errors import InvalidInput, InvalidTimeZone, NotFound, TrunklineError
from core.numbers import parse_uuid
from core.outbound_policy import CompiledPolicy, compile_policy
from core.phone import parse_e164
from core.policy import describe_destination
from core.preflight import CallQuestion, decide, decide_without_lookup, wants_lookup
from core.runtime import Runtime
from core.snapshot import WorkspaceState

from ..deps import PrincipalDep
from ..hot_route import HotRoute
from ..problems import error_body, validation_body
from ..schemas import (
    DestinationOut,
    LookupOut,
    OutboundBatchIn,
    OutboundBatchOut,
    OutboundCheckIn,
    OutboundCheckOut,
    problems,
)

#: Both routes are on the dialer's hot path: handled by ``HotRoute`` (see ``api.hot_route``).
router = APIRouter(tags=["outbound"], route_class=HotRoute)


@lru_cache(maxsize=65_536)
def _place(to: str | None, time_zone: str | None) -> tuple[str | None, str | None, Any]:
    """A check's destination: (E.164, country, the answer's ``destination`` as a dict not to be
    changed, its line type ``None``); raises the problem of a bad ``to`` or ``time_zone``.
    Cached per (``to``, ``time_zone``): the answer is a function of the two."""
    destination = destination_country = None
    if to is not None:
        # The one parse, as the test call does: the country is that of the number as parsed,
        # never skipped (a ``to`` with surrounding whitespace is the same number).
        destination, destination_country = parse_e164(to, "to")
    if time_zone is not None and zone(time_zone) is None:
        raise InvalidTimeZone(
            f"time_zone: {time_zone!r} is not an IANA time zone", field="time_zone"
        )
    if destination is None:
        return None, None, None
    facts = describe_destination(destination, time_zone)
    where = {
        "country_code": facts.country_code,
        "region": facts.region,
        "time_zones": facts.time_zones,
        "line_type": None,
    }
    return destination, destination_country, where


async def check_one(
    rt: Runtime,
    workspace_id: uuid.UUID,
    numbers: Any,
    body: OutboundCheckIn,
    seen: Counter[tuple[str, ...]] | None = None,
) -> OutboundCheckOut:
    """One preflight against ``numbers`` (the workspace's numbers, as the preflight reads
    them); raises the problem a single check answers. Its reasons are counted in ``seen``
    when given (a batch observes its metric once), else observed at once. A destination
    lookup, when asked, goes to the caller ID's carrier (or its cache) before the decision;
    its failure is said in the answer, never raised. The verdict is ``core.preflight.decide``'s,
    the test call's own gate."""
    if body.number_id is not None and body.from_ is not None:
        raise InvalidInput("give 'from' or 'number_id', not both", field="from")
    if body.number_id is not None:
        row = await numbers.by_id(parse_uuid(body.number_id))
    elif body.from_ is not None:
        row = await numbers.by_phone(parse_e164(body.from_, "from")[0])
    else:
        raise InvalidInput("give 'from' (E.164) or 'number_id'", field="from")
    time_zone = body.time_zone
    destination, destination_country, where = _place(body.to, time_zone)
    if row is None:
        raise NotFound("number not found")
    state = await numbers.policy()
    workspace = compile_policy(state.outbound_policy if state is not None else None)
    verdict = await decide(
        rt,
        CallQuestion(row, destination, destination_country, workspace, body.at, time_zone),
        workspace_id=workspace_id,
        lookup=body.lookup,
        last_verified_date=body.last_verified_date,
    )
    reasons = verdict.reasons
    if seen is not None:
        seen[reasons] += 1
    else:
        rt.metrics.observe_policy(reasons)
    return OutboundCheckOut(
        allowed=not reasons,
        reasons=list(reasons),
        number_id=str(row.id),
        next_allowed_at=verdict.next_allowed_at,
        destination=None
        if where is None
        else DestinationOut(**{**where, "line_type": verdict.line_type}),
        attestation=row.attestation_level,
        lookup=None if verdict.lookup is None else LookupOut(**vars(verdict.lookup)),
    )


@router.post(
    "/outbound/check",
    response_model=OutboundCheckOut,
    responses=problems(401, 403, 404, 422, body=True),
)
async def outbound_check(
    body: OutboundCheckIn, request: Request, principal: PrincipalDep
) -> OutboundCheckOut:
    """May this caller ID call ``to`` now (or ``at``)? Answers every reason that applies,
    where the destination is, and when outside calling hours the next allowed instant."""
    # The runtime straight from the app, not through ``RuntimeDep``: each dependency costs
    # FastAPI measurable per-request work, and this route runs before every call a dialer makes.
    rt: Runtime = request.app.state.runtime
    workspace_id = principal.workspace_id
    return await check_one(rt, workspace_id, await rt.snapshot.view(workspace_id), body)


def _asked_lookup(item: Any) -> bool | None:
    """A batch item's own ``lookup`` (None: the workspace's setting decides)."""
    if type(item) is OutboundCheckIn:
        return item.lookup
    lookup = item.get("lookup") if isinstance(item, dict) else None
    return lookup if isinstance(lookup, bool) else None


def _caller(
    numbers: WorkspaceState, from_: str | None, number_id: str | None
) -> tuple[Any, str] | None:
    """``check_one``'s lookup of the caller ID in a held workspace: its entry and its id as
    text (None: not found); raises what ``check_one`` raises, in the same order."""
    if number_id is not None and from_ is not None:
        raise InvalidInput("give 'from' or 'number_id', not both", field="from")
    if number_id is not None:
        row = numbers.number_by_id(parse_uuid(number_id))
    elif from_ is not None:
        row = numbers.number_by_phone(parse_e164(from_, "from")[0])
    else:
        raise InvalidInput("give 'from' (E.164) or 'number_id'", field="from")
    return None if row is None else (row, str(row.id))


def _in_memory(
    rt: Runtime,
    numbers: WorkspaceState,
    checks: list[Any],
    workspace: CompiledPolicy,
    seen: Counter[tuple[str, ...]],
    path: str,
) -> list[Any] | None:
    """A batch against a held workspace when no check looks its destination up: each answer
    is what ``check_one`` answers (its keys in its order, the same values), built as a plain
    dict. None as soon as a check asks for a lookup (the caller then runs the batch through
    ``check_one``; nothing here has effects but ``seen``, which the caller clears).

    Per check: the caller ID's entry and id text come from the state's memo (keyed by the
    request's own ``from``/``number_id``), the destination from ``_place``'s cache, the
    verdict from ``core.preflight.decide_without_lookup`` (``decide`` without its lookup)."""
    results: list[Any] = []
    append = results.append
    callers = numbers.callers
    lookup_enabled = workspace.lookup_enabled
    for item in checks:
        try:
            if type(item) is not OutboundCheckIn:  # not a valid body: its own problem
                item = OutboundCheckIn.model_validate(item)
            asked = item.lookup
            if lookup_enabled if asked is None else asked:
                return None
            key = (item.from_, item.number_id)
            caller = callers.get(key)
            if caller is None:
                caller = _caller(numbers, *key)
                if caller is not None and numbers.memo_room():
                    callers[key] = caller
            time_zone = item.time_zone
            destination, destination_country, where = _place(item.to, time_zone)
            if caller is None:
                raise NotFound("number not found")
            row = caller[0]
            question = CallQuestion(
                row, destination, destination_country, workspace, item.at, time_zone
            )
            decision = decide_without_lookup(rt, question)
            reasons = decision.reasons
            seen[reasons] += 1
            append(
                {
                    "allowed": not reasons,
                    "reasons": reasons,
                    "number_id": caller[1],
                    "next_allowed_at": decision.next_allowed_at,
                    "destination": where,
                    "attestation": row.attestation_level,
                    "lookup": None,
                }
            )
        except ValidationError as exc:
            append({"error": validation_body(exc.errors(include_url=False), path)})
        except TrunklineError as exc:
            append({"error": error_body(exc, path)})
    return results


@router.post(
    "/outbound/check/batch",
    response_model=OutboundBatchOut,
    responses=problems(401, 403, 422, body=True),
)
async def outbound_check_batch(
    body: OutboundBatchIn, request: Request, principal: PrincipalDep
) -> Response:
    """Up to 1,000 preflights in one request, answered in the same order.

    Each item is a ``POST /outbound/check`` body and answers what that route would answer;
    an invalid item (or one whose number is not found) answers ``{"error": <problem>}``
    in its place without failing the others.
    """
    rt: Runtime = request.app.state.runtime
    workspace_id = principal.workspace_id
    numbers = await rt.snapshot.view(workspace_id)
    path = request.url.path
    seen: Counter[tuple[str, ...]] = Counter()

    async def one(item: Any) -> OutboundCheckOut | dict[str, Any]:
        try:
            if type(item) is not OutboundCheckIn:  # not a valid body: its own problem
                item = OutboundCheckIn.model_validate(item)
            return await check_one(rt, workspace_id, numbers, item, seen)
        except ValidationError as exc:
            return {"error": validation_body(exc.errors(include_url=False), path)}
        except TrunklineError as exc:
            return {"error": error_body(exc, path)}

    checks = body.checks
    state = await numbers.policy()
    ws_policy = compile_policy(state.outbound_policy if state is not None else None)
    results: list[Any] | None = None
    if type(numbers) is WorkspaceState and numbers.held:
        # The common case, a workspace held in the snapshot and no lookup: every check
        # answered from memory in one plain loop (the per-check cost is what bounds a batch:
        # docs/performance.md).
        results = _in_memory(rt, numbers, checks, ws_policy, seen, path)
        if results is None:  # a check looks its destination up: through check_one
            seen.clear()
    if results is None:
        if any(wants_lookup(ws_policy, _asked_lookup(item)) for item in checks):
            # Lookups wait on carriers: the checks run together (answers stay in order); the
            # lookup service asks each destination once and bounds the carrier requests in
            # flight.
            results = list(await asyncio.gather(*(one(item) for item in checks)))
        else:
            results = [await one(item) for item in checks]
    for reasons, count in seen.items():
        rt.metrics.observe_policy(reasons, count)
    # Serialised once, here, from the answers as they are (validating a thousand of them
    # again against the response model would cost more than the checks themselves).
    return Response(to_json({"results": results}), media_type="application/json")
