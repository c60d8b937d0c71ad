"""``/api/people``: enrolment, relations, statuses (thin: parse, call one service function, render)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from yibao.api.deps import UnitOfWorkRoute, get_session
from yibao.core.auth import needs, sees_full_ids
from yibao.core.clock import today
from yibao.core.ids import mask_id
from yibao.people import service
from yibao.people.models import Relation, Scheme, Status
from yibao.people.schemas import (
    EmployeeIn,
    MoveIn,
    NewbornIn,
    PersonOut,
    RelationIn,
    ResidentIn,
    StatusIn,
    StudentIn,
    person_out,
    record_out,
)

router = APIRouter(prefix="/api/people", tags=["people"], route_class=UnitOfWorkRoute)


def _enrolled(session: Session, e: service.Enrolled) -> PersonOut:
    full = sees_full_ids(session)
    return person_out(e.person, [record_out(e.record, service.record_history(session, e.record), full=full)], full=full)


@router.post(
    "/residents",
    response_model=PersonOut,
    status_code=201,
    summary="城乡居民参保登记 / register a resident",
    openapi_extra=needs(service.REGISTER),
)
def register_resident(body: ResidentIn, session: Session = Depends(get_session)) -> PersonOut:
    """Register a resident, for oneself or on someone's behalf."""
    return _enrolled(
        session, service.register_resident(session, **body.model_dump(exclude={"on"}), on=body.on or today())
    )


@router.post(
    "/students",
    response_model=PersonOut,
    status_code=201,
    summary="在昆高校大学生参保 / register a student",
    openapi_extra=needs(service.REGISTER),
)
def register_student(body: StudentIn, session: Session = Depends(get_session)) -> PersonOut:
    """Register a student of a provincial university in Kunming."""
    return _enrolled(
        session, service.register_student(session, **body.model_dump(exclude={"on"}), on=body.on or today())
    )


@router.post(
    "/newborns",
    response_model=PersonOut,
    status_code=201,
    summary="新生儿参保 / register a newborn",
    openapi_extra=needs(service.REGISTER),
)
def register_newborn(body: NewbornIn, session: Session = Depends(get_session)) -> PersonOut:
    """Register a newborn (cover from birth when within three months)."""
    return _enrolled(
        session, service.register_newborn(session, **body.model_dump(exclude={"on"}), on=body.on or today())
    )


@router.post(
    "/employees",
    response_model=PersonOut,
    status_code=201,
    summary="职工医保参保 / enrol an employee",
    openapi_extra=needs(service.ENROL_EMPLOYEE),
)
def enrol_employee(body: EmployeeIn, session: Session = Depends(get_session)) -> PersonOut:
    """Enrol an employee (or a flexible worker)."""
    return _enrolled(session, service.enrol_employee(session, **body.model_dump(exclude={"on"}), on=body.on or today()))


def _view(session: Session, id_number: str) -> PersonOut:
    p, records = service.view_person(session, id_number)
    full = sees_full_ids(session)
    return person_out(p, [record_out(r, service.record_history(session, r), full=full) for r in records], full=full)


@router.get(
    "/{id_number}",
    response_model=PersonOut,
    summary="查询参保人 / a person and their records",
    openapi_extra=needs(service.READ),
)
def get_person(id_number: str, session: Session = Depends(get_session)) -> PersonOut:
    """A person with every insurance record and its history."""
    return _view(session, id_number)


@router.post(
    "/{id_number}/status",
    response_model=PersonOut,
    summary="暂停、恢复或终止参保 / change status",
    openapi_extra=needs(service.CHANGE),
)
def change_status(id_number: str, body: StatusIn, session: Session = Depends(get_session)) -> PersonOut:
    """Suspend, resume or terminate a record."""
    service.change_status(
        session, id_number=id_number, scheme=Scheme(body.scheme), to=Status(body.to), reason=body.reason, actor="agency"
    )
    return _view(session, id_number)


@router.post(
    "/{id_number}/move",
    response_model=PersonOut,
    summary="转移经办机构 / move agency",
    openapi_extra=needs(service.CHANGE),
)
def move_agency(id_number: str, body: MoveIn, session: Session = Depends(get_session)) -> PersonOut:
    """Move a record to another pooling region."""
    service.move_agency(
        session, id_number=id_number, scheme=Scheme(body.scheme), region=body.region, reason=body.reason, actor="agency"
    )
    return _view(session, id_number)


@router.post(
    "/{id_number}/relations",
    status_code=201,
    summary="登记亲属关系 / declare a relative",
    openapi_extra=needs(service.DECLARE_RELATION),
)
def declare_relation(id_number: str, body: RelationIn, session: Session = Depends(get_session)) -> dict[str, Any]:
    """Declare a close relative."""
    service.declare_relation(
        session, id_number=id_number, relative_id_number=body.relative_id_number, relation=Relation(body.relation)
    )
    return {"relatives": _relatives(session, id_number)}


@router.get("/{id_number}/relations", summary="亲属关系 / relatives", openapi_extra=needs(service.READ))
def relatives(id_number: str, session: Session = Depends(get_session)) -> list[dict[str, Any]]:
    """Every declared relative, from this person's side."""
    return _relatives(session, id_number)


def _relatives(session: Session, id_number: str) -> list[dict[str, Any]]:
    return [
        {"id_number": mask_id(p.id_number), "name": p.name, "relation": rel.value}
        for p, rel in service.list_relatives(session, id_number)
    ]
