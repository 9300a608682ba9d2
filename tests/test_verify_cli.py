"""``POST .../verify-cli``: the state machine, idempotency, limits and carrier failures."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from core import (
    NumberRef,
    ProviderError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
    PurchasedNumber,
    VerificationResult,
    hookimpl,
)
from core.tables import utcnow
from tests.fakes import FakeCarrier

URL = "/settings/telephony/numbers/verify-cli"


@pytest.fixture
def fake() -> FakeCarrier:
    return FakeCarrier()


@pytest.fixture
def api(make_api: Any, fake: FakeCarrier) -> Any:
    return make_api(plugins=[], extra={"fake": fake})


def test_two_step_code_flow(api: Any, fake: FakeCarrier) -> None:
    n = api.add_number("+14155550100", "fake")
    r = api.client.post(URL, json={"number_id": n["id"]})
    assert r.status_code == 200
    assert r.json() == {
        "ok": True,
        "number_id": n["id"],
        "verified_cli": False,
        "status": "pending",
        "next_step": "submit_code",
        "display_code": None,
        "detail": None,
    }
    wrong = api.client.post(URL, json={"number_id": n["id"], "code": "999999"}).json()
    assert wrong["status"] == "failed" and wrong["verified_cli"] is False
    assert wrong["detail"] == "wrong code"
    right = api.client.post(URL, json={"number_id": n["id"], "code": "123456"}).json()
    assert right["status"] == "verified" and right["verified_cli"] is True
    row = api.number(n["id"])
    assert (
        row["verified_cli"] and row["verified_at"] is not None and row["verification_ref"] == "VN-1"
    )
    actions = [(a["action"], a["outcome"]) for a in api.audit()]
    assert actions == [
        ("verification_started", "pending"),
        ("verification_failed", "failed"),
        ("verification_succeeded", "verified"),
    ]
    started = api.audit(action="verification_started")[0]
    assert started["actor"].startswith("user:") and started["provider"] == "fake"
    assert started["workspace_id"] == api.workspace_id and started["subject_id"] == n["id"]
    assert fake.calls["verify_cli"] == 3


class PoolWatchingCarrier(FakeCarrier):
    """Records how many database connections the app holds while the carrier is asked."""

    def __init__(self) -> None:
        super().__init__()
        self.pool: Any = None
        self.held: list[int] = []

    @hookimpl
    async def verify_cli(self, number: NumberRef, code: str | None) -> VerificationResult:
        self.held.append(self.pool.checkedout())
        return await super().verify_cli(number, code)

    @hookimpl
    async def purchase_number(self, e164: str, workspace: str) -> PurchasedNumber:
        self.held.append(self.pool.checkedout())
        return await super().purchase_number(e164, workspace)


def test_no_database_connection_is_held_during_carrier_calls(make_api: Any) -> None:
    """A carrier may take seconds: no transaction stays open (nor a pooled connection held)
    while it answers a verification start, a code or a purchase."""
    fake = PoolWatchingCarrier()
    api = make_api(plugins=[], extra={"fake": fake})
    fake.pool = api.app.state.runtime.engine.sync_engine.pool
    n = api.add_number("+14155550100", "fake")
    assert api.client.post(URL, json={"number_id": n["id"]}).json()["status"] == "pending"
    right = api.client.post(URL, json={"number_id": n["id"], "code": "123456"}).json()
    assert right["verified_cli"] is True
    bought = api.client.post(
        "/settings/telephony/numbers/purchase", json={"provider": "fake", "e164": "+14155550111"}
    )
    assert bought.status_code == 201, bought.text
    assert fake.held == [0, 0, 0]


def test_call_style_shows_display_code(make_api: Any) -> None:
    fake = FakeCarrier(style="call")
    api = make_api(plugins=[], extra={"fake": fake})
    n = api.add_number("+14155550100", "fake")
    r = api.client.post(URL, json={"number_id": n["id"]}).json()
    assert r["next_step"] == "answer_call_and_enter_code" and r["display_code"] == "012345"


def test_already_verified_calls_no_carrier(api: Any, fake: FakeCarrier) -> None:
    n = api.add_number("+14155550100", "fake", verified_cli=True, verification_status="verified")
    for _ in range(2):
        r = api.client.post(URL, json={"number_id": n["id"]}).json()
        assert r["verified_cli"] is True and r["status"] == "verified"
    assert fake.calls == {}


def test_carrier_says_already_verified(api: Any, fake: FakeCarrier) -> None:
    fake.already_verified.add("+14155550100")
    n = api.add_number("+14155550100", "fake")
    r = api.client.post(URL, json={"number_id": n["id"]}).json()
    assert r["verified_cli"] is True and r["status"] == "verified"


def test_hosted_number_needs_no_verification(api: Any, fake: FakeCarrier) -> None:
    n = api.add_number("+14155550100", "fake", hosted=True)
    r = api.client.post(URL, json={"number_id": n["id"]})
    assert r.status_code == 409 and r.json()["code"] == "hosted_number"
    assert "without verification" in r.json()["detail"]
    assert fake.calls == {}


def test_pending_answers_again_without_carrier(api: Any, fake: FakeCarrier) -> None:
    n = api.add_number("+14155550100", "fake")
    first = api.client.post(URL, json={"number_id": n["id"]}).json()
    second = api.client.post(URL, json={"number_id": n["id"]}).json()
    assert first == second
    assert fake.calls["verify_cli"] == 1


def test_expired_pending_starts_again(api: Any, fake: FakeCarrier) -> None:
    old = utcnow() - timedelta(minutes=11)
    n = api.add_number(
        "+14155550100",
        "fake",
        verification_status="pending",
        verification_started_at=old,
        verification_next_step="submit_code",
    )
    r = api.client.post(URL, json={"number_id": n["id"]})
    assert r.json()["status"] == "pending"
    assert fake.calls["verify_cli"] == 1
    assert api.number(n["id"])["verification_started_at"] > old
    # an expired verification cannot be completed with a code
    n2 = api.add_number(
        "+14155550101", "fake", verification_status="pending", verification_started_at=old
    )
    r = api.client.post(URL, json={"number_id": n2["id"], "code": "123456"})
    assert r.status_code == 409 and r.json()["code"] == "no_pending_verification"


def test_failed_may_start_again(api: Any, fake: FakeCarrier) -> None:
    n = api.add_number("+14155550100", "fake", verification_status="failed")
    r = api.client.post(URL, json={"number_id": n["id"]}).json()
    assert r["status"] == "pending" and fake.calls["verify_cli"] == 1


def test_code_without_pending_is_409(api: Any, fake: FakeCarrier) -> None:
    n = api.add_number("+14155550100", "fake")
    r = api.client.post(URL, json={"number_id": n["id"], "code": "123456"})
    assert r.status_code == 409 and r.json()["code"] == "no_pending_verification"
    assert fake.calls == {}


def test_unknown_and_foreign_numbers_are_404(api: Any) -> None:
    n = api.add_number("+14155550100", "fake", workspace="b")
    assert api.client.post(URL, json={"number_id": n["id"]}).status_code == 404
    assert api.client.post(URL, json={"number_id": "nope"}).status_code == 404


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (ProviderUnavailable("carrier timed out", provider="fake"), 503, "provider_unavailable"),
        (
            ProviderUnavailable("HTTP 500", provider="fake", provider_code=500),
            503,
            "provider_unavailable",
        ),
        (
            ProviderRateLimited("slow down", retry_after=7, provider="fake"),
            429,
            "provider_rate_limited",
        ),
        (
            ProviderRejected("bad number", provider="fake", provider_code=21211),
            502,
            "provider_rejected",
        ),
    ],
)
def test_carrier_failure_changes_nothing_and_is_audited(
    api: Any, fake: FakeCarrier, error: ProviderError, status: int, code: str
) -> None:
    n = api.add_number("+14155550100", "fake")
    before = api.number(n["id"])
    fake.fail["verify_cli"] = error
    r = api.client.post(URL, json={"number_id": n["id"]})
    assert r.status_code == status and r.json()["code"] == code
    if status == 429:
        assert r.headers["retry-after"] == "7"
    after = api.number(n["id"])
    assert {k: v for k, v in after.items() if k != "updated_at"} == {
        k: v for k, v in before.items() if k != "updated_at"
    }
    event = api.audit(action="verification_error")[0]
    assert event["outcome"] == code and event["subject_id"] == n["id"]
    # and the number can start again once the carrier is back
    del fake.fail["verify_cli"]
    assert api.client.post(URL, json={"number_id": n["id"]}).json()["status"] == "pending"


def test_malformed_answer(make_api: Any) -> None:
    from core import hookimpl

    class Garbled(FakeCarrier):
        @hookimpl
        def verify_cli(self, number: Any, code: Any) -> Any:  # type: ignore[override]
            return {"status": "maybe"}

    api = make_api(plugins=[], extra={"g": Garbled()})
    n = api.add_number("+14155550100", "fake")
    r = api.client.post(URL, json={"number_id": n["id"]})
    assert r.status_code == 502 and r.json()["code"] == "provider_error"
    assert "malformed verify_cli result" in r.json()["detail"]
    assert api.number(n["id"])["verification_status"] == "none"
    assert api.audit(action="verification_error")[0]["outcome"] == "provider_error"


def test_demo_mode_refuses_carrier_work(make_api: Any) -> None:
    fake = FakeCarrier()
    api = make_api(plugins=[], extra={"fake": fake}, env={"DEMO_MODE": "true"})
    n = api.add_number("+14155550100", "fake")
    r = api.client.post(URL, json={"number_id": n["id"]})
    assert r.status_code == 403 and r.json()["code"] == "demo_mode"
    assert api.client.get("/settings/telephony/numbers").status_code == 200  # reading works
    r = api.client.post(
        "/settings/telephony/numbers/purchase", json={"provider": "fake", "e164": "+14155550199"}
    )
    assert r.status_code == 403 and r.json()["code"] == "demo_mode"
    r = api.client.get("/settings/telephony/numbers/available", params={"country": "US"})
    assert r.status_code == 403 and r.json()["code"] == "demo_mode"
    assert fake.calls == {}


def test_sixth_request_a_minute_is_429(api: Any, fake: FakeCarrier) -> None:
    n = api.add_number("+14155550100", "fake", verified_cli=True, verification_status="verified")
    for _ in range(5):
        assert api.client.post(URL, json={"number_id": n["id"]}).status_code == 200
    r = api.client.post(URL, json={"number_id": n["id"]})
    assert r.status_code == 429 and r.json()["code"] == "rate_limited"
    assert 1 <= int(r.headers["retry-after"]) <= 60
    # per user: workspace B's user is not affected
    m = api.add_number(
        "+14155550101", "fake", workspace="b", verified_cli=True, verification_status="verified"
    )
    assert api.client_b.post(URL, json={"number_id": m["id"]}).status_code == 200
    metrics = api.anon.get("/metrics").text
    assert 'trunkline_rate_limit_refusals_total{limit="verify_cli"} 1.0' in metrics
