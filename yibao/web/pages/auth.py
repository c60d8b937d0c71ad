"""登录、退出、语言: an insured person logs in with the ID number and password; the token goes into a cookie."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from yibao.api.deps import request_engine, request_info, run_in_db_thread
from yibao.core.auth import ANONYMOUS, act_as
from yibao.core.ratelimit import limits_of
from yibao.core.unit import unit_of_work
from yibao.web.domain import logins, tokens
from yibao.web.forms import blank, read_form
from yibao.web.render import page, redirect
from yibao.web.routing import act, page_router
from yibao.web.session import LANGS, end_session, lang_of, session_token, set_lang, start_session

router = page_router()
FIELDS = ("id_number", "password")


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path of this site only (never another site's address)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    """The login page (also the portal's front door, with the public calculator and questions)."""
    if session_token(request):
        return redirect(safe_next(next))
    return page(request, "login.html", form=blank(*FIELDS), next=safe_next(next))


@router.post("/login")
async def login(request: Request) -> Response:
    """Check the ID number and password (the same rules as the API: lockout, limits, audit)."""
    form = await read_form(request, *FIELDS)
    target = safe_next(form.get("next"))
    lang = lang_of(request)
    if not form.need(*FIELDS, lang=lang):
        return page(request, "login.html", 422, form=form, next=target)
    engine, info = request_engine(request), request_info(request)

    def attempt() -> logins.LoginResult:
        # Its own unit of work: a failed attempt is counted and audited although the login fails.
        with unit_of_work(engine, principal=ANONYMOUS) as session:
            act_as(session, ANONYMOUS, **info)
            return logins.attempt_login(
                session,
                kind="person",
                login=form.get("id_number"),
                password=form.get("password"),
                limits=limits_of(request.app.state),
            )

    result = await run_in_db_thread(request, attempt)
    if result.error is not None:
        codes = {"auth.wrong_credentials": "password"}
        form.refuse(result.error, lang, codes=codes)
        form.values.pop("password", None)  # never sent back
        return page(request, "login.html", result.error.http_status, form=form, next=target)
    assert result.token is not None
    response = redirect(target)
    start_session(request, response, result.token.token, logins.SESSION_HOURS * 3600)
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    """End the session on the server (the token is revoked), then forget the cookie."""
    await read_form(request)
    token = session_token(request)
    if token:
        await act(request, lambda s: tokens.logout(s, token))
    response = redirect("/login")
    end_session(response)
    return response


@router.get("/lang/{lang}")
def choose_language(request: Request, lang: str, next: str = "/") -> Response:
    """Switch between Chinese and English and come back."""
    response = redirect(safe_next(next))
    if lang in LANGS:
        set_lang(request, response, lang)
    return response
