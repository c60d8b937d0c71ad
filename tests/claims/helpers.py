"""Small helpers for settlement tests: insured persons, institutions, catalogue rows, fee lines."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime
from itertools import count
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tests.factories import create_resident, new_id
from yibao.accounts import balances, payments
from yibao.catalogue.models import CatalogueItem
from yibao.claims.fees import LineIn
from yibao.claims.valuation import line_amount
from yibao.core import clock
from yibao.core.auth import system_principal
from yibao.core.dates import CHINA_TZ
from yibao.core.money import format_yuan
from yibao.core.unit import unit_of_work
from yibao.institutions.models import InstitutionKind, InstitutionStatus, InstitutionView
from yibao.people import enrolment, persons
from yibao.people.models import Person
from yibao.premiums import payments as premiums

IN_PERIOD = datetime(2022, 10, 8, 9, 30, tzinfo=UTC)
_seq = count(1)


def Place(code: str, name: str, kind: str, level: int | None, region: str) -> InstitutionView:
    """A designated institution as a message's handler sees it (no row needed by the domain's services)."""
    return InstitutionView(
        id=0,
        code=code,
        name=name,
        kind=InstitutionKind(kind),
        level=level,
        region=region,
        paasid=f"yb_{code}",
        identity_id=0,
        infcode_string=False,
        status=InstitutionStatus.ACTIVE,
        designated_from=date(2010, 1, 1),
        designated_until=None,
    )


HOSPITAL = Place("H53010000001", "昆明市第一人民医院", "hospital", 3, "530100")
LEVEL1 = Place("H53010000003", "某一级医院", "hospital", 1, "530100")
CENTRE = Place("H53010000002", "某社区卫生服务中心", "community_health_center", 1, "530100")
DALI = Place("H53290000001", "大理州某医院", "hospital", 2, "532900")


def cn(y: int, m: int, d: int, hh: int = 9, mm: int = 0) -> datetime:
    """An instant given in China time."""
    return datetime(y, m, d, hh, mm, tzinfo=CHINA_TZ)


def insured_resident(
    session: Session, *, born: date = date(1980, 5, 20), sex: str = "F", region: str = "530100", paid: bool = True
) -> Person:
    """A resident of ``region`` with the 2023 contribution paid (benefit year 2023)."""
    idn = create_resident(session, born=born, sex=sex, region=region)
    if paid:
        req = premiums.PaymentRequest(
            insured_id_number=idn,
            insured_name="张三",
            year=2023,
            amount=35000,
            channel="banshitong_app",
            region=region,
            idempotency_key=f"k-{idn}",
        )
        premiums.pay_premium(session, req, now=IN_PERIOD)
    return persons.get_person(session, idn)


def employee(session: Session, *, funded: int = 0, region: str = "530100") -> Person:
    """An employee in normal status with a personal account holding ``funded`` fen."""
    idn = new_id(born=date(1975, 3, 3))
    enrolment.enrol_employee(session, id_number=idn, name="职工", region=region, on=date(2020, 1, 1), employer="某公司")
    balances.open_account(session, id_number=idn)
    if funded:
        payments.credit_contribution(
            session, id_number=idn, amount=funded, period="2022-09", source="tax", key=f"c-{idn}"
        )
    return persons.get_person(session, idn)


def item(
    session: Session,
    level: str,
    *,
    ceiling: int | None = None,
    list_type: str = "101",
    begin: date = date(2020, 1, 1),
    end: date | None = None,
    code: str | None = None,
) -> str:
    """A catalogue row; returns its code."""
    code = code or f"T{next(_seq):08d}"
    session.add(
        CatalogueItem(
            code=code,
            name=f"测试项目{code}",
            list_type=list_type,
            chrgitm_lv=level,
            med_chrgitm_type="09",
            price_ceiling=ceiling,
            begin=begin,
            end=end,
            updated_at=clock.now(),
        )
    )
    session.flush()
    return code


def line(code: str, pric: int, cnt: int, when: datetime, *, sn: str | None = None, **kw: str) -> LineIn:
    """A fee line whose amount is pric × cnt (cnt in ten-thousandths)."""
    return LineIn(
        feedetl_sn=sn or f"L{next(_seq)}",
        med_list_codg=code,
        fee_ocur_time=when,
        amount=line_amount(pric, cnt),
        cnt=cnt,
        pric=pric,
        **kw,  # type: ignore[arg-type]
    )


def settled_stay(session: Session, person: Person, *, at: InstitutionView = HOSPITAL, msgid: str | None = None) -> str:
    """An inpatient stay (pneumonia; class A 5,000.00, B 2,000.00, C 300.00) settled at ``at``: its setl_id.

    Made in March 2023 whatever the clock says, within the person's 2023 benefit year.
    """
    from yibao.claims import fees, settlement, visits
    from yibao.claims.models import VisitKind
    from yibao.claims.settlement import SettleIn
    from yibao.claims.visits import DiagnosisIn, Opening

    # The clock gives UTC instants, as in production (SQLite keeps the wall time it is given).
    with clock.use(clock.FixedClock(cn(2023, 3, 10, 10).astimezone(UTC))):
        insutype = "390" if session.scalar(_resident(person.id)) else "310"
        opening = Opening(
            person=person,
            insutype=insutype,
            begntime=cn(2023, 3, 1),
            mdtrt_cert_type="02",
            ipt_otp_no=f"ZY{person.id}-{next(_seq)}",
            med_type="21",
            matn_type=None,
            diagnoses=(DiagnosisIn("J18.900", "肺炎", main=True),),
        )
        v = visits.admit(session, institution=at, opening=opening, msgid=f"M{next(_seq)}-admit")
        lines = [
            line(item(session, "01"), 500_000, 10_000, cn(2023, 3, 2)),
            line(item(session, "02"), 100_000, 20_000, cn(2023, 3, 3)),
            line(item(session, "03"), 30_000, 10_000, cn(2023, 3, 4)),
        ]
        fees.upload(session, institution=at, mdtrt_id=v.mdtrt_id, person=person, lines=lines)
        visits.discharge(
            session,
            institution=at,
            mdtrt_id=v.mdtrt_id,
            person=person,
            insutype=insutype,
            endtime=cn(2023, 3, 8),
            dscg_way="1",
            diagnoses=(DiagnosisIn("J18.900", "肺炎", main=True),),
            details={},
        )
        req = SettleIn(
            kind=VisitKind.INPATIENT,
            mdtrt_id=v.mdtrt_id,
            person=person,
            insutype=insutype,
            medfee_sumamt=730_000,
            acct_used_flag="0",
        )
        out = settlement.settle(session, institution=at, req=req, msgid=msgid or f"MSG{next(_seq):020d}")
        return str(out.setlinfo["setl_id"])


def _resident(person_id: int) -> Any:
    from sqlalchemy import select

    from yibao.people.models import InsuranceRecord, Scheme

    return select(InsuranceRecord.id).where(
        InsuranceRecord.person_id == person_id, InsuranceRecord.scheme == Scheme.RESIDENT.value
    )


@dataclass(frozen=True)
class SettledStay:
    """A settlement as a hospital lists it in a detail file (3202), with yibao's fund amount."""

    setl_id: str
    mdtrt_id: str
    psn_no: str
    fund: str

    def line(self, medfee: str = "7300.00", fund: str | None = None, acct: str = "0.00", flag: str = "0") -> str:
        """Its row of a detail file (TAB-separated; the stay's own amounts unless told otherwise)."""
        return "\t".join([self.setl_id, self.mdtrt_id, self.psn_no, medfee, fund or self.fund, acct, flag])


def settled_stays(
    engine: Engine, code: str, region: str, n: int, *, reverse: Collection[int] = ()
) -> list[SettledStay]:
    """``n`` inpatient stays (:func:`settled_stay`) settled at an institution in March 2023, those at ``reverse`` reversed."""
    from sqlalchemy import select

    from yibao.claims import reversal
    from yibao.claims.models import Settlement, Visit, VisitKind

    place = Place(code, "测试定点医院", "hospital", 3, region)
    out = []
    with unit_of_work(engine, principal=system_principal()) as s:
        for i in range(n):
            person = insured_resident(s)
            setl_id = settled_stay(s, person, at=place)
            row = s.execute(
                select(Visit.mdtrt_id, Settlement.fund_pay_sumamt)
                .join(Visit, Visit.id == Settlement.visit_id)
                .where(Settlement.setl_id == setl_id)
            ).one()
            if i in reverse:
                reversal.reverse(
                    s,
                    institution=place,
                    setl_id=setl_id,
                    mdtrt_id=row.mdtrt_id,
                    person=person,
                    msgid=f"R{setl_id}",
                    kind=VisitKind.INPATIENT,
                )
            out.append(SettledStay(setl_id, row.mdtrt_id, person.psn_no, format_yuan(row.fund_pay_sumamt)))
    return out
