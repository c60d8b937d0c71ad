"""The portal's cookies: the login session (HttpOnly, SameSite), the language, and CSRF tokens bound to them.

The session cookie holds the same bearer token the API issues at login (stored hashed on the server, ended
by logout, lockout or a password change). Every form carries a CSRF token derived from the cookie it is sent
with (the session, or before login a random one): a page of another site cannot read either cookie, so it
cannot forge the token (and SameSite keeps the cookies off its requests in the first place).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from starlette.requests import Request
from starlette.responses import Response

from yibao.core.errors import AppError

SESSION = "yb_session"
ANON = "yb_anon"
LANG = "yb_lang"
LANGS = ("zh", "en")


class CsrfFailed(AppError):
    """A form without the token of its session (an old page, or a page of another site)."""

    code = "web.csrf"
    http_status = 403


def session_token(request: Request) -> str | None:
    """The login token of this browser, if any."""
    token = request.cookies.get(SESSION)
    return token if token and len(token) <= 128 else None


def lang_of(request: Request) -> str:
    """The chosen language (Chinese unless English was chosen)."""
    lang = request.cookies.get(LANG)
    return lang if lang in LANGS else "zh"


def _base(request: Request) -> str:
    """What the CSRF token is bound to: the session, else this browser's random pre-login cookie."""
    token = session_token(request)
    if token:
        return token
    anon = request.cookies.get(ANON) or getattr(request.state, "new_anon", None)
    if not anon:
        anon = secrets.token_urlsafe(24)
        request.state.new_anon = anon  # set on the response by :func:`finish`
    return str(anon)


def csrf_token(request: Request) -> str:
    """The token every form of this page carries."""
    return hashlib.sha256(f"yibao-csrf:{_base(request)}".encode()).hexdigest()


def check_csrf(request: Request, sent: str | None) -> None:
    """Refuse a form whose token does not belong to this browser's cookies."""
    if not sent or not hmac.compare_digest(sent, csrf_token(request)):
        raise CsrfFailed(
            "页面已过期或来源不明，请刷新页面后重新提交",
            "the page expired or came from elsewhere: reload and submit again",
        )


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def finish(request: Request, response: Response) -> Response:
    """Set the pre-login cookie made while rendering (the CSRF token of a login form depends on it)."""
    anon = getattr(request.state, "new_anon", None)
    if anon:
        response.set_cookie(ANON, anon, httponly=True, samesite="lax", secure=_secure(request), path="/")
    return response


def start_session(request: Request, response: Response, token: str, max_age: int) -> None:
    """Keep the login token in an HttpOnly, SameSite cookie for as long as the session lasts."""
    response.set_cookie(
        SESSION, token, max_age=max_age, httponly=True, samesite="lax", secure=_secure(request), path="/"
    )


def end_session(response: Response) -> None:
    """Forget the login token."""
    response.delete_cookie(SESSION, path="/", httponly=True, samesite="lax")


def set_lang(request: Request, response: Response, lang: str) -> None:
    """Remember the chosen language for a year."""
    response.set_cookie(
        LANG, lang, max_age=365 * 86400, httponly=True, samesite="lax", secure=_secure(request), path="/"
    )
