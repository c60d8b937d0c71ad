"""Database engine, sessions and the declarative base.

SQLite (a file under ``var/``) is the zero-set-up default; PostgreSQL is used by URL in production.
The entry point (an HTTP request, a CLI command) owns the transaction through :mod:`yibao.core.unit`;
services only flush.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, NoReturn, cast

from psycopg.rows import namedtuple_row
from sqlalchemy import Connection, Dialect, Engine, MetaData, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.elements import ClauseElement

from yibao.core.settings import get_settings

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
    kwargs.setdefault("max_overflow", 4)  # assumed: health checks and failed requests' audit records
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


class DriverStatement:
    """A fixed Core statement that PostgreSQL runs straight on the driver's cursor, compiled once.

    SQLAlchemy's way to the driver costs about 0.2 ms of CPU a statement (execution context, result
    metadata, row processors), as much again as the driver itself; the few statements that every request
    runs (the caller's token, the audit rows, the national interface's nonce and msgid claims) take the
    short way. Only for statements whose parameters and columns are plain types (no TypeDecorator): the
    driver's own conversion is then the same. SQLite, whose driver returns timestamps as text, takes
    SQLAlchemy's way.
    """

    def __init__(self, statement: Executable, *, column_keys: Sequence[str] | None = None) -> None:
        self.statement = statement
        self.column_keys = list(column_keys) if column_keys is not None else None
        self._sql: dict[str, tuple[str, dict[str, Any]]] = {}

    def _compiled(self, dialect: Dialect) -> tuple[str, dict[str, Any]]:
        known = self._sql.get(dialect.name)
        if known is None:
            compiled = cast(ClauseElement, self.statement).compile(dialect=dialect, column_keys=self.column_keys)
            known = self._sql[dialect.name] = (str(compiled), dict(compiled.params))
        return known

    def rows(self, session: Session, params: Mapping[str, Any]) -> Sequence[Any]:
        """The rows the statement returns for ``params``, in the session's transaction (attributes by name)."""
        conn = session.connection()
        if conn.dialect.name != "postgresql":
            return conn.execute(self.statement, dict(params)).all()
        sql, defaults = self._compiled(conn.dialect)
        try:
            with conn.connection.dbapi_connection.cursor(row_factory=namedtuple_row) as cur:  # type: ignore[union-attr]
                cur.execute(sql, {**defaults, **params})
                return list(cur.fetchall())
        except conn.dialect.loaded_dbapi.Error as exc:
            raise_as_sqlalchemy(conn, sql, exc)

    def run_many(self, session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run the statement once per parameter set (an insert of ``rows``), in the session's transaction."""
        conn = session.connection()
        if conn.dialect.name != "postgresql":
            conn.execute(self.statement, [dict(r) for r in rows])
            return
        sql, defaults = self._compiled(conn.dialect)
        try:
            with conn.connection.dbapi_connection.cursor() as cur:  # type: ignore[union-attr]
                if len(rows) == 1:
                    cur.execute(sql, {**defaults, **rows[0]})
                else:
                    cur.executemany(sql, [{**defaults, **r} for r in rows])
        except conn.dialect.loaded_dbapi.Error as exc:
            raise_as_sqlalchemy(conn, sql, exc)


def raise_as_sqlalchemy(conn: Connection, sql: str, exc: BaseException) -> NoReturn:
    """Raise the driver's error as SQLAlchemy's own way would: wrapped (IntegrityError, OperationalError...),
    and on a lost connection with the pool's older connections invalidated too, so that the unit of work
    starts over on a live one. (SQLAlchemy's handler itself, so that both ways fail alike; no parameters
    are passed, so none can reach a log.)
    """
    conn._handle_dbapi_exception(exc, sql, None, None, None)
