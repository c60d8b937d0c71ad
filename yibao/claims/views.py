"""Reading settlements back: one settlement with its explanation, and a person's settlements.

Staff read the settlements of persons insured in their region, an insured person their own, and a
hospital only the settlements it made itself. Diagnoses are personal data: reading them is audited with
the settlement, and their names are masked (as ID numbers are) for everyone but the counter staff who
see ID numbers in full.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from yibao.claims.models import Diagnosis, Settlement, Visit
from yibao.claims.schemas import (
    Citation,
    DiagnosisOut,
    SettlementList,
    SettlementOut,
    SettlementSummary,
    StepOut,
)
from yibao.claims.settlement import local_iso
from yibao.core import auth
from yibao.core.auth import Scope, rule
from yibao.core.errors import NotFound
from yibao.core.ids import mask_id
from yibao.core.money import format_yuan
from yibao.institutions.models import Institution
from yibao.nhsa.codes import MED_TYPES
from yibao.people import persons as people
from yibao.people.models import Person

READ = rule(
    "claims.settlements.read",
    "查看结算单及其计算依据 / read a settlement and its explanation",
    writes=False,
    person=Scope.OWN,
    institution=Scope.OWN,
    roles=auth.REGION_READERS,
)
LIST = rule(
    "claims.settlements.list",
    "查看参保人的结算记录 / list a person's settlements",
    writes=False,
    person=Scope.OWN,
    roles=auth.REGION_READERS,
)


def mask_name(name: str) -> str:
    """A diagnosis name masked as a name would be: its first character kept (``肺*``)."""
    return name[:1] + "*" * max(len(name) - 1, 1) if name else name


def _summary(row: Settlement, visit: Visit, names: dict[str, str]) -> SettlementSummary:
    return SettlementSummary(
        setl_id=row.setl_id,
        mdtrt_id=visit.mdtrt_id,
        state=row.state,
        setl_time=local_iso(row.setl_time),
        fixmedins_code=row.institution_code,
        fixmedins_name=names.get(row.institution_code),
        med_type=row.med_type,
        med_type_name=MED_TYPES.get(row.med_type, row.med_type),
        medfee_sumamt=format_yuan(row.medfee_sumamt),
        fund_pay_sumamt=format_yuan(row.fund_pay_sumamt),
        acct_pay=format_yuan(row.acct_pay),
        psn_cash_pay=format_yuan(row.psn_cash_pay),
    )


def _names(session: Session, codes: set[str]) -> dict[str, str]:
    if not codes:
        return {}
    rows = session.execute(select(Institution.code, Institution.name).where(Institution.code.in_(codes)))
    return {code: name for code, name in rows}


def _citation(param: dict[str, Any]) -> Citation:
    return Citation(
        path=param["path"],
        value=str(param["value"]),
        effective_from=param["effective_from"],
        source=param.get("source"),
        quote=param.get("quote"),
        assumed=bool(param.get("assumed")),
        overlay=param.get("overlay"),
        note=param.get("note"),
    )


def _steps(row: Settlement) -> tuple[list[StepOut], list[Citation]]:
    stored = json.loads(row.steps)
    steps = [
        StepOut(
            rule=s["rule"],
            description=s["description"],
            amount=s["amount"],
            citations=[_citation(p) for p in s.get("params", [])],
        )
        for s in stored.get("steps", [])
    ]
    return steps, [_citation(p) for p in stored.get("assumptions", [])]


def explanation(info: dict[str, Any], steps: list[StepOut], refusal: str | None, reversed_at: str | None) -> list[str]:
    """The settlement told in Chinese: the totals, then each step with the policy sentences it rests on."""
    lines = [
        f"医疗费用总额 {info['medfee_sumamt']} 元：全自费 {info['fulamt_ownpay_amt']} 元，"
        f"超限价自付 {info['overlmt_selfpay']} 元，先行自付 {info['preselfpay_amt']} 元，"
        f"符合政策范围 {info['inscp_scp_amt']} 元。",
        f"基金支付 {info['fund_pay_sumamt']} 元（统筹基金 {info['hifp_pay']} 元，大病保险 {info['hifmi_pay']} 元）；"
        f"个人负担 {info['psn_part_amt']} 元，其中个人账户支付 {info['acct_pay']} 元"
        f"（含共济账户 {info['acct_mulaid_pay']} 元），现金支付 {info['psn_cash_pay']} 元。",
    ]
    if refusal:
        lines.append(f"基金不予支付：{refusal}")
    for i, s in enumerate(steps, 1):
        amount = f"（{s.amount} 元）" if s.amount is not None else ""
        lines.append(f"{i}. {s.description}{amount}")
        for c in s.citations:
            basis = f"依据 {c.path}：「{c.quote}」（{c.source}）" if c.quote else f"依据 {c.path} = {c.value}"
            if c.assumed or c.overlay:
                basis += "（推定或部署设定值，非政策原文）"
            lines.append(f"   {basis}")
    if reversed_at:
        lines.append(f"本次结算已于 {reversed_at} 冲销，基金与个人账户支付及年度累计均已退回。")
    return lines


def show(session: Session, setl_id: str) -> SettlementOut:
    """One settlement as answered, with its diagnoses and the decision's steps and citations."""
    found = session.execute(
        select(Settlement, Visit, Person)
        .join(Visit, Visit.id == Settlement.visit_id)
        .join(Person, Person.id == Settlement.person_id)
        .where(Settlement.setl_id == setl_id.strip())
    ).first()
    if found is None:
        # Checked first, as for persons: an unknown number is refused like a known one to whoever could
        # not read it anyway.
        auth.authorize(session, READ, auth.Subject(), setl_id=setl_id)
        raise NotFound("未找到该结算", "no settlement with this setl_id", code="claims.settlement_not_found")
    row, visit, person = found
    subject = people.subject_of(session, person)
    subject.institution = row.institution_code
    diagnoses = list(session.scalars(select(Diagnosis).where(Diagnosis.visit_id == visit.id).order_by(Diagnosis.id)))
    full = auth.sees_full_ids(session)
    auth.authorize(session, READ, subject, setl_id=row.setl_id, diagnoses=len(diagnoses), unmasked=full)
    info = json.loads(row.setlinfo)
    steps, assumptions = _steps(row)
    refusal = json.loads(row.refusal)["message"] if row.refusal else None
    reversed_at = local_iso(row.reversed_at) if row.reversed_at else None
    base = _summary(row, visit, _names(session, {row.institution_code}))
    return SettlementOut(
        **base.model_dump(),
        certno=person.id_number if full else mask_id(person.id_number),
        psn_name=person.name,
        insutype=row.insutype,
        clr_type=row.clr_type,
        clr_optins=row.clr_optins,
        begntime=local_iso(visit.begntime),
        endtime=local_iso(visit.endtime) if visit.endtime else None,
        reversed_at=reversed_at,
        setlinfo=info,
        setldetail=json.loads(row.setldetail),
        diagnoses=[
            DiagnosisOut(
                stage=d.stage,
                diag_type=d.diag_type,
                diag_code=d.diag_code,
                diag_name=d.diag_name if full else mask_name(d.diag_name),
                main=d.main,
                valid=d.valid,
            )
            for d in diagnoses
        ],
        steps=steps,
        refusal=refusal,
        assumptions=assumptions,
        explanation=explanation(info, steps, refusal, reversed_at),
    )


def list_for(session: Session, id_number: str) -> SettlementList:
    """A person's settlements, newest first."""
    person, _ = people.require(session, id_number, LIST)
    rows = session.execute(
        select(Settlement, Visit)
        .join(Visit, Visit.id == Settlement.visit_id)
        .where(Settlement.person_id == person.id)
        .order_by(Settlement.setl_time.desc(), Settlement.id.desc())
    ).all()
    names = _names(session, {s.institution_code for s, _ in rows})
    full = auth.sees_full_ids(session)
    return SettlementList(
        certno=person.id_number if full else mask_id(person.id_number),
        settlements=[_summary(s, v, names) for s, v in rows],
    )
