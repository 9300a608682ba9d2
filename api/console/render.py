"""Rendering the console: the Jinja2 environment (control characters never shown raw, times
and prices in words), security headers, the static files, and the helpers of paged tables.
"""

from __future__ import annotations

import re
from collections.abc import Container, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import jinja2
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from core.errors import NotFound
from core.policy import REASON_TEXT
from core.queries import Page

router = APIRouter(prefix="/console", include_in_schema=False)


HERE = Path(__file__).parent


def printable(value: Any) -> Any:
    """What a page shows of a value: control characters (NUL...) as U+FFFD, never raw.

    The API refuses them on input; rows stored before that rule, or written by other means
    (the CLI, SQL), still reach the pages.
    """
    if isinstance(value, Markup):  # already escaped: stays markup
        return Markup(UNPRINTABLE.sub("\ufffd", value))
    if isinstance(value, str):
        return UNPRINTABLE.sub("\ufffd", value)
    return value


#: Control characters but tab and line breaks, which are white space on a page (a macro's
#: rendered markup is full of line breaks).
UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    finalize=printable,
)

PAGE_SIZE = 100

#: What the page scripts show for a problem ``code`` when the answer's own words are not enough.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
        "object-src 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # "no-referrer" would make form posts send Origin: null
    "Cache-Control": "no-store",
}

STATIC_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}


def _static_files() -> dict[str, tuple[bytes, str]]:
    out: dict[str, tuple[bytes, str]] = {}
    for path in (HERE / "static").iterdir():
        if path.is_file() and path.suffix in STATIC_TYPES:
            out[path.name] = (path.read_bytes(), STATIC_TYPES[path.suffix])
    return out


STATIC = _static_files()


def when(moment: datetime | date | None) -> Markup:
    """A time as the console shows it: UTC, to the minute, saying so, in a ``<time>``
    (a plain date stays a date)."""
    if moment is None:
        return Markup('<span class="muted">—</span>')
    if not isinstance(moment, datetime):
        return Markup('<time datetime="{0}">{0}</time>').format(moment.isoformat())
    utc = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return Markup('<time datetime="{}">{}</time>').format(
        utc.isoformat(timespec="seconds"), utc.strftime("%Y-%m-%d %H:%M UTC")
    )


def price(metadata: dict[str, Any]) -> str:
    """The carrier's price recorded in a ledger entry's metadata, in words."""
    currency = metadata.get("carrier_currency") or ""
    parts = []
    if metadata.get("carrier_monthly_cost") is not None:
        parts.append(f"{metadata['carrier_monthly_cost']} {currency}/month".replace(" /", "/"))
    if metadata.get("carrier_upfront_cost") not in (None, "0", "0.00", "0.0"):
        parts.append(f"{metadata['carrier_upfront_cost']} {currency} upfront".replace("  ", " "))
    return ", ".join(parts) or "—"


ENV.globals.update(when=when, price=price)


def _html(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(body, status_code=status, headers=SECURITY_HEADERS)


def render(template: str, **context: Any) -> str:
    """Render a console template (also used by the component tests)."""
    context.setdefault("reason_text", REASON_TEXT)
    context.setdefault("demo_mode", False)
    return ENV.get_template(template).render(**context)


def page_offset(request: Request) -> int:
    """``?offset=`` of a console table: a non-negative integer, 0 when absent or malformed."""
    try:
        return max(0, min(int(request.query_params.get("offset", "0")), 1_000_000))
    except ValueError:
        return 0


@dataclass(frozen=True)
class Listing:
    """One page of a console table, as its template and its pager (``pager.html``) show it: the
    row it starts at (``?offset=``), how many rows a page holds, the filters in force (None: not
    filtered by that; the Previous and Next links keep the others) and, once counted, how many
    rows match them (``total``)."""

    offset: int
    size: int
    filters: Mapping[str, str | None] = field(default_factory=dict)
    total: int = 0

    @classmethod
    def of(cls, request: Request, size: int, **filters: str | None) -> Listing:
        """The page ``request`` asks for, of ``size`` rows, with ``filters`` (already checked)."""
        return cls(page_offset(request), size, filters)

    def counted(self, total: int) -> Listing:
        """This page once the rows matching its filters are counted."""
        return replace(self, total=total)

    @property
    def page(self) -> Page:
        """The rows to ask the core's list function for."""
        return Page(self.size, self.offset)

    @property
    def query(self) -> dict[str, str]:
        """The filters in force, as the page's links keep them."""
        return {name: value for name, value in self.filters.items() if value}

    @property
    def end(self) -> int:
        """How many rows are shown up to the end of this page (its last row's number)."""
        return min(self.offset + self.size, self.total)

    @property
    def previous(self) -> int | None:
        """Where the page before this one starts (None: this is the first)."""
        return max(self.offset - self.size, 0) if self.offset > 0 else None

    @property
    def next(self) -> int | None:
        """Where the page after this one starts (None: this is the last)."""
        return self.end if self.end < self.total else None


def _choice(value: str | None, allowed: Container[str]) -> str | None:
    """The query value if it is one of ``allowed``, else None."""
    return value if value in allowed else None


@router.get("/static/{name}")
async def static(name: str) -> Response:
    found = STATIC.get(name)
    if found is None:
        raise NotFound("no such console file")
    return Response(
        found[0],
        media_type=found[1],
        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )
