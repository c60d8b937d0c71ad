"""Concurrent settlements of one person near the yearly fund ceiling never pass it (each on its own connection)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tests.claims.helpers import Place, cn, insured_resident, item, line
from yibao.claims import fees, settlement, visits
from yibao.claims.models import Accumulator, VisitKind
from yibao.claims.settlement import SettleIn
from yibao.claims.visits import Opening
from yibao.core import clock
from yibao.core.auth import act_as, system_principal
from yibao.core.money import parse_yuan
from yibao.institutions.models import InstitutionView
from yibao.people.models import Person
from yibao.policy.loader import get_pack

CEILING = get_pack().at(date(2023, 3, 1)).get("resident.fund_ceiling").value
THREADS = 8


@pytest.fixture(autouse=True)
def _march_2023() -> Iterator[None]:
    with clock.use(clock.FixedClock(cn(2023, 3, 10, 10))):
        yield


def _session(engine: Engine) -> Session:
    return act_as(Session(engine, expire_on_commit=False), system_principal())


def test_eight_hospitals_settling_one_person_never_pass_the_ceiling(engine: Engine) -> None:
    places = [Place(f"H5301009{i:04d}", f"医院{i}", "hospital", 3, "530100") for i in range(THREADS)]
    with _session(engine) as s:
        person: Person = insured_resident(s, born=date(1970, 1, 1), sex="M")
        stays = []
        for place in places:
            opening = Opening(person, "390", cn(2023, 3, 1), "02", "ZY", med_type="21")
            v = visits.admit(s, institution=place, opening=opening, msgid="A")
            code = item(s, "01")
            fees.upload(
                s,
                institution=place,
                mdtrt_id=v.mdtrt_id,
                person=person,
                lines=[line(code, 1_000_000, 10_000, cn(2023, 3, 2))],
            )
            visits.discharge(
                s,
                institution=place,
                mdtrt_id=v.mdtrt_id,
                person=person,
                insutype="390",
                endtime=cn(2023, 3, 5),
                dscg_way="1",
                diagnoses=(),
                details={},
            )
            stays.append(v.mdtrt_id)
        # 5,000.00 left of the ceiling; each stay of 10,000.00 alone would take 6,580.00 of it
        s.add(
            Accumulator(
                person_id=person.id,
                year_start=date(2023, 1, 1),
                fund_paid=CEILING - 500_000,
                catastrophic_base=0,
                general_outpatient_paid=0,
            )
        )
        s.commit()

    paid: list[int] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(THREADS)

    def settle(place: InstitutionView, mdtrt_id: str) -> None:
        try:
            barrier.wait(timeout=60)  # before any statement: SQLite takes its write lock at the first one
            with _session(engine) as s:
                me = s.get(Person, person.id)
                assert me is not None
                out = settlement.settle(
                    s,
                    institution=place,
                    req=SettleIn(VisitKind.INPATIENT, mdtrt_id, me, "390", 1_000_000, "0"),
                    msgid=f"S-{mdtrt_id}",
                )
                s.commit()
                paid.append(parse_yuan(out.setlinfo["hifp_pay"]))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=settle, args=(p, m)) for p, m in zip(places, stays, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    # whoever came first got the 5,000.00 left, everyone after nothing
    assert sorted(paid, reverse=True) == [500_000] + [0] * (THREADS - 1)
    with _session(engine) as s:
        acc = s.get(Accumulator, (person.id, date(2023, 1, 1)))
        assert acc is not None and acc.fund_paid == CEILING
