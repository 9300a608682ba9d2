"""Purchases at the carrier's price, rental accrual (service and CLI) and the ledger listing."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from core import ProviderInfo, ProviderRejected, ProviderUnavailable, hookimpl
from core.cli import app as cli_app
from core.errors import InvalidInput
from core.purchases import accrue_rentals
from core.tables import utcnow
from tests.fakes import FakeCarrier, FakeSettings

PURCHASE = "/settings/telephony/numbers/purchase"
LEDGER = "/settings/telephony/ledger"
TRUNKLINE = Path(sys.executable).parent / "trunkline"


def build(make_api: Any, env: dict[str, str] | None = None, **extra: Any) -> tuple[Any, Any]:
    fake = FakeCarrier()
    api = make_api(
        plugins=["country_rules"],
        tables={"country_rules": {"blocked": ["KP"]}},
        extra={"fake": fake, **extra},
        env=env or {},
    )
    return api, fake


@pytest.fixture
def env(make_api: Any) -> tuple[Any, FakeCarrier]:
    return build(make_api)


def buy(client: Any, e164: str, provider: str = "fake") -> Any:
    return client.post(PURCHASE, json={"provider": provider, "e164": e164})


# -- purchases ---------------------------------------------------------------------------------


def test_purchase_makes_a_hosted_number_and_a_pass_through_ledger_entry(env: Any) -> None:
    api, fake = env
    r = buy(api.client, "+14155550123")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["hosted"] is True and body["phone_e164"] == "+14155550123"
    assert body["provider"] == "fake" and body["caller_id_allowed"] is True
    assert body["outbound_enabled"] is False and body["number_type"] == "local"
    assert sorted(body["capabilities"]) == ["sms", "voice"]
    assert fake.calls["purchase_number"] == 1

    row = api.number(body["id"])
    assert row["state"] == "active" and row["hosted"] is True
    assert row["provider_ref"] == "PN-+14155550123"

    (entry,) = api.ledger()
    assert entry["kind"] == "purchase" and entry["number_id"] == body["id"]
    assert entry["amount_cents"] == 0 and entry["workspace_id"] == api.workspace_id
    assert entry["currency"] == "USD" and entry["period"] is None
    meta = entry["metadata"]
    assert meta["pass_through"] is True and meta["markup_cents"] == 0
    assert meta["carrier_monthly_cost"] == "1.15" and meta["carrier_upfront_cost"] == "0"
    assert meta["carrier_currency"] == "USD" and meta["provider_ref"] == "PN-+14155550123"

    (event,) = api.audit(action="number_purchased")
    assert event["outcome"] == "ok" and event["subject_id"] == body["id"]
    assert event["detail"]["monthly_cost"] == "1.15" and event["detail"]["currency"] == "USD"

    # a hosted number may be bound for outbound and used as caller ID right away
    r = api.client.patch(
        f"/settings/telephony/numbers/{body['id']}", json={"outbound_enabled": True}
    )
    assert r.status_code == 200
    r = api.client.post("/campaigns", json={"name": "c", "from_e164": "+14155550123"})
    assert r.status_code == 201


def test_the_carrier_cost_is_kept_exactly(make_api: Any) -> None:
    fake = FakeCarrier()
    from decimal import Decimal

    fake.cost = Decimal("0.0075")
    api = make_api(plugins=[], extra={"fake": fake})
    assert buy(api.client, "+14155550123").status_code == 201
    (entry,) = api.ledger()
    assert entry["metadata"]["carrier_monthly_cost"] == "0.0075" and entry["amount_cents"] == 0


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (
            ProviderRejected("gone", provider="fake", provider_code="21422"),
            502,
            "provider_rejected",
        ),
        (ProviderUnavailable("timeout", provider="fake"), 503, "provider_unavailable"),
    ],
)
def test_failed_purchase_leaves_nothing_but_an_audit_event(
    env: Any, error: Exception, status: int, code: str
) -> None:
    api, fake = env
    fake.fail["purchase_number"] = error
    r = buy(api.client, "+14155550123")
    assert r.status_code == status and r.json()["code"] == code
    assert api.numbers() == [] and api.ledger() == []
    (event,) = api.audit(action="number_purchased")
    assert event["outcome"] == code and event["subject_id"] is None
    assert event["detail"]["phone_e164"] == "+14155550123"
    assert api.client.get("/settings/telephony/numbers").json()["total"] == 0
    # the claim was released: the same purchase succeeds once the carrier agrees
    del fake.fail["purchase_number"]
    assert buy(api.client, "+14155550123").status_code == 201
    assert fake.calls["purchase_number"] == 2
    assert len(api.numbers()) == 1 and len(api.ledger()) == 1


def test_a_plugin_crash_releases_the_claim(env: Any) -> None:
    api, fake = env
    fake.fail["purchase_number"] = RuntimeError("plugin bug")
    r = buy(api.client, "+14155550123")
    assert r.status_code == 500 and r.json()["code"] == "internal_error"
    assert "plugin bug" not in r.text
    assert api.numbers() == [] and api.ledger() == []


def test_duplicate_purchase_is_409_without_a_second_carrier_call(env: Any) -> None:
    api, fake = env
    assert buy(api.client, "+14155550123").status_code == 201
    r = buy(api.client, "+1 415 555 0123".replace(" ", ""))
    assert r.status_code == 409 and r.json()["code"] == "number_exists"
    assert r.json()["field"] == "e164"
    assert fake.calls["purchase_number"] == 1
    assert len(api.numbers()) == 1 and len(api.ledger()) == 1


def test_a_purchase_in_progress_blocks_another(env: Any) -> None:
    """A fresh ``purchasing`` claim (another request is asking the carrier) is a 409."""
    api, fake = env
    api.add_number("+14155550123", "fake", state="purchasing", created_at=utcnow())
    r = buy(api.client, "+14155550123")
    assert r.status_code == 409 and r.json()["code"] == "number_exists"
    assert "being bought" in r.json()["detail"]
    assert "purchase_number" not in fake.calls and api.ledger() == []
    assert api.audit(action="number_purchase_abandoned") == []


def test_an_abandoned_claim_expires_and_is_taken_over(env: Any) -> None:
    """A claim left by a purchase whose process died no longer blocks the number forever."""
    api, fake = env
    old = utcnow() - timedelta(seconds=api.runtime.settings.purchase_claim_expiry_seconds + 5)
    stale = api.add_number("+14155550123", "fake", state="purchasing", created_at=old)
    r = buy(api.client, "+14155550123")
    assert r.status_code == 201, r.text
    assert r.json()["id"] != stale["id"] and fake.calls["purchase_number"] == 1
    (number,) = api.numbers(workspace_id=uuid.UUID(api.workspace_id))
    assert number["state"] == "active" and number["hosted"] is True
    assert number["id"] == r.json()["id"] and len(api.ledger()) == 1
    (event,) = api.audit(action="number_purchase_abandoned")
    assert event["outcome"] == "expired" and event["workspace_id"] == api.workspace_id
    assert event["detail"]["phone_e164"] == "+14155550123"


def test_another_workspaces_claim_blocks_until_it_expires(env: Any) -> None:
    """A purchase under way in workspace B claims the number for the deployment: A is
    refused (number_claimed) until B's claim expires; then A takes it over, and the abandoned
    claim is audited in B's workspace, where it was made."""
    api, fake = env
    fresh = api.add_number("+14155550123", "fake", workspace="b", state="purchasing")
    r = buy(api.client, "+14155550123")
    assert r.status_code == 409 and r.json()["code"] == "number_claimed", r.text
    assert "purchase_number" not in fake.calls
    api.run(_age, fresh["id"], api)
    r = buy(api.client, "+14155550123")
    assert r.status_code == 201, r.text
    assert fake.calls["purchase_number"] == 1
    assert api.numbers(workspace_id=uuid.UUID(api.workspace_b_id)) == []
    (event,) = api.audit(action="number_purchase_abandoned")
    assert event["workspace_id"] == api.workspace_b_id


async def _age(number_id: str, api: Any) -> None:
    """Make a ``purchasing`` row older than the claim expiry."""
    from sqlalchemy import update

    from core.tables import Number

    old = utcnow() - timedelta(seconds=api.runtime.settings.purchase_claim_expiry_seconds + 5)
    async with api.runtime.sessionmaker() as session:
        await session.execute(
            update(Number).where(Number.id == uuid.UUID(number_id)).values(created_at=old)
        )
        await session.commit()


def test_purchasing_a_number_already_added_as_byo_is_409(env: Any) -> None:
    api, fake = env
    api.add_number("+14155550123", "fake")
    r = buy(api.client, "+14155550123")
    assert r.status_code == 409 and r.json()["code"] == "number_exists"
    assert "purchase_number" not in fake.calls and api.ledger() == []
    (number,) = api.numbers()
    assert number["hosted"] is False


def test_a_number_held_for_long_is_never_taken_for_an_abandoned_claim(env: Any) -> None:
    """Only ``purchasing`` rows expire: a number owned for longer than the claim expiry (hosted,
    or brought) stays, and buying it again is a 409 that reaches no carrier."""
    api, fake = env
    old = utcnow() - timedelta(seconds=api.runtime.settings.purchase_claim_expiry_seconds + 3600)
    hosted = api.add_number("+14155550123", "fake", hosted=True, created_at=old)
    byo = api.add_number("+14155550124", "fake", created_at=old)
    for number in (hosted, byo):
        r = buy(api.client, number["phone_e164"])
        assert r.status_code == 409 and r.json()["code"] == "number_exists", r.text
    assert "purchase_number" not in fake.calls and api.ledger() == []
    assert {n["id"] for n in api.numbers()} == {hosted["id"], byo["id"]}
    assert api.number(hosted["id"])["hosted"] is True
    assert api.audit(action="number_purchase_abandoned") == []


def test_purchase_input_errors_reach_no_carrier(env: Any) -> None:
    api, fake = env
    r = buy(api.client, "+14155550123", provider="nope")
    assert r.status_code == 422 and r.json()["code"] == "unknown_provider"
    r = buy(api.client, "0123")
    assert r.status_code == 422 and r.json()["code"] == "invalid_phone_number"
    r = api.client.post(PURCHASE, json={"e164": "+14155550123"})
    assert r.status_code == 422 and r.json()["code"] == "validation_error"
    assert (
        api.anon.post(PURCHASE, json={"provider": "fake", "e164": "+14155550123"}).status_code
        == 401
    )
    assert "purchase_number" not in fake.calls
    assert api.numbers() == [] and api.ledger() == []


def test_purchase_in_demo_mode_is_403(make_api: Any) -> None:
    api, fake = build(make_api, env={"DEMO_MODE": "true"})
    r = buy(api.client, "+14155550123")
    assert r.status_code == 403 and r.json()["code"] == "demo_mode"
    assert "purchase_number" not in fake.calls and api.numbers() == []


class NoPurchaseCarrier(FakeCarrier):
    @hookimpl
    def trunkline_register_providers(self, register: Any) -> None:
        register(
            ProviderInfo(
                name=self.name,
                display_name="Search only",
                capabilities={"search"},
                settings_model=FakeSettings,
            )
        )


def test_purchase_from_a_provider_without_the_capability(make_api: Any) -> None:
    shop = NoPurchaseCarrier(name="shop")
    api = make_api(plugins=[], extra={"shop": shop})
    r = buy(api.client, "+14155550123", provider="shop")
    assert r.status_code == 422 and r.json()["code"] == "unsupported_operation"
    assert "purchase_number" not in shop.calls
    assert api.numbers() == [] and api.ledger() == []


# -- rentals -----------------------------------------------------------------------------------


def _setup_numbers(api: Any) -> dict[str, str]:
    ids = {}
    for e164 in ("+14155550123", "+14155550124"):
        ids[e164] = buy(api.client, e164).json()["id"]
    ids["b"] = buy(api.client_b, "+14155550125").json()["id"]
    ids["direct"] = api.add_number("+14155550126", "fake", hosted=True)["id"]
    api.add_number("+14155550127", "fake")  # BYO: no rental
    api.add_number("+14155550128", "fake", hosted=True, state="purchasing")  # a claim
    return ids


def _accrue(api: Any, period: str) -> int:
    async def go() -> int:
        async with api.runtime.sessionmaker() as session:
            return await accrue_rentals(session, period)

    result: int = api.run(go)
    return result


def test_accrue_rentals_once_per_hosted_number_and_period(env: Any) -> None:
    api, _ = env
    ids = _setup_numbers(api)
    assert _accrue(api, "2099-01") == 4
    rentals = api.ledger(kind="rental")
    assert sorted(r["number_id"] for r in rentals) == sorted(ids.values())
    for r in rentals:
        assert r["period"] == "2099-01" and r["amount_cents"] == 0
        assert r["metadata"]["pass_through"] is True and r["metadata"]["markup_cents"] == 0
    by_number = {r["number_id"]: r for r in rentals}
    bought = by_number[ids["+14155550123"]]
    assert bought["metadata"]["carrier_monthly_cost"] == "1.15" and bought["currency"] == "USD"
    assert by_number[ids["b"]]["workspace_id"] == api.workspace_b_id
    assert by_number[ids["direct"]]["metadata"]["carrier_monthly_cost"] is None

    assert _accrue(api, "2099-01") == 0
    assert len(api.ledger(kind="rental")) == 4
    assert _accrue(api, "2099-02") == 4
    assert len(api.ledger(kind="rental")) == 8
    accrued = api.audit(action="rental_accrued")
    assert len(accrued) == 8 and {e["actor"] for e in accrued} == {"system:ledger"}
    assert {e["detail"]["period"] for e in accrued} == {"2099-01", "2099-02"}
    # purchases are untouched by accrual
    assert len(api.ledger(kind="purchase")) == 3


def test_no_rental_for_a_month_before_the_number_existed(env: Any) -> None:
    api, _ = env
    _setup_numbers(api)
    assert _accrue(api, "2020-01") == 0
    assert api.ledger(kind="rental") == []


@pytest.mark.parametrize(
    "period",
    [
        "2025-13",
        "2025-00",
        "2025-1",
        "25-01",
        "2025-01-01",
        "",
        "2025-01\n",
        "\uff12\uff10\uff12\uff15-01",
        "0000-01",
    ],
)
def test_accrue_rentals_refuses_a_bad_period(env: Any, period: str) -> None:
    api, _ = env
    _setup_numbers(api)
    with pytest.raises(InvalidInput) as info:
        _accrue(api, period)
    assert info.value.extra["field"] == "period"
    assert api.ledger(kind="rental") == []


def test_cli_accrue_rentals(env: Any) -> None:
    api, _ = env
    _setup_numbers(api)
    db = os.environ["TRUNKLINE_DATABASE_URL"]
    runner = CliRunner()
    result = runner.invoke(
        cli_app,
        ["ledger", "accrue-rentals", "--period", "2099-03"],
        env={"TRUNKLINE_DATABASE_URL": db},
    )
    assert result.exit_code == 0, result.output
    assert "4 rental entries added for 2099-03" in result.stdout
    assert len(api.ledger(kind="rental", period="2099-03")) == 4
    again = runner.invoke(
        cli_app,
        ["ledger", "accrue-rentals", "--period", "2099-03"],
        env={"TRUNKLINE_DATABASE_URL": db},
    )
    assert again.exit_code == 0 and "0 rental entries added" in again.stdout
    assert len(api.ledger(kind="rental")) == 4

    bad = runner.invoke(
        cli_app,
        ["ledger", "accrue-rentals", "--period", "2025-3"],
        env={"TRUNKLINE_DATABASE_URL": db},
    )
    assert bad.exit_code == 2 and "is not YYYY-MM" in bad.stderr
    missing = runner.invoke(
        cli_app, ["ledger", "accrue-rentals"], env={"TRUNKLINE_DATABASE_URL": db}
    )
    assert missing.exit_code == 2 and "--period" in missing.output
    assert len(api.ledger(kind="rental")) == 4


def test_installed_command_accrues_rentals(env: Any, tmp_path: Path) -> None:
    api, _ = env
    _setup_numbers(api)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TRUNKLINE_")}
    clean["TRUNKLINE_DATABASE_URL"] = os.environ["TRUNKLINE_DATABASE_URL"]
    run = subprocess.run(
        [str(TRUNKLINE), "ledger", "accrue-rentals", "--period", "2099-12"],
        cwd=tmp_path,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "4 rental entries added for 2099-12" in run.stdout
    assert len(api.ledger(kind="rental", period="2099-12")) == 4


# -- the ledger listing ------------------------------------------------------------------------


def test_ledger_listing_is_paged_and_workspace_scoped(env: Any) -> None:
    api, _ = env
    ids = _setup_numbers(api)
    _accrue(api, "2099-01")
    page = api.client.get(LEDGER, params={"limit": 2}).json()
    assert set(page) == {"items", "total", "limit", "offset"}
    # A: 2 purchases + 3 rentals (2 bought, 1 added hosted); B's entries are not here
    assert page["total"] == 5 and len(page["items"]) == 2 and page["limit"] == 2
    everything = []
    for offset in range(0, 5, 2):
        everything += api.client.get(LEDGER, params={"limit": 2, "offset": offset}).json()["items"]
    assert len({e["id"] for e in everything}) == 5
    assert ids["b"] not in {e["number_id"] for e in everything}
    kinds = sorted(e["kind"] for e in everything)
    assert kinds == ["purchase", "purchase", "rental", "rental", "rental"]
    for e in everything:
        assert e["amount_cents"] == 0 and e["metadata"]["pass_through"] is True
    theirs = api.client_b.get(LEDGER).json()
    assert theirs["total"] == 2
    assert {e["number_id"] for e in theirs["items"]} == {ids["b"]}
    assert api.anon.get(LEDGER).status_code == 401
    assert api.client.get(LEDGER, params={"limit": 501}).status_code == 422
