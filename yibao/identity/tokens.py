"""Bearer tokens: issued at login or for a client system, stored only hashed, checked on every request."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from yibao.core import auth, clock
from yibao.core.auth import Principal, Role, Scope, Subject, rule
from yibao.core.db import DriverStatement
from yibao.core.errors import AppError, Unauthenticated
from yibao.core.ids import mask_id
from yibao.core.ratelimit import AuthLimits
from yibao.identity.models import AuthToken, Identity, TokenPurpose
from yibao.identity.schemas import MeOut
from yibao.people.models import Person
from yibao.people.persons import subject_of

SIGNED_IN: dict[Role, Scope] = {r: Scope.ANY for r in Role if r is not Role.ANONYMOUS}
WHOAMI = rule("auth.me", "当前登录身份 / who am I", writes=False, audited=False, roles=SIGNED_IN)
LOGOUT = rule("auth.logout", "退出登录 / log out", writes=True, audited=False, roles=SIGNED_IN)
TOKEN_CHECK = rule(
    "auth.token",
    "令牌校验 / check a bearer token",
    writes=False,
    roles=SIGNED_IN,  # whoever presents a token; audited when it is rejected
)

_INVALID_TOKEN = "auth.invalid_token"


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


def aware(t: datetime) -> datetime:
    """A stored instant as an aware one (SQLite gives them back naive, in UTC)."""
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def token_hash(token: str) -> str:
    """How a token is stored: never the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(
    session: Session, ident: Identity, purpose: TokenPurpose, lifetime: timedelta | None
) -> tuple[str, datetime | None]:
    """A new token for a login (shown once), and when it expires (never, without ``lifetime``)."""
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


def client_ip(session: Session) -> str | None:
    """The address the request came from, if it came over HTTP."""
    ip = (session.info.get("request") or {}).get("ip")
    return str(ip) if ip else None


def subject_of_login(session: Session, ident: Identity | None) -> Subject | None:
    """What an attempt with a login concerns, for the audit log (and its auditors' regions)."""
    if ident is None:
        return None
    if ident.person_id is not None:
        person = session.get(Person, ident.person_id)
        if person is not None:
            return subject_of(session, person)
    return Subject(regions=frozenset({ident.region}) if ident.region else frozenset())


# Built once: this runs on every authenticated request, so it selects plain columns (no ORM objects),
# compiled once and run the driver's short way (see DriverStatement).
_TOKEN_LOOKUP = DriverStatement(
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
    found = _TOKEN_LOOKUP.rows(session, {"token_hash": token_hash(token)})
    row = found[0] if found else None
    if row is None:
        reason = "unknown"
    elif row.revoked_at is not None:
        reason = "revoked"
    elif not row.active:
        reason = "inactive"
    elif row.role == Role.SYSTEM:
        reason = "system"  # the operator's full rights come only with the server's command line
    elif row.expires_at is not None and aware(row.expires_at) <= clock.now():
        reason = "expired"
    else:
        return principal_for(row)
    ident = session.get(Identity, row.id) if row is not None else None
    ip = client_ip(session)
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
    subject = subject_of_login(session, ident)
    auth.note_decision(session, who, auth.RULES[TOKEN_CHECK], subject, False, detail, outcome=outcome)


def end_sessions(session: Session, identity_id: int, *, keep: str | None = None) -> None:
    """Revoke a login's sessions (not client API keys), except the one whose token is ``keep``."""
    stmt = update(AuthToken).where(
        AuthToken.identity_id == identity_id,
        AuthToken.purpose == TokenPurpose.SESSION,
        AuthToken.revoked_at.is_(None),
    )
    if keep is not None:
        stmt = stmt.where(AuthToken.token_hash != token_hash(keep))
    session.execute(stmt.values(revoked_at=clock.now()).execution_options(synchronize_session=False))


def logout(session: Session, token: str) -> None:
    """Revoke the token in use."""
    auth.authorize(session, LOGOUT)
    session.execute(
        update(AuthToken)
        .where(AuthToken.token_hash == token_hash(token), AuthToken.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )


def whoami(session: Session) -> MeOut:
    """The caller, as shown to themselves."""
    p = auth.authorize(session, WHOAMI)
    return MeOut(
        role=p.role,
        name=p.name,
        login=mask_id(p.login) if p.role is Role.PERSON else p.login,
        region=p.region,
    )
