"""Mount the portal on the application: its pages at ``/``, its files at ``/static``, the API docs served locally."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.responses import Response

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
    app.include_router(_not_found)


# Not a page route: an unknown address under the interfaces' paths is answered by the API's own handler.
_not_found = APIRouter(include_in_schema=False)


@_not_found.get("/{rest:path}")
def not_found(request: Request, rest: str) -> Response:
    """An address no page has: a page saying so (the interfaces' own paths keep their JSON answer)."""
    if request.url.path.startswith(_NOT_PAGES) or request.url.path in ("/openapi.json", "/healthz"):
        raise HTTPException(404)
    from yibao.core.errors import NotFound

    return error_page(request, NotFound("页面不存在", "no such page"))
