"""The console's side of the compliance preflight: the outbound policy in SettingsTelephony, the
number's countries in BindControls, the providers' dialing permissions, rendered through the
app and edited in Chromium against a real server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Api

from .conftest import page
from .server import Server, start_server
from .test_e2e import Shots, open_page, row, sign_in
from .test_e2e import browser as browser  # the module's Chromium fixture

HOSTED = "+14155550100"


def test_settings_show_the_outbound_policy_and_the_permissions(
    console: Callable[..., Api],
) -> None:
    api = console(tables={"sandbox": {"disabled_countries": ["GB"]}})
    r = api.client.put(
        "/settings/telephony/outbound-policy",
        json={
            "allowed_countries": ["US", "CA"],
            "calling_hours": {
                "rules": ["fr"],
                "windows": [{"days": ["mon", "fri"], "start": "09:00", "end": "17:30"}],
            },
        },
    )
    assert r.status_code == 200
    doc = page(api, "/console/telephony")
    form = doc.one("form", data_component="outbound-policy")
    assert form.one("input", id="policy-countries").get("value") == "CA, US"
    assert form.one("input", id="policy-hours").get("checked") is not None
    assert form.one("input", id="policy-rule-fr").get("checked") is not None
    assert form.one("input", id="policy-rule-us_federal").get("checked") is None
    assert "47 CFR 64.1200(c)(1)" in form.one(id="policy-rule-us_federal-source").text
    assert form.one("textarea", id="policy-windows").text.strip() == "mon,fri 09:00-17:30"
    cell = doc.one("tr", data_provider="sandbox").one(data_field="permissions")
    assert cell.get("data-permissions-state") == "pending"
    api.run(api.runtime.permissions.refresh_all)
    cell = (
        page(api, "/console/telephony")
        .one("tr", data_provider="sandbox")
        .one(data_field="permissions")
    )
    assert cell.get("data-permissions-state") == "ok" and "refused: GB" in cell.text


def test_bind_controls_show_the_numbers_countries(console: Callable[..., Api]) -> None:
    api = console()
    number = api.add_number(HOSTED, "sandbox", hosted=True, allowed_countries=["FR", "US"])
    doc = page(api, f"/console/numbers/{number['id']}")
    field = doc.one("input", id=f"countries-{number['id']}")
    assert field.get("value") == "FR, US"
    assert field.get("name") == "allowed_countries"


# -- in Chromium ---------------------------------------------------------------------------------

TOML = """
[trunkline]
plugins = ["sandbox"]
strict = true
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server(tmp_path_factory.mktemp("policy-server"), TOML)
    try:
        yield srv
    finally:
        srv.stop()


@pytest.mark.browser
@pytest.mark.slow
def test_edit_the_outbound_policy_and_a_numbers_countries(
    server: Server, browser: Any, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    ws = server.workspace("Policy")
    number = ws.add_byo("+14155550123")
    _, tab = open_page(browser, request)
    shot = Shots(tab, request.node.name)
    sign_in(tab, server, ws)
    tab.goto(f"{server.url}/console/telephony")
    tab.get_by_label("Countries this workspace may call").fill("us, ca")
    tab.get_by_label("Only call inside the calling hours, in the callee's local time").check()
    tab.get_by_label("This workspace's own windows").fill("mon,tue,wed,thu,fri 09:00-18:00")
    tab.get_by_role("button", name="Save outbound policy").click()
    tab.get_by_text("Outbound policy saved.").wait_for()
    shot("policy-saved")
    saved = ws.api.get("/settings/telephony/outbound-policy").json()
    assert saved["allowed_countries"] == ["CA", "US"]
    assert saved["calling_hours"] == {
        "rules": ["us_federal", "us_states", "fr"],
        "windows": [
            {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "18:00"}
        ],
    }
    # a malformed window is refused in words, before anything is sent
    tab.get_by_label("This workspace's own windows").fill("weekdays nine to five")
    tab.get_by_role("button", name="Save outbound policy").click()
    alert = tab.locator(".policy-error")
    alert.wait_for(state="visible")
    assert "write days then start-end" in alert.inner_text()
    # the server's refusal too: an unknown country
    tab.get_by_label("This workspace's own windows").fill("")
    tab.get_by_label("Countries this workspace may call").fill("US, UK")
    tab.get_by_role("button", name="Save outbound policy").click()
    tab.wait_for_function(
        "document.querySelector('.policy-error').textContent.includes('allowed_countries')"
    )
    assert ws.api.get("/settings/telephony/outbound-policy").json()["allowed_countries"] == [
        "CA",
        "US",
    ]
    shot("policy-refused")
    # the number's own countries, in BindControls
    tab.goto(f"{server.url}/console/numbers")
    row(tab, "+14155550123").get_by_role("link", name="Binding").click()
    tab.get_by_label("Countries this number may call").fill("fr")
    tab.get_by_role("button", name="Save binding").click()
    tab.get_by_text("Binding saved.").wait_for()
    assert ws.number(number["id"])["allowed_countries"] == ["FR"]
    shot("number-countries-saved")
