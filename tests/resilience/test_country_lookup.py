"""The prefix-table country lookup answers exactly what phonenumbers answers for valid numbers."""

from __future__ import annotations

import random

import phonenumbers
import pytest

from core.phone import _country_slow, country_of

SHARED = [
    cc for cc, regions in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items() if len(regions) > 1
]


def _reference(e164: str) -> str | None:
    region = phonenumbers.region_code_for_number(phonenumbers.parse(e164, None))
    return region if region and region != "001" else None


def _valid_numbers(seed: int, per_example: int) -> list[str]:
    """Valid numbers near every example number of every region and type."""
    rng = random.Random(seed)
    found: set[str] = set()
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in range(12):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            nsn = phonenumbers.national_significant_number(example)
            found.add(f"+{example.country_code}{nsn}")
            tries = per_example * (4 if example.country_code in SHARED else 1)
            for _ in range(tries):
                k = rng.randint(1, max(1, min(6, len(nsn) - 1)))
                tail = "".join(rng.choice("0123456789") for _ in range(k))
                found.add(f"+{example.country_code}{nsn[:-k]}{tail}")
    # every NANP area code
    for npa in range(200, 1000):
        for _ in range(3):
            found.add(f"+1{npa}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}")
    valid = []
    for e164 in found:
        try:
            if phonenumbers.is_valid_number(phonenumbers.parse(e164, None)):
                valid.append(e164)
        except phonenumbers.NumberParseException:
            continue
    return sorted(valid)


def test_every_valid_number_gets_phonenumbers_region() -> None:
    numbers = _valid_numbers(seed=20240607, per_example=5)
    assert len(numbers) > 10_000
    shared = [n for n in numbers if any(n[1:].startswith(str(cc)) for cc in SHARED)]
    assert len(shared) > 3_000  # the hard part: codes shared by several regions
    mismatches = [
        (n, country_of(n), _reference(n)) for n in numbers if country_of(n) != _reference(n)
    ]
    assert mismatches == []


@pytest.mark.parametrize(
    ("e164", "region"),
    [
        ("+14155550100", "US"),
        ("+16135550123", "CA"),
        ("+18005550100", "US"),  # toll-free: shared by the US and Canada, phonenumbers says US
        ("+12642351234", "AI"),
        ("+17872345678", "PR"),
        ("+447624123456", "IM"),
        ("+441481256789", "GG"),
        ("+442079460000", "GB"),
        ("+79161234567", "RU"),
        ("+77012345678", "KZ"),
        ("+390669812345", "VA"),
        ("+390212345678", "IT"),
        ("+61412345678", "AU"),
        ("+33142685300", "FR"),
        ("+8502381234", "KP"),
    ],
)
def test_known_numbers(e164: str, region: str) -> None:
    assert country_of(e164) == region == _reference(e164)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "+",
        "12",
        "+0123456789",
        "+999123456789",
        "+80012345678",
        "+1 415 555 0100",
        "+44 (20) 7946 0000",
        "+١٤١٥٥٥٥٠١٠٠",
        "abc",
    ],
)
def test_odd_inputs_fall_back_to_phonenumbers(value: str) -> None:
    assert country_of(value) == _country_slow(value)


def test_national_prefix_after_country_code_is_parsed_like_phonenumbers() -> None:
    # "+1 1 415..." parses as a US number once phonenumbers strips the national prefix 1
    for e164 in ("+114155550100", "+7849512345678", "+4402079460000"):
        assert country_of(e164) == _country_slow(e164)
