"""``/api/auth``: log in and out, who am I, staff and client logins, passwords; ``/api/audit`` for auditors."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session

from yibao.api.deps import UnitOfWorkRoute, bearer_token, get_session, request_engine, request_info, run_in_db_thread
from yibao.core import audit
from yibao.core.auth import ANONYMOUS, act_as, needs
from yibao.core.errors import Unauthenticated
from yibao.core.ratelimit import limits_of
from yibao.core.unit import unit_of_work
from yibao.identity import logins, tokens
from yibao.identity.schemas import ClientIn, ClientOut, LoginIn, MeOut, PasswordIn, StaffIn, StaffOut, TokenOut

router = APIRouter(prefix="/api/auth", tags=["auth"], route_class=UnitOfWorkRoute)
audit_router = APIRouter(prefix="/api/audit", tags=["audit"], route_class=UnitOfWorkRoute)


@router.post("/login", response_model=TokenOut, summary="登录 / log in", openapi_extra=needs(logins.LOGIN))
async def login(body: LoginIn, request: Request) -> TokenOut:
    """Check the password; five wrong in a row lock the login for fifteen minutes."""
    engine, info = request_engine(request), request_info(request)

    def attempt() -> logins.LoginResult:
        # Its own unit of work: a failed attempt must be counted although the request fails.
        with unit_of_work(engine, principal=ANONYMOUS) as session:
            act_as(session, ANONYMOUS, **info)
            return logins.attempt_login(
                session,
                kind=body.kind,
                login=body.login,
                password=body.password,
                limits=limits_of(request.app.state),
            )

    result = await run_in_db_thread(request, attempt)
    if result.error is not None:
        raise result.error
    assert result.token is not None
    return result.token


@router.post("/logout", status_code=204, summary="退出登录 / log out", openapi_extra=needs(tokens.LOGOUT))
def logout(request: Request, session: Session = Depends(get_session)) -> None:
    """Revoke the token of this request."""
    token = bearer_token(request)
    if token is None:
        raise Unauthenticated("请先登录", "please log in first")
    tokens.logout(session, token)


@router.get("/me", response_model=MeOut, summary="当前登录身份 / who am I", openapi_extra=needs(tokens.WHOAMI))
def me(session: Session = Depends(get_session)) -> MeOut:
    """The logged-in caller."""
    return tokens.whoami(session)


@router.post(
    "/staff",
    response_model=StaffOut,
    status_code=201,
    summary="开设工作人员账号 / create a staff login",
    openapi_extra=needs(logins.CREATE_STAFF),
)
def create_staff(body: StaffIn, session: Session = Depends(get_session)) -> StaffOut:
    """Create a staff login in the administrator's region."""
    return logins.create_staff(session, **body.model_dump())


@router.post(
    "/clients",
    response_model=ClientOut,
    status_code=201,
    summary="开设定点机构或批处理接入 / create an institution or service login",
    openapi_extra=needs(logins.CREATE_CLIENT),
)
def create_client(body: ClientIn, session: Session = Depends(get_session)) -> ClientOut:
    """Create an institution or service with its API key (shown only in this answer)."""
    return logins.create_client(session, **body.model_dump())


@router.post(
    "/persons/{id_number}/password",
    status_code=204,
    summary="设置或修改参保人密码 / set a person's password",
    openapi_extra=needs(logins.SET_PASSWORD),
)
def set_password(id_number: str, body: PasswordIn, request: Request, session: Session = Depends(get_session)) -> None:
    """A person changes their own (with the current one), a clerk at the counter; other sessions end."""
    logins.set_person_password(
        session,
        id_number=id_number,
        new_password=body.new_password,
        current_password=body.current_password,
        keep_token=bearer_token(request),
    )


@audit_router.get(
    "", response_model=audit.AuditPageOut, summary="审计日志 / audit log", openapi_extra=needs(audit.AUDIT_READ)
)
def audit_log(
    actor: str | None = Query(default=None, max_length=64),
    subject: str | None = Query(default=None, max_length=18, description="身份证号 / ID number"),
    action: str | None = Query(default=None, max_length=48),
    outcome: str | None = Query(default=None, max_length=64),
    start: date | None = None,
    end: date | None = None,
    page: int = Query(default=1, ge=1, le=100_000),
    per_page: int = Query(default=50, ge=1, le=200),
    session: Session = Depends(get_session),
) -> audit.AuditPageOut:
    """Who did what to whom, newest first (auditors; their region, the province sees all)."""
    return audit.search(
        session,
        actor=actor,
        subject_id_number=subject,
        action=action,
        outcome=outcome,
        start=start,
        end=end,
        page=page,
        per_page=per_page,
    )
