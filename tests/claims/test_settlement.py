"""Settlement through the service layer on SQLite and PostgreSQL: whole visits, accounts, reversals."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.claims.helpers import CENTRE, DALI, HOSPITAL, cn, employee, insured_resident, item, line
from yibao.accounts import balances, ledger, sharing
from yibao.claims import accumulators, fees, filings, reversal, settlement, visits
from yibao.claims.answers import invariants
from yibao.claims.errors import ClaimRefused, NoVisit, WrongState
from yibao.claims.models import Accumulator, FeeLine, FilingKind, Settlement, Visit, VisitKind, VisitState
from yibao.claims.settlement import SettleIn
from yibao.claims.visits import DiagnosisIn, Opening
from yibao.core import clock
from yibao.core.errors import ValidationFailed
from yibao.institutions.models import InstitutionView
from yibao.people.models import Person, Relation
from yibao.premiums.contributions import ContributionUnpaid

A, B, C = "01", "02", "03"


@pytest.fixture(autouse=True)
def _march_2023() -> Iterator[None]:
    with clock.use(clock.FixedClock(cn(2023, 3, 10, 10))):
        yield


def admit(
    session: Session, person: Person, *, at: InstitutionView = HOSPITAL, insutype: str = "390", **kw: object
) -> Visit:
    opening = Opening(
        person=person,
        insutype=insutype,
        begntime=cn(2023, 3, 1),
        mdtrt_cert_type="02",
        ipt_otp_no=f"ZY{person.id}",
        med_type=str(kw.pop("med_type", "21")),
        matn_type=kw.pop("matn_type", None),  # type: ignore[arg-type]
        diagnoses=(DiagnosisIn("J18.900", "肺炎", main=True),),
    )
    return visits.admit(session, institution=at, opening=opening, msgid=f"M{person.id}-admit")


def discharge(session: Session, person: Person, v: Visit, *, at: InstitutionView = HOSPITAL) -> Visit:
    return visits.discharge(
        session,
        institution=at,
        mdtrt_id=v.mdtrt_id,
        person=person,
        insutype=v.insutype,
        endtime=cn(2023, 3, 8),
        dscg_way="1",
        diagnoses=(),
        details={},
    )


def stay_lines(session: Session) -> list[fees.LineIn]:
    """Class A 5,000.00, class B 2,000.00, class C 300.00."""
    return [
        line(item(session, A), 500_000, 10_000, cn(2023, 3, 2)),
        line(item(session, B), 100_000, 20_000, cn(2023, 3, 3)),
        line(item(session, C), 30_000, 10_000, cn(2023, 3, 4)),
    ]


def req(person: Person, v: Visit, medfee: int, *, kind: VisitKind = VisitKind.INPATIENT, **kw: object) -> SettleIn:
    return SettleIn(
        kind=kind,
        mdtrt_id=v.mdtrt_id,
        person=person,
        insutype=v.insutype,
        medfee_sumamt=medfee,
        acct_used_flag=str(kw.pop("flag", "0")),
        **kw,  # type: ignore[arg-type]
    )


def fen(info: dict[str, object], key: str) -> int:
    from yibao.core.money import parse_yuan

    return parse_yuan(info[key], allow_negative=True)


def discharged_stay(session: Session, person: Person, *, at: InstitutionView = HOSPITAL) -> Visit:
    v = admit(session, person, at=at)
    fees.upload(session, institution=at, mdtrt_id=v.mdtrt_id, person=person, lines=stay_lines(session))
    return discharge(session, person, v, at=at)


def test_inpatient_stay_settles_as_the_engine_decides_and_reverses_exactly(session: Session) -> None:
    person = insured_resident(session)
    v = admit(session, person)
    result = fees.upload(session, institution=HOSPITAL, mdtrt_id=v.mdtrt_id, person=person, lines=stay_lines(session))
    assert [(r["chrgitm_lv"], r["preselfpay_amt"], r["inscp_scp_amt"]) for r in result] == [
        ("01", "0.00", "5000.00"),
        ("02", "200.00", "1800.00"),
        ("03", "0.00", "0.00"),
    ]
    discharge(session, person, v)

    pre = settlement.pre_settle(session, institution=HOSPITAL, req=req(person, v, 730_000))
    assert "setl_id" not in pre.setlinfo
    assert session.scalar(select(func.count()).select_from(Settlement).where(Settlement.person_id == person.id)) == 0
    assert session.get(Accumulator, (person.id, date(2023, 1, 1))) is None

    out = settlement.settle(session, institution=HOSPITAL, req=req(person, v, 730_000), msgid="MSG-SETTLE-1")
    info = out.setlinfo
    assert {k: v for k, v in pre.setlinfo.items() if k not in ("setl_id", "medins_setl_id")} == {
        k: v for k, v in info.items() if k not in ("setl_id", "medins_setl_id")
    }
    # yibao calc on the same stay: fund 4,340.00, catastrophic 0.00, personal 2,960.00
    assert (info["hifp_pay"], info["hifmi_pay"], info["psn_part_amt"]) == ("4340.00", "0.00", "2960.00")
    assert (info["fulamt_ownpay_amt"], info["preselfpay_amt"], info["inscp_scp_amt"]) == ("300.00", "200.00", "6800.00")
    assert (info["act_pay_dedc"], info["psn_cash_pay"], info["medins_setl_id"]) == ("600.00", "2960.00", "MSG-SETTLE-1")
    assert info["certno"].count("*") == 8 and info["clr_type"] == "21" and info["clr_optins"] == "530100"
    assert invariants(info, out.setldetail) == []
    assert [d["fund_pay_type"] for d in out.setldetail] == ["390100"]
    acc = session.get(Accumulator, (person.id, date(2023, 1, 1)))
    assert acc is not None and (acc.fund_paid, acc.catastrophic_base) == (434_000, 266_000)
    assert session.get(Visit, v.id).state == VisitState.SETTLED.value  # type: ignore[union-attr]
    stored = session.get(Settlement, out.settlement_id)
    assert stored is not None and stored.setl_id == info["setl_id"] and "resident.inpatient.deductible" in stored.steps
    assert (stored.add_fund_paid, stored.add_catastrophic_base, stored.benefit_year) == (
        434_000,
        266_000,
        date(2023, 1, 1),
    )
    # The lines this session uploaded (and still holds) are linked in one statement: they say so too.
    held = list(session.scalars(select(FeeLine).where(FeeLine.visit_id == v.id)))
    assert len(held) == 3 and {x.settlement_id for x in held} == {stored.id}

    # no more fee lines on a settled stay
    with pytest.raises(WrongState) as err:
        fees.upload(session, institution=HOSPITAL, mdtrt_id=v.mdtrt_id, person=person, lines=stay_lines(session))
    assert "已结算" in err.value.message_zh and "冲销" in err.value.message_zh

    back = reversal.reverse(
        session,
        institution=HOSPITAL,
        setl_id=info["setl_id"],
        mdtrt_id=v.mdtrt_id,
        person=person,
        msgid="MSG-REV-1",
        kind=VisitKind.INPATIENT,
    )
    assert (back.setlinfo["hifp_pay"], back.setlinfo["pdn_cash_pay"]) == ("-4340.00", "-2960.00")
    assert invariants(back.setlinfo, back.setldetail) == []
    session.refresh(acc)
    assert (acc.fund_paid, acc.catastrophic_base) == (0, 0)
    assert {x.settlement_id for x in held} == {None}
    assert accumulators.read(session, person.id, date(2023, 1, 1)).fund_paid == 0
    assert session.get(Visit, v.id).state == VisitState.DISCHARGED.value  # type: ignore[union-attr]
    with pytest.raises(WrongState) as twice:
        reversal.reverse(
            session,
            institution=HOSPITAL,
            setl_id=info["setl_id"],
            mdtrt_id=v.mdtrt_id,
            person=person,
            msgid="MSG-REV-2",
            kind=VisitKind.INPATIENT,
        )
    assert "不能重复冲销" in twice.value.message_zh
    # open again: settled anew with the same lines
    again = settlement.settle(session, institution=HOSPITAL, req=req(person, v, 730_000), msgid="MSG-SETTLE-2")
    assert again.setlinfo["hifp_pay"] == "4340.00"


def test_general_outpatient_at_a_community_centre(session: Session) -> None:
    person = insured_resident(session, born=date(1990, 1, 1), sex="M")
    paid = []
    for n in range(5):
        v = visits.register_outpatient(
            session,
            institution=CENTRE,
            opening=Opening(person, "390", cn(2023, 3, 1 + n), "02", f"MZ{n}"),
            msgid=f"R{person.id}-{n}",
        )
        visits.record_outpatient(
            session,
            institution=CENTRE,
            mdtrt_id=v.mdtrt_id,
            person=person,
            med_type="11",
            begntime=cn(2023, 3, 1 + n),
            diagnoses=(DiagnosisIn("J06.900", "上呼吸道感染"),),
            details={},
        )
        fees.upload(
            session,
            institution=CENTRE,
            mdtrt_id=v.mdtrt_id,
            person=person,
            lines=[line(item(session, A), 10_000, 10_000, cn(2023, 3, 1 + n, 10), chrg_bchno="B1")],
        )
        out = settlement.settle(
            session,
            institution=CENTRE,
            req=req(person, v, 10_000, kind=VisitKind.OUTPATIENT, med_type="11", chrg_bchno="B1"),
            msgid=f"S{person.id}-{n}",
        )
        assert out.setlinfo["clr_type"] == "11" and invariants(out.setlinfo, out.setldetail) == []
        paid.append(out.setlinfo["hifp_pay"])
    # 50% of 100.00 = 50.00, at most 40.00 a visit, 160.00 a year (a man under 60)
    assert paid == ["40.00", "40.00", "40.00", "40.00", "0.00"]
    used = accumulators.read(session, person.id, date(2023, 1, 1))
    assert (used.fund_paid, used.general_outpatient_paid) == (16_000, 16_000)


def test_special_disease_needs_the_card(session: Session) -> None:
    person = insured_resident(session)
    v = visits.register_outpatient(
        session, institution=HOSPITAL, opening=Opening(person, "390", cn(2023, 3, 2), "02", "MZ1"), msgid="R1"
    )
    visits.record_outpatient(
        session,
        institution=HOSPITAL,
        mdtrt_id=v.mdtrt_id,
        person=person,
        med_type="14",
        begntime=cn(2023, 3, 2),
        diagnoses=(DiagnosisIn("diabetes", "糖尿病"),),
        details={},
    )
    fees.upload(
        session,
        institution=HOSPITAL,
        mdtrt_id=v.mdtrt_id,
        person=person,
        lines=[line(item(session, B), 50_000, 10_000, cn(2023, 3, 2, 10), chrg_bchno="B1")],
    )
    ask = req(person, v, 50_000, kind=VisitKind.OUTPATIENT, med_type="14")
    with pytest.raises(ClaimRefused) as err:
        settlement.settle(session, institution=HOSPITAL, req=ask, msgid="S1")
    assert err.value.code == "claims.no_card" and "2503" in err.value.message_zh
    with pytest.raises(ValidationFailed):
        filings.file(
            session,
            institution=HOSPITAL,
            kind=FilingKind.SPECIAL_DISEASE,
            filing=filings.FilingIn(person, "390", "flu", "流感", date(2023, 1, 1)),
            msgid="F0",
            node="data",
        )
    filings.file(
        session,
        institution=HOSPITAL,
        kind=FilingKind.SPECIAL_DISEASE,
        filing=filings.FilingIn(person, "390", "E11.900", "糖尿病", date(2023, 1, 1)),
        msgid="F1",
        node="data",
    )
    out = settlement.settle(session, institution=HOSPITAL, req=ask, msgid="S1")
    # demo overlay: diabetes 400.00 a month counted, at its ratio; class B has no prepayment outpatient
    assert out.setlinfo["preselfpay_amt"] == "0.00" and out.setlinfo["clr_type"] == "14"
    used = accumulators.read(session, person.id, date(2023, 1, 1), "202303", "diabetes")
    assert used.month_used == 40_000 and used.fund_paid == int(out.setlinfo["hifp_pay"].replace(".", ""))


def test_maternity_subsidy_by_delivery(session: Session) -> None:
    mother = insured_resident(session, born=date(1995, 6, 1), sex="F")
    v = admit(session, mother, med_type="52", matn_type="3")
    fees.upload(session, institution=HOSPITAL, mdtrt_id=v.mdtrt_id, person=mother, lines=stay_lines(session))
    discharge(session, mother, v)
    out = settlement.settle(session, institution=HOSPITAL, req=req(mother, v, 730_000), msgid="S-M1")
    assert out.setlinfo["hifp_pay"] == "1200.00" and out.setlinfo["fund_pay_sumamt"] == "1200.00"
    assert accumulators.read(session, mother.id, date(2023, 1, 1)).fund_paid == 0  # not against the ceiling

    other = insured_resident(session, born=date(1995, 6, 1), sex="F")
    v2 = admit(session, other, med_type="52", matn_type="5")
    fees.upload(session, institution=HOSPITAL, mdtrt_id=v2.mdtrt_id, person=other, lines=stay_lines(session))
    discharge(session, other, v2)
    none = settlement.settle(session, institution=HOSPITAL, req=req(other, v2, 730_000), msgid="S-M2")
    assert none.setlinfo["fund_pay_sumamt"] == "0.00"
    assert "不属于顺产（含助娩产）或剖宫产" in none.decision.steps[-1].description


def test_employee_pays_from_the_own_account(session: Session) -> None:
    worker = employee(session, funded=100_000)
    v = admit(session, worker, insutype="310")
    fees.upload(session, institution=HOSPITAL, mdtrt_id=v.mdtrt_id, person=worker, lines=stay_lines(session))
    discharge(session, worker, v)
    out = settlement.settle(session, institution=HOSPITAL, req=req(worker, v, 730_000, flag="1"), msgid="S-E1")
    info = out.setlinfo
    assert (info["fund_pay_sumamt"], info["acct_pay"], info["psn_cash_pay"], info["balc"]) == (
        "0.00",
        "1000.00",
        "6300.00",
        "0.00",
    )
    assert out.decision.steps[0].rule == "employee.no_pooled_fund" and out.setldetail == []
    assert balances.balance(session, worker.id_number).balance == "0.00"
    reversal.reverse(
        session,
        institution=HOSPITAL,
        setl_id=info["setl_id"],
        mdtrt_id=v.mdtrt_id,
        person=worker,
        msgid="R-E1",
        kind=VisitKind.INPATIENT,
    )
    assert balances.balance(session, worker.id_number).balance == "1000.00"
    assert ledger.verify(session).ok


def test_family_sharing_pays_as_acct_mulaid(session: Session) -> None:
    holder = employee(session, funded=500_000)
    parent = insured_resident(session, born=date(1950, 1, 1), sex="M")
    v = discharged_stay(session, parent)
    with pytest.raises(ClaimRefused) as err:
        settlement.settle(session, institution=HOSPITAL, req=req(parent, v, 730_000, flag="2"), msgid="S-F0")
    assert err.value.code == "claims.no_account"
    from yibao.people import relations as people

    people.declare_relation(
        session, id_number=holder.id_number, relative_id_number=parent.id_number, relation=Relation.PARENT
    )
    sharing.bind(
        session,
        holder_id_number=holder.id_number,
        relative_id_number=parent.id_number,
        relation=Relation.PARENT,
        commitment_signed=True,
        channel="agency_counter",
    )
    out = settlement.settle(session, institution=HOSPITAL, req=req(parent, v, 730_000, flag="1"), msgid="S-F1")
    info = out.setlinfo
    assert info["acct_pay"] == info["acct_mulaid_pay"] == info["psn_part_amt"] and info["psn_cash_pay"] == "0.00"
    assert invariants(info, out.setldetail) == []
    left = 500_000 - fen(info, "acct_mulaid_pay")
    assert balances.balance(session, holder.id_number).balance == f"{left // 100}.{left % 100:02d}"


def test_off_site_is_paid_first_by_the_person(session: Session) -> None:
    person = insured_resident(session)  # insured in Kunming
    v = discharged_stay(session, person, at=DALI)
    with pytest.raises(ClaimRefused) as err:
        settlement.pre_settle(session, institution=DALI, req=req(person, v, 730_000))
    assert "先由个人支付" in err.value.message_zh and "未查询到异地转诊或急诊备案" in err.value.message_zh
    filings.file(
        session,
        institution=HOSPITAL,
        kind=FilingKind.REFERRAL,
        filing=filings.FilingIn(person, "390", "J18.900", "肺炎", date(2023, 2, 25)),
        msgid="REF1",
        node="refmedin",
    )
    with pytest.raises(ClaimRefused) as err2:
        settlement.settle(session, institution=DALI, req=req(person, v, 730_000), msgid="S-O1")
    assert "先由个人支付" in err2.value.message_zh and "已有异地就医备案" in err2.value.message_zh
    assert session.get(Visit, v.id).state == VisitState.DISCHARGED.value  # type: ignore[union-attr]
    assert len(fees.unsettled(session, session.get(Visit, v.id))) == 3  # type: ignore[arg-type]


def test_state_machine_refusals(session: Session) -> None:
    person = insured_resident(session)
    v = admit(session, person)
    with pytest.raises(WrongState) as again:
        admit(session, person)
    assert again.value.code == "claims.already_admitted" and v.mdtrt_id in again.value.message_zh
    fees.upload(session, institution=HOSPITAL, mdtrt_id=v.mdtrt_id, person=person, lines=stay_lines(session))
    with pytest.raises(ClaimRefused) as early:
        settlement.settle(session, institution=HOSPITAL, req=req(person, v, 730_000), msgid="S-X")
    assert early.value.code == "claims.not_discharged" and "2402" in early.value.message_zh
    with pytest.raises(WrongState) as cancel:
        visits.cancel_admission(session, institution=HOSPITAL, mdtrt_id=v.mdtrt_id, person=person)
    assert "3 条费用明细" in cancel.value.message_zh and "2302" in cancel.value.message_zh
    with pytest.raises(ValidationFailed) as before:
        visits.discharge(
            session,
            institution=HOSPITAL,
            mdtrt_id=v.mdtrt_id,
            person=person,
            insutype="390",
            endtime=cn(2023, 2, 28),
            dscg_way="1",
            diagnoses=(),
            details={},
        )
    assert before.value.field == "dscginfo.endtime"
    discharge(session, person, v)
    with pytest.raises(WrongState):
        discharge(session, person, v)
    with pytest.raises(ValidationFailed) as total:
        settlement.settle(session, institution=HOSPITAL, req=req(person, v, 730_001), msgid="S-X")
    assert total.value.field == "data.medfee_sumamt"
    with pytest.raises(NoVisit):
        settlement.settle(session, institution=CENTRE, req=req(person, v, 730_000), msgid="S-X")
    stranger = insured_resident(session)
    with pytest.raises(ClaimRefused) as other:
        settlement.settle(session, institution=HOSPITAL, req=req(stranger, v, 730_000), msgid="S-X")
    assert other.value.code == "claims.person_mismatch"
    # the discharge taken back, then the lines, then the admission
    visits.cancel_discharge(session, institution=HOSPITAL, mdtrt_id=v.mdtrt_id, person=person)
    assert fees.withdraw(session, institution=HOSPITAL, mdtrt_id=v.mdtrt_id, person=person, feedetl_sns=["0000"]) == 3
    visits.cancel_admission(session, institution=HOSPITAL, mdtrt_id=v.mdtrt_id, person=person)
    assert session.get(Visit, v.id).state == VisitState.CANCELLED.value  # type: ignore[union-attr]
    assert session.scalar(select(func.count()).select_from(Settlement).where(Settlement.person_id == person.id)) == 0


def test_unpaid_contribution_refused(session: Session) -> None:
    person = insured_resident(session, paid=False)
    v = discharged_stay(session, person)
    with pytest.raises(ContributionUnpaid) as err:
        settlement.settle(session, institution=HOSPITAL, req=req(person, v, 730_000), msgid="S-U")
    assert "2023" in err.value.message_zh


def test_refund_lines(session: Session) -> None:
    person = insured_resident(session)
    v = admit(session, person)
    code = item(session, B, ceiling=80_000)
    fees.upload(
        session,
        institution=HOSPITAL,
        mdtrt_id=v.mdtrt_id,
        person=person,
        lines=[line(code, 100_000, 30_000, cn(2023, 3, 2), sn="1")],
    )
    too_much = line(code, 100_000, -40_000, cn(2023, 3, 3), sn="2", init_feedetl_sn="1")
    with pytest.raises(ValidationFailed) as err:
        fees.upload(session, institution=HOSPITAL, mdtrt_id=v.mdtrt_id, person=person, lines=[too_much])
    assert err.value.field == "feedetail[0].cnt"
    refund = line(code, 100_000, -10_000, cn(2023, 3, 3), sn="2", init_feedetl_sn="1")
    [r] = fees.upload(session, institution=HOSPITAL, mdtrt_id=v.mdtrt_id, person=person, lines=[refund])
    assert (r["det_item_fee_sumamt"], r["overlmt_amt"], r["preselfpay_amt"], r["inscp_scp_amt"]) == (
        "-1000.00",
        "-200.00",
        "-80.00",
        "-720.00",
    )
    discharge(session, person, v)
    out = settlement.pre_settle(session, institution=HOSPITAL, req=req(person, v, 200_000))
    assert (out.setlinfo["overlmt_selfpay"], out.setlinfo["preselfpay_amt"]) == ("400.00", "160.00")
