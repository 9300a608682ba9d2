"""Providers, coverage, regulations and inventory: several carriers asked at once."""

from __future__ import annotations

from typing import Any

import pytest

from core import NumberSearch, ProviderAuthError, ProviderUnavailable, hookimpl
from tests.fakes import FakeCarrier

T = "/settings/telephony"


class StatusCarrier(FakeCarrier):
    """A fake carrier that reports itself unconfigured and remembers search queries."""

    def __init__(self, configured: bool = True, **kw: Any) -> None:
        super().__init__(**kw)
        self.configured = configured
        self.queries: list[NumberSearch] = []

    @hookimpl
    def trunkline_provider_status(self) -> dict[str, Any]:
        if self.configured:
            return {"configured": True}
        return {"configured": False, "detail": "set OTHER_TOKEN"}

    @hookimpl
    def search_numbers(self, query: NumberSearch) -> list[Any]:
        self.queries.append(query)
        return super().search_numbers(query)


@pytest.fixture
def env(make_api: Any) -> tuple[Any, StatusCarrier, StatusCarrier]:
    fake = StatusCarrier()
    other = StatusCarrier(name="other")
    api = make_api(
        plugins=["country_rules"],
        tables={"country_rules": {"blocked": ["KP"]}},
        extra={"fake": fake, "other": other},
    )
    return api, fake, other


def test_providers_list_configured_or_not_with_capabilities_and_version(make_api: Any) -> None:
    fake = StatusCarrier()
    other = StatusCarrier(name="other", configured=False)
    api = make_api(plugins=["sandbox", "twilio"], extra={"fake": fake, "other": other})
    r = api.client.get(f"{T}/providers")
    assert r.status_code == 200
    by_name = {p["name"]: p for p in r.json()}
    assert set(by_name) == {"fake", "other", "sandbox", "twilio"}
    assert by_name["fake"]["configured"] is True and by_name["fake"]["plugin"] == "fake"
    assert by_name["other"]["configured"] is False
    assert by_name["other"]["detail"] == "set OTHER_TOKEN"
    assert by_name["fake"]["capabilities"] == sorted(
        [
            "verify_cli",
            "coverage",
            "regulations",
            "search",
            "purchase",
            "release",
            "calls",
            "webhooks",
        ]
    )
    assert by_name["fake"]["display_name"] == "Fake Carrier"
    # bundled plugins come with their distribution's version; credentials absent: unconfigured
    assert by_name["sandbox"]["version"] and by_name["sandbox"]["configured"] is True
    assert by_name["twilio"]["configured"] is False and by_name["twilio"]["version"]
    assert by_name["fake"]["version"] is None
    assert api.anon.get(f"{T}/providers").status_code == 401


def test_coverage_from_every_provider(env: Any) -> None:
    api, fake, other = env
    r = api.client.get(f"{T}/coverage", params={"country": "us"})
    assert r.status_code == 200
    body = r.json()
    assert body["errors"] == []
    assert sorted((i["provider"], i["country_code"]) for i in body["items"]) == [
        ("fake", "US"),
        ("other", "US"),
    ]
    everywhere = api.client.get(f"{T}/coverage").json()
    assert len(everywhere["items"]) == 4  # US and GB from each
    assert fake.calls["list_coverage"] == 2 and other.calls["list_coverage"] == 2


def test_one_providers_failure_is_reported_beside_the_others(env: Any) -> None:
    api, fake, other = env
    other.fail["list_coverage"] = ProviderUnavailable("other is down", provider="other")
    r = api.client.get(f"{T}/coverage", params={"country": "GB"})
    assert r.status_code == 200
    body = r.json()
    assert [(i["provider"], i["country_code"]) for i in body["items"]] == [("fake", "GB")]
    assert body["errors"] == [
        {"provider": "other", "code": "provider_unavailable", "detail": "other is down"}
    ]

    other.fail["fetch_regulations"] = ProviderAuthError("bad key", provider="other")
    r = api.client.get(f"{T}/regulations", params={"country": "DE"})
    assert r.status_code == 200
    assert [i["provider"] for i in r.json()["items"]] == ["fake"]
    assert r.json()["errors"][0]["code"] == "provider_auth_failed"

    fake.fail["search_numbers"] = ProviderUnavailable("fake is down", provider="fake")
    r = api.client.get(f"{T}/numbers/available", params={"country": "US"})
    assert r.status_code == 200
    assert [i["provider"] for i in r.json()["items"]] == ["other"]
    assert r.json()["errors"] == [
        {"provider": "fake", "code": "provider_unavailable", "detail": "fake is down"}
    ]


def test_a_plugin_crash_is_reported_beside_the_others_too(env: Any) -> None:
    api, _, other = env
    other.fail["list_coverage"] = KeyError("secret-ish internals")
    r = api.client.get(f"{T}/coverage", params={"country": "US"})
    assert r.status_code == 200
    body = r.json()
    assert [i["provider"] for i in body["items"]] == ["fake"]
    (error,) = body["errors"]
    assert error["provider"] == "other" and error["code"] == "provider_error"
    assert "secret-ish" not in error["detail"]


def test_asking_one_named_provider_that_fails_answers_its_problem(env: Any) -> None:
    api, fake, other = env
    other.fail["list_coverage"] = ProviderUnavailable("other is down", provider="other")
    r = api.client.get(f"{T}/coverage", params={"provider": "other", "country": "US"})
    assert r.status_code == 503
    assert r.json()["code"] == "provider_unavailable" and r.json()["detail"] == "other is down"
    r = api.client.get(f"{T}/coverage", params={"provider": "fake", "country": "US"})
    assert r.status_code == 200
    assert [i["provider"] for i in r.json()["items"]] == ["fake"] and r.json()["errors"] == []
    assert other.calls["list_coverage"] == 1  # only the request that named it
    assert fake.calls["list_coverage"] == 1

    other.fail["fetch_regulations"] = ProviderAuthError("bad key", provider="other")
    r = api.client.get(f"{T}/regulations", params={"provider": "other", "country": "US"})
    assert r.status_code == 502 and r.json()["code"] == "provider_auth_failed"
    other.fail["search_numbers"] = ProviderUnavailable("down", provider="other")
    r = api.client.get(f"{T}/numbers/available", params={"provider": "other", "country": "US"})
    assert r.status_code == 503 and r.json()["code"] == "provider_unavailable"


def test_unknown_named_provider_and_bad_parameters(env: Any) -> None:
    api, fake, other = env
    for path, params in (
        ("coverage", {"provider": "nope"}),
        ("regulations", {"provider": "nope", "country": "US"}),
        ("numbers/available", {"provider": "nope", "country": "US"}),
    ):
        r = api.client.get(f"{T}/{path}", params=params)
        assert r.status_code == 422 and r.json()["code"] == "unknown_provider", path
    assert api.client.get(f"{T}/coverage", params={"country": "USA"}).status_code == 422
    assert api.client.get(f"{T}/regulations").status_code == 422  # country is required
    r = api.client.get(f"{T}/regulations", params={"country": "US", "number_type": "pager"})
    assert r.status_code == 422 and r.json()["code"] == "validation_error"
    assert api.client.get(f"{T}/numbers/available").status_code == 422
    assert not fake.calls and not other.calls


def test_search_passes_the_filters_through(env: Any) -> None:
    api, fake, _ = env
    r = api.client.get(
        f"{T}/numbers/available",
        params={
            "provider": "fake",
            "country": "us",
            "number_type": "toll_free",
            "contains": "555",
            "area_code": "415",
            "limit": 5,
        },
    )
    assert r.status_code == 200
    (query,) = fake.queries
    assert (query.country, query.number_type, query.contains, query.area_code, query.limit) == (
        "US",
        "toll_free",
        "555",
        "415",
        5,
    )
    (item,) = r.json()["items"]
    assert item["monthly_cost"] == "1.15" and item["currency"] == "USD"


def test_search_is_off_in_demo_mode(make_api: Any) -> None:
    fake = StatusCarrier()
    api = make_api(plugins=[], extra={"fake": fake}, env={"DEMO_MODE": "true"})
    r = api.client.get(f"{T}/numbers/available", params={"country": "US"})
    assert r.status_code == 403 and r.json()["code"] == "demo_mode"
    assert "search_numbers" not in fake.calls


class CoverageOnly(FakeCarrier):
    @hookimpl
    def trunkline_register_providers(self, register: Any) -> None:
        from core import ProviderInfo
        from tests.fakes import FakeSettings

        register(
            ProviderInfo(
                name=self.name,
                display_name="Coverage only",
                capabilities={"coverage"},
                settings_model=FakeSettings,
            )
        )


def test_providers_without_the_capability_are_not_asked(make_api: Any) -> None:
    fake = FakeCarrier()
    narrow = CoverageOnly(name="narrow")
    api = make_api(plugins=[], extra={"fake": fake, "narrow": narrow})
    r = api.client.get(f"{T}/regulations", params={"country": "US"})
    assert r.status_code == 200 and r.json()["errors"] == []
    assert [i["provider"] for i in r.json()["items"]] == ["fake"]
    assert "fetch_regulations" not in narrow.calls
    r = api.client.get(f"{T}/regulations", params={"country": "US", "provider": "narrow"})
    assert r.status_code == 422 and r.json()["code"] == "unsupported_operation"
    r = api.client.get(f"{T}/coverage")
    assert {i["provider"] for i in r.json()["items"]} == {"fake", "narrow"}


# -- the API reference -------------------------------------------------------------------------


def _subclasses(cls: type[Any]) -> list[type[Any]]:
    out: list[type[Any]] = []
    for sub in cls.__subclasses__():
        out += [sub, *_subclasses(sub)]
    return out


def test_the_api_reference_names_every_route_and_problem_code(env: Any) -> None:
    import importlib
    from pathlib import Path

    from core.errors import TrunklineError

    api, _, _ = env
    doc = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text()
    paths = api.client.get("/openapi.json").json()["paths"]
    routes = [
        (method.upper(), path)
        for path, ops in paths.items()
        if not path.startswith("/console")
        for method in ops
    ]
    assert len(routes) >= 20
    for method, path in [*routes, ("GET", "/metrics")]:
        short = path.replace("/settings/telephony", "...")
        assert f"`{method} {path}" in doc or f"`{method} {short}" in doc, (method, path)
    for module in ("core.campaigns", "core.numbers", "core.verification", "api.deps"):
        importlib.import_module(module)  # so that their error classes are known
    codes = {c.code for c in _subclasses(TrunklineError)} - {"configuration_error"}
    codes -= {"plugin_load_failed", "conflict"}  # start-up only / a base class
    codes |= {"validation_error", "not_found", "method_not_allowed"}
    assert {"caller_id_not_found", "hosted_number", "csrf_failed", "demo_mode"} <= codes
    missing = sorted(c for c in codes if f"`{c}`" not in doc)
    assert missing == []
