# ruff: noqa: F811  (the fixtures imported from test_e2e are test parameters)
"""The daily workflows end to end in Debian's Chromium: offline API docs, calls followed to
their end, the audit and ledger pages, purchase confirmation, campaign editing, the destination
check's place and "allowed again" time, removing a number, a stale page's refusal, and the
layout details (pills on one line at 1280 px).

Same server and browser set-up as ``test_e2e.py`` (a uvicorn subprocess with the sandbox).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest

from core.policy import OUTSIDE_CALLING_HOURS, REASON_TEXT
from tests.conftest import need

from .server import Server, start_server
from .test_e2e import (  # noqa: F401  (the browser fixture)
    CHROMIUM,
    Shots,
    _even,
    _odd,
    artifacts,
    browser,
    open_page,
    refused_test_call,
    row,
    sign_in,
    signed_in,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: ``[plugins.sandbox] webhook_secret`` of this module's server (the sandbox has no default).
SANDBOX_SECRET = b"daily-webhook-secret"
SANDBOX_TOML = """
[trunkline]
plugins = ["sandbox"]
strict = true

[plugins.sandbox]
callback_delay_seconds = 1.0
webhook_secret = "daily-webhook-secret"
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    need(CHROMIUM.exists(), "Debian's chromium at /usr/bin/chromium")
    srv = start_server(tmp_path_factory.mktemp("console-daily"), SANDBOX_TOML)
    yield srv
    srv.stop()


def hosted_caller(ws: Any) -> dict[str, Any]:
    hosted = ws.buy_hosted()
    r = ws.api.patch(f"/settings/telephony/numbers/{hosted['id']}", json={"outbound_enabled": True})
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()
    return result


def sandbox_callback(server: Server, payload: dict[str, Any]) -> dict[str, Any]:
    body = json.dumps(payload).encode()
    signature = hmac.new(SANDBOX_SECRET, body, hashlib.sha256).hexdigest()
    r = httpx.post(
        f"{server.url}/webhooks/sandbox",
        content=body,
        headers={"x-sandbox-signature": signature, "content-type": "application/json"},
    )
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()
    return result


# -- /docs without internet -------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_api_docs_render_with_every_other_host_blocked(
    server: Server, browser: Any, request: pytest.FixtureRequest, path: str
) -> None:
    context, page = open_page(browser, request)
    ours = urlsplit(server.url).netloc
    blocked: list[str] = []

    def only_ours(route: Any) -> None:
        if urlsplit(route.request.url).netloc == ours:
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", only_ours)
    page.goto(f"{server.url}{path}")
    if path == "/docs":
        operation = page.locator(".opblock-summary-path", has_text="/calls/{call_id}")
    else:
        operation = page.locator("h2").filter(has_text="Get Call")
    operation.first.wait_for(state="visible", timeout=20000)
    assert "Unable to render this definition" not in page.content()
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    page.screenshot(path=str(artifacts() / f"{name}-rendered.png"))  # the viewport: ReDoc is long
    # nothing went to another host (ReDoc's CDN logo is refused by the page's CSP first)
    assert blocked == [], f"the page asked other hosts: {blocked}"


# -- calls, audit, ledger ---------------------------------------------------------------------


def test_a_test_call_is_followed_to_its_end_and_listed_with_audit_and_ledger(
    server: Server, browser: Any, request: pytest.FixtureRequest
) -> None:
    ws = server.workspace("Daily calls")
    hosted = hosted_caller(ws)
    created = ws.api.post("/campaigns", json={"name": "Daily", "from_e164": hosted["phone_e164"]})
    assert created.status_code == 201
    page, shot = signed_in(browser, request, server, ws)
    page.get_by_role("link", name="Campaigns").click()
    page.get_by_role("button", name="Test call").click()
    dialog = page.get_by_role("dialog", name="Test call")
    assert dialog.get_by_role("button", name="Place test call").is_enabled()
    dialog.get_by_label("Destination for a test call").fill("+14155550199")
    dialog.get_by_role("button", name="Place test call").click()
    # the sandbox rings, answers and hangs up after a second; the dialog follows the call
    dialog.get_by_text(
        re.compile(r"Test call placed from .* to \+14155550199: completed")
    ).wait_for(timeout=15000)
    shot("call-completed")
    page.keyboard.press("Escape")
    page.get_by_role("link", name="Calls").click()
    page.wait_for_url(re.compile(r"/console/calls"))
    call = page.locator("#calls-table tbody tr").first
    assert "+14155550199" in call.inner_text() and "Daily" in call.inner_text()
    assert call.locator('[data-field="call-status"]').inner_text() == "completed"
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", call.inner_text())
    shot("calls")
    # the audit trail, filtered to the call's statuses
    page.get_by_role("link", name="Audit").click()
    page.get_by_label("Action").select_option("call_status")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"action=call_status"))
    outcomes = page.locator("#audit-table tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.outcome)"
    )
    assert outcomes == ["completed", "in-progress", "ringing"]
    assert "carrier:sandbox" in page.locator("#audit-table").inner_text()
    shot("audit")
    # the ledger holds the purchase at the carrier's price
    page.get_by_role("link", name="Ledger").click()
    purchase = page.locator('#ledger-table tbody tr[data-kind="purchase"]')
    assert hosted["phone_e164"] in purchase.inner_text()
    assert "1.15 USD/month" in purchase.inner_text()
    shot("ledger")


# -- a purchase is confirmed with the carrier's price ------------------------------------------


def test_buy_asks_first_and_shows_the_price(
    server: Server, browser: Any, request: pytest.FixtureRequest
) -> None:
    ws = server.workspace("Confirm purchase")
    page, shot = signed_in(browser, request, server, ws)
    page.locator("#s_country").fill("US")
    page.get_by_role("button", name="Search numbers").click()
    first = page.locator("#search-table tbody tr").first
    e164 = first.get_attribute("data-e164")
    first.get_by_role("button", name="Buy").click()
    dialog = page.get_by_role("dialog", name="Confirm the purchase")
    dialog.wait_for(state="visible")
    assert f"Buy {e164} from sandbox?" in dialog.inner_text()
    assert "The carrier charges 1.15 USD a month" in dialog.inner_text()
    shot("confirm")
    dialog.get_by_role("button", name="Cancel").click()
    assert ws.api.get("/settings/telephony/numbers").json()["total"] == 0  # nothing bought
    first.get_by_role("button", name="Buy").click()
    dialog.get_by_role("button", name="Buy for 1.15 USD/month").click()
    first.get_by_role("link", name=re.compile(f"Bought {re.escape(e164 or '')}")).wait_for()
    shot("bought")
    numbers = ws.api.get("/settings/telephony/numbers").json()["items"]
    assert [(n["phone_e164"], n["hosted"]) for n in numbers] == [(e164, True)]


# -- campaigns: edit, clear the caller ID, delete ---------------------------------------------


def test_campaign_editing_changes_and_clears_the_caller_id_and_deletes(
    server: Server, browser: Any, request: pytest.FixtureRequest
) -> None:
    ws = server.workspace("Edit campaigns")
    hosted = hosted_caller(ws)
    created = ws.api.post("/campaigns", json={"name": "Autumn"}).json()
    page, shot = signed_in(browser, request, server, ws)
    page.goto(f"{server.url}/console/campaigns")
    listed = page.get_by_role("row", name=re.compile("Autumn"))
    assert "No caller ID" in listed.inner_text() and "None" not in listed.inner_text()
    # a campaign without caller ID: the test-call dialog says so and offers no call
    listed.get_by_role("button", name="Test call").click()
    call_dialog = page.get_by_role("dialog", name="Test call")
    assert "no caller ID" in call_dialog.locator("#test-call-blocked").inner_text()
    assert call_dialog.get_by_role("button", name="Place test call").is_disabled()
    shot("call-blocked")
    page.keyboard.press("Escape")
    # rename and give it the hosted caller ID
    listed.get_by_role("button", name="Edit").click()
    edit = page.get_by_role("dialog", name="Edit campaign")
    edit.get_by_label("Campaign name").fill("Autumn calls")
    edit.get_by_label("Caller ID").select_option(hosted["phone_e164"])
    edit.get_by_role("button", name="Save changes").click()
    edit.get_by_text(f"Saved: “Autumn calls”, caller ID {hosted['phone_e164']}.").wait_for()
    shot("saved")
    page.keyboard.press("Escape")
    page.wait_for_load_state()
    listed = page.get_by_role("row", name=re.compile("Autumn calls"))
    listed.wait_for()
    assert hosted["phone_e164"] in listed.inner_text()
    got = ws.api.get(f"/campaigns/{created['id']}").json()
    assert (got["name"], got["from_e164"]) == ("Autumn calls", hosted["phone_e164"])
    # clear it again
    listed.get_by_role("button", name="Edit").click()
    edit.get_by_label("Caller ID").select_option("")
    edit.get_by_role("button", name="Save changes").click()
    edit.get_by_text("Saved: “Autumn calls”, no caller ID.").wait_for()
    assert ws.api.get(f"/campaigns/{created['id']}").json()["from_e164"] is None
    # delete, after a confirmation that can be declined
    edit.get_by_role("button", name="Delete campaign").click()
    assert "Delete the campaign “Autumn calls”?" in edit.inner_text()
    edit.get_by_role("button", name="Keep it").click()
    assert ws.api.get(f"/campaigns/{created['id']}").status_code == 200
    edit.get_by_role("button", name="Delete campaign").click()
    shot("confirm-delete")
    edit.get_by_role("button", name="Yes, delete it").click()
    page.get_by_text("No campaign yet.").wait_for()
    assert ws.api.get(f"/campaigns/{created['id']}").status_code == 404
    shot("deleted")


def test_a_caller_id_refused_since_blocks_the_test_call(
    server: Server, browser: Any, request: pytest.FixtureRequest
) -> None:
    ws = server.workspace("Refused caller")
    hosted = hosted_caller(ws)
    ws.api.post("/campaigns", json={"name": "Winter", "from_e164": hosted["phone_e164"]})
    ws.api.patch(f"/settings/telephony/numbers/{hosted['id']}", json={"outbound_enabled": False})
    _, page = open_page(browser, request)
    sign_in(page, server, ws)
    page.goto(f"{server.url}/console/campaigns")
    listed = page.get_by_role("row", name=re.compile("Winter"))
    assert "Calls will be refused: The number is not enabled for outbound calls." in (
        listed.inner_text()
    )
    listed.get_by_role("button", name="Test call").click()
    dialog = page.get_by_role("dialog", name="Test call")
    place = dialog.get_by_role("button", name="Place test call")
    assert place.is_disabled()
    assert "not enabled for outbound" in dialog.locator("#test-call-blocked").inner_text()
    assert place.get_attribute("aria-describedby") == "test-call-blocked"
    assert ws.api.get("/calls").json()["total"] == 0


# -- campaigns: checking a pasted list of destinations ----------------------------------------


def test_the_destination_check_says_where_and_when_a_refused_call_is_allowed(
    server: Server, browser: Any, request: pytest.FixtureRequest
) -> None:
    ws = server.workspace("Destination check")
    hosted = hosted_caller(ws)
    # calling hours whose only window is two UTC days ahead: at least a day ahead in any
    # callee's zone, so "now" is outside it whenever the test runs; lookups tell the line type
    window_day = (datetime.now(UTC) + timedelta(days=2)).strftime("%a").lower()
    policy = {
        "calling_hours": {
            "rules": [],
            "windows": [{"days": [window_day], "start": "10:00", "end": "11:00"}],
        },
        "lookup": {"enabled": True},
    }
    r = ws.api.put("/settings/telephony/outbound-policy", json=policy)
    assert r.status_code == 200, r.text
    listed = ["+14155550199", "+442079460000", "12"]
    checks = [{"from": hosted["phone_e164"], "to": to} for to in listed]
    r = ws.api.post("/outbound/check/batch", json={"checks": checks})
    assert r.status_code == 200, r.text
    us, gb, bad = r.json()["results"]
    assert us["destination"] == {
        "country_code": "US",
        "region": "CA",
        "time_zones": ["America/Los_Angeles"],
        "line_type": "mobile",
    }
    assert gb["destination"]["country_code"] == "GB" and gb["destination"]["region"] is None
    assert gb["destination"]["time_zones"] == ["Europe/London"]
    assert bad["error"]["code"] == "invalid_phone_number"

    def allowed_again(result: dict[str, Any], zone: str | None = None) -> str:
        """The sentence the page should show, from the API's own answer, in the callee's zone
        (or ``zone``, the browser's); the browser says it in en-GB, and ICU versions differ on
        the comma after the weekday and before the time."""
        callee = result["destination"]["time_zones"][0]
        instant = datetime.fromisoformat(result["next_allowed_at"].replace("Z", "+00:00"))
        assert instant.astimezone(ZoneInfo(callee)).strftime("%a %H:%M").lower() == (
            f"{window_day} 10:00"
        )
        shown = zone or callee
        local = instant.astimezone(ZoneInfo(shown))
        return (
            rf"Allowed again from {local:%A},? {local.day} {local:%B} {local.year}(?:,| at) "
            rf"{local:%H:%M} \({re.escape(shown)}\)\."
        )

    refused = REASON_TEXT[OUTSIDE_CALLING_HOURS]
    # a browser in Tokyo: the times are the callee's, not the browser's
    page, shot = signed_in(browser, request, server, ws, locale="en-GB", timezone_id="Asia/Tokyo")
    page.goto(f"{server.url}/console/campaigns")
    card = page.locator('[data-component="destination-check"]')
    card.get_by_label("Destinations").fill("\n".join(listed))
    card.get_by_role("button", name="Check").click()
    table = card.get_by_role("table")
    table.wait_for(state="visible")
    assert card.locator(".check-summary").inner_text() == "0 of 3 destinations allowed."
    headers = table.locator("thead th")
    assert headers.all_text_contents() == ["Destination", "Where", "Answer", "Why"]
    assert {headers.nth(i).get_attribute("scope") for i in range(4)} == {"col"}
    rows = table.locator("tbody tr")
    assert rows.count() == 3
    texts = []
    for i, expected in enumerate(listed):
        cells = rows.nth(i).locator("th, td")
        assert cells.nth(0).inner_text() == expected
        assert cells.nth(0).get_attribute("scope") == "row"
        labels = [cells.nth(j).get_attribute("data-label") for j in range(4)]
        assert labels == ["Destination", "Where", "Answer", "Why"]
        texts.append([cells.nth(j).inner_text() for j in range(1, 4)])
    shot("checked")
    assert texts[0][:2] == ["US · CA · America/Los_Angeles · mobile", "Refused"]
    assert re.fullmatch(rf"{re.escape(refused)} {allowed_again(us)}", texts[0][2]), texts[0][2]
    assert texts[1][:2] == ["GB · Europe/London · mobile", "Refused"]
    assert re.fullmatch(rf"{re.escape(refused)} {allowed_again(gb)}", texts[1][2]), texts[1][2]
    # an item that could not be checked: no place, its problem as before
    assert texts[2][:2] == ["", "Not checked"]
    assert texts[2][2] == f"{bad['error']['detail']} (invalid_phone_number)"
    # a campaign's test call to the same destination is refused by the same gate, for the same
    # instant; its problem names no destination zone, so the dialog says it in the browser's
    created = ws.api.post("/campaigns", json={"name": "Hours", "from_e164": hosted["phone_e164"]})
    assert created.status_code == 201, created.text
    page.goto(f"{server.url}/console/campaigns")
    page.get_by_role("button", name="Test call").click()
    dialog = page.get_by_role("dialog", name="Test call")
    said = refused_test_call(dialog, "+14155550199")
    tokyo = allowed_again(us, "Asia/Tokyo")
    assert re.fullmatch(rf"Refused: {re.escape(refused)} {tokyo} \(outbound_not_allowed\)", said), (
        said
    )
    assert ws.api.get("/calls").json()["total"] == 0
    shot("test-call-refused")


# -- numbers: delete with a confirmation; a stale page's refusal --------------------------------


def test_a_number_is_deleted_only_after_the_confirmation(
    server: Server, browser: Any, request: pytest.FixtureRequest
) -> None:
    ws = server.workspace("Delete number")
    e164 = next(_odd)
    number = ws.add_byo(e164)
    page, shot = signed_in(browser, request, server, ws)
    page.goto(f"{server.url}/console/numbers/{number['id']}")
    page.get_by_role("button", name="Delete number").click()
    dialog = page.get_by_role("dialog", name=f"Delete {e164}?")
    dialog.wait_for(state="visible")
    shot("confirm")
    dialog.get_by_role("button", name="Keep it").click()
    assert ws.api.get(f"/settings/telephony/numbers/{number['id']}").status_code == 200
    page.get_by_role("button", name="Delete number").click()
    dialog.get_by_role("button", name="Yes, delete it").click()
    page.wait_for_url(re.compile(r"/console/numbers\?"))
    assert (
        f"{e164} was deleted from this workspace." in page.get_by_role("status").first.inner_text()
    )
    assert ws.api.get(f"/settings/telephony/numbers/{number['id']}").status_code == 404
    shot("deleted")


def test_a_refusal_on_a_stale_page_updates_the_summary(
    server: Server, browser: Any, request: pytest.FixtureRequest
) -> None:
    ws = server.workspace("Stale page")
    e164 = next(_odd)  # odd: the sandbox "sends" a code (shown as the answer's display_code)
    number = ws.add_byo(e164)
    verify = "/settings/telephony/numbers/verify-cli"
    sent = ws.api.post(verify, json={"number_id": number["id"]}).json()["display_code"]
    assert ws.api.post(verify, json={"number_id": number["id"], "code": sent}).json()[
        "verified_cli"
    ]
    page, shot = signed_in(browser, request, server, ws)
    page.goto(f"{server.url}/console/numbers/{number['id']}")
    summary = page.locator("dl.summary")
    assert summary.locator('[data-field="verification"]').inner_text() == "Verified"
    outbound = page.get_by_label("Place outbound calls with this caller ID")
    assert outbound.is_enabled()
    # meanwhile the carrier reports the verification failed
    ref = ws.number(number["id"])["verification_ref"]
    assert sandbox_callback(server, {"kind": "verification_failed", "provider_ref": ref})["changed"]
    outbound.check()
    page.get_by_role("button", name="Save binding").click()
    alert = page.locator(".bind-error")
    alert.wait_for(state="visible")
    assert "neither hosted nor a verified caller ID" in alert.inner_text()
    # the summary agrees with the alert: no longer verified, outbound off and locked
    page.wait_for_function(
        "el => el.textContent.trim() === 'Failed'",
        arg=summary.locator('[data-field="verification"]').element_handle(),
    )
    assert summary.locator('[data-field="outbound"]').inner_text() == "Off"
    assert outbound.is_disabled() and not outbound.is_checked()
    assert "neither hosted nor a verified caller ID" in page.locator(".reason").inner_text()
    shot("refused-and-refreshed")


# -- the verification's words, field names, layout --------------------------------------------


def test_the_simulated_call_text_goes_once_verified_and_errors_name_no_field(
    server: Server, browser: Any, request: pytest.FixtureRequest
) -> None:
    ws = server.workspace("Words")
    e164 = next(_even)  # even: the sandbox "calls" and confirms after a second
    ws.add_byo(e164)
    _, page = open_page(browser, request)
    sign_in(page, server, ws)
    page.goto(f"{server.url}/console/numbers")
    r = row(page, e164)
    r.get_by_role("button", name="Verify CLI").click()
    detail = r.locator(".verify-detail")
    detail.wait_for(state="visible")
    assert "simulated call confirms this number" in detail.inner_text()
    r.get_by_text("Caller ID verified").wait_for(timeout=10000)
    assert not detail.is_visible()
    # an invalid number added: the answer is in words, without the API's field name
    page.get_by_label("Number (E.164)").fill("+1")
    page.get_by_role("button", name="Add number").click()
    status = page.locator("#add-number-status")
    page.wait_for_function("el => el.textContent.length > 0", arg=status.element_handle())
    text = status.inner_text()
    assert "is not an E.164 number" in text and "e164" not in text, text


def test_pills_stay_on_one_line_at_1280(
    server: Server, browser: Any, request: pytest.FixtureRequest
) -> None:
    ws = server.workspace("Pills")
    hosted_caller(ws)
    ws.add_byo(next(_odd))
    page, shot = signed_in(browser, request, server, ws)
    # a pill wraps when it is taller than itself kept on one line
    lines = """els => els.map(el => {
        const height = el.getBoundingClientRect().height;
        const saved = el.style.whiteSpace;
        el.style.whiteSpace = "nowrap";
        const oneLine = el.getBoundingClientRect().height;
        el.style.whiteSpace = saved;
        return [el.textContent.trim(), height > oneLine + 1 ? 2 : 1];
    })"""
    for url in ("/console/telephony?cov=1&cov_country=", "/console/numbers", "/console/ledger"):
        page.goto(f"{server.url}{url}")
        found = page.locator(".chip, .badge").evaluate_all(lines)
        assert found, url
        wrapped = [text for text, count in found if count > 1]
        assert wrapped == [], (url, wrapped)
    shot("coverage")
