"""Money in and out of a personal account: contributions credited (资金划入), payments within the usage
scope for the holder or a bound close relative, and a bound relative's resident premium (代缴).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from yibao.accounts import ledger
from yibao.accounts.access import CREDIT, MANAGE, PAY, EmployeeRow, UseRefused, codes, employee, employee_row, is_normal
from yibao.accounts.models import AccountStatus, EntryKind, JournalEntry, Purpose
from yibao.accounts.schemas import EntryOut
from yibao.accounts.sharing import active_binding, same_pooling_region
from yibao.core import auth, clock, idempotency
from yibao.core.auth import Role
from yibao.core.clock import today
from yibao.core.dates import add_months, local_date, parse_period
from yibao.core.errors import Forbidden, ValidationFailed
from yibao.core.money import format_yuan
from yibao.core.text import clean_name
from yibao.people import persons
from yibao.people.models import InsuranceRecord, Person, Scheme
from yibao.policy.loader import get_pack
from yibao.policy.model import Pack, PolicyView
from yibao.premiums.contributions import contribution_year
from yibao.premiums.payments import ACCOUNT_CHANNEL, PaymentRequest, pay_premium
from yibao.premiums.schemas import Receipt

_PERIOD_BACK = "employee.account.credit_period_months_back"

# Where the money of each use goes: the counterpart system account (bookkeeping, not policy: the pack
# says which uses are allowed and for whom). Every other use is a settlement with an institution.
_COUNTERPART = {
    "resident_premium": Purpose.PREMIUMS,
    "large_amount_subsidy_premium": Purpose.PREMIUMS,
    "long_term_care_premium": Purpose.PREMIUMS,
    "critical_illness_supplement_premium": Purpose.PREMIUMS,
    "flexible_worker_premium": Purpose.PREMIUMS,
    "commercial_health_insurance": Purpose.INSURERS,
}


def _credit_period(session: Session, period: str, pack: Pack) -> None:
    """A contribution's month: not after the current one, within the pack's window back (the operator
    importing history may go further back, but not before the pack's rules begin)."""
    first = parse_period(period, field="period")
    this_month = today().replace(day=1)
    if first > this_month:
        raise ValidationFailed("period", f"所属期 {period} 不能晚于当月", f"the period {period} is after this month")
    if not pack.at(first).has(_PERIOD_BACK):
        raise ValidationFailed(
            "period", f"所属期 {period} 早于本系统政策参数的起始日期", f"the period {period} is before any policy"
        )
    caller = auth.require_caller(session)
    if caller.role is Role.SYSTEM:
        return
    months = pack.whole(_PERIOD_BACK, today())
    oldest = add_months(this_month, -months)
    if first < oldest:
        raise ValidationFailed(
            "period",
            f"所属期最多可早于当月{months}个月（{oldest:%Y-%m} 起）",
            f"the period may lie at most {months} months before this month (from {oldest:%Y-%m})",
        )


def _at_most(amount: int, view: PolicyView, path: str, zh: str, en: str) -> None:
    """Refuse a single amount above the pack's limit (a typing error or a forged message, never a real one)."""
    limit = view.money(path)
    if amount > limit:
        raise ValidationFailed(
            "amount", f"单笔{zh}金额不能超过 {format_yuan(limit)} 元", f"a single {en} is at most {format_yuan(limit)}"
        )


def credit_contribution(
    session: Session, *, id_number: str, amount: int, period: str, source: str, key: str, pack: Pack | None = None
) -> EntryOut:
    """资金划入: a contribution transferred into the account for a period (e.g. "2023-05")."""
    pack = pack or get_pack()
    person, _ = employee(session, id_number, CREDIT, amount=amount, period=period)
    source = idempotency.namespace(auth.principal_of(session), source)  # keys belong to the caller
    _credit_period(session, period, pack)
    _at_most(amount, pack.at(today()), "employee.account.max_single_credit", "划入", "credit")

    def run() -> EntryOut:
        acc = ledger.member_account(session, person.id, create=True)
        if acc.status != AccountStatus.OPEN:
            # After a withdrawal the account is closed for good: nothing may flow in any more.
            raise ledger.AccountClosed("个人账户已注销", "the personal account is closed")
        entry = ledger.transfer(
            session,
            kind=EntryKind.CREDIT,
            source=ledger.system_account(session, Purpose.CONTRIBUTIONS, person.id),
            target=acc,
            amount=amount,
            member_id=person.id,
            category="contribution",
            reference=period,
        )
        return ledger.entry_view(entry.id, entry.kind, entry.category, amount, entry.reference, entry.created_at)

    return ledger.idempotent(
        session,
        source=source,
        key=key,
        body={"op": "credit", "id": person.id, "amount": amount, "period": period},
        run=run,
    )


@dataclass(frozen=True, slots=True)
class Payment:
    """A payment from the account."""

    holder_id_number: str
    amount: int
    category: str
    institution: str  # designated hospital / pharmacy / insurer
    beneficiary_id_number: str | None = None  # a bound close relative; default the holder


def pay(session: Session, p: Payment, *, source: str, key: str, pack: Pack | None = None) -> EntryOut:
    """Pay from the account within its usage scope, for the holder or a bound close relative."""
    view = (pack or get_pack()).at(local_date(clock.now()))
    holder = employee_row(session, p.holder_id_number, PAY, amount=p.amount, institution=p.institution)
    caller = auth.principal_of(session)
    assert caller is not None
    source = idempotency.namespace(caller, source)  # keys belong to the authenticated caller
    if caller.role is Role.INSTITUTION and p.institution not in (caller.login, caller.name):
        raise Forbidden(
            "定点机构只能以本机构名义结算", "an institution settles only in its own name", code="auth.forbidden"
        )
    if not is_normal(holder):
        raise UseRefused(
            "职工医保参保状态不正常，个人账户暂停使用",
            "employee insurance is not in normal status",
            code="accounts.not_normal",
        )
    relative = None  # the holder pays for themselves, unless a bound relative is named
    if p.beneficiary_id_number and (named := persons.get_person(session, p.beneficiary_id_number)).id != holder.id:
        relative = named
    _at_most(p.amount, view, "employee.account.max_single_payment", "支付", "payment")
    clean_name(p.institution, field="institution")
    _check_use(session, view, p.category, holder, relative)
    beneficiary_id = relative.id if relative is not None else holder.id
    body = {
        "op": "pay",
        "holder": holder.id,
        "beneficiary": beneficiary_id,
        "amount": p.amount,
        "category": p.category,
        "institution": p.institution,
    }
    payment = ledger.MemberPayment(
        member_id=holder.id,
        target=ledger.system_account(session, _COUNTERPART.get(p.category, Purpose.SETTLEMENTS), holder.id),
        amount=p.amount,
        category=p.category,
        beneficiary_id=beneficiary_id,
        reference=p.institution,
    )
    return ledger.pay_once(session, payment, source=source, key=key, body=body)


def _check_use(session: Session, view: PolicyView, category: str, holder: EmployeeRow, relative: Person | None) -> None:
    """Refuse a use the pack excludes or does not know, or one for a relative the rules do not allow."""
    excluded = (
        codes(view, "employee.account.excluded_uses")
        | codes(view, "employee.account.daily_use_goods_excluded")
        | codes(view, "employee.account.vaccination_excluded")
    )
    if category in excluded:
        raise UseRefused(
            f"个人账户不得用于{excluded[category]}等不属于基本医疗保险保障范围的支出",
            f"the personal account may not pay for {category}",
            code="accounts.excluded_use",
        )
    allowed = (
        codes(view, "employee.account.allowed_uses")
        | codes(view, "employee.account.notice_2011_items")
        | codes(view, "employee.account.notice_2011_premiums")
    )
    if category not in allowed:
        raise ValidationFailed("category", f"未知的支出类别 {category!r}", f"unknown category {category!r}")
    if category == "flexible_worker_premium" and not holder.flexible:
        raise UseRefused(
            "持卡人不是以灵活就业人员身份参加职工医保",
            "the holder is not insured as a flexible worker",
            code="accounts.not_flexible_worker",
        )
    if relative is not None:
        if category not in codes(view, "employee.account.relative_uses"):
            raise UseRefused(
                "该项支出只能用于参保人本人", "this use is for the holder only", code="accounts.holder_only"
            )
        if active_binding(session, holder.id, relative.id) is None:
            raise UseRefused(
                "使用人未与个人账户绑定共济关系，请先办理个人账户共济绑定",
                "the relative has no sharing binding with this account",
                code="accounts.no_binding",
            )
        same_pooling_region(session, view, holder, relative)


def pay_relative_premium(
    session: Session,
    *,
    holder_id_number: str,
    relative_id_number: str,
    relative_name: str,
    year: int,
    key: str,
    now: datetime,
    pack: Pack | None = None,
) -> Receipt:
    """The seed's flow: both insurances normal, binding present, balance enough; else refused, nothing moved."""
    pack = pack or get_pack()
    holder, record = employee(session, holder_id_number, MANAGE, op="relative_premium", year=year)
    relative = persons.get_person(session, relative_id_number)
    resident = session.scalar(
        select(InsuranceRecord).where(
            InsuranceRecord.person_id == relative.id, InsuranceRecord.scheme == Scheme.RESIDENT
        )
    )
    if not is_normal(record) or not is_normal(resident):
        raise UseRefused(
            "职工医保和城乡居民医保须为正常参保状态",
            "both insurances must be in normal status",
            code="accounts.not_normal",
        )
    assert resident is not None
    view = pack.at(local_date(now))
    if relative.id != holder.id:
        if active_binding(session, holder.id, relative.id) is None:
            raise UseRefused("须先办理个账共济授权", "a sharing binding is required", code="accounts.no_binding")
        same_pooling_region(session, view, record, relative)
    amount = contribution_year(year, pack).amount
    with session.begin_nested():
        receipt = pay_premium(
            session,
            PaymentRequest(
                insured_id_number=relative.id_number,
                insured_name=relative_name,
                year=year,
                amount=amount,
                channel=ACCOUNT_CHANNEL,
                region=resident.region_code,
                idempotency_key=key,
                payer_id_number=holder.id_number,
                payer_name=holder.name,
            ),
            now=now,
            pack=pack,
            from_account=True,
        )
        paid = session.scalar(
            select(JournalEntry.id).where(
                JournalEntry.reference == receipt.receipt_no, JournalEntry.kind == EntryKind.PAYMENT
            )
        )
        if paid is None:  # not a replay: move the money now (refused together with the receipt if short)
            _balance_greater_than(session, view, holder.id, amount)
            ledger.transfer(
                session,
                kind=EntryKind.PAYMENT,
                source=ledger.member_account(session, holder.id),
                target=ledger.system_account(session, Purpose.PREMIUMS, holder.id),
                amount=amount,
                # "Greater than": at least one fen must stay, checked in the same guarded statement.
                keep=1,
                member_id=holder.id,
                category="resident_premium",
                beneficiary_id=relative.id,
                reference=receipt.receipt_no,
            )
    return receipt


def _balance_greater_than(session: Session, view: PolicyView, holder_id: int, amount: int) -> None:
    """Seed 000: the balance must be greater than the premium; an equal balance fails (nothing moves)."""
    rule_ = view.get("employee.account.relative_premium_balance")
    acc = ledger.member_account(session, holder_id)
    session.refresh(acc)
    if acc.status == AccountStatus.OPEN and acc.balance <= amount:
        raise ledger.InsufficientBalance(
            f"个人账户余额 {format_yuan(acc.balance)} 元，应大于城乡居民医保个人缴费金额 {format_yuan(amount)} 元，"
            "否则缴费将失败",
            f"the balance ({format_yuan(acc.balance)}) must be greater than the premium ({format_yuan(amount)})",
            details={"quote": rule_.citation.quote},
        )
