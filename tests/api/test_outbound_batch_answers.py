"""``POST /outbound/check/batch`` answers each check byte for byte as ``POST /outbound/check``
does (the batch builds its answers as plain dicts from memory: docs/performance.md), over random
workspace policies and checks (a hypothesis test): calling hours with the next allowed instant,
time-zone hints, instants, allow-lists, the minimum attestation, the carrier's refusals, unknown
and malformed callers, invalid destinations and zones."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

BATCH = "/outbound/check/batch"
CHECK = "/outbound/check"
POLICY = "/settings/telephony/outbound-policy"
DESTINATIONS = [
    "+12125550199",  # New York
    "+14165550123",  # Toronto
    "+442079460000",  # London
    "+33140000000",  # Paris (refused by the sandbox carrier)
    "+85023812222",  # North Korea
    " +442079460000 ",  # the same number with surrounding whitespace
    "+1900555012",  # not a valid number
    "12",
]
ZONES = ["America/Chicago", "Europe/Paris", "Nowhere/Else"]
INSTANTS = ["2026-07-15T03:00:00Z", "2026-07-18T15:00:00+02:00", "2026-12-25T12:00:00-05:00"]
POLICIES = st.fixed_dictionaries(
    {
        "allowed_countries": st.sampled_from([[], ["US"], ["US", "CA", "GB"]]),
        "calling_hours": st.sampled_from(
            [
                None,
                {"rules": ["us_federal", "fr"]},
                {"rules": [], "windows": [{"days": ["wed"], "start": "09:00", "end": "17:00"}]},
            ]
        ),
        "min_attestation": st.sampled_from([None, "A", "B"]),
    }
)


@pytest.fixture
def api(make_api: Any) -> Any:
    api = make_api(
        plugins=["sandbox", "country_rules"],
        tables={"sandbox": {"disabled_countries": ["FR"]}, "country_rules": {"blocked": ["KP"]}},
    )
    api.callers = [
        api.add_number(
            "+14155550201", "sandbox", hosted=True, outbound_enabled=True, attestation_level="A"
        ),
        api.add_number(
            "+14155550202", "sandbox", hosted=True, outbound_enabled=True, attestation_level="C"
        ),
        api.add_number("+14155550203", "sandbox", allowed_countries=["GB"]),
    ]
    return api


def _pairs(content: bytes) -> Any:
    """The JSON with every object as its list of (key, value) pairs: keys, order and values."""
    return json.loads(content, object_pairs_hook=list)


def test_batch_answers_byte_for_byte_as_the_single_route(
    api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import core.policy

    # "now": Wednesday 06:00 in New York, 11:00 in London, 12:00 in Paris
    monkeypatch.setattr(core.policy, "now", lambda: datetime(2026, 7, 15, 10, 0, tzinfo=UTC))
    api.run(api.runtime.permissions.refresh_all)
    ids = [c["id"] for c in api.callers]
    phones = ["+14155550201", "+14155550202", "+14155550203"]
    callers = st.one_of(
        st.sampled_from([{"from": p} for p in [*phones, "+14155550299", "+1415"]]),
        st.sampled_from([{"number_id": i} for i in [*ids, ids[0].upper(), "nope"]]),
        st.just({}),
        st.just({"from": phones[0], "number_id": ids[0]}),
        st.just({"from": 14155550201}),  # not a valid body
    )
    checks = st.builds(
        lambda caller, extra: {**caller, **extra},
        callers,
        st.fixed_dictionaries(
            {},
            optional={
                "to": st.sampled_from(DESTINATIONS),
                "time_zone": st.sampled_from(ZONES),
                "at": st.sampled_from(INSTANTS),
                "lookup": st.just(False),
            },
        ),
    )
    seen: set[str] = set()

    @settings(
        max_examples=80,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(policy=POLICIES, items=st.lists(checks, min_size=1, max_size=12))
    @example(
        policy={"allowed_countries": [], "calling_hours": None, "min_attestation": "A"},
        items=[{"from": "+14155550202", "to": "+12125550199"}],
    )
    def agree(policy: dict[str, Any], items: list[dict[str, Any]]) -> None:
        assert api.client.put(POLICY, json=policy).status_code == 200
        batch = api.client.post(BATCH, json={"checks": items})
        assert batch.status_code == 200, batch.text
        results = _pairs(batch.content)[0][1]
        for item, result in zip(items, results, strict=True):
            single = api.client.post(CHECK, json=item)
            if single.status_code == 200:
                assert single.content in batch.content, (item, single.text, batch.text)
                assert result == _pairs(single.content), (item, single.text, batch.text)
                seen.update(single.json()["reasons"] or ["allowed"])
                if single.json()["next_allowed_at"] is not None:
                    seen.add("next_allowed_at")
            else:
                [(key, problem)] = result
                problem = dict(problem)
                assert key == "error"
                assert problem["status"] == single.status_code
                assert problem["code"] == single.json()["code"]
                assert problem["detail"] == single.json()["detail"]
                seen.add(problem["code"])

    agree()
    assert {
        "allowed",
        "outbound_disabled",
        "caller_id_not_allowed",
        "country_blocked",
        "carrier_country_disabled",
        "country_not_allowed",
        "outside_calling_hours",
        "next_allowed_at",
        "attestation_below_minimum",
        "invalid_phone_number",
        "not_found",
        "invalid_input",
        "invalid_time_zone",
        "validation_error",
    } <= seen, seen
    # the batches were answered from the snapshot's memory (the callers' memo was used)
    [state] = api.runtime.snapshot._states.values()
    assert state.held and state.callers


def test_a_change_between_batches_is_answered_at_once(api: Any) -> None:
    """The callers' memo lives in the snapshot's state: a change drops both."""
    caller = api.callers[0]
    checks = [{"from": "+14155550201", "to": "+442079460000"}, {"number_id": caller["id"]}]
    first = api.client.post(BATCH, json={"checks": checks}).json()["results"]
    assert [r["reasons"] for r in first] == [[], []]
    r = api.client.patch(
        f"/settings/telephony/numbers/{caller['id']}", json={"allowed_countries": ["FR"]}
    )
    assert r.status_code == 200, r.text
    then = api.client.post(BATCH, json={"checks": checks}).json()["results"]
    assert [r["reasons"] for r in then] == [["country_not_allowed"], []]


def test_the_callers_memo_is_bounded(api: Any) -> None:
    # every spelling of an id is a key of its own (uuid.UUID ignores hyphens wherever they
    # are); the memo stops growing at its bound
    text = api.callers[0]["id"].replace("-", "")
    spellings = {
        f"{text[:i]}-{text[i:j]}-{text[j:]}" for i in range(1, 12) for j in range(i + 1, 32)
    }
    assert len(spellings) > 2 * 3 + 64
    r = api.client.post(BATCH, json={"checks": [{"number_id": s} for s in sorted(spellings)]})
    assert {x["number_id"] for x in r.json()["results"]} == {api.callers[0]["id"]}
    [state] = api.runtime.snapshot._states.values()
    assert len(state.callers) == 2 * state.size + 64
