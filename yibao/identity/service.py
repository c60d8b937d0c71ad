"""Logging in and out, tokens, staff and client accounts, passwords (argon2id), lockout after failures."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from yibao.core import auth, clock
from yibao.core.auth import Principal, Role, Scope, Subject, rule
from yibao.core.errors import AppError, Conflict, Unauthenticated, ValidationFailed
from yibao.core.ids import mask_id
from yibao.core.ratelimit import AuthLimits
from yibao.core.text import clean_name
from yibao.identity.models import AuthToken, Identity
from yibao.people import service as people
from yibao.people.models import Person
from yibao.people.regions import check_region

# Operational settings, not policy (assumed): five wrong passwords in a row lock the login for
# fifteen minutes; a login session lasts eight hours, a working day at the counter.
MAX_FAILURES = 5
LOCK_MINUTES = 15
SESSION_HOURS = 8

_hasher = PasswordHasher()  # argon2id with the library's (RFC 9106) parameters
# Verified against when the login does not exist, so that a wrong name takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not a password of anyone")

LOGIN = auth.public_rule("auth.login", "登录 / log in")
_SIGNED_IN: dict[Role, Scope] = {r: Scope.ANY for r in Role if r is not Role.ANONYMOUS}
WHOAMI = rule(
    "auth.me",
    "当前登录身份 / who am I",
    writes=False,
    audited=False,
    roles=_SIGNED_IN,
)
LOGOUT = rule(
    "auth.logout",
    "退出登录 / log out",
    writes=True,
    audited=False,
    roles=_SIGNED_IN,
)
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


TOKEN_CHECK = rule(
    "auth.token",
    "令牌校验 / check a bearer token",
    writes=False,
    roles=_SIGNED_IN,  # whoever presents a token; audited when it is rejected
)


class Locked(AppError):
    """Too many wrong passwords in a row."""

    code = "auth.locked"
    http_status = 429
    exit_code = 6
    retry_after = 0


class RateLimited(AppError):
    """Too many failed logins or rejected tokens just now, from this address or for this login."""

    code = "auth.rate_limited"
    http_status = 429
    exit_code = 6

    def __init__(self, seconds: int) -> None:
        super().__init__(
            f"失败次数过多，请{seconds}秒后再试", f"too many failed attempts: try again in {seconds} seconds"
        )
        self.retry_after = seconds


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def token_hash(token: str) -> str:
    """How a token is stored: never the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()


def check_password(password: str) -> str:
    """At least 8 characters with letters and digits (assumed rule), at most 128."""
    if not 8 <= len(password) <= 128 or not re.search(r"[A-Za-z]", password) or not re.search(r"\d", password):
        raise ValidationFailed(
            "password",
            "密码须为8至128位，并同时包含字母和数字",
            "password: 8 to 128 characters with letters and digits",
        )
    return password


class _IdentityFields(Protocol):
    """What a principal is made of: an identity row, or the token lookup's plain columns."""

    role: str
    login: str
    name: str
    id: int
    person_id: int | None
    region: str | None


def principal_for(identity: Identity | _IdentityFields) -> Principal:
    """The caller an identity stands for."""
    return Principal(
        role=Role(identity.role),
        login=identity.login,
        name=identity.name,
        identity_id=identity.id,
        person_id=identity.person_id,
        region=identity.region,
    )


@dataclass(frozen=True, slots=True)
class LoginResult:
    """Either a token or the error to show; failures must be committed before the error is raised."""

    token: str | None
    expires_at: datetime | None
    principal: Principal | None
    error: AppError | None


_INVALID_TOKEN = "auth.invalid_token"
_WRONG = Unauthenticated("账号或密码错误", "wrong login or password", code="auth.wrong_credentials")


def attempt_login(
    session: Session, *, kind: str, login: str, password: str, limits: AuthLimits | None = None
) -> LoginResult:
    """Check a password; count failures, lock after :data:`MAX_FAILURES` in a row; audit every attempt.

    With ``limits``, an address or a login with too many recent failures is refused before the check.
    """
    if kind not in ("person", "staff"):
        raise ValidationFailed("kind", "登录类型应为 person 或 staff", "kind must be person or staff")
    if kind == "person":
        login = login.strip().upper()
    ident = session.scalar(select(Identity).where(Identity.kind == kind, Identity.login == login))
    ip, key = _ip(session), f"{kind}:{login}"
    wait = limits.retry_after(ip, key) if limits is not None else None
    if wait is not None:
        result = LoginResult(None, None, None, RateLimited(wait))
    else:
        result = _check_password(session, ident, password)
        if result.error is not None and limits is not None:
            limits.record(ip, key)
    _audit_login(session, kind, login, ident, result)
    return result


def _check_password(session: Session, ident: Identity | None, password: str) -> LoginResult:
    now = clock.now()
    if ident is None or not ident.active or ident.password_hash is None:
        _verify(_DUMMY_HASH, password)
        return LoginResult(None, None, None, _WRONG)
    if ident.locked_until is not None and _aware(ident.locked_until) > now:
        seconds = int((_aware(ident.locked_until) - now).total_seconds()) + 1
        minutes = max(1, seconds // 60 + 1)
        locked = Locked(
            f"密码错误次数过多，账号已锁定，请{minutes}分钟后再试",
            f"too many wrong passwords: locked, try again in {minutes} minutes",
        )
        locked.retry_after = seconds
        return LoginResult(None, None, None, locked)
    if not _verify(ident.password_hash, password):
        ident.failed_attempts += 1
        if ident.failed_attempts >= MAX_FAILURES:
            ident.locked_until = now + timedelta(minutes=LOCK_MINUTES)
            ident.failed_attempts = 0
            end_sessions(session, ident.id)  # whoever is guessing may already hold a session
        session.flush()
        return LoginResult(None, None, None, _WRONG)
    ident.failed_attempts = 0
    ident.locked_until = None
    if _hasher.check_needs_rehash(ident.password_hash):
        ident.password_hash = _hasher.hash(password)
    token, expires = _issue(session, ident, "session", timedelta(hours=SESSION_HOURS))
    return LoginResult(token, expires, principal_for(ident), None)


def _ip(session: Session) -> str | None:
    ip = (session.info.get("request") or {}).get("ip")
    return str(ip) if ip else None


def _subject(session: Session, ident: Identity | None) -> Subject | None:
    """What an attempt concerns, for the audit log (and its auditors' regions)."""
    if ident is None:
        return None
    if ident.person_id is not None:
        person = session.get(Person, ident.person_id)
        if person is not None:
            return people.subject_of(session, person)
    return Subject(regions=frozenset({ident.region}) if ident.region else frozenset())


def _audit_login(session: Session, kind: str, login: str, ident: Identity | None, result: LoginResult) -> None:
    """Every login attempt goes to the audit log; a person's login (their ID number) only masked."""
    if result.error is None and ident is not None:
        who = principal_for(ident)
    else:
        who = Principal(Role.ANONYMOUS, mask_id(login) if kind == "person" else login[:64], "")
    outcome = "ok" if result.error is None else f"failed:{result.error.code}"
    auth.note_decision(
        session, who, auth.RULES[LOGIN], _subject(session, ident), result.error is None, {"kind": kind}, outcome=outcome
    )


def end_sessions(session: Session, identity_id: int, *, keep: str | None = None) -> None:
    """Revoke a login's sessions (not client API keys), except the one whose token is ``keep``."""
    stmt = update(AuthToken).where(
        AuthToken.identity_id == identity_id, AuthToken.purpose == "session", AuthToken.revoked_at.is_(None)
    )
    if keep is not None:
        stmt = stmt.where(AuthToken.token_hash != token_hash(keep))
    session.execute(stmt.values(revoked_at=clock.now()).execution_options(synchronize_session=False))


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def _issue(session: Session, ident: Identity, purpose: str, lifetime: timedelta | None) -> tuple[str, datetime | None]:
    token = secrets.token_urlsafe(32)
    now = clock.now()
    expires = now + lifetime if lifetime else None
    session.add(
        AuthToken(
            token_hash=token_hash(token), identity_id=ident.id, purpose=purpose, issued_at=now, expires_at=expires
        )
    )
    session.flush()
    return token, expires


# Built once: this runs on every authenticated request, so it selects plain columns (no ORM objects)
# through one statement object whose compiled form SQLAlchemy caches.
_TOKEN_LOOKUP = (
    select(
        AuthToken.revoked_at,
        AuthToken.expires_at,
        Identity.active,
        Identity.role,
        Identity.login,
        Identity.name,
        Identity.id,
        Identity.person_id,
        Identity.region,
    )
    .join(Identity, Identity.id == AuthToken.identity_id)
    .where(AuthToken.token_hash == bindparam("token_hash"))
)


def principal_from_token(session: Session, token: str, limits: AuthLimits | None = None) -> Principal:
    """The caller a bearer token belongs to, or :class:`Unauthenticated` (audited, and counted in ``limits``).

    A valid token always passes: an address over its limit (an office behind one address, one client
    polling with a stale token) gets 429 for rejected tokens only, so the others there keep working.
    """
    row = session.connection().execute(_TOKEN_LOOKUP, {"token_hash": token_hash(token)}).first()
    if row is None:
        reason = "unknown"
    elif row.revoked_at is not None:
        reason = "revoked"
    elif not row.active:
        reason = "inactive"
    elif row.role == Role.SYSTEM.value:
        reason = "system"  # the operator's full rights come only with the server's command line
    elif row.expires_at is not None and _aware(row.expires_at) <= clock.now():
        reason = "expired"
    else:
        return principal_for(row)
    ident = session.get(Identity, row.id) if row is not None else None
    ip = _ip(session)
    wait = limits.retry_after(ip) if limits is not None else None
    if wait is not None:
        _audit_token(session, token, ident, reason, "failed:auth.rate_limited")
        raise RateLimited(wait)
    if limits is not None:
        limits.record(ip)
    _audit_token(session, token, ident, reason, f"failed:{_INVALID_TOKEN}")
    raise Unauthenticated("登录已失效，请重新登录", "the token is invalid or expired", code=_INVALID_TOKEN)


def _audit_token(session: Session, token: str, ident: Identity | None, reason: str, outcome: str) -> None:
    """A rejected token in the audit log: whose it was if known, why, and a short fingerprint (never the token)."""
    who = principal_for(ident) if ident is not None else None
    detail = {"reason": reason, "token": token_hash(token)[:12]}
    auth.note_decision(session, who, auth.RULES[TOKEN_CHECK], _subject(session, ident), False, detail, outcome=outcome)


def logout(session: Session, token: str) -> None:
    """Revoke the token in use."""
    auth.authorize(session, LOGOUT)
    session.execute(
        update(AuthToken)
        .where(AuthToken.token_hash == token_hash(token), AuthToken.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )


def whoami(session: Session) -> dict[str, Any]:
    """The caller, as shown to themselves."""
    p = auth.authorize(session, WHOAMI)
    return {
        "role": p.role.value,
        "name": p.name,
        "login": mask_id(p.login) if p.role is Role.PERSON else p.login,
        "region": p.region,
    }


def _actor(session: Session) -> str:
    p = auth.principal_of(session)
    return p.login if p else "unknown"


def create_staff(session: Session, *, username: str, name: str, role: str, region: str, password: str) -> Identity:
    """An agency staff login (administrators create them, in their own region)."""
    if role not in {r.value for r in auth.STAFF_ROLES}:
        raise ValidationFailed("role", "岗位应为 clerk、appraiser、finance、auditor 或 admin", "unknown staff role")
    check_region(region)
    auth.authorize(session, CREATE_STAFF, Subject(regions=frozenset({region})), username=username, role=role)
    if not re.fullmatch(r"[a-z][a-z0-9_.-]{2,31}", username):
        raise ValidationFailed("username", "用户名为3至32位小写字母、数字或 ._-", "username: 3-32 of a-z 0-9 . _ -")
    _unique(session, "staff", username)
    ident = Identity(
        kind="staff",
        login=username,
        name=clean_name(name) if name.strip() else username,
        role=role,
        region=region,
        password_hash=_hasher.hash(check_password(password)),
        failed_attempts=0,
        active=True,
        created_at=clock.now(),
        created_by=_actor(session),
    )
    session.add(ident)
    session.flush()
    return ident


def create_client(session: Session, *, kind: str, code: str, name: str, region: str) -> tuple[Identity, str]:
    """A designated institution or a batch service, with its API key (shown once, stored hashed)."""
    if kind not in ("institution", "service"):
        raise ValidationFailed("kind", "类型应为 institution 或 service", "kind must be institution or service")
    check_region(region)
    auth.authorize(session, CREATE_CLIENT, Subject(regions=frozenset({region})), code=code, kind=kind)
    if not re.fullmatch(r"[A-Za-z0-9_.-]{3,32}", code):
        raise ValidationFailed("code", "编码为3至32位字母、数字或 ._-", "code: 3-32 of A-Z a-z 0-9 . _ -")
    _unique(session, kind, code)
    ident = Identity(
        kind=kind,
        login=code,
        name=clean_name(name) if name.strip() else code,
        role=kind,
        region=region,
        failed_attempts=0,
        active=True,
        created_at=clock.now(),
        created_by=_actor(session),
    )
    session.add(ident)
    session.flush()
    token, _ = _issue(session, ident, "api", None)
    return ident, token


def _unique(session: Session, kind: str, login: str) -> None:
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
    person = people.get_person(session, id_number)
    p = auth.authorize(session, SET_PASSWORD, people.subject_of(session, person))
    check_password(new_password)
    ident = session.scalar(select(Identity).where(Identity.kind == "person", Identity.person_id == person.id))
    if p.role is Role.PERSON and (
        ident is None or ident.password_hash is None or not _verify(ident.password_hash, current_password or "")
    ):
        raise ValidationFailed("current_password", "当前密码不正确", "the current password is wrong")
    if ident is None:
        ident = Identity(
            kind="person",
            login=person.id_number,
            name=person.name,
            role=Role.PERSON.value,
            person_id=person.id,
            failed_attempts=0,
            active=True,
            created_at=clock.now(),
            created_by=_actor(session),
        )
        session.add(ident)
    ident.password_hash = _hasher.hash(new_password)
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
            created_by=_actor(session),
        )
        session.add(ident)
        session.flush()
    return ident
