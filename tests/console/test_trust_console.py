"""The console's side of the workspace's trust settings: the outbound policy card edits
``min_attestation`` and the lookup policy, and the campaigns page warns when a campaign's caller
ID is below the minimum attestation (without refusing its test calls elsewhere). Rendered
through the app, then in Chromium against a real server."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.conftest import Api, need

from .conftest import page
from .server import Server, Workspace, start_server
from .test_e2e import CHROMIUM, Shots, browser, open_page, refused_test_call, sign_in

__all__ = ["browser"]  # the module-scoped Chromium fixture, shared with test_e2e

POLICY = "/settings/telephony/outbound-policy"
WARNING = '[data-warning="attestation_below_minimum"]'


def test_the_policy_card_shows_the_trust_settings(console: Callable[..., Api]) -> None:
    api = console()
    form = page(api, "/console/telephony").one("form", data_component="outbound-policy")
    select = form.one("select", id="policy-min-attestation")
    assert select.one("option", selected=True).get("value") == ""  # no minimum by default
    assert [o.get("value") for o in select.find_all("option")] == ["", "A", "B", "C"]
    assert form.one("input", id="policy-lookup").get("checked") is None
    assert form.one("input", id="policy-deny-premium").get("checked") is None
    r = api.client.put(
        POLICY,
        json={
            "min_attestation": "B",
            "lookup": {
                "enabled": True,
                "deny_line_types": ["premium", "pager"],
                "check_reassigned": True,
            },
        },
    )
    assert r.status_code == 200, r.text
    form = page(api, "/console/telephony").one("form", data_component="outbound-policy")
    assert (
        form.one("select", id="policy-min-attestation").one("option", selected=True).get("value")
        == "B"
    )
    assert form.one("input", id="policy-lookup").get("checked") is not None
    assert form.one("input", id="policy-reassigned").get("checked") is not None
    denied = [
        i.get("value")
        for i in form.find_all("input", name="deny_line_type")
        if i.get("checked") is not None
    ]
    assert denied == ["premium", "pager"]
    assert len(form.find_all("input", name="deny_line_type")) == 10  # every line type


def test_the_campaigns_page_warns_below_the_minimum(console: Callable[..., Api]) -> None:
    api = console()
    verified = api.add_number(
        "+14155550101", "sandbox", verified_cli=True, outbound_enabled=True, attestation_level="B"
    )
    hosted = api.add_number(
        "+14155550102", "sandbox", hosted=True, outbound_enabled=True, attestation_level="A"
    )
    ids = {}
    for name, number in (("Verified", verified), ("Hosted", hosted)):
        r = api.client.post("/campaigns", json={"name": name, "from_e164": number["phone_e164"]})
        ids[name] = r.json()["id"]
    doc = page(api, "/console/campaigns")
    assert doc.find_all(data_warning="attestation_below_minimum") == []
    api.client.put(POLICY, json={"min_attestation": "A"})
    doc = page(api, "/console/campaigns")
    row = doc.one("tr", data_campaign_id=ids["Verified"])
    warning = row.one(data_warning="attestation_below_minimum")
    assert "US and Canadian numbers will be refused" in warning.text
    assert "attestation B" in warning.text and "minimum, A" in warning.text
    # a warning, not a block: calls elsewhere are still allowed
    assert row.one("button", class_="open-test-call").get("data-blocked") == ""
    assert (
        doc.one("tr", data_campaign_id=ids["Hosted"]).find_all(
            data_warning="attestation_below_minimum"
        )
        == []
    )


# -- in Chromium ---------------------------------------------------------------------------------

TOML = """
[trunkline]
plugins = ["sandbox"]
strict = true

[plugins.sandbox]
verification_style = "sms"
fixed_code = "123456"
callback_delay_seconds = 0.2
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    need(CHROMIUM.exists(), "Debian's chromium at /usr/bin/chromium")
    srv = start_server(tmp_path_factory.mktemp("console-trust"), TOML)
    try:
        yield srv
    finally:
        srv.stop()


def _verified(ws: Workspace, e164: str) -> dict[str, Any]:
    """A bring-your-own number verified with the sandbox's code: attestation B."""
    number = ws.add_byo(e164)
    verify = "/settings/telephony/numbers/verify-cli"
    assert ws.api.post(verify, json={"number_id": number["id"]}).status_code == 200
    done = ws.api.post(verify, json={"number_id": number["id"], "code": "123456"})
    assert done.json()["verified_cli"] is True, done.text
    return number


@pytest.mark.browser
@pytest.mark.slow
def test_edit_the_trust_settings_and_see_the_campaign_warning(
    server: Server, browser: Any, request: pytest.FixtureRequest
) -> None:
    ws = server.workspace("Trust")
    hosted = ws.buy_hosted()
    verified = _verified(ws, "+14155550181")
    for number in (hosted, verified):
        r = ws.api.patch(
            f"/settings/telephony/numbers/{number['id']}", json={"outbound_enabled": True}
        )
        assert r.status_code == 200, r.text
    assert ws.number(hosted["id"])["attestation"] == "A"
    assert ws.number(verified["id"])["attestation"] == "B"
    for name, number in (("Hosted calls", hosted), ("Verified calls", verified)):
        r = ws.api.post("/campaigns", json={"name": name, "from_e164": number["phone_e164"]})
        assert r.status_code == 201, r.text

    _, tab = open_page(browser, request)
    shot = Shots(tab, request.node.name)
    sign_in(tab, server, ws)
    # the campaigns show no warning while the workspace has no minimum
    tab.goto(f"{server.url}/console/campaigns")
    assert tab.locator(WARNING).count() == 0

    # SettingsTelephony: the minimum and the lookup policy
    tab.goto(f"{server.url}/console/telephony")
    tab.get_by_label("Minimum attestation for US and Canadian destinations").select_option("A")
    tab.get_by_label("Look up every destination before a call").check()
    tab.get_by_label("Premium rate").check()
    tab.get_by_label("Pager").check()
    tab.get_by_label(re.compile("Check for reassigned numbers")).check()
    tab.get_by_role("button", name="Save outbound policy").click()
    tab.get_by_text("Outbound policy saved.").wait_for()
    shot("trust-saved")
    saved = ws.api.get(POLICY).json()
    assert saved["min_attestation"] == "A"
    assert saved["lookup"] == {
        "enabled": True,
        "deny_line_types": ["premium", "pager"],
        "check_reassigned": True,
    }
    assert saved["allowed_countries"] == [] and saved["calling_hours"] is None
    # what was saved is what the card shows next time
    tab.reload()
    assert tab.get_by_label(
        "Minimum attestation for US and Canadian destinations"
    ).input_value() == ("A")
    assert tab.get_by_label("Look up every destination before a call").is_checked()
    assert tab.get_by_label("Pager").is_checked() and not tab.get_by_label("Landline").is_checked()

    # the campaign whose caller ID is below the minimum is warned about, the other is not
    tab.goto(f"{server.url}/console/campaigns")
    below = tab.get_by_role("row", name=re.compile("Verified calls"))
    warning = below.locator(WARNING)
    warning.wait_for()
    assert warning.is_visible()
    assert "Calls to US and Canadian numbers will be refused" in warning.inner_text()
    assert "attestation B" in warning.inner_text()
    assert tab.get_by_role("row", name=re.compile("Hosted calls")).locator(WARNING).count() == 0
    shot("campaign-warned")
    # a test call to a US number from it is refused, in words
    below.get_by_role("button", name="Test call").click()
    dialog = tab.get_by_role("dialog", name="Test call")
    said = refused_test_call(dialog, "+12125550199")
    assert "attestation is below the workspace's minimum" in said
    shot("test-call-refused")
    tab.keyboard.press("Escape")

    # lowering the minimum to B clears the warning
    tab.goto(f"{server.url}/console/telephony")
    tab.get_by_label("Minimum attestation for US and Canadian destinations").select_option("B")
    tab.get_by_role("button", name="Save outbound policy").click()
    tab.get_by_text("Outbound policy saved.").wait_for()
    assert ws.api.get(POLICY).json()["min_attestation"] == "B"
    assert ws.api.get(POLICY).json()["lookup"]["enabled"] is True  # the rest kept
    tab.goto(f"{server.url}/console/campaigns")
    tab.get_by_role("row", name=re.compile("Verified calls")).wait_for()
    assert tab.locator(WARNING).count() == 0
    shot("warning-cleared")
