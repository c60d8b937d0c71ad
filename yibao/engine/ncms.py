"""Legacy NCMS (新型农村合作医疗, article of 2017) outpatient and inpatient compensation.

Only the counted part of each cost line is reimbursed (drug, exam and surgery limits per visit or
stay); inpatient stays are paid on the year's cumulative reimbursable cost, the level ratio below
5,000 and the risk-fund segments above it, within the yearly cap.
"""

from __future__ import annotations

from yibao.core.dates import age_on
from yibao.core.money import format_yuan, mul_ratio
from yibao.engine.claims import NcmsInpatient, NcmsOutpatient
from yibao.engine.explain import Decision, ParamUse, Trace
from yibao.engine.scale import compile_scale
from yibao.policy.model import Bracket
from yibao.policy.render import percent_text

_FACILITY_ZH = {"village_clinic": "村卫生室", "township": "镇卫生院", "level2": "二级医院", "level3": "三级医院"}


def settle_ncms_outpatient(c: NcmsOutpatient, t: Trace) -> Decision:
    """Counted drugs, exams/surgery and TCM doses times the facility's ratio, within the yearly cap."""
    where = _FACILITY_ZH[c.facility]
    if c.facility == "village_clinic" and c.iv_prescription:
        drug_cap, use_d = t.money("ncms.outpatient.iv_drug_cap")
        drug_rule = "卫生院医生临时补液处方药费限额"
    else:
        drug_cap, use_d = t.money("ncms.outpatient.drug_cap", c.facility)
        drug_rule = f"{where}每次处方药费限额"
    drugs = min(c.drugs, drug_cap)
    t.step(
        "ncms.outpatient.drug_cap",
        f"{drug_rule} {format_yuan(drug_cap)} 元：计入 {format_yuan(drugs)} 元",
        drugs,
        use_d,
    )
    if c.facility == "village_clinic":
        exams = 0
        # The article sets exam and surgery limits only for township and higher facilities.
        t.step("ncms.outpatient.exam_surgery_cap", "村卫生室检查费、手术费不在门诊补偿范围", 0)
    else:
        cap, use_e = t.money("ncms.outpatient.exam_surgery_cap", c.facility)
        exams = min(c.exams + c.surgery, cap)
        t.step(
            "ncms.outpatient.exam_surgery_cap",
            f"检查费及手术费 {format_yuan(c.exams + c.surgery)} 元，每次限额 {format_yuan(cap)} 元：计入 {format_yuan(exams)} 元",
            exams,
            use_e,
        )
    tcm = 0
    if c.tcm_cost:
        per_dose, use_t = t.money("ncms.outpatient.tcm_per_dose_cap")
        tcm = min(c.tcm_cost, per_dose * c.tcm_doses) if c.tcm_prescription else 0
        t.step(
            "ncms.outpatient.tcm_per_dose_cap",
            f"中药 {c.tcm_doses} 贴，每贴限额 {format_yuan(per_dose)} 元"
            f"{'' if c.tcm_prescription else '（未附处方，不予计入）'}：计入 {format_yuan(tcm)} 元",
            tcm,
            use_t,
        )
    counted = drugs + exams + tcm
    ratio, use_r = t.ratio("ncms.outpatient.ratio", c.facility)
    raw = mul_ratio(counted, ratio)
    t.step(
        "ncms.outpatient.ratio",
        f"{where}报销 {percent_text(ratio)}：{format_yuan(counted)} × {percent_text(ratio)} = {format_yuan(raw)} 元",
        raw,
        use_r,
    )
    if c.dialysis_or_tumour:
        cap, use_c = t.money("ncms.yearly_cap")
        used = c.ytd.fund_paid
        label = "住院及尿毒症门诊血透、肿瘤门诊放疗和化疗补偿年限额"
    else:
        cap, use_c = t.money("ncms.outpatient.yearly_cap")
        used = c.ytd.outpatient_paid
        label = "门诊补偿年限额"
    left = max(0, cap - used)
    fund = min(raw, left)
    t.step(
        "ncms.yearly_cap" if c.dialysis_or_tumour else "ncms.outpatient.yearly_cap",
        f"{label} {format_yuan(cap)} 元，已补偿 {format_yuan(used)} 元，剩余 {format_yuan(left)} 元：本次 {format_yuan(fund)} 元",
        fund,
        use_c,
    )
    after = {"outpatient_paid": c.ytd.outpatient_paid, "fund_paid": c.ytd.fund_paid}
    after["fund_paid" if c.dialysis_or_tumour else "outpatient_paid"] += fund
    return Decision(total=c.total, fund_pay=fund, catastrophic_pay=0, steps=tuple(t.steps), ytd_after=after)


def _elderly_pay(c: NcmsInpatient, t: Trace, age_limit: int, use_a: ParamUse) -> int:
    """「治疗费和护理费每天补偿10元，限额200元」: it compensates treatment and nursing costs, so it never
    exceeds the claim's lines that carry them (which lines: an assumed reading in the pack)."""
    daily, use_d = t.money("ncms.inpatient.elderly_daily")
    cap, use_c = t.money("ncms.inpatient.elderly_cap")
    lines, use_l = t.items("ncms.inpatient.elderly_covered_lines")
    amounts = {"drugs": c.drugs, "exams": c.exams, "surgery": c.surgery, "others": c.others}
    covered: int = sum(amounts[item.code] for item in lines)
    names = "、".join(item.name for item in lines)
    flat = min(daily * c.bed_days, cap)
    paid: int = min(flat, covered)
    t.step(
        "ncms.inpatient.elderly_daily",
        f"{age_limit} 周岁以上老人在镇卫生院住院，治疗费和护理费每天补偿 {format_yuan(daily)} 元 × {c.bed_days} 天，"
        f"限额 {format_yuan(cap)} 元：{format_yuan(flat)} 元；补偿不超过所发生的治疗护理费用"
        f"（{names}）{format_yuan(covered)} 元：补偿 {format_yuan(paid)} 元",
        paid,
        use_a,
        use_d,
        use_c,
        use_l,
    )
    return paid


def settle_ncms_inpatient(c: NcmsInpatient, t: Trace) -> Decision:
    """Reimbursable cost on the year's cumulative scale (level ratio, then risk-fund segments), within the cap."""
    where = _FACILITY_ZH[c.facility]
    exam_cap, use_e = t.money("ncms.inpatient.exam_cap")
    surgery_cap, use_s = t.money("ncms.inpatient.surgery_cap")
    exams = min(c.exams, exam_cap)
    surgery = min(c.surgery, surgery_cap)
    t.step(
        "ncms.inpatient.exam_cap",
        f"辅助检查费 {format_yuan(c.exams)} 元，限额 {format_yuan(exam_cap)} 元：计入 {format_yuan(exams)} 元",
        exams,
        use_e,
    )
    t.step(
        "ncms.inpatient.surgery_cap",
        f"手术费 {format_yuan(c.surgery)} 元，超过 {format_yuan(surgery_cap)} 元的按 {format_yuan(surgery_cap)} 元：计入 {format_yuan(surgery)} 元",
        surgery,
        use_s,
    )
    reimbursable = c.drugs + exams + surgery
    t.step(
        "ncms.inpatient.reimbursable",
        f"应报医疗费 = 药费 {format_yuan(c.drugs)} + 检查 {format_yuan(exams)} + 手术 {format_yuan(surgery)} = {format_yuan(reimbursable)} 元"
        f"（其他费用 {format_yuan(c.others)} 元不按比例报销）",
        reimbursable,
    )
    ratio, use_r = t.ratio("ncms.inpatient.ratio", c.facility)
    segments, use_seg = t.scale("ncms.inpatient.risk_fund_scale")
    scale = compile_scale((Bracket(0, ratio), *segments))
    before = c.ytd.inpatient_cost
    after = before + reimbursable
    pay = scale.pay(before, after)
    first = segments[0].threshold if segments else 0
    t.step(
        "ncms.inpatient.risk_fund_scale",
        f"全年累计应报医疗费由 {format_yuan(before)} 元增至 {format_yuan(after)} 元：{format_yuan(first)} 元以下按{where}"
        f" {percent_text(ratio)}，以上分段 {'、'.join(percent_text(b.rate) for b in segments)}：补偿 {format_yuan(pay)} 元",
        pay,
        use_r,
        use_seg,
        *t.bands_used(use_seg, before, after),
    )
    elderly_pay = 0
    if c.facility == "township":
        age_limit, use_a = t.whole("ncms.inpatient.elderly_age")
        age = age_on(c.person.birth_date, c.date)
        if age >= age_limit:
            elderly_pay = _elderly_pay(c, t, age_limit, use_a)
    cap, use_y = t.money("ncms.yearly_cap")
    left = max(0, cap - c.ytd.fund_paid)
    fund = min(pay + elderly_pay, left)
    t.step(
        "ncms.yearly_cap",
        f"住院等补偿年限额 {format_yuan(cap)} 元，已补偿 {format_yuan(c.ytd.fund_paid)} 元，剩余 {format_yuan(left)} 元：本次 {format_yuan(fund)} 元",
        fund,
        use_y,
    )
    return Decision(
        total=c.total,
        fund_pay=fund,
        catastrophic_pay=0,
        steps=tuple(t.steps),
        ytd_after={"inpatient_cost": after, "fund_paid": c.ytd.fund_paid + fund},
    )
