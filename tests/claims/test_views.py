"""Reading settlements back: who may, what they see (masked diagnoses), the explanation, the command line."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.claims.helpers import DALI, HOSPITAL, Place, employee, insured_resident, settled_stay
from yibao.claims import reversal, views
from yibao.claims.models import Settlement, VisitKind
from yibao.core import clock
from yibao.core.auth import Principal, Role, act_as, system_principal
from yibao.core.errors import Forbidden, NotFound

OTHER_KM = Place("H53010000009", "昆明另一医院", "hospital", 2, "530100")


def test_the_settlement_reads_back_as_answered_with_its_policy_sentences(session: Session) -> None:
    person = insured_resident(session)
    setl_id = settled_stay(session, person)
    out = views.show(session, setl_id)
    row = session.scalar(select(Settlement).where(Settlement.setl_id == setl_id))
    assert row is not None and out.setlinfo == json.loads(row.setlinfo)
    assert (out.medfee_sumamt, out.fund_pay_sumamt, out.psn_cash_pay) == ("7300.00", "4340.00", "2960.00")
    assert (out.med_type_name, out.state, out.setl_time) == ("普通住院", "settled", "2023-03-10 10:00:00")
    assert out.certno.count("*") == 8  # masked as everywhere but at the counter
    rules = [s.rule for s in out.steps]
    assert "resident.inpatient.deductible" in rules
    deductible = next(s for s in out.steps if s.rule == "resident.inpatient.deductible")
    assert deductible.amount == "600.00" and deductible.citations and deductible.citations[0].quote
    text = "\n".join(out.explanation)
    assert text.startswith("医疗费用总额 7300.00 元：全自费 300.00 元")
    assert "统筹基金 4340.00 元" in text and "现金支付 2960.00 元" in text
    assert f"「{deductible.citations[0].quote}」" in text
    assert [(d.stage, d.diag_code, d.diag_name) for d in out.diagnoses] == [
        ("admission", "J18.900", "肺*"),
        ("discharge", "J18.900", "肺*"),
    ]


def test_a_reversed_settlement_says_so(session: Session) -> None:
    person = insured_resident(session)
    setl_id = settled_stay(session, person)
    row = session.scalar(select(Settlement).where(Settlement.setl_id == setl_id))
    assert row is not None
    with clock.use(clock.FixedClock(clock.now())):
        reversal.reverse(
            session,
            institution=HOSPITAL,
            setl_id=setl_id,
            mdtrt_id=views.show(session, setl_id).mdtrt_id,
            person=person,
            msgid="MSG-VIEW-REVERSE",
            kind=VisitKind.INPATIENT,
        )
    out = views.show(session, setl_id)
    assert out.state == "reversed" and out.reversed_at is not None
    assert "冲销" in out.explanation[-1]


def test_who_may_read_and_what_they_see(session: Session) -> None:
    person = insured_resident(session)
    setl_id = settled_stay(session, person)
    stranger = insured_resident(session)

    act_as(session, Principal(Role.PERSON, person.id_number, "本人", person_id=person.id))
    mine = views.show(session, setl_id)
    assert mine.certno != person.id_number and mine.certno.count("*") == 8
    assert {d.diag_code for d in mine.diagnoses} == {"J18.900"}
    assert {d.diag_name for d in mine.diagnoses} == {"肺*"}
    assert [s.setl_id for s in views.list_for(session, person.id_number).settlements] == [setl_id]

    act_as(session, Principal(Role.PERSON, stranger.id_number, "路人", person_id=stranger.id))
    with pytest.raises(Forbidden):
        views.show(session, setl_id)
    with pytest.raises(Forbidden):
        views.list_for(session, person.id_number)

    act_as(session, Principal(Role.INSTITUTION, HOSPITAL.code, HOSPITAL.name, region="530100"))
    assert views.show(session, setl_id).diagnoses[0].diag_name == "肺*"
    with pytest.raises(Forbidden):  # a hospital reads its own settlements only, and lists nobody's
        views.list_for(session, person.id_number)
    act_as(session, Principal(Role.INSTITUTION, OTHER_KM.code, OTHER_KM.name, region="530100"))
    with pytest.raises(Forbidden):
        views.show(session, setl_id)

    act_as(session, Principal(Role.CLERK, "km.clerk", "经办", region="530100"))
    assert views.show(session, setl_id).diagnoses[0].diag_name == "肺炎"  # the counter sees it in full
    act_as(session, Principal(Role.AUDITOR, "km.auditor", "稽核", region="530100"))
    assert views.show(session, setl_id).diagnoses[0].diag_name == "肺*"
    act_as(session, Principal(Role.CLERK, "dali.clerk", "经办", region=DALI.region))
    with pytest.raises(Forbidden):
        views.show(session, setl_id)
    with pytest.raises(Forbidden):  # an unknown number is refused like a known one
        views.show(session, "NO-SUCH-SETTLEMENT")
    act_as(session, Principal(Role.CLERK, "yn.clerk", "经办", region="530000"))
    with pytest.raises(NotFound):
        views.show(session, "NO-SUCH-SETTLEMENT")

    # every read, allowed or not, is audited with the number of diagnoses shown
    pending = [a for a in session.info.get("audit_pending", []) if a["action"] == views.READ]
    assert [a["allowed"] for a in pending] == [True, False, True, False, True, True, False, False, True]
    assert '"diagnoses": 2' in pending[0]["detail"] and '"unmasked": false' in pending[0]["detail"]
    assert all(person.id_number not in (a["detail"] or "") for a in pending)


def test_an_employee_list_is_newest_first(session: Session) -> None:
    act_as(session, system_principal())
    person = employee(session)
    first = settled_stay(session, person)
    with clock.use(clock.FixedClock(clock.now())):
        second = settled_stay(session, person, at=OTHER_KM)
    out = views.list_for(session, person.id_number)
    assert {s.setl_id for s in out.settlements} == {first, second}
    assert all(s.fund_pay_sumamt == "0.00" for s in out.settlements)  # no employee pooled fund in the seeds


def test_the_command_shows_and_lists(cli_db: str) -> None:
    from sqlalchemy import create_engine

    from tests.cli import run
    from yibao.core.unit import unit_of_work

    engine = create_engine(cli_db)
    with unit_of_work(engine, principal=system_principal()) as s:
        person = insured_resident(s)
        setl_id = settled_stay(s, person)
        idn = person.id_number
    engine.dispose()
    code, out = run("settlements", "show", setl_id, "--explain")
    assert code == 0, out
    assert setl_id in out and "7300.00" in out and "计算依据" in out and "医疗费用总额 7300.00 元" in out
    code, out = run("settlements", "show", setl_id, "--json")
    assert code == 0 and json.loads(out)["setlinfo"]["setl_id"] == setl_id
    code, out = run("settlements", "list", idn, "--json")
    assert code == 0 and [s["setl_id"] for s in json.loads(out)["settlements"]] == [setl_id]
    code, _ = run("settlements", "show", "NO-SUCH")
    assert code == 3
