"""The console's own 404: any other ``/console/...`` path answers an HTML page, never JSON.

Its router is included after every other console router (it matches every path).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ..deps import RuntimeDep
from .render import _html, render
from .signin import _page

router = APIRouter(prefix="/console", include_in_schema=False)


@router.get("/{rest:path}")
async def not_found_page(rest: str, request: Request, rt: RuntimeDep) -> Response:
    """A page saying there is nothing here, with the console's header when signed in."""
    async with rt.sessionmaker() as session:
        page = await _page(request, rt, session)
    context: dict[str, Any] = {
        "title": "Page not found",
        "message": "There is no console page at this address.",
    }
    if page is None:
        body = render(
            "error.html", path=request.url.path, workspace_name=None, csrf_token="", **context
        )
        return _html(body, 404)
    return page.render("error.html", status=404, **context)
