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
        "attempts_left": 5,
    }
    wrong = api.client.post(URL, json={"number_id": n["id"], "code": "999999"}).json()
    # A typo keeps the verification open (pending, not failed) and says what is left.
    assert wrong["status"] == "pending" and wrong["verified_cli"] is False
    assert wrong["detail"] == "wrong code" and wrong["attempts_left"] == 4
    assert wrong["next_step"] == "submit_code"
    assert api.number(n["id"])["verification_status"] == "pending"
    right = api.client.post(URL, json={"number_id": n["id"], "code": "123456"}).json()
    assert right["status"] == "verified" and right["verified_cli"] is True
    row = api.number(n["id"])
    assert (
        row["verified_cli"] and row["verified_at"] is not None and row["verification_ref"] == "VN-1"
    )
    actions = [(a["action"], a["outcome"]) for a in api.audit()]
    assert actions == [
        ("verification_started", "pending"),
        ("verification_code_rejected", "rejected"),
        ("verification_succeeded", "verified"),
    ]
    assert api.audit(action="verification_code_rejected")[0]["detail"]["attempts_left"] == 4
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
    ids = [api.add_number(f"+1415555010{i}", "fake")["id"] for i in range(6)]
    for number_id in ids[:5]:
        assert api.client.post(URL, json={"number_id": number_id}).status_code == 200
    before = api.number(ids[5])
    r = api.client.post(URL, json={"number_id": ids[5]})
    assert r.status_code == 429 and r.json()["code"] == "rate_limited"
    assert 1 <= int(r.headers["retry-after"]) <= 60
    assert fake.calls["verify_cli"] == 5
    # the refused start changed nothing: the number is not left "pending"
    after = api.number(ids[5])
    assert {k: v for k, v in after.items() if k != "updated_at"} == {
        k: v for k, v in before.items() if k != "updated_at"
    }
    # per user: workspace B's user is not affected
    m = api.add_number("+14155550109", "fake", workspace="b")
    assert api.client_b.post(URL, json={"number_id": m["id"]}).status_code == 200
    metrics = api.anon.get("/metrics").text
    assert 'trunkline_rate_limit_refusals_total{limit="verify_cli"} 1.0' in metrics


def test_only_calls_that_reach_the_carrier_count(api: Any, fake: FakeCarrier) -> None:
    """404, 409, an already verified number and a pending answer given from the database cost
    nothing; five carrier calls (starts and codes alike) do."""
    foreign = api.add_number("+14155550199", "fake", workspace="b")
    hosted = api.add_number("+14155550198", "fake", hosted=True)
    done = api.add_number("+14155550197", "fake", verified_cli=True, verification_status="verified")
    idle = api.add_number("+14155550196", "fake")
    for _ in range(3):
        assert api.client.post(URL, json={"number_id": foreign["id"]}).status_code == 404
        assert api.client.post(URL, json={"number_id": hosted["id"]}).status_code == 409
        assert api.client.post(URL, json={"number_id": done["id"]}).json()["verified_cli"]
        no_pending = api.client.post(URL, json={"number_id": idle["id"], "code": "123456"})
        assert no_pending.status_code == 409
    assert fake.calls == {}
    first = api.add_number("+14155550100", "fake")
    assert api.client.post(URL, json={"number_id": first["id"]}).status_code == 200  # 1
    for _ in range(3):  # the pending state again, from the database
        again = api.client.post(URL, json={"number_id": first["id"]})
        assert again.status_code == 200 and again.json()["status"] == "pending"
    wrong = api.client.post(URL, json={"number_id": first["id"], "code": "000000"})  # 2
    assert wrong.status_code == 200 and wrong.json()["attempts_left"] == 4
    for i in range(3):  # 3, 4, 5
        other = api.add_number(f"+1415555011{i}", "fake")
        assert api.client.post(URL, json={"number_id": other["id"]}).status_code == 200
    assert fake.calls["verify_cli"] == 5
    # the sixth carrier call is refused, a code as much as a start
    r = api.client.post(URL, json={"number_id": first["id"], "code": "123456"})
    assert r.status_code == 429 and r.json()["code"] == "rate_limited"
    assert fake.calls["verify_cli"] == 5
    # the refused code did not spend an attempt
    assert api.number(first["id"])["verification_attempts"] == 1


@pytest.fixture
def roomy(make_api: Any, fake: FakeCarrier) -> Any:
    """An app whose rate limit stays out of the way of attempt counting."""
    return make_api(
        plugins=[], extra={"fake": fake}, env={"TRUNKLINE_VERIFY_CLI_RATE": "100/minute"}
    )


def test_five_wrong_codes_end_the_verification(roomy: Any, fake: FakeCarrier) -> None:
    api = roomy
    n = api.add_number("+14155550100", "fake")
    assert api.client.post(URL, json={"number_id": n["id"]}).json()["attempts_left"] == 5
    for left in (4, 3, 2, 1):
        r = api.client.post(URL, json={"number_id": n["id"], "code": "000000"}).json()
        assert (r["status"], r["attempts_left"], r["next_step"]) == ("pending", left, "submit_code")
        assert api.number(n["id"])["verification_status"] == "pending"
    last = api.client.post(URL, json={"number_id": n["id"], "code": "000000"}).json()
    assert last["status"] == "failed" and last["attempts_left"] == 0
    assert "5 wrong codes" in last["detail"]
    assert api.number(n["id"])["verification_status"] == "failed"
    assert fake.calls["verify_cli"] == 6
    # over: even the right code is refused without asking the carrier; a new start is needed
    r = api.client.post(URL, json={"number_id": n["id"], "code": fake.right_code})
    assert r.status_code == 409 and r.json()["code"] == "no_pending_verification"
    assert r.json()["attempts_left"] == 0 and "start a new one" in r.json()["detail"]
    assert fake.calls["verify_cli"] == 6
    actions = [a["action"] for a in api.audit(subject_id=n["id"])]
    assert actions == ["verification_started"] + ["verification_code_rejected"] * 4 + [
        "verification_failed"
    ]
    restarted = api.client.post(URL, json={"number_id": n["id"]}).json()
    assert restarted["status"] == "pending" and restarted["attempts_left"] == 5
    right = api.client.post(URL, json={"number_id": n["id"], "code": fake.right_code}).json()
    assert right["verified_cli"] is True and right["attempts_left"] is None


def test_the_right_code_after_a_typo_verifies(roomy: Any, fake: FakeCarrier) -> None:
    n = roomy.add_number("+14155550100", "fake")
    roomy.client.post(URL, json={"number_id": n["id"]})
    for _ in range(4):
        roomy.client.post(URL, json={"number_id": n["id"], "code": "000000"})
    r = roomy.client.post(URL, json={"number_id": n["id"], "code": fake.right_code}).json()
    assert r["status"] == "verified" and r["verified_cli"] is True


def test_concurrent_guesses_never_exceed_the_cap(make_api: Any) -> None:
    from concurrent.futures import ThreadPoolExecutor

    fake = FakeCarrier()
    api = make_api(
        plugins=[], extra={"fake": fake}, env={"TRUNKLINE_VERIFY_CLI_RATE": "100/minute"}
    )
    n = api.add_number("+14155550100", "fake")
    api.client.post(URL, json={"number_id": n["id"]})
    fake.delay = 0.2
    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(
            pool.map(
                lambda i: api.client.post(
                    URL, json={"number_id": n["id"], "code": f"00000{i % 10}"}
                ),
                range(12),
            )
        )
    codes = sorted(r.status_code for r in answers)
    assert codes == [200] * 5 + [409] * 7, [r.text for r in answers]
    assert fake.calls["verify_cli"] == 1 + 5
    row = api.number(n["id"])
    assert row["verification_status"] == "failed" and row["verification_attempts"] == 5


def test_a_carrier_failure_on_a_code_gives_the_attempt_back(roomy: Any, fake: FakeCarrier) -> None:
    n = roomy.add_number("+14155550100", "fake")
    roomy.client.post(URL, json={"number_id": n["id"]})
    fake.fail["verify_cli"] = ProviderUnavailable("carrier timed out", provider="fake")
    r = roomy.client.post(URL, json={"number_id": n["id"], "code": "000000"})
    assert r.status_code == 503
    del fake.fail["verify_cli"]
    assert roomy.number(n["id"])["verification_attempts"] == 0
    again = roomy.client.post(URL, json={"number_id": n["id"]}).json()
    assert again["status"] == "pending" and again["attempts_left"] == 5


def test_after_a_wrong_code_a_start_sends_a_new_code(roomy: Any, fake: FakeCarrier) -> None:
    """The pending state is answered again from the database (no code sent twice) until a
    code was refused: then the user may ask for a new code, and the count starts over."""
    n = roomy.add_number("+14155550100", "fake")
    roomy.client.post(URL, json={"number_id": n["id"]})
    assert roomy.client.post(URL, json={"number_id": n["id"]}).json()["attempts_left"] == 5
    assert fake.calls["verify_cli"] == 1
    roomy.client.post(URL, json={"number_id": n["id"], "code": "000000"})
    again = roomy.client.post(URL, json={"number_id": n["id"]}).json()
    assert again["status"] == "pending" and again["attempts_left"] == 5
    assert fake.calls["verify_cli"] == 3  # start, code, new start
    assert roomy.client.post(URL, json={"number_id": n["id"]}).json()["attempts_left"] == 5
    assert fake.calls["verify_cli"] == 3
