"""Fixed subsidies of the resident scheme: maternity (生育费用补助) and disability aids (残疾人装配辅助器具补助).

Neither counts against the yearly fund ceiling (policy.md, Inpatient step 5).
"""

from __future__ import annotations

from yibao.core.dates import add_months, add_years, age_on
from yibao.core.money import format_yuan
from yibao.engine.claims import ResidentDisabilityAid, ResidentMaternity
from yibao.engine.common import refuse
from yibao.engine.explain import Decision, Trace

_DEVICE_ZH = {"thigh_prosthesis": "大腿假肢", "lower_leg_prosthesis": "小腿假肢", "hearing_aid": "助听器"}


def _subsidy(t: Trace, amount: int, total: int | None) -> Decision:
    # A subsidy is a fixed sum, not a share of a bill: the person's own payment is only meaningful
    # when the bill is given, and never below zero.
    personal = 0 if total is None else max(0, total - amount)
    return Decision(
        total=total or 0,
        fund_pay=amount,
        catastrophic_pay=0,
        steps=tuple(t.steps),
        personal_pay_override=personal,
    )


def settle_maternity(c: ResidentMaternity, t: Trace) -> Decision:
    """600 for a natural birth, 1,200 for a caesarean, applied for within one month of discharge."""
    total = c.total or 0
    personal = None if c.total is not None else 0
    if not c.family_planning:
        return refuse(
            t,
            total,
            "maternity.not_family_planning",
            "生育不符合计划生育政策，不享受生育费用补助",
            "the birth is not within family-planning policy",
            personal=personal,
        )
    if not c.documents_complete:
        return refuse(
            t,
            total,
            "maternity.documents_incomplete",
            "申报材料不全：须提供有效证件、准生证、婴儿出生证明、医疗发票、费用明细清单和出院小结",
            "documents incomplete: ID, birth permit, birth certificate, invoice, fee list and discharge summary",
            personal=personal,
        )
    months, use_m = t.param("resident.maternity.application_deadline_months")
    deadline = add_months(c.discharge_date, months)
    t.step(
        "resident.maternity.application_deadline_months",
        f"生育出院后 {months} 个月内（{deadline.isoformat()} 前）申报；申报日期 {c.date.isoformat()}",
        None,
        use_m,
    )
    if c.date > deadline:
        return refuse(
            t,
            total,
            "maternity.late_application",
            f"申报日期 {c.date.isoformat()} 超过出院后 {months} 个月的期限 {deadline.isoformat()}",
            f"applied on {c.date.isoformat()}, after the deadline {deadline.isoformat()}",
            personal=personal,
        )
    amount, use_a = t.param("resident.maternity.subsidy", c.delivery)
    kind = "顺产（含助娩产）" if c.delivery == "natural" else "剖宫产"
    t.step("resident.maternity.subsidy", f"{kind}补助 {format_yuan(amount)} 元", amount, use_a)
    return _subsidy(t, amount, c.total)


def settle_disability_aid(c: ResidentDisabilityAid, t: Trace) -> Decision:
    """Prostheses once per device per five years; hearing aids for children under seven."""
    total = c.total or 0
    personal = None if c.total is not None else 0
    device = _DEVICE_ZH[c.device]
    if not c.certificate:
        return refuse(
            t,
            total,
            "disability_aid.no_certificate",
            "未持有残疾证，不享受辅助器具补助",
            "no disability certificate",
            personal=personal,
        )
    if not c.designated:
        return refuse(
            t,
            total,
            "disability_aid.not_designated",
            "未在残疾人装配辅助器具定点机构装配",
            "not fitted at a designated fitting institution",
            personal=personal,
        )
    if c.device == "hearing_aid":
        limit, use_l = t.param("resident.disability_aid.hearing_aid_age_limit")
        age = age_on(c.person.birth_date, c.date)
        t.step(
            "resident.disability_aid.hearing_aid_age_limit",
            f"助听器补助限 {limit} 周岁以下听力障碍儿童；申请时 {age} 周岁",
            None,
            use_l,
        )
        if age >= limit:
            return refuse(
                t,
                total,
                "disability_aid.over_age",
                f"申请时已满 {limit} 周岁，不享受助听器补助",
                f"the child is {age}, not under {limit}",
                personal=personal,
            )
    else:
        years, use_y = t.param("resident.disability_aid.interval_years")
        if c.last_subsidy_date is not None:
            next_ok = add_years(c.last_subsidy_date, years)
            t.step(
                "resident.disability_aid.interval_years",
                f"每 {years} 年补助一次：上次补助 {c.last_subsidy_date.isoformat()}，{next_ok.isoformat()} 起可再次申请",
                None,
                use_y,
            )
            if c.date < next_ok:
                return refuse(
                    t,
                    total,
                    "disability_aid.within_interval",
                    f"距上次补助未满 {years} 年（{next_ok.isoformat()} 起可再次申请）",
                    f"less than {years} years since the last subsidy (allowed from {next_ok.isoformat()})",
                    personal=personal,
                )
        else:
            t.step("resident.disability_aid.interval_years", f"每 {years} 年补助一次：此前未领取过", None, use_y)
    each, use_a = t.param("resident.disability_aid.subsidy", c.device)
    amount = each * c.quantity
    t.step(
        "resident.disability_aid.subsidy",
        f"{device}每具（只）补助 {format_yuan(each)} 元 × {c.quantity} = {format_yuan(amount)} 元",
        amount,
        use_a,
    )
    return _subsidy(t, amount, c.total)
