"""One parse for every phone input: the preflight, the test call, campaigns, numbers and the
console read a phone number through ``core.phone.parse_e164`` and give one verdict per input."""

from __future__ import annotations

from typing import Any

import phonenumbers
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import InvalidPhoneNumber
from core.phone import MAX_PHONE_CHARS, parse_digit_filter, parse_e164
from tests.fakes import FakeCarrier

NUMBERS = "/settings/telephony/numbers"
CALLER = "+14155550100"
BLOCKED = ["IR", "SY", "CU", "KP"]


def example(region: str, kind: Any = phonenumbers.PhoneNumberType.FIXED_LINE) -> str:
    found = phonenumbers.example_number_for_type(region, kind)
    assert found is not None
    return phonenumbers.format_number(found, phonenumbers.PhoneNumberFormat.E164)


IR, SY, CU = example("IR"), example("SY"), example("CU")
#: The whitespace forms of issue 13, hole 2: each skipped the country rules on main.
WHITESPACE_FORMS = [" " + IR, "\t" + SY, "\n" + IR, " " + CU, IR + " ", "\u3000" + SY]
#: Other scripts' digits and the full-width plus: not E.164, whatever phonenumbers makes of them.
FULL_PLUS = "\uff0b"


def digits_from(zero: int) -> dict[int, int]:
    """A translation of 0-9 into the ten digits of a script starting at code point ``zero``."""
    return {ord("0") + i: zero + i for i in range(10)}


ARABIC, DEVANAGARI, PERSIAN = digits_from(0x0660), digits_from(0x0966), digits_from(0x06F0)
FULLWIDTH = {**digits_from(0xFF10), ord("+"): ord(FULL_PLUS)}
NOT_E164 = [
    CALLER.translate(ARABIC),
    CALLER.translate(FULLWIDTH),
    FULL_PLUS + CALLER[1:],
    "+" + CALLER[1:].translate(DEVANAGARI),
    "+1 415 555 0100",
    "+1415555O100",
    "+14155550100\x00",
    "tel:+14155550100",
]


@pytest.fixture
def env(make_api: Any) -> tuple[Any, FakeCarrier, str]:
    fake = FakeCarrier()
    api = make_api(
        plugins=["country_rules"],
        tables={"country_rules": {"blocked": BLOCKED}},
        extra={"fake": fake},
    )
    api.add_number(CALLER, "fake", hosted=True, outbound_enabled=True)
    r = api.client.post("/campaigns", json={"name": "c", "from_e164": CALLER})
    assert r.status_code == 201, r.text
    return api, fake, r.json()["id"]


# -- the function ------------------------------------------------------------------------------


@pytest.mark.parametrize("text", NOT_E164)
def test_the_parse_refuses_what_is_not_plus_and_ascii_digits(text: str) -> None:
    with pytest.raises(InvalidPhoneNumber) as caught:
        parse_e164(text, "to")
    assert caught.value.extra["field"] == "to"


@pytest.mark.parametrize("text", WHITESPACE_FORMS)
def test_surrounding_whitespace_is_the_same_number(text: str) -> None:
    assert parse_e164(text) == parse_e164(text.strip())
    assert parse_e164(text)[1] in BLOCKED


def test_length_is_counted_before_stripping() -> None:
    assert parse_e164(" " * (MAX_PHONE_CHARS - len(CALLER)) + CALLER)[0] == CALLER
    with pytest.raises(InvalidPhoneNumber):
        parse_e164(" " * (MAX_PHONE_CHARS - len(CALLER) + 1) + CALLER)


def test_digit_filters_follow_the_same_character_rule() -> None:
    assert parse_digit_filter(" +4155 ", "contains", max_digits=15, plus=True) == "+4155"
    assert parse_digit_filter("  ", "contains", max_digits=15) is None
    for bad in ("415".translate(FULLWIDTH), "415".translate(ARABIC), "41 5", "+415", "1" * 9):
        with pytest.raises(InvalidPhoneNumber):
            parse_digit_filter(bad, "area_code", max_digits=8)


# -- hole 2: the preflight never skips the country rules ----------------------------------------


@pytest.mark.parametrize("to", WHITESPACE_FORMS)
def test_preflight_checks_the_country_of_a_destination_with_whitespace(env: Any, to: str) -> None:
    api, _, cid = env
    r = api.client.post("/outbound/check", json={"from": CALLER, "to": to})
    assert r.status_code == 200, r.text
    assert r.json()["allowed"] is False and r.json()["reasons"] == ["country_blocked"]
    call = api.client.post(f"/campaigns/{cid}/test-call", json={"to": to})
    assert call.status_code == 409 and call.json()["reasons"] == ["country_blocked"]


def test_preflight_refuses_an_invalid_destination_as_the_test_call_does(env: Any) -> None:
    api, _, cid = env
    invalid = IR[:4] + "0" * (len(IR) - 4)  # Iran's calling code, not a valid number
    r = api.client.post("/outbound/check", json={"from": CALLER, "to": invalid})
    assert r.status_code == 422 and r.json()["code"] == "invalid_phone_number"
    assert r.json()["field"] == "to"
    call = api.client.post(f"/campaigns/{cid}/test-call", json={"to": invalid})
    assert call.status_code == 422 and call.json()["code"] == "invalid_phone_number"


# -- every route with a phone input --------------------------------------------------------------


def _phone_requests(api: Any, cid: str, value: str) -> list[tuple[str, Any, str]]:
    """(description, response, the field the problem must name) for every phone input."""
    c = api.client
    return [
        ("preflight from", c.post("/outbound/check", json={"from": value, "to": CALLER}), "from"),
        ("preflight to", c.post("/outbound/check", json={"from": CALLER, "to": value}), "to"),
        ("add number", c.post(NUMBERS, json={"e164": value, "provider": "fake"}), "e164"),
        (
            "purchase",
            c.post(f"{NUMBERS}/purchase", json={"e164": value, "provider": "fake"}),
            "e164",
        ),
        ("campaign", c.post("/campaigns", json={"name": "x", "from_e164": value}), "from_e164"),
        ("from_number", c.patch(f"/campaigns/{cid}/from_number", json={"e164": value}), "e164"),
        ("test call", c.post(f"/campaigns/{cid}/test-call", json={"to": value}), "to"),
    ]


@pytest.mark.parametrize("value", [*NOT_E164, "+1" + "4" * (MAX_PHONE_CHARS + 1)])
def test_every_phone_input_answers_invalid_phone_number(env: Any, value: str) -> None:
    api, fake, cid = env
    before = (api.numbers(), api.calls(), len(api.audit(action="campaign_created")))
    for what, r, field in _phone_requests(api, cid, value):
        assert r.status_code == 422, (what, r.text)
        problem = r.json()
        assert problem["code"] == "invalid_phone_number", (what, problem)
        assert problem["field"] == field, (what, problem)
    assert (api.numbers(), api.calls(), len(api.audit(action="campaign_created"))) == before
    assert "purchase_number" not in fake.calls and "place_call" not in fake.calls


def test_phone_inputs_with_surrounding_whitespace_are_accepted_normalised(env: Any) -> None:
    api, _, cid = env
    r = api.client.post(NUMBERS, json={"e164": "\t+14155550101 ", "provider": "fake"})
    assert r.status_code == 201 and r.json()["phone_e164"] == "+14155550101"
    r = api.client.post("/campaigns", json={"name": "y", "from_e164": f" {CALLER}\n"})
    assert r.status_code == 201 and r.json()["from_e164"] == CALLER
    r = api.client.patch(f"/campaigns/{cid}/from_number", json={"e164": f"  {CALLER}"})
    assert r.status_code == 200 and r.json()["from_e164"] == CALLER


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("contains", "415".translate(ARABIC)),
        ("contains", "+415".translate(FULLWIDTH)),
        ("area_code", "41 5"),
        ("area_code", "123456789"),
    ],
)
def test_available_number_filters_refuse_other_digits(env: Any, param: str, value: str) -> None:
    api, fake, _ = env
    r = api.client.get(f"{NUMBERS}/available", params={"country": "US", param: value})
    assert r.status_code == 422 and r.json()["code"] == "invalid_phone_number"
    assert r.json()["field"] == param
    assert "search_numbers" not in fake.calls


def test_console_search_refuses_other_digits(env: Any) -> None:
    api, fake, _ = env
    r = api.client.get(
        "/console/telephony",
        params={
            "search": "1",
            "s_country": "US",
            "s_contains": "415".translate(ARABIC),
            "s_area_code": "41".translate(FULLWIDTH),
        },
    )
    assert r.status_code == 200
    assert 'id="s_contains" name="s_contains"' in r.text and "Digits 0-9 only" in r.text
    assert "search_numbers" not in fake.calls


# -- the preflight and the test call agree on every input ---------------------------------------

REGIONS = ["US", "GB", "DE", "FR", "IR", "SY", "CU", "KP", "RU", "IN", "BR", "JP", "CA", "AU"]
VALID = [
    example(region, kind)
    for region in REGIONS
    for kind in (phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE)
    if phonenumbers.example_number_for_type(region, kind) is not None
]
SPACES = [" ", "\t", "\n", "\r", "\x0b", "\x0c", "\xa0", "\u2003", "\u3000", "\x1c", "\u200b"]
SCRIPTS = [ARABIC, FULLWIDTH, DEVANAGARI, PERSIAN]


@st.composite
def noisy_number(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(VALID))
    edits = draw(st.lists(st.integers(0, 6), max_size=3))
    for edit in edits:
        at = draw(st.integers(0, len(text)))
        if edit == 0:  # surrounding whitespace
            text = draw(st.sampled_from(SPACES)) + text + draw(st.sampled_from(["", *SPACES]))
        elif edit == 1:  # another script's digits, for one digit or all
            table = draw(st.sampled_from(SCRIPTS))
            text = (
                text.translate(table)
                if draw(st.booleans())
                else (text[:at] + text[at:].translate(table)[:1] + text[at + 1 :])
            )
        elif edit == 2:  # full-width plus
            text = text.replace("+", FULL_PLUS)
        elif edit == 3:  # an inner space, a letter or a NUL
            text = text[:at] + draw(st.sampled_from([" ", "a", "O", "\x00", "-", "."])) + text[at:]
        elif edit == 4:  # a digit dropped or added (valid or not, as phonenumbers says)
            text = text[:at] + draw(st.sampled_from(["", "0", "9"])) + text[at + 1 :]
        elif edit == 5:
            text = text.lstrip("+")
    return text


PHONE_INPUTS = st.one_of(
    noisy_number(),
    st.sampled_from(VALID),
    st.from_regex(r"\A\+[0-9]{6,16}\Z"),
    st.text(max_size=40),
    st.text(alphabet=st.sampled_from("+0123456789 \t\x00\u0660\u0661\uff12\uff13"), max_size=20),
)


def _verdict(r: Any) -> tuple[Any, ...]:
    body = r.json()
    if r.status_code in (200, 201) and body.get("allowed", True):
        return ("allowed",)
    if r.status_code == 200 or body.get("code") == "outbound_not_allowed":
        return ("refused", tuple(body["reasons"]))
    return (r.status_code, body.get("code"), body.get("field"))


def test_preflight_and_test_call_agree_on_every_input(env: Any) -> None:
    api, _, cid = env
    seen: set[str] = set()

    @settings(
        max_examples=600,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(PHONE_INPUTS)
    def agree(to: str) -> None:
        check = api.client.post("/outbound/check", json={"from": CALLER, "to": to})
        call = api.client.post(f"/campaigns/{cid}/test-call", json={"to": to})
        verdict = _verdict(check)
        assert verdict == _verdict(call), (to, check.text, call.text)
        seen.add(verdict[0] if isinstance(verdict[0], str) else str(verdict[1]))

    agree()
    # the inputs reached every kind of verdict
    assert {"allowed", "refused", "invalid_phone_number"} <= seen
