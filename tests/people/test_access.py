"""The people domain's part of access: ``own`` is the caller's person, ``region`` where a person is insured."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories import create_resident
from yibao.core.auth import Principal, Role, Subject
from yibao.people.access import insured_in_caller_region, own_person
from yibao.people.models import Person


def test_own_is_the_person_the_caller_logged_in_as(session: Session) -> None:
    me = Principal(Role.PERSON, "x", "本人", person_id=7)
    assert own_person(session, me, Subject(person_id=7))
    assert not own_person(session, me, Subject(person_id=8))
    assert not own_person(session, Principal(Role.INSTITUTION, "H", "医院"), Subject())  # no person on either side


def test_region_is_read_from_the_records_when_the_subject_does_not_say(session: Session) -> None:
    idn = create_resident(session, region="530100")
    pid = session.scalar(select(Person.id).where(Person.id_number == idn))
    km = Principal(Role.CLERK, "km", "经办", region="530100")
    dali = Principal(Role.CLERK, "dl", "经办", region="532900")
    assert insured_in_caller_region(session, km, Subject(person_id=pid))
    assert not insured_in_caller_region(session, dali, Subject(person_id=pid))
    # Regions given with the subject were already checked by core: the records are not read again.
    assert not insured_in_caller_region(session, km, Subject(person_id=pid, regions=frozenset({"532900"})))
