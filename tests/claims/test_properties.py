"""Generated stays: a settlement equals the benefit engine on the same claim, to the fen, and every invariant
of the answer holds; its reversal leaves the ledger clean and the accumulators as they were.

The expected totals are worked out here on their own, with exact fractions, from the generated lines, and
the claim is decided by ``decide_json`` -- what ``yibao calc`` runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from tests.claims.helpers import CENTRE, DALI, HOSPITAL, LEVEL1, Place, cn, insured_resident, item, line
from yibao.accounts import ledger
from yibao.claims import fees, reversal, settlement, visits
from yibao.claims.answers import invariants
from yibao.claims.errors import ClaimRefused
from yibao.claims.models import Accumulator, VisitKind
from yibao.claims.settlement import SettleIn
from yibao.claims.visits import Opening
from yibao.core import clock
from yibao.core.money import div_half_up, format_yuan, mul_ratio, parse_yuan
from yibao.engine import decide_json
from yibao.policy.loader import get_pack

LEVEL2 = Place("H53010000004", "某二级医院", "hospital", 2, "530100")
PLACES = {1: LEVEL1, 2: LEVEL2, 3: HOSPITAL}
CLASS_B_SHARE = get_pack().at(date(2023, 3, 1)).get("resident.inpatient.class_b_prepay_ratio").value


@dataclass(frozen=True)
class GenLine:
    level: str | None  # None: a code the catalogue does not know
    pric: int
    cnt: int
    ceiling: int | None


lines_st = st.lists(
    st.builds(
        GenLine,
        level=st.sampled_from(["01", "02", "03", None]),
        pric=st.integers(min_value=1, max_value=2_000_000),
        cnt=st.integers(min_value=1, max_value=100_000),
        ceiling=st.one_of(st.none(), st.integers(min_value=0, max_value=2_000_000)),
    ),
    min_size=1,
    max_size=8,
)


@dataclass(frozen=True)
class Expected:
    total: int
    fulamt: int
    overlmt: int
    in_scope: int
    class_b: int


def expected(gen: list[GenLine], inpatient: bool) -> Expected:
    total = fulamt = overlmt = in_scope = class_b = 0
    for g in gen:
        amount = div_half_up(g.pric * g.cnt, 10_000)
        total += amount
        if g.level in (None, "03"):
            fulamt += amount
            continue
        over = div_half_up((g.pric - g.ceiling) * g.cnt, 10_000) if g.ceiling is not None and g.pric > g.ceiling else 0
        overlmt += over
        in_scope += amount - over
        if g.level == "02" and inpatient:
            class_b += amount - over
    return Expected(total, fulamt, overlmt, in_scope, class_b)


@pytest.fixture(autouse=True)
def _march_2023() -> Iterator[None]:
    with clock.use(clock.FixedClock(cn(2023, 3, 10, 10))):
        yield


def _bill(session: Session, gen: list[GenLine]) -> list[fees.LineIn]:
    out = []
    for g in gen:
        code = item(session, g.level, ceiling=g.ceiling) if g.level else "UNKNOWN-CODE-01"
        out.append(line(code, g.pric, g.cnt, cn(2023, 3, 2), chrg_bchno="B1"))
    return out


def _fen(info: dict[str, Any], key: str) -> int:
    return parse_yuan(info[key], allow_negative=True)


PROPERTY = settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@PROPERTY
@given(
    gen=lines_st,
    level=st.sampled_from([1, 2, 3]),
    born=st.sampled_from([date(2008, 6, 1), date(1980, 5, 20), date(1950, 1, 1)]),
    fund_paid=st.one_of(st.just(0), st.integers(min_value=0, max_value=16_100_000)),
    cata_base=st.one_of(st.just(0), st.integers(min_value=0, max_value=40_000_000)),
    offsite=st.booleans(),
)
def test_stays_settle_as_the_engine_decides(
    session: Session, gen: list[GenLine], level: int, born: date, fund_paid: int, cata_base: int, offsite: bool
) -> None:
    sp = session.begin_nested()
    try:
        person = insured_resident(session, born=born, sex="M")
        place = DALI if offsite else PLACES[level]
        opening = Opening(person, "390", cn(2023, 3, 1), "02", "ZY1", med_type="21")
        v = visits.admit(session, institution=place, opening=opening, msgid="A1")
        fees.upload(session, institution=place, mdtrt_id=v.mdtrt_id, person=person, lines=_bill(session, gen))
        visits.discharge(
            session,
            institution=place,
            mdtrt_id=v.mdtrt_id,
            person=person,
            insutype="390",
            endtime=cn(2023, 3, 8),
            dscg_way="1",
            diagnoses=(),
            details={},
        )
        session.add(
            Accumulator(
                person_id=person.id,
                year_start=date(2023, 1, 1),
                fund_paid=fund_paid,
                catastrophic_base=cata_base,
                general_outpatient_paid=0,
            )
        )
        session.flush()
        e = expected(gen, inpatient=True)
        ask = SettleIn(VisitKind.INPATIENT, v.mdtrt_id, person, "390", e.total, "0")
        if offsite:
            with pytest.raises(ClaimRefused) as err:
                settlement.settle(session, institution=place, req=ask, msgid="S1")
            assert "先由个人支付" in err.value.message_zh
            return
        out = settlement.settle(session, institution=place, req=ask, msgid="S1")
        claim = {
            "scheme": "resident",
            "benefit": "inpatient",
            "date": "2023-03-01",
            "person": {"birth_date": born.isoformat(), "sex": "M", "group": "general", "enrolment_date": "2022-09-05"},
            "hospital_level": level,
            "discharge_date": "2023-03-08",
            "total": format_yuan(e.total),
            "in_scope": format_yuan(e.in_scope),
            "class_b": format_yuan(e.class_b),
            "ytd": {"fund_paid": format_yuan(fund_paid), "catastrophic_base": format_yuan(cata_base)},
        }
        calc = decide_json(claim)
        info = out.setlinfo
        assert invariants(info, out.setldetail) == []
        assert info["hifp_pay"] == calc["fund_pay"]
        assert info["hifmi_pay"] == calc["catastrophic_pay"]
        assert info["psn_part_amt"] == calc["personal_pay"]
        assert _fen(info, "fulamt_ownpay_amt") == e.fulamt and _fen(info, "overlmt_selfpay") == e.overlmt
        prepay = next(s["amount"] for s in calc["steps"] if s["rule"] == "resident.inpatient.class_b_prepay_ratio")
        assert info["preselfpay_amt"] == prepay
        assert _fen(info, "preselfpay_amt") == mul_ratio(e.class_b, CLASS_B_SHARE)
        acc = session.get(Accumulator, (person.id, date(2023, 1, 1)))
        assert acc is not None
        assert format_yuan(acc.fund_paid) == calc["ytd_after"]["fund_paid"]
        assert format_yuan(acc.catastrophic_base) == calc["ytd_after"]["catastrophic_base"]

        back = reversal.reverse(
            session,
            institution=place,
            setl_id=info["setl_id"],
            mdtrt_id=v.mdtrt_id,
            person=person,
            msgid="R1",
            kind=VisitKind.INPATIENT,
        )
        assert invariants(back.setlinfo, back.setldetail) == []
        assert all(
            _fen(back.setlinfo, k) == -_fen(info, k) for k in ("medfee_sumamt", "fund_pay_sumamt", "psn_cash_pay")
        )
        session.refresh(acc)
        assert (acc.fund_paid, acc.catastrophic_base) == (fund_paid, cata_base)
        assert ledger.verify(session).ok
    finally:
        sp.rollback()
        session.expunge_all()  # the rolled-back rows' ids are handed out again


@settings(PROPERTY, max_examples=60)
@given(gen=lines_st, at_centre=st.booleans(), used=st.integers(min_value=0, max_value=30_000))
def test_general_outpatient_visits_settle_as_the_engine_decides(
    session: Session, gen: list[GenLine], at_centre: bool, used: int
) -> None:
    sp = session.begin_nested()
    try:
        person = insured_resident(session, born=date(1960, 1, 1), sex="F")
        place = CENTRE if at_centre else HOSPITAL
        v = visits.register_outpatient(
            session, institution=place, opening=Opening(person, "390", cn(2023, 3, 2), "02", "MZ1"), msgid="R1"
        )
        fees.upload(session, institution=place, mdtrt_id=v.mdtrt_id, person=person, lines=_bill(session, gen))
        session.add(
            Accumulator(
                person_id=person.id,
                year_start=date(2023, 1, 1),
                fund_paid=used,
                catastrophic_base=0,
                general_outpatient_paid=used,
            )
        )
        session.flush()
        e = expected(gen, inpatient=False)
        out = settlement.settle(
            session,
            institution=place,
            req=SettleIn(VisitKind.OUTPATIENT, v.mdtrt_id, person, "390", e.total, "0", med_type="11"),
            msgid="S1",
        )
        calc = decide_json(
            {
                "scheme": "resident",
                "benefit": "general_outpatient",
                "date": "2023-03-02",
                "person": {"birth_date": "1960-01-01", "sex": "F", "group": "general", "enrolment_date": "2022-09-05"},
                "facility": "community_health_center" if at_centre else "other",
                "total": format_yuan(e.total),
                "in_scope": format_yuan(e.in_scope),
                "ytd": {"fund_paid": format_yuan(used), "general_outpatient_paid": format_yuan(used)},
            }
        )
        assert invariants(out.setlinfo, out.setldetail) == []
        assert out.setlinfo["hifp_pay"] == calc["fund_pay"] and out.setlinfo["psn_part_amt"] == calc["personal_pay"]
        assert out.setlinfo["preselfpay_amt"] == "0.00"
        assert _fen(out.setlinfo, "inscp_scp_amt") == e.in_scope
    finally:
        sp.rollback()
        session.expunge_all()  # the rolled-back rows' ids are handed out again
