"""Personal-account use cases: credits, payments within the usage scope, sharing bindings, relatives'
premiums, commercial insurance and withdrawals. Rules and lists come from the policy pack.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from yibao.accounts import ledger
from yibao.accounts.models import (
    Hold,
    InsurancePolicy,
    JournalEntry,
    JournalLine,
    LedgerAccount,
    Purpose,
    SharingBinding,
    WithdrawalRequest,
)
from yibao.core import auth, clock, idempotency
from yibao.core.auth import Role, Scope, rule
from yibao.core.clock import today
from yibao.core.dates import add_months, age_on, day_after, day_start, local_date, parse_period, utc_iso
from yibao.core.errors import AppError, Conflict, Forbidden, NotFound, ValidationFailed
from yibao.core.ids import mask_id
from yibao.core.money import format_yuan, mul_ratio
from yibao.core.text import clean_name
from yibao.people import service as people
from yibao.people.models import InsuranceRecord, Person, Relation, Scheme, Status
from yibao.people.regions import REGIONS
from yibao.policy.loader import get_pack
from yibao.policy.model import Pack, PolicyView
from yibao.premiums import service as premiums


class UseRefused(AppError):
    """A debit outside the account's usage scope or for a beneficiary the rules do not allow."""

    http_status = 422
    exit_code = 5


_PERIOD_BACK = "employee.account.credit_period_months_back"
_PREMIUM_USES = {
    "resident_premium",
    "large_amount_subsidy_premium",
    "long_term_care_premium",
    "critical_illness_supplement_premium",
    "flexible_worker_premium",
}
_INSURANCE_USES = {"commercial_health_insurance"}
# Uses a bound close relative may make of the holder's account (seed 000: 近亲属 costs at designated
# hospitals and pharmacies, and their resident premiums).
_RELATIVE_USES = {"own_designated_hospital", "designated_pharmacy", "resident_premium"} | {
    "disinfectant",
    "general_examination_fee",
    "registration_fee",
    "telemedicine",
    "large_equipment",
    "myopia_surgery",
    "teeth_cleaning",
    "glasses_dentures_prostheses",
}


# Who may do what with personal accounts (see yibao.core.auth).
READ = rule(
    "accounts.read",
    "查询个人账户余额、明细和共济记录 / read an account, its records and bindings",
    writes=False,
    roles=auth.REGION_READERS,
    person=Scope.BOUND,  # the holder, and a relative the holder has bound
)
CREDIT = rule(
    "accounts.credit", "资金划入 / credit a contribution", writes=True, finance=Scope.REGION, service=Scope.ANY
)
PAY = rule(
    "accounts.pay",
    "个人账户支付 / pay from the account",
    writes=True,
    institution=Scope.ANY,  # the patient presents their card at a designated hospital or pharmacy
)
MANAGE = rule(
    "accounts.manage",
    "共济绑定、为亲属缴费、购买保险、申请提取 / bind, pay relatives' premiums, insure, apply to withdraw",
    writes=True,
    person=Scope.OWN,
    clerk=Scope.REGION,
)
DECIDE = rule("accounts.withdrawals.decide", "审核提取申请 / decide a withdrawal", writes=True, appraiser=Scope.REGION)
RENEW = rule(
    "accounts.insurance.renew",
    "商业保险年缴与满期返还 / yearly insurance premiums and maturity",
    writes=True,
    finance=Scope.REGION,
    service=Scope.ANY,
)
CROSS_REGION = rule(
    "accounts.bindings.cross_region",
    "列出跨统筹区的共济绑定 / list sharing bindings across pooling regions",
    writes=False,
    clerk=Scope.REGION,
    auditor=Scope.REGION,
)
VERIFY = rule(
    "accounts.verify", "核对账簿 / verify the ledger", writes=False, finance=Scope.REGION, auditor=Scope.REGION
)


def _allow(session: Session, action: str, person_id: int, **detail: Any) -> auth.Principal:
    """Authorise an action on a person known by row id (a policy's holder, an application's applicant)."""
    person = session.get(Person, person_id)
    assert person is not None
    return auth.authorize(session, action, people.subject_of(session, person), **detail)


def _clerk(session: Session, given: str | None) -> str | None:
    """Who did it at the counter: the logged-in staff member, else what the operator typed."""
    p = auth.principal_of(session)
    return p.login if p is not None and p.is_staff else given


def _codes(view: PolicyView, path: str) -> dict[str, str]:
    return {i.code: i.name for i in view.items(path)}


def _employee(session: Session, id_number: str, action: str, **detail: Any) -> tuple[Person, InsuranceRecord]:
    """The employee an action is about, once the caller may act on them; NotFound without employee insurance."""
    person, records, _ = people.require_with_records(session, id_number, action, **detail)
    record = next((r for r in records if r.scheme == Scheme.EMPLOYEE.value), None)
    if record is None:
        raise NotFound(
            "该参保人未参加职工医保，没有个人账户",
            "not enrolled in employee insurance: no personal account",
            code="accounts.no_account",
        )
    return person, record


def _normal(record: InsuranceRecord | None) -> bool:
    return record is not None and record.status == Status.NORMAL.value


def open_account(session: Session, *, id_number: str) -> LedgerAccount:
    """The employee's personal account (opened on first use)."""
    person, _ = _employee(session, id_number, MANAGE, op="open_account")
    return ledger.member_account(session, person.id, create=True)


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
) -> dict[str, Any]:
    """资金划入: a contribution transferred into the account for a period (e.g. "2023-05")."""
    pack = pack or get_pack()
    person, _ = _employee(session, id_number, CREDIT, amount=amount, period=period)
    source = idempotency.namespace(auth.principal_of(session), source)  # keys belong to the caller
    _credit_period(session, period, pack)
    _at_most(amount, pack.at(today()), "employee.account.max_single_credit", "划入", "credit")

    def run() -> dict[str, Any]:
        acc = ledger.member_account(session, person.id, create=True)
        if acc.status != "open":
            # After a withdrawal the account is closed for good: nothing may flow in any more.
            raise ledger.AccountClosed("个人账户已注销", "the personal account is closed")
        entry = ledger.transfer(
            session,
            kind="credit",
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


def pay(session: Session, p: Payment, *, source: str, key: str, pack: Pack | None = None) -> dict[str, Any]:
    """Pay from the account within its usage scope, for the holder or a bound close relative."""
    view = (pack or get_pack()).at(local_date(clock.now()))
    holder, record = _employee(session, p.holder_id_number, PAY, amount=p.amount, institution=p.institution)
    caller = auth.principal_of(session)
    assert caller is not None
    source = idempotency.namespace(caller, source)  # keys belong to the authenticated caller
    if caller.role is Role.INSTITUTION and p.institution not in (caller.login, caller.name):
        raise Forbidden(
            "定点机构只能以本机构名义结算", "an institution settles only in its own name", code="auth.forbidden"
        )
    if not _normal(record):
        raise UseRefused(
            "职工医保参保状态不正常，个人账户暂停使用",
            "employee insurance is not in normal status",
            code="accounts.not_normal",
        )
    beneficiary = holder
    if p.beneficiary_id_number and people.get_person(session, p.beneficiary_id_number).id != holder.id:
        beneficiary = people.get_person(session, p.beneficiary_id_number)
    _at_most(p.amount, view, "employee.account.max_single_payment", "支付", "payment")
    clean_name(p.institution, field="institution")
    purpose = _check_use(session, view, p.category, holder, record, beneficiary)
    body = {
        "op": "pay",
        "holder": holder.id,
        "beneficiary": beneficiary.id,
        "amount": p.amount,
        "category": p.category,
        "institution": p.institution,
    }
    payment = ledger.MemberPayment(
        member_id=holder.id,
        target=ledger.system_account(session, purpose, holder.id),
        amount=p.amount,
        category=p.category,
        beneficiary_id=beneficiary.id,
        reference=p.institution,
    )
    return ledger.pay_once(session, payment, source=source, key=key, body=body)


def _check_use(
    session: Session, view: PolicyView, category: str, holder: Person, record: InsuranceRecord, beneficiary: Person
) -> Purpose:
    excluded = (
        _codes(view, "employee.account.excluded_uses")
        | _codes(view, "employee.account.daily_use_goods_excluded")
        | _codes(view, "employee.account.vaccination_excluded")
    )
    if category in excluded:
        raise UseRefused(
            f"个人账户不得用于{excluded[category]}等不属于基本医疗保险保障范围的支出",
            f"the personal account may not pay for {category}",
            code="accounts.excluded_use",
        )
    allowed = (
        _codes(view, "employee.account.allowed_uses")
        | _codes(view, "employee.account.notice_2011_items")
        | _codes(view, "employee.account.notice_2011_premiums")
    )
    if category not in allowed:
        raise ValidationFailed("category", f"未知的支出类别 {category!r}", f"unknown category {category!r}")
    if category == "flexible_worker_premium" and not record.flexible:
        raise UseRefused(
            "持卡人不是以灵活就业人员身份参加职工医保",
            "the holder is not insured as a flexible worker",
            code="accounts.not_flexible_worker",
        )
    if beneficiary.id != holder.id:
        if category not in _RELATIVE_USES:
            raise UseRefused(
                "该项支出只能用于参保人本人", "this use is for the holder only", code="accounts.holder_only"
            )
        if active_binding(session, holder.id, beneficiary.id) is None:
            raise UseRefused(
                "使用人未与个人账户绑定共济关系，请先办理个人账户共济绑定",
                "the relative has no sharing binding with this account",
                code="accounts.no_binding",
            )
        _same_pooling_region(session, view, record, beneficiary)
    if category in _PREMIUM_USES:
        return Purpose.PREMIUMS
    if category in _INSURANCE_USES:
        return Purpose.INSURERS
    return Purpose.SETTLEMENTS


# ---- sharing bindings (共济) -------------------------------------------------------------


def active_binding(session: Session, holder_id: int, relative_id: int) -> SharingBinding | None:
    """The active binding letting ``relative_id`` use ``holder_id``'s account."""
    return session.scalar(
        select(SharingBinding).where(
            SharingBinding.holder_id == holder_id,
            SharingBinding.relative_id == relative_id,
            SharingBinding.status == "active",
        )
    )


def _regions(session: Session, person: Person) -> list[str]:
    return sorted({r.region_code for r in people.records_of(session, person)})


def _same_pooling_region(session: Session, view: PolicyView, record: InsuranceRecord, relative: Person) -> None:
    """Refuse sharing across pooling regions: the relative must be insured where the holder's account is."""
    rule_ = view.get("employee.account.sharing_region")
    regions = _regions(session, relative)
    if record.region_code in regions:
        return
    there = "、".join(REGIONS.get(r, r) for r in regions) or "无参保记录"
    raise UseRefused(
        f"持卡人在{REGIONS.get(record.region_code, record.region_code)}参保，使用人在{there}参保："
        "不支持跨统筹区的医保个人账户家庭共济",
        f"the holder is insured in {record.region_code}, the user in {', '.join(regions) or 'no region'}: "
        "sharing across pooling regions is not supported",
        code="accounts.cross_region",
        details={"holder_region": record.region_code, "user_regions": regions, "quote": rule_.citation.quote},
    )


def cross_region_bindings(session: Session) -> list[dict[str, Any]]:
    """Active bindings whose holder and user are insured in different pooling regions (to be ended).

    The province's staff see them all, a region's staff those that touch their region.
    """
    visible = auth.authorize_list(session, CROSS_REGION)
    out = []
    for b in session.scalars(
        select(SharingBinding).where(SharingBinding.status == "active").order_by(SharingBinding.id)
    ):
        h, r = session.get(Person, b.holder_id), session.get(Person, b.relative_id)
        assert h is not None and r is not None
        record = session.scalar(
            select(InsuranceRecord).where(
                InsuranceRecord.person_id == h.id, InsuranceRecord.scheme == Scheme.EMPLOYEE.value
            )
        )
        user_regions = _regions(session, r)
        holder_region = record.region_code if record is not None else None
        if holder_region in user_regions or not visible.covers(holder_region, *user_regions):
            continue
        out.append(
            {
                "binding_id": b.id,
                "holder": {"name": h.name, "id_number": mask_id(h.id_number)},
                "user": {"name": r.name, "id_number": mask_id(r.id_number)},
                "relation": b.relation,
                "holder_region": holder_region,
                "user_regions": user_regions,
                "bound_at": utc_iso(b.bound_at),
            }
        )
    return out


def bind(
    session: Session,
    *,
    holder_id_number: str,
    relative_id_number: str,
    relation: Relation,
    commitment_signed: bool,
    channel: str,
    pack: Pack | None = None,
) -> SharingBinding:
    """个人账户共济绑定申请: the holder names the user and the relation and signs the commitment."""
    view = (pack or get_pack()).at(local_date(clock.now()))
    if not commitment_signed:
        raise ValidationFailed("commitment_signed", "须签署承诺书", "the commitment must be signed")
    if channel not in ("yunnan_yibao_miniapp", "banshitong_app", "agency_counter"):
        raise ValidationFailed("channel", "绑定渠道应为云南医保小程序、办事通或经办窗口", "unknown channel")
    close = _codes(view, "employee.account.close_relatives")
    if relation.value not in close:
        raise UseRefused(
            "只能与近亲属绑定共济", "only close relatives can be bound", code="accounts.not_close_relative"
        )
    holder, record = _employee(session, holder_id_number, MANAGE, op="bind")
    relative = people.get_person(session, relative_id_number)
    if relative.id == holder.id:
        raise ValidationFailed("relative_id_number", "不能与本人绑定", "a holder cannot bind themself")
    relative_records = people.records_of(session, relative)
    # Both insured in Yunnan and in normal status (seed 000: 仅支持云南省内的参保人员绑定).
    if not _normal(record) or not any(_normal(r) for r in relative_records):
        raise UseRefused(
            "绑定双方须在云南省内参保且为正常参保状态",
            "both must be insured in Yunnan in normal status",
            code="accounts.not_normal",
        )
    _same_pooling_region(session, view, record, relative)
    declared = people.relation_between(session, holder.id_number, relative.id_number)
    if declared is None:
        people.declare_relation(
            session, id_number=holder.id_number, relative_id_number=relative.id_number, relation=relation
        )
    elif declared != relation:
        raise ValidationFailed(
            "relation", f"已登记的亲属关系为 {declared.value}", f"the declared relation is {declared.value}"
        )
    if active_binding(session, holder.id, relative.id) is not None:
        raise Conflict("已存在有效的共济绑定", "an active binding already exists", code="accounts.already_bound")
    now = clock.now()
    b = SharingBinding(
        holder_id=holder.id,
        relative_id=relative.id,
        relation=relation.value,
        status="active",
        channel=channel,
        commitment_signed_at=now,
        bound_at=now,
    )
    session.add(b)
    session.flush()
    return b


def unbind(
    session: Session,
    *,
    holder_id_number: str,
    relative_id_number: str,
    channel: str,
    clerk: str | None = None,
    proof: str | None = None,
) -> SharingBinding:
    """解除绑定: online by the holder, or at the agency with ID and proof of relation (recorded by the clerk)."""
    holder, _ = people.require(session, holder_id_number, MANAGE, op="unbind")
    clerk = _clerk(session, clerk)
    relative = people.get_person(session, relative_id_number)
    b = active_binding(session, holder.id, relative.id)
    if b is None:
        raise NotFound("没有有效的共济绑定", "no active binding", code="accounts.no_binding")
    if channel == "agency_counter":
        if not clerk or not proof:
            raise ValidationFailed(
                "proof", "线下解绑须携带身份证及关系证明材料，由经办人员登记", "at the agency: clerk and proof required"
            )
    elif channel not in ("yunnan_yibao_miniapp", "banshitong_app"):
        raise ValidationFailed("channel", "解绑渠道无效", "unknown channel")
    b.status = "ended"
    b.unbound_at = clock.now()
    b.unbound_channel = channel
    b.unbound_by = clerk
    b.unbind_proof = proof
    session.flush()
    return b


def bindings_of(session: Session, id_number: str) -> list[dict[str, Any]]:
    """Binding and unbinding records, seen by either side (个人账户共济授权记录查询)."""
    person, _ = people.require(session, id_number, READ, reading="bindings")
    rows = session.scalars(
        select(SharingBinding)
        .where(or_(SharingBinding.holder_id == person.id, SharingBinding.relative_id == person.id))
        .order_by(SharingBinding.id)
    )
    out = []
    for b in rows:
        h, r = session.get(Person, b.holder_id), session.get(Person, b.relative_id)
        assert h is not None and r is not None
        out.append(
            {
                "holder": {"name": h.name, "id_number": mask_id(h.id_number)},
                "user": {"name": r.name, "id_number": mask_id(r.id_number)},
                "relation": b.relation,
                "status": b.status,
                "channel": b.channel,
                "bound_at": utc_iso(b.bound_at),
                "unbound_at": utc_iso(b.unbound_at) if b.unbound_at else None,
                "unbound_channel": b.unbound_channel,
            }
        )
    return out


# ---- a relative's resident premium from the account ------------------------------------


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
) -> dict[str, Any]:
    """The seed's flow: both insurances normal, binding present, balance enough; else refused, nothing moved."""
    pack = pack or get_pack()
    holder, record = _employee(session, holder_id_number, MANAGE, op="relative_premium", year=year)
    relative = people.get_person(session, relative_id_number)
    resident = session.scalar(
        select(InsuranceRecord).where(
            InsuranceRecord.person_id == relative.id, InsuranceRecord.scheme == Scheme.RESIDENT.value
        )
    )
    if not _normal(record) or not _normal(resident):
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
        _same_pooling_region(session, view, record, relative)
    amount = premiums.contribution_year(year, pack).amount
    with session.begin_nested():
        receipt = premiums.pay_premium(
            session,
            premiums.PaymentRequest(
                insured_id_number=relative.id_number,
                insured_name=relative_name,
                year=year,
                amount=premiums.contribution_year(year, pack).amount,
                channel=premiums.ACCOUNT_CHANNEL,
                region=resident.region_code,
                idempotency_key=key,
                payer_id_number=holder.id_number,
                payer_name=holder.name,
            ),
            now=now,
            pack=pack,
            from_account=True,
        )
        entry = session.scalar(
            select(JournalEntry).where(JournalEntry.reference == receipt["receipt_no"], JournalEntry.kind == "payment")
        )
        if entry is None:  # not a replay: move the money now (refused together with the receipt if short)
            _balance_greater_than(session, view, holder.id, amount)
            ledger.transfer(
                session,
                kind="payment",
                source=ledger.member_account(session, holder.id),
                target=ledger.system_account(session, Purpose.PREMIUMS, holder.id),
                amount=amount,
                # "Greater than": at least one fen must stay, checked in the same guarded statement.
                keep=1,
                member_id=holder.id,
                category="resident_premium",
                beneficiary_id=relative.id,
                reference=receipt["receipt_no"],
            )
    return receipt


def _balance_greater_than(session: Session, view: PolicyView, holder_id: int, amount: int) -> None:
    """Seed 000: the balance must be greater than the premium; an equal balance fails (nothing moves)."""
    rule_ = view.get("employee.account.relative_premium_balance")
    acc = ledger.member_account(session, holder_id)
    session.refresh(acc)
    if acc.status == "open" and acc.balance <= amount:
        raise ledger.InsufficientBalance(
            f"个人账户余额 {format_yuan(acc.balance)} 元，应大于城乡居民医保个人缴费金额 {format_yuan(amount)} 元，"
            "否则缴费将失败",
            f"the balance ({format_yuan(acc.balance)}) must be greater than the premium ({format_yuan(amount)})",
            details={"quote": rule_.citation.quote},
        )


# ---- commercial critical-illness insurance ----------------------------------------------


def policy_view(p: InsurancePolicy) -> dict[str, Any]:
    """A commercial insurance policy as its holder sees it."""
    return {
        "policy_id": p.id,
        "product": p.product,
        "shares": p.shares,
        "yearly_premium": format_yuan(p.yearly_premium),
        "maturity_year": p.maturity_year,
    }


def purchase_insurance(
    session: Session,
    *,
    holder_id_number: str,
    insured_id_number: str,
    product: str,
    shares: int,
    key: str,
    now: datetime,
    source: str | None = None,
    pack: Pack | None = None,
) -> dict[str, Any]:
    """:func:`buy_insurance` once per idempotency key: a retried purchase answers as the first, charging nothing."""
    body: dict[str, Any] = {"op": "insurance", "holder": holder_id_number, "insured": insured_id_number}
    body |= {"product": product, "shares": shares}

    def run() -> dict[str, Any]:
        return policy_view(
            buy_insurance(
                session,
                holder_id_number=holder_id_number,
                insured_id_number=insured_id_number,
                product=product,
                shares=shares,
                now=now,
                pack=pack,
            )
        )

    space = idempotency.namespace(auth.principal_of(session), source)
    return idempotency.once(session, space=space, key=key, body=body, run=run)


def buy_insurance(
    session: Session,
    *,
    holder_id_number: str,
    insured_id_number: str,
    product: str,
    shares: int,
    now: datetime,
    pack: Pack | None = None,
) -> InsurancePolicy:
    """Buy 宝宝安康 (minors) or 吉瑞安康 (adults) shares, only from the balance above 1,000."""
    view = (pack or get_pack()).at(local_date(now))
    if not 1 <= shares <= 100:
        raise ValidationFailed("shares", "份数应为1至100", "shares must be 1 to 100")
    products = _codes(view, "employee.account.insurance_products")
    if product not in products:
        raise ValidationFailed("product", f"产品应为 {'、'.join(products)} 之一", "unknown product")
    holder, record = _employee(session, holder_id_number, MANAGE, op="insurance", product=product, shares=shares)
    if not _normal(record):
        raise UseRefused(
            "职工医保参保状态不正常", "employee insurance is not in normal status", code="accounts.not_normal"
        )
    insured = people.get_person(session, insured_id_number)
    if insured.id != holder.id:
        rel = people.relation_between(session, holder.id_number, insured.id_number)
        if rel is None or rel.value not in _codes(view, "employee.account.direct_relatives"):
            raise UseRefused(
                "只能为本人或直系亲属购买",
                "only for the holder or a direct relative",
                code="accounts.not_direct_relative",
            )
    adult = age_on(insured.birth_date, local_date(now)) >= view.whole("employee.account.insurance.adult_age")
    if (product == "baobao_ankang") == adult:
        raise UseRefused(
            "宝宝安康面向未成年人，吉瑞安康面向成年人",
            "宝宝安康 is for minors, 吉瑞安康 for adults",
            code="accounts.wrong_product",
        )
    price = view.money("employee.account.insurance.price_per_share", product)
    premium = price * shares
    keep = view.money("employee.account.commercial_insurance_min_balance")
    ledger.transfer(
        session,
        kind="payment",
        source=ledger.member_account(session, holder.id),
        target=ledger.system_account(session, Purpose.INSURERS, holder.id),
        amount=premium,
        member_id=holder.id,
        category="commercial_health_insurance",
        beneficiary_id=insured.id,
        reference=products[product],
        keep=keep,
    )
    term = view.whole("employee.account.insurance.term_years")
    policy = InsurancePolicy(
        holder_id=holder.id,
        insured_id=insured.id,
        product=product,
        shares=shares,
        yearly_premium=premium,
        premiums_paid=premium,
        years_paid=1,
        start=now,
        maturity_year=now.year + term,
        status="in_force",
    )
    session.add(policy)
    session.flush()
    return policy


def pay_insurance_year(session: Session, *, policy_id: int, now: datetime, pack: Pack | None = None) -> InsurancePolicy:
    """分期缴费: the next yearly premium, again only from the balance above 1,000."""
    view = (pack or get_pack()).at(local_date(now))
    policy = _policy(session, policy_id)
    _allow(session, RENEW, policy.holder_id, policy=policy_id)
    if policy.status != "in_force" or now.year >= policy.maturity_year:
        raise Conflict("保单已期满", "the policy has matured", code="accounts.policy_matured")
    ledger.transfer(
        session,
        kind="payment",
        source=ledger.member_account(session, policy.holder_id),
        target=ledger.system_account(session, Purpose.INSURERS, policy.holder_id),
        amount=policy.yearly_premium,
        member_id=policy.holder_id,
        category="commercial_health_insurance",
        beneficiary_id=policy.insured_id,
        reference=f"policy {policy.id}",
        keep=view.money("employee.account.commercial_insurance_min_balance"),
    )
    policy.premiums_paid += policy.yearly_premium
    policy.years_paid += 1
    session.flush()
    return policy


def mature_insurance(session: Session, *, policy_id: int, now: datetime, pack: Pack | None = None) -> InsurancePolicy:
    """期满返还: 110% of the premiums paid flows back into the account."""
    view = (pack or get_pack()).at(local_date(now))
    policy = _policy(session, policy_id)
    _allow(session, RENEW, policy.holder_id, policy=policy_id, maturity=True)
    if policy.status != "in_force":
        raise Conflict("保单已期满返还", "the policy already matured", code="accounts.policy_matured")
    if now.year < policy.maturity_year:
        raise Conflict(
            f"保单 {policy.maturity_year} 年期满",
            f"the policy matures in {policy.maturity_year}",
            code="accounts.not_mature",
        )
    ratio = view.ratio("employee.account.insurance.maturity_return_ratio")
    back = mul_ratio(policy.premiums_paid, ratio)
    ledger.transfer(
        session,
        kind="insurance_return",
        source=ledger.system_account(session, Purpose.INSURERS, policy.holder_id),
        target=ledger.member_account(session, policy.holder_id),
        amount=back,
        member_id=policy.holder_id,
        category="commercial_health_insurance",
        reference=f"policy {policy.id} maturity",
    )
    policy.status = "matured"
    session.flush()
    return policy


def _policy(session: Session, policy_id: int) -> InsurancePolicy:
    p = session.get(InsurancePolicy, policy_id)
    if p is None:
        raise NotFound("没有该保单", "no such policy", code="accounts.no_policy")
    return p


# ---- withdrawals in the special cases ---------------------------------------------------

# Documents each case needs (seed 000's wording where it gives any).
REQUIRED_DOCUMENTS: dict[str, tuple[str, ...]] = {
    "settle_abroad": ("身份证", "出国定居证明"),
    "death": ("死亡证明", "继承关系证明"),
    "abroad_before_retirement": ("身份证", "国外定居证明", "减员及停止保险手续"),
    "transfer_not_accepted": ("身份证", "接收地不接受个人账户余额的证明"),
    "give_up": ("身份证", "放弃参加职工基本医疗保险的申请"),
}


def apply_withdrawal(
    session: Session,
    *,
    holder_id_number: str,
    case: str,
    documents: list[str],
    heir_id_number: str | None = None,
    pack: Pack | None = None,
) -> WithdrawalRequest:
    """Apply to withdraw the balance in one of the special cases, with the documents it needs."""
    view = (pack or get_pack()).at(local_date(clock.now()))
    cases = _codes(view, "employee.account.withdrawal_cases")
    if case not in cases:
        raise UseRefused(
            "个人账户余额通常不可提现，仅出国定居、死亡继承等特殊情形可申请",
            "withdrawal only in the special cases",
            code="accounts.no_withdrawal_case",
        )
    missing = [d for d in REQUIRED_DOCUMENTS[case] if d not in documents]
    if missing:
        raise ValidationFailed(
            "documents", f"缺少材料：{'、'.join(missing)}", f"missing documents: {', '.join(missing)}"
        )
    holder, _ = _employee(session, holder_id_number, MANAGE, op="withdrawal", case=case)
    heir_id = None
    if case == "death":
        if not heir_id_number:
            raise ValidationFailed("heir_id_number", "死亡继承须指定合法继承人", "an heir is required")
        heir_id = people.get_person(session, heir_id_number).id
    open_req = session.scalar(
        select(WithdrawalRequest).where(WithdrawalRequest.holder_id == holder.id, WithdrawalRequest.status == "pending")
    )
    if open_req is not None:
        raise Conflict(
            "已有待审核的提取申请", "a withdrawal application is already pending", code="accounts.withdrawal_pending"
        )
    req = WithdrawalRequest(
        holder_id=holder.id,
        case=case,
        documents=json.dumps(documents, ensure_ascii=False),
        status="pending",
        heir_id=heir_id,
        applied_at=clock.now(),
    )
    session.add(req)
    session.flush()
    return req


def decide_withdrawal(session: Session, *, request_id: int, approve: bool, clerk: str, note: str) -> WithdrawalRequest:
    """The agency's decision: approved, the balance is paid out (or to the heir's account) and the account closed."""
    req = session.get(WithdrawalRequest, request_id)
    if req is None:
        raise NotFound("没有该提取申请", "no such withdrawal application", code="accounts.no_withdrawal")
    _allow(session, DECIDE, req.holder_id, request_id=request_id, approve=approve)
    clerk = _clerk(session, clerk) or clerk
    if req.status != "pending":
        raise Conflict("该申请不在待审核状态", "the application is not pending", code="accounts.withdrawal_not_pending")
    req.status = "approved" if approve else "rejected"
    req.decided_by, req.decision_note, req.decided_at = clerk, note, clock.now()
    if approve:
        acc = ledger.member_account(session, req.holder_id)
        pending = session.scalar(
            select(func.count()).select_from(Hold).where(Hold.member_id == req.holder_id, Hold.status == "held")
        )
        if pending:
            # A held amount would come back to a closed account if it were voided later.
            raise Conflict(
                "该账户有未结算的预扣，请先结算或撤销后再审批提取",
                "the account has pending holds: post or void them before approving the withdrawal",
                code="accounts.holds_pending",
            )
        session.refresh(acc)
        amount = acc.balance
        if amount:
            heir_acc = None
            if req.heir_id is not None:
                heir_acc = session.scalar(
                    select(LedgerAccount).where(
                        LedgerAccount.purpose == Purpose.MEMBER.value, LedgerAccount.owner_id == req.heir_id
                    )
                )
            target = heir_acc or ledger.system_account(session, Purpose.WITHDRAWALS, req.holder_id)
            ledger.transfer(
                session,
                kind="withdrawal",
                source=acc,
                target=target,
                amount=amount,
                member_id=req.holder_id,
                category=req.case,
                beneficiary_id=req.heir_id,
                reference=f"withdrawal {req.id}",
            )
        req.amount = amount
        acc.status = "closed"
    session.flush()
    return req


# ---- queries ------------------------------------------------------------------------------


def balance(session: Session, id_number: str) -> dict[str, Any]:
    """账户余额."""
    person, _ = _employee(session, id_number, READ, reading="balance")
    acc = ledger.member_account(session, person.id, create=False)
    session.refresh(acc)
    return {
        "id_number": mask_id(person.id_number),
        "name": person.name,
        "balance": format_yuan(acc.balance),
        "status": acc.status,
    }


def statement(
    session: Session,
    id_number: str,
    *,
    kind: str = "all",
    start: date | None = None,
    end: date | None = None,
    page: int = 1,
    per_page: int = 20,
) -> dict[str, Any]:
    """Records of the account: spending (消费), transfers in (资金划入) or proxy premium payments (代缴), paged."""
    if not 1 <= per_page <= 200 or page < 1:
        raise ValidationFailed("per_page", "每页1至200条", "per_page must be 1 to 200")
    person, _ = _employee(session, id_number, READ, reading=f"records:{kind}")
    acc = ledger.member_account(session, person.id)
    q = (
        select(JournalEntry, JournalLine.amount)
        .join(JournalLine, JournalLine.entry_id == JournalEntry.id)
        .where(JournalLine.account_id == acc.id)
    )
    if kind == "spending":
        q = q.where(JournalLine.amount < 0)
    elif kind == "transfers_in":
        q = q.where(JournalEntry.kind == "credit")
    elif kind == "proxy":
        q = q.where(and_(JournalEntry.category == "resident_premium", JournalEntry.beneficiary_id != person.id))
    elif kind != "all":
        raise ValidationFailed("kind", "记录类型应为 all、spending、transfers_in 或 proxy", "unknown kind")
    if start:
        q = q.where(JournalEntry.created_at >= day_start(start))
    if end and (after := day_after(end)) is not None:
        q = q.where(JournalEntry.created_at < after)
    rows = session.execute(q.order_by(JournalEntry.id.desc()).offset((page - 1) * per_page).limit(per_page + 1)).all()
    items = [ledger.entry_view(e.id, e.kind, e.category, amt, e.reference, e.created_at) for e, amt in rows[:per_page]]
    return {"page": page, "per_page": per_page, "has_more": len(rows) > per_page, "items": items}


def verify_ledger(session: Session) -> ledger.Verification:
    """Check the books (finance and auditors of the province: it spans every region)."""
    auth.authorize(session, VERIFY)
    return ledger.verify(session)
