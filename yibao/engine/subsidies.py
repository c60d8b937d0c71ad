"""Fixed subsidies of the resident scheme: maternity (生育费用补助) and disability aids (残疾人装配辅助器具补助).

Neither counts against the yearly fund ceiling (policy.md, Inpatient step 5).
"""

from __future__ import annotations

from yibao.core.dates import add_months, add_years, age_on
from yibao.core.money import format_yuan
from yibao.engine.claims import ResidentDisabilityAid, ResidentMaternity, Sex
from yibao.engine.common import refuse
from yibao.engine.explain import Decision, Trace

_DEVICE_ZH = {"thigh_prosthesis": "大腿假肢", "lower_leg_prosthesis": "小腿假肢", "hearing_aid": "助听器"}


def _subsidy(t: Trace, amount: int, total: int | None) -> Decision:
    # A subsidy is a fixed sum, not a share of a bill: the person's own payment is only meaningful
    # when the bill is given. The person receives the whole subsidy even when it is more than the
    # bill; what the person bears is then nothing, never a negative amount.
    if total is None:
        personal = 0
    elif amount > total:
        personal = 0
        t.step(
            "subsidy.above_bill",
            "补助 {subsidy:y} 元为定额补助，高于费用总额 {bill:y} 元：补助全额发给参保人（多出 {extra:y} 元），"
            "个人负担 0.00 元",
            0,
            subsidy=amount,
            bill=total,
            extra=amount - total,
        )
    else:
        personal = total - amount
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
    if c.person.sex is Sex.M:
        return refuse(
            t,
            total,
            "maternity.male_claimant",
            "生育费用补助发给生育的参保居民本人，男性参保人不能申领",
            "the maternity subsidy is for the insured woman who gave birth; a male claimant cannot receive it",
            personal=personal,
        )
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
    months, use_m = t.whole("resident.maternity.application_deadline_months")
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
    amount, use_a = t.money("resident.maternity.subsidy", c.delivery)
    kind = "顺产（含助娩产）" if c.delivery == "natural" else "剖宫产"
    t.step("resident.maternity.subsidy", f"{kind}补助 {format_yuan(amount)} 元", amount, use_a)
    return _subsidy(t, amount, c.total)


def settle_disability_aid(c: ResidentDisabilityAid, t: Trace) -> Decision:
    """Prostheses for certificate holders once per device per five years; hearing aids for children aged 7 or under."""
    total = c.total or 0
    personal = None if c.total is not None else 0
    device = _DEVICE_ZH[c.device]
    # The seed asks the certificate (持证) of the lower-limb group only: hearing-impaired children need none.
    if c.device != "hearing_aid" and not c.certificate:
        return refuse(
            t,
            total,
            "disability_aid.no_certificate",
            "下肢假肢补助限持有残疾证的下肢残疾人，未持有残疾证不享受补助",
            "the prosthesis subsidy is for holders of a disability certificate",
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
        limit, use_l = t.whole("resident.disability_aid.hearing_aid_age_limit")
        age = age_on(c.person.birth_date, c.date)
        t.step(
            "resident.disability_aid.hearing_aid_age_limit",
            f"助听器补助限 {limit} 周岁以下（含 {limit} 周岁）听力障碍儿童，无须残疾证；申请时 {age} 周岁",
            None,
            use_l,
        )
        # 「7周岁以下」 includes 7 (policy.md, "Ages"): until the 8th birthday.
        if age > limit:
            return refuse(
                t,
                total,
                "disability_aid.over_age",
                f"申请时 {age} 周岁，超过 {limit} 周岁，不享受助听器补助",
                f"the child is {age}, older than {limit}",
                personal=personal,
            )
    else:
        years, use_y = t.whole("resident.disability_aid.interval_years")
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
    each, use_a = t.money("resident.disability_aid.subsidy", c.device)
    amount = each * c.quantity
    t.step(
        "resident.disability_aid.subsidy",
        f"{device}每具（只）补助 {format_yuan(each)} 元 × {c.quantity} = {format_yuan(amount)} 元",
        amount,
        use_a,
    )
    return _subsidy(t, amount, c.total)
