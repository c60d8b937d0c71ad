"""Enrolment use cases through the service layer, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.factories import create_resident, new_id
from yibao.core.auth import Principal, Role, act_as
from yibao.core.clock import today
from yibao.core.errors import Conflict, NotFound, ValidationFailed
from yibao.people import service
from yibao.people.models import InsuranceRecord, Person, Relation, Scheme, Status


def test_register_resident_reads_sex_and_birth_from_the_id(session: Session) -> None:
    idn = new_id(born=date(1985, 7, 3), sex="F")
    e = service.register_resident(
        session, id_number=idn, name="李四", region="530300", on=date(2022, 9, 1), phone="13812345678"
    )
    assert (e.person.sex, e.person.birth_date) == ("F", date(1985, 7, 3))
    assert (e.record.scheme, e.record.status, e.record.region_code) == ("resident", "normal", "530300")
    assert [h.kind for h in service.record_history(session, e.record)] == ["enrol"]


def test_on_behalf_registration_records_who_did_it(session: Session) -> None:
    helper = new_id()
    e = service.register_resident(
        session,
        id_number=new_id(born=date(1950, 1, 1)),
        name="王奶奶",
        region="530100",
        on=date(2022, 9, 1),
        on_behalf_by=helper,
    )
    assert e.record.registered_by == helper


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"sex": "F"}, "sex"),
        ({"birth_date": date(1991, 1, 1)}, "birth_date"),
        ({"region": "110100"}, "region"),
        ({"phone": "12345"}, "phone"),
        ({"name": ""}, "name"),
        ({"id_number": "530102199001011230"}, "id_number"),
    ],
)
def test_bad_input_writes_nothing(session: Session, change: dict[str, object], field: str) -> None:
    args: dict[str, object] = {"id_number": new_id(born=date(1990, 1, 1), sex="M"), "name": "赵六", "region": "530100"}
    args.update(change)
    before = session.scalar(select(func.count()).select_from(Person))
    with pytest.raises(ValidationFailed) as err:
        service.register_resident(session, on=date(2022, 9, 1), **args)  # type: ignore[arg-type]
    assert err.value.field == field
    assert session.scalar(select(func.count()).select_from(Person)) == before


def test_enrolling_twice_is_a_conflict(session: Session) -> None:
    idn = create_resident(session)
    with pytest.raises(Conflict):
        service.register_resident(session, id_number=idn, name="张三", region="530100", on=date(2022, 9, 1))


def test_student_needs_commitment_and_school(session: Session) -> None:
    with pytest.raises(ValidationFailed) as err:
        service.register_student(
            session,
            id_number=new_id(born=date(2003, 5, 5)),
            name="学生",
            school="云南大学",
            commitment_accepted=False,
            on=date(2022, 9, 1),
        )
    assert err.value.field == "commitment_accepted"
    with pytest.raises(ValidationFailed) as err:
        service.register_student(
            session,
            id_number=new_id(born=date(2003, 5, 5)),
            name="学生",
            school="北京大学",
            commitment_accepted=True,
            on=date(2022, 9, 1),
        )
    assert err.value.field == "school"
    e = service.register_student(
        session,
        id_number=new_id(born=date(2003, 5, 5)),
        name="学生",
        school="云南大学",
        commitment_accepted=True,
        on=date(2022, 9, 1),
    )
    assert (e.record.population_group, e.record.region_code, e.record.school) == ("student_child", "530100", "云南大学")


@pytest.mark.parametrize(
    ("registered", "benefits_from"),
    [(date(2022, 11, 10), date(2022, 11, 10)), (date(2022, 11, 11), date(2022, 11, 11))],
)
def test_newborn_cover_starts_at_registration(session: Session, registered: date, benefits_from: date) -> None:
    # Revision 2026-11-30: cover from birth is for congenital-disease stays only, decided per claim by the
    # engine (tests/engine/cases/newborn.yaml); the record's cover starts when the newborn is registered.
    e = service.register_newborn(
        session,
        id_number=new_id(born=date(2022, 8, 10)),
        name="小宝",
        guardian_id_number=create_resident(session),
        region="530100",
        on=registered,
    )
    assert e.record.benefits_from == benefits_from


def test_employee_needs_employer_unless_flexible(session: Session) -> None:
    with pytest.raises(ValidationFailed):
        service.enrol_employee(
            session, id_number=new_id(), name="职工", region="530100", on=date(2022, 1, 1), employer=None
        )
    e = service.enrol_employee(
        session, id_number=new_id(), name="个体户", region="530100", on=date(2022, 1, 1), employer=None, flexible=True
    )
    assert e.record.flexible and e.record.employer is None


def test_status_changes_keep_history_and_refuse_nonsense(session: Session) -> None:
    idn = create_resident(session)
    service.change_status(
        session, id_number=idn, scheme=Scheme.RESIDENT, to=Status.SUSPENDED, reason="停保", actor="clerk1"
    )
    service.change_status(
        session, id_number=idn, scheme=Scheme.RESIDENT, to=Status.NORMAL, reason="续保", actor="clerk1"
    )
    service.change_status(
        session, id_number=idn, scheme=Scheme.RESIDENT, to=Status.TERMINATED, reason="死亡", actor="clerk1"
    )
    with pytest.raises(service.StatusNotAllowed):
        service.change_status(
            session, id_number=idn, scheme=Scheme.RESIDENT, to=Status.NORMAL, reason="x", actor="clerk1"
        )
    rec = service.get_record(session, idn, Scheme.RESIDENT)
    assert [(h.kind, h.new_value) for h in service.record_history(session, rec)] == [
        ("enrol", "normal"),
        ("status", "suspended"),
        ("status", "normal"),
        ("status", "terminated"),
    ]


def test_move_agency(session: Session) -> None:
    idn = create_resident(session, region="530100")
    rec = service.move_agency(
        session, id_number=idn, scheme=Scheme.RESIDENT, region="532900", reason="迁居大理", actor="clerk"
    )
    assert rec.region_code == "532900"
    with pytest.raises(ValidationFailed):
        service.move_agency(session, id_number=idn, scheme=Scheme.RESIDENT, region="532900", reason="", actor="clerk")


def test_relations_are_stored_once_and_read_from_both_sides(session: Session) -> None:
    child = create_resident(session, name="孙子", born=date(2010, 1, 1))
    grandpa = create_resident(session, name="爷爷", born=date(1945, 1, 1))
    service.declare_relation(
        session, id_number=child, relative_id_number=grandpa, relation=Relation.GRANDPARENT_PATERNAL
    )
    assert service.relation_between(session, child, grandpa) is Relation.GRANDPARENT_PATERNAL
    assert service.relation_between(session, grandpa, child) is Relation.GRANDCHILD_PATERNAL
    with pytest.raises(Conflict):
        service.declare_relation(
            session, id_number=grandpa, relative_id_number=child, relation=Relation.GRANDCHILD_PATERNAL
        )


def test_unknown_person(session: Session) -> None:
    before = [session.scalar(select(func.count()).select_from(t)) for t in (Person, InsuranceRecord)]
    idn = new_id()
    with pytest.raises(NotFound):
        service.get_person(session, idn)
    assert service.find_person(session, idn) is None  # looking does not create
    assert [session.scalar(select(func.count()).select_from(t)) for t in (Person, InsuranceRecord)] == before


@pytest.mark.parametrize(
    "name",
    [
        "张\u202e三",
        "张\u200b三",
        "张\n三",
        "张\r三",
        "张\t三",
        "\u2066张三\u2069",
        "张\ufeff三",
        "张\u2028三",
        "张\u00a0三",
    ],
    ids=["rtl-override", "zero-width", "newline", "cr", "tab", "isolate", "bom", "line-separator", "nbsp"],
)
def test_names_without_invisible_characters(session: Session, name: str) -> None:
    before = session.scalar(select(func.count()).select_from(Person))
    for register in (
        lambda: service.register_resident(session, id_number=new_id(), name=name, region="530100", on=date(2022, 9, 1)),
        lambda: service.enrol_employee(
            session, id_number=new_id(), name=name, region="530100", on=date(2022, 9, 1), employer="某公司"
        ),
        lambda: service.enrol_employee(
            session, id_number=new_id(), name="职工", region="530100", on=date(2022, 9, 1), employer=name
        ),
    ):
        with pytest.raises(ValidationFailed) as err:
            register()
        assert err.value.field in ("name", "employer") and "U+" in err.value.message_en
    assert session.scalar(select(func.count()).select_from(Person)) == before


def test_names_with_spaces_and_middle_dots_are_fine(session: Session) -> None:
    for name in ("阿不都·热合曼", "Anna Maria", "欧阳 娜娜"):
        service.register_resident(session, id_number=new_id(), name=name, region="530100", on=date(2022, 9, 1))


def test_a_newborns_guardian_must_be_on_file(session: Session) -> None:
    before = session.scalar(select(func.count()).select_from(Person))
    baby = new_id(born=date(2022, 8, 10))
    for guardian in (new_id(), baby):
        with pytest.raises(ValidationFailed) as err:
            service.register_newborn(
                session, id_number=baby, name="小宝", guardian_id_number=guardian, region="530100", on=date(2022, 9, 1)
            )
        assert err.value.field == "guardian_id_number"
    assert session.scalar(select(func.count()).select_from(Person)) == before


@pytest.mark.parametrize("on", [date(1, 1, 1), date(9999, 12, 31), date(2000, 1, 1)])
def test_effective_dates_within_the_policy_and_not_ahead(session: Session, on: date) -> None:
    # Even the operator (importing history) cannot enrol before the pack's rules begin, nor in the future.
    with pytest.raises(ValidationFailed) as err:
        service.register_resident(session, id_number=new_id(), name="甲", region="530100", on=on)
    assert err.value.field == "on"
    with pytest.raises(ValidationFailed) as err:
        service.enrol_employee(session, id_number=new_id(), name="乙", region="530100", on=on, employer="某公司")
    assert err.value.field == "on"


def test_staff_backdate_within_the_window_and_persons_enrol_today(session: Session) -> None:
    from yibao.policy.loader import get_pack

    days = get_pack().at(today()).get("enrolment.backdate_days").value
    act_as(session, Principal(Role.CLERK, "km.clerk", "经办", region="530100"))
    service.register_resident(session, id_number=new_id(), name="甲", region="530100", on=today() - timedelta(days))
    with pytest.raises(ValidationFailed) as err:
        service.register_resident(
            session, id_number=new_id(), name="乙", region="530100", on=today() - timedelta(days + 1)
        )
    assert err.value.field == "on"
    with pytest.raises(ValidationFailed) as err:
        service.register_resident(session, id_number=new_id(), name="丙", region="530100", on=today() + timedelta(1))
    assert err.value.field == "on"
    me = new_id()
    act_as(session, Principal(Role.PERSON, me, "本人"))
    with pytest.raises(ValidationFailed) as err:
        service.register_resident(session, id_number=me, name="丁", region="530100", on=today() - timedelta(1))
    assert err.value.field == "on"
    service.register_resident(session, id_number=me, name="丁", region="530100", on=today())
