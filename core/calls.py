"""Calls placed through Trunkline (test calls) and the status carrier events bring them.

A call's ``status`` is one of :data:`CALL_STATUSES`. Carriers speak their own words
(Telnyx's ``initiated``, Twilio's ``canceled``); :func:`normalise_status` maps them onto ours,
and :func:`advances` keeps a call from going back: events may arrive out of order, and a call
that ended stays ended.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from .errors import NotFound
from .queries import Filters, Page, one_of, page_of, parse_uuid
from .tables import Call

#: Every status a call may have, in the order a call goes through them; the last four end it.
CALL_STATUSES: tuple[str, ...] = (
    "queued",
    "ringing",
    "in-progress",
    "completed",
    "busy",
    "failed",
    "no-answer",
)
FINAL_STATUSES = frozenset(("completed", "busy", "failed", "no-answer"))
_RANK = {"queued": 0, "ringing": 1, "in-progress": 2}
#: Carrier words for the same states.
_SYNONYMS = {
    "initiated": "queued",
    "in_progress": "in-progress",
    "answered": "in-progress",
    "no_answer": "no-answer",
    "canceled": "no-answer",
    "cancelled": "no-answer",
}


def normalise_status(raw: Any) -> str | None:
    """One of :data:`CALL_STATUSES` for a carrier's status word, or None when unknown."""
    if not isinstance(raw, str):
        return None
    word = raw.strip().lower()
    word = _SYNONYMS.get(word, word)
    return word if word in CALL_STATUSES else None


def advances(current: str, new: str) -> bool:
    """Whether a call in ``current`` moves to ``new``: only forward, never out of a final one."""
    if current in FINAL_STATUSES or new == current:
        return False
    if new in FINAL_STATUSES:
        return True
    return _RANK.get(new, -1) > _RANK.get(current, -1)


async def get_call(session: AsyncSession, workspace_id: uuid.UUID, call_id: Any) -> Call:
    """The workspace's call; another workspace's call is ``NotFound`` like a missing one."""
    return await one_of(session, Call, workspace_id, call_id, "call")


class CallFilter(Filters):
    """Which of a workspace's calls a list holds: those of ``campaign_id``, in ``status``
    (``None`` matches any)."""

    campaign_id: str | None = None
    status: str | None = None


async def list_calls(
    session: AsyncSession, workspace_id: uuid.UUID, filters: CallFilter, page: Page
) -> tuple[list[Call], int]:
    """A page of the workspace's calls that match ``filters``, newest first, and the total
    matching.

    An unknown or malformed ``campaign_id`` matches nothing.
    """
    where = [Call.workspace_id == workspace_id]
    if filters.campaign_id is not None:
        try:
            where.append(Call.campaign_id == parse_uuid(filters.campaign_id, "campaign"))
        except NotFound:
            return [], 0
    if filters.status is not None:
        where.append(Call.status == filters.status)
    order = (Call.created_at.desc(), Call.id)
    return await page_of(session, Call, where, order, page)
