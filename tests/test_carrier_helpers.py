"""The carrier helpers plugin authors import from ``trunkline``: one mapping for every carrier."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from trunkline import (
    NumberRef,
    ProviderAuthError,
    ProviderError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
    attestation_by_ownership,
    check_same_number,
    classify_number,
    error_for_status,
    parse_retry_after,
    static_coverage,
    static_requirements,
)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (401, ProviderAuthError),
        (403, ProviderAuthError),
        (429, ProviderRateLimited),
        (500, ProviderUnavailable),
        (503, ProviderUnavailable),
        (400, ProviderRejected),
        (404, ProviderRejected),
        (422, ProviderRejected),
    ],
)
def test_status_decides_the_error_class(status: int, cls: type[ProviderError]) -> None:
    err = error_for_status("acme", status, "nope", carrier="ACME", code="E1")
    assert type(err) is cls
    assert err.provider == "acme"
    assert err.provider_code == "E1"
    assert err.provider_detail == "nope"
    assert "ACME" in str(err)


def test_the_status_is_the_code_when_the_carrier_gave_none() -> None:
    assert error_for_status("acme", 502, "down").provider_code == "502"


def test_rate_limited_keeps_the_exact_retry_after() -> None:
    err = error_for_status("acme", 429, "slow down", retry_after=7.0)
    assert isinstance(err, ProviderRateLimited)
    assert err.retry_after == 7.0


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("7", 7.0),
        (" 12 ", 12.0),
        ("0", 0.0),
        ("-3", 0.0),
        ("1.5", 1.5),
        (None, None),
        ("soon", None),
    ],
)
def test_retry_after_in_seconds(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value) == seconds


def test_retry_after_as_an_http_date() -> None:
    now = datetime(2026, 11, 30, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("Mon, 30 Nov 2026 12:00:42 GMT", now=now) == 42.0
    assert parse_retry_after("Mon, 30 Nov 2026 11:00:00 GMT", now=now) == 0.0


def test_an_answer_about_another_number_is_refused() -> None:
    check_same_number("acme", "verify_cli", "+14155550100", "+1 415 555 0100")
    check_same_number("acme", "verify_cli", "+14155550100", None)
    with pytest.raises(ProviderError, match=r"answered verify_cli for \+14155550199"):
        check_same_number("acme", "verify_cli", "+14155550100", "+14155550199")


@pytest.mark.parametrize(
    ("e164", "expected"),
    [
        ("+14155550100", ("US", "local")),
        ("+18005550100", ("US", "toll_free")),
        ("+447400123456", ("GB", "mobile")),
        ("+442079460000", ("GB", "local")),
        ("not a number", ("ZZ", "local")),
    ],
)
def test_classify_number(e164: str, expected: tuple[str, str]) -> None:
    assert classify_number(e164) == expected


TABLE = {"US": {"local": ["voice", "sms"], "toll_free": ["voice"]}, "GB": {"mobile": ["sms"]}}


def test_static_coverage_for_one_country_or_all() -> None:
    us = static_coverage("acme", TABLE, "us", as_of="2026-11-01")
    assert [(e.country_code, e.number_type, e.features) for e in us] == [
        ("US", "local", {"voice", "sms"}),
        ("US", "toll_free", {"voice"}),
    ]
    assert {e.source for e in us} == {"static"} and us[0].as_of == date(2026, 11, 1)
    assert [e.country_code for e in static_coverage("acme", TABLE, None)] == ["GB", "US", "US"]
    assert static_coverage("acme", TABLE, "FR") == []


def test_static_requirements_filtered_as_the_hook_promises() -> None:
    rows = [
        {"number_type": "local", "end_user_type": "any", "name": "Address", "kind": "address"},
        {
            "number_type": "local",
            "end_user_type": "business",
            "name": "Registry",
            "kind": "document",
        },
        {"number_type": "mobile", "end_user_type": "individual", "name": "ID", "kind": "identity"},
    ]

    def names(number_type: str | None, end_user_type: str | None) -> list[str]:
        found = static_requirements("acme", rows, "DE", number_type, end_user_type)
        assert {(r.provider, r.country_code) for r in found} <= {("acme", "DE")}
        return [r.name for r in found]

    assert names(None, None) == ["Address", "Registry", "ID"]
    assert names("local", "individual") == ["Address"]
    assert names("local", "business") == ["Address", "Registry"]
    assert names("mobile", None) == ["ID"]


def test_attestation_by_ownership() -> None:
    number = NumberRef(
        id="n", workspace_id="w", phone_e164="+14155550100", country_code="US", provider="acme"
    )
    hosted = number.model_copy(update={"hosted": True})
    verified = number.model_copy(update={"verified_cli": True})
    words = {"hosted": "ours", "verified": "proven"}
    assert attestation_by_ownership(hosted, **words).model_dump(include={"level", "basis"}) == {
        "level": "A",
        "basis": "ours",
    }
    assert attestation_by_ownership(verified, **words).level == "B"
    assert attestation_by_ownership(number, **words).level == "unknown"
