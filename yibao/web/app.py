"""Mount the portal on the application: its pages at ``/``, its files at ``/static``, the API docs served locally."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from yibao.core.errors import NotFound
from yibao.web.render import error_page

STATIC = Path(__file__).parent / "static"
SWAGGER = "/static/vendor/swagger-ui-dist-5.35.0"

# Paths that belong to the machine interfaces: an unknown one there is answered as those interfaces answer.
_NOT_PAGES = ("/api/", "/fsi/", "/static/")


def mount(app: FastAPI) -> None:
    """Add the portal's pages and files (call last: the page of an unknown address comes after every route)."""
    from yibao.web.pages import account, auth, calc, enrol, family, home, insure, pay, qa

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        # FastAPI's page would fetch Swagger UI from a CDN; it comes from this server instead.
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} · docs",
            swagger_js_url=f"{SWAGGER}/swagger-ui-bundle.js",
            swagger_css_url=f"{SWAGGER}/swagger-ui.css",
            swagger_favicon_url="/static/favicon.svg",
            swagger_ui_parameters={"validatorUrl": None},  # the default validator badge calls an outside server
        )

    for module in (auth, home, account, family, pay, enrol, insure, calc, qa):
        app.include_router(module.router)
    _not_found_page(app)


def _not_found_page(app: FastAPI) -> None:
    """A page for an address nothing answers (not a route: routes added later still come first); the
    interfaces' own paths keep their JSON answer from the application's handler."""
    fallback = app.router.default

    async def not_found(scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        page_like = scope["type"] == "http" and scope.get("method") in ("GET", "HEAD")
        if page_like and not path.startswith(_NOT_PAGES) and path not in ("/openapi.json", "/healthz"):
            response = error_page(Request(scope, receive), NotFound("页面不存在", "no such page"))
            await response(scope, receive, send)
            return
        await fallback(scope, receive, send)

    app.router.default = not_found
