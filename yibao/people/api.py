"""``/api/people``: enrolment, relations, statuses (thin: parse, call one service function, render)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from yibao.api.deps import UnitOfWorkRoute, get_session
from yibao.core.auth import needs
from yibao.core.clock import today
from yibao.people import enrolment, persons, records, relations
from yibao.people.schemas import (
    EmployeeIn,
    MoveIn,
    NewbornIn,
    PersonOut,
    RelationIn,
    RelativeOut,
    RelativesOut,
    ResidentIn,
    StatusIn,
    StudentIn,
)

router = APIRouter(prefix="/api/people", tags=["people"], route_class=UnitOfWorkRoute)


@router.post(
    "/residents",
    response_model=PersonOut,
    status_code=201,
    summary="城乡居民参保登记 / register a resident",
    openapi_extra=needs(enrolment.REGISTER),
)
def register_resident(body: ResidentIn, session: Session = Depends(get_session)) -> PersonOut:
    """Register a resident, for oneself or on someone's behalf."""
    return enrolment.register_resident(session, **body.model_dump(exclude={"on"}), on=body.on or today())


@router.post(
    "/students",
    response_model=PersonOut,
    status_code=201,
    summary="在昆高校大学生参保 / register a student",
    openapi_extra=needs(enrolment.REGISTER),
)
def register_student(body: StudentIn, session: Session = Depends(get_session)) -> PersonOut:
    """Register a student of a provincial university in Kunming."""
    return enrolment.register_student(session, **body.model_dump(exclude={"on"}), on=body.on or today())


@router.post(
    "/newborns",
    response_model=PersonOut,
    status_code=201,
    summary="新生儿参保 / register a newborn",
    openapi_extra=needs(enrolment.REGISTER),
)
def register_newborn(body: NewbornIn, session: Session = Depends(get_session)) -> PersonOut:
    """Register a newborn (cover from registration; congenital-disease stays from birth, per claim)."""
    return enrolment.register_newborn(session, **body.model_dump(exclude={"on"}), on=body.on or today())


@router.post(
    "/employees",
    response_model=PersonOut,
    status_code=201,
    summary="职工医保参保 / enrol an employee",
    openapi_extra=needs(enrolment.ENROL_EMPLOYEE),
)
def enrol_employee(body: EmployeeIn, session: Session = Depends(get_session)) -> PersonOut:
    """Enrol an employee (or a flexible worker)."""
    return enrolment.enrol_employee(session, **body.model_dump(exclude={"on"}), on=body.on or today())


@router.get(
    "/{id_number}",
    response_model=PersonOut,
    summary="查询参保人 / a person and their records",
    openapi_extra=needs(persons.READ),
)
def get_person(id_number: str, session: Session = Depends(get_session)) -> PersonOut:
    """A person with every insurance record and its history."""
    return persons.view_person(session, id_number)


@router.post(
    "/{id_number}/status",
    response_model=PersonOut,
    summary="暂停、恢复或终止参保 / change status",
    openapi_extra=needs(records.CHANGE),
)
def change_status(id_number: str, body: StatusIn, session: Session = Depends(get_session)) -> PersonOut:
    """Suspend, resume or terminate a record."""
    return records.change_status(
        session, id_number=id_number, scheme=body.scheme, to=body.to, reason=body.reason, actor="agency"
    )


@router.post(
    "/{id_number}/move",
    response_model=PersonOut,
    summary="转移经办机构 / move agency",
    openapi_extra=needs(records.CHANGE),
)
def move_agency(id_number: str, body: MoveIn, session: Session = Depends(get_session)) -> PersonOut:
    """Move a record to another pooling region."""
    return records.move_agency(
        session, id_number=id_number, scheme=body.scheme, region=body.region, reason=body.reason, actor="agency"
    )


@router.post(
    "/{id_number}/relations",
    response_model=RelativesOut,
    status_code=201,
    summary="登记亲属关系 / declare a relative",
    openapi_extra=needs(relations.DECLARE_RELATION),
)
def declare_relation(id_number: str, body: RelationIn, session: Session = Depends(get_session)) -> RelativesOut:
    """Declare a close relative; answers with every relative of the person."""
    return relations.declare_relation(
        session, id_number=id_number, relative_id_number=body.relative_id_number, relation=body.relation
    )


@router.get(
    "/{id_number}/relations",
    response_model=list[RelativeOut],
    summary="亲属关系 / relatives",
    openapi_extra=needs(persons.READ),
)
def relatives(id_number: str, session: Session = Depends(get_session)) -> list[RelativeOut]:
    """Every declared relative, from this person's side."""
    return relations.list_relatives(session, id_number)
