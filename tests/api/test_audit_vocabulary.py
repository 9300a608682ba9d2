"""The audit vocabulary is one list: every action the code records is in ``core.audit.ACTIONS``
and docs/api.md lists each with its outcomes."""

from __future__ import annotations

import re
from pathlib import Path

from core.audit import ACTIONS, PROBLEM_CODE

ROOT = Path(__file__).resolve().parents[2]
#: The modules that write audit events (``audit.record`` and its helpers).
WRITES = re.compile(r"\baudit\.(record|by_principal|subject_event|delete_subject)\(")
SOURCES = [
    p
    for d in ("core", "api", "plugins")
    for p in (ROOT / d).rglob("*.py")
    if WRITES.search(p.read_text())
]


ACTION = re.compile(r'\baction\s*=\s*"([a-z_]+)"(?:\s+if\s+\w+\s+else\s+"([a-z_]+)")?')


def _recorded_actions() -> set[str]:
    """Every action written as a literal (``action="x"``, ``action = "x" if c else "y"``)."""
    found: set[str] = set()
    for path in SOURCES:
        for pair in ACTION.findall(path.read_text()):
            found |= {a for a in pair if a}
    return found


def test_every_recorded_action_is_in_the_vocabulary() -> None:
    recorded = _recorded_actions()
    assert {"campaign_created", "test_call", "verification_started"} <= recorded
    missing = sorted(recorded - set(ACTIONS))
    assert missing == [], f"add these actions to core.audit.ACTIONS and docs/api.md: {missing}"
    # the event kinds carriers report are recorded as actions of the same name
    assert {"verification_succeeded", "verification_failed", "call_status"} <= set(ACTIONS)


def test_the_api_reference_lists_every_action_and_outcome() -> None:
    doc = (ROOT / "docs" / "api.md").read_text()
    for action, (_subject, _meaning, outcomes) in ACTIONS.items():
        line = next((ln for ln in doc.splitlines() if ln.startswith(f"| `{action}` |")), None)
        assert line is not None, f"docs/api.md does not list the audit action {action!r}"
        for outcome in outcomes:
            word = "the problem `code`" if outcome == PROBLEM_CODE else f"`{outcome}`"
            assert word in line, (action, outcome)


def test_recorded_outcomes_are_in_the_vocabulary() -> None:
    literal = set()
    for path in SOURCES:
        literal |= set(re.findall(r'\boutcome="([a-z_-]+)"', path.read_text()))
    every = {o for _s, _m, outcomes in ACTIONS.values() for o in outcomes}
    assert literal - every == set()
