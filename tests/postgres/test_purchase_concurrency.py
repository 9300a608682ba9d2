"""On PostgreSQL: racing purchases of one number reach the carrier once, from one workspace;
racing verifications from two workspaces verify one; rentals accrue once."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest

from core import ProviderUnavailable, PurchasedNumber, hookimpl
from core.purchases import accrue_rentals
from core.tables import utcnow
from tests.fakes import FakeCarrier

pytestmark = pytest.mark.postgres

NUMBERS = "/settings/telephony/numbers"
PURCHASE = f"{NUMBERS}/purchase"
VERIFY = f"{NUMBERS}/verify-cli"
RACERS = 10


@pytest.fixture
def env(make_api: Any, pg_url: str) -> tuple[Any, FakeCarrier]:
    fake = FakeCarrier(delay=0.2)  # the carrier is slow: the race window is wide open
    api = make_api(
        database_url=pg_url,
        plugins=["country_rules"],
        tables={"country_rules": {"blocked": ["KP"]}},
        extra={"fake": fake},
    )
    assert api.runtime.engine.dialect.name == "postgresql"
    return api, fake


def race(api: Any, e164: str, client: Any = None) -> list[Any]:
    """``RACERS`` threads post the same purchase at the same instant."""
    barrier = threading.Barrier(RACERS)

    def one(_: int) -> Any:
        barrier.wait()
        return (client or api.client).post(PURCHASE, json={"provider": "fake", "e164": e164})

    with ThreadPoolExecutor(RACERS) as pool:
        return list(pool.map(one, range(RACERS)))


@pytest.mark.parametrize("e164", ["+14155550123", "+442079460123"])
def test_parallel_purchases_of_one_number_buy_it_once(env: Any, e164: str) -> None:
    api, fake = env
    answers = race(api, e164)
    statuses = Counter(r.status_code for r in answers)
    assert statuses == {201: 1, 409: RACERS - 1}, [r.text for r in answers]
    assert {r.json()["code"] for r in answers if r.status_code == 409} == {"number_exists"}
    assert fake.calls["purchase_number"] == 1
    (number,) = api.numbers()
    assert number["hosted"] is True and number["state"] == "active"
    (entry,) = api.ledger()
    assert entry["kind"] == "purchase" and entry["amount_cents"] == 0
    assert entry["metadata"]["pass_through"] is True
    (winner,) = [r.json() for r in answers if r.status_code == 201]
    assert winner["id"] == number["id"] == entry["number_id"]
    assert [e["outcome"] for e in api.audit(action="number_purchased")] == ["ok"]


def test_racing_purchases_over_an_abandoned_claim_buy_it_once(env: Any) -> None:
    """An expired ``purchasing`` row (a purchase whose process died) is taken over by exactly
    one of the racers: one carrier call, one number, one ledger entry, one audit event."""
    api, fake = env
    old = utcnow() - timedelta(seconds=api.runtime.settings.purchase_claim_expiry_seconds + 5)
    stale = api.add_number("+14155550123", "fake", state="purchasing", created_at=old)
    answers = race(api, "+14155550123")
    statuses = Counter(r.status_code for r in answers)
    assert statuses == {201: 1, 409: RACERS - 1}, [r.text for r in answers]
    assert fake.calls["purchase_number"] == 1
    (number,) = api.numbers()
    assert number["id"] != stale["id"] and number["state"] == "active"
    assert len(api.ledger()) == 1
    assert len(api.audit(action="number_purchase_abandoned")) == 1


class SlowFailingCarrier(FakeCarrier):
    """Fails a purchase only after the carrier's delay (FakeCarrier fails at once)."""

    @hookimpl
    async def purchase_number(self, e164: str, workspace: str) -> PurchasedNumber:
        if "purchase_number" in self.fail:
            self.calls["purchase_number"] = self.calls.get("purchase_number", 0) + 1
            await asyncio.sleep(self.delay)
            raise self.fail["purchase_number"]
        return await super().purchase_number(e164, workspace)


def test_racing_purchase_that_fails_leaves_nothing_and_may_be_retried(
    make_api: Any, pg_url: str
) -> None:
    fake = SlowFailingCarrier(delay=0.3)
    api = make_api(database_url=pg_url, plugins=[], extra={"fake": fake})
    fake.fail["purchase_number"] = ProviderUnavailable("down", provider="fake")
    answers = race(api, "+14155550123")
    statuses = Counter(r.status_code for r in answers)
    # one request reached the carrier (which failed slowly); the others found it claimed
    assert fake.calls["purchase_number"] == 1
    assert statuses == {503: 1, 409: RACERS - 1}
    assert api.numbers() == [] and api.ledger() == []
    assert [e["outcome"] for e in api.audit(action="number_purchased")] == ["provider_unavailable"]
    # the claim is released: the next race buys it, once
    del fake.fail["purchase_number"]
    answers = race(api, "+14155550123")
    assert Counter(r.status_code for r in answers) == {201: 1, 409: RACERS - 1}
    assert fake.calls["purchase_number"] == 2
    assert len(api.numbers()) == 1 and len(api.ledger()) == 1


def test_two_workspaces_racing_for_one_number_give_one_owner(env: Any) -> None:
    """One number, one owner: of the purchases from both workspaces, exactly one wins and
    the carrier is asked once; the other workspace's racers answer 409 number_claimed."""
    api, fake = env
    with ThreadPoolExecutor(2) as pool:
        a, b = pool.map(lambda c: race(api, "+14155550123", client=c), [api.client, api.client_b])
    answers = a + b
    assert Counter(r.status_code for r in answers) == {201: 1, 409: 2 * RACERS - 1}
    assert fake.calls["purchase_number"] == 1
    (number,) = api.numbers()
    winner, loser = (a, b) if number["workspace_id"] == api.workspace_id else (b, a)
    assert {r.json()["code"] for r in loser} == {"number_claimed"}
    assert {r.json()["code"] for r in winner if r.status_code == 409} <= {
        "number_exists",
        "number_claimed",
    }
    assert number["hosted"] is True and number["state"] == "active"
    (entry,) = api.ledger()
    assert entry["workspace_id"] == number["workspace_id"]


def test_racing_verifications_from_two_workspaces_give_one_owner(env: Any) -> None:
    """Both workspaces hold a pending verification of one number and submit the right code at
    the same instant: one is verified, the other answers 409 number_claimed."""
    api, fake = env
    ids = []
    for client in (api.client, api.client_b):
        r = client.post(NUMBERS, json={"e164": "+14155550100", "provider": "fake"})
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
        assert client.post(VERIFY, json={"number_id": ids[-1]}).json()["status"] == "pending"
    barrier = threading.Barrier(2)

    def submit(pair: tuple[Any, str]) -> Any:
        client, number_id = pair
        barrier.wait()
        return client.post(VERIFY, json={"number_id": number_id, "code": fake.right_code})

    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(submit, zip([api.client, api.client_b], ids, strict=True)))
    assert sorted(r.status_code for r in answers) == [200, 409], [r.text for r in answers]
    assert [r.json()["code"] for r in answers if r.status_code == 409] == ["number_claimed"]
    verified = [n for n in api.numbers() if n["verified_cli"]]
    assert len(verified) == 1


def test_concurrent_rental_accruals_add_each_rental_once(env: Any) -> None:
    api, _ = env
    for e164 in ("+14155550123", "+14155550124", "+14155550125"):
        assert api.client.post(PURCHASE, json={"provider": "fake", "e164": e164}).status_code == 201

    async def both() -> list[int]:
        async def one() -> int:
            async with api.runtime.sessionmaker() as session:
                return await accrue_rentals(session, "2099-01")

        return list(await asyncio.gather(*(one() for _ in range(4))))

    added = api.run(both)
    assert sum(added) == 3
    rentals = api.ledger(kind="rental")
    assert len(rentals) == 3 and len({r["number_id"] for r in rentals}) == 3
    assert len(api.audit(action="rental_accrued")) == 3
