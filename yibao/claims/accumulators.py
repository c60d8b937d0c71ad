"""Yearly accumulators per person and benefit year, and special-disease use per month.

A settlement locks its person's row of the benefit year (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite
takes the database's write lock at BEGIN) before it reads what has been used, and keeps it until the
transaction commits: two hospitals settling one person at once take turns, so the yearly fund ceiling
can never be passed. The month rows are only touched under that lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from yibao.claims.models import Accumulator, MonthAccumulator
from yibao.engine.benefit_year import benefit_year_start
from yibao.policy.loader import get_pack
from yibao.policy.model import Pack


@dataclass(frozen=True, slots=True)
class Used:
    """What a person has used of a benefit year before a settlement (fen)."""

    year_start: date
    fund_paid: int = 0
    catastrophic_base: int = 0
    general_outpatient_paid: int = 0
    month_used: int = 0


def year_start(day: date, pack: Pack | None = None) -> date:
    """First day of the benefit year containing ``day``."""
    return benefit_year_start(day, pack or get_pack())


def _insert_missing(session: Session, model: Any, values: dict[str, Any]) -> None:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(model).values(**values).on_conflict_do_nothing())


def lock_year(session: Session, person_id: int, start: date) -> Accumulator:
    """The person's row of the benefit year, created if missing and locked until the transaction ends."""
    found = session.scalar(
        select(Accumulator)
        .where(Accumulator.person_id == person_id, Accumulator.year_start == start)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if found is not None:
        return found
    _insert_missing(
        session,
        Accumulator,
        {
            "person_id": person_id,
            "year_start": start,
            "fund_paid": 0,
            "catastrophic_base": 0,
            "general_outpatient_paid": 0,
        },
    )
    row = session.scalar(
        select(Accumulator)
        .where(Accumulator.person_id == person_id, Accumulator.year_start == start)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert row is not None
    return row


def month_row(session: Session, person_id: int, month: str, disease: str) -> MonthAccumulator:
    """The month row of one special disease (under the year lock), created if missing."""
    key = (
        MonthAccumulator.person_id == person_id,
        MonthAccumulator.month == month,
        MonthAccumulator.disease == disease,
    )
    found = session.scalar(select(MonthAccumulator).where(*key).execution_options(populate_existing=True))
    if found is not None:
        return found
    _insert_missing(session, MonthAccumulator, {"person_id": person_id, "month": month, "disease": disease, "used": 0})
    row = session.scalar(select(MonthAccumulator).where(*key).execution_options(populate_existing=True))
    assert row is not None
    return row


def read(session: Session, person_id: int, start: date, month: str | None = None, disease: str | None = None) -> Used:
    """What was used, without locking or writing anything (pre-settlement, 5206)."""
    row = session.get(Accumulator, (person_id, start))
    used = 0
    if month is not None and disease is not None:
        m = session.get(MonthAccumulator, (person_id, month, disease))
        used = m.used if m is not None else 0
    if row is None:
        return Used(start, month_used=used)
    return Used(start, row.fund_paid, row.catastrophic_base, row.general_outpatient_paid, used)


def cumulative(session: Session, person_id: int, month: date, pack: Pack | None = None) -> dict[str, int]:
    """5206: a resident's accumulations (fen) in the benefit year containing ``month`` (special disease: that month)."""
    row = session.get(Accumulator, (person_id, year_start(month, pack)))
    spent = session.scalar(
        select(func.coalesce(func.sum(MonthAccumulator.used), 0)).where(
            MonthAccumulator.person_id == person_id, MonthAccumulator.month == f"{month:%Y%m}"
        )
    )
    return {
        "FUND_PAID": row.fund_paid if row else 0,
        "CATA_BASE": row.catastrophic_base if row else 0,
        "GEN_OUTP_PAID": row.general_outpatient_paid if row else 0,
        "SPEC_OUTP_MONTH": int(spent or 0),
    }
