"""Logins: signing in with a password (lockout after failures, every attempt audited), creating staff and
client logins, and setting a person's password."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from yibao.core import auth, clock
from yibao.core.auth import Principal, Role, Scope, Subject, rule
from yibao.core.errors import AppError, Conflict, Unauthenticated, ValidationFailed
from yibao.core.ids import mask_id
from yibao.core.ratelimit import AuthLimits
from yibao.core.text import clean_name
from yibao.identity.models import Identity, LoginKind, TokenPurpose
from yibao.identity.passwords import check_password, hash_password, needs_rehash, verify_password
from yibao.identity.schemas import ClientOut, StaffOut, TokenOut
from yibao.identity.tokens import (
    RateLimited,
    aware,
    client_ip,
    end_sessions,
    issue_token,
    principal_for,
    subject_of_login,
)
from yibao.people.persons import get_person, subject_of
from yibao.people.regions import check_region

# Operational settings, not policy (assumed): five wrong passwords in a row lock the login for
# fifteen minutes; a login session lasts eight hours, a working day at the counter.
MAX_FAILURES = 5
LOCK_MINUTES = 15
SESSION_HOURS = 8

LOGIN = auth.public_rule("auth.login", "登录 / log in")
CREATE_STAFF = rule("auth.staff.create", "开设工作人员账号 / create a staff login", writes=True, admin=Scope.REGION)
CREATE_CLIENT = rule(
    "auth.clients.create",
    "开设定点机构或批处理接入 / create an institution or service",
    writes=True,
    admin=Scope.REGION,
)
SET_PASSWORD = rule(
    "auth.password.set",
    "设置或重置参保人密码 / set a person's password",
    writes=True,
    person=Scope.OWN,
    clerk=Scope.REGION,
)

# Logins that sign in with a password; institutions and services use their API keys.
PASSWORD_KINDS = (LoginKind.PERSON, LoginKind.STAFF)
CLIENT_KINDS = (LoginKind.INSTITUTION, LoginKind.SERVICE)


class Locked(AppError):
    """Too many wrong passwords in a row."""

    code = "auth.locked"
    http_status = 429
    exit_code = 6
    retry_after = 0


@dataclass(frozen=True, slots=True)
class LoginResult:
    """Either the token to answer with or the error to raise; failures must be committed before it is raised."""

    token: TokenOut | None
    error: AppError | None


_WRONG = Unauthenticated("账号或密码错误", "wrong login or password", code="auth.wrong_credentials")


def attempt_login(
    session: Session, *, kind: str, login: str, password: str, limits: AuthLimits | None = None
) -> LoginResult:
    """Check a password; count failures, lock after :data:`MAX_FAILURES` in a row; audit every attempt.

    With ``limits``, an address or a login with too many recent failures is refused before the check.
    """
    if kind not in PASSWORD_KINDS:
        raise ValidationFailed("kind", "登录类型应为 person 或 staff", "kind must be person or staff")
    if kind == LoginKind.PERSON:
        login = login.strip().upper()
    ident = session.scalar(select(Identity).where(Identity.kind == kind, Identity.login == login))
    ip, key = client_ip(session), f"{kind}:{login}"
    wait = limits.retry_after(ip, key) if limits is not None else None
    if wait is not None:
        result = LoginResult(None, RateLimited(wait))
    else:
        result = _check_password(session, ident, password)
        if result.error is not None and limits is not None:
            limits.record(ip, key)
    _audit_login(session, LoginKind(kind), login, ident, result)
    return result


def _check_password(session: Session, ident: Identity | None, password: str) -> LoginResult:
    now = clock.now()
    if ident is None or not ident.active or ident.password_hash is None:
        verify_password(None, password)  # as long as a real check
        return LoginResult(None, _WRONG)
    if ident.locked_until is not None and aware(ident.locked_until) > now:
        seconds = int((aware(ident.locked_until) - now).total_seconds()) + 1
        minutes = max(1, seconds // 60 + 1)
        locked = Locked(
            f"密码错误次数过多，账号已锁定，请{minutes}分钟后再试",
            f"too many wrong passwords: locked, try again in {minutes} minutes",
        )
        locked.retry_after = seconds
        return LoginResult(None, locked)
    if not verify_password(ident.password_hash, password):
        ident.failed_attempts += 1
        if ident.failed_attempts >= MAX_FAILURES:
            ident.locked_until = now + timedelta(minutes=LOCK_MINUTES)
            ident.failed_attempts = 0
            end_sessions(session, ident.id)  # whoever is guessing may already hold a session
        session.flush()
        return LoginResult(None, _WRONG)
    ident.failed_attempts = 0
    ident.locked_until = None
    if needs_rehash(ident.password_hash):
        ident.password_hash = hash_password(password)
    token, expires = issue_token(session, ident, TokenPurpose.SESSION, timedelta(hours=SESSION_HOURS))
    answer = TokenOut(
        token=token,
        expires_at=expires.isoformat(timespec="seconds") if expires else None,
        role=Role(ident.role),
        name=ident.name,
    )
    return LoginResult(answer, None)


def _audit_login(session: Session, kind: LoginKind, login: str, ident: Identity | None, result: LoginResult) -> None:
    """Every login attempt goes to the audit log; a person's login (their ID number) only masked."""
    if result.error is None and ident is not None:
        who = principal_for(ident)
    else:
        who = Principal(Role.ANONYMOUS, mask_id(login) if kind is LoginKind.PERSON else login[:64], "")
    outcome = "ok" if result.error is None else f"failed:{result.error.code}"
    subject = subject_of_login(session, ident)
    auth.note_decision(session, who, auth.RULES[LOGIN], subject, result.error is None, {"kind": kind}, outcome=outcome)


def _creator(session: Session) -> str:
    p = auth.principal_of(session)
    return p.login if p else "unknown"


def create_staff(session: Session, *, username: str, name: str, role: str, region: str, password: str) -> StaffOut:
    """An agency staff login (administrators create them, in their own region)."""
    if role not in auth.STAFF_ROLES:
        raise ValidationFailed("role", "岗位应为 clerk、appraiser、finance、auditor 或 admin", "unknown staff role")
    check_region(region)
    auth.authorize(session, CREATE_STAFF, Subject(regions=frozenset({region})), username=username, role=role)
    if not re.fullmatch(r"[a-z][a-z0-9_.-]{2,31}", username):
        raise ValidationFailed("username", "用户名为3至32位小写字母、数字或 ._-", "username: 3-32 of a-z 0-9 . _ -")
    _unique(session, LoginKind.STAFF, username)
    ident = Identity(
        kind=LoginKind.STAFF,
        login=username,
        name=clean_name(name) if name.strip() else username,
        role=Role(role),
        region=region,
        password_hash=hash_password(check_password(password)),
        failed_attempts=0,
        active=True,
        created_at=clock.now(),
        created_by=_creator(session),
    )
    session.add(ident)
    session.flush()
    return StaffOut(username=ident.login, name=ident.name, role=Role(ident.role), region=ident.region)


def create_client(session: Session, *, kind: str, code: str, name: str, region: str) -> ClientOut:
    """A designated institution or a batch service, with its API key (shown once, stored hashed)."""
    if kind not in CLIENT_KINDS:
        raise ValidationFailed("kind", "类型应为 institution 或 service", "kind must be institution or service")
    check_region(region)
    auth.authorize(session, CREATE_CLIENT, Subject(regions=frozenset({region})), code=code, kind=kind)
    if not re.fullmatch(r"[A-Za-z0-9_.-]{3,32}", code):
        raise ValidationFailed("code", "编码为3至32位字母、数字或 ._-", "code: 3-32 of A-Z a-z 0-9 . _ -")
    client = LoginKind(kind)
    _unique(session, client, code)
    ident = Identity(
        kind=client,
        login=code,
        name=clean_name(name) if name.strip() else code,
        role=Role(kind),  # an institution's or a service's role is its kind
        region=region,
        failed_attempts=0,
        active=True,
        created_at=clock.now(),
        created_by=_creator(session),
    )
    session.add(ident)
    session.flush()
    token, _ = issue_token(session, ident, TokenPurpose.API, None)
    return ClientOut(code=ident.login, name=ident.name, kind=client, region=ident.region, api_key=token)


def _unique(session: Session, kind: LoginKind, login: str) -> None:
    if session.scalar(select(Identity.id).where(Identity.kind == kind, Identity.login == login)) is not None:
        raise Conflict("该账号已存在", "this login already exists", code="auth.login_exists")


def set_person_password(
    session: Session,
    *,
    id_number: str,
    new_password: str,
    current_password: str | None = None,
    keep_token: str | None = None,
) -> None:
    """A person changes their password (with the current one), or a clerk sets it at the counter.

    Every other session of the login ends: a person changing it keeps only the session they changed it
    in (``keep_token``); a reset at the counter ends them all.
    """
    person = get_person(session, id_number)
    p = auth.authorize(session, SET_PASSWORD, subject_of(session, person))
    check_password(new_password)
    ident = session.scalar(select(Identity).where(Identity.kind == LoginKind.PERSON, Identity.person_id == person.id))
    if p.role is Role.PERSON and (ident is None or not verify_password(ident.password_hash, current_password or "")):
        raise ValidationFailed("current_password", "当前密码不正确", "the current password is wrong")
    if ident is None:
        ident = Identity(
            kind=LoginKind.PERSON,
            login=person.id_number,
            name=person.name,
            role=Role.PERSON,
            person_id=person.id,
            failed_attempts=0,
            active=True,
            created_at=clock.now(),
            created_by=_creator(session),
        )
        session.add(ident)
    ident.password_hash = hash_password(new_password)
    ident.failed_attempts = 0
    ident.locked_until = None
    session.flush()
    end_sessions(session, ident.id, keep=keep_token if p.role is Role.PERSON else None)


def institution_login(session: Session, *, code: str, name: str, region: str) -> Identity:
    """The login of a designated institution: the existing one of that code (its API keys keep working), or a new one.

    The caller (registering the institution) has authorised the registration; a new login gets no API key
    here (``yibao auth create-client`` issues keys for logins it creates).
    """
    ident = session.scalar(select(Identity).where(Identity.kind == "institution", Identity.login == code))
    if ident is None:
        ident = Identity(
            kind="institution",
            login=code,
            name=clean_name(name),
            role=Role.INSTITUTION.value,
            region=region,
            failed_attempts=0,
            active=True,
            created_at=clock.now(),
            created_by=_creator(session),
        )
        session.add(ident)
        session.flush()
    return ident
