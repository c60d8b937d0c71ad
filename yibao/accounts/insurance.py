"""Commercial critical-illness insurance (宝宝安康, 吉瑞安康) bought from the balance above 1,000 (seed 003):
the purchase, the yearly premiums (分期缴费) and the return of premiums at maturity (期满返还).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from yibao.accounts import ledger
from yibao.accounts.access import MANAGE, RENEW, UseRefused, allow, codes, employee, is_normal
from yibao.accounts.models import EntryKind, InsurancePolicy, InsuranceStatus, Purpose
from yibao.accounts.schemas import InsurancePolicyOut
from yibao.core import auth, idempotency
from yibao.core.dates import age_on, local_date
from yibao.core.errors import Conflict, NotFound, ValidationFailed
from yibao.core.money import format_yuan, mul_ratio
from yibao.people import persons, relations
from yibao.policy.loader import get_pack
from yibao.policy.model import Pack

_CATEGORY = "commercial_health_insurance"  # the use of the account (employee.account.allowed_uses)


def _policy_view(p: InsurancePolicy) -> InsurancePolicyOut:
    """A commercial insurance policy as its holder sees it."""
    return InsurancePolicyOut(
        policy_id=p.id,
        product=p.product,
        shares=p.shares,
        yearly_premium=format_yuan(p.yearly_premium),
        maturity_year=p.maturity_year,
    )


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
) -> InsurancePolicyOut:
    """Buy 宝宝安康 (minors) or 吉瑞安康 (adults) shares, only from the balance above 1,000, once per
    idempotency key: a retried purchase answers as the first, charging nothing."""
    body: dict[str, Any] = {"op": "insurance", "holder": holder_id_number, "insured": insured_id_number}
    body |= {"product": product, "shares": shares}

    def run() -> dict[str, Any]:
        policy = _buy(
            session,
            holder_id_number=holder_id_number,
            insured_id_number=insured_id_number,
            product=product,
            shares=shares,
            now=now,
            pack=pack or get_pack(),
        )
        return _policy_view(policy).model_dump(mode="json")

    space = idempotency.namespace(auth.principal_of(session), source)
    return InsurancePolicyOut.model_validate(idempotency.once(session, space=space, key=key, body=body, run=run))


def _buy(
    session: Session,
    *,
    holder_id_number: str,
    insured_id_number: str,
    product: str,
    shares: int,
    now: datetime,
    pack: Pack,
) -> InsurancePolicy:
    view = pack.at(local_date(now))
    most = view.whole("employee.account.insurance.max_shares")
    if not 1 <= shares <= most:
        raise ValidationFailed("shares", f"份数应为1至{most}", f"shares must be 1 to {most}")
    products = codes(view, "employee.account.insurance_products")
    if product not in products:
        raise ValidationFailed("product", f"产品应为 {'、'.join(products)} 之一", "unknown product")
    holder, record = employee(session, holder_id_number, MANAGE, op="insurance", product=product, shares=shares)
    if not is_normal(record):
        raise UseRefused(
            "职工医保参保状态不正常", "employee insurance is not in normal status", code="accounts.not_normal"
        )
    insured = persons.get_person(session, insured_id_number)
    if insured.id != holder.id:
        rel = relations.relation_between(session, holder.id_number, insured.id_number)
        if rel is None or rel not in codes(view, "employee.account.direct_relatives"):
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
    premium = view.money("employee.account.insurance.price_per_share", product) * shares
    ledger.transfer(
        session,
        kind=EntryKind.PAYMENT,
        source=ledger.member_account(session, holder.id),
        target=ledger.system_account(session, Purpose.INSURERS, holder.id),
        amount=premium,
        member_id=holder.id,
        category=_CATEGORY,
        beneficiary_id=insured.id,
        reference=products[product],
        keep=view.money("employee.account.commercial_insurance_min_balance"),
    )
    policy = InsurancePolicy(
        holder_id=holder.id,
        insured_id=insured.id,
        product=product,
        shares=shares,
        yearly_premium=premium,
        premiums_paid=premium,
        years_paid=1,
        start=now,
        maturity_year=now.year + view.whole("employee.account.insurance.term_years"),
        status=InsuranceStatus.IN_FORCE,
    )
    session.add(policy)
    session.flush()
    return policy


def pay_insurance_year(
    session: Session, *, policy_id: int, now: datetime, pack: Pack | None = None
) -> InsurancePolicyOut:
    """分期缴费: the premium of the next year due, again only from the balance above 1,000; once per year."""
    view = (pack or get_pack()).at(local_date(now))
    policy = _policy(session, policy_id)
    allow(session, RENEW, policy.holder_id, policy=policy_id)
    if policy.status != InsuranceStatus.IN_FORCE or now.year >= policy.maturity_year:
        raise Conflict("保单已期满", "the policy has matured", code="accounts.policy_matured")
    due = policy.start.year + policy.years_paid  # the year of purchase is paid at purchase
    if due > now.year:
        raise Conflict(
            f"保单 {due - 1} 年度及以前的保费已缴清，下次缴费为 {due} 年度",
            f"premiums are paid up to {due - 1}; the next is due in {due}",
            code="accounts.premium_paid",
        )
    with session.begin_nested():  # the year claimed and the money moved together, or neither
        _claim(
            session,
            policy,
            premiums_paid=InsurancePolicy.premiums_paid + policy.yearly_premium,
            years_paid=InsurancePolicy.years_paid + 1,
        )
        ledger.transfer(
            session,
            kind=EntryKind.PAYMENT,
            source=ledger.member_account(session, policy.holder_id),
            target=ledger.system_account(session, Purpose.INSURERS, policy.holder_id),
            amount=policy.yearly_premium,
            member_id=policy.holder_id,
            category=_CATEGORY,
            beneficiary_id=policy.insured_id,
            reference=f"policy {policy.id}",
            keep=view.money("employee.account.commercial_insurance_min_balance"),
        )
    session.refresh(policy)
    return _policy_view(policy)


def mature_insurance(
    session: Session, *, policy_id: int, now: datetime, pack: Pack | None = None
) -> InsurancePolicyOut:
    """期满返还: 110% of the premiums paid flows back into the account (to the account: assumed, policy.md)."""
    view = (pack or get_pack()).at(local_date(now))
    policy = _policy(session, policy_id)
    allow(session, RENEW, policy.holder_id, policy=policy_id, maturity=True)
    if policy.status != InsuranceStatus.IN_FORCE:
        raise Conflict("保单已期满返还", "the policy already matured", code="accounts.policy_matured")
    if now.year < policy.maturity_year:
        raise Conflict(
            f"保单 {policy.maturity_year} 年期满",
            f"the policy matures in {policy.maturity_year}",
            code="accounts.not_mature",
        )
    ratio = view.ratio("employee.account.insurance.maturity_return_ratio")
    with session.begin_nested():
        _claim(session, policy, status=InsuranceStatus.MATURED)
        ledger.transfer(
            session,
            kind=EntryKind.INSURANCE_RETURN,
            source=ledger.system_account(session, Purpose.INSURERS, policy.holder_id),
            target=ledger.member_account(session, policy.holder_id),
            amount=mul_ratio(policy.premiums_paid, ratio),
            member_id=policy.holder_id,
            category=_CATEGORY,
            reference=f"policy {policy.id} maturity",
        )
    session.refresh(policy)
    return _policy_view(policy)


def _claim(session: Session, policy: InsurancePolicy, **values: Any) -> None:
    """Change a policy only as it was read: a concurrent renewal or maturity of the same policy finds it changed."""
    claimed = session.execute(
        update(InsurancePolicy)
        .where(
            InsurancePolicy.id == policy.id,
            InsurancePolicy.status == InsuranceStatus.IN_FORCE,
            InsurancePolicy.years_paid == policy.years_paid,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(
            "保单已被同时处理，请重试", "the policy changed meanwhile: try again", code="accounts.policy_changed"
        )


def _policy(session: Session, policy_id: int) -> InsurancePolicy:
    p = session.get(InsurancePolicy, policy_id)
    if p is None:
        raise NotFound("没有该保单", "no such policy", code="accounts.no_policy")
    return p
