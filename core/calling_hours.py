"""Calling hours: which windows apply to a destination, and when a call may go.

Every answer the preflight needs is cached, so a decision stays in memory (where the
destination is, its zones and region, comes from :mod:`core.destinations`, cached per prefix):

* :class:`Rule` -- one rule's weekly windows in local time, from the bundled rule pack
  (``core/data/calling_rules.json``), a plugin's ``calling_windows`` or the workspace's own;
* :class:`RuleSet` -- the rules that apply to one destination; it computes the instants allowed
  in every candidate zone by every rule once per UTC day and answers from them.

A window's start is inclusive and its end exclusive. A call is inside a rule when it is inside
any of the rule's windows on that local day (and the day is not a public holiday when the rule
closes on them); it is allowed when it is inside every rule in every candidate zone.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from .destinations import zone
from .models import DAYS, CallingWindow

#: How far ahead ``next_allowed_at`` looks before answering that nothing is allowed.
HORIZON_DAYS = 14
_DAY = 86_400
_EPOCH = date(1970, 1, 1).toordinal()


# -- rules -------------------------------------------------------------------------------------

#: One window: weekdays (0 = Monday), start and end in minutes after local midnight.
Window = tuple[frozenset[int], int, int]


@dataclass(frozen=True, slots=True)
class Rule:
    """A calling-hours rule: weekly windows in the callee's local time.

    ``holidays`` is the ISO country whose public holidays close the rule (``None``: open on
    holidays like on any other day).
    """

    id: str
    windows: tuple[Window, ...]
    holidays: str | None = None
    source: str = ""


def minutes(clock: str) -> int:
    """``"HH:MM"`` -> minutes after midnight (``"24:00"`` -> 1440)."""
    hours, mins = clock.split(":")
    return int(hours) * 60 + int(mins)


def rules_from_windows(windows: list[CallingWindow], country: str) -> list[Rule]:
    """Group windows by rule id into rules; a rule closes on ``country``'s holidays when any
    of its windows says so."""
    grouped: dict[str, list[CallingWindow]] = defaultdict(list)
    for w in windows:
        grouped[w.rule].append(w)
    return [
        Rule(
            id=rule_id,
            windows=tuple(_window(w.days, w.start, w.end) for w in items),
            holidays=country if any(w.closed_on_public_holidays for w in items) else None,
            source="; ".join(dict.fromkeys(w.source for w in items if w.source)),
        )
        for rule_id, items in grouped.items()
    ]


def _window(days: Sequence[str], start: str, end: str) -> Window:
    return frozenset(DAYS.index(d) for d in days), minutes(start), minutes(end)


@lru_cache(maxsize=1)
def rule_pack() -> list[dict[str, Any]]:
    """The bundled rule pack's entries (``core/data/calling_rules.json``), each with its source."""
    text = resources.files("core").joinpath("data", "calling_rules.json").read_text("utf-8")
    rules: list[dict[str, Any]] = json.loads(text)["rules"]
    return rules


def bundled_rule_ids() -> tuple[str, ...]:
    """The ids a workspace may choose among (``calling_hours.rules``), in the pack's order."""
    return tuple(dict.fromkeys(entry["rule"] for entry in rule_pack()))


def bundled_windows(country: str, region: str | None) -> list[CallingWindow]:
    """The bundled pack's windows for a destination (every rule id; the caller selects)."""
    out = []
    for entry in rule_pack():
        if country not in entry["countries"]:
            continue
        if entry["regions"] is not None and region not in entry["regions"]:
            continue
        for w in entry["windows"]:
            out.append(
                CallingWindow(
                    rule=entry["rule"],
                    days=w["days"],
                    start=w["start"],
                    end=w["end"],
                    closed_on_public_holidays=entry["closed_on_public_holidays"],
                    source=entry["source"],
                )
            )
    return out


@lru_cache(maxsize=64)
def _calendar(country: str) -> Any:
    import holidays

    try:
        return holidays.country_holidays(country)
    except NotImplementedError:
        return None


@lru_cache(maxsize=16_384)
def is_public_holiday(country: str, day: date) -> bool:
    """Whether ``day`` is a national public holiday of ``country`` (the ``holidays`` package)."""
    calendar = _calendar(country)
    return calendar is not None and day in calendar


def warm_up() -> None:
    """Read the rule pack and import the holidays calendars (a third of a second of CPU)."""
    rule_pack()
    is_public_holiday("FR", date(2026, 1, 1))


# -- deciding ----------------------------------------------------------------------------------


class RuleSet:
    """The rules that apply to one destination, with the allowed instants cached per UTC day.

    Identity-hashed and built once per (country, region, workspace setting) by the policy.
    """

    __slots__ = ("_days", "rules")

    def __init__(self, rules: tuple[Rule, ...]) -> None:
        self.rules = rules
        self._days: dict[tuple[tuple[str, ...], int], tuple[tuple[float, float], ...]] = {}

    def intervals(self, zones: tuple[str, ...], day: int) -> tuple[tuple[float, float], ...]:
        """The allowed ``[start, end)`` UNIX-time intervals of UTC day ``day`` (days since the
        epoch), in every zone of ``zones`` under every rule."""
        key = (zones, day)
        found = self._days.get(key)
        if found is None:
            if len(self._days) >= 20_000:
                self._days.clear()
            found = self._days[key] = _day_intervals(self.rules, zones, day)
        return found

    def allows(self, zones: tuple[str, ...], ts: float) -> bool:
        """Whether UNIX time ``ts`` is inside every rule in every zone."""
        day = int(ts // _DAY)
        spans = self._days.get((zones, day))  # the cache read without a call (hot path)
        if spans is None:
            spans = self.intervals(zones, day)
        for start, end in spans:  # noqa: SIM110 (hot path)
            if start <= ts < end:
                return True
        return False

    def next_allowed(self, zones: tuple[str, ...], ts: float) -> float | None:
        """The earliest allowed UNIX time at or after ``ts``, or ``None`` when nothing is
        allowed within :data:`HORIZON_DAYS`."""
        first = int(ts // _DAY)
        for day in range(first, first + HORIZON_DAYS + 1):
            for start, end in self.intervals(zones, day):
                if end > ts:
                    return max(start, ts)
        return None


def _instant(day: date, minute: int, tz: ZoneInfo) -> float:
    if minute >= 1440:
        day, minute = day + timedelta(days=1), minute - 1440
    return datetime.combine(day, time(minute // 60, minute % 60), tzinfo=tz).timestamp()


def _day_intervals(
    rules: tuple[Rule, ...], zones: tuple[str, ...], day: int
) -> tuple[tuple[float, float], ...]:
    start = float(day * _DAY)
    allowed: list[tuple[float, float]] = [(start, start + _DAY)]
    utc_day = date.fromordinal(_EPOCH + day)
    for name in zones:
        tz = zone(name)
        if tz is None:
            continue
        for rule in rules:
            spans = []
            for offset in (-1, 0, 1):
                local = utc_day + timedelta(days=offset)
                if rule.holidays is not None and is_public_holiday(rule.holidays, local):
                    continue
                weekday = local.weekday()
                for days, begin, end in rule.windows:
                    if weekday in days:
                        spans.append((_instant(local, begin, tz), _instant(local, end, tz)))
            allowed = _intersect(allowed, _union(spans))
            if not allowed:
                return ()
    return tuple(allowed)


def _union(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for begin, end in sorted(spans):
        if merged and begin <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        elif end > begin:
            merged.append((begin, end))
    return merged


def _intersect(
    a: list[tuple[float, float]], b: list[tuple[float, float]]
) -> list[tuple[float, float]]:
    out = []
    i = j = 0
    while i < len(a) and j < len(b):
        begin, end = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if begin < end:
            out.append((begin, end))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def as_datetime(ts: float) -> datetime:
    """A UNIX time as an aware UTC datetime."""
    return datetime.fromtimestamp(ts, UTC)
