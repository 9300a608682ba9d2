"""The destination lookup service: the caller ID's carrier asked once, answers cached per
workspace and per consent date, each carrier answer one pass-through ledger entry, failures
answered as outcomes, batches deduplicated and bounded."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from core import NumberIntel, ProviderInfo, ProviderUnavailable, hookimpl
from core.lookups import LookupAsk, for_runtime
from tests.fakes import FakeCarrier

DEST = "+14155550123"


class Probe:
    """Provider ``probe``: lookups only, counted, optionally slow or failing."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, frozenset[str], date | None]] = []
        self.delay = 0.0
        self.fail: Exception | None = None
        self.running = 0
        self.most_at_once = 0
        #: When set, each lookup waits (up to 5 s) until this many are running at once.
        self.meet: int | None = None
        self._met: asyncio.Event | None = None

    @hookimpl
    def trunkline_register_providers(self, register: Any) -> None:
        register(ProviderInfo(name="probe", display_name="Probe", capabilities={"lookup"}))

    @hookimpl
    async def lookup_number(
        self, e164: str, fields: set[str], last_verified_date: date | None
    ) -> NumberIntel:
        self.asked.append((e164, frozenset(fields), last_verified_date))
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        try:
            if self.meet is not None:
                self._met = self._met or asyncio.Event()
                if self.running >= self.meet:
                    self._met.set()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._met.wait(), 5)
            await asyncio.sleep(self.delay)
            if self.fail is not None:
                raise self.fail
        finally:
            self.running -= 1
        return NumberIntel(
            provider="probe",
            phone_e164=e164,
            line_type="landline" if e164.endswith("3") else "mobile",
            carrier_name="Probe Tel",
            reassigned="yes" if "reassigned" in fields else "unsupported",
            cost=Decimal("0.008"),
            currency="USD",
        )


@pytest.fixture
def env(make_api: Any) -> tuple[Any, Probe]:
    probe = Probe()
    api = make_api(plugins=["sandbox"], extra={"probe": probe, "fake": FakeCarrier()})
    return api, probe


def _ask(api: Any, dest: str = DEST, **kw: Any) -> LookupAsk:
    values: dict[str, Any] = {
        "workspace_id": uuid.UUID(api.workspace_id),
        "provider": "probe",
        "phone_e164": dest,
        **kw,
    }
    return LookupAsk(**values)


def _look(api: Any, ask: LookupAsk) -> Any:
    async def go() -> Any:
        return await for_runtime(api.runtime).look_up(ask)

    return api.run(go)


def test_a_lookup_is_billed_once_then_served_from_the_cache(env: Any) -> None:
    api, probe = env
    first = _look(api, _ask(api))
    assert (first.status, first.line_type, first.carrier_name) == ("ok", "landline", "Probe Tel")
    assert first.reassigned is None  # not asked
    assert probe.asked == [(DEST, frozenset({"line_type"}), None)]
    [entry] = api.ledger(kind="lookup")
    assert entry["amount_cents"] == 0 and entry["currency"] == "USD"
    assert entry["phone_e164"] == DEST and entry["provider"] == "probe"
    assert entry["metadata"]["pass_through"] is True
    assert entry["metadata"]["carrier_cost"] == "0.008"
    assert entry["metadata"]["fields"] == ["line_type"]

    second = _look(api, _ask(api))
    assert (second.status, second.line_type) == ("cached", "landline")
    assert len(probe.asked) == 1 and len(api.ledger(kind="lookup")) == 1


def test_a_reassigned_answer_is_kept_only_for_its_date(env: Any) -> None:
    api, probe = env
    jan, feb = date(2026, 1, 1), date(2026, 2, 1)
    first = _look(api, _ask(api, last_verified_date=jan))
    assert (first.status, first.reassigned, first.line_type) == ("ok", "yes", "landline")
    assert probe.asked[-1] == (DEST, frozenset({"line_type", "reassigned"}), jan)
    assert _look(api, _ask(api, last_verified_date=jan)).status == "cached"
    other = _look(api, _ask(api, last_verified_date=feb))
    assert other.status == "ok" and other.line_type == "landline"
    assert probe.asked[-1] == (DEST, frozenset({"reassigned"}), feb)  # line type from cache
    assert len(probe.asked) == 2 and len(api.ledger(kind="lookup")) == 2


def test_answers_are_per_workspace_and_expire(env: Any, make_api: Any) -> None:
    api, probe = env
    _look(api, _ask(api))
    theirs = _ask(api, workspace_id=uuid.UUID(api.workspace_b_id))
    assert _look(api, theirs).status == "ok"  # B never sees what A paid for
    assert len(probe.asked) == 2

    fresh = Probe()
    expiring = make_api(extra={"probe": fresh}, env={"TRUNKLINE_LOOKUP_CACHE_DAYS": "0"})
    assert _look(expiring, _ask(expiring)).status == "ok"
    assert _look(expiring, _ask(expiring)).status == "ok"
    mine = expiring.ledger(kind="lookup", workspace_id=uuid.UUID(expiring.workspace_id))
    assert len(fresh.asked) == 2 and len(mine) == 2


def test_a_carrier_failure_is_an_outcome_not_an_error(env: Any) -> None:
    api, probe = env
    probe.fail = ProviderUnavailable("down", provider="probe")
    failed = _look(api, _ask(api))
    assert (failed.status, failed.error, failed.line_type) == (
        "failed",
        "provider_unavailable",
        None,
    )
    assert api.ledger(kind="lookup") == []
    probe.fail = None
    assert _look(api, _ask(api)).status == "ok"  # a failure is not cached


def test_a_provider_without_lookups_is_unsupported(env: Any) -> None:
    api, _ = env
    for provider in ("fake", "missing"):
        outcome = _look(api, _ask(api, provider=provider))
        assert outcome.status == "unsupported" and outcome.line_type is None
    assert api.ledger(kind="lookup") == []


def test_the_sandbox_answers_from_its_settings(make_api: Any) -> None:
    api = make_api(
        plugins=["sandbox"],
        tables={
            "sandbox": {
                "lookup": {"line_types": {DEST: "landline"}, "reassigned": ["+14155550124"]}
            }
        },
    )
    jan = date(2026, 1, 1)
    landline = _look(api, _ask(api, provider="sandbox", last_verified_date=jan))
    assert (landline.line_type, landline.reassigned) == ("landline", "no")
    moved = _look(api, _ask(api, "+14155550124", provider="sandbox", last_verified_date=jan))
    assert (moved.line_type, moved.reassigned) == ("mobile", "yes")
    costs = {e["metadata"]["carrier_cost"] for e in api.ledger(kind="lookup")}
    assert costs == {"0.005"}


def test_a_batch_asks_each_destination_once_and_at_most_n_at_a_time(env: Any) -> None:
    api, probe = env
    probe.meet = 3  # the first lookups wait for each other: more than 3 at once would show
    dests = [f"+1415555{n:04d}" for n in range(100, 112)]
    asks = [_ask(api, d) for d in dests] + [_ask(api, d) for d in dests[:5]]

    async def go() -> Any:
        return await for_runtime(api.runtime).look_up_many(asks, concurrency=3)

    outcomes = api.run(go)
    assert [o.status for o in outcomes] == ["ok"] * len(asks)
    assert [o.line_type for o in outcomes[-5:]] == [o.line_type for o in outcomes[:5]]
    assert sorted(e for e, _, _ in probe.asked) == sorted(dests)
    assert probe.most_at_once == 3
    assert len(api.ledger(kind="lookup")) == len(dests)


def test_concurrent_asks_for_one_destination_share_one_request(env: Any) -> None:
    api, probe = env
    probe.delay = 0.05

    async def go() -> Any:
        service = for_runtime(api.runtime)
        return await asyncio.gather(*(service.look_up(_ask(api)) for _ in range(5)))

    outcomes = api.run(go)
    assert {o.status for o in outcomes} == {"ok"} and len(probe.asked) == 1
    assert len(api.ledger(kind="lookup")) == 1
