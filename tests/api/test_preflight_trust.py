"""The preflight's trust answers through the API: the caller ID's stored ``attestation``, and a
destination lookup on ``lookup: true`` (``number_reassigned`` with ``last_verified_date``), with
the sandbox and with Twilio and Telnyx on the wire (respx): caching (no second carrier request,
no second ledger entry), carrier faults (the preflight still answers), and the batch."""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Any

import httpx
import pytest
import respx

CHECK = "/outbound/check"
BATCH = "/outbound/check/batch"
FROM = "+14155550123"
DEST = "+12125550199"
LANDLINE = "+12125550111"
MOVED = "+12125550122"


def _check(api: Any, to: str, **extra: Any) -> dict[str, Any]:
    r = api.client.post(CHECK, json={"from": FROM, "to": to, **extra})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def _lookups(api: Any) -> list[dict[str, Any]]:
    return api.ledger(kind="lookup", workspace_id=uuid.UUID(api.workspace_id))


def _number(api: Any, provider: str = "sandbox", **fields: Any) -> Any:
    values: dict[str, Any] = {"hosted": True, "outbound_enabled": True, **fields}
    return api.add_number(FROM, provider, **values)


@pytest.fixture
def api(make_api: Any) -> Any:
    api = make_api(
        plugins=["sandbox"],
        tables={
            "sandbox": {"lookup": {"line_types": {LANDLINE: "landline"}, "reassigned": [MOVED]}}
        },
    )
    _number(api, attestation_level="A")
    return api


def test_the_answer_carries_the_stored_attestation(make_api: Any) -> None:
    api = make_api(plugins=["sandbox"])
    _number(api, hosted=False, verified_cli=True, attestation_level="B")
    answer = _check(api, DEST)
    assert answer["attestation"] == "B" and answer["lookup"] is None
    api.add_number("+14155550124", "sandbox", hosted=True, outbound_enabled=True)
    never = api.client.post(CHECK, json={"from": "+14155550124", "to": DEST}).json()
    assert never["attestation"] is None and never["allowed"] is True


def test_no_lookup_unless_asked(api: Any) -> None:
    answer = _check(api, MOVED, last_verified_date="2026-01-15")
    assert answer["allowed"] is True and answer["lookup"] is None
    assert _lookups(api) == []


def test_a_lookup_is_billed_once_then_served_from_the_cache(api: Any) -> None:
    first = _check(api, LANDLINE, lookup=True)
    assert first["allowed"] is True
    assert first["lookup"] == {
        "status": "ok",
        "line_type": "landline",
        "reassigned": None,
        "carrier_name": "Sandbox Telecom (simulated)",
        "error": None,
    }
    [entry] = _lookups(api)
    assert entry["amount_cents"] == 0 and entry["currency"] == "USD"
    assert entry["metadata"]["pass_through"] is True
    assert entry["metadata"]["carrier_cost"] == "0.005" and entry["phone_e164"] == LANDLINE
    second = _check(api, LANDLINE, lookup=True)
    assert second["lookup"]["status"] == "cached" and second["lookup"]["line_type"] == "landline"
    assert len(_lookups(api)) == 1  # no carrier request, no ledger entry
    assert _check(api, DEST, lookup=True)["lookup"]["line_type"] == "mobile"
    assert len(_lookups(api)) == 2


def test_a_reassigned_destination_is_refused(api: Any) -> None:
    moved = _check(api, MOVED, lookup=True, last_verified_date="2026-01-15")
    assert moved["allowed"] is False and moved["reasons"] == ["number_reassigned"]
    assert moved["lookup"]["reassigned"] == "yes"
    kept = _check(api, DEST, lookup=True, last_verified_date="2026-01-15")
    assert kept["allowed"] is True and kept["lookup"]["reassigned"] == "no"
    undated = _check(api, MOVED, lookup=True)  # no consent date: nothing to check against
    assert undated["allowed"] is True and undated["lookup"]["reassigned"] is None
    assert (
        _check(api, MOVED, lookup=True, last_verified_date="2026-01-15")["lookup"]["status"]
        == "cached"
    )
    other_day = _check(api, MOVED, lookup=True, last_verified_date="2026-02-01")
    assert other_day["lookup"]["status"] == "ok"  # an answer holds for its own date only


def test_reasons_stay_in_order(make_api: Any) -> None:
    api = make_api(plugins=["sandbox"], tables={"sandbox": {"lookup": {"reassigned": [MOVED]}}})
    api.add_number(FROM, "sandbox")  # neither enabled, hosted nor verified
    answer = _check(api, MOVED, lookup=True, last_verified_date="2026-01-15")
    assert answer["reasons"] == ["outbound_disabled", "caller_id_not_allowed", "number_reassigned"]


@pytest.mark.parametrize(
    "body",
    [
        {"last_verified_date": "15/01/2026"},
        {"last_verified_date": "2026-13-01"},
        {"last_verified_date": 20260115},
        {"lookup": "yes"},
        {"lookup": 1},
    ],
)
def test_bad_fields_are_422(api: Any, body: dict[str, Any]) -> None:
    r = api.client.post(CHECK, json={"from": FROM, "to": DEST, **body})
    assert r.status_code == 422, r.text
    assert _lookups(api) == []


@pytest.mark.parametrize("fault", ["unavailable", "rate_limited", "auth", "rejected"])
def test_a_failing_lookup_never_fails_the_preflight(api: Any, fault: str) -> None:
    api.host.pm.get_plugin("sandbox").settings.fail_operations = {"lookup_number": fault}
    answer = _check(api, MOVED, lookup=True, last_verified_date="2026-01-15")
    assert answer["allowed"] is True and answer["reasons"] == []
    assert answer["lookup"]["status"] == "failed" and answer["lookup"]["error"]
    assert answer["lookup"]["line_type"] is None and _lookups(api) == []


def test_a_provider_without_lookups_says_unsupported(make_api: Any) -> None:
    from tests.fakes import FakeCarrier

    api = make_api(plugins=[], extra={"fake": FakeCarrier()})
    _number(api, provider="fake")
    answer = _check(api, DEST, lookup=True)
    assert answer["allowed"] is True and answer["lookup"]["status"] == "unsupported"


# -- the batch --------------------------------------------------------------------------------------


def test_a_batch_looks_each_destination_up_once(api: Any) -> None:
    plugin = api.host.pm.get_plugin("sandbox")
    asked: list[str] = []
    running = {"now": 0, "most": 0}
    original = plugin.lookup_number

    async def slow(e164: str, fields: set[str]) -> Any:
        asked.append(e164)
        running["now"] += 1
        running["most"] = max(running["most"], running["now"])
        await asyncio.sleep(0.05)
        running["now"] -= 1
        return original(e164, fields)

    # the hook implementation pluggy calls is the plugin's bound method: replace it
    impl = next(
        i for i in api.host.pm.hook.lookup_number.get_hookimpls() if i.plugin_name == "sandbox"
    )
    impl.function = slow
    dests = [f"+1212555{n:04d}" for n in range(140, 160)]
    checks = [{"from": FROM, "to": d, "lookup": True} for d in dests + dests[:5]]
    checks.insert(3, {"from": FROM, "to": "not a number", "lookup": True})
    r = api.client.post(BATCH, json={"checks": checks})
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert len(results) == len(checks) and "error" in results[3]
    answered = [x for i, x in enumerate(results) if i != 3]
    assert all(x["lookup"]["line_type"] == "mobile" for x in answered)
    assert sorted(asked) == sorted(dests)  # each destination once
    assert 1 < running["most"] <= 8  # concurrently, within TRUNKLINE_LOOKUP_CONCURRENCY
    assert len(_lookups(api)) == len(dests)


# -- Twilio and Telnyx on the wire ---------------------------------------------------------------

TW_LOOKUP = re.compile(r"https://lookups\.twilio\.com/v2/PhoneNumbers/.*")


@pytest.fixture
def twilio(make_api: Any) -> Any:
    api = make_api(
        plugins=["twilio"],
        tables={
            "twilio": {
                "account_sid": "AC" + "d" * 32,
                "auth_token": {"env": "TW_TOKEN"},
                "max_retries": 0,
                "timeout_seconds": 1,
            }
        },
        env={"TW_TOKEN": "tw-token-for-preflight"},
    )
    _number(api, provider="twilio", attestation_level="A")
    return api


def _twilio_answer(line_type: str, reassigned: str | None = None) -> Any:
    def answer(request: httpx.Request) -> httpx.Response:
        body: dict[str, Any] = {
            "phone_number": request.url.path.rsplit("/", 1)[1],
            "valid": True,
            "line_type_intelligence": {"type": line_type, "carrier_name": "Carrier"},
        }
        if reassigned is not None:
            body["reassigned_number"] = {
                "is_number_reassigned": reassigned,
                "last_verified_date": "2026-01-15",
            }
        return httpx.Response(200, json=body)

    return answer


@pytest.mark.parametrize(
    ("theirs", "ours"),
    [
        ("landline", "landline"),
        ("mobile", "mobile"),
        ("fixedVoip", "fixed_voip"),
        ("nonFixedVoip", "non_fixed_voip"),
        ("tollFree", "toll_free"),
        ("premium", "premium"),
        ("sharedCost", "shared_cost"),
        ("voicemail", "voicemail"),
        ("pager", "pager"),
        ("personal", "unknown"),
        ("uan", "unknown"),
        ("unknown", "unknown"),
    ],
)
def test_twilio_line_types_through_the_preflight(twilio: Any, theirs: str, ours: str) -> None:
    with respx.mock(assert_all_called=False) as mock:
        route = mock.get(TW_LOOKUP).mock(side_effect=_twilio_answer(theirs))
        first = _check(twilio, DEST, lookup=True)
        second = _check(twilio, DEST, lookup=True)
    assert first["lookup"]["line_type"] == ours and first["attestation"] == "A"
    assert second["lookup"]["status"] == "cached"
    assert route.call_count == 1 and len(_lookups(twilio)) == 1
    assert route.calls.last.request.url.params["Fields"] == "line_type_intelligence"
    assert _lookups(twilio)[0]["metadata"]["carrier_cost"] is None  # Twilio says no price


def test_twilio_under_the_workspace_lookup_policy(twilio: Any) -> None:
    r = twilio.client.put(
        "/settings/telephony/outbound-policy",
        json={"lookup": {"enabled": True, "deny_line_types": ["non_fixed_voip"]}},
    )
    assert r.status_code == 200, r.text
    with respx.mock(assert_all_called=False) as mock:
        route = mock.get(TW_LOOKUP).mock(side_effect=_twilio_answer("nonFixedVoip", "yes"))
        refused = _check(twilio, DEST, last_verified_date="2026-01-15")
        skipped = _check(twilio, LANDLINE, lookup=False)
    assert refused["reasons"] == ["line_type_not_allowed"]  # check_reassigned is off
    assert refused["destination"]["line_type"] == "non_fixed_voip"
    assert skipped["lookup"] is None and route.call_count == 1
    assert route.calls.last.request.url.params["Fields"] == "line_type_intelligence"


@pytest.mark.parametrize(
    ("said", "reasons", "ours"),
    [("yes", ["number_reassigned"], "yes"), ("no", [], "no"), ("no_data_available", [], "unknown")],
)
def test_twilio_reassigned_answers(twilio: Any, said: str, reasons: list[str], ours: str) -> None:
    with respx.mock(assert_all_called=False) as mock:
        route = mock.get(TW_LOOKUP).mock(side_effect=_twilio_answer("mobile", said))
        answer = _check(twilio, DEST, lookup=True, last_verified_date="2026-01-15")
    assert answer["reasons"] == reasons and answer["lookup"]["reassigned"] == ours
    params = route.calls.last.request.url.params
    assert params["Fields"] == "line_type_intelligence,reassigned_number"
    assert params["LastVerifiedDate"] == "20260115"


@pytest.mark.parametrize("fault", ["timeout", "429", "500", "503"])
def test_twilio_faults_leave_the_preflight_answering(twilio: Any, fault: str) -> None:
    with respx.mock(assert_all_called=False) as mock:
        route = mock.get(TW_LOOKUP)
        if fault == "timeout":
            route.mock(side_effect=httpx.ReadTimeout("slow"))
        else:
            route.respond(int(fault), json={"code": 20429 if fault == "429" else 0, "message": "x"})
        answer = _check(twilio, DEST, lookup=True, last_verified_date="2026-01-15")
    assert answer["allowed"] is True and answer["reasons"] == []
    assert answer["lookup"]["status"] == "failed"
    expected = "provider_rate_limited" if fault == "429" else "provider_unavailable"
    assert answer["lookup"]["error"] == expected
    assert _lookups(twilio) == []


TX_LOOKUP = re.compile(r"https://api\.telnyx\.com/v2/number_lookup/.*")


@pytest.fixture
def telnyx(make_api: Any) -> Any:
    api = make_api(
        plugins=["telnyx"],
        tables={"telnyx": {"api_key": {"env": "TX_KEY"}, "max_retries": 0}},
        env={"TX_KEY": "KEY-telnyx-preflight"},
    )
    _number(api, provider="telnyx", attestation_level="A")
    return api


@pytest.mark.parametrize(
    ("theirs", "ours"),
    [
        ("fixed line", "landline"),
        ("mobile", "mobile"),
        ("voip", "non_fixed_voip"),
        ("fixed line or mobile", "unknown"),
        ("toll free", "toll_free"),
        ("premium rate", "premium"),
        ("shared cost", "shared_cost"),
        ("pager", "pager"),
        ("voicemail", "voicemail"),
        ("personal number", "unknown"),
        ("uan", "unknown"),
    ],
)
def test_telnyx_carrier_types_through_the_preflight(telnyx: Any, theirs: str, ours: str) -> None:
    with respx.mock(assert_all_called=False) as mock:
        route = mock.get(TX_LOOKUP).respond(
            json={"data": {"phone_number": DEST, "carrier": {"type": theirs, "name": "X"}}}
        )
        answer = _check(telnyx, DEST, lookup=True, last_verified_date="2026-01-15")
        again = _check(telnyx, DEST, lookup=True, last_verified_date="2026-01-15")
    assert answer["lookup"]["line_type"] == ours and answer["lookup"]["reassigned"] == "unsupported"
    assert route.call_count == 1 and again["lookup"]["status"] == "cached"
    assert route.calls.last.request.url.params.get_list("type") == ["carrier"]


@pytest.mark.parametrize("fault", ["timeout", "429", "500"])
def test_telnyx_faults_leave_the_preflight_answering(telnyx: Any, fault: str) -> None:
    with respx.mock(assert_all_called=False) as mock:
        route = mock.get(TX_LOOKUP)
        if fault == "timeout":
            route.mock(side_effect=httpx.ReadTimeout("slow"))
        else:
            code = "10011" if fault == "429" else "10007"
            route.respond(int(fault), json={"errors": [{"code": code, "detail": "x"}]})
        answer = _check(telnyx, DEST, lookup=True)
    assert answer["allowed"] is True and answer["lookup"]["status"] == "failed"
    assert _lookups(telnyx) == []
