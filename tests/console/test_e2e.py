"""The console end to end, in Debian's Chromium driven by Playwright, against a real server.

A uvicorn subprocess serves a migrated SQLite file with the sandbox carrier (``by_number``:
numbers ending in an even digit verify Twilio's way, odd ones Telnyx's way). Each test uses a
workspace of its own. Screenshots of each step go to ``$TRUNKLINE_ARTIFACTS/screenshots``
(default ``test-artifacts/screenshots`` in the repository).
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import need

from .server import REPO, Server, Workspace, start_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WIDTHS = {"wide": 1280, "narrow": 390}
SANDBOX_TOML = """
[trunkline]
plugins = ["sandbox"]
strict = true

[plugins.sandbox]
callback_delay_seconds = 1.0
"""
FAULTY_TOML = """
[trunkline]
plugins = ["sandbox"]
strict = true

[plugins.sandbox]
fail_operations = { verify_cli = "unavailable", place_call = "rejected" }
"""
# Distinct numbers for every test: the sandbox remembers what it verified, server-wide.
_even = (f"+1415555{n:04d}" for n in itertools.count(200, 2))
_odd = (f"+1415555{n:04d}" for n in itertools.count(201, 2))


def artifacts() -> Path:
    root = os.environ.get("TRUNKLINE_ARTIFACTS") or str(REPO / "test-artifacts")
    path = Path(root) / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    need(CHROMIUM.exists(), "Debian's chromium at /usr/bin/chromium")
    srv = start_server(tmp_path_factory.mktemp("console-server"), SANDBOX_TOML)
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def faulty_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    need(CHROMIUM.exists(), "Debian's chromium at /usr/bin/chromium")
    srv = start_server(tmp_path_factory.mktemp("console-faulty"), FAULTY_TOML)
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    need(CHROMIUM.exists(), "Debian's chromium at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield b
        b.close()


class Shots:
    """Numbered screenshots of one test's steps."""

    def __init__(self, page: Any, name: str) -> None:
        self.page = page
        self.name = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
        self.n = 0

    def __call__(self, step: str) -> Path:
        self.n += 1
        path = artifacts() / f"{self.name}-{self.n:02d}-{step}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


def open_page(
    browser: Any, request: pytest.FixtureRequest, width: int = 1280, **options: Any
) -> tuple[Any, Any]:
    """A new context and page ``width`` px wide; ``options`` go to the context (``locale``,
    ``timezone_id``...)."""
    context = browser.new_context(
        viewport={"width": width, "height": 900 if width > 500 else 844}, **options
    )
    context.set_default_timeout(8000)
    request.addfinalizer(context.close)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    request.addfinalizer(lambda: _no_script_errors(errors))
    return context, page


def _no_script_errors(errors: list[str]) -> None:
    assert errors == [], f"JavaScript errors on the page: {errors}"


def sign_in(page: Any, server: Server, ws: Workspace) -> None:
    page.goto(f"{server.url}/console")
    page.get_by_label("API key").fill(ws.key)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/console/telephony"))


def signed_in(
    browser: Any,
    request: pytest.FixtureRequest,
    server: Server,
    ws: Workspace,
    width: int = 1280,
    **options: Any,
) -> tuple[Any, Shots]:
    """A new page signed in as ``ws``, and the screenshots of this test's steps; ``options`` go
    to the browser context (see ``open_page``)."""
    _, page = open_page(browser, request, width, **options)
    shot = Shots(page, request.node.name)
    sign_in(page, server, ws)
    return page, shot


def row(page: Any, e164: str) -> Any:
    return page.locator("#numbers-table tbody tr").filter(has=page.get_by_role("link", name=e164))


def refused_test_call(dialog: Any, to: str) -> str:
    """Place a test call to ``to`` from the open *Test call* ``dialog``; the refusal its form
    shows, once shown."""
    dialog.get_by_label("Destination for a test call").fill(to)
    dialog.get_by_role("button", name="Place test call").click()
    alert = dialog.locator("#test-call-form .form-error")
    alert.wait_for(state="visible")
    return str(alert.inner_text())


# -- sign-in --------------------------------------------------------------------------------


def test_sign_in_keeps_the_key_in_an_httponly_strict_cookie(
    server: Server, browser: Any, request: pytest.FixtureRequest
) -> None:
    ws = server.workspace("Sign-in")
    context, page = open_page(browser, request)
    shot = Shots(page, request.node.name)
    answer = page.goto(f"{server.url}/console/numbers")
    assert answer.status == 401  # the sign-in form, in place of the page
    page.get_by_label("API key").fill("tlk_not-a-key")
    page.get_by_role("button", name="Sign in").click()
    assert "That API key is not valid." in page.get_by_role("alert").inner_text()
    shot("refused")
    page.get_by_label("API key").fill(ws.key)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/console/numbers"))  # back where the user was going
    shot("signed-in")
    cookies = {c["name"]: c for c in context.cookies()}
    assert cookies["trunkline_key"]["httpOnly"] is True
    assert cookies["trunkline_key"]["sameSite"] == "Strict"
    assert cookies["trunkline_csrf"]["httpOnly"] is False
    assert cookies["trunkline_csrf"]["sameSite"] == "Strict"
    assert page.evaluate("document.cookie").find(ws.key) == -1  # scripts cannot read the key
    assert page.evaluate("JSON.stringify(localStorage) + JSON.stringify(sessionStorage)") == "{}{}"
    # a JSON request without the CSRF header is refused even with the cookie
    status = page.evaluate(
        "fetch('/settings/telephony/numbers', {method: 'POST', headers: {'Content-Type':"
        " 'application/json'}, body: JSON.stringify({e164: '+14155550150', provider: 'sandbox'})})"
        ".then(r => r.status)"
    )
    assert status == 403
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/console/login"))
    page.get_by_label("API key").wait_for()
    assert "trunkline_key" not in {c["name"] for c in context.cookies()}


# -- verify CLI -----------------------------------------------------------------------------


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_verify_cli_twilio_style_shows_the_code_then_polls_until_verified(
    server: Server, browser: Any, request: pytest.FixtureRequest, width: int
) -> None:
    ws = server.workspace("Call style")
    e164 = next(_even)
    number = ws.add_byo(e164)
    page, shot = signed_in(browser, request, server, ws, width)
    page.get_by_role("link", name="Numbers").click()
    r = row(page, e164)
    assert r.locator('[data-field="verification"]').inner_text() == "Not verified"
    shot("numbers")
    r.get_by_role("button", name="Verify CLI").click()
    code = r.locator(".display-code")
    code.wait_for(state="visible")
    assert re.fullmatch(r"\d{6}", code.inner_text())
    assert "Answer the verification call" in r.locator(".verify-code").inner_text()
    assert "simulated call" in r.locator(".verify-detail").inner_text()  # the result's detail
    assert r.locator('[data-field="verification"]').inner_text() == "Pending"
    shot("display-code")
    # the sandbox "answers the call" after a second; the page polls the number until verified
    page.wait_for_function(
        "el => el.textContent.trim() === 'Verified'",
        arg=r.locator('[data-field="verification"]').element_handle(),
        timeout=10000,
    )
    assert "Caller ID verified" in r.get_by_role("status").first.inner_text()
    assert r.get_by_role("button", name="Verify CLI").count() == 0
    shot("verified")
    assert ws.number(number["id"])["verified_cli"] is True
    # its binding may now turn outbound on
    page.goto(f"{server.url}/console/numbers/{number['id']}")
    assert page.get_by_label("Place outbound calls with this caller ID").is_enabled()


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_verify_cli_telnyx_style_asks_for_the_code(
    server: Server, browser: Any, request: pytest.FixtureRequest, width: int
) -> None:
    ws = server.workspace("Code style")
    e164 = next(_odd)
    number = ws.add_byo(e164)
    page, shot = signed_in(browser, request, server, ws, width)
    page.goto(f"{server.url}/console/numbers")
    r = row(page, e164)
    r.get_by_role("button", name="Verify CLI").click()
    code_input = r.get_by_label(f"Verification code for {e164}")
    code_input.wait_for(state="visible")
    assert code_input.evaluate("el => el === document.activeElement")  # focus moved to it
    # the sandbox shows the code its simulated SMS carried (never written to the audit)
    sent_code = r.locator(".verify-sent-code .sent-code")
    sent_code.wait_for(state="visible")
    sent = re.fullmatch(r"\d{6}", sent_code.inner_text())
    assert sent, sent_code.inner_text()
    shot("code-asked")
    code_input.fill("000000" if sent.group(0) != "000000" else "111111")
    r.get_by_role("button", name="Submit code").click()
    alert = r.locator(".verify-error")
    alert.wait_for(state="visible")
    assert "That code was not accepted" in alert.inner_text()
    assert "not the one sent" in alert.inner_text() and "4 attempts left." in alert.inner_text()
    # a typo is not a failure: the status stays "Pending", not a red "Failed"
    assert r.locator('[data-field="verification"]').inner_text() == "Pending"
    assert code_input.is_visible()
    shot("wrong-code")
    code_input.fill(sent.group(0))
    code_input.press("Enter")  # the keyboard submits too
    page.wait_for_function(
        "el => el.textContent.trim() === 'Verified'",
        arg=r.locator('[data-field="verification"]').element_handle(),
    )
    assert not alert.is_visible()
    shot("verified")
    assert ws.number(number["id"])["verified_cli"] is True


def test_verify_cli_shows_the_rate_limit_with_its_wait(
    server: Server, browser: Any, request: pytest.FixtureRequest
) -> None:
    ws = server.workspace("Rate limited")
    e164 = next(_odd)
    ws.add_byo(e164)
    for _ in range(5):  # 5 carrier calls a minute per user: spend them with the same key
        other = ws.add_byo(next(_odd))
        assert (
            ws.api.post(
                "/settings/telephony/numbers/verify-cli", json={"number_id": other["id"]}
            ).status_code
            == 200
        )
    page, shot = signed_in(browser, request, server, ws)
    page.goto(f"{server.url}/console/numbers")
    r = row(page, e164)
    button = r.get_by_role("button", name="Verify CLI")
    button.click()
    alert = r.get_by_role("alert")
    alert.wait_for(state="visible")
    text = alert.inner_text()
    assert re.search(r"Too many verification attempts\. Try again in \d+ seconds?\.", text), text
    assert button.is_disabled()
    assert r.locator(".verify-message").inner_text() == ""  # no "Starting verification…"
    shot("rate-limited")


def test_verify_cli_shows_a_carrier_error_in_words(
    faulty_server: Server, browser: Any, request: pytest.FixtureRequest
) -> None:
    ws = faulty_server.workspace("Carrier down")
    e164 = next(_even)
    ws.add_byo(e164)
    _, page = open_page(browser, request)
    shot = Shots(page, request.node.name)
    sign_in(page, faulty_server, ws)
    page.goto(f"{faulty_server.url}/console/numbers")
    r = row(page, e164)
    r.get_by_role("button", name="Verify CLI").click()
    alert = r.get_by_role("alert")
    alert.wait_for(state="visible")
    assert "The carrier (sandbox) is unavailable: sandbox: verify_cli unavailable" in (
        alert.inner_text()
    )
    assert r.get_by_role("button", name="Verify CLI").is_enabled()  # may try again
    assert r.locator('[data-field="verification"]').inner_text() == "Not verified"
    assert r.locator(".verify-message").inner_text() == ""  # no "Starting verification…"
    shot("carrier-unavailable")


# -- BindControls ---------------------------------------------------------------------------


def test_bind_controls_refuse_outbound_for_an_unverified_number(
    server: Server, browser: Any, request: pytest.FixtureRequest
) -> None:
    ws = server.workspace("Binding")
    e164 = next(_odd)
    number = ws.add_byo(e164)
    page, shot = signed_in(browser, request, server, ws)
    page.goto(f"{server.url}/console/numbers")
    row(page, e164).get_by_role("link", name="Binding").click()
    outbound = page.get_by_label("Place outbound calls with this caller ID")
    assert outbound.is_disabled()
    reason = page.locator(f"#outbound-reason-{number['id']}")
    assert "neither hosted nor a verified caller ID" in reason.inner_text()
    assert outbound.get_attribute("aria-describedby") == f"outbound-reason-{number['id']}"
    shot("outbound-locked")
    # inbound on with its agent, saved with one PATCH
    page.get_by_label("Answer inbound calls").check()
    page.get_by_label("Inbound agent").fill("agent://support-7")
    page.get_by_role("button", name="Save binding").click()
    page.get_by_text("Binding saved.").wait_for()
    saved = ws.number(number["id"])
    assert saved["inbound_enabled"] is True
    assert saved["inbound_agent_id"] == "agent://support-7"
    assert saved["outbound_enabled"] is False
    shot("inbound-saved")
    # a stale or tampered page sends outbound anyway: the server's 409 is shown with its reason
    outbound.evaluate("el => { el.disabled = false; el.checked = true; }")
    page.get_by_role("button", name="Save binding").click()
    alert = page.locator(".bind-error")
    alert.wait_for(state="visible")
    assert alert.get_attribute("role") == "alert"
    assert "Refused: The number is neither hosted nor a verified caller ID." in alert.inner_text()
    assert ws.number(number["id"])["outbound_enabled"] is False
    shot("server-refusal")


# -- CampaignCreateDialog -------------------------------------------------------------------


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_campaign_dialog_validates_the_caller_id_and_places_a_test_call(
    server: Server, browser: Any, request: pytest.FixtureRequest, width: int
) -> None:
    ws = server.workspace("Campaigns")
    hosted = ws.buy_hosted()
    assert (
        ws.api.patch(
            f"/settings/telephony/numbers/{hosted['id']}", json={"outbound_enabled": True}
        ).status_code
        == 200
    )
    byo = ws.add_byo(next(_odd))
    page, shot = signed_in(browser, request, server, ws, width)
    page.get_by_role("link", name="Campaigns").click()
    page.get_by_role("button", name="New campaign").click()
    page.get_by_role("dialog", name="New campaign").wait_for(state="visible")
    dialog = page.locator("#campaign-dialog")  # its title changes with the step
    assert dialog.get_by_label("Name", exact=True).evaluate("el => el === document.activeElement")
    caller_id = dialog.get_by_label("Caller ID")
    options = caller_id.locator("option").all_inner_texts()
    assert f"{hosted['phone_e164']} (sandbox) — allowed" in options
    assert f"{byo['phone_e164']} (sandbox) — not allowed" in options
    shot("dialog")
    # empty name: checked in the page
    dialog.get_by_role("button", name="Create campaign").click()
    assert "Give the campaign a name." in dialog.locator("#campaign-name-error").inner_text()
    # a caller ID the server refuses: its problem code and detail are shown under the field
    dialog.get_by_label("Name", exact=True).fill("Spring follow-ups")
    caller_id.select_option(byo["phone_e164"])
    assert "is not allowed as caller ID" in dialog.locator("#campaign-from-hint").inner_text()
    dialog.get_by_role("button", name="Create campaign").click()
    error = dialog.locator("#campaign-from-error")
    error.wait_for(state="visible")
    assert "caller_id_outbound_disabled" in error.inner_text()
    assert f"{byo['phone_e164']} is not enabled for outbound calls" in error.inner_text()
    assert caller_id.get_attribute("aria-invalid") == "true"
    assert ws.api.get("/campaigns").json()["total"] == 0
    shot("caller-id-refused")
    # an allowed caller ID: created, then a test call
    caller_id.select_option(hosted["phone_e164"])
    dialog.get_by_role("button", name="Create campaign").click()
    page.get_by_role("dialog", name="Campaign created").wait_for(state="visible")
    assert f"created with caller ID {hosted['phone_e164']}" in dialog.inner_text()
    shot("created")
    to = dialog.get_by_label("Destination for a test call")
    to.fill("+1234")
    dialog.get_by_role("button", name="Place test call").click()
    to_error = dialog.locator("#test-call-to-error")
    to_error.wait_for(state="visible")
    assert "invalid_phone_number" in to_error.inner_text()
    shot("bad-destination")
    to.fill("+14155550199")
    dialog.get_by_role("button", name="Place test call").click()
    # placed (queued), then followed to its end by the dialog
    page.get_by_text(re.compile(r"Test call placed from .* to \+14155550199: completed")).wait_for(
        timeout=15000
    )
    shot("test-call-placed")
    campaigns = ws.api.get("/campaigns").json()["items"]
    assert [(c["name"], c["from_e164"]) for c in campaigns] == [
        ("Spring follow-ups", hosted["phone_e164"])
    ]
    # closing the dialog (Escape) shows the campaign in the list
    page.keyboard.press("Escape")
    page.get_by_role("row", name=re.compile("Spring follow-ups")).wait_for()
    shot("listed")


def test_a_test_call_the_carrier_rejects_is_shown_in_words(
    faulty_server: Server, browser: Any, request: pytest.FixtureRequest
) -> None:
    ws = faulty_server.workspace("Rejected call")
    hosted = ws.buy_hosted()
    ws.api.patch(f"/settings/telephony/numbers/{hosted['id']}", json={"outbound_enabled": True})
    created = ws.api.post("/campaigns", json={"name": "Calls", "from_e164": hosted["phone_e164"]})
    assert created.status_code == 201
    _, page = open_page(browser, request)
    shot = Shots(page, request.node.name)
    sign_in(page, faulty_server, ws)
    page.goto(f"{faulty_server.url}/console/campaigns")
    page.get_by_role("button", name="Test call").click()
    dialog = page.get_by_role("dialog", name="Test call")
    said = refused_test_call(dialog, "+14155550199")
    assert "The carrier (sandbox) refused the request: sandbox: place_call rejected" in said
    assert "provider_rejected" in said
    shot("carrier-rejected")


# -- SettingsTelephony ----------------------------------------------------------------------


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_settings_telephony_coverage_regulations_search_and_purchase(
    server: Server, browser: Any, request: pytest.FixtureRequest, width: int
) -> None:
    ws = server.workspace("Telephony")
    page, shot = signed_in(browser, request, server, ws, width)
    sandbox = page.locator('#providers-table tr[data-provider="sandbox"]')
    assert "Configured" in sandbox.inner_text()
    assert "Zero markup" in page.get_by_role("note").first.inner_text()
    shot("providers")
    page.get_by_label("Country (blank for all)").fill("GB")
    page.get_by_role("button", name="Show coverage").click()
    assert "GB" in page.locator("#coverage-table").inner_text()
    page.get_by_label("Country", exact=True).first.fill("DE")
    page.locator("#reg_number_type").select_option("local")
    page.get_by_role("button", name="Show regulations").click()
    assert "Commercial register extract" in page.locator("#regulations-table").inner_text()
    shot("regulations")
    page.locator("#s_country").fill("US")
    page.get_by_role("button", name="Search numbers").click()
    first = page.locator("#search-table tbody tr").first
    e164 = first.get_attribute("data-e164")
    assert e164 and "no markup" in first.inner_text()
    first.get_by_role("button", name="Buy").click()
    # nothing is bought before the carrier's price is confirmed
    confirm = page.get_by_role("dialog", name="Confirm the purchase")
    confirm.wait_for(state="visible")
    assert "The carrier charges" in confirm.inner_text() and "USD a month" in confirm.inner_text()
    confirm.locator("#confirm-purchase").click()
    bought = first.get_by_role("link", name=re.compile(f"Bought {re.escape(e164)}"))
    bought.wait_for()
    shot("purchased")
    bought.click()
    page.wait_for_url(re.compile(r"/console/numbers/"))
    assert "Hosted" in page.locator("dl.summary").inner_text()
    assert page.get_by_label("Place outbound calls with this caller ID").is_enabled()
    assert page.get_by_role("button", name="Verify CLI").count() == 0  # hosted: no verification
    shot("hosted-number")
    numbers = ws.api.get("/settings/telephony/numbers").json()["items"]
    assert [(n["phone_e164"], n["hosted"]) for n in numbers] == [(e164, True)]
