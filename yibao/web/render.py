"""Rendering pages: one Jinja2 environment, the language, the CSRF token, and the headers every page carries."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from yibao import __version__
from yibao.core.errors import AppError
from yibao.core.money import format_yuan
from yibao.web import i18n, labels
from yibao.web.session import csrf_token, finish, lang_of, session_token

CHINA = timezone(timedelta(hours=8))
# Nothing the portal serves loads from another origin (insurance networks are often cut off from the internet).
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)

NAV = (
    ("/", "首页"),
    ("/account", "个人账户"),
    ("/family", "家庭共济"),
    ("/pay", "缴费"),
    ("/enrol", "参保登记"),
    ("/insurance", "商业保险"),
    ("/withdraw", "提取"),
    ("/calc", "报销计算器"),
    ("/qa", "政策问答"),
)


def _yuan(value: Any) -> str:
    """Fen as yuan with thousands separators ("12,345.60"); a yuan string passes through re-grouped."""
    text = format_yuan(value) if isinstance(value, int) else str(value)
    whole, _, cents = text.partition(".")
    sign = "-" if whole.startswith("-") else ""
    return f"{sign}{int(whole.lstrip('-') or 0):,}.{cents or '00'}"


def _local(iso: str | None) -> str:
    """A stored UTC instant ("2022-10-16T02:00:00Z") as China's wall time ("2022-10-16 10:00")."""
    if not iso:
        return ""
    moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The templates of ``yibao/web/templates`` (autoescaped; an unknown name is an error, not an empty string)."""
    env = Environment(
        loader=PackageLoader("yibao.web", "templates"),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["yuan"] = _yuan
    env.filters["local"] = _local
    env.globals["labels"] = labels
    env.filters["tojson_attr"] = lambda v: json.dumps(v, ensure_ascii=False, separators=(",", ":"))
    env.globals["version"] = __version__
    env.globals["nav"] = NAV
    return env


def context(request: Request, **values: Any) -> dict[str, Any]:
    """What every template can use: the language and its translator, the CSRF token, where we are."""
    lang = lang_of(request)
    return {
        "request": request,
        "lang": lang,
        "t": i18n.translator(lang),
        "csrf": csrf_token(request),
        "path": request.url.path,
        "logged_in": session_token(request) is not None,
        "htmx": request.headers.get("hx-request") == "true",
        **values,
    }


def page(request: Request, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    """A rendered page with the portal's security headers; personal pages are never cached."""
    html = environment().get_template(template).render(context(request, **values))
    response = HTMLResponse(html, status_code=status, headers=HEADERS)
    return finish(request, response)  # type: ignore[return-value]


HEADERS: Mapping[str, str] = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def redirect(url: str) -> RedirectResponse:
    """See other: after a form, the browser asks for the result page (a reload does not post again)."""
    return RedirectResponse(url, status_code=303, headers=dict(HEADERS))


def message(exc: AppError, lang: str) -> str:
    """An error's message in the page's language, without the field name the API puts in front."""
    text = exc.message_en if lang == "en" else exc.message_zh
    field = exc.details.get("field") if exc.details else None
    if field:
        for sep in ("：", ": "):
            if text.startswith(f"{field}{sep}"):
                return text[len(field) + len(sep) :]
    return i18n.error_text(exc.code, lang) or text


def error_page(request: Request, exc: AppError) -> Response:
    """An error the person can read (never a stack trace)."""
    lang = lang_of(request)
    remedy = (exc.details or {}).get("remedy_en" if lang == "en" else "remedy")
    return page(request, "error.html", exc.http_status, error=message(exc, lang), remedy=remedy, code=exc.code)
