"""``/docs`` (Swagger UI) and ``/redoc`` served with no request leaving the server.

FastAPI's own pages load Swagger UI and ReDoc from a CDN, so they are blank without internet.
The assets here come from the ``fastapi-offline`` package (Swagger UI 5, which renders the
OpenAPI 3.1 FastAPI emits, and ReDoc's standalone bundle), served under ``/docs/assets/``;
the pages are FastAPI's own HTML pointed at them. ``/favicon.ico`` is the console's icon.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

ASSETS_URL = "/docs/assets"
FAVICON = Path(__file__).parent / "console" / "static" / "favicon.svg"
#: The pages may load nothing from elsewhere: ReDoc's own "API docs by Redocly" logo, linked
#: from a CDN, is refused by the browser before any request (and hidden).
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
HIDE_REDOCLY_LOGO = '<style>img[alt="redocly logo"] { display: none; }</style></head>'


def _offline(page: HTMLResponse, extra_head: str = "") -> HTMLResponse:
    """The page with the CSP above (and ``extra_head`` at the end of its ``<head>``)."""
    body = bytes(page.body).decode()
    if extra_head:
        body = body.replace("</head>", extra_head, 1)
    return HTMLResponse(body, headers={"Content-Security-Policy": DOCS_CSP})


def assets_dir() -> Path:
    """The folder of the Swagger UI and ReDoc files shipped inside ``fastapi-offline``."""
    return Path(str(resources.files("fastapi_offline") / "static"))


def install(app: FastAPI) -> None:
    """Add ``/docs``, its OAuth2 redirect, ``/redoc``, their assets and ``/favicon.ico``.

    The app must be built with ``docs_url=None, redoc_url=None`` (FastAPI's CDN pages off).
    """
    openapi_url = app.openapi_url or "/openapi.json"
    oauth2_redirect = app.swagger_ui_oauth2_redirect_url or "/docs/oauth2-redirect"
    app.mount(ASSETS_URL, StaticFiles(directory=assets_dir()), name="docs-assets")
    favicon = FAVICON.read_bytes()

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        page = get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} API",
            oauth2_redirect_url=oauth2_redirect,
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url="/favicon.ico",
            swagger_ui_parameters={"validatorUrl": None, **(app.swagger_ui_parameters or {})},
        )
        return _offline(page)

    @app.get(oauth2_redirect, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        page = get_redoc_html(
            openapi_url=openapi_url,
            title=f"{app.title} API",
            redoc_js_url=f"{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url="/favicon.ico",
            with_google_fonts=False,
        )
        return _offline(page, HIDE_REDOCLY_LOGO)

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon_ico() -> Response:
        return Response(
            favicon, media_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"}
        )
