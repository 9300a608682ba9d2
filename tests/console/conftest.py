"""Console fixtures: an app with the sandbox and a scripted carrier, signed in through the form."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import Api
from tests.fakes import FakeCarrier

from .html import Node, parse


def login(api: Api, key: str | None = None, **headers: str) -> Any:
    """Sign in through the console's form (pre-session token included); returns the answer."""
    tc = api.testclient
    page = tc.get("/console/login")
    assert page.status_code == 200, page.text
    token = re.search(r'name="login_token" value="([^"]+)"', page.text)
    assert token is not None
    return tc.post(
        "/console/login",
        data={"api_key": key or api.client.key or "", "login_token": token.group(1)},
        headers=headers,
        follow_redirects=False,
    )


def page(api: Api, url: str, status: int = 200) -> Node:
    """GET a console page with the session cookie (no Authorization header) and parse it."""
    r = api.testclient.get(url, follow_redirects=False)
    assert r.status_code == status, (r.status_code, r.text[:500])
    return parse(r.text)


@pytest.fixture
def console(make_api: Callable[..., Api]) -> Callable[..., Api]:
    """``console(env=..., tables=...)``: an app with ``sandbox`` and ``fake`` providers, signed in
    as workspace A."""

    def factory(**kw: Any) -> Api:
        fake = FakeCarrier()
        api = make_api(plugins=kw.pop("plugins", ["sandbox"]), extra={"fake": fake}, **kw)
        api.extra["fake"] = fake
        r = login(api)
        assert r.status_code == 303, r.text
        return api

    return factory
