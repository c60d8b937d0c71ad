"""Database engine, sessions and the unit of work.

SQLite (a file under ``var/``) is the zero-set-up default; PostgreSQL is used by URL in production.
The entry point (an HTTP request, a CLI command) owns the transaction: services only flush.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from yibao.core.settings import get_settings

if TYPE_CHECKING:
    from yibao.core.auth import Principal

log = logging.getLogger("yibao.db")
T = TypeVar("T")

# Stable constraint names, so that migrations name the same thing on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base of every ORM model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def normalize_url(url: str) -> str:
    """Use the psycopg 3 driver for plain ``postgresql://`` URLs."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``; SQLite gets its folder created, foreign keys on and WAL journaling."""
    url = normalize_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        db = parsed.database
        if db and db != ":memory:":
            Path(db).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin (see below).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=10000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin_immediate(conn: Any) -> None:
            # Take the write lock at BEGIN: two deferred transactions that both read and then write
            # would otherwise fail with "database is locked" instead of waiting their turn.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    # One pooled connection per request running at once (the request gate in yibao.api.deps admits
    # db_pool_size of them per process); a few more for health checks and audit writes after a failure.
    # A connection that is not to be had within a few seconds is an answer (503), not a hang.
    settings = get_settings()
    kwargs.setdefault("pool_size", settings.db_pool_size)
    kwargs.setdefault("max_overflow", 4)
    kwargs.setdefault("pool_timeout", settings.queue_seconds)
    # No ping per checkout: a connection found dead restarts the request's unit of work (RetryUnit).
    kwargs.setdefault("pool_pre_ping", False)
    return create_engine(url, **kwargs)


@lru_cache(maxsize=4)
def _engine_for(url: str) -> Engine:
    return make_engine(url)


def get_engine() -> Engine:
    """The engine of this deployment (from YIBAO_DATABASE_URL), created once."""
    return _engine_for(get_settings().database_url)


def session_factory(engine: Engine | None = None) -> sessionmaker[Session]:
    """A session factory bound to ``engine`` (default: this deployment's), made once per engine."""
    return _factory(engine or get_engine())


@lru_cache(maxsize=16)
def _factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


class RetryUnit(Exception):
    """Raised inside a retryable unit of work when it must start over, nothing of it having been committed.

    A stale pooled connection found dead at the first statement, or a lost race for an idempotency key
    (the winner's answer is then read on the second attempt), is answered by running the whole unit again,
    instead of paying a round trip on every request (a connection ping, a savepoint) to avoid it.
    """


def retryable(session: Session) -> bool:
    """Whether the unit of work ``session`` belongs to will start over on :class:`RetryUnit`."""
    return bool(session.info.get("retryable"))


def run_retrying(make_session: Callable[[], Session], work: Callable[[Session], T], *, attempts: int = 3) -> T:
    """Run ``work`` in a committed unit of work on a new session, again (on a new session) on :class:`RetryUnit`.

    Only what fails before COMMIT is sent starts over: a failure of the commit itself propagates, since
    the work may or may not have been done.
    """
    for attempt in range(1, attempts + 1):
        session = make_session()
        session.info["retryable"] = attempt < attempts
        try:
            with committing(session):
                try:
                    return work(session)
                except DBAPIError as exc:
                    if exc.connection_invalidated and retryable(session):
                        # The connection was dead before anything was sent on it in this unit.
                        session.info.pop("audit_pending", None)
                        raise RetryUnit from exc
                    raise
                except RetryUnit:
                    session.info.pop("audit_pending", None)
                    raise
        except RetryUnit:
            if attempt == attempts:
                raise
            log.info("unit of work starts over (attempt %d)", attempt + 1)
    raise AssertionError("unreachable")


@contextmanager
def unit_of_work(engine: Engine | None = None, *, principal: Principal) -> Iterator[Session]:
    """A session acting for ``principal``, committed when the block ends normally and rolled back otherwise.

    The caller is always explicit: the command line passes the operator (``auth.system_principal()``), a
    request its authenticated caller. See :func:`committing`.
    """
    from yibao.core import auth

    session = session_factory(engine)()
    auth.act_as(session, principal)
    with committing(session):
        yield session


@contextmanager
def committing(session: Session) -> Iterator[Session]:
    """Commit ``session`` when the block ends normally, roll it back otherwise; close it either way.

    The access decisions taken in it are stored in the same transaction as the work when it commits
    (a request is acknowledged only with its audit trail), and in a transaction of their own, with the
    failure, when it does not. An exception raised by the commit itself propagates: the caller must
    never report success for work whose commit failed.
    """
    from yibao.core import audit

    error: BaseException | None = None
    try:
        yield session
        audit.add_pending(session)
        session.commit()
        audit.clear_pending(session)
    except BaseException as exc:
        error = exc
        session.rollback()
        raise
    finally:
        engine = session.get_bind()
        session.close()
        if error is not None:
            try:
                audit.write_pending(engine, session, error)  # type: ignore[arg-type]
            except Exception:
                log.exception("could not write the audit log for a failed request")
