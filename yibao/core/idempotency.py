"""One idempotency store: (caller's namespace, key) → request hash → the first answer.

Every request that moves money carries a key chosen by its sender (REST ``Idempotency-Key``, the national
interface's ``msgid``). The first request with a key does the work and stores its answer in the same
transaction; a later request with the same key and the same body gets that answer again and changes
nothing; the same key with another body is refused. The namespace is the *authenticated* caller (plus the
source system it names within itself), so one institution can never block or read another's keys.

A retry that arrives while the first request is still in flight waits for it: the first request claims
the key (inserts its row) before doing the work, so the retry's own claim waits on the unique key until
the first commits (then the retry answers as it did) or rolls back (then the retry does the work), never
with a different final answer. Where PostgreSQL's ``lock_timeout`` is set, a wait longer than that is
answered 409 "in progress" with ``Retry-After``.
"""

from __future__ import annotations

import hashlib
import json
import weakref
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, DateTime, Engine, String, Text, bindparam, event, insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Mapped, Session, mapped_column

from yibao.core import clock
from yibao.core.auth import Principal, Role
from yibao.core.db import Base, DriverStatement
from yibao.core.errors import Conflict, ValidationFailed

MAX_KEY = 128
MAX_NAMESPACE = 64


class IdempotencyRecord(Base):
    """A request already answered: the same key and body get the same answer."""

    # The table was the ledger's first; its name stays, so that deployments keep their keys.
    __tablename__ = "ledger_idempotency"

    source: Mapped[str] = mapped_column(String(MAX_NAMESPACE), primary_key=True)  # the caller's namespace
    key: Mapped[str] = mapped_column(String(MAX_KEY), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    response: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def request_hash(body: dict[str, Any]) -> str:
    """A stable hash of a request body (key order and spacing do not matter)."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def namespace(caller: Principal | None, source: str | None = None) -> str:
    """The key space of an authenticated caller, and of a source system it names within itself."""
    if caller is None:
        raise ValidationFailed("caller", "未登录", "no caller")
    who = f"{caller.role.value}:{caller.identity_id if caller.identity_id is not None else caller.login}"
    if caller.role is Role.SYSTEM:
        who = "system"
    space = f"{who}/{source}" if source else who
    if len(space) > MAX_NAMESPACE:
        raise ValidationFailed("X-Source-System", "来源系统名称过长", "source system name too long")
    return space


def check_key(key: str | None) -> str:
    """An idempotency key as given, or 422 naming it."""
    if not key or len(key) > MAX_KEY or not key.isprintable() or not key.isascii():
        raise ValidationFailed(
            "Idempotency-Key",
            f"须提供幂等键（1至{MAX_KEY}个可见ASCII字符），重试时保持不变",
            f"an idempotency key of 1 to {MAX_KEY} printable ASCII characters is required",
        )
    return key


class KeyReused(Conflict):
    """The key was used for a different request."""

    code = "idempotency.key_reused"


class InProgress(Conflict):
    """A request with this key is still being processed."""

    code = "idempotency.in_progress"
    retry_after = 1


def key_reused() -> KeyReused:
    """The refusal of a key used for another request."""
    return KeyReused("该幂等键已用于另一笔不同的请求", "this idempotency key was used for a different request")


def once(
    session: Session, *, space: str, key: str, body: dict[str, Any], run: Callable[[], dict[str, Any]]
) -> dict[str, Any]:
    """Run ``run`` once per (space, key); the same body again gets the first answer, another body 409."""
    check_key(key)
    digest = request_hash(body)
    lookup = select(IdempotencyRecord.request_hash, IdempotencyRecord.response).where(
        IdempotencyRecord.source == space, IdempotencyRecord.key == key
    )
    found = session.execute(lookup).first()
    if found is None:
        try:
            # One savepoint for the claim and the work: a refusal by ``run`` takes the claim back with it.
            with session.begin_nested():
                # Claim the key before the work: a concurrent retry now waits for this request's outcome.
                session.execute(
                    insert(IdempotencyRecord).values(
                        source=space, key=key, request_hash=digest, response="", created_at=clock.now()
                    )
                )
                answer = run()
                session.execute(
                    update(IdempotencyRecord)
                    .where(IdempotencyRecord.source == space, IdempotencyRecord.key == key)
                    .values(response=json.dumps(answer, ensure_ascii=False))
                )
                return answer
        except IntegrityError:
            found = session.execute(lookup).first()  # the other request has committed by now
            if found is None:
                raise
        except OperationalError as exc:
            if getattr(exc.orig, "sqlstate", None) == "55P03":  # lock_not_available: still in flight
                raise InProgress("该请求正在处理中，请稍后重试", "a request with this key is in progress") from None
            raise
    if found.request_hash != digest:
        raise key_reused()
    replayed: dict[str, Any] = json.loads(found.response)
    return replayed


_CLAIMS: dict[str, Any] = {}


def _claim_statement(session: Session) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING RETURNING key`` of a record, in the session's dialect (built once).

    RETURNING says whether the row went in (the drivers' rowcount is not reliable for this statement).
    """
    name = session.get_bind().dialect.name
    stmt = _CLAIMS.get(name)
    if stmt is None:
        from sqlalchemy import bindparam
        from sqlalchemy.dialects import postgresql, sqlite

        dialect = postgresql if name == "postgresql" else sqlite
        columns = ("source", "key", "request_hash", "response", "created_at")
        stmt = (
            dialect.insert(IdempotencyRecord)
            .values({c: bindparam(c) for c in columns})
            .on_conflict_do_nothing()
            .returning(IdempotencyRecord.key)
        )
        _CLAIMS[name] = stmt
    return stmt


def _claimed(session: Session, values: dict[str, Any]) -> bool:
    """Insert the record unless its key exists; whether it went in (every national-interface message does this)."""
    name = session.get_bind().dialect.name
    stmt = _DRIVER_CLAIMS.get(name)
    if stmt is None:
        stmt = _DRIVER_CLAIMS[name] = DriverStatement(_claim_statement(session))
    return bool(stmt.rows(session, values))


_DRIVER_CLAIMS: dict[str, DriverStatement] = {}


class ReaderWrote(RuntimeError):
    """A request declared as only reading wrote to the database (a programming error)."""


_READING = "yibao.reading"
_GUARDED: weakref.WeakSet[Engine] = weakref.WeakSet()


def _reader_guard(conn: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
    if conn.info.get(_READING) and statement.lstrip()[:6].upper() in ("INSERT", "UPDATE", "DELETE"):
        raise ReaderWrote(f"a request declared as reading wrote: {statement[:60]}")


def _reading(session: Session, run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run ``run``, refusing any statement that writes: a resent read runs again, so it must change nothing.

    The guard listens on the engine, once, and acts while the connection is marked as reading (adding and
    removing a listener on every message cost more than the check itself).
    """
    conn = session.connection()
    if conn.engine not in _GUARDED:
        event.listen(conn.engine, "before_cursor_execute", _reader_guard)
        _GUARDED.add(conn.engine)
    conn.info[_READING] = True
    try:
        return run()
    finally:
        conn.info.pop(_READING, None)


# Built once: every national-interface message runs these (plain columns: the driver's way on PostgreSQL).
_FIRST_ANSWER = select(IdempotencyRecord.request_hash, IdempotencyRecord.response).where(
    IdempotencyRecord.source == bindparam("in_space"), IdempotencyRecord.key == bindparam("of_key")
)
_STORE_ANSWER = DriverStatement(
    update(IdempotencyRecord)
    .where(IdempotencyRecord.source == bindparam("in_space"), IdempotencyRecord.key == bindparam("of_key"))
    .values(response=bindparam("answer"))
)


def once_in_unit(
    session: Session,
    *,
    space: str,
    key: str,
    body: dict[str, Any],
    run: Callable[[], dict[str, Any]],
    writes: bool = True,
) -> dict[str, Any]:
    """:func:`once` for a unit of work that is this one request and ends with it (the national interface's messages).

    The same promises as :func:`once` (same key and body: the first answer; another body: :class:`KeyReused`;
    a retry in flight waits for the first), in fewer round trips, because a refusal by ``run`` rolls the
    whole unit back (so no savepoint is needed): a request that ``writes`` claims its key first (insert,
    doing nothing on a conflict), works, then stores its answer; a request that only reads works first and
    then stores its key with its answer in one insert, the stored answer winning if another got there first
    (a resent read may thus run again: a reader that writes raises :class:`ReaderWrote`). The caller must not
    catch an exception of ``run`` and commit.
    """
    check_key(key)
    digest = request_hash(body)
    values: dict[str, Any] = {"source": space, "key": key, "request_hash": digest, "created_at": clock.now()}
    try:
        if writes:
            if _claimed(session, {**values, "response": ""}):
                answer = run()
                response = json.dumps(answer, ensure_ascii=False)
                _STORE_ANSWER.run_many(session, [{"in_space": space, "of_key": key, "answer": response}])
                return answer
        else:
            answer = _reading(session, run)
            stored = {**values, "response": json.dumps(answer, ensure_ascii=False)}
            if _claimed(session, stored):
                return answer
    except OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) == "55P03":  # lock_not_available: still in flight
            raise InProgress("该请求正在处理中，请稍后重试", "a request with this key is in progress") from None
        raise
    # The first request's, committed before our insert gave way.
    found = session.execute(_FIRST_ANSWER, {"in_space": space, "of_key": key}).first()
    if found is None:  # pragma: no cover - a conflicting row exists until it is committed or rolled back
        raise InProgress("该请求正在处理中，请稍后重试", "a request with this key is in progress")
    if found.request_hash != digest:
        raise key_reused()
    replayed: dict[str, Any] = json.loads(found.response)
    return replayed
