"""DriverStatement: the short way to the driver answers as SQLAlchemy's way does, errors included."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, bindparam, insert, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from yibao.core.audit import AuditEvent
from yibao.core.db import DriverStatement, make_engine
from yibao.identity.tokens import aware

_BY_ACTION = DriverStatement(
    select(AuditEvent.id, AuditEvent.at, AuditEvent.actor, AuditEvent.writes, AuditEvent.subject_person_id)
    .where(AuditEvent.action == bindparam("action"))
    .order_by(AuditEvent.id)
)
_COLUMNS = ["at", "actor_role", "actor", "action", "writes", "outcome", "subject_person_id"]
_INSERT = DriverStatement(insert(AuditEvent.__table__), column_keys=_COLUMNS)  # type: ignore[arg-type]


def _row(action: str, actor: str, person: int | None) -> dict[str, object]:
    at = datetime(2023, 5, 1, 2, 0, tzinfo=UTC)
    return {"at": at, "actor_role": "clerk", "actor": actor, "action": action, "writes": True, "outcome": "ok"} | {
        "subject_person_id": person
    }


def test_rows_and_inserts_match_sqlalchemy(session: Session) -> None:
    _INSERT.run_many(session, [_row("t.driver", "a", 7)])
    _INSERT.run_many(session, [_row("t.driver", "b", None), _row("t.driver", "c", 9)])
    got = _BY_ACTION.rows(session, {"action": "t.driver"})
    plain = session.execute(_BY_ACTION.statement, {"action": "t.driver"}).all()
    assert [(r.actor, r.writes, r.subject_person_id) for r in got] == [
        ("a", True, 7),
        ("b", True, None),
        ("c", True, 9),
    ]
    assert [tuple(r) for r in got] == [tuple(r) for r in plain]
    assert all(aware(r.at) == datetime(2023, 5, 1, 2, 0, tzinfo=UTC) for r in got)
    assert _BY_ACTION.rows(session, {"action": "t.none"}) == []


def test_a_constraint_violation_is_sqlalchemys_integrity_error(engine: Engine) -> None:
    bad = _row("t.driver", "a", None) | {"actor": None}  # actor is NOT NULL
    with Session(engine) as s, pytest.raises(IntegrityError):
        _INSERT.run_many(s, [bad])


def test_a_lost_connection_is_reported_invalidated(pg_url: str) -> None:
    """The short way is PostgreSQL's (SQLite takes SQLAlchemy's own): a killed backend reads as a lost connection."""
    engine = make_engine(pg_url)
    with Session(engine) as s:
        pid = s.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with engine.connect() as killer:
            killer.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        with pytest.raises(DBAPIError) as caught:
            _BY_ACTION.rows(s, {"action": "t.driver"})
        assert caught.value.connection_invalidated  # so the unit of work starts over on a fresh connection
        s.rollback()
        assert s.execute(text("SELECT 1")).scalar_one() == 1  # the pool gave a new connection
    engine.dispose()
