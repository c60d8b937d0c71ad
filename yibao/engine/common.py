"""Rules shared by several benefits: when cover starts, who counts as a child, the yearly fund ceiling."""

from __future__ import annotations

from datetime import date

from yibao.core.dates import add_months, age_on
from yibao.engine.claims import Group, Person
from yibao.engine.explain import Decision, Refusal, Trace


def refuse(t: Trace, total: int, code: str, zh: str, en: str, *, personal: int | None = None) -> Decision:
    """A decision that pays nothing, with the reason as its last step."""
    t.step(f"refusal.{code}", "不予支付：{reason}", 0, reason=zh)
    return Decision(
        total=total,
        fund_pay=0,
        catastrophic_pay=0,
        steps=tuple(t.steps),
        refused=Refusal(code, zh, en),
        personal_pay_override=personal,
    )


def benefit_start(birth_date: date, enrolment_date: date, window_months: int) -> date:
    """Newborns enrolled within ``window_months`` of birth are covered from birth; others from enrolment."""
    return birth_date if enrolment_date <= add_months(birth_date, window_months) else enrolment_date


def coverage_refusal(t: Trace, person: Person, service: date) -> tuple[str, str, str] | None:
    """Refuse a claim whose date of service falls before the person's cover starts."""
    if person.enrolment_date is None:
        return None
    window, use = t.param("resident.newborn.enrolment_window_months")
    deadline = add_months(person.birth_date, window)
    if benefit_start(person.birth_date, person.enrolment_date, window) == person.birth_date:
        start = person.birth_date
        t.step(
            "resident.newborn.enrolment_window_months",
            "出生后 {window} 个月内（{deadline} 前）办理参保，自出生之日 {start} 起享受待遇",
            None,
            use,
            window=window,
            deadline=deadline,
            start=start,
        )
    else:
        start = person.enrolment_date
        t.step(
            "resident.newborn.enrolment_window_months",
            "参保日期 {start} 晚于出生后 {window} 个月，自参保之日起享受待遇",
            None,
            use,
            window=window,
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
    """Students, children and residents under 18 on the day of service pay the lower deductible."""
    if person.group is Group.STUDENT_CHILD:
        t.step("resident.population_group", "参保人群为在校学生、少年儿童", None)
        return True
    limit, use = t.param("resident.child_age_limit")
    age = age_on(person.birth_date, on)
    if age < limit:
        t.step(
            "resident.child_age_limit",
            "入院时 {age} 周岁，未满 {limit} 周岁，按少年儿童标准",
            None,
            use,
            age=age,
            limit=limit,
        )
        return True
    t.step("resident.population_group", "入院时 {age} 周岁，按普通居民标准", None, use, age=age)
    return False


def apply_ceiling(t: Trace, amount: int, fund_paid: int) -> int:
    """Limit a fund payment by what is left of the yearly ceiling shared by inpatient and outpatient care."""
    ceiling, use = t.param("resident.fund_ceiling")
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
