"""``GET /calls`` and ``GET /calls/{id}``: the calls placed and the status carrier events bring."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from core import PlacedCall, hookimpl
from core.calls import CALL_STATUSES, advances, normalise_status
from tests.fakes import FakeCarrier, sign

CALLER = "+14155550100"


class NumberedCarrier(FakeCarrier):
    """The fake carrier giving each placed call its own id (``CALL-1``, ``CALL-2``...)."""

    def __init__(self, first_status: str = "queued") -> None:
        super().__init__()
        self.first_status = first_status
        self.placed = 0

    @hookimpl
    def place_call(self, from_e164: str, to_e164: str, options: Any) -> PlacedCall:
        self.placed += 1
        return PlacedCall(
            provider="fake", provider_call_id=f"CALL-{self.placed}", status=self.first_status
        )


def setup(make_api: Any, first_status: str = "queued") -> tuple[Any, str]:
    api = make_api(plugins=[], extra={"fake": NumberedCarrier(first_status)})
    api.add_number(CALLER, "fake", hosted=True, outbound_enabled=True)
    c = api.client.post("/campaigns", json={"name": "c", "from_e164": CALLER})
    assert c.status_code == 201, c.text
    return api, c.json()["id"]


def place(api: Any, cid: str, to: str = "+12125550123") -> dict[str, Any]:
    r = api.client.post(f"/campaigns/{cid}/test-call", json={"to": to})
    assert r.status_code == 201, r.text
    result: dict[str, Any] = r.json()
    return result


def event(api: Any, ref: str, status: str) -> Any:
    body = json.dumps({"kind": "call_status", "ref": ref, "data": {"status": status}}).encode()
    r = api.anon.post("/webhooks/fake", content=body, headers={"x-fake-signature": sign(body)})
    assert r.status_code == 200, r.text
    return r.json()


def test_a_placed_call_is_listed_and_read_with_the_status_carrier_events_bring(
    make_api: Any,
) -> None:
    api, cid = setup(make_api)
    placed = place(api, cid)
    assert placed["status"] == "queued" and placed["number_id"]
    one = api.client.get(f"/calls/{placed['id']}")
    assert one.status_code == 200 and one.json()["status"] == "queued"
    for status in ("ringing", "in-progress", "completed"):
        assert event(api, "CALL-1", status)["changed"] == 1
        assert api.client.get(f"/calls/{placed['id']}").json()["status"] == status
    listed = api.client.get("/calls").json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == placed["id"]
    assert listed["items"][0]["status"] == "completed"
    assert listed["items"][0]["campaign_id"] == cid
    # each change is audited by the carrier
    audit = api.client.get("/settings/telephony/audit", params={"action": "call_status"}).json()
    assert [e["outcome"] for e in audit["items"]] == ["completed", "in-progress", "ringing"]
    assert {e["actor"] for e in audit["items"]} == {"carrier:fake"}
    assert {e["subject_id"] for e in audit["items"]} == {placed["id"]}


def test_a_call_never_goes_back_nor_leaves_a_final_status(make_api: Any) -> None:
    api, cid = setup(make_api)
    placed = place(api, cid)
    assert event(api, "CALL-1", "in-progress")["changed"] == 1
    assert event(api, "CALL-1", "ringing")["changed"] == 0  # late, out of order
    assert event(api, "CALL-1", "busy")["changed"] == 1
    assert event(api, "CALL-1", "completed")["changed"] == 0
    assert event(api, "CALL-1", "no-such-status")["changed"] == 0
    assert api.client.get(f"/calls/{placed['id']}").json()["status"] == "busy"


def test_a_carriers_own_words_are_normalised(make_api: Any) -> None:
    api, cid = setup(make_api, first_status="initiated")  # Telnyx's first word
    placed = place(api, cid)
    assert placed["status"] == "queued"
    assert event(api, "CALL-1", "canceled")["changed"] == 1  # Twilio's word
    assert api.client.get(f"/calls/{placed['id']}").json()["status"] == "no-answer"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("queued", "queued"),
        ("initiated", "queued"),
        ("Ringing", "ringing"),
        ("in_progress", "in-progress"),
        ("answered", "in-progress"),
        ("completed", "completed"),
        ("busy", "busy"),
        ("failed", "failed"),
        ("no_answer", "no-answer"),
        ("canceled", "no-answer"),
        ("exploded", None),
        (None, None),
    ],
)
def test_normalise_status(raw: Any, expected: str | None) -> None:
    assert normalise_status(raw) == expected


def test_advances_only_forward() -> None:
    order = CALL_STATUSES[:3]
    for i, current in enumerate(order):
        for j, new in enumerate(order):
            assert advances(current, new) is (j > i)
        for final in CALL_STATUSES[3:]:
            assert advances(current, final) and not advances(final, current)


def test_calls_are_paged_newest_first_filtered_and_scoped(make_api: Any) -> None:
    api, cid = setup(make_api)
    ids = [place(api, cid, f"+1212555{100 + i:04d}")["id"] for i in range(3)]
    event(api, "CALL-2", "completed")
    first = api.client.get("/calls", params={"limit": 2}).json()
    second = api.client.get("/calls", params={"limit": 2, "offset": 2}).json()
    assert first["total"] == 3 and first["limit"] == 2 and first["offset"] == 0
    assert [c["id"] for c in first["items"] + second["items"]] == ids[::-1]
    done = api.client.get("/calls", params={"status": "completed"}).json()
    assert [c["id"] for c in done["items"]] == [ids[1]]
    assert api.client.get("/calls", params={"campaign_id": cid}).json()["total"] == 3
    assert api.client.get("/calls", params={"campaign_id": "nope"}).json()["total"] == 0
    bad = api.client.get("/calls", params={"status": "exploded"})
    assert bad.status_code == 422 and bad.json()["code"] == "validation_error"
    # another workspace sees none of them, and reading one is a 404 like a missing call
    assert api.client_b.get("/calls").json() == {"items": [], "total": 0, "limit": 50, "offset": 0}
    for client, call_id in ((api.client_b, ids[0]), (api.client, "not-a-uuid")):
        r = client.get(f"/calls/{call_id}")
        assert r.status_code == 404 and r.json()["code"] == "not_found"
    assert api.anon.get("/calls").status_code == 401


def test_the_sandbox_call_goes_through_ringing_to_completed(make_api: Any) -> None:
    # the simulated callback comes after the call is stored, as a carrier's does
    api = make_api(plugins=["sandbox"], tables={"sandbox": {"callback_delay_seconds": 0.5}})
    api.add_number(CALLER, "sandbox", hosted=True, outbound_enabled=True)
    cid = api.client.post("/campaigns", json={"name": "c", "from_e164": CALLER}).json()["id"]
    placed = place(api, cid)
    assert placed["status"] == "queued"
    deadline = time.monotonic() + 10
    status = placed["status"]
    while status != "completed" and time.monotonic() < deadline:
        time.sleep(0.05)
        status = api.client.get(f"/calls/{placed['id']}").json()["status"]
    assert status == "completed"
    rows = api.audit(action="call_status")
    assert [r["outcome"] for r in rows] == ["ringing", "in-progress", "completed"]
    # an in-process event is the carrier's, as a callback's is
    assert {r["actor"] for r in rows} == {"carrier:sandbox"}
    assert {r["detail"]["via"] for r in rows} == {"plugin"}


def _early(api: Any) -> int:
    from sqlalchemy import func, select

    from core.tables import EarlyCallStatus

    async def count() -> int:
        async with api.runtime.sessionmaker() as session:
            return int(await session.scalar(select(func.count()).select_from(EarlyCallStatus)))

    return int(api.run(count))


@pytest.mark.parametrize("db", ["sqlite", "postgres"])
def test_a_status_that_overtakes_its_call_is_applied_once_the_call_is_stored(
    make_api: Any, request: pytest.FixtureRequest, db: str
) -> None:
    # A carrier's callback may arrive before its answer naming the call has been stored.
    url = request.getfixturevalue("pg_url") if db == "postgres" else None
    api = make_api(plugins=[], extra={"fake": NumberedCarrier()}, database_url=url)
    api.add_number(CALLER, "fake", hosted=True, outbound_enabled=True)
    cid = api.client.post("/campaigns", json={"name": "c", "from_e164": CALLER}).json()["id"]
    assert event(api, "CALL-1", "ringing")["changed"] == 0  # no call yet: kept, not lost
    assert event(api, "CALL-1", "in-progress")["changed"] == 0
    assert event(api, "CALL-7", "completed")["changed"] == 0  # a call that never comes
    assert _early(api) == 3
    placed = place(api, cid)
    assert api.client.get(f"/calls/{placed['id']}").json()["status"] == "in-progress"
    rows = api.audit(action="call_status")
    assert [r["outcome"] for r in rows] == ["ringing", "in-progress"]
    assert {r["actor"] for r in rows} == {"carrier:fake"}
    assert {r["detail"]["via"] for r in rows} == {"callback"}
    assert _early(api) == 1  # CALL-7's waits (dropped after an hour)
    # applied once: settling again changes nothing, and later events apply as usual
    from core.events import settle_early_statuses

    async def settle() -> int:
        async with api.runtime.sessionmaker() as session:
            return await settle_early_statuses(session, "fake", "CALL-1")

    assert api.run(settle) == 0
    assert event(api, "CALL-1", "completed")["changed"] == 1
    assert len(api.audit(action="call_status")) == 3


def test_the_sandbox_without_a_callback_delay_loses_no_status(make_api: Any) -> None:
    # delay 0: the simulated callback runs while the test call is still storing the call
    api = make_api(plugins=["sandbox"], tables={"sandbox": {"callback_delay_seconds": 0}})
    api.add_number(CALLER, "sandbox", hosted=True, outbound_enabled=True)
    cid = api.client.post("/campaigns", json={"name": "c", "from_e164": CALLER}).json()["id"]
    placed = place(api, cid)
    deadline = time.monotonic() + 10
    status = placed["status"]
    while status != "completed" and time.monotonic() < deadline:
        time.sleep(0.05)
        status = api.client.get(f"/calls/{placed['id']}").json()["status"]
    assert status == "completed"
    assert [r["outcome"] for r in api.audit(action="call_status")] == [
        "ringing",
        "in-progress",
        "completed",
    ]
    assert _early(api) == 0
