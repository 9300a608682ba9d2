"""Each console component rendered with every number state: what is shown, what is enabled.

Pages are fetched through the app (``make_api`` with the sandbox and the scripted ``fake``
carrier), signed in with the console's cookie; a few components are also rendered straight
from their Jinja template.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from api.console.render import ENV, Listing, render
from api.console.views import caller_id_option, number_view
from api.schemas import NumberOut
from core.policy import REASON_TEXT
from tests.conftest import Api

from .conftest import page
from .html import Node, parse

NOT_ALLOWED = REASON_TEXT["caller_id_not_allowed"]

#: Every number state the table and the controls distinguish.
STATES: dict[str, dict[str, Any]] = {
    "hosted": {"hosted": True},
    "hosted_outbound_on": {
        "hosted": True,
        "outbound_enabled": True,
        "outbound_agent_id": "agent-out-1",
    },
    "byo_unverified": {},
    "byo_pending": {"verification_status": "pending"},
    "byo_failed": {"verification_status": "failed"},
    "byo_verified": {"verified_cli": True, "verification_status": "verified"},
    "byo_verified_outbound_on": {
        "verified_cli": True,
        "verification_status": "verified",
        "outbound_enabled": True,
        "inbound_enabled": True,
        "inbound_agent_id": "agent-in-9",
    },
}


def add_states(api: Api) -> dict[str, dict[str, Any]]:
    out = {}
    for i, (state, fields) in enumerate(STATES.items()):
        out[state] = api.add_number(f"+1415555{300 + i:04d}", "fake", **fields)
    return out


def row_of(doc: Node, number_id: str) -> Node:
    return doc.one("tr", data_number_id=number_id)


def cell(row: Node, field: str) -> str:
    return row.one(data_field=field).text


def accessible_name_problems(doc: Node) -> list[str]:
    """Controls without an accessible name (label, aria-label, aria-labelledby or text)."""
    labelled = {lab.get("for") for lab in doc.find_all("label")}
    problems = []
    for node in doc.find_all("input") + doc.find_all("select") + doc.find_all("textarea"):
        if node.get("type") == "hidden":
            continue
        if node.get("id") in labelled or node.has("aria-label") or node.has("aria-labelledby"):
            continue
        problems.append(repr(node))
    for node in doc.find_all("button") + doc.find_all("a"):
        if not (node.text or node.get("aria-label")):
            problems.append(repr(node))
    return problems


# -- the numbers table and NumbersRowActions ------------------------------------------------


def test_numbers_table_shows_every_state(console: Callable[..., Api]) -> None:
    api = console()
    numbers = add_states(api)
    doc = page(api, "/console/numbers")
    assert accessible_name_problems(doc) == []
    expected = {
        # state: (kind, verification, outbound, has "Verify CLI")
        "hosted": ("Hosted", "Not needed (hosted)", "Off", False),
        "hosted_outbound_on": ("Hosted", "Not needed (hosted)", "On → agent-out-1", False),
        "byo_unverified": ("Bring your own", "Not verified", "Off", True),
        "byo_pending": ("Bring your own", "Pending", "Off", True),
        "byo_failed": ("Bring your own", "Failed", "Off", True),
        "byo_verified": ("Bring your own", "Verified", "Off", False),
        "byo_verified_outbound_on": ("Bring your own", "Verified", "On", False),
    }
    for state, (kind, verification, outbound, verifiable) in expected.items():
        number = numbers[state]
        row = row_of(doc, number["id"])
        assert row.one("th").one("a").text == number["phone_e164"], state
        assert cell(row, "attestation") == "Attestation ?", state  # never asked (added directly)
        assert row.find("td", data_label="Provider").text == "fake", state  # type: ignore[union-attr]
        assert row.find("td", data_label="Hosted or BYO").text == kind, state  # type: ignore[union-attr]
        assert cell(row, "verification") == verification, state
        assert cell(row, "outbound") == outbound, state
        buttons = [b for b in row.find_all("button") if b.text == "Verify CLI"]
        assert len(buttons) == (1 if verifiable else 0), state
        if verifiable:
            button = buttons[0]
            assert not button.has("disabled"), state
            # the button says which number it verifies
            assert button.get("aria-describedby") == f"num-{number['id']}"
            assert row.find("form", class_="verify-code-form") is not None
            code = row.one("input", name="code")
            assert code.has("hidden") is False
            assert row.one("label", for_=code.get("id")).text.endswith(number["phone_e164"])  # type: ignore[arg-type]
        # every row links to its binding
        link = row.one("a", class_="button-link")
        assert link.get("href") == f"/console/numbers/{number['id']}#binding"
    assert "Caller ID verified" in row_of(doc, numbers["byo_verified"]["id"]).text
    assert "Caller ID verified" not in row_of(doc, numbers["hosted"]["id"]).text
    assert "1 number" not in doc.text and "7 numbers in this workspace." in doc.text


def test_demo_mode_shows_a_banner_and_disables_carrier_actions(
    console: Callable[..., Api],
) -> None:
    api = console(env={"DEMO_MODE": "true"})
    numbers = add_states(api)
    doc = page(api, "/console/numbers")
    banner = doc.by_id("demo-banner")
    assert banner.get("role") == "note"
    assert "Demo mode" in banner.text and "disabled" in banner.text
    for state in ("byo_unverified", "byo_pending", "byo_failed"):
        row = row_of(doc, numbers[state]["id"])
        button = row.one("button", class_="verify-cli")
        assert button.has("disabled"), state
        hint = row.by_id(f"verify-off-{numbers[state]['id']}")
        assert hint.text == "Verification is off in demo mode."
        assert hint.get("id") in (button.get("aria-describedby") or "").split()
    # search and purchase are off; asking for a search calls no carrier
    tel = page(api, "/console/telephony?search=1&s_country=US")
    assert tel.by_id("demo-banner")
    assert tel.one("fieldset", class_="inline-form").has("disabled")
    assert "disabled in demo mode" in tel.by_id("search-disabled").text
    assert tel.find("table", id="search-table") is None
    assert api.extra["fake"].calls.get("search_numbers", 0) == 0
    # the campaign dialog's test call is off
    camp = page(api, "/console/campaigns")
    assert camp.by_id("place-test-call").has("disabled")
    assert "disabled in demo mode" in camp.by_id("test-call-off").text


def test_without_demo_mode_there_is_no_banner(console: Callable[..., Api]) -> None:
    api = console()
    number = api.add_number("+14155550389", "fake")
    doc = page(api, "/console/numbers")
    assert doc.find(id="demo-banner") is None
    assert not row_of(doc, number["id"]).one("button", class_="verify-cli").has("disabled")
    assert not page(api, "/console/campaigns").by_id("place-test-call").has("disabled")
    assert not page(api, "/console/telephony").one("fieldset", class_="inline-form").has("disabled")


@pytest.mark.parametrize("state", list(STATES))
def test_row_actions_render_from_the_template_alone(state: str) -> None:
    fields = STATES[state]
    number = NumberOut(
        id=str(uuid.uuid4()),
        workspace_id=str(uuid.uuid4()),
        provider="sandbox",
        phone_e164="+14155550300",
        country_code="US",
        number_type="local",
        hosted=fields.get("hosted", False),
        verified_cli=fields.get("verified_cli", False),
        verification_status=fields.get("verification_status", "none"),
        verification_ref=None,
        verified_at=None,
        outbound_enabled=fields.get("outbound_enabled", False),
        inbound_enabled=fields.get("inbound_enabled", False),
        outbound_agent_id=fields.get("outbound_agent_id"),
        inbound_agent_id=fields.get("inbound_agent_id"),
        capabilities=["voice"],
        caller_id_allowed=fields.get("hosted", False) or fields.get("verified_cli", False),
        created_at=datetime.now(UTC),
    )
    for demo in (False, True):
        doc = parse(render("numbers_row_actions.html", number=number_view(number), demo_mode=demo))
        button = doc.find("button", class_="verify-cli")
        byo_unverified = not number.hosted and not number.verified_cli
        assert (button is not None) == byo_unverified
        if button is not None:
            assert button.text == "Verify CLI"
            assert button.has("disabled") == demo
        bind = parse(render("bind_controls.html", number=number_view(number), demo_mode=demo))
        outbound = bind.one("input", name="outbound_enabled")
        assert outbound.has("disabled") == (not number.caller_id_allowed)
        assert outbound.has("checked") == number.outbound_enabled


# -- BindControls ---------------------------------------------------------------------------


def bind_form(doc: Node) -> Node:
    return doc.one("form", data_component="bind-controls")


@pytest.mark.parametrize(
    ("offset", "total", "shown", "previous", "following"),
    [
        (0, 5, "1\N{EN DASH}2 of 5", None, "2"),
        (2, 5, "3\N{EN DASH}4 of 5", "0", "4"),
        (3, 5, "4\N{EN DASH}5 of 5", "1", None),
        (0, 2, None, None, None),  # one page: no pager
    ],
)
def test_pager_keeps_the_filters_and_stops_at_either_end(
    offset: int, total: int, shown: str | None, previous: str | None, following: str | None
) -> None:
    listing = Listing(offset, 2, {"status": "queued", "outcome": None}, total=total)
    pager = ENV.get_template("pager.html").module.pager
    doc = parse(str(pager(listing, "/console/calls", "Pages of calls")))
    navs = doc.find_all("nav", class_="pager")
    if shown is None:
        assert navs == []
        return
    assert navs[0].get("aria-label") == "Pages of calls"
    assert navs[0].one("span").text == shown
    links = {a.text: a.get("href") for a in navs[0].find_all("a")}
    expected = {
        text: f"/console/calls?status=queued&offset={at}"
        for text, at in (("Previous", previous), ("Next", following))
        if at is not None
    }
    assert links == expected


def test_bind_controls_lock_outbound_with_the_policy_reason(console: Callable[..., Api]) -> None:
    api = console()
    numbers = add_states(api)
    for state, number in numbers.items():
        doc = page(api, f"/console/numbers/{number['id']}")
        assert accessible_name_problems(doc) == [], state
        form = bind_form(doc)
        assert form.get("data-number-id") == number["id"]
        outbound = form.one("input", name="outbound_enabled")
        inbound = form.one("input", name="inbound_enabled")
        assert form.one("label", for_=outbound.get("id")).text == (  # type: ignore[arg-type]
            "Place outbound calls with this caller ID"
        )
        assert not inbound.has("disabled")
        allowed = number["hosted"] or number["verified_cli"]
        assert outbound.has("disabled") == (not allowed), state
        assert outbound.has("checked") == number["outbound_enabled"], state
        assert inbound.has("checked") == number["inbound_enabled"], state
        reason = form.find(id=f"outbound-reason-{number['id']}")
        if allowed:
            assert reason is None, state
            assert not outbound.has("aria-describedby")
        else:
            assert reason is not None and NOT_ALLOWED in reason.text, state
            assert "Verify this number's caller ID" in reason.text
            assert outbound.get("aria-describedby") == reason.get("id")
        # agents are the platform's opaque references, shown as they are
        assert form.one("input", name="inbound_agent_id").get("value") == (
            number["inbound_agent_id"] or ""
        )
        assert form.one("input", name="outbound_agent_id").get("value") == (
            number["outbound_agent_id"] or ""
        )
        # one form, one submit: inbound and outbound are saved together
        assert [b.text for b in form.find_all("button")] == ["Save binding"]
        assert form.one(class_="bind-error").get("role") == "alert"


def test_outbound_left_on_after_verified_clis_were_switched_off_can_be_turned_off(
    console: Callable[..., Api],
) -> None:
    api = console(env={"TELEPHONY_OUTBOUND_VERIFIED_ENABLED": "false"})
    number = api.add_number(
        "+14155550390", "fake", verified_cli=True, verification_status="verified",
        outbound_enabled=True,
    )  # fmt: skip
    form = bind_form(page(api, f"/console/numbers/{number['id']}"))
    outbound = form.one("input", name="outbound_enabled")
    assert outbound.has("checked") and not outbound.has("disabled")
    assert NOT_ALLOWED in form.by_id(f"outbound-reason-{number['id']}").text


def test_another_workspaces_number_is_not_found(console: Callable[..., Api]) -> None:
    api = console()
    theirs = api.add_number("+14155550391", "fake", workspace="b")
    doc = page(api, f"/console/numbers/{theirs['id']}", status=404)
    assert "There is no such number in this workspace." in doc.text
    assert theirs["phone_e164"] not in doc.text
    assert theirs["phone_e164"] not in page(api, "/console/numbers").text
    assert theirs["phone_e164"] not in page(api, "/console/campaigns").text
    page(api, "/console/numbers/not-a-uuid", status=404)


# -- CampaignCreateDialog -------------------------------------------------------------------


def test_campaign_dialog_marks_each_caller_id(console: Callable[..., Api]) -> None:
    api = console()
    numbers = add_states(api)
    doc = page(api, "/console/campaigns")
    assert accessible_name_problems(doc) == []
    dialog = doc.one("dialog", id="campaign-dialog")
    assert dialog.get("aria-labelledby") == "campaign-dialog-title"
    select = dialog.one("select", name="from_e164")
    assert dialog.one("label", for_=select.get("id")).text == "Caller ID"  # type: ignore[arg-type]
    options = {o.get("value"): o for o in select.find_all("option")}
    assert options[""].text == "No caller ID yet"
    # allowed = outbound-enabled, and hosted or verified (the server's rule)
    allowed = {"hosted_outbound_on", "byo_verified_outbound_on"}
    for state, number in numbers.items():
        option = options[number["phone_e164"]]
        if state in allowed:
            assert option.text == f"{number['phone_e164']} (fake) — allowed", state
            assert option.get("data-allowed") == "true"
            assert option.get("data-reason") == ""
        else:
            assert option.text == f"{number['phone_e164']} (fake) — not allowed", state
            assert option.get("data-allowed") == "false"
            reason = option.get("data-reason") or ""
            assert REASON_TEXT["outbound_disabled"] in reason, state
            needs_cli = not (number["hosted"] or number["verified_cli"])
            assert (NOT_ALLOWED in reason) == needs_cli, state
        assert not option.has("disabled")  # chosen anyway, the server's refusal is shown inline
    for field in ("campaign-name", "campaign-from", "test-call-to"):
        control = dialog.by_id(field)
        error_id = f"{field}-error"
        assert error_id in (control.get("aria-describedby") or "").split()
        assert dialog.by_id(error_id).has("hidden")
    assert dialog.one("form", id="test-call-form").has("hidden")


def test_campaigns_list_shows_caller_ids_of_this_workspace_only(
    console: Callable[..., Api],
) -> None:
    api = console()
    mine = api.add_number("+14155550392", "fake", hosted=True, outbound_enabled=True)
    r = api.client.post("/campaigns", json={"name": "Mine", "from_e164": mine["phone_e164"]})
    assert r.status_code == 201, r.text
    theirs = api.add_number("+14155550393", "fake", workspace="b", hosted=True,
                            outbound_enabled=True)  # fmt: skip
    assert api.client_b.post("/campaigns", json={"name": "Theirs"}).status_code == 201
    doc = page(api, "/console/campaigns")
    rows = doc.one("table", id="campaigns-table").one("tbody").find_all("tr")
    assert [r.one("th").text for r in rows] == ["Mine"]
    assert rows[0].find("td", data_label="Caller ID").text == mine["phone_e164"]  # type: ignore[union-attr]
    test_call = rows[0].one("button", class_="open-test-call")
    assert test_call.text == "Test call"
    assert test_call.get("data-campaign-id") == r.json()["id"]
    assert "Theirs" not in doc.text and theirs["phone_e164"] not in doc.text


def test_caller_id_option_reasons() -> None:
    from types import SimpleNamespace

    from core.campaigns import caller_id_refusals
    from core.policy import OutboundPolicy

    rules = SimpleNamespace(is_country_blocked=lambda country, provider: False)
    rt: Any = SimpleNamespace(policy=OutboundPolicy(rules, verified_enabled=True, demo_mode=False))
    base = dict(STATES["byo_unverified"])
    number = NumberOut.model_construct(
        phone_e164="+14155550300", provider="x", outbound_enabled=False, caller_id_allowed=False,
        hosted=False, verified_cli=False, **base,
    )  # fmt: skip
    option = caller_id_option(number, caller_id_refusals(rt, number))
    assert option["reasons"] == ["outbound_disabled", "caller_id_not_allowed"]
    assert option["allowed"] is False
    ok = NumberOut.model_construct(
        phone_e164="+14155550301", provider="x", outbound_enabled=True, caller_id_allowed=True,
        hosted=True, verified_cli=False,
    )  # fmt: skip
    assert caller_id_option(ok, caller_id_refusals(rt, ok)) == {
        "e164": "+14155550301",
        "provider": "x",
        "allowed": True,
        "reasons": [],
        "reason_text": "",
    }


# -- SettingsTelephony ----------------------------------------------------------------------


def test_settings_telephony_providers_and_zero_markup(make_api: Callable[..., Api]) -> None:
    from .conftest import login

    # sandbox: configured; twilio without credentials: loaded, not configured; telnyx with a
    # bad setting: failed to load (strict off), with why
    api = make_api(
        plugins=["sandbox", "twilio", "telnyx"],
        tables={"twilio": {}, "telnyx": {"no_such_setting": 1}},
        strict=False,
    )
    assert login(api).status_code == 303
    doc = page(api, "/console/telephony")
    assert accessible_name_problems(doc) == []
    badge = doc.by_id("zero-markup-badge")
    assert badge.get("role") == "note"
    assert "Zero markup" in badge.text and "carrier's own price" in badge.text
    table = doc.by_id("providers-table")
    sandbox = table.one("tr", data_provider="sandbox")
    assert sandbox.get("data-state") == "configured"
    assert "Configured" in sandbox.text and "simulated: no network, no account" in sandbox.text
    assert "verify_cli" in sandbox.text
    twilio = table.one("tr", data_provider="twilio")
    assert twilio.get("data-state") == "not_configured"
    assert "Not configured" in twilio.text
    telnyx = table.one("tr", data_plugin="telnyx")
    assert telnyx.get("data-state") == "failed"
    assert "Failed to load" in telnyx.text and "no_such_setting" in telnyx.text
    # no catalogue is asked before the operator asks
    assert doc.find(id="coverage-table") is None and doc.find(id="regulations-table") is None


def test_settings_telephony_coverage_per_country_and_provider(
    console: Callable[..., Api],
) -> None:
    api = console()
    doc = page(api, "/console/telephony?cov=1&cov_country=gb&cov_provider=")
    rows = doc.by_id("coverage-table").one("tbody").find_all("tr")
    providers = {(r.one("th").text, r.find("td", data_label="Provider").text) for r in rows}  # type: ignore[union-attr]
    assert providers == {("GB", "fake"), ("GB", "sandbox")}
    sandbox = next(r for r in rows if "sandbox" in r.text)
    assert "local: voice" in sandbox.text  # number types with their features
    # every country, one provider
    doc = page(api, "/console/telephony?cov=1&cov_country=&cov_provider=fake")
    rows = doc.by_id("coverage-table").one("tbody").find_all("tr")
    assert [r.one("th").text for r in rows] == ["GB", "US"]
    selected = doc.by_id("cov_provider").one("option", value="fake")
    assert selected.has("selected")
    # a bad country is said next to the field
    doc = page(api, "/console/telephony?cov=1&cov_country=G1")
    field = doc.by_id("cov_country")
    assert field.get("aria-invalid") == "true"
    assert "two letters" in doc.by_id("cov_country-error").text
    # a failing provider is reported beside the others' answers
    from core.errors import ProviderUnavailable

    api.extra["fake"].fail["list_coverage"] = ProviderUnavailable("fake carrier is down")
    doc = page(api, "/console/telephony?cov=1&cov_country=US")
    assert "fake: fake carrier is down (provider_unavailable)" in doc.text
    assert "sandbox" in doc.by_id("coverage-table").text


def test_settings_telephony_regulations_for_a_country_and_type(
    console: Callable[..., Api],
) -> None:
    api = console()
    doc = page(
        api,
        "/console/telephony?reg=1&reg_country=DE&reg_number_type=local"
        "&reg_end_user_type=business&reg_provider=sandbox",
    )
    names = [r.one("th").text for r in doc.by_id("regulations-table").one("tbody").find_all("tr")]
    assert any(n.startswith("Commercial register extract") for n in names)
    assert any(n.startswith("Address in the local area") for n in names)  # "any" applies too
    assert not any(n.startswith("Passport") for n in names)  # individuals only
    assert doc.by_id("reg_number_type").one("option", value="local").has("selected")
    doc = page(api, "/console/telephony?reg=1&reg_country=US&reg_provider=sandbox")
    assert "No requirement is listed" in doc.by_id("regulations-table").text
    doc = page(api, "/console/telephony?reg=1&reg_country=")
    assert doc.by_id("reg_country").get("aria-invalid") == "true"


def test_settings_telephony_search_offers_numbers_to_buy(console: Callable[..., Api]) -> None:
    api = console()
    doc = page(api, "/console/telephony?search=1&s_country=US&s_number_type=local&s_provider=fake")
    rows = doc.by_id("search-table").one("tbody").find_all("tr")
    assert len(rows) == 1
    buy = rows[0].one("button", class_="purchase")
    assert buy.text == "Buy" and not buy.has("disabled")
    assert buy.get("data-provider") == "fake" and buy.get("data-e164") == "+14155550123"
    assert "1.15 USD/month" in rows[0].text and "no markup" in rows[0].text
    assert api.extra["fake"].calls["search_numbers"] == 1
    # bad filters are refused beside their fields, without asking a carrier
    doc = page(api, "/console/telephony?search=1&s_country=US&s_contains=12ab")
    assert doc.by_id("s_contains").get("aria-invalid") == "true"
    assert api.extra["fake"].calls["search_numbers"] == 1


def test_campaigns_page_checks_a_pasted_list_of_destinations(console: Callable[..., Api]) -> None:
    api = console()
    hosted = api.add_number("+14155550394", "fake", hosted=True, outbound_enabled=True)
    doc = page(api, "/console/campaigns")
    assert accessible_name_problems(doc) == []
    section = doc.one("section", data_component="destination-check")
    form = section.one("form", id="check-form")
    select = form.one("select", name="from")
    assert [o.get("value") for o in select.find_all("option")] == [hosted["phone_e164"]]
    assert form.one("label", for_="check-to").text == "Destinations"  # type: ignore[arg-type]
    table = section.one("table", id="check-results")
    assert table.has("hidden")
    headers = table.one("thead").find_all("th")
    assert [th.text for th in headers] == ["Destination", "Where", "Answer", "Why"]
    assert {th.get("scope") for th in headers} == {"col"}
    # what the page's script sends: the session cookie, the CSRF header, one batch
    tc = api.testclient
    checks = [{"from": hosted["phone_e164"], "to": to} for to in ("+442079460000", "12")]
    r = tc.post(
        "/outbound/check/batch",
        json={"checks": checks},
        headers={"X-CSRF-Token": tc.cookies.get("trunkline_csrf") or ""},
    )
    assert r.status_code == 200, r.text
    first, second = r.json()["results"]
    assert first["allowed"] is True
    assert second["error"]["code"] == "invalid_phone_number"
