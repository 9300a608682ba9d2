"""Every route, read from the app's own route table, is scoped to the key's workspace.

A new route that forgets scoping fails here: with workspace B's key, A's objects are 404 (or
not found in B's answers), and without a key every non-public route is 401.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from fastapi.routing import APIRoute

from api.deps import PrincipalDep, SessionDep
from core.tables import Number
from tests.fakes import FakeCarrier

PUBLIC = {
    "/healthz",
    "/readyz",
    "/metrics",
    "/webhooks/{provider}",
    "/openapi.json",
    "/docs",
    "/docs/oauth2-redirect",
    "/redoc",
    "/favicon.ico",
    "/console/{rest:path}",  # the console's 404 page: it shows no workspace data
}
PUBLIC_PREFIXES = ("/console/login", "/console/static", "/console/logout")


def all_routes(routes: list[Any]) -> list[APIRoute]:
    """Every APIRoute, also inside included routers (which FastAPI keeps nested)."""
    found: list[APIRoute] = []
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            found.extend(all_routes(inner.routes))
        elif isinstance(route, APIRoute):
            found.append(route)
    return found


def _routes(app: Any) -> list[tuple[str, str, APIRoute]]:
    out = []
    for route in all_routes(app.routes):
        if not isinstance(route, APIRoute):
            continue
        if route.path in PUBLIC or route.path.startswith(PUBLIC_PREFIXES):
            continue
        for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
            out.append((method, route.path, route))
    return out


def _setup(make_api: Any) -> tuple[Any, dict[str, str]]:
    api = make_api(plugins=[], extra={"fake": FakeCarrier()})
    number = api.add_number("+14155550100", "fake", hosted=True, outbound_enabled=True)
    campaign = api.client.post("/campaigns", json={"name": "A", "from_e164": "+14155550100"})
    assert campaign.status_code == 201
    api.client.post(f"/campaigns/{campaign.json()['id']}/test-call", json={"to": "+442079460000"})
    ids = {"number_id": number["id"], "cid": campaign.json()["id"], "e164": "+14155550100"}
    return api, ids


#: Body fields that are alternatives (one or the other, never both): each is sent alone, so
#: that every lookup behind a route is walked (the preflight finds a number by either).
ALTERNATIVES = (("from", "number_id"),)


def _requests(
    api: Any, client: Any, method: str, path: str, route: APIRoute, ids: dict[str, str]
) -> list[Any]:
    """One request per way of naming the object (see ``ALTERNATIVES``)."""
    url = re.sub(r"\{(\w+)\}", lambda m: ids.get(m.group(1), "x"), path)
    generic = {
        "number_id": ids["number_id"],
        "e164": ids["e164"],
        "from": ids["e164"],
        "from_e164": ids["e164"],
        "to": "+442079460000",
        "name": "B's",
        "code": "123456",
        "provider": "fake",
        "outbound_enabled": True,
    }
    params = {}
    if method == "GET" and "country" in {p.name for p in route.dependant.query_params}:
        params = {"country": "US"}
    if route.body_field is None:
        return [client.request(method, url, params=params)]
    model = route.body_field.field_info.annotation
    fields = getattr(model, "model_fields", {})
    body = {}
    for name, field in fields.items():
        key = field.alias or name
        if key in generic:
            body[key] = generic[key]
    bodies = [body]
    for group in ALTERNATIVES:
        present = [key for key in group if key in body]
        if len(present) > 1:
            bodies = [
                {k: v for k, v in body.items() if k not in group or k == keep} for keep in present
            ]
    return [client.request(method, url, params=params, json=b) for b in bodies]


def test_every_route_needs_a_key(make_api: Any) -> None:
    api, ids = _setup(make_api)
    routes = _routes(api.app)
    assert len(routes) >= 15
    for method, path, route in routes:
        for r in _requests(api, api.anon, method, path, route, ids):
            if path.startswith("/console"):
                assert r.status_code in (401, 303, 307), (method, path, r.status_code)
            else:
                assert r.status_code == 401, (method, path, r.status_code, r.text[:200])


def test_openapi_declares_the_key_on_every_keyed_operation(make_api: Any) -> None:
    """The key is an HTTP bearer security scheme in the document, not a header parameter."""
    api, _ids = _setup(make_api)
    document = api.client.get("/openapi.json").json()
    scheme = document["components"]["securitySchemes"]["ApiKey"]
    assert scheme["type"] == "http" and scheme["scheme"] == "bearer"
    for method, path, _route in _routes(api.app):
        if path.startswith("/console"):
            continue
        operation = document["paths"][path][method.lower()]
        assert operation.get("security") == [{"ApiKey": []}], (method, path)
        names = {p["name"].lower() for p in operation.get("parameters", [])}
        assert "authorization" not in names, (method, path)
    assert "security" not in document["paths"]["/webhooks/{provider}"]["post"]


def scoping_violations(api: Any, ids: dict[str, str]) -> list[tuple[Any, ...]]:
    """Routes where workspace B reaches A's objects."""
    secret_ids = {ids["number_id"], ids["cid"]}
    bad: list[tuple[Any, ...]] = []
    for method, path, route in _routes(api.app):
        for r in _requests(api, api.client_b, method, path, route, ids):
            text = r.text
            if r.headers.get("content-type") == "application/problem+json":
                # the instance echoes the URL
                text = str({k: v for k, v in r.json().items() if k != "instance"})
            if any(i in text for i in secret_ids):
                bad.append((method, path, r.status_code, "leaks A's ids"))
            elif "{" in path and r.status_code != 404:
                bad.append((method, path, r.status_code, "answers for A's object"))
            elif r.status_code >= 400 and r.status_code not in (404, 409, 422, 429):
                bad.append((method, path, r.status_code, r.text[:200]))
    return bad


def test_another_workspace_sees_nothing_of_a(make_api: Any) -> None:
    api, ids = _setup(make_api)
    assert scoping_violations(api, ids) == []
    # the preflight was walked by each of its lookups, and found nothing of A's either way
    # (by ``from`` B may meet its own number now: the walk made B add one with that phone)
    for body in ({"from": ids["e164"]}, {"number_id": ids["number_id"]}):
        r = api.client_b.post("/outbound/check", json=body)
        assert r.status_code in (200, 404) and ids["number_id"] not in r.text, (body, r.text)
    # and A's objects are intact
    assert api.number(ids["number_id"])["outbound_enabled"] is True
    assert api.client.get(f"/campaigns/{ids['cid']}").json()["from_number_id"] == ids["number_id"]


def test_the_walk_catches_an_unscoped_route(make_api: Any) -> None:
    """The walk itself: a route that forgets the workspace is reported."""
    api, ids = _setup(make_api)

    async def leaky(number_id: str, session: SessionDep, principal: PrincipalDep) -> dict[str, str]:
        number = await session.get(Number, uuid.UUID(number_id))
        return {"id": str(number.id) if number else ""}

    api.app.router.add_api_route("/leaky/{number_id}", leaky, methods=["GET"])
    assert ("GET", "/leaky/{number_id}", 200, "leaks A's ids") in scoping_violations(api, ids)


def test_the_walk_catches_an_unscoped_preflight_lookup_by_from(
    make_api: Any, monkeypatch: Any
) -> None:
    """The preflight's lookup by ``from`` forgetting the workspace is reported by the walk."""
    from sqlalchemy import bindparam, select

    from core import snapshot

    api, ids = _setup(make_api)
    unscoped = select(*snapshot.NUMBER_COLUMNS).where(
        Number.state == "active", Number.phone_e164 == bindparam("phone")
    )
    monkeypatch.setattr(snapshot, "_BY_PHONE", unscoped)
    api.runtime.snapshot.set_live(False)  # the preflight reads through to the database
    assert ("POST", "/outbound/check", 200, "leaks A's ids") in scoping_violations(api, ids)


def test_filters_naming_a_s_objects_find_nothing_for_b(make_api: Any) -> None:
    """Every filtered list, filtered by A's own ids and values: A finds its rows, B none."""
    api, ids = _setup(make_api)
    filtered = [
        ("/settings/telephony/numbers", {"provider": "fake", "hosted": "true", "outbound": "true"}),
        ("/calls", {"campaign_id": ids["cid"]}),
        ("/settings/telephony/audit", {"subject_type": "campaign", "subject_id": ids["cid"]}),
    ]
    for path, params in filtered:
        mine = api.client.get(path, params=params)
        assert mine.status_code == 200 and mine.json()["total"] >= 1, (path, mine.text)
        theirs = api.client_b.get(path, params=params)
        assert theirs.status_code == 200, (path, theirs.text)
        assert theirs.json() == {"items": [], "total": 0, "limit": 50, "offset": 0}, path
