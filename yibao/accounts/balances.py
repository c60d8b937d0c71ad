"""Opening an account, its balance and its records (消费、划入、代缴), and the check of the whole ledger."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from yibao.accounts import ledger
from yibao.accounts.access import MANAGE, READ, VERIFY, employee, employee_row
from yibao.accounts.models import AccountStatus, EntryKind, JournalEntry, JournalLine, LedgerAccount
from yibao.accounts.schemas import BalanceOut, RecordKind, RecordsPage, Verification
from yibao.core import auth
from yibao.core.dates import day_after, day_start
from yibao.core.errors import ValidationFailed
from yibao.core.ids import mask_id
from yibao.core.money import format_yuan
from yibao.people.models import Person

# Assumed operational bound (not policy): a page of records is read in one query.
MAX_PER_PAGE = 200


def open_account(session: Session, *, id_number: str) -> BalanceOut:
    """The employee's personal account, opened on first use."""
    person, _ = employee(session, id_number, MANAGE, op="open_account")
    return _balance_of(person, ledger.member_account(session, person.id, create=True))


def balance(session: Session, id_number: str) -> BalanceOut:
    """账户余额 (one statement: :func:`employee_row`)."""
    row = employee_row(session, id_number, READ, reading="balance")
    if row.balance is None or row.account_status is None:
        raise ledger.no_account()
    return BalanceOut(
        id_number=mask_id(row.id_number),
        name=row.name,
        balance=format_yuan(row.balance),
        status=AccountStatus(row.account_status),
    )


def _balance_of(person: Person, acc: LedgerAccount) -> BalanceOut:
    return BalanceOut(
        id_number=mask_id(person.id_number), name=person.name, balance=format_yuan(acc.balance), status=acc.status
    )


def records(
    session: Session,
    id_number: str,
    *,
    kind: RecordKind = RecordKind.ALL,
    start: date | None = None,
    end: date | None = None,
    page: int = 1,
    per_page: int = 20,
) -> RecordsPage:
    """Records of the account: spending (消费), transfers in (资金划入) or proxy premium payments (代缴), paged."""
    if not 1 <= per_page <= MAX_PER_PAGE or page < 1:
        raise ValidationFailed("per_page", f"每页1至{MAX_PER_PAGE}条", f"per_page must be 1 to {MAX_PER_PAGE}")
    kind = _record_kind(kind)
    person, _ = employee(session, id_number, READ, reading=f"records:{kind}")
    acc = ledger.member_account(session, person.id)
    q = (
        select(JournalEntry, JournalLine.amount)
        .join(JournalLine, JournalLine.entry_id == JournalEntry.id)
        .where(JournalLine.account_id == acc.id)
    )
    if kind == RecordKind.SPENDING:
        q = q.where(JournalLine.amount < 0)
    elif kind == RecordKind.TRANSFERS_IN:
        q = q.where(JournalEntry.kind == EntryKind.CREDIT)
    elif kind == RecordKind.PROXY:
        q = q.where(JournalEntry.category == "resident_premium", JournalEntry.beneficiary_id != person.id)
    if start:
        q = q.where(JournalEntry.created_at >= day_start(start))
    if end and (after := day_after(end)) is not None:
        q = q.where(JournalEntry.created_at < after)
    rows = session.execute(q.order_by(JournalEntry.id.desc()).offset((page - 1) * per_page).limit(per_page + 1)).all()
    items = [ledger.entry_view(e.id, e.kind, e.category, amt, e.reference, e.created_at) for e, amt in rows[:per_page]]
    return RecordsPage(page=page, per_page=per_page, has_more=len(rows) > per_page, items=items)


def _record_kind(kind: str) -> RecordKind:
    try:
        return RecordKind(kind)
    except ValueError:
        raise ValidationFailed("kind", "记录类型应为 all、spending、transfers_in 或 proxy", "unknown kind") from None


def verify_ledger(session: Session) -> Verification:
    """Check the books (finance and auditors of the province: it spans every region)."""
    auth.authorize(session, VERIFY)
    return ledger.verify(session)
