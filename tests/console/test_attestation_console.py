"""The console shows each number's expected attestation as a badge beside it: in the numbers
table and on the number's page (rendered through the app), and in Chromium."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.conftest import Api, need

from .conftest import page
from .server import Server, start_server
from .test_e2e import CHROMIUM, SANDBOX_TOML, Shots, browser, open_page, row, sign_in

__all__ = ["browser"]  # the module-scoped Chromium fixture, shared with test_e2e


def _badge(node: Any) -> Any:
    return node.one("span", data_field="attestation")


def test_numbers_table_and_number_page_show_the_badge(console: Callable[..., Api]) -> None:
    api = console(tables={"sandbox": {"verification_style": "sms", "fixed_code": "123456"}})
    bought = api.client.post(
        "/settings/telephony/numbers/purchase",
        json={"provider": "sandbox", "e164": "+14155550123"},
    ).json()
    byo = api.client.post(
        "/settings/telephony/numbers", json={"e164": "+14155550101", "provider": "sandbox"}
    ).json()
    api.client.post("/settings/telephony/numbers/verify-cli", json={"number_id": byo["id"]})
    api.client.post(
        "/settings/telephony/numbers/verify-cli", json={"number_id": byo["id"], "code": "123456"}
    )
    never = api.add_number("+14155550105", "sandbox")

    doc = page(api, "/console/numbers")
    for number, level, text in (
        (bought, "A", "Attestation A"),
        (byo, "B", "Attestation B"),
        (never, "", "Attestation ?"),
    ):
        badge = _badge(doc.one("tr", data_number_id=number["id"]).one("th"))
        assert badge.get("data-level") == level and badge.text == text
    hosted = _badge(doc.one("tr", data_number_id=bought["id"]))
    assert "hosted by the sandbox carrier" in (hosted.get("aria-label") or "")
    assert "attest-a" in (hosted.get("class") or "")
    assert "attest-none" in (_badge(doc.one("tr", data_number_id=never["id"])).get("class") or "")

    one = page(api, f"/console/numbers/{byo['id']}")
    assert _badge(one).text == "Attestation B"
    assert "a verified caller ID, not hosted" in one.text


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    need(CHROMIUM.exists(), "Debian's chromium at /usr/bin/chromium")
    srv = start_server(tmp_path_factory.mktemp("console-attestation"), SANDBOX_TOML)
    yield srv
    srv.stop()


@pytest.mark.browser
@pytest.mark.slow
def test_badge_beside_each_number_in_chromium(
    server: Server, browser: Any, request: pytest.FixtureRequest
) -> None:
    ws = server.workspace("Attestation badge")
    hosted = ws.buy_hosted()
    byo = ws.add_byo("+14155550171")
    _, tab = open_page(browser, request)
    shot = Shots(tab, request.node.name)
    sign_in(tab, server, ws)
    tab.get_by_role("link", name="Numbers").click()
    tab.wait_for_url(re.compile(r"/console/numbers"))
    badge = row(tab, hosted["phone_e164"]).locator('[data-field="attestation"]')
    assert badge.inner_text() == "Attestation A"
    assert badge.is_visible()
    unknown = row(tab, byo["phone_e164"]).locator('[data-field="attestation"]')
    assert unknown.inner_text() == "Attestation ?"
    # beside the number: on the same line as its link, to its right
    link = row(tab, hosted["phone_e164"]).get_by_role("link", name=hosted["phone_e164"])
    link_box, badge_box = link.bounding_box(), badge.bounding_box()
    assert badge_box["x"] > link_box["x"] + link_box["width"] - 1
    assert abs(badge_box["y"] - link_box["y"]) < link_box["height"]
    shot("badges")
