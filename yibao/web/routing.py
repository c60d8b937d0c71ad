"""How a page runs: as the logged-in person, in one unit of work committed before the page answers.

:func:`act` runs a page's work through :func:`yibao.api.deps.run_unit` with the session cookie's token: the
same gate, caller resolution, access rules, audit and commit as the API. :class:`PageRoute` renders whatever
goes wrong as a page (a login redirect when the session is missing or over), never JSON and never a trace.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar
from urllib.parse import quote

from fastapi import APIRouter
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from yibao.api.deps import run_unit
from yibao.core import auth
from yibao.core.auth import Principal, Role
from yibao.core.errors import AppError, NotFound, Unauthenticated, Unavailable, ValidationFailed
from yibao.web.render import error_page, redirect
from yibao.web.session import end_session, session_token

log = logging.getLogger("yibao.web")
T = TypeVar("T")


def login_url(request: Request) -> str:
    """The login page, coming back here afterwards."""
    back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"/login?next={quote(back, safe='/')}"


def _handle(request: Request, exc: Exception) -> Response:
    if isinstance(exc, Unauthenticated) and exc.code != "auth.wrong_credentials":
        response = redirect(login_url(request))
        if request.headers.get("hx-request") == "true":
            response.headers["HX-Redirect"] = login_url(request)
        end_session(response)
        return response
    if isinstance(exc, AppError):
        return error_page(request, exc)
    if isinstance(exc, RequestValidationError):
        errors = exc.errors()
        field = ".".join(str(p) for p in errors[0]["loc"][1:]) if errors else "query"
        return error_page(request, ValidationFailed(field or "query", "输入无效", "invalid input"))
    if isinstance(exc, HTTPException):
        if exc.status_code == 404:
            return error_page(request, NotFound("页面不存在", "no such page"))
        return error_page(request, AppError("请求无效", "bad request", code=f"http_{exc.status_code}"))
    if isinstance(exc, OperationalError | PoolTimeout):
        log.warning("database unavailable: %s", type(exc).__name__)
        return error_page(request, Unavailable("系统暂时不可用，请稍后重试", "unavailable, please retry"))
    log.exception("unexpected error on a page: %s", type(exc).__name__)
    err = AppError("系统内部错误，请稍后再试", "internal error, please try again later", code="internal_error")
    err.http_status = 500
    return error_page(request, err)


class PageRoute(APIRoute):
    """A portal route: every failure becomes a page in the person's language."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """The route's handler, with errors rendered as pages."""
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:
                return _handle(request, exc)

        return route


def page_router() -> APIRouter:
    """A router for portal pages (kept out of the OpenAPI document: pages are not the API)."""
    return APIRouter(route_class=PageRoute, include_in_schema=False)


async def act(request: Request, work: Callable[[Session], T]) -> T:
    """Run ``work`` as the browser's logged-in caller, committed before this returns (see module docstring)."""
    return await run_unit(request, session_token(request), work)


def me(session: Session) -> Principal:
    """The insured person this page acts for, or Unauthenticated (to the login page)."""
    p = auth.principal_of(session)
    if p is None or p.role is not Role.PERSON or p.person_id is None:
        raise Unauthenticated("请先登录", "please log in first")
    return p


def need_login(request: Request) -> Response | None:
    """A redirect to the login page for a browser without a session (before any database work)."""
    return None if session_token(request) else redirect(login_url(request))


def values(obj: Any) -> dict[str, Any]:
    """A dataclass or mapping as a plain dict for a template."""
    return dict(obj) if isinstance(obj, dict) else {k: getattr(obj, k) for k in obj.__slots__}
