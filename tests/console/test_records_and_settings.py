"""The console's calls, audit and ledger pages, the policy's settings, number removal, purchase
confirmation, campaign editing and the small things a daily user notices (times with a zone,
a 404 page, a favicon, no doubled brackets, no literal "None")."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from api.console import records
from api.console.routes import release_supported
from tests.conftest import Api
from tests.fakes import sign

from .conftest import page
from .html import Node, parse
from .test_components import accessible_name_problems

HOSTED = "+14155550100"


def hosted_campaign(api: Api, name: str = "Spring") -> tuple[dict[str, Any], dict[str, Any]]:
    number = api.add_number(HOSTED, "fake", hosted=True, outbound_enabled=True)
    r = api.client.post("/campaigns", json={"name": name, "from_e164": HOSTED})
    assert r.status_code == 201, r.text
    return number, r.json()


def rows(doc: Node, table: str) -> list[Node]:
    return doc.one("table", id=table).one("tbody").find_all("tr")


def cell(row: Node, label: str) -> str:
    found = row.find(data_label=label)
    assert found is not None, label
    return found.text


def webhook(api: Api, **data: Any) -> None:
    body = json.dumps(data).encode()
    r = api.anon.post("/webhooks/fake", content=body, headers={"x-fake-signature": sign(body)})
    assert r.status_code == 200, r.text


# -- calls ------------------------------------------------------------------------------------


def test_calls_page_lists_the_calls_with_their_status(console: Callable[..., Api]) -> None:
    api = console()
    _, campaign = hosted_campaign(api)
    placed = api.client.post(f"/campaigns/{campaign['id']}/test-call", json={"to": "+12125550123"})
    assert placed.status_code == 201, placed.text
    doc = page(api, "/console/calls")
    assert accessible_name_problems(doc) == []
    [row] = rows(doc, "calls-table")
    assert row.get("data-call-id") == placed.json()["id"]
    assert cell(row, "From") == HOSTED and cell(row, "To") == "+12125550123"
    assert cell(row, "Campaign") == "Spring"
    chip = row.one(data_field="call-status")
    assert chip.text == "queued" and chip.get("data-follow") == "true"  # followed until it ends
    assert cell(row, "Placed").endswith("UTC")
    assert row.one("time").get("datetime", "").endswith("+00:00")  # type: ignore[union-attr]
    webhook(api, kind="call_status", ref="CALL-1", data={"status": "completed"})
    done = rows(page(api, "/console/calls"), "calls-table")[0].one(data_field="call-status")
    assert done.text == "completed" and not done.has("data-follow")
    # filtered by status; another workspace sees nothing
    assert "No call yet with this status" in page(api, "/console/calls?status=busy").text
    assert len(rows(page(api, "/console/calls?status=completed"), "calls-table")) == 1
    api.client.delete(f"/campaigns/{campaign['id']}")
    row = rows(page(api, "/console/calls"), "calls-table")[0]
    assert cell(row, "Campaign") == "Deleted campaign"


def test_calls_page_is_paged(console: Callable[..., Api], monkeypatch: Any) -> None:
    api = console()
    _, campaign = hosted_campaign(api)
    for i in range(3):
        to = f"+1212555{100 + i:04d}"
        assert (
            api.client.post(f"/campaigns/{campaign['id']}/test-call", json={"to": to}).status_code
            == 201
        )
    monkeypatch.setattr(records, "PAGE_SIZE", 2)
    doc = page(api, "/console/calls?status=queued")
    assert len(rows(doc, "calls-table")) == 2
    pager = doc.one("nav", class_="pager")
    assert pager.text.startswith("1\N{EN DASH}2 of 3")
    nxt = pager.one("a")
    assert nxt.text == "Next" and nxt.get("href") == "/console/calls?status=queued&offset=2"
    assert len(rows(page(api, "/console/calls?status=queued&offset=2"), "calls-table")) == 1


# -- audit ------------------------------------------------------------------------------------


def test_audit_page_filters_by_action_subject_and_outcome(console: Callable[..., Api]) -> None:
    api = console()
    _, campaign = hosted_campaign(api)
    api.client.patch(f"/campaigns/{campaign['id']}", json={"name": "Summer"})
    api.client.post(f"/campaigns/{campaign['id']}/test-call", json={"to": "+85023812222"})
    doc = page(api, "/console/audit")
    assert accessible_name_problems(doc) == []
    actions = [r.get("data-action") for r in rows(doc, "audit-table")]
    assert actions[:2] == ["test_call", "campaign_updated"]  # newest first
    assert "campaign_created" in actions
    first = rows(doc, "audit-table")[0]
    assert cell(first, "Time").endswith("UTC")
    assert cell(first, "Actor").startswith("user:")
    # every action of the vocabulary can be chosen
    select = doc.by_id("audit-action")
    assert "caller_id_changed" in [o.get("value") for o in select.find_all("option")]
    only = page(api, "/console/audit?action=campaign_updated")
    [row] = rows(only, "audit-table")
    assert '"Summer"' in cell(row, "Detail")
    assert (
        only.by_id("audit-action").one("option", selected=True).get("value") == "campaign_updated"
    )
    assert only.one("a", class_="button-link", href="/console/audit").text == "Clear filters"
    subject = page(api, f"/console/audit?subject_type=campaign&subject_id={campaign['id']}")
    assert {r.get("data-action") for r in rows(subject, "audit-table")} == {
        "campaign_created",
        "campaign_updated",
    }
    link = rows(subject, "audit-table")[0].one("a", class_="code")
    assert link.get("href") == f"/console/audit?subject_id={campaign['id']}"
    placed = page(api, "/console/audit?outcome=placed")
    assert [r.get("data-action") for r in rows(placed, "audit-table")] == ["test_call"]
    assert "No event matches these filters" in page(api, "/console/audit?outcome=nope").text
    # an unknown action is ignored rather than matching nothing
    assert len(rows(page(api, "/console/audit?action=bogus"), "audit-table")) == len(actions)
    # another workspace's events are never shown
    api.client_b.post("/campaigns", json={"name": "Theirs"})
    assert "Theirs" not in page(api, "/console/audit").text


# -- ledger -----------------------------------------------------------------------------------


def test_ledger_page_shows_the_carriers_price_and_no_markup(console: Callable[..., Api]) -> None:
    api = console()
    assert "Nothing yet" in page(api, "/console/ledger").text
    bought = api.client.post(
        "/settings/telephony/numbers/purchase", json={"provider": "fake", "e164": "+14155550123"}
    )
    assert bought.status_code == 201, bought.text
    doc = page(api, "/console/ledger")
    assert accessible_name_problems(doc) == []
    [row] = rows(doc, "ledger-table")
    assert row.get("data-kind") == "purchase"
    assert cell(row, "Number") == "+14155550123"
    assert row.one("a").get("href") == f"/console/numbers/{bought.json()['id']}"
    assert cell(row, "Carrier price") == "1.15 USD/month"
    assert cell(row, "Trunkline charge").startswith("0.00")
    assert cell(row, "Time").endswith("UTC")
    assert "Zero markup" in doc.text


# -- navigation, 404, favicon, times ------------------------------------------------------------


def test_every_page_links_the_new_pages_and_the_favicon(console: Callable[..., Api]) -> None:
    api = console()
    doc = page(api, "/console/numbers")
    nav = [a.get("href") for a in doc.one("nav", aria_label="Console").find_all("a")]
    assert nav == [
        "/console/telephony",
        "/console/numbers",
        "/console/campaigns",
        "/console/calls",
        "/console/audit",
        "/console/ledger",
    ]
    icon = doc.one("link", rel="icon")
    assert icon.get("href") == "/console/static/favicon.svg"
    r = api.testclient.get("/console/static/favicon.svg")
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
    ico = api.testclient.get("/favicon.ico")
    assert ico.status_code == 200 and ico.content == r.content
    assert page(api, "/console/calls").one("a", aria_current="page").text == "Calls"


def test_an_unknown_console_page_is_an_html_404(console: Callable[..., Api]) -> None:
    api = console()
    for url in ("/console/nope", "/console/numbers/x/y", "/console/static/"):
        r = api.testclient.get(url)
        assert r.status_code == 404, url
        assert r.headers["content-type"].startswith("text/html"), url
        doc = parse(r.text)
        assert doc.one("h1").text == "Page not found"
        assert doc.find("nav", aria_label="Console") is not None  # signed in: the usual header
    api.testclient.cookies.clear()
    r = api.testclient.get("/console/nope")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "Page not found" in r.text and '"code"' not in r.text


def test_times_carry_their_zone(console: Callable[..., Api]) -> None:
    api = console()
    hosted_campaign(api)
    row = rows(page(api, "/console/campaigns"), "campaigns-table")[0]
    assert cell(row, "Created").endswith(" UTC")


# -- SettingsTelephony: providers, policy, not configured, purchase confirmation ----------------


def test_providers_without_doubled_brackets_and_country_rules_shown(
    console: Callable[..., Api],
) -> None:
    api = console(
        plugins=["sandbox", "country_rules"],
        tables={"country_rules": {"blocked": ["KP", "IR"], "by_provider": {"fake": ["RU"]}}},
    )
    doc = page(api, "/console/telephony")
    sandbox = doc.one("tr", data_provider="sandbox")
    name = sandbox.one("th").text
    assert name == "Sandbox (simulated carrier) sandbox" and ") (" not in name
    rules = doc.one("tr", data_plugin="country_rules")
    blocked = rules.one(data_setting="blocked").text
    assert blocked == "Blocked for every carrier: KP, IR"
    assert rules.one(data_setting="by_provider").text == "Blocked for one carrier: fake: RU"
    assert rules.one(data_setting="allowed").text == (
        "Only these may be called: every country not blocked"
    )
    # the policy's settings
    policy = doc.by_id("deployment-settings")
    assert "Allowed" in policy.one(data_setting="verified_enabled").text
    assert "Off" in policy.one(data_setting="demo_mode").text
    assert policy.one(data_setting="country_rules.blocked").text.startswith("KP, IR")


def test_policy_settings_follow_the_environment(console: Callable[..., Api]) -> None:
    api = console(env={"TELEPHONY_OUTBOUND_VERIFIED_ENABLED": "false"})
    policy = page(api, "/console/telephony").by_id("deployment-settings")
    assert policy.one(data_setting="verified_enabled").text.startswith("Not allowed")
    assert "no country is blocked" in policy.one(data_setting="rules").text


def test_a_carrier_not_configured_is_a_note_not_an_error(console: Callable[..., Api]) -> None:
    api = console(
        plugins=["sandbox", "twilio"],
        tables={
            "twilio": {
                "account_sid": {"env": "TWILIO_ACCOUNT_SID"},
                "auth_token": {"env": "TWILIO_AUTH_TOKEN"},
            }
        },
    )
    for url in (
        "/console/telephony?search=1&s_country=US&s_number_type=local",
        "/console/telephony?cov=1&cov_country=US",
    ):
        doc = page(api, url)
        alerts = [a.text for a in doc.find_all(role="alert") if not a.has("hidden")]
        assert not any("twilio" in a for a in alerts), alerts
        note = doc.one("p", class_="not-configured")
        assert note.get("data-provider") == "twilio"
        assert note.text.startswith("twilio is not configured")


def test_buy_asks_for_a_confirmation_with_the_price(console: Callable[..., Api]) -> None:
    api = console()
    doc = page(api, "/console/telephony?search=1&s_country=US&s_number_type=local&s_provider=fake")
    button = doc.one("table", id="search-table").one("button", class_="purchase")
    assert button.text == "Buy" and button.get("aria-haspopup") == "dialog"
    assert button.get("data-monthly") == "1.15" and button.get("data-currency") == "USD"
    dialog = doc.by_id("purchase-dialog")
    assert dialog.tag == "dialog" and dialog.by_id("confirm-purchase").text == "Buy"
    assert accessible_name_problems(doc) == []
    # nothing is bought by showing the page
    assert api.extra["fake"].calls.get("purchase_number") is None


# -- numbers: delete and release ----------------------------------------------------------------


def test_a_byo_number_can_be_deleted_after_a_confirmation(console: Callable[..., Api]) -> None:
    api = console()
    byo = api.add_number("+14155550101", "fake")
    doc = page(api, f"/console/numbers/{byo['id']}")
    remove = doc.one(data_component="number-remove")
    assert remove.get("data-how") == "delete"
    assert remove.one("button", class_="open-remove").text == "Delete number"
    dialog = remove.one("dialog")
    assert dialog.one("button", class_="confirm-remove").text == "Yes, delete it"
    notice = page(api, "/console/numbers?removed=%2B14155550101&how=delete")
    assert "+14155550101 was deleted from this workspace." in notice.text


def test_a_hosted_number_offers_release_with_a_confirmation(
    console: Callable[..., Api],
) -> None:
    api = console()
    assert release_supported(api.runtime)
    hosted = api.add_number(HOSTED, "fake", hosted=True)
    doc = page(api, f"/console/numbers/{hosted['id']}")
    remove = doc.one(data_component="number-remove")
    assert remove.get("data-how") == "release"
    assert remove.one("button", class_="open-remove").text == "Release number"
    assert remove.one("dialog").one("button", class_="confirm-remove").text == "Yes, release it"
    notice = page(api, f"/console/numbers?removed={HOSTED.replace('+', '%2B')}&how=release")
    assert f"{HOSTED} was released to its carrier." in notice.text


# -- campaigns: no "None", warnings, editing, test calls the policy refuses ---------------------


def test_campaigns_list_without_none_and_with_warnings(console: Callable[..., Api]) -> None:
    api = console()
    number, with_caller = hosted_campaign(api, "With")
    bare = api.client.post("/campaigns", json={"name": "Bare"}).json()
    api.client.patch(
        f"/settings/telephony/numbers/{number['id']}", json={"outbound_enabled": False}
    )
    doc = page(api, "/console/campaigns")
    assert accessible_name_problems(doc) == []
    by_name = {r.one("th").text: r for r in rows(doc, "campaigns-table")}
    assert "None" not in doc.one("table", id="campaigns-table").text
    assert cell(by_name["Bare"], "Caller ID") == "No caller ID"
    warning = by_name["With"].one(data_warning="outbound_disabled")
    assert warning.text == "Calls will be refused: The number is not enabled for outbound calls."
    # the test call is blocked, with the reason, for both
    blocked = {
        name: r.one("button", class_="open-test-call").get("data-blocked")
        for name, r in by_name.items()
    }
    assert "no caller ID" in (blocked["Bare"] or "")
    assert "not enabled for outbound" in (blocked["With"] or "")
    dialog = doc.by_id("campaign-dialog")
    assert dialog.by_id("test-call-blocked").has("hidden")  # shown by the page script
    # each campaign can be edited
    edit = by_name["Bare"].one("button", class_="open-edit-campaign")
    assert edit.get("data-campaign-id") == bare["id"] and edit.text == "Edit"
    assert with_caller["id"] != bare["id"]


def test_campaign_edit_dialog_offers_every_caller_id_and_none(
    console: Callable[..., Api],
) -> None:
    api = console()
    hosted_campaign(api)
    api.add_number("+14155550101", "fake")
    dialog = page(api, "/console/campaigns").by_id("campaign-edit-dialog")
    options = {o.get("value"): o for o in dialog.by_id("edit-campaign-from").find_all("option")}
    assert options[""].text == "No caller ID"
    assert options[HOSTED].text == f"{HOSTED} (fake) — allowed"
    assert options["+14155550101"].get("data-allowed") == "false"
    assert dialog.by_id("delete-campaign").text == "Delete campaign"
    assert dialog.by_id("campaign-delete-confirm").has("hidden")
    assert dialog.by_id("edit-campaign-name-error").has("hidden")
