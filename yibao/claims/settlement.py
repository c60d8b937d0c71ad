"""Pre-settlement and settlement (2206/2207 outpatient, 2303/2304 inpatient).

The totals come from the visit's uploaded lines; the money the policy decides comes from the benefit
engine (``yibao.engine.decide``) on a claim built here from the visit, the person, the institution and
the person's year-to-date accumulators, exactly as ``yibao calc`` would decide the same claim. No rule of
the benefits is repeated here. A pre-settlement computes the same answer and stores nothing; a settlement
stores it with the decision's steps, adds to the accumulators and pays from the personal accounts, in the
one transaction of its message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.orm import Session

from yibao.claims import accumulators, fees, filings, payments, visits
from yibao.claims.answers import Amounts, invariants, money_fields, setldetail
from yibao.claims.errors import ClaimRefused
from yibao.claims.models import (
    Diagnosis,
    FeeLine,
    FilingKind,
    Settlement,
    SettlementState,
    Visit,
    VisitKind,
    VisitState,
)
from yibao.claims.valuation import Totals
from yibao.claims.visits import aware, find_visit, new_id, normalise_med_type, require_state
from yibao.core import clock
from yibao.core.dates import CHINA_TZ, age_on, local_date
from yibao.core.errors import ValidationFailed
from yibao.core.ids import mask_id
from yibao.core.money import format_yuan
from yibao.engine import Decision, Step, decide, parse_claim
from yibao.institutions.models import InstitutionView as Institution
from yibao.nhsa.codes import psn_type_of
from yibao.people.models import InsuranceRecord, Person, Scheme, Status
from yibao.premiums.contributions import require_paid_contribution

SCHEMES = {"390": Scheme.RESIDENT, "310": Scheme.EMPLOYEE}
CLR_TYPES = {"11": "11", "14": "14", "21": "21", "52": "21"}
# 分娩方式 (matn_type) → the delivery kinds the seeds subsidise: 顺产(含助娩产) and 剖宫产.
DELIVERIES = {"1": "natural", "2": "natural", "3": "caesarean"}


@dataclass(frozen=True, slots=True)
class SettleIn:
    """A (pre-)settlement request as sent (money in fen); the totals it carries are informative."""

    kind: VisitKind
    mdtrt_id: str
    person: Person
    insutype: str
    medfee_sumamt: int
    acct_used_flag: str
    psn_setlway: str = "01"
    med_type: str | None = None  # outpatient requests carry it; a stay has it from its admission
    mid_setl_flag: str = "0"
    chrg_bchno: str | None = None
    mdtrt_cert_type: str | None = None
    invono: str | None = None
    node: str = "data"
    # The person's insurance records when the caller has read them with the person (not read again).
    records: tuple[InsuranceRecord, ...] | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """The answer of a (pre-)settlement and the decision it rests on."""

    setlinfo: dict[str, Any]
    setldetail: list[dict[str, Any]]
    decision: Decision
    settlement_id: int | None = None  # the stored settlement's row (a settlement, not a pre-settlement)


@dataclass(slots=True)
class _Case:
    visit: Visit
    record: InsuranceRecord
    totals: Totals  # of the visit's unsettled lines
    med_type: str
    day: date  # the date of service: admission day of a stay, day of an outpatient visit


def _case(session: Session, institution: Institution, req: SettleIn, *, lock: bool) -> _Case:
    node = req.node
    visit = find_visit(session, institution=institution, mdtrt_id=req.mdtrt_id, person=req.person, lock=lock)
    if visit.kind != req.kind.value:
        raise ClaimRefused(
            f"就诊 {visit.mdtrt_id} 是{'门诊' if visit.kind == 'outpatient' else '住院'}，应使用对应的结算交易",
            "use the settlement message of the visit's kind",
            code="claims.wrong_kind",
        )
    if req.kind is VisitKind.OUTPATIENT:
        require_state(visit, (VisitState.REGISTERED,), "结算")
        med_type, _ = normalise_med_type(req.med_type or "", field=f"{node}.med_type", kind=VisitKind.OUTPATIENT)
        if visit.med_type is not None and visit.med_type != med_type:
            raise ValidationFailed(
                f"{node}.med_type", f"医疗类别与就诊信息（{visit.med_type}）不一致", "med_type differs from the visit"
            )
    else:
        if req.mid_setl_flag not in ("0", "1"):
            raise ValidationFailed(f"{node}.mid_setl_flag", "中途结算标志应为 0 或 1", "mid_setl_flag must be 0 or 1")
        allowed = (VisitState.DISCHARGED, VisitState.ADMITTED) if req.mid_setl_flag == "1" else (VisitState.DISCHARGED,)
        if visit.state == VisitState.ADMITTED.value and req.mid_setl_flag == "0":
            raise ClaimRefused(
                f"就诊 {visit.mdtrt_id} 尚未办理出院，不能结算（请先办理出院 2402，或按中途结算 mid_setl_flag=1）",
                "not discharged yet",
                code="claims.not_discharged",
            )
        require_state(visit, allowed, "结算")
        med_type = visit.med_type or "21"
    if req.psn_setlway != "01":
        raise ValidationFailed(f"{node}.psn_setlway", "仅支持按项目结算（01）", "only psn_setlway 01 is supported")
    if req.insutype != visit.insutype:
        raise ValidationFailed(
            f"{node}.insutype", f"险种类型与就诊登记时（{visit.insutype}）不一致", "insutype differs from the visit"
        )
    unsettled = fees.unsettled_sums(session, visit, req.chrg_bchno)
    if req.chrg_bchno not in (None, "", "0000") and not unsettled.in_batch:
        raise ValidationFailed(f"{node}.chrg_bchno", f"没有未结算的收费批次 {req.chrg_bchno}", "no such batch")
    t = unsettled.totals
    if not t.lines:
        raise ClaimRefused(
            f"就诊 {visit.mdtrt_id} 没有待结算的费用明细", "no fee lines to settle", code="claims.no_lines"
        )
    if req.medfee_sumamt != t.medfee:
        raise ValidationFailed(
            f"{node}.medfee_sumamt",
            f"医疗费总额 {format_yuan(req.medfee_sumamt)} 与已上传费用明细合计 {format_yuan(t.medfee)} 不一致",
            "medfee_sumamt differs from the sum of the uploaded lines",
        )
    scheme = SCHEMES[visit.insutype]
    record = _record(session, req.person, scheme, req.records)
    day = local_date(aware(visit.begntime))
    if record is None or record.status != Status.NORMAL.value:
        raise ClaimRefused(
            f"参保人{'职工医保' if scheme is Scheme.EMPLOYEE else '城乡居民医保'}参保状态不正常，不能结算",
            "the person has no insurance in normal status",
            code="claims.not_insured",
        )
    require_paid_contribution(session, req.person, scheme, day, record=record)
    if record.region_code != institution.region:
        # 「转院及异地急诊医疗费用先由个人支付」: settled afterwards by the agency, not at the hospital.
        raise ClaimRefused(
            f"异地就医（参保地 {record.region_code}，就医地 {institution.region}）：转院及异地急诊医疗费用先由个人支付，"
            f"出院后向参保地医保经办机构申请报销；{filings.referral_status(session, req.person.id, day)}",
            "off-site care is paid by the person first and claimed at the agency",
            code="claims.offsite",
        )
    return _Case(visit, record, t, med_type, day)


def _record(
    session: Session, person: Person, scheme: Scheme, records: tuple[InsuranceRecord, ...] | None
) -> InsuranceRecord | None:
    if records is not None:
        return next((r for r in records if r.person_id == person.id and r.scheme == scheme.value), None)
    return session.scalar(
        select(InsuranceRecord).where(InsuranceRecord.person_id == person.id, InsuranceRecord.scheme == scheme.value)
    )


def _designated(institution: Institution, day: date) -> bool:
    until = institution.designated_until
    return institution.designated_from <= day and (until is None or day <= until)


def _special_disease(session: Session, c: _Case) -> str:
    """The listed disease a special-disease visit is settled for: its card (filing) matching a diagnosis."""
    cards = filings.active_on(session, c.visit.person_id, FilingKind.SPECIAL_DISEASE, c.day)
    if not cards:
        raise ClaimRefused(
            "门诊慢特病就诊须持有《门诊特殊病治疗卡》：未查询到该参保人有效的门诊特殊病备案（请先办理 2503 备案）",
            "no special-disease card (filing) in force on the day of the visit",
            code="claims.no_card",
        )
    diagnosed = set()
    for code, name in session.execute(
        select(Diagnosis.diag_code, Diagnosis.diag_name).where(Diagnosis.visit_id == c.visit.id, Diagnosis.valid)
    ):
        diagnosed |= {code, name}
    for card in cards:
        if card.diag_code in diagnosed or card.diag_name in diagnosed:
            return card.diag_code
    if len(cards) == 1:
        return cards[0].diag_code
    raise ClaimRefused(
        "参保人有多个门诊特殊病备案，就诊诊断须写明所治疗的病种（2203 dise_codg）",
        "several cards: the visit's diagnosis must name the disease",
        code="claims.which_disease",
    )


def _month(day: date) -> str:
    return f"{day:%Y%m}"


def claim_data(
    c: _Case, person: Person, institution: Institution, used: accumulators.Used, *, disease: str | None, today: date
) -> dict[str, Any] | None:
    """The engine claim (as ``yibao calc`` reads it) for a resident visit; None when no benefit applies."""
    who = {
        "birth_date": person.birth_date.isoformat(),
        "sex": person.sex,
        "group": "student_child" if c.record.population_group == "student_child" else "general",
        "enrolment_date": c.record.enrolled_on.isoformat(),
    }
    t = c.totals
    base: dict[str, Any] = {"scheme": "resident", "date": c.day.isoformat(), "person": who}
    if c.med_type == "11":
        return base | {
            "benefit": "general_outpatient",
            "facility": "community_health_center" if institution.kind == "community_health_center" else "other",
            "total": format_yuan(t.medfee),
            "in_scope": format_yuan(t.in_scope),
            "ytd": {
                "fund_paid": format_yuan(used.fund_paid),
                "general_outpatient_paid": format_yuan(used.general_outpatient_paid),
            },
        }
    if c.med_type == "14":
        return base | {
            "benefit": "special_outpatient",
            "disease": disease,
            "card": True,
            "hospital_level": institution.level if institution.level in (1, 2, 3) else None,
            "total": format_yuan(t.medfee),
            "in_scope": format_yuan(t.in_scope),
            "ytd": {"fund_paid": format_yuan(used.fund_paid), "month_used": format_yuan(used.month_used)},
        }
    if c.med_type == "21":
        if institution.level not in (1, 2, 3):
            raise ClaimRefused(
                "本机构未登记医院级别（一级、二级、三级），不能结算住院费用",
                "the institution has no hospital level",
                code="claims.no_level",
            )
        end = c.visit.endtime
        return base | {
            "benefit": "inpatient",
            "hospital_level": institution.level,
            "designated": _designated(institution, c.day),
            "admission_registered": True,  # the admission was registered here (2401)
            "discharge_date": None if end is None else local_date(aware(end)).isoformat(),
            "total": format_yuan(t.medfee),
            "in_scope": format_yuan(t.in_scope),
            "class_b": format_yuan(t.class_b),
            "ytd": {"fund_paid": format_yuan(used.fund_paid), "catastrophic_base": format_yuan(used.catastrophic_base)},
        }
    delivery = DELIVERIES.get(c.visit.matn_type or "")
    if delivery is None or c.visit.endtime is None:
        return None
    return base | {
        "benefit": "maternity",
        "date": today.isoformat(),  # the application: made at the hospital on settling
        "delivery": delivery,
        "discharge_date": local_date(aware(c.visit.endtime)).isoformat(),
        # Settled at the hospital on discharge: the hospital has the birth's papers (an assumed reading).
        "family_planning": True,
        "documents_complete": True,
        "total": format_yuan(t.medfee),
    }


def _no_benefit(c: _Case) -> Decision:
    """A decision paying nothing, with the step saying why, where no benefit of the seeds applies."""
    if c.visit.insutype == "310":
        step = Step(
            "employee.no_pooled_fund",
            "职工医保：种子未规定职工基本医疗保险统筹基金待遇，统筹基金支付 0.00 元；个人负担部分可由个人账户支付",
            0,
        )
    elif c.visit.endtime is None:
        step = Step("resident.maternity.not_discharged", "生育费用补助于出院时结算：尚未出院，补助 0.00 元", 0)
    else:
        step = Step(
            "resident.maternity.subsidy",
            "分娩方式 {m} 不属于顺产（含助娩产）或剖宫产，无生育费用补助，补助 0.00 元",
            0,
            fields={"m": c.visit.matn_type or "未填写"},
        )
    return Decision(total=c.totals.medfee, fund_pay=0, catastrophic_pay=0, steps=(step,))


def _step_amount(d: Decision, rule: str) -> int | None:
    for s in d.steps:
        if s.rule == rule:
            return s.amount
    return None


def _ceiling_left(d: Decision) -> int | None:
    for s in d.steps:
        if s.rule == "resident.fund_ceiling":
            left: int = s.fields["left"]
            return left
    return None


def _amounts(c: _Case, d: Decision, plan: payments.AccountPlan) -> Amounts:
    t = c.totals
    prepay = _step_amount(d, "resident.inpatient.class_b_prepay_ratio") or 0
    base = _step_amount(d, "resident.inpatient.base")
    deductible = 0 if base is None else t.in_scope - prepay - base  # what the deductible took of the in-scope cost
    return Amounts(
        medfee=t.medfee,
        fulamt_ownpay=t.fulamt_ownpay,
        overlmt_selfpay=t.overlmt,
        preselfpay=prepay,
        act_pay_dedc=deductible,
        hifp=d.fund_pay,
        hifmi=d.catastrophic_pay,
        acct_pay=plan.total,
        acct_mulaid_pay=plan.mulaid,
        balc=plan.own_balance_after,
    )


def _proc_info(d: Decision) -> dict[str, str]:
    info = {}
    for s in d.steps:
        if s.rule == "resident.catastrophic":
            info["hifmi_pay"] = s.description
        elif s.amount == d.fund_pay and s.rule.startswith("resident."):
            info["hifp_pay"] = s.description
    return info


def _setlinfo(
    c: _Case,
    person: Person,
    institution: Institution,
    req: SettleIn,
    a: Amounts,
    *,
    setl_id: str | None,
    msgid: str | None,
    now: datetime,
) -> dict[str, Any]:
    info: dict[str, Any] = {}
    if setl_id is not None:
        info["setl_id"] = setl_id
    info |= {
        "mdtrt_id": c.visit.mdtrt_id,
        "psn_no": person.psn_no,
        "psn_name": person.name,
        "psn_cert_type": "01",
        "certno": mask_id(person.id_number),
        "gend": {"M": "1", "F": "2"}.get(person.sex, "0"),
        "naty": None,
        "brdy": person.birth_date.isoformat(),
        "age": age_on(person.birth_date, local_date(now)),
        "insutype": c.visit.insutype,
        "psn_type": psn_type_of(c.record),
        "cvlserv_flag": "0",
        "setl_time": local_iso(now),
        "mdtrt_cert_type": req.mdtrt_cert_type or c.visit.mdtrt_cert_type,
        "med_type": c.med_type,
    }
    info |= money_fields(a)
    info |= {
        "medins_setl_id": msgid,
        "clr_optins": institution.region,
        "clr_way": "1",
        "clr_type": CLR_TYPES[c.med_type],
    }
    return info


def local_iso(moment: datetime) -> str:
    """An instant as the interface writes times: ``yyyy-MM-dd HH:mm:ss`` in China time."""
    return aware(moment).astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S")


def _decide(
    c: _Case, person: Person, institution: Institution, used: accumulators.Used, disease: str | None
) -> Decision:
    data = None
    if c.visit.insutype == "390":
        data = claim_data(c, person, institution, used, disease=disease, today=clock.today())
    if data is None:
        return _no_benefit(c)
    return decide(parse_claim(data))


def _used(session: Session, c: _Case, person: Person, disease: str | None, *, lock: bool) -> accumulators.Used:
    """The accumulators before this settlement (the year row locked when settling)."""
    start = accumulators.year_start(c.day)
    month = _month(c.day)
    if not lock:
        return accumulators.read(session, person.id, start, month, disease)
    used = accumulators.lock_year(session, person.id, start)
    if disease:
        used = replace(used, month_used=accumulators.month_used(session, person.id, month, disease))
    return used


def _check(info: dict[str, Any], detail: list[dict[str, Any]]) -> None:
    problems = invariants(info, detail)
    if problems:  # never expected: the answer is built to obey them
        raise RuntimeError(f"settlement answer breaks its invariants: {problems}")


@dataclass(frozen=True, slots=True)
class _Computed:
    """What a visit's settlement comes to now: the same for a pre-settlement and a settlement."""

    case: _Case
    disease: str | None
    used: accumulators.Used
    decision: Decision
    plan: payments.AccountPlan
    amounts: Amounts


def _compute(session: Session, institution: Institution, req: SettleIn, *, lock: bool) -> _Computed:
    """The engine's decision on the visit's lines and who pays what; ``lock`` when settling for real."""
    c = _case(session, institution, req, lock=lock)
    disease = _special_disease(session, c) if c.med_type == "14" else None
    # Only residents' settlements read and move the yearly accumulators (the engine decides only theirs), so
    # only they need the person's year locked; an employee's settlement leaves them alone.
    resident = c.visit.insutype == "390"
    used = (
        _used(session, c, req.person, disease, lock=lock)
        if resident
        else accumulators.Used(accumulators.year_start(c.day))
    )
    decision = _decide(c, req.person, institution, used, disease)
    before_account = _amounts(c, decision, payments.AccountPlan())
    plan = payments.plan(
        session,
        patient=req.person,
        region=c.record.region_code,
        flag=req.acct_used_flag,
        person_part=before_account.psn_part,
        lock=lock,
        node=req.node,
    )
    return _Computed(c, disease, used, decision, plan, _amounts(c, decision, plan))


def pre_settle(session: Session, *, institution: Institution, req: SettleIn) -> Outcome:
    """2206 / 2303: what a settlement would answer now; nothing is stored, locked or paid."""
    k = _compute(session, institution, req, lock=False)
    c, decision, a = k.case, k.decision, k.amounts
    info = _setlinfo(c, req.person, institution, req, a, setl_id=None, msgid=None, now=clock.now())
    detail = setldetail(a, ceiling_left=_ceiling_left(decision), info=_proc_info(decision))
    _check(info, detail)
    return Outcome(info, detail, decision)


# Built once: a settlement's writes. Its row (with its id back), the link of the visit's lines to it and the
# visit's state: PostgreSQL makes the three in one statement (one round trip, data-modifying WITH queries
# seeing the one snapshot taken under the visit's lock); other databases in three.
# (Parameters are named ``row_<column>``: in one statement with the updates of the lines and the visit, a
# parameter named after a column of theirs would be taken as a value to set there too.)
_ROW = (
    insert(Settlement)
    .values({c.key: bindparam(f"row_{c.key}") for c in Settlement.__table__.columns if c.key != "id"})
    .returning(Settlement.id)
)
_stored = _ROW.cte("stored")
_linked = fees.link_statement(select(_stored.c.id).scalar_subquery()).returning(FeeLine.id).cte("linked")
_STORE_IN_ONE = select(_stored.c.id, select(func.count()).select_from(_linked).scalar_subquery()).add_cte(
    visits.SETTLED.returning(Visit.id).cte("closed")
)


def _store(session: Session, row: dict[str, Any], visit: Visit, at: datetime) -> tuple[int, int]:
    """Store the settlement, link the visit's unsettled lines to it, mark the visit settled: (its id, lines linked)."""
    conn = session.connection()
    row = {f"row_{k}": v for k, v in row.items()}
    if conn.dialect.name == "postgresql":
        settlement_id, linked = conn.execute(_STORE_IN_ONE, row | {"of_visit": visit.id, "at": at}).one()
        fees.linked(session, visit)
        visits.settled(visit, at)
        return settlement_id, linked
    settlement_id = conn.execute(_ROW, row).scalar_one()
    linked = fees.link(session, visit, settlement_id)
    visits.mark_settled(session, visit, at)
    return settlement_id, linked


def settle(session: Session, *, institution: Institution, req: SettleIn, msgid: str) -> Outcome:
    """2207 / 2304: settle the visit's lines once, in the message's one transaction."""
    k = _compute(session, institution, req, lock=True)
    c, disease, used, decision, plan, a = k.case, k.disease, k.used, k.decision, k.plan, k.amounts
    resident = c.visit.insutype == "390"
    now = clock.now()
    setl_id = new_id(local_date(now))
    info = _setlinfo(c, req.person, institution, req, a, setl_id=setl_id, msgid=msgid, now=now)
    detail = setldetail(a, ceiling_left=_ceiling_left(decision), info=_proc_info(decision))
    _check(info, detail)
    after = decision.ytd_after
    added = {
        name: after.get(name, getattr(used, name)) - getattr(used, name)
        for name in ("fund_paid", "catastrophic_base", "general_outpatient_paid", "month_used")
    }
    # The accounts pay first, so that the settlement is stored in one statement with its journal entries.
    acct_entry_id, mulaid_entry_id = payments.pay(
        session, p=plan, patient=req.person, institution=institution, setl_id=setl_id
    )
    settlement_id, linked = _store(
        session,
        {
            "setl_id": setl_id,
            "visit_id": c.visit.id,
            "person_id": req.person.id,
            "institution_code": institution.code,
            "state": SettlementState.SETTLED.value,
            "msgid": msgid,
            "invono": req.invono,
            "setl_time": now,
            "insutype": c.visit.insutype,
            "med_type": c.med_type,
            "clr_type": CLR_TYPES[c.med_type],
            "clr_optins": institution.region,
            "benefit_year": used.year_start if resident else None,
            "medfee_sumamt": a.medfee,
            "fund_pay_sumamt": a.fund_sum,
            "acct_pay": a.acct_pay,
            "acct_mulaid_pay": a.acct_mulaid_pay,
            "psn_cash_pay": a.cash,
            "add_fund_paid": added["fund_paid"],
            "add_catastrophic_base": added["catastrophic_base"],
            "add_general_outpatient_paid": added["general_outpatient_paid"],
            "add_month_used": added["month_used"],
            "month": _month(c.day) if disease else None,
            "disease": disease,
            "acct_entry_id": acct_entry_id,
            "mulaid_entry_id": mulaid_entry_id,
            "mulaid_holder_id": plan.holder_id,
            "setlinfo": json.dumps(info, ensure_ascii=False),
            "setldetail": json.dumps(detail, ensure_ascii=False),
            "steps": json.dumps(
                {"steps": [s.to_dict() for s in decision.steps], "assumptions": decision.assumptions()},
                ensure_ascii=False,
            ),
            "refusal": json.dumps(decision.refused.to_dict(), ensure_ascii=False) if decision.refused else None,
            "reversed_at": None,
            "reversal_msgid": None,
        },
        c.visit,
        now,
    )
    if linked != c.totals.lines:  # never expected: the visit's lock keeps its lines as they were summed
        raise RuntimeError(f"settlement {setl_id} linked {linked} fee lines, summed {c.totals.lines}")
    if resident:
        accumulators.add(
            session,
            req.person.id,
            used.year_start,
            fund_paid=added["fund_paid"],
            catastrophic_base=added["catastrophic_base"],
            general_outpatient_paid=added["general_outpatient_paid"],
            month=_month(c.day) if disease else None,
            disease=disease,
            month_used=added["month_used"],
        )
    return Outcome(info, detail, decision, settlement_id)


def apply(session: Session, row: Settlement, *, sign: int) -> None:
    """Add a settlement's amounts to its person's accumulators (``sign`` -1 takes them back), under the lock."""
    if row.benefit_year is None:
        return
    accumulators.add(
        session,
        row.person_id,
        row.benefit_year,
        fund_paid=sign * row.add_fund_paid,
        catastrophic_base=sign * row.add_catastrophic_base,
        general_outpatient_paid=sign * row.add_general_outpatient_paid,
        month=row.month,
        disease=row.disease,
        month_used=sign * row.add_month_used,
    )
