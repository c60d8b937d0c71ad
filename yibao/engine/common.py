"""Rules shared by several benefits: when cover starts, who counts as a child, the yearly fund ceiling."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from yibao.core.dates import add_months, age_on
from yibao.engine.claims import Group, Person
from yibao.engine.explain import Decision, Refusal, Trace


def refuse(
    t: Trace,
    total: int,
    code: str,
    zh: str,
    en: str,
    *,
    personal: int | None = None,
    ytd: Mapping[str, int] | None = None,
) -> Decision:
    """A decision that pays nothing, with the reason as its last step.

    A refused claim is not reimbursed at all (「不予报销」): it adds nothing to any accumulator, so it
    hands back the accumulators it was given, unchanged, for the next claim of the year.
    """
    t.step(f"refusal.{code}", "不予支付：{reason}", 0, reason=zh)
    return Decision(
        total=total,
        fund_pay=0,
        catastrophic_pay=0,
        steps=tuple(t.steps),
        refused=Refusal(code, zh, en),
        personal_pay_override=personal,
        ytd_after=dict(ytd or {}),
    )


def benefit_start(birth_date: date, enrolment_date: date, window_months: int) -> date:
    """Cover from birth when enrolled within ``window_months`` of birth, else from enrolment.

    The seed grants cover from birth to newborns with a congenital disease only; the engine applies
    this to claims marked ``congenital`` (see ``coverage_refusal``).
    """
    return birth_date if enrolment_date <= add_months(birth_date, window_months) else enrolment_date


def coverage_refusal(
    t: Trace, person: Person, service: date, *, congenital: bool = False
) -> tuple[str, str, str] | None:
    """Refuse a claim whose date of service falls before the person's cover starts.

    Cover starts at enrolment. Only a newborn with a congenital disease enrolled within three months
    of birth is covered from birth (「新生儿患有先天性心脏病等先天性疾病，自出生之日起三个月内办理新生儿参保手续的，
    从其出生之日开始享受居民医保待遇」), and only for its congenital-disease stays (a claim marked ``congenital``).
    """
    if person.enrolment_date is None:
        return None
    start = person.enrolment_date
    if congenital:
        window, use = t.whole("resident.newborn.enrolment_window_months")
        deadline = add_months(person.birth_date, window)
        if benefit_start(person.birth_date, person.enrolment_date, window) == person.birth_date:
            start = person.birth_date
            t.step(
                "resident.newborn.enrolment_window_months",
                "先天性疾病新生儿出生后 {window} 个月内（{deadline} 前）办理参保，自出生之日 {start} 起享受待遇",
                None,
                use,
                window=window,
                deadline=deadline,
                start=start,
            )
        else:
            t.step(
                "resident.newborn.enrolment_window_months",
                "参保日期 {start} 晚于出生后 {window} 个月（{deadline}），先天性疾病住院也自参保之日起享受待遇",
                None,
                use,
                window=window,
                deadline=deadline,
                start=start,
            )
    else:
        t.step(
            "resident.coverage_start",
            "自参保之日 {start} 起享受待遇（自出生之日起享受待遇仅限出生三个月内参保的先天性疾病新生儿的先天性疾病住院）",
            None,
            start=start,
        )
    if service < start:
        return (
            "coverage.not_started",
            f"就医日期 {service.isoformat()} 早于待遇开始日期 {start.isoformat()}",
            f"date of service {service.isoformat()} is before cover starts on {start.isoformat()}",
        )
    return None


def is_child(t: Trace, person: Person, on: date) -> bool:
    """Students, children and residents aged 18 or under on the day of service pay the lower deductible.

    「18周岁以下」 includes 18 (policy.md, "Ages"): the lower deductible holds until the 19th birthday.
    """
    if person.group is Group.STUDENT_CHILD:
        t.step("resident.population_group", "参保人群为在校学生、少年儿童", None)
        return True
    limit, use = t.whole("resident.child_age_limit")
    age = age_on(person.birth_date, on)
    if age <= limit:
        t.step(
            "resident.child_age_limit",
            "入院时 {age} 周岁，在 {limit} 周岁以下（含 {limit} 周岁），按少年儿童标准",
            None,
            use,
            age=age,
            limit=limit,
        )
        return True
    t.step(
        "resident.population_group",
        "入院时 {age} 周岁，超过 {limit} 周岁，按普通居民标准",
        None,
        use,
        age=age,
        limit=limit,
    )
    return False


def apply_ceiling(t: Trace, amount: int, fund_paid: int) -> int:
    """Limit a fund payment by what is left of the yearly ceiling shared by inpatient and outpatient care."""
    ceiling, use = t.money("resident.fund_ceiling")
    left = max(0, ceiling - fund_paid)
    paid: int = min(amount, left)
    t.step(
        "resident.fund_ceiling",
        "年度基金最高支付限额 {ceiling:y} 元，本年度已支付 {fund_paid:y} 元，剩余 {left:y} 元；本次基金支付 {paid:y} 元",
        paid,
        use,
        ceiling=ceiling,
        fund_paid=fund_paid,
        left=left,
        paid=paid,
    )
    return paid
