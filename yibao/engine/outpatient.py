"""Resident outpatient benefits: special-disease outpatient (门诊特殊病) and general outpatient (普通门诊)."""

from __future__ import annotations

from yibao.core.dates import age_on
from yibao.core.errors import ValidationFailed
from yibao.core.money import format_yuan, mul_ratio
from yibao.engine.claims import ResidentGeneralOutpatient, ResidentSpecialOutpatient
from yibao.engine.common import apply_ceiling, coverage_refusal, refuse
from yibao.engine.explain import Decision, Trace
from yibao.policy.render import percent_text


def settle_general_outpatient(c: ResidentGeneralOutpatient, t: Trace) -> Decision:
    """50% of in-scope cost at a community health centre, per-visit and yearly caps, shared fund ceiling."""
    found = coverage_refusal(t, c.person, c.date)
    if found:
        return refuse(t, c.total, *found, ytd=dict(c.ytd))
    if c.facility != "community_health_center":
        return refuse(
            t,
            c.total,
            "general_outpatient.not_community_center",
            "普通门诊待遇仅限在社区卫生服务中心就医，其他定点医院的普通门诊不享受此待遇",
            "general outpatient benefit applies only at community health service centres",
            ytd=dict(c.ytd),
        )
    ratio, use_r = t.ratio("resident.general_outpatient.ratio")
    raw = mul_ratio(c.in_scope, ratio)
    t.step(
        "resident.general_outpatient.ratio",
        "政策范围内费用 {s:y} 元 × {r:p} = {x:y} 元",
        raw,
        use_r,
        s=c.in_scope,
        r=ratio,
        x=raw,
    )
    per_visit, use_v = t.money("resident.general_outpatient.per_visit_cap")
    visit = min(raw, per_visit)
    t.step(
        "resident.general_outpatient.per_visit_cap",
        "单次最高报销 {cap:y} 元：{x:y} 元",
        visit,
        use_v,
        cap=per_visit,
        x=visit,
    )
    elderly_age, use_a = t.whole("resident.general_outpatient.elderly_age", c.person.sex.value)
    age = age_on(c.person.birth_date, c.date)
    if age >= elderly_age:
        cap, use_c = t.money("resident.general_outpatient.yearly_cap_elderly")
        who = (
            "男满 {limit} 周岁（现 {age} 周岁）" if c.person.sex.value == "M" else "女满 {limit} 周岁（现 {age} 周岁）"
        )
    else:
        cap, use_c = t.money("resident.general_outpatient.yearly_cap")
        who = "{age} 周岁"
    left = max(0, cap - c.ytd.general_outpatient_paid)
    amount = min(visit, left)
    t.step(
        "resident.general_outpatient.yearly_cap",
        who + "，年度最高报销 {cap:y} 元，已报销 {used:y} 元，剩余 {left:y} 元：{x:y} 元",
        amount,
        use_a,
        use_c,
        limit=elderly_age,
        age=age,
        cap=cap,
        used=c.ytd.general_outpatient_paid,
        left=left,
        x=amount,
    )
    fund = apply_ceiling(t, amount, c.ytd.fund_paid)
    return Decision(
        total=c.total,
        fund_pay=fund,
        catastrophic_pay=0,
        steps=tuple(t.steps),
        ytd_after={
            "fund_paid": c.ytd.fund_paid + fund,
            "general_outpatient_paid": c.ytd.general_outpatient_paid + fund,
        },
    )


def settle_special_outpatient(c: ResidentSpecialOutpatient, t: Trace) -> Decision:
    """With a special-disease card: in-scope cost within the monthly limit, times the disease's ratio."""
    diseases, use_l = t.items("resident.special_outpatient.diseases")
    names = {d.code: d.name for d in diseases}
    by_name = {d.name: d.code for d in diseases}
    code = c.disease if c.disease in names else by_name.get(c.disease)
    if code is None:
        raise ValidationFailed(
            "disease",
            f"{c.disease!r} 不是规定的门诊特殊病病种",
            f"{c.disease!r} is not one of the listed special outpatient diseases",
        )
    found = coverage_refusal(t, c.person, c.date)
    if found:
        return refuse(t, c.total, *found, ytd=dict(c.ytd))
    t.step("resident.special_outpatient.diseases", f"病种：{names[code]}（规定病种之一）", None, use_l)
    if not c.card:
        return refuse(
            t,
            c.total,
            "special_outpatient.no_card",
            "未取得《门诊特殊病治疗卡》：须经申请、专家鉴定确认后凭卡享受特殊病门诊待遇",
            "no special-disease card: the disease must be confirmed by expert appraisal first",
            ytd=dict(c.ytd),
        )
    limit, use_m = t.money("resident.special_outpatient.monthly_limit", code)
    ratio, use_r = t.ratio("resident.special_outpatient.ratio", code)
    left = max(0, limit - c.ytd.month_used)
    counted = min(c.in_scope, left)
    t.step(
        "resident.special_outpatient.monthly_limit",
        f"每月限额 {format_yuan(limit)} 元，本月已用 {format_yuan(c.ytd.month_used)} 元，"
        f"本次计入 {format_yuan(counted)} 元",
        counted,
        use_m,
    )
    raw = mul_ratio(counted, ratio)
    t.step(
        "resident.special_outpatient.ratio",
        f"{format_yuan(counted)} × {percent_text(ratio)} = {format_yuan(raw)} 元",
        raw,
        use_r,
    )
    fund = apply_ceiling(t, raw, c.ytd.fund_paid)
    return Decision(
        total=c.total,
        fund_pay=fund,
        catastrophic_pay=0,
        steps=tuple(t.steps),
        ytd_after={"fund_paid": c.ytd.fund_paid + fund, "month_used": c.ytd.month_used + counted},
    )
