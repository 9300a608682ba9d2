"""Concurrent verify-cli calls for one number start exactly one carrier verification."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.fakes import FakeCarrier

URL = "/settings/telephony/numbers/verify-cli"


class InFlight:
    """Wraps the app (pure ASGI): the most requests it served at once."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.active = 0
        self.peak = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.active += 1
        self.peak = max(self.peak, self.active)
        try:
            await self.app(scope, receive, send)
        finally:
            self.active -= 1


def _race(make_api: Any, database_url: str | None) -> None:
    fake = FakeCarrier(delay=0.3)
    api = make_api(
        plugins=[],
        extra={"fake": fake},
        database_url=database_url,
        env={"TRUNKLINE_VERIFY_CLI_RATE": "100/minute"},
    )
    # the app's middleware stack is built by the client's start-up: count requests through it
    in_flight = api.app.middleware_stack = InFlight(api.app.middleware_stack)
    n = api.add_number("+14155550100", "fake")
    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(
            pool.map(lambda _: api.client.post(URL, json={"number_id": n["id"]}), range(20))
        )
    assert [r.status_code for r in answers] == [200] * 20
    # the calls raced: the app served several at once (one after another would prove nothing)
    assert in_flight.peak >= 5, in_flight.peak
    assert {r.json()["status"] for r in answers} == {"pending"}
    assert fake.calls["verify_cli"] == 1
    row = api.number(n["id"])
    assert row["verification_status"] == "pending" and row["verification_ref"] == "VN-1"
    assert len(api.audit(action="verification_started")) == 1
    # once settled, every caller sees the same pending state
    settled = api.client.post(URL, json={"number_id": n["id"]}).json()
    assert settled["next_step"] == "submit_code"
    assert fake.calls["verify_cli"] == 1


@pytest.mark.postgres
def test_twenty_concurrent_calls_on_postgres(make_api: Any, pg_url: str) -> None:
    _race(make_api, pg_url)


def test_twenty_concurrent_calls_on_sqlite(make_api: Any) -> None:
    _race(make_api, None)


@pytest.mark.redis
def test_two_instances_share_the_limit_through_redis(make_api: Any, redis_url: str) -> None:
    """Two app instances (as two workers would be) allow exactly 5 calls a minute between them."""
    first = make_api(
        plugins=[], extra={"fake": FakeCarrier()}, env={"TRUNKLINE_REDIS_URL": redis_url}
    )
    second = make_api(
        plugins=[], extra={"fake": FakeCarrier()}, env={"TRUNKLINE_REDIS_URL": redis_url}
    )
    # only calls that reach the carrier count: each request starts a different number
    ids = [first.add_number(f"+1415555010{i}", "fake")["id"] for i in range(8)]
    key = {"Authorization": f"Bearer {first.client.key}"}
    statuses = []
    for i, number_id in enumerate(ids):
        app = first if i % 2 == 0 else second
        r = app.testclient.post(URL, json={"number_id": number_id}, headers=key)
        statuses.append(r.status_code)
    assert statuses == [200] * 5 + [429] * 3


def test_without_redis_each_instance_counts_alone(make_api: Any) -> None:
    first = make_api(plugins=[], extra={"fake": FakeCarrier()})
    second = make_api(plugins=[], extra={"fake": FakeCarrier()})
    ids = [first.add_number(f"+1415555010{i}", "fake")["id"] for i in range(8)]
    key = {"Authorization": f"Bearer {first.client.key}"}
    statuses = [
        (first if i % 2 == 0 else second)
        .testclient.post(URL, json={"number_id": number_id}, headers=key)
        .status_code
        for i, number_id in enumerate(ids)
    ]
    assert statuses == [200] * 8
