"""Enrolment use cases through the service layer, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.factories import create_resident, new_id
from yibao.core.auth import Principal, Role, act_as
from yibao.core.clock import today
from yibao.core.errors import Conflict, NotFound, ValidationFailed
from yibao.core.ids import mask_id
from yibao.people import enrolment, persons, records, relations
from yibao.people.models import InsuranceRecord, Person, PersonRelation, RecordChange, Relation, Scheme, Status
from yibao.policy.loader import get_pack
from yibao.policy.model import ListItem, Pack


def _counts(session: Session) -> list[int]:
    """Rows of every people table: a refused request must leave each as it was."""
    return [
        int(session.scalar(select(func.count()).select_from(t)) or 0)
        for t in (Person, InsuranceRecord, RecordChange, PersonRelation)
    ]


def _with_list(path: str, items: tuple[ListItem, ...]) -> Pack:
    """The pack with today's value of one list parameter replaced."""
    pack = get_pack()
    param = pack.parameters[path]
    latest = replace(param.history[-1], value=items)
    return replace(pack, parameters={**pack.parameters, path: replace(param, history=(*param.history[:-1], latest))})


def test_register_resident_reads_sex_and_birth_from_the_id(session: Session) -> None:
    idn = new_id(born=date(1985, 7, 3), sex="F")
    e = enrolment.register_resident(
        session, id_number=idn, name="李四", region="530300", on=date(2022, 9, 1), phone="13812345678"
    )
    assert (e.sex, e.birth_date) == ("F", date(1985, 7, 3))
    [record] = e.records
    assert (record.scheme, record.status, record.region_code, record.agency, record.channel) == (
        "resident",
        "normal",
        "530300",
        "曲靖市医疗保障经办机构",
        "banshitong_app",
    )
    assert [(h.kind, h.new_value, h.reason) for h in record.history] == [("enrol", "normal", "参保登记")]
    # The operator sees what every caller but a clerk or an appraiser sees: numbers masked.
    assert (e.id_number, e.phone) == (mask_id(idn), "138****5678")


def test_on_behalf_registration_records_who_did_it(session: Session) -> None:
    helper = new_id()
    grandma = new_id(born=date(1950, 1, 1))
    e = enrolment.register_resident(
        session, id_number=grandma, name="王奶奶", region="530100", on=date(2022, 9, 1), on_behalf_by=helper
    )
    assert e.records[0].registered_by == mask_id(helper)
    act_as(session, Principal(Role.CLERK, "km.clerk", "经办", region="530100"))  # checks identities: in full
    assert persons.view_person(session, grandma).records[0].registered_by == helper


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
    before = _counts(session)
    with pytest.raises(ValidationFailed) as err:
        enrolment.register_resident(session, on=date(2022, 9, 1), **args)  # type: ignore[arg-type]
    assert err.value.field == field
    assert _counts(session) == before


def test_enrolling_twice_is_a_conflict(session: Session) -> None:
    idn = create_resident(session)
    before = _counts(session)
    with pytest.raises(Conflict) as err:
        enrolment.register_resident(session, id_number=idn, name="张三", region="530100", on=date(2022, 9, 1))
    assert err.value.code == "people.already_enrolled" and _counts(session) == before


def test_student_needs_commitment_and_school(session: Session) -> None:
    before = _counts(session)
    for accepted, school, field in ((False, "云南大学", "commitment_accepted"), (True, "北京大学", "school")):
        with pytest.raises(ValidationFailed) as err:
            enrolment.register_student(
                session,
                id_number=new_id(born=date(2003, 5, 5)),
                name="学生",
                school=school,
                commitment_accepted=accepted,
                on=date(2022, 9, 1),
            )
        assert err.value.field == field
    assert _counts(session) == before
    e = enrolment.register_student(
        session,
        id_number=new_id(born=date(2003, 5, 5)),
        name="学生",
        school="云南大学",
        commitment_accepted=True,
        on=date(2022, 9, 1),
    )
    [record] = e.records
    assert (record.population_group, record.region_code, record.school) == ("student_child", "530100", "云南大学")


def test_schools_and_the_students_region_come_from_the_pack(session: Session) -> None:
    schools = _with_list(enrolment.STUDENT_SCHOOLS, (ListItem("dali_university", "大理大学"),))
    with pytest.raises(ValidationFailed) as err:
        enrolment.register_student(
            session,
            id_number=new_id(born=date(2003, 5, 5)),
            name="学生",
            school="云南大学",
            commitment_accepted=True,
            on=date(2022, 9, 1),
            pack=schools,
        )
    assert err.value.field == "school"
    dali = _with_list(enrolment.STUDENT_REGION, (ListItem("dali", "大理白族自治州"),))
    e = enrolment.register_student(
        session,
        id_number=new_id(born=date(2003, 5, 5)),
        name="学生",
        school="云南大学",
        commitment_accepted=True,
        on=date(2022, 9, 1),
        pack=dali,
    )
    assert (e.records[0].region_code, e.records[0].agency) == ("532900", "大理白族自治州医疗保障经办机构")


@pytest.mark.parametrize(
    ("registered", "benefits_from"),
    [(date(2022, 11, 10), date(2022, 11, 10)), (date(2022, 11, 11), date(2022, 11, 11))],
)
def test_newborn_cover_starts_at_registration(session: Session, registered: date, benefits_from: date) -> None:
    # Revision 2026-11-30: cover from birth is for congenital-disease stays only, decided per claim by the
    # engine (tests/engine/cases/newborn.yaml); the record's cover starts when the newborn is registered.
    e = enrolment.register_newborn(
        session,
        id_number=new_id(born=date(2022, 8, 10)),
        name="小宝",
        guardian_id_number=create_resident(session),
        region="530100",
        on=registered,
    )
    assert (e.records[0].enrolled_on, e.records[0].benefits_from) == (registered, benefits_from)


def test_employee_needs_employer_unless_flexible(session: Session) -> None:
    for employer, flexible in ((None, False), ("某公司", True)):
        with pytest.raises(ValidationFailed) as err:
            enrolment.enrol_employee(
                session,
                id_number=new_id(),
                name="职工",
                region="530100",
                on=date(2022, 1, 1),
                employer=employer,
                flexible=flexible,
            )
        assert err.value.field == "employer"
    e = enrolment.enrol_employee(
        session, id_number=new_id(), name="个体户", region="530100", on=date(2022, 1, 1), employer=None, flexible=True
    )
    [record] = e.records
    assert (record.scheme, record.flexible, record.employer, record.channel) == (
        "employee",
        True,
        None,
        "agency_counter",
    )


def test_status_changes_keep_history_and_refuse_nonsense(session: Session) -> None:
    idn = create_resident(session)
    for to, reason in ((Status.SUSPENDED, "停保"), (Status.NORMAL, "续保"), (Status.TERMINATED, "死亡")):
        shown = records.change_status(
            session, id_number=idn, scheme=Scheme.RESIDENT, to=to, reason=reason, actor="clerk1"
        )
        assert shown.records[0].status == to
    before = _counts(session)
    with pytest.raises(records.StatusNotAllowed):
        records.change_status(session, id_number=idn, scheme=Scheme.RESIDENT, to=Status.NORMAL, reason="x", actor="c")
    assert _counts(session) == before
    rec = persons.get_record(session, idn, Scheme.RESIDENT)
    assert [(h.kind, h.new_value) for h in persons.record_history(session, rec)] == [
        ("enrol", "normal"),
        ("status", "suspended"),
        ("status", "normal"),
        ("status", "terminated"),
    ]


def test_move_agency(session: Session) -> None:
    idn = create_resident(session, region="530100")
    shown = records.move_agency(
        session, id_number=idn, scheme=Scheme.RESIDENT, region="532900", reason="迁居大理", actor="clerk"
    )
    assert (shown.records[0].region_code, shown.records[0].history[-1].old_value) == ("532900", "530100")
    with pytest.raises(ValidationFailed) as err:
        records.move_agency(session, id_number=idn, scheme=Scheme.RESIDENT, region="532900", reason="", actor="clerk")
    assert err.value.field == "region"


def test_relations_are_stored_once_and_read_from_both_sides(session: Session) -> None:
    child = create_resident(session, name="孙子", born=date(2010, 1, 1))
    grandpa = create_resident(session, name="爷爷", born=date(1945, 1, 1))
    shown = relations.declare_relation(
        session, id_number=child, relative_id_number=grandpa, relation=Relation.GRANDPARENT_PATERNAL
    )
    assert [(r.id_number, r.name, r.relation) for r in shown.relatives] == [
        (mask_id(grandpa), "爷爷", Relation.GRANDPARENT_PATERNAL)
    ]
    assert relations.relation_between(session, child, grandpa) is Relation.GRANDPARENT_PATERNAL
    assert relations.relation_between(session, grandpa, child) is Relation.GRANDCHILD_PATERNAL
    before = _counts(session)
    with pytest.raises(Conflict):
        relations.declare_relation(
            session, id_number=grandpa, relative_id_number=child, relation=Relation.GRANDCHILD_PATERNAL
        )
    assert _counts(session) == before


def test_only_the_packs_close_relatives_may_be_declared(session: Session) -> None:
    a, b = create_resident(session), create_resident(session)
    without_siblings = tuple(
        i for i in get_pack().at(today()).get(relations.CLOSE_RELATIVES).value if i.code != Relation.SIBLING
    )
    before = _counts(session)
    with pytest.raises(ValidationFailed) as err:
        relations.declare_relation(
            session,
            id_number=a,
            relative_id_number=b,
            relation=Relation.SIBLING,
            pack=_with_list(relations.CLOSE_RELATIVES, without_siblings),
        )
    assert err.value.field == "relation" and "兄弟姐妹" not in err.value.message_zh
    assert _counts(session) == before
    relations.declare_relation(session, id_number=a, relative_id_number=b, relation=Relation.SIBLING)
    assert relations.relation_between(session, b, a) is Relation.SIBLING


def test_every_close_relative_in_the_pack_has_an_inverse() -> None:
    codes = {i.code for p in get_pack().parameters[relations.CLOSE_RELATIVES].history for i in p.value}
    assert codes <= set(Relation)


def test_an_unknown_person_is_not_found_and_nothing_is_written(session: Session) -> None:
    known, unknown = create_resident(session), new_id()
    before = _counts(session)
    for attempt in (
        lambda: persons.get_person(session, unknown),
        lambda: persons.view_person(session, unknown),
        lambda: records.change_status(
            session, id_number=unknown, scheme=Scheme.RESIDENT, to=Status.SUSPENDED, reason="停保", actor="c"
        ),
        lambda: records.move_agency(
            session, id_number=unknown, scheme=Scheme.RESIDENT, region="532900", reason="迁居", actor="c"
        ),
        lambda: relations.declare_relation(
            session, id_number=known, relative_id_number=unknown, relation=Relation.SPOUSE
        ),
        lambda: relations.declare_relation(
            session, id_number=unknown, relative_id_number=known, relation=Relation.SPOUSE
        ),
    ):
        with pytest.raises(NotFound) as err:
            attempt()
        assert err.value.code == "people.not_found"
    assert _counts(session) == before
    with pytest.raises(NotFound) as err:
        persons.get_record(session, known, Scheme.EMPLOYEE)
    assert err.value.code == "people.not_enrolled"


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
    before = _counts(session)
    for register, field in (
        (
            lambda: enrolment.register_resident(
                session, id_number=new_id(), name=name, region="530100", on=date(2022, 9, 1)
            ),
            "name",
        ),
        (
            lambda: enrolment.enrol_employee(
                session, id_number=new_id(), name=name, region="530100", on=date(2022, 9, 1), employer="某公司"
            ),
            "name",
        ),
        (
            lambda: enrolment.enrol_employee(
                session, id_number=new_id(), name="职工", region="530100", on=date(2022, 9, 1), employer=name
            ),
            "employer",
        ),
    ):
        with pytest.raises(ValidationFailed) as err:
            register()
        assert err.value.field == field and "U+" in err.value.message_en
    assert _counts(session) == before


def test_names_with_spaces_and_middle_dots_are_fine(session: Session) -> None:
    for name in ("阿不都·热合曼", "Anna Maria", "欧阳 娜娜"):
        e = enrolment.register_resident(session, id_number=new_id(), name=name, region="530100", on=date(2022, 9, 1))
        assert e.name == name


def test_a_newborns_guardian_must_be_on_file(session: Session) -> None:
    before = _counts(session)
    baby = new_id(born=date(2022, 8, 10))
    for guardian in (new_id(), baby):
        with pytest.raises(ValidationFailed) as err:
            enrolment.register_newborn(
                session, id_number=baby, name="小宝", guardian_id_number=guardian, region="530100", on=date(2022, 9, 1)
            )
        assert err.value.field == "guardian_id_number"
    assert _counts(session) == before


@pytest.mark.parametrize("on", [date(1, 1, 1), date(9999, 12, 31), date(2000, 1, 1)])
def test_effective_dates_within_the_policy_and_not_ahead(session: Session, on: date) -> None:
    # Even the operator (importing history) cannot enrol before the pack's rules begin, nor in the future.
    with pytest.raises(ValidationFailed) as err:
        enrolment.register_resident(session, id_number=new_id(), name="甲", region="530100", on=on)
    assert err.value.field == "on"
    with pytest.raises(ValidationFailed) as err:
        enrolment.enrol_employee(session, id_number=new_id(), name="乙", region="530100", on=on, employer="某公司")
    assert err.value.field == "on"


def test_staff_backdate_within_the_window_and_persons_enrol_today(session: Session) -> None:
    days = get_pack().at(today()).get("enrolment.backdate_days").value
    act_as(session, Principal(Role.CLERK, "km.clerk", "经办", region="530100"))
    enrolment.register_resident(session, id_number=new_id(), name="甲", region="530100", on=today() - timedelta(days))
    with pytest.raises(ValidationFailed) as err:
        enrolment.register_resident(
            session, id_number=new_id(), name="乙", region="530100", on=today() - timedelta(days + 1)
        )
    assert err.value.field == "on"
    with pytest.raises(ValidationFailed) as err:
        enrolment.register_resident(session, id_number=new_id(), name="丙", region="530100", on=today() + timedelta(1))
    assert err.value.field == "on"
    me = new_id()
    act_as(session, Principal(Role.PERSON, me, "本人"))
    with pytest.raises(ValidationFailed) as err:
        enrolment.register_resident(session, id_number=me, name="丁", region="530100", on=today() - timedelta(1))
    assert err.value.field == "on"
    enrolment.register_resident(session, id_number=me, name="丁", region="530100", on=today())
