"""Who sent a message: the ``x-tif-*`` headers, the signature, the clock window and the nonce store.

``x-tif-paasid`` names the institution's app account; ``x-tif-timestamp`` is Unix seconds (13 digits are read
as milliseconds); ``x-tif-nonce`` is 1-64 printable ASCII characters, never reused by the same paasid within
the window; ``x-tif-signature`` is the hex SHA-256 of ``timestamp + secret + nonce + timestamp``, compared
case-insensitively in constant time. Headers are looked up case-insensitively. A timestamp more than
:data:`WINDOW_SECONDS` from the server clock, a reused nonce, an unknown paasid or a wrong signature raises
:class:`~yibao.nhsa.errors.SignatureError` (HTTP 401).

On PostgreSQL the institution is read and the nonce claimed in one statement (one round trip); the claim
belongs to the message's transaction, so a message whose signature is wrong leaves no nonce behind.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, select, text
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from yibao.core.db import DriverStatement
from yibao.institutions import secrets
from yibao.institutions.models import Institution, InstitutionKind, InstitutionStatus, InstitutionView
from yibao.nhsa.errors import SignatureError
from yibao.nhsa.models import SeenNonce

WINDOW_SECONDS = 300
# Nonces older than this are forgotten: their timestamps are outside the window anyway (assumed margin: 2x).
NONCE_KEEP_SECONDS = 2 * WINDOW_SECONDS
_NONCE = re.compile(r"[\x21-\x7e]{1,64}")
_PAASID = re.compile(r"[\x21-\x7e]{1,64}")


@dataclass(frozen=True, slots=True)
class Signed:
    """The signature headers of a message, as sent."""

    paasid: str
    timestamp: str
    nonce: str
    signature: str


def sign(timestamp: str, secret: str, nonce: str) -> str:
    """The signature of the convention: hex SHA-256 of ``timestamp + secret + nonce + timestamp``."""
    return hashlib.sha256(f"{timestamp}{secret}{nonce}{timestamp}".encode()).hexdigest()


def read_headers(headers: Mapping[str, str]) -> Signed:
    """The four ``x-tif-*`` headers (any case), present and well-formed, or SignatureError naming the one at fault."""
    lower = {k.lower(): v for k, v in headers.items()}

    def need(name: str) -> str:
        value = (lower.get(name) or "").strip()
        if not value:
            raise SignatureError(f"{name}: 缺少请求头", code="nhsa.signature.missing")
        return value

    paasid = need("x-tif-paasid")
    if not _PAASID.fullmatch(paasid):
        raise SignatureError("x-tif-paasid: 格式不正确", code="nhsa.signature.paasid")
    timestamp = need("x-tif-timestamp")
    if not re.fullmatch(r"[0-9]{1,13}", timestamp):
        raise SignatureError("x-tif-timestamp: 应为Unix时间戳（秒）", code="nhsa.signature.timestamp")
    nonce = need("x-tif-nonce")
    if not _NONCE.fullmatch(nonce):
        raise SignatureError("x-tif-nonce: 应为1至64个可见ASCII字符", code="nhsa.signature.nonce")
    signature = need("x-tif-signature")
    if not re.fullmatch(r"[0-9A-Fa-f]{64}", signature):
        raise SignatureError("x-tif-signature: 应为64位十六进制SHA-256摘要", code="nhsa.signature.bad")
    return Signed(paasid, timestamp, nonce, signature)


def check_time(timestamp: str, now: datetime) -> None:
    """Refuse a timestamp more than :data:`WINDOW_SECONDS` away from the server clock."""
    seconds = int(timestamp)
    if len(timestamp) == 13:
        seconds //= 1000  # milliseconds, as some clients send
    if abs(seconds - now.timestamp()) > WINDOW_SECONDS:
        raise SignatureError(
            f"x-tif-timestamp: 时间戳与服务器时间相差超过{WINDOW_SECONDS}秒，请校准时钟后重发",
            code="nhsa.signature.expired",
        )


_COLUMNS = (
    Institution.id,
    Institution.code,
    Institution.name,
    Institution.kind,
    Institution.level,
    Institution.region,
    Institution.paasid,
    Institution.identity_id,
    Institution.infcode_string,
    Institution.status,
    Institution.designated_from,
    Institution.designated_until,
    Institution.secret_sealed,
)
_BY_PAASID = select(*_COLUMNS).where(Institution.paasid == bindparam("paasid"))

# PostgreSQL: the institution and the nonce claim in one round trip (the claim only for a known paasid).
_PG_LOOKUP_AND_CLAIM = DriverStatement(
    text(
        """
    WITH inst AS (
        SELECT id, code, name, kind, level, region, paasid, identity_id, infcode_string, status,
               designated_from, designated_until, secret_sealed
        FROM institutions WHERE paasid = :paasid
    ), claimed AS (
        INSERT INTO nhsa_nonces (paasid, nonce, seen_at)
        SELECT :paasid, :nonce, :now WHERE EXISTS (SELECT 1 FROM inst)
        ON CONFLICT DO NOTHING
        RETURNING 1
    )
    SELECT inst.*, EXISTS (SELECT 1 FROM claimed) AS fresh FROM inst
    """
    )
)


def _as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _view(row: Any) -> InstitutionView:
    return InstitutionView(
        id=row.id,
        code=row.code,
        name=row.name,
        kind=InstitutionKind(row.kind),
        level=row.level,
        region=row.region,
        paasid=row.paasid,
        identity_id=row.identity_id,
        infcode_string=bool(row.infcode_string),
        status=InstitutionStatus(row.status),
        designated_from=_as_date(row.designated_from) or date.min,
        designated_until=_as_date(row.designated_until),
    )


def lookup_and_claim(session: Session, signed: Signed, now: datetime) -> tuple[InstitutionView, str, bool] | None:
    """The paasid's institution, its sealed secret, and whether the nonce was fresh (claimed now); None if unknown."""
    params = {"paasid": signed.paasid, "nonce": signed.nonce, "now": now}
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        rows = _PG_LOOKUP_AND_CLAIM.rows(session, params)
        if not rows:
            return None
        return _view(rows[0]), rows[0].secret_sealed, bool(rows[0].fresh)
    row = conn.execute(_BY_PAASID, params).first()
    if row is None:
        return None
    claim = sqlite_insert(SeenNonce).values(paasid=signed.paasid, nonce=signed.nonce, seen_at=now)
    fresh = conn.execute(claim.on_conflict_do_nothing()).rowcount == 1
    return _view(row), row.secret_sealed, fresh


def verify(session: Session, signed: Signed, now: datetime) -> InstitutionView:
    """The institution that signed the message, its nonce claimed; SignatureError naming what is wrong."""
    check_time(signed.timestamp, now)
    found = lookup_and_claim(session, signed, now)
    if found is None:
        raise SignatureError(f"x-tif-paasid: 未登记的接入账号 {signed.paasid}", code="nhsa.signature.paasid")
    institution, sealed, fresh = found
    secret = secrets.opened(sealed, institution.code)
    if not hmac.compare_digest(sign(signed.timestamp, secret, signed.nonce), signed.signature.lower()):
        raise SignatureError("x-tif-signature: 签名不正确", code="nhsa.signature.bad")
    if not fresh:
        raise SignatureError("x-tif-nonce: 随机串已使用，请勿重放报文", code="nhsa.signature.replay")
    return institution


def forget_old_nonces(session: Session, now: datetime) -> int:
    """Delete nonces whose timestamps can no longer pass the window; how many went."""
    cutoff = now - timedelta(seconds=NONCE_KEEP_SECONDS)
    result = session.execute(delete(SeenNonce).where(SeenNonce.seen_at < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)
