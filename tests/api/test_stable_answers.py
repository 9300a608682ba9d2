"""Answers a client can rely on: features in one order in every process, unknown country codes
refused with a suggestion, a client's unusable request id replaced."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from core.countries import KNOWN, parse_country
from core.errors import InvalidInput
from core.models import FEATURE_ORDER, AvailableNumber, CoverageEntry

ROOT = Path(__file__).resolve().parents[2]
COVERAGE = "/settings/telephony/coverage"


def test_features_serialise_in_one_order() -> None:
    entry = CoverageEntry(
        provider="p",
        country_code="US",
        number_type="local",
        features={"fax", "mms", "sms", "voice"},
        source="static",
    )
    assert entry.model_dump(mode="json")["features"] == ["voice", "sms", "mms", "fax"]
    assert json.loads(entry.model_dump_json())["features"] == list(FEATURE_ORDER)
    number = AvailableNumber(
        provider="p", phone_e164="+14155550100", country_code="US", number_type="local",
        features={"sms", "voice"},
    )  # fmt: skip
    assert number.model_dump()["features"] == ["voice", "sms"]


_DUMP = """
from core.models import CoverageEntry
e = CoverageEntry(provider="p", country_code="US", number_type="local",
                  features={"fax", "mms", "sms", "voice"}, source="static")
print(e.model_dump_json())
"""


def test_features_are_in_the_same_order_whatever_the_hash_seed() -> None:
    outputs = set()
    for seed in ("1", "2", "3", "4", "5"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
        done = subprocess.run(
            [sys.executable, "-c", _DUMP], env=env, capture_output=True, text=True, check=True
        )
        outputs.add(done.stdout)
    assert len(outputs) == 1, outputs


def test_coverage_answers_features_in_order(make_api: Any) -> None:
    api = make_api(plugins=["sandbox"])
    items = api.client.get(COVERAGE, params={"country": "US"}).json()["items"]
    assert items
    for item in items:
        assert item["features"] == [f for f in FEATURE_ORDER if f in item["features"]]


@pytest.mark.parametrize(
    ("url", "params"),
    [
        (COVERAGE, {}),
        ("/settings/telephony/regulations", {}),
        ("/settings/telephony/numbers/available", {}),
    ],
)
@pytest.mark.parametrize(
    ("country", "suggestion"), [("UK", "GB"), ("uk", "GB"), ("zz", None), ("XX", None)]
)
def test_an_unknown_country_is_refused_with_a_suggestion(
    make_api: Any, url: str, params: dict[str, str], country: str, suggestion: str | None
) -> None:
    api = make_api(plugins=["sandbox"])
    r = api.client.get(url, params={**params, "country": country})
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["code"] == "unknown_country" and problem["field"] == "country"
    assert problem.get("suggestion") == suggestion
    if suggestion:
        assert f"did you mean {suggestion}?" in problem["detail"]


def test_known_countries_in_any_case(make_api: Any) -> None:
    api = make_api(plugins=["sandbox"])
    r = api.client.get(COVERAGE, params={"country": "gb"})
    assert r.status_code == 200 and {i["country_code"] for i in r.json()["items"]} == {"GB"}
    assert parse_country(" us ") == "US"
    assert {"US", "GB", "FR", "DE", "JP"} <= KNOWN and "UK" not in KNOWN and "001" not in KNOWN
    with pytest.raises(InvalidInput):
        parse_country("")


@pytest.mark.parametrize(
    "given",
    ["bad id!", "with space", "ünïcode", "x" * 65, "semi;colon", "new\\nline"],
)
def test_an_unusable_request_id_is_replaced(make_api: Any, given: str) -> None:
    api = make_api(plugins=[])
    r = api.anon.get("/healthz", headers={"X-Request-ID": given.encode()})
    assert r.status_code == 200
    assert re.fullmatch(r"[0-9a-f]{32}", r.headers["X-Request-ID"]), r.headers["X-Request-ID"]


@pytest.mark.parametrize("given", ["req-abc-123", "a.b:c_d-E", "x" * 64])
def test_a_usable_request_id_is_kept(make_api: Any, given: str) -> None:
    api = make_api(plugins=[])
    assert (
        api.anon.get("/healthz", headers={"X-Request-ID": given}).headers["X-Request-ID"] == given
    )
