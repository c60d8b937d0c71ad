"""Yearly accumulators per person and benefit year, and special-disease use per month.

A settlement locks its person's row of the benefit year (an insert that, the row being there, updates it
to itself: a row lock on PostgreSQL; SQLite takes the database's write lock at BEGIN) as it reads what
has been used, and keeps it until the transaction commits: two hospitals settling one person at once
take turns, so the yearly fund ceiling can never be passed. The month rows are only touched under that
lock, and what a settlement adds is added by one statement per row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

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


# Built once: a resident's settlement locks, reads and adds to these rows on every message.
_YEAR_KEY = (Accumulator.person_id == bindparam("of_person")) & (Accumulator.year_start == bindparam("of_year"))
_ADD_YEAR = (
    update(Accumulator)
    .where(_YEAR_KEY)
    .values(
        fund_paid=Accumulator.fund_paid + bindparam("add_fund_paid"),
        catastrophic_base=Accumulator.catastrophic_base + bindparam("add_catastrophic_base"),
        general_outpatient_paid=Accumulator.general_outpatient_paid + bindparam("add_general_outpatient_paid"),
    )
)
_MONTH_KEY = (
    (MonthAccumulator.person_id == bindparam("of_person"))
    & (MonthAccumulator.month == bindparam("of_month"))
    & (MonthAccumulator.disease == bindparam("of_disease"))
)
_MONTH_USED = select(MonthAccumulator.used).where(_MONTH_KEY)
_ADD_MONTH = update(MonthAccumulator).where(_MONTH_KEY).values(used=MonthAccumulator.used + bindparam("add_used"))


def _lock_year_statement(dialect: str) -> Any:
    """Insert the year's row if missing, else "update" it to itself: either way it is locked and read, in one statement.

    (A person's first settlement of a year is the common case: a ``SELECT … FOR UPDATE`` would find nothing
    to lock, and the insert and the locking read would take two more round trips.)
    """
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert(Accumulator)
        .values(
            person_id=bindparam("of_person"),
            year_start=bindparam("of_year"),
            fund_paid=0,
            catastrophic_base=0,
            general_outpatient_paid=0,
        )
        .on_conflict_do_update(
            index_elements=[Accumulator.person_id, Accumulator.year_start],
            set_={"fund_paid": Accumulator.fund_paid},
        )
        .returning(Accumulator.fund_paid, Accumulator.catastrophic_base, Accumulator.general_outpatient_paid)
    )


_LOCK_YEAR = {name: _lock_year_statement(name) for name in ("postgresql", "sqlite")}


def lock_year(session: Session, person_id: int, start: date) -> Used:
    """What the person has used of the benefit year: their row, created if missing and locked until the transaction ends."""
    conn = session.connection()
    row = conn.execute(_LOCK_YEAR[conn.dialect.name], {"of_person": person_id, "of_year": start}).one()
    return Used(start, row.fund_paid, row.catastrophic_base, row.general_outpatient_paid)


def month_used(session: Session, person_id: int, month: str, disease: str) -> int:
    """What one special disease has used of a month (under the year lock), its row created if missing."""
    conn = session.connection()
    key = {"of_person": person_id, "of_month": month, "of_disease": disease}
    used = conn.execute(_MONTH_USED, key).scalar()
    if used is None:
        _insert_missing(
            session, MonthAccumulator, {"person_id": person_id, "month": month, "disease": disease, "used": 0}
        )
        used = conn.execute(_MONTH_USED, key).scalar_one()
    return int(used)


def add(
    session: Session,
    person_id: int,
    start: date,
    *,
    fund_paid: int,
    catastrophic_base: int,
    general_outpatient_paid: int,
    month: str | None = None,
    disease: str | None = None,
    month_used: int = 0,
) -> None:
    """Add to the person's benefit year (and a disease's month), one statement each; negative amounts take back.

    Each statement locks its row, so two settlements of one person never lose an addition; a settlement
    holds the year's lock from :func:`lock_year` anyway.
    """
    conn = session.connection()
    key = {"of_person": person_id, "of_year": start}
    amounts = {
        "add_fund_paid": fund_paid,
        "add_catastrophic_base": catastrophic_base,
        "add_general_outpatient_paid": general_outpatient_paid,
    }
    if conn.execute(_ADD_YEAR, key | amounts).rowcount != 1:
        lock_year(session, person_id, start)  # never settled in that year before: the row is made first
        conn.execute(_ADD_YEAR, key | amounts)
    _reread(session, Accumulator, (person_id, start))
    if month is not None and disease is not None and month_used:
        mkey = {"of_person": person_id, "of_month": month, "of_disease": disease}
        if conn.execute(_ADD_MONTH, mkey | {"add_used": month_used}).rowcount != 1:
            _insert_missing(
                session, MonthAccumulator, {"person_id": person_id, "month": month, "disease": disease, "used": 0}
            )
            conn.execute(_ADD_MONTH, mkey | {"add_used": month_used})
        _reread(session, MonthAccumulator, (person_id, month, disease))


def _reread(session: Session, model: Any, key: tuple[Any, ...]) -> None:
    """A row this session already holds is read again on its next use: a statement changed it behind it."""
    held = session.identity_map.get(identity_key(model, key))
    if held is not None:
        session.expire(held)


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
