"""The unit of work: one transaction acting for one explicit caller, committed with its audit trail.

Entry points own the transaction (an HTTP request through :mod:`yibao.api.deps`, a command through
:func:`unit_of_work`); services only flush. The access decisions noted during the work
(:func:`yibao.core.auth.note_decision`) are stored in the same transaction when it commits, and in a
transaction of their own, with the failure, when it does not.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from yibao.core import audit, auth
from yibao.core.auth import Principal
from yibao.core.db import session_factory

log = logging.getLogger("yibao.db")
T = TypeVar("T")


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
    the work may or may not have been done. Three attempts (assumed) cover a dead pooled connection and a
    lost race, one after the other.
    """
    for attempt in range(1, attempts + 1):
        session = make_session()
        session.info["retryable"] = attempt < attempts
        try:
            with committing(session):
                try:
                    return work(session)
                except (DBAPIError, RetryUnit) as exc:
                    # A connection lost before COMMIT leaves nothing committed (the database rolls the
                    # transaction back), so the whole unit may start over on a fresh connection.
                    lost = isinstance(exc, DBAPIError) and exc.connection_invalidated
                    if not (isinstance(exc, RetryUnit) or (lost and retryable(session))):
                        raise
                    session.info.pop("audit_pending", None)  # the attempt that starts over is not audited
                    raise RetryUnit from exc
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
