"""E.164 parsing and country lookup with ``phonenumbers``.

:func:`country_of` is on the dialer's hot path (every ``/outbound/check`` and every policy
decision with a destination), so it answers from a prefix table instead of a full
``phonenumbers.parse``:

* a calling code served by one region (most of the world) answers that region at once;
* a calling code shared by several regions (NANP ``+1``, ``+7``, ``+44``, ``+61``...) walks a
  table of national-number prefixes -> region, built lazily from phonenumbers' own metadata
  (leading-digit patterns and the number-type patterns, compiled to small automata so that
  "can a number starting with these digits belong to region R" is decided exactly);
* a prefix that stays ambiguous (e.g. NANP toll-free ``800``, shared by the US and Canada), an
  input that is not plain ``+digits``, or one where ``parse`` would strip a national prefix
  falls back to ``phonenumbers`` itself.

For a valid number the answer is identical to ``phonenumbers.region_code_for_number`` (a test
checks this on many numbers); like phonenumbers, an invalid number may get its prefix's region.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import phonenumbers
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata

from .errors import InvalidPhoneNumber


@lru_cache(maxsize=65_536)
def _parse_e164(text: str) -> tuple[str, str] | None:
    try:
        parsed = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    region = phonenumbers.region_code_for_number(parsed)
    if not region or region == "001":
        return (phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164), "")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164), region


#: The longest phone input accepted, surrounding whitespace included (an E.164 number is at
#: most 16 characters; the rest is room for whitespace a client may leave around it).
MAX_PHONE_CHARS = 32


def parse_e164(value: object, field: str = "e164") -> tuple[str, str]:
    """The one parse for every phone number a client sends; ``(E.164, ISO country)``.

    Every route, service and console form reads a phone number through this function, so the
    preflight, the test call, campaigns, numbers and the console give one verdict per input:

    * at most :data:`MAX_PHONE_CHARS` characters, a string;
    * surrounding whitespace is stripped;
    * what remains is ``+`` and 7 to 15 ASCII digits (other scripts' digits, the full-width
      plus, inner spaces, letters and control characters are refused);
    * it is a valid number for ``phonenumbers`` and belongs to a country.

    Anything else raises ``InvalidPhoneNumber`` (422 ``invalid_phone_number``) naming
    ``field``, the request's own field name. Results are cached: a dialer presents the same
    numbers again and again.
    """
    if not isinstance(value, str) or len(value) > MAX_PHONE_CHARS:
        raise InvalidPhoneNumber(
            f"{field}: not a phone number of at most {MAX_PHONE_CHARS} characters", field=field
        )
    text = value.strip()
    if not (8 <= len(text) <= 16 and text[0] == "+" and text.isascii() and text[1:].isdigit()):
        raise InvalidPhoneNumber(
            f"{field}: {value!r} is not an E.164 number (+ and 7 to 15 digits 0-9)",
            field=field,
        )
    found = _parse_e164(text)
    if found is None:
        raise InvalidPhoneNumber(f"{field}: {value!r} is not a valid phone number", field=field)
    if not found[1]:
        raise InvalidPhoneNumber(f"{field}: {value!r} belongs to no country", field=field)
    return found


def parse_digit_filter(
    value: str | None, field: str, *, max_digits: int, plus: bool = False
) -> str | None:
    """A search filter made of phone digits (``contains``, ``area_code``), or None when empty.

    The character rule of :func:`parse_e164`: surrounding whitespace stripped, then ASCII
    digits only (with one leading ``+`` where ``plus``), at most ``max_digits`` digits.
    Anything else raises ``InvalidPhoneNumber`` naming ``field``.
    """
    if value is None:
        return None
    if len(value) > MAX_PHONE_CHARS:
        raise InvalidPhoneNumber(f"{field}: at most {MAX_PHONE_CHARS} characters", field=field)
    text = value.strip()
    if not text:
        return None
    digits = text[1:] if plus and text[0] == "+" else text
    if not (digits.isascii() and digits.isdigit() and len(digits) <= max_digits):
        raise InvalidPhoneNumber(
            f"{field}: {value!r} is not {'+ and ' if plus else ''}at most {max_digits} digits 0-9",
            field=field,
        )
    return text


@lru_cache(maxsize=65_536)
def _country_slow(e164: str) -> str | None:
    """phonenumbers' own answer (the reference, and the fallback)."""
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return None
    region = phonenumbers.region_code_for_number(parsed)
    return region if region and region != "001" else None


def country_of(e164: str) -> str | None:
    """ISO country of an E.164 number, or None when it has none (see the module doc)."""
    if (
        not isinstance(e164, str)
        or len(e164) < 8
        or len(e164) > 18
        or e164[0] != "+"
        or e164[1] == "0"
        or not e164.isascii()
        or not e164[1:].isdigit()
    ):
        return _country_slow(e164) if isinstance(e164, str) else None
    digits = e164[1:]
    regions = _SINGLE.get(digits[:1]) or _SINGLE.get(digits[:2]) or _SINGLE.get(digits[:3])
    if regions is not None:
        return regions or None  # "" for non-geographic codes (+800, +882...)
    table = _shared_table(digits)
    if table is None:  # unknown calling code: parse fails, no country
        return _country_slow(e164)
    return table.lookup(e164, digits)


# -- the prefix tables -------------------------------------------------------------------------

#: calling code (as digits) -> its only region ("" when it is the non-geographic "001").
_SINGLE: dict[str, str] = {
    str(cc): ("" if regions[0] == "001" else regions[0])
    for cc, regions in COUNTRY_CODE_TO_REGION_CODE.items()
    if len(regions) == 1
}
_SHARED_CODES: frozenset[str] = frozenset(
    str(cc) for cc, regions in COUNTRY_CODE_TO_REGION_CODE.items() if len(regions) > 1
)
_SHARED: dict[str, _SharedCode] = {}
_NO_REGION = ""
#: Prefixes longer than this fall back to phonenumbers (bounds the table's size).
_MAX_PREFIX = 8
_MAX_ENTRIES = 200_000


def _shared_table(digits: str) -> _SharedCode | None:
    for n in (1, 2, 3):
        cc = digits[:n]
        if cc in _SHARED_CODES:
            table = _SHARED.get(cc)
            if table is None:
                table = _SHARED[cc] = _SharedCode(int(cc))
            return table
    return None


class _Nfa:
    """A Thompson automaton of one phonenumbers pattern, over the ten digits only.

    Built from ``re``'s own parser; patterns use literals, classes, groups, alternation and
    counted repeats. Anything else makes the build fail, and the caller then treats the
    pattern as "could match anything" (more fallbacks, never a wrong answer).
    """

    def __init__(self, pattern: str) -> None:
        from re import _constants as c  # type: ignore[attr-defined]
        from re import _parser as p  # type: ignore[attr-defined]

        self.c = c
        self.eps: list[list[int]] = []
        self.edge: list[tuple[frozenset[str], int] | None] = []
        start = self._new()
        self._seq(list(p.parse(pattern)), start)
        self.start = self._closure({start})

    def _new(self) -> int:
        self.eps.append([])
        self.edge.append(None)
        return len(self.eps) - 1

    def _chars(self, op: Any, av: Any) -> frozenset[str]:
        c = self.c
        digits = "0123456789"
        if op is c.LITERAL:
            return frozenset(d for d in digits if ord(d) == av)
        if op is c.ANY:
            return frozenset(digits)
        if op is c.IN:
            negate = False
            chosen: set[str] = set()
            for iop, iav in av:
                if iop is c.NEGATE:
                    negate = True
                elif iop is c.LITERAL:
                    chosen |= {d for d in digits if ord(d) == iav}
                elif iop is c.RANGE:
                    chosen |= {d for d in digits if iav[0] <= ord(d) <= iav[1]}
                elif iop is c.CATEGORY and iav is c.CATEGORY_DIGIT:
                    chosen |= set(digits)
                else:
                    raise ValueError(f"unsupported class item {iop}")
            return frozenset(set(digits) - chosen if negate else chosen)
        raise ValueError(f"unsupported {op}")

    def _char(self, chars: frozenset[str], cur: int) -> int:
        a, b = self._new(), self._new()
        self.eps[cur].append(a)
        self.edge[a] = (chars, b)
        return b

    def _seq(self, items: list[Any], cur: int) -> int:
        c = self.c
        for op, av in items:
            if op in (c.LITERAL, c.ANY, c.IN):
                cur = self._char(self._chars(op, av), cur)
            elif op is c.SUBPATTERN:
                cur = self._seq(list(av[-1]), cur)
            elif op is c.BRANCH:
                end = self._new()
                for alt in av[1]:
                    s = self._new()
                    self.eps[cur].append(s)
                    self.eps[self._seq(list(alt), s)].append(end)
                cur = end
            elif op in (c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", None)):
                lo, hi, sub = av
                for _ in range(lo):
                    cur = self._seq(list(sub), cur)
                if hi is c.MAXREPEAT or hi == c.MAXREPEAT:
                    loop = self._new()
                    self.eps[cur].append(loop)
                    body = self._new()
                    self.eps[loop].append(body)
                    self.eps[self._seq(list(sub), body)].append(loop)
                    cur = loop
                else:
                    for _ in range(hi - lo):
                        s, end = self._new(), self._new()
                        self.eps[cur] += [s, end]
                        self.eps[self._seq(list(sub), s)].append(end)
                        cur = end
            elif op is c.AT:
                continue  # anchors: ignoring one only widens what may match
            else:
                raise ValueError(f"unsupported {op}")
        return cur

    def _closure(self, states: set[int]) -> frozenset[int]:
        stack = list(states)
        seen = set(states)
        while stack:
            for nxt in self.eps[stack.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        return frozenset(s for s in seen if self.edge[s] is not None or not self.eps[s])

    def step(self, states: frozenset[int], digit: str) -> frozenset[int]:
        moved = set()
        for s in states:
            e = self.edge[s]
            if e is not None and digit in e[0]:
                moved.add(e[1])
        return self._closure(moved) if moved else frozenset()


class _Any:
    """Stands for a pattern the automaton builder could not read: always alive."""

    start: frozenset[int] = frozenset({0})

    def step(self, states: frozenset[int], digit: str) -> frozenset[int]:
        return states


def _nfa(pattern: str | None) -> _Nfa | _Any | None:
    if pattern is None:
        return None
    try:
        return _Nfa(pattern)
    except Exception:
        return _Any()


_TYPE_DESCS = (
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "fixed_line",
    "mobile",
)


class _Region:
    """What decides whether a national number belongs to one region of a shared code."""

    def __init__(self, code: str) -> None:
        meta = PhoneMetadata.metadata_for_region(code)
        assert meta is not None
        self.code = code
        self.meta = meta
        self.leading = re.compile(meta.leading_digits) if meta.leading_digits else None
        # phonenumbers: a region with leading digits claims every number they match (valid
        # or not); otherwise it claims the numbers that match its general pattern and a type.
        autos: list[_Nfa | _Any] = []
        if meta.leading_digits:
            autos.append(_nfa(meta.leading_digits) or _Any())
        else:
            general = _nfa(meta.general_desc.national_number_pattern if meta.general_desc else None)
            autos.append(general or _Any())
            for name in _TYPE_DESCS:
                desc = getattr(meta, name, None)
                auto = _nfa(desc.national_number_pattern if desc is not None else None)
                if auto is not None:
                    autos.append(auto)
        self.autos = autos

    def alive(self, states: tuple[frozenset[int], ...]) -> bool:
        if not states[0]:
            return False
        return self.leading is not None or any(states[1:])


class _SharedCode:
    """The prefix table of one calling code shared by several regions."""

    def __init__(self, cc: int) -> None:
        self.cc = str(cc)
        regions = COUNTRY_CODE_TO_REGION_CODE[cc]
        self.regions = [_Region(r) for r in regions]
        main = PhoneMetadata.metadata_for_region(regions[0])
        npp = main.national_prefix_for_parsing if main is not None else None
        self.national_prefix = re.compile(npp) if npp else None
        #: prefix -> region, "" (no region), or a tuple of the regions that may claim it
        self.answers: dict[str, object] = {}
        #: prefix -> each region's automaton states (kept for ambiguous prefixes only)
        self.states: dict[str, list[tuple[frozenset[int], ...]]] = {
            "": [tuple(a.start for a in r.autos) for r in self.regions]
        }

    def lookup(self, e164: str, digits: str) -> str | None:
        nsn = digits[len(self.cc) :]
        if not nsn or (self.national_prefix is not None and self.national_prefix.match(nsn)):
            return _country_slow(e164)  # parse may strip a national prefix: ask phonenumbers
        answers = self.answers
        answer: object = None
        for k in range(1, min(len(nsn), _MAX_PREFIX) + 1):
            prefix = nsn[:k]
            found = answers.get(prefix)
            if found is None:
                found = self._decide(prefix)
                if found is None:  # the table is full: ask phonenumbers
                    return _country_slow(e164)
            answer = found
            if type(answer) is not tuple:
                return answer or None  # type: ignore[return-value]
        if type(answer) is tuple:  # still shared by several regions: decide as phonenumbers does
            return self._among(answer, nsn, e164)
        return _country_slow(e164)

    def _among(self, claimants: tuple[str, ...], nsn: str, e164: str) -> str | None:
        """``_region_code_for_number_from_list`` over the regions that may claim ``nsn``."""
        try:
            from phonenumbers.phonenumberutil import PhoneNumberType, _number_type_helper

            for region in self.regions:
                if region.code not in claimants:
                    continue
                if region.leading is not None:
                    if region.leading.match(nsn):
                        return region.code
                elif _number_type_helper(nsn, region.meta) != PhoneNumberType.UNKNOWN:
                    return region.code
            return None
        except ImportError:  # pragma: no cover - a phonenumbers without the helper
            return _country_slow(e164)

    def _decide(self, prefix: str) -> object | None:
        """Who may own numbers starting with ``prefix`` (whose parent prefix is ambiguous)."""
        parent = self.states.get(prefix[:-1])
        if parent is None:  # only when the tables reached their size limit
            return None
        digit = prefix[-1]
        current: list[tuple[frozenset[int], ...]] = []
        claimants: list[str] = []
        decided = False
        for region, states in zip(self.regions, parent, strict=True):
            if decided:
                current.append(states)
                continue
            if region.leading is not None and region.leading.match(prefix):
                claimants.append(region.code)  # every number with this prefix is claimed here
                decided = True
                current.append(states)
                continue
            stepped = tuple(
                auto.step(s, digit) for auto, s in zip(region.autos, states, strict=True)
            )
            current.append(stepped)
            if region.alive(stepped):
                claimants.append(region.code)
        if not claimants:
            answer: object = _NO_REGION
        elif len(claimants) == 1:
            answer = claimants[0]
        else:
            answer = tuple(claimants)
            if len(self.states) < _MAX_ENTRIES:
                self.states[prefix] = current
        if len(self.answers) < _MAX_ENTRIES:
            self.answers[prefix] = answer
        return answer
