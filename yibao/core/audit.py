"""The audit log: every write and every read of personal data -- who, what, when, from where, outcome.

:func:`yibao.core.auth.authorize` notes each decision on the session; when the unit of work ends,
the notes are stored with the outcome (``ok``, ``denied`` or ``failed:<code>``): in the work's own
transaction when it commits (:func:`add_pending`), in a transaction of their own when it fails
(:func:`write_pending`), so a refused or failed request is logged although its work was rolled back. The table is append-only, enforced by the database (triggers on PostgreSQL and SQLite).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any, cast

from pydantic import BaseModel, Field
from sqlalchemy import Boolean, DateTime, Engine, Integer, String, Table, Text, insert, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from yibao.core import auth
from yibao.core.auth import Scope, rule
from yibao.core.dates import day_after, day_start, utc_iso
from yibao.core.db import Base, DriverStatement
from yibao.core.errors import AppError, ValidationFailed
from yibao.core.ids import mask_id, mask_ids_in

AUDIT_READ = rule("audit.read", "查询审计日志 / read the audit log", writes=False, auditor=Scope.REGION)


class AuditEvent(Base):
    """One decision on one action, and how the request ended."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor_role: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(64), index=True)  # staff user name, masked ID number, ...
    actor_identity_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(48), index=True)
    writes: Mapped[bool] = mapped_column(Boolean)
    subject_person_id: Mapped[int | None] = mapped_column(Integer, index=True)
    subject: Mapped[str | None] = mapped_column(String(32))  # masked ID number
    subject_regions: Mapped[str | None] = mapped_column(String(64))  # comma-separated region codes
    outcome: Mapped[str] = mapped_column(String(64))  # ok | denied | failed:<code>
    ip: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64))
    method: Mapped[str | None] = mapped_column(String(8))
    path: Mapped[str | None] = mapped_column(String(256))  # ID numbers masked
    detail: Mapped[str | None] = mapped_column(Text)  # JSON, ID numbers masked


def _rows(pending: list[dict[str, Any]], error: BaseException | None) -> list[dict[str, Any]]:
    failed = None
    if error is not None:
        failed = f"failed:{error.code}" if isinstance(error, AppError) else f"failed:{type(error).__name__}"
    rows = []
    for ev in pending:
        row = {k: v for k, v in ev.items() if k != "allowed"}
        row["outcome"] = ev.get("outcome") or ("denied" if not ev["allowed"] else (failed or "ok"))
        rows.append(row)
    return rows


# Every column but the id: the rows of _rows(), inserted the short way (every request stores some).
_COLUMNS = [c.name for c in cast(Table, AuditEvent.__table__).columns if c.name != "id"]
_INSERT = DriverStatement(insert(cast(Table, AuditEvent.__table__)), column_keys=_COLUMNS)


def add_pending(session: Session) -> None:
    """Store the session's decisions, as succeeded, inside its own transaction (just before it commits)."""
    pending: list[dict[str, Any]] = session.info.get("audit_pending") or []
    if pending:
        _INSERT.run_many(session, _rows(pending, None))


def clear_pending(session: Session) -> None:
    """Forget the decisions once they are committed with the work."""
    session.info.pop("audit_pending", None)


def write_pending(engine: Engine, session: Session, error: BaseException | None) -> None:
    """Store the session's decisions with how the unit of work ended, in a transaction of their own."""
    pending: list[dict[str, Any]] = session.info.pop("audit_pending", [])
    if not pending:
        return
    with engine.begin() as conn:
        conn.execute(insert(AuditEvent), _rows(pending, error))


class AuditEventOut(BaseModel):
    """One entry of the audit log as auditors read it (ID numbers masked)."""

    id: int
    at: str = Field(examples=["2023-06-01T02:00:00+00:00"])
    actor_role: str = Field(examples=["clerk"])
    actor: str = Field(examples=["km.clerk"])
    action: str = Field(examples=["people.read"])
    writes: bool
    subject: str | None = Field(examples=["530102********1234"])
    subject_regions: str | None = Field(examples=["530100"])
    outcome: str = Field(examples=["ok", "denied", "failed:people.not_found"])
    ip: str | None
    request_id: str | None
    method: str | None
    path: str | None
    detail: dict[str, Any] | None


class AuditPageOut(BaseModel):
    """A page of the audit log, newest first."""

    page: int
    per_page: int
    has_more: bool
    items: list[AuditEventOut]


def search(
    session: Session,
    *,
    actor: str | None = None,
    subject_id_number: str | None = None,
    action: str | None = None,
    outcome: str | None = None,
    start: date | None = None,
    end: date | None = None,
    page: int = 1,
    per_page: int = 50,
) -> AuditPageOut:
    """Audit events, newest first, limited to the auditor's region (the province sees all)."""
    visible = auth.authorize_list(session, AUDIT_READ, reading="audit_log")
    if not 1 <= per_page <= 200 or page < 1:
        raise ValidationFailed("per_page", "每页1至200条", "per_page must be 1 to 200")
    q = select(AuditEvent)
    if visible.regions is not None:
        q = q.where(or_(*(AuditEvent.subject_regions.contains(r) for r in sorted(visible.regions))))
    if actor:
        q = q.where(AuditEvent.actor == mask_ids_in(actor))
    if subject_id_number:
        q = q.where(AuditEvent.subject == mask_id(subject_id_number))
    if action:
        q = q.where(AuditEvent.action == action)
    if outcome:
        q = q.where(AuditEvent.outcome.startswith(outcome))
    if start:
        q = q.where(AuditEvent.at >= day_start(start))
    if end and (after := day_after(end)) is not None:
        q = q.where(AuditEvent.at < after)
    rows = list(session.scalars(q.order_by(AuditEvent.id.desc()).offset((page - 1) * per_page).limit(per_page + 1)))
    return AuditPageOut(
        page=page,
        per_page=per_page,
        has_more=len(rows) > per_page,
        items=[
            AuditEventOut(
                id=e.id,
                at=utc_iso(e.at),
                actor_role=e.actor_role,
                actor=e.actor,
                action=e.action,
                writes=e.writes,
                subject=e.subject,
                subject_regions=e.subject_regions,
                outcome=e.outcome,
                ip=e.ip,
                request_id=e.request_id,
                method=e.method,
                path=e.path,
                detail=json.loads(e.detail) if e.detail else None,
            )
            for e in rows[:per_page]
        ],
    )
