"""``POST /outbound/check/batch``: answers in order, item errors in place, at most 1,000."""

from __future__ import annotations

from typing import Any

from tests.fakes import FakeCarrier


def _api(make_api: Any) -> Any:
    return make_api(
        plugins=["country_rules"],
        tables={"country_rules": {"blocked": ["KP"]}},
        extra={"fake": FakeCarrier()},
    )


def test_batch_answers_each_check_in_order_as_the_single_route_would(make_api: Any) -> None:
    api = _api(make_api)
    hosted = api.add_number("+14155550100", "fake", hosted=True, outbound_enabled=True)
    byo = api.add_number("+14155550101", "fake")
    checks: list[dict[str, Any]] = [
        {"from": "+14155550100", "to": "+442079460000"},
        {"number_id": byo["id"], "to": "+85023812222"},
        {"from": "+14155550100", "to": "12"},  # invalid destination
        {"number_id": hosted["id"]},
        {"from": "+14155550199"},  # not in this workspace
        {"to": "+442079460000"},  # neither from nor number_id
        {"from": "+14155550100", "colour": "blue"},  # unknown field
        {"from": 14155550100},  # wrong type
        {"from": "+14155550100", "to": "+85023812222"},
    ]
    r = api.client.post("/outbound/check/batch", json={"checks": checks})
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert len(results) == len(checks)
    for check, result in zip(checks, results, strict=True):
        single = api.client.post("/outbound/check", json=check)
        if single.status_code == 200:
            assert result == single.json()
        else:
            problem = result["error"]
            assert problem["status"] == single.status_code
            assert problem["code"] == single.json()["code"]
            assert problem["detail"] == single.json()["detail"]
    assert results[0] == {
        "allowed": True,
        "reasons": [],
        "number_id": hosted["id"],
        "next_allowed_at": None,
        "destination": {
            "country_code": "GB",
            "region": None,
            "time_zones": ["Europe/London"],
            "line_type": None,
        },
        "attestation": None,
        "lookup": None,
    }
    assert results[1]["reasons"] == [
        "outbound_disabled",
        "caller_id_not_allowed",
        "country_blocked",
    ]
    assert results[2]["error"]["code"] == "invalid_phone_number"
    assert results[2]["error"]["field"] == "to"
    assert results[4]["error"]["code"] == "not_found"
    assert results[6]["error"]["code"] == "validation_error"
    assert results[8]["reasons"] == ["country_blocked"]


def test_batch_is_scoped_to_the_key_s_workspace(make_api: Any) -> None:
    api = _api(make_api)
    hosted = api.add_number("+14155550100", "fake", hosted=True, outbound_enabled=True)
    r = api.client_b.post(
        "/outbound/check/batch",
        json={"checks": [{"number_id": hosted["id"]}, {"from": "+14155550100"}]},
    )
    assert [x["error"]["code"] for x in r.json()["results"]] == ["not_found", "not_found"]
    assert api.anon.post("/outbound/check/batch", json={"checks": []}).status_code == 401


def test_batch_limit_is_1000_checks(make_api: Any) -> None:
    api = _api(make_api)
    hosted = api.add_number("+14155550100", "fake", hosted=True, outbound_enabled=True)
    at_limit = [{"number_id": hosted["id"], "to": "+442079460000"}] * 1000
    r = api.client.post("/outbound/check/batch", json={"checks": at_limit})
    assert r.status_code == 200
    assert len(r.json()["results"]) == 1000
    assert all(x["allowed"] for x in r.json()["results"])
    over = api.client.post("/outbound/check/batch", json={"checks": at_limit + at_limit[:1]})
    assert over.status_code == 422
    assert over.json()["code"] == "validation_error"
    assert over.json()["errors"][0]["field"] == "checks"
    for body in ({}, {"checks": "x"}, {"checks": [], "more": 1}):
        assert api.client.post("/outbound/check/batch", json=body).status_code == 422
    # items of the wrong kind answer their own error; the others are still checked
    mixed = api.client.post("/outbound/check/batch", json={"checks": [1, "a", at_limit[0]]})
    results = mixed.json()["results"]
    assert [x.get("error", {}).get("code") for x in results[:2]] == ["validation_error"] * 2
    assert results[2]["allowed"] is True
