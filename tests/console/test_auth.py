"""Console sign-in, sign-out, cookies, cross-site protection and workspace scoping."""

from __future__ import annotations

import re
from collections.abc import Callable

from api.console.render import STATIC
from tests.conftest import Api

from .conftest import login, page
from .html import parse


def set_cookies(response: object) -> dict[str, str]:
    headers = response.headers.get_list("set-cookie")  # type: ignore[attr-defined]
    return {h.split("=", 1)[0]: h for h in headers}


def test_pages_need_a_session(make_api: Callable[..., Api]) -> None:
    api = make_api()
    for url in ("/console", "/console/telephony", "/console/numbers", "/console/campaigns"):
        r = api.testclient.get(url, follow_redirects=False)
        assert r.status_code == 401, url
        doc = parse(r.text)  # the sign-in form, which comes back here
        assert doc.by_id("api_key").get("type") == "password", url
        assert "Workspace A" not in r.text
    r = api.testclient.get("/console/numbers?offset=0")
    assert parse(r.text).one("input", name="next").get("value") == "/console/numbers?offset=0"
    r = api.testclient.get("/console/login?next=https://evil.example/")
    assert parse(r.text).one("input", name="next").get("value") == "/console/telephony"
    # like the JSON API, a page also accepts an Authorization header (scripts, the scoping test)
    r = api.client.get("/console/numbers", follow_redirects=False)
    assert r.status_code == 200 and "Workspace A" in r.text
    assert (
        api.anon.get("/console/numbers", headers={"Authorization": "Bearer tlk_x"}).status_code
        == 401
    )


def test_sign_in_sets_an_httponly_strict_key_cookie_and_a_csrf_cookie(
    make_api: Callable[..., Api],
) -> None:
    api = make_api()
    form = parse(api.testclient.get("/console/login").text)
    key_input = form.by_id("api_key")
    assert key_input.get("type") == "password"
    assert form.one("label", for_="api_key").text == "API key"
    r = login(api)
    assert r.status_code == 303
    assert r.headers["location"] == "/console/telephony"
    cookies = set_cookies(r)
    key_cookie = cookies["trunkline_key"].lower()
    assert "httponly" in key_cookie and "samesite=strict" in key_cookie and "path=/" in key_cookie
    assert api.client.key in cookies["trunkline_key"]  # type: ignore[operator]
    csrf_cookie = cookies["trunkline_csrf"].lower()
    assert "httponly" not in csrf_cookie and "samesite=strict" in csrf_cookie
    assert "secure" not in key_cookie  # plain http on 127.0.0.1; https sets Secure
    # the pre-session token is spent
    assert 'trunkline_login_csrf=""' in cookies["trunkline_login_csrf"]
    # no page holds the key
    for url in ("/console/telephony", "/console/numbers", "/console/campaigns"):
        assert api.client.key not in api.testclient.get(url).text  # type: ignore[operator]


def test_sign_in_over_https_marks_cookies_secure(make_api: Callable[..., Api]) -> None:
    api = make_api()
    tc = api.testclient
    page_ = tc.get("https://testserver/console/login")
    assert "secure" in set_cookies(page_)["trunkline_login_csrf"].lower()
    token = re.search(r'name="login_token" value="([^"]+)"', page_.text).group(1)  # type: ignore[union-attr]
    r = tc.post(
        "https://testserver/console/login",
        data={"api_key": api.client.key or "", "login_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303
    for name in ("trunkline_key", "trunkline_csrf"):
        assert "secure" in set_cookies(r)[name].lower()


def test_a_wrong_key_is_refused_in_words(make_api: Callable[..., Api]) -> None:
    api = make_api()
    r = login(api, key="tlk_wrong")
    assert r.status_code == 401
    doc = parse(r.text)
    assert doc.by_id("login-error").text == "That API key is not valid."
    assert doc.by_id("api_key").get("aria-invalid") == "true"
    assert "trunkline_key" not in set_cookies(r)


def test_sign_in_refuses_cross_site_posts(make_api: Callable[..., Api]) -> None:
    api = make_api()
    tc = api.testclient
    key = api.client.key or ""
    # no pre-session token (a form posted from elsewhere has none)
    tc.cookies.clear()
    r = tc.post("/console/login", data={"api_key": key}, follow_redirects=False)
    assert r.status_code == 403 and "trunkline_key" not in set_cookies(r)
    # a token, but the browser says the post comes from another site
    assert login(api, **{"Origin": "https://evil.example"}).status_code == 403
    assert login(api, **{"Origin": "null"}).status_code == 403
    assert login(api, **{"Sec-Fetch-Site": "cross-site"}).status_code == 403
    assert login(api, **{"Sec-Fetch-Site": "same-site"}).status_code == 403
    # a token from another visit of the form (the cookie holds the latest one)
    tc.get("/console/login")
    r = tc.post(
        "/console/login",
        data={"api_key": key, "login_token": "guessed"},
        follow_redirects=False,
    )
    assert r.status_code == 403
    assert "came from another site" in r.text
    # the same origin is welcome
    r = login(api, **{"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"})
    assert r.status_code == 303


def test_cookie_session_needs_the_csrf_header_for_changes(make_api: Callable[..., Api]) -> None:
    api = make_api()
    assert login(api).status_code == 303
    tc = api.testclient  # no Authorization header: the cookie authenticates
    assert tc.get("/settings/telephony/numbers").status_code == 200
    body = {"e164": "+14155550140", "provider": "sandbox"}
    r = tc.post("/settings/telephony/numbers", json=body)
    assert r.status_code == 403 and r.json()["code"] == "csrf_failed"
    r = tc.post("/settings/telephony/numbers", json=body, headers={"X-CSRF-Token": "nope"})
    assert r.status_code == 403
    token = tc.cookies.get("trunkline_csrf")
    r = tc.post("/settings/telephony/numbers", json=body, headers={"X-CSRF-Token": token})
    assert r.status_code == 201, r.text
    assert r.json()["workspace_id"] == api.workspace_id


def test_sign_out_needs_the_session_token_and_clears_the_cookies(
    make_api: Callable[..., Api],
) -> None:
    api = make_api()
    assert login(api).status_code == 303
    tc = api.testclient
    doc = page(api, "/console/numbers")
    form = doc.one("form", action="/console/logout")
    token = form.one("input", name="csrf_token").get("value")
    assert token == tc.cookies.get("trunkline_csrf")
    r = tc.post("/console/logout", data={"csrf_token": "forged"}, follow_redirects=False)
    assert r.status_code == 403
    assert page(api, "/console/numbers")  # still signed in
    r = tc.post("/console/logout", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/console/login"
    cleared = set_cookies(r)
    assert "max-age=0" in cleared["trunkline_key"].lower()
    assert "max-age=0" in cleared["trunkline_csrf"].lower()
    assert tc.get("/console/numbers", follow_redirects=False).status_code == 401


def test_a_revoked_key_ends_the_session(make_api: Callable[..., Api]) -> None:
    from core.auth import revoke_key

    api = make_api()
    assert login(api).status_code == 303

    async def revoke() -> bool:
        async with api.runtime.sessionmaker() as session:
            return await revoke_key(session, api.client.key or "")

    assert api.run(revoke) is True
    r = api.testclient.get("/console/numbers", follow_redirects=False)
    assert r.status_code == 401 and 'action="/console/login"' in r.text
    assert "max-age=0" in set_cookies(r)["trunkline_key"].lower()


def test_each_workspace_sees_its_own_numbers(make_api: Callable[..., Api]) -> None:
    api = make_api()
    a = api.add_number("+14155550141", "sandbox")
    b = api.add_number("+14155550142", "sandbox", workspace="b")
    assert login(api).status_code == 303
    doc = page(api, "/console/numbers")
    assert a["phone_e164"] in doc.text and b["phone_e164"] not in doc.text
    assert "Workspace A" in doc.one("span", class_="workspace").text
    api.testclient.cookies.clear()
    assert login(api, key=api.client_b.key).status_code == 303
    doc = page(api, "/console/numbers")
    assert b["phone_e164"] in doc.text and a["phone_e164"] not in doc.text
    assert "Workspace B" in doc.one("span", class_="workspace").text
    page(api, f"/console/numbers/{a['id']}", status=404)


def test_pages_carry_security_headers_and_no_inline_script(make_api: Callable[..., Api]) -> None:
    api = make_api()
    assert login(api).status_code == 303
    for url in ("/console/login", "/console/telephony", "/console/numbers", "/console/campaigns"):
        r = api.testclient.get(url)
        assert r.status_code == 200, url
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "form-action 'self'" in csp
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["cache-control"] == "no-store"
        doc = parse(r.text)
        scripts = doc.find_all("script")
        assert scripts and all(s.get("src", "").startswith("/console/static/") for s in scripts)  # type: ignore[union-attr]
        assert all(not s.text for s in scripts)
        assert doc.find_all(style=True) == []  # no inline styles either (CSP style-src 'self')
        assert doc.one("html").get("lang") == "en"
        assert doc.one("meta", name="viewport") is not None


def test_static_files(make_api: Callable[..., Api]) -> None:
    api = make_api()
    assert {"console.js", "console.css"} <= set(STATIC)
    js = api.anon.get("/console/static/console.js")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    assert "X-CSRF-Token" in js.text
    assert "localStorage" not in js.text and "sessionStorage" not in js.text
    css = api.anon.get("/console/static/console.css")
    assert css.headers["content-type"].startswith("text/css")
    assert "@media (max-width: 720px)" in css.text
    assert api.anon.get("/console/static/../routes.py").status_code == 404
    assert api.anon.get("/console/static/nothing.js").status_code == 404
