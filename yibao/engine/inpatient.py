"""Resident inpatient stays (住院) with catastrophic cover (大病保险).

policy.md, "Inpatient": in-scope cost, minus the class B prepay, minus the deductible of the
hospital level and population group, times the fund ratio, within what is left of the yearly fund
ceiling. Catastrophic cover then pays on the year's cumulative in-scope personal burden.
"""

from __future__ import annotations

from datetime import timedelta

from yibao.core.dates import add_months
from yibao.core.money import mul_ratio
from yibao.engine.claims import Offsite, ResidentInpatient
from yibao.engine.common import apply_ceiling, coverage_refusal, is_child, refuse
from yibao.engine.explain import Decision, Trace
from yibao.engine.scale import compile_scale

_PLACES = {1: "level1", 2: "level2", 3: "level3"}
_PLACE_ZH = {"level1": "一级医院", "level2": "二级医院", "level3": "三级医院", "offsite": "异地就医"}


def _refusal(t: Trace, c: ResidentInpatient) -> tuple[str, str, str] | None:
    found = coverage_refusal(t, c.person, c.date, congenital=c.congenital)
    if found:
        return found
    if c.offsite is Offsite.NONE:
        # 办理须知 1: 不在定点医院就医或不在医院办理医保住院手续的，所发生的医疗费用不予报销。
        if not c.designated:
            return ("inpatient.not_designated", "未在定点医疗机构住院，费用不予报销", "not a designated hospital")
        if not c.admission_registered:
            return (
                "inpatient.not_registered",
                "未在医院办理医保住院手续，费用不予报销",
                "the insured admission was not registered at the hospital",
            )
    else:
        found = _offsite_refusal(t, c)
        if found:
            return found
    if c.congenital and c.discharge_date and c.application_date:
        days, use = t.whole("resident.newborn.congenital_claim_days")
        deadline = c.discharge_date + timedelta(days=days)
        t.step(
            "resident.newborn.congenital_claim_days",
            f"新生儿先天性疾病住院费用应于出院后 {days} 日内（{deadline.isoformat()} 前）申报",
            None,
            use,
        )
        if c.application_date > deadline and late_claim_refused(t, "congenital"):
            return (
                "newborn.late_claim",
                f"申报日期 {c.application_date.isoformat()} 超过出院后 {days} 日的期限 {deadline.isoformat()}",
                f"claimed on {c.application_date.isoformat()}, after the {days}-day deadline {deadline.isoformat()}",
            )
    return None


def late_claim_refused(t: Trace, kind: str) -> bool:
    """Whether a late claim of this kind is refused: the seeds give the deadline, not the consequence (assumed)."""
    kinds, use = t.items("resident.late_claims_refused")
    refused = any(k.code == kind for k in kinds)
    t.step(
        "resident.late_claims_refused",
        "逾期申报" + ("不予报销（种子只给出申报期限，未写明逾期后果：假定）" if refused else "不因逾期拒付"),
        None,
        use,
    )
    return refused


def _offsite_refusal(t: Trace, c: ResidentInpatient) -> tuple[str, str, str] | None:
    filed = c.filed
    if c.offsite is Offsite.EMERGENCY:
        days, use = t.whole("resident.offsite.emergency_filing_days")
        if c.filing_date is not None:
            limit = c.date + timedelta(days=days)
            filed = c.filing_date <= limit
            t.step(
                "resident.offsite.emergency_filing_days",
                f"异地急诊应在入院后 {days} 日内（{limit.isoformat()} 前）电话备案；备案日期 {c.filing_date.isoformat()}",
                None,
                use,
            )
        else:
            t.step(
                "resident.offsite.emergency_filing_days",
                f"异地急诊应在入院后 {days} 日内电话备案：{'已按时备案' if filed else '未按时备案'}",
                None,
                use,
            )
        if not filed:
            return (
                "offsite.not_filed",
                f"异地急诊未在入院后 {days} 日内向医保中心电话备案",
                f"off-site emergency not filed by phone within {days} days of admission",
            )
    elif not filed:
        t.step("resident.offsite.referral", "异地转院须经三级定点医院签署意见并报经办机构审核备案", None)
        return (
            "offsite.not_filed",
            "异地转院未经三级定点医院签署意见并报医保经办机构审核备案",
            "off-site referral without an approved referral form filed with the agency",
        )
    months, use = t.whole("resident.offsite.application_deadline_months")
    if c.discharge_date is None or c.application_date is None:
        # Without both dates the deadline cannot be checked here; the agency checks it on application.
        t.step(
            "resident.offsite.application_deadline_months",
            "转院及异地急诊费用出院后 {months} 个月内申请报销；未提供出院或申请日期，本次计算未校验期限",
            None,
            use,
            months=months,
        )
        return None
    deadline = add_months(c.discharge_date, months)
    t.step(
        "resident.offsite.application_deadline_months",
        f"转院及异地急诊费用先由个人支付，出院后 {months} 个月内（{deadline.isoformat()} 前）到医保中心报销；"
        f"申请日期 {c.application_date.isoformat()}",
        None,
        use,
    )
    if c.application_date > deadline and late_claim_refused(t, "offsite"):
        return (
            "offsite.late_application",
            f"申请日期 {c.application_date.isoformat()} 超过出院后 {months} 个月的期限 {deadline.isoformat()}",
            f"applied on {c.application_date.isoformat()}, after the deadline {deadline.isoformat()}",
        )
    return None


def settle_inpatient(c: ResidentInpatient, t: Trace) -> Decision:
    """Decide what the fund and catastrophic cover pay for one resident inpatient stay."""
    found = _refusal(t, c)
    if found:
        # 「不予报销」: a refused stay gets no catastrophic pay and adds nothing to the accumulators.
        return refuse(t, c.total, *found, ytd=dict(c.ytd))

    out_of_scope = c.total - c.in_scope
    t.step("resident.inpatient.out_of_scope", "医保范围外费用 {x:y} 元由个人负担", out_of_scope, x=out_of_scope)

    if c.class_b:
        ratio_b, use_b = t.ratio("resident.inpatient.class_b_prepay_ratio")
        prepay = mul_ratio(c.class_b, ratio_b)
        t.step(
            "resident.inpatient.class_b_prepay_ratio",
            "乙类费用 {b:y} 元，个人先自付 {r:p}：{x:y} 元",
            prepay,
            use_b,
            b=c.class_b,
            r=ratio_b,
            x=prepay,
        )
    else:
        # No class B cost: the (assumed) prepay share cannot change the amount, so it is not read.
        prepay = 0
        t.step("resident.inpatient.class_b_prepay_ratio", "无乙类费用，个人无需先自付", 0)

    child = is_child(t, c.person, c.date)
    place = "offsite" if c.offsite is not Offsite.NONE or c.hospital_level is None else _PLACES[c.hospital_level]
    deductible, use_d = t.money("resident.inpatient.deductible", place, "student_child" if child else "general")
    t.step(
        "resident.inpatient.deductible",
        "{where}{who}起付标准 {x:y} 元",
        deductible,
        use_d,
        where=_PLACE_ZH[place],
        who="学生少儿" if child else "普通居民",
        x=deductible,
    )
    base = max(0, c.in_scope - prepay - deductible)
    t.step(
        "resident.inpatient.base",
        "进入统筹的费用 = 医保范围内 {s:y} - 乙类先自付 {b:y} - 起付标准 {d:y} = {x:y} 元（不低于 0）",
        base,
        s=c.in_scope,
        b=prepay,
        d=deductible,
        x=base,
    )
    ratio, use_r = t.ratio("resident.inpatient.fund_ratio", place)
    fund_raw = mul_ratio(base, ratio)
    t.step(
        "resident.inpatient.fund_ratio",
        "基金支付比例 {r:p}：{b:y} × {r:p} = {x:y} 元",
        fund_raw,
        use_r,
        r=ratio,
        b=base,
        x=fund_raw,
    )
    fund = apply_ceiling(t, fund_raw, c.ytd.fund_paid)
    catastrophic, new_base = catastrophic_pay(t, c.ytd.catastrophic_base, c.in_scope - fund)
    return Decision(
        total=c.total,
        fund_pay=fund,
        catastrophic_pay=catastrophic,
        steps=tuple(t.steps),
        ytd_after={"fund_paid": c.ytd.fund_paid + fund, "catastrophic_base": new_base},
    )


def catastrophic_pay(t: Trace, base_before: int, burden: int) -> tuple[int, int]:
    """Catastrophic cover for one stay: scale(new cumulative burden) - scale(previous), rounded once."""
    threshold, use_t = t.money("resident.catastrophic.threshold")
    brackets, use_s = t.scale("resident.catastrophic.scale")
    scale = compile_scale(brackets, threshold)
    after = base_before + burden
    pay = scale.pay(base_before, after)
    t.step(
        "resident.catastrophic",
        "本次政策范围内个人负担 {burden:y} 元，年度累计由 {before:y} 元增至 {after:y} 元；"
        "超过 {threshold:y} 元的部分分段报销，本次大病保险支付 {pay:y} 元",
        pay,
        use_t,
        use_s,
        *t.bands_used(use_s, base_before, after, threshold),
        burden=burden,
        before=base_before,
        after=after,
        threshold=threshold,
        pay=pay,
    )
    return pay, after
