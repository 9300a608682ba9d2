"""Concurrent binds and caller-ID changes on PostgreSQL never leave a number outbound-enabled
with a caller ID the policy refuses."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from core.auth import Principal
from core.errors import PolicyDenied
from core.events import apply_events
from core.models import ProviderEvent
from core.numbers import bind_number
from core.tables import Number

pytestmark = pytest.mark.postgres
ROUNDS = 25


def _principal(api: Any) -> Principal:
    return Principal(
        workspace_id=uuid.UUID(api.workspace_id), user_id=uuid.uuid4(), key_id=uuid.uuid4()
    )


async def _bind(rt: Any, principal: Principal, number_id: str, enabled: bool) -> str:
    async with rt.sessionmaker() as session:
        try:
            await bind_number(rt, session, principal, number_id, {"outbound_enabled": enabled})
            return "bound"
        except PolicyDenied:
            return "refused"


async def _event(rt: Any, kind: str, phone: str) -> int:
    """The carrier's event about ``phone``'s verification, naming its reference (an event
    naming only a phone number never changes a verified number)."""
    async with rt.sessionmaker() as session:
        event = ProviderEvent(
            provider="sandbox",
            kind=kind,
            phone_e164=phone,
            provider_ref=_ref(phone),
            data={"detail": "race"},
        )
        return await apply_events(rt, session, [event], actor="carrier:sandbox")


def _ref(phone: str) -> str:
    return f"SBV-race-{phone[1:]}"


def _assert_allowed_state(api: Any, number_id: str) -> dict[str, Any]:
    row = api.number(number_id)
    assert row is not None
    allowed = row["hosted"] or (
        row["verified_cli"] and api.runtime.settings.outbound_verified_enabled
    )
    assert not (row["outbound_enabled"] and not allowed), row
    return row


def test_enable_outbound_racing_a_verification_failure(make_api: Any, pg_url: str) -> None:
    api = make_api(plugins=["sandbox"], database_url=pg_url)
    rt = api.runtime
    principal = _principal(api)
    outcomes: set[tuple[str, int]] = set()
    for i in range(ROUNDS):
        phone = f"+1415555{1000 + i:04d}"
        number = api.add_number(
            phone,
            "sandbox",
            verified_cli=True,
            verification_status="verified",
            verification_ref=_ref(phone),
        )

        async def race(number_id: str = number["id"], phone: str = phone) -> tuple[str, int]:
            bound, changed = await asyncio.gather(
                _bind(rt, principal, number_id, True), _event(rt, "verification_failed", phone)
            )
            return bound, changed

        outcome = api.run(race)
        outcomes.add(outcome)
        row = _assert_allowed_state(api, number["id"])
        assert row["verified_cli"] is False and row["verification_status"] == "failed"
        assert row["outbound_enabled"] is False
        # the audit trail tells the same story: the failure is recorded for this number
        failures = api.audit(subject_id=number["id"], action="verification_failed")
        assert len(failures) == 1
    assert all(changed == 1 for _, changed in outcomes)


def test_binds_and_verification_events_in_parallel_keep_the_invariant(
    make_api: Any, pg_url: str
) -> None:
    api = make_api(plugins=["sandbox"], database_url=pg_url)
    rt = api.runtime
    principal = _principal(api)
    phone = "+14155552000"
    number = api.add_number(
        phone,
        "sandbox",
        verified_cli=True,
        verification_status="verified",
        verification_ref=_ref(phone),
    )
    for i in range(ROUNDS):

        async def storm(i: int = i) -> list[Any]:
            jobs = [
                _bind(rt, principal, number["id"], True),
                _bind(rt, principal, number["id"], i % 2 == 0),
                _event(rt, "verification_failed" if i % 3 else "verification_succeeded", phone),
                _bind(rt, principal, number["id"], True),
            ]
            return list(await asyncio.gather(*jobs))

        api.run(storm)
        _assert_allowed_state(api, number["id"])
        # verified again for the next round

        async def reverify() -> None:
            async with rt.sessionmaker() as session:
                row = await session.get(Number, uuid.UUID(number["id"]))
                assert row is not None
                row.verified_cli, row.verification_status = True, "verified"
                await session.commit()

        api.run(reverify)
